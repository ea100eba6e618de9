"""The rest of torch.special: the Bessel functions J₀, J₁, Y₀, Y₁, K₀, K₁ (and scaled), the spherical j₀, the Airy
function, the twelve orthogonal polynomials and the Hurwitz zeta function. Values to float64 precision against
mpmath (torch's own J and Y lose up to all digits near their zeros, so torch is compared at its accuracy); the same
nan/inf conventions as torch; and gradients, which torch does not have for any of them except zeta's ∂/∂q, against
mpmath's derivatives and NumPy's polynomial calculus. The registry gradchecks each in float64 (test_ops.py)."""
import numpy as np
import pytest

import chainrule as cr
from helpers import torch_or_skip

GRID = np.array([-700.0, -50.0, -25.0, -2.0000001, -2.0, -1.5, -1e-3, 0.0, 1e-300, 1e-8, 0.3, 1.9999, 2.0, 2.0001,
                 3.0, 5.5, 8.653727912911013, 25.0, 100.0, 700.0, 1e5, 1e15])
BESSEL = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
          "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]


def mpmath_or_skip():
    return pytest.importorskip("mpmath", reason="mpmath (installed with torch) gives the exact values")


def _exact(name, x, mpmath, derivative=0):
    """The function (or its first or second derivative) by mpmath at 40 digits; nan outside its domain. Derivatives
    of cylinder functions by DLMF 10.6.7 / 10.29.5: C⁽ᵏ⁾ₙ = 2⁻ᵏ Σⱼ (-1)ʲ C(k, j) Cₙ₋ₖ₊₂ⱼ (with + for K)."""
    x = mpmath.mpf(x)
    order = 1 if name.endswith("1") else 0
    if name.startswith(("bessel_y", "modified", "scaled")) and x <= 0:
        return np.nan
    if name == "spherical_bessel_j0":
        return float(mpmath.diff(lambda t: mpmath.sin(t) / t if t != 0 else mpmath.mpf(1), x, derivative))
    family = {"bessel_j": mpmath.besselj, "bessel_y": mpmath.bessely}.get(name[:8], mpmath.besselk)
    sign = 1 if family is mpmath.besselk else -1

    def cylinder(k):
        return sum(mpmath.binomial(k, j) * sign ** j * family(order - k + 2 * j, x) for j in range(k + 1)) / 2 ** k * (
            (-1) ** k if family is mpmath.besselk else 1)
    if name.startswith("scaled"):   # (eˣK)⁽ᵏ⁾ = eˣ Σⱼ C(k, j) K⁽ʲ⁾
        return float(mpmath.exp(x) * sum(mpmath.binomial(derivative, j) * cylinder(j) for j in range(derivative + 1)))
    return float(cylinder(derivative))


@pytest.mark.parametrize("name", BESSEL)
def test_bessel_functions_are_exact(name):
    mpmath = mpmath_or_skip()
    mpmath.mp.dps = 40
    ours = getattr(cr.special, name)(cr.tensor(GRID, dtype=cr.float64)).numpy()
    exact = np.array([_exact(name, x, mpmath) for x in GRID])
    finite = np.isfinite(exact)
    # relative where the function is not at a zero; J₀'s grid point 8.6537… is its third zero (absolute 1e-16 there)
    np.testing.assert_allclose(ours[finite], exact[finite], rtol=2e-15, atol=2e-16)
    assert np.isnan(ours[GRID < 0]).all() if name.startswith(("bessel_y", "modified", "scaled")) else True


