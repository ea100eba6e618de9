"""torch.special and the elementwise functions beside it (lgamma, digamma, polygamma, erfc, erfinv, logit, sinc,
copysign, fmax/fmin, …): values and gradients equal torch's in float64, including the edge values (poles, ±1 for
erfinv, the far left tail of log_ndtr). The registry gradchecks each against finite differences (test_ops.py)."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from helpers import assert_matches_torch, torch_or_skip

R = np.random.default_rng(0)
# (chainrule function, torch function name, input values)
UNARY = [
    (cr.lgamma, "lgamma", np.r_[R.uniform(0.05, 30, 20), -2.5, -0.3, 1.4616321449683622, 2.0, 170.0]),
    (cr.digamma, "digamma", np.r_[R.uniform(0.05, 30, 20), -2.5, -7.3, -0.3, 1.4616321449683622, 1e-6]),
    (cr.erfc, "erfc", np.r_[R.uniform(-5, 5, 20), -26.0, 0.0, 8.0, 26.0]),
    (cr.erfinv, "erfinv", np.r_[R.uniform(-0.999, 0.999, 20), 0.0, 0.5, -0.5, 1 - 1e-12, -(1 - 1e-9)]),
    (cr.logit, "logit", R.uniform(0.001, 0.999, 20)),
    (cr.sinc, "sinc", np.r_[R.uniform(-4, 4, 20), 0.0, 1.0, -2.0]),
    (cr.deg2rad, "deg2rad", R.uniform(-400, 400, 10)),
    (cr.rad2deg, "rad2deg", R.uniform(-7, 7, 10)),
    (cr.special.log_ndtr, "special.log_ndtr", np.r_[R.uniform(-8, 8, 20), -19.9, -20.1, -35.0, -300.0, 30.0]),
    (cr.special.ndtr, "special.ndtr", R.uniform(-6, 6, 20)),
    (cr.special.ndtri, "special.ndtri", R.uniform(0.001, 0.999, 20)),
    (cr.special.entr, "special.entr", R.uniform(0.01, 3, 20)),
    (cr.special.expit, "special.expit", R.uniform(-30, 30, 20)),
]


def _torch_fn(torch, name):
    fn = torch
    for part in name.split("."):
        fn = getattr(fn, part)
    return fn


# torch's trigamma ψ₁ is good to ~5e-10 relative (ours to 1e-15, checked against mpmath below), so the gradient of
# digamma and polygamma(1) itself are compared at that tolerance
TRIGAMMA_RTOL = 1e-9


@pytest.mark.parametrize("fn,name,values", UNARY, ids=[u[1] for u in UNARY])
def test_unary_matches_torch(fn, name, values):
    torch = torch_or_skip()
    assert_matches_torch(fn, _torch_fn(torch, name), [values], rtol=1e-11, atol=1e-13,
                         grad_rtol=TRIGAMMA_RTOL if name == "digamma" else None)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_polygamma_matches_torch(n):
    torch = torch_or_skip()
    x = np.r_[R.uniform(0.1, 25, 20), -2.5, -0.7, 0.01]
    assert_matches_torch(lambda t: cr.polygamma(n, t), lambda t: torch.polygamma(n, t), [x],
                         rtol=TRIGAMMA_RTOL if n == 1 else 1e-10, atol=1e-13)


def test_gamma_and_erfinv_families_are_accurate_to_float64():
    """Against mpmath at 40 digits: digamma, trigamma, polygamma(3), lgamma and erfinv to a few ulps, also near
    digamma's root, at the reflection side and in erfinv's far tail."""
    mpmath = pytest.importorskip("mpmath", reason="mpmath (installed with torch) gives the exact values")
    mpmath.mp.dps = 40
    x = np.r_[R.uniform(0.01, 40, 30), -2.5, -7.3, 1.4616321449683622, 1e-7, 1e4]
    cases = [(cr.digamma, x, lambda v: mpmath.psi(0, v)), (lambda t: cr.polygamma(1, t), x, lambda v: mpmath.psi(1, v)),
             (lambda t: cr.polygamma(3, t), x, lambda v: mpmath.psi(3, v)), (cr.lgamma, x, mpmath.loggamma),
             (cr.erfinv, np.r_[R.uniform(-1, 1, 30), 1 - 1e-15, -(1 - 1e-12), 1e-300], mpmath.erfinv)]
    for fn, values, exact in cases:
        ours = fn(cr.tensor(values)).numpy()
        truth = np.array([float(mpmath.re(exact(mpmath.mpf(float(v))))) for v in values])
        np.testing.assert_allclose(ours, truth, rtol=2e-14, atol=2e-14)   # atol: digamma's root at 1.4616


def test_edge_values_match_torch_without_warnings():
    torch = torch_or_skip()
    x = np.array([0.0, -0.0, -1.0, -3.0, 0.5, np.inf, -np.inf, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for ours, theirs in [(cr.lgamma, torch.lgamma), (cr.digamma, torch.digamma), (cr.erfc, torch.erfc),
                             (lambda t: cr.polygamma(2, t), lambda t: torch.polygamma(2, t))]:
            a = ours(cr.tensor(x)).numpy()
            b = theirs(torch.tensor(x)).numpy()
            finite = np.isfinite(x)   # torch's polygamma at ±inf is nan; the limit there is 0, which we give
            np.testing.assert_allclose(a[finite], b[finite], rtol=1e-14)
        p = np.array([-1.0, 1.0, 1.5, -2.0, 0.0, np.nan])
        np.testing.assert_array_equal(cr.erfinv(cr.tensor(p)).numpy(), torch.erfinv(torch.tensor(p)).numpy())
        q = np.array([0.0, 1.0, 0.5])
        np.testing.assert_array_equal(cr.logit(cr.tensor(q)).numpy(), torch.logit(torch.tensor(q)).numpy())


def test_logit_eps_and_multigammaln_match_torch():
    torch = torch_or_skip()
    p = np.array([0.0, 0.0005, 0.3, 0.9999, 1.0])
    a, b = cr.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    cr.logit(a, eps=1e-3).sum().backward()
    torch.logit(b, eps=1e-3).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    x = R.uniform(2.0, 9.0, 6)
    assert_matches_torch(lambda t: cr.special.multigammaln(t, 3), lambda t: torch.special.multigammaln(t, 3), [x],
                         rtol=1e-12)


def test_binary_helpers_match_torch():
    torch = torch_or_skip()
    a = np.array([1.0, -2.0, 3.0, 0.5, -0.0, 4.0])
    b = np.array([-1.0, 2.0, 3.0, -0.0, 5.0, -4.0])
    assert_matches_torch(lambda x: cr.copysign(x, cr.tensor(b)), lambda x: torch.copysign(x, torch.tensor(b)), [a],
                         rtol=1e-15)   # no gradient flows to the sign source (torch's is all zeros)
    assert_matches_torch(cr.fmax, torch.fmax, [a, b], rtol=1e-15)   # the tie at 3.0 goes to the first input
    assert_matches_torch(cr.fmin, torch.fmin, [a, b], rtol=1e-15)
    assert_matches_torch(cr.special.xlog1py, torch.special.xlog1py, [np.array([0.0, 2.0, -1.0]),
                                                                      np.array([-0.5, 0.25, 3.0])], rtol=1e-14)
    nan = np.array([np.nan, 1.0, np.nan])
    other = np.array([2.0, np.nan, np.nan])
    for ours, theirs in [(cr.fmax, torch.fmax), (cr.fmin, torch.fmin)]:
        np.testing.assert_array_equal(ours(cr.tensor(nan), cr.tensor(other)).numpy(),
                                      theirs(torch.tensor(nan), torch.tensor(other)).numpy())
    h = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(cr.heaviside(cr.tensor(h), cr.tensor([0.5])).numpy(),
                                  torch.heaviside(torch.tensor(h), torch.tensor([0.5], dtype=torch.float64)).numpy())
    np.testing.assert_array_equal(cr.signbit(cr.tensor([-0.0, 0.0, -2.0])).numpy(),
                                  torch.signbit(torch.tensor([-0.0, 0.0, -2.0])).numpy())


def test_second_derivatives_match_torch():
    """lgamma'' = ψ₁ and erfinv'' go through the registered backward formulas (create_graph)."""
    torch = torch_or_skip()
    x = np.array([0.7, 2.5, 9.0])
    for ours, theirs, v in [(cr.lgamma, torch.lgamma, x), (cr.erfinv, torch.erfinv, x / 10),
                            (cr.digamma, torch.digamma, x)]:
        a, b = cr.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        (ga,) = cr.autograd.grad(ours(a).sum(), [a], create_graph=True)
        (gb,) = torch.autograd.grad(theirs(b).sum(), [b], create_graph=True)
        (ha,) = cr.autograd.grad(ga.sum(), [a])
        (hb,) = torch.autograd.grad(gb.sum(), [b])
        np.testing.assert_allclose(ha.numpy(), hb.numpy(), rtol=TRIGAMMA_RTOL)


def test_float32_ints_and_inplace():
    x = cr.tensor([1, 2, 3])
    assert cr.lgamma(x).dtype == cr.float32   # an int input gives the default float dtype, as torch
    y = cr.tensor([0.2, 0.5], dtype=cr.float32)
    assert cr.erfinv(y).dtype == cr.float32
    z = cr.tensor([0.25, 0.5])
    z.logit_()
    np.testing.assert_allclose(z.numpy(), [np.log(1 / 3), 0.0], atol=1e-7)


def test_polygamma_rejects_a_bad_order():
    with pytest.raises(ValueError, match="polygamma: n must be an int ≥ 0"):
        cr.polygamma(-1, cr.tensor([1.0]))
    with pytest.raises(ValueError, match="multigammaln: p must be an int ≥ 1"):
        cr.special.multigammaln(cr.tensor([3.0]), 0)


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
def test_modified_bessel_functions_are_exact_and_match_torch(name):
    torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
    mpmath = pytest.importorskip("mpmath", reason="mpmath (installed with torch) gives the exact values")
    xs = np.array([-700.0, -50.0, -30.0001, -29.9999, -15.0, -1e-3, 0.0, 1e-8, 0.5, 3.0, 8.0, 29.9, 30.1, 100.0,
                   700.0])
    ours = getattr(cr.special, name)(cr.tensor(xs, dtype=cr.float64)).numpy()
    order, scaled = (0 if "0" in name else 1), name.endswith("e")
    exact = np.array([float(mpmath.besseli(order, x) * (mpmath.exp(-abs(x)) if scaled else 1)) for x in xs])
    np.testing.assert_allclose(ours, exact, rtol=2e-15, atol=1e-300)
    np.testing.assert_allclose(ours, getattr(torch.special, name)(torch.tensor(xs)).numpy(), rtol=2e-15)
    grid = np.array([-40.0, -3.0, -0.5, 0.0, 0.7, 5.0, 31.0, 60.0])
    a, b = cr.tensor(grid, requires_grad=True), torch.tensor(grid, requires_grad=True)
    getattr(cr.special, name)(a).sum().backward()
    getattr(torch.special, name)(b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-13, atol=1e-16)   # i0e': a difference


def test_incomplete_gamma_and_erfcx_match_mpmath_and_torch():
    """P and Q to ~1e-13 of mpmath over a wide range of (a, x) (torch's own are ~2e-9 off there), erfcx from
    -26 to 1e10; gradients with respect to x = torch's; with respect to a, torch's named refusal."""
    mpmath = pytest.importorskip("mpmath", reason="mpmath is the reference for special-function values")
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0.01, 50, 60), [0.5, 1.0, 2.0, 100.0, 1e-3, 300.0]])
    x = np.concatenate([rng.uniform(0, 80, 60), [0.0, 1e-8, 2.0, 99.0, 5.0, 310.0]])
    p = cr.special.gammainc(cr.tensor(a), cr.tensor(x)).numpy()
    q = cr.special.gammaincc(cr.tensor(a), cr.tensor(x)).numpy()
    p_ref = np.array([float(mpmath.gammainc(ai, 0, xi, regularized=True)) for ai, xi in zip(a, x)])
    q_ref = np.array([float(mpmath.gammainc(ai, xi, mpmath.inf, regularized=True)) for ai, xi in zip(a, x)])
    np.testing.assert_allclose(p, p_ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(q, q_ref, rtol=1e-12, atol=1e-300)
    xs = np.concatenate([np.linspace(-26, 40, 133), [1e3, 1e10, -1e-3, 0.0]])
    ref = np.array([float(mpmath.exp(mpmath.mpf(v) ** 2) * mpmath.erfc(v)) for v in xs])
    np.testing.assert_allclose(cr.special.erfcx(cr.tensor(xs)).numpy(), ref, rtol=3e-13)
    torch = torch_or_skip()
    av, xv = np.array([0.7, 2.0, 5.0]), np.array([0.3, 6.0, 1.5])
    for name in ("gammainc", "gammaincc"):
        xc, xt = cr.tensor(xv, requires_grad=True), torch.tensor(xv, requires_grad=True)
        getattr(cr.special, name)(cr.tensor(av), xc).sum().backward()
        getattr(torch.special, name)(torch.tensor(av), xt).sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
        with pytest.raises(cr.BackwardError, match="with respect to the first argument"):
            getattr(cr.special, name)(cr.tensor(av, requires_grad=True), cr.tensor(xv)).sum().backward()
    assert cr.igamma(cr.tensor(2.0), cr.tensor(1.0)).item() == pytest.approx(float(mpmath.gammainc(2, 0, 1, regularized=True)))
    assert cr.tensor(2.0).igammac(cr.tensor(1.0)).item() == pytest.approx(float(mpmath.gammainc(2, 1, mpmath.inf, regularized=True)))
    xc, xt = cr.tensor(xs[:50], requires_grad=True), torch.tensor(xs[:50], requires_grad=True)
    cr.special.erfcx(xc).sum().backward()
    torch.special.erfcx(xt).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-9)