@pytest.mark.parametrize("name", BESSEL)
def test_bessel_functions_follow_torchs_conventions_and_values(name):
    torch = torch_or_skip()
    edges = np.array([-1.0, -0.0, 0.0, 1e-300, 2.0, np.nan])
    ours = getattr(cr.special, name)(cr.tensor(edges, dtype=cr.float64)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(edges)).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)], rtol=1e-12)   # torch: J₀(2) 4e-14 off
    inf = getattr(cr.special, name)(cr.tensor([np.inf, -np.inf], dtype=cr.float64)).numpy()
    assert inf[0] == 0.0                                   # the limit (torch: nan for J and Y)
    x = np.linspace(-30, 30, 241)
    ours = getattr(cr.special, name)(cr.tensor(x)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(x)).numpy()
    # torch's float64 J and Y are only good to ~3e-7 absolute between 5 and 25 (J₀(6.25): 3e-8 off; ours is mpmath's
    # to 1e-16 above), so the comparison here is at torch's accuracy
    atol = 1e-6 if name.startswith("bessel") else 1e-14
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=atol)
    assert getattr(cr.special, name)(cr.tensor([0.5, 3.0])).dtype == cr.float32


@pytest.mark.parametrize("name", BESSEL)
def test_bessel_gradients_are_the_exact_derivatives(name):
    mpmath = mpmath_or_skip()
    mpmath.mp.dps = 40
    x = np.array([0.3, 1.9, 2.1, 7.0, 40.0]) * (-1 if name in ("bessel_j0", "bessel_j1") else 1)
    t = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(getattr(cr.special, name)(t).sum(), t, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [_exact(name, v, mpmath, 1) for v in x], rtol=1e-13, atol=1e-15)
    (gg,) = cr.autograd.grad(g.sum(), t)
    np.testing.assert_allclose(gg.detach().numpy(), [_exact(name, v, mpmath, 2) for v in x], rtol=1e-12, atol=1e-14)
    if name in ("bessel_j1", "spherical_bessel_j0"):   # finite at 0, where the formula has a removable 0/0
        t0 = cr.tensor([0.0], dtype=cr.float64, requires_grad=True)
        getattr(cr.special, name)(t0).sum().backward()
        assert t0.grad.item() == (0.5 if name == "bessel_j1" else 0.0)


def test_airy_function_and_its_derivatives_are_exact():
    mpmath = mpmath_or_skip()
    mpmath.mp.dps = 40
    x = np.array([-300.0, -30.0, -10.0, -2.0000001, -2.0, -1.5, -0.5, 0.0, 0.5, 1.9999, 2.0, 2.0001, 3.0, 10.0,
                  50.0, 100.0])
    t = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    ai = cr.special.airy_ai(t)
    (d1,) = cr.autograd.grad(ai.sum(), t, create_graph=True)
    (d2,) = cr.autograd.grad(d1.sum(), t)
    for k, ours in enumerate((ai, d1, d2)):
        exact = np.array([float(mpmath.airyai(mpmath.mpf(v), derivative=k % 2) * (v if k == 2 else 1))
                          for v in x])   # Ai'' = x·Ai (mpmath's own second derivative does not converge at 100)
        # ζ = ⅔|x|^(3/2) carries the rounding of x: relative 1e-16·ζ in e^(-ζ) and in the phase (ζ = 3464 at -300)
        np.testing.assert_allclose(ours.detach().numpy(), exact, rtol=2e-12, atol=1e-13 * (k + 1))
    np.testing.assert_allclose(d2.numpy(), x * ai.detach().numpy(), rtol=1e-12, atol=1e-300)   # Ai'' = x·Ai
    edges = cr.special.airy_ai(cr.tensor([np.inf, -np.inf, np.nan], dtype=cr.float64)).numpy()
    assert edges[0] == 0.0 and edges[1] == 0.0 and np.isnan(edges[2])


def test_airy_function_matches_torch():
    torch = torch_or_skip()
    x = np.linspace(-20, 20, 161)
    np.testing.assert_allclose(cr.special.airy_ai(cr.tensor(x)).numpy(), torch.special.airy_ai(torch.tensor(x)).numpy(),
                               rtol=1e-10, atol=2e-6)   # torch's is 1e-6 off near -4


POLYNOMIALS = {   # torch name: NumPy polynomial class and whether x is shifted to 2x - 1 (None: no NumPy class)
    "chebyshev_polynomial_t": (np.polynomial.Chebyshev, False), "chebyshev_polynomial_u": (None, False),
    "chebyshev_polynomial_v": (None, False), "chebyshev_polynomial_w": (None, False),
    "shifted_chebyshev_polynomial_t": (np.polynomial.Chebyshev, True), "shifted_chebyshev_polynomial_u": (None, True),
    "shifted_chebyshev_polynomial_v": (None, True), "shifted_chebyshev_polynomial_w": (None, True),
    "hermite_polynomial_h": (np.polynomial.Hermite, False), "hermite_polynomial_he": (np.polynomial.HermiteE, False),
    "laguerre_polynomial_l": (np.polynomial.Laguerre, False), "legendre_polynomial_p": (np.polynomial.Legendre, False),
}


def _power_series(name, n):
    """p_n as a NumPy Polynomial (in x, after the shift), from its recurrence in exact integer/rational steps."""
    kind = name.replace("shifted_", "").split("_")[-1]
    cls, _ = POLYNOMIALS[name]
    if cls is not None:
        return cls.basis(n).convert(kind=np.polynomial.Polynomial)
    x, p0 = np.polynomial.Polynomial([0, 1]), np.polynomial.Polynomial([1])
    p1 = {"u": 2 * x, "v": 2 * x - 1, "w": 2 * x + 1}[kind]
    for _ in range(n - 1):
        p0, p1 = p1, 2 * x * p1 - p0
    return p0 if n == 0 else p1


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_values_and_derivatives_are_numpys(name):
    shift = POLYNOMIALS[name][1]
    x = np.array([-1.0, -0.7, 0.0, 0.35, 1.0, 1.6]) * (0.5 if shift else 1) + (0.5 if shift else 0)
    for n in (0, 1, 2, 5, 9):
        p, at = _power_series(name, n), (2 * x - 1 if shift else x)   # p*(x) = p(2x - 1), p*⁽ᵏ⁾ = 2ᵏ p⁽ᵏ⁾(2x - 1)
        t = cr.tensor(x, dtype=cr.float64, requires_grad=True)
        y = getattr(cr.special, name)(t, n)
        np.testing.assert_allclose(y.detach().numpy(), p(at), rtol=1e-12, atol=1e-12)
        for k in (1, 2, 3):   # the k-th derivative through k nested autograd.grad calls, at x = ±1 too
            (y,) = cr.autograd.grad(y.sum(), t, create_graph=True)
            scale = 2.0 ** k if shift else 1.0
            np.testing.assert_allclose(y.detach().numpy(), scale * p.deriv(k)(at), rtol=1e-11, atol=1e-10)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_match_torch_with_tensor_degrees_and_its_dtype_rules(name):
    torch = torch_or_skip()
    x = np.array([-1.5, -1.0, -0.3, 0.0, 0.5, 0.7, 1.0, 2.5])[:, None]
    n = np.array([-3, 0, 1, 2, 3, 7, 9, 12, 30])
    ours = getattr(cr.special, name)(cr.tensor(x, dtype=cr.float64), cr.tensor(n)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-13)
    fractional = getattr(cr.special, name)(cr.tensor([0.3]), cr.tensor([2.7, -0.5, 4.0]))
    np.testing.assert_allclose(fractional.numpy(), getattr(torch.special, name)(
        torch.tensor([0.3]), torch.tensor([2.7, -0.5, 4.0])).numpy(), rtol=1e-6)       # degrees truncate
    assert getattr(cr.special, name)(cr.tensor([0.3]), cr.tensor([3])).dtype == cr.float32
    assert getattr(cr.special, name)(cr.tensor([0.3]), cr.tensor([3.0], dtype=cr.float64)).dtype == cr.float64
    assert getattr(cr.special, name)(0.5, cr.tensor([3, 4])).dtype == cr.float32
    assert getattr(cr.special, name)(cr.tensor([1, 2]), 3).dtype == cr.float32


def test_zeta_is_exact_and_follows_torch():
    mpmath = mpmath_or_skip()
    mpmath.mp.dps = 40
    s = np.array([1.01, 1.5, 2.0, 3.0, 7.5, 40.0, 2.0, 4.0, 3.0])
    q = np.array([1.0, 0.2, 1.0, 1e-3, 5.0, 0.7, 1e9, -1.5, -7.25])

    def exact_zeta(a, b):   # below 0: ζ(s, q) = Σₖ₌₀^(m-1) (q + k)^-s + ζ(s, q + m), with q + m > 0
        m = max(0, int(-np.floor(b)))
        return float(sum(mpmath.mpf(b + k) ** -a for k in range(m)) + mpmath.zeta(a, mpmath.mpf(b) + m))
    ours = cr.special.zeta(cr.tensor(s, dtype=cr.float64), cr.tensor(q, dtype=cr.float64)).numpy()
    exact = np.array([exact_zeta(a, b) for a, b in zip(s, q)])
    np.testing.assert_allclose(ours, exact, rtol=1e-14)
    torch = torch_or_skip()
    edges = (np.array([1.0, 0.5, -1.0, 2.0, 2.0, 2.5]), np.array([1.0, 1.0, 1.0, -1.5, 0.0, -1.5]))
    np.testing.assert_allclose(cr.special.zeta(cr.tensor(edges[0]), cr.tensor(edges[1])).numpy(),
                               torch.special.zeta(torch.tensor(edges[0]), torch.tensor(edges[1])).numpy(), rtol=1e-15)
    assert cr.special.zeta(2.0, cr.tensor([1.0, 2.0])).dtype == cr.float32
    qc, qt = cr.tensor(q[:7], requires_grad=True), torch.tensor(q[:7], requires_grad=True)
    cr.special.zeta(cr.tensor(s[:7]), qc).sum().backward()
    torch.special.zeta(torch.tensor(s[:7]), qt).sum().backward()
    np.testing.assert_allclose(qc.grad.numpy(), qt.grad.numpy(), rtol=1e-12)


def test_zeta_refuses_the_gradient_in_its_exponent_by_name():
    s = cr.tensor([2.0, 3.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.BackwardError, match="zeta: the derivative with respect to the first argument"):
        cr.special.zeta(s, cr.tensor([1.0, 2.0], dtype=cr.float64)).sum().backward()


def test_extreme_inputs_raise_no_warnings():
    x = cr.tensor([-1e308, -1e4, -0.0, 0.0, 1e-320, 1e4, 1e308, np.inf, -np.inf, np.nan], dtype=cr.float64)
    with np.errstate(over="raise", divide="raise", invalid="raise"):   # underflow to 0 is silent in NumPy too
        for name in BESSEL + ["airy_ai", "i0", "i1", "i0e", "i1e"]:   # i0, i1 warned of overflow before
            getattr(cr.special, name)(x)
        for name in POLYNOMIALS:
            getattr(cr.special, name)(x, 40)
        cr.special.zeta(cr.tensor([2.0, 1e4], dtype=cr.float64), cr.tensor([1e-300, 1e300], dtype=cr.float64))


def test_the_torch_special_namespace_is_complete():
    torch = torch_or_skip()
    missing = [n for n in dir(torch.special) if not n.startswith("_") and n not in ("Tensor", "torch", "common_args",
                                                                                     "multi_dim_common")
               and not hasattr(cr.special, n)]
    assert missing == []


def test_wronskians_and_the_airy_equation_hold_everywhere():
    """Identities that tie the functions to each other, without an oracle (so they run without mpmath or torch):
    J₁Y₀ - J₀Y₁ = 2/(πx) (DLMF 10.5.2), I₀K₁ + I₁K₀ = 1/x (10.28.2), Ai'' = x·Ai through two backward passes, and
    Tₙ(cos θ) = cos nθ."""
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(0.01, 2, 200), rng.uniform(2, 60, 400), rng.uniform(60, 1e4, 100)])
    t = cr.tensor(x, dtype=cr.float64)
    s = cr.special
    w = s.bessel_j1(t) * s.bessel_y0(t) - s.bessel_j0(t) * s.bessel_y1(t)
    error = np.abs(w.numpy() * np.pi * x / 2 - 1)
    assert (error <= 4e-15 * np.maximum(1, np.log(x)) ** 2).all(), (error.max(), x[error.argmax()])
    near = cr.tensor(x[x < 600], dtype=cr.float64)   # beyond, I overflows and K underflows in float64
    k = s.i0(near) * s.modified_bessel_k1(near) + s.i1(near) * s.modified_bessel_k0(near)
    np.testing.assert_allclose(k.numpy() * x[x < 600], 1.0, rtol=2e-15)
    ks = s.i0e(t) * s.scaled_modified_bessel_k1(t) + s.i1e(t) * s.scaled_modified_bessel_k0(t)
    np.testing.assert_allclose(ks.numpy() * x, 1.0, rtol=2e-15)
    a = cr.tensor(rng.uniform(-15, 15, 300), dtype=cr.float64, requires_grad=True)
    (d1,) = cr.autograd.grad(s.airy_ai(a).sum(), a, create_graph=True)
    (d2,) = cr.autograd.grad(d1.sum(), a)
    np.testing.assert_allclose(d2.numpy(), a.detach().numpy() * s.airy_ai(a).detach().numpy(), rtol=1e-13, atol=1e-15)
    theta = rng.uniform(0, np.pi, 50)
    for n in (3, 17, 60):
        np.testing.assert_allclose(s.chebyshev_polynomial_t(cr.tensor(np.cos(theta), dtype=cr.float64), n).numpy(),
                                   np.cos(n * theta), atol=1e-13)


def test_zeta_ends_at_huge_exponents_and_far_negative_q():
    """ζ(x, q) at x → inf is q^-x's limit; a far negative q (x an integer) is reduced to positive arguments instead
    of summed term by term (torch's own loops for good at q = -1e12). Both used to hang here."""
    x = cr.tensor([np.inf, np.inf, np.inf, 1e308, 1e4, 3.0, 2.0], dtype=cr.float64)
    q = cr.tensor([0.5, 1.0, 2.0, 2.0, 1.0, -1e12 + 0.5, -1e9 - 0.25], dtype=cr.float64)
    out = cr.special.zeta(x, q).numpy()
    assert out[0] == np.inf and out[1] == 1.0 and out[2] == 0.0 and out[3] == 0.0 and out[4] == 1.0
    assert abs(out[5]) < 1e-14                      # Σ over the far tail only: ~5e-25, up to rounding of the rest
    # ζ(2, q) for q = f - m is ζ(2, f) + Σⱼ₌₁ᵐ (j - f)^-2 = ζ(2, f) + ζ(2, 1 - f) - ζ(2, 1 - f + m)
    f = 0.75
    expected = cr.special.zeta(2.0, cr.tensor([f, 1 - f], dtype=cr.float64)).sum().item() - 1 / (1e9 + 1 - f)
    assert out[6] == pytest.approx(expected, rel=1e-12)
    # ψ⁽²⁰⁰⁾(50) = -200!·ζ(201, 50) = -2.58e33, although 200! overflows and ζ(201, 50) underflows (torch: nan);
    # ψ⁽¹⁰⁰⁰⁾(2) is past float64 (-inf), and n ≥ 171 used to raise OverflowError from math.factorial
    big = cr.polygamma(200, cr.tensor([50.0, 2.0, 1e6], dtype=cr.float64)).numpy()
    assert big[0] == pytest.approx(-2.5829713930705358e33, rel=1e-12) and big[1] == -np.inf and big[2] == 0.0
    assert cr.polygamma(1000, cr.tensor([2.0], dtype=cr.float64)).item() == -np.inf
