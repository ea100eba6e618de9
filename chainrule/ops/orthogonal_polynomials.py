"""The classical orthogonal polynomials of torch.special: Chebyshev T, U, V, W and their shifted forms on [0, 1],
Hermite H (physicists') and He (probabilists'), Laguerre L and Legendre P, as p(x, n) with a tensor or integer
degree n (truncated to an integer as torch does; 0 for n < 0). Unlike torch's, they are differentiable in x, to any
order. Each family is its three-term recurrence (DLMF 18.9.1):

    p₀ = 1,  p₁ = α x + β,  pⱼ₊₁ = (aⱼ x + bⱼ) pⱼ - cⱼ pⱼ₋₁

    T: p₁ = x,      a = 2, c = 1              H:  p₁ = 2x,     a = 2, cⱼ = 2j
    U: p₁ = 2x,     a = 2, c = 1              He: p₁ = x,      a = 1, cⱼ = j
    V: p₁ = 2x - 1, a = 2, c = 1              L:  p₁ = 1 - x,  aⱼ = -1/(j+1), bⱼ = (2j+1)/(j+1), cⱼ = j/(j+1)
    W: p₁ = 2x + 1, a = 2, c = 1              P:  p₁ = x,      aⱼ = (2j+1)/(j+1), cⱼ = j/(j+1)

and the shifted T*, U*, V*, W* are T, U, V, W at 2x - 1. The k-th derivative follows from differentiating the
recurrence k times (Leibniz's rule on the linear factor):

    pⱼ₊₁⁽ᵏ⁾ = (aⱼ x + bⱼ) pⱼ⁽ᵏ⁾ + k aⱼ pⱼ⁽ᵏ⁻¹⁾ - cⱼ pⱼ₋₁⁽ᵏ⁾

so d/dx of the k-th derivative is the (k+1)-th, computed the same way: no division by x² - 1, exact at x = ±1.
"""
import numpy as np

from ..autograd.function import Op
from ._util import tensor_pair
from .registry import T, register, sample
from .special import _cast_like

# family: (α, β of p₁; aⱼ, bⱼ, cⱼ as functions of j)
_FAMILIES = {
    "chebyshev_t": (1.0, 0.0, lambda j: 2.0, lambda j: 0.0, lambda j: 1.0),
    "chebyshev_u": (2.0, 0.0, lambda j: 2.0, lambda j: 0.0, lambda j: 1.0),
    "chebyshev_v": (2.0, -1.0, lambda j: 2.0, lambda j: 0.0, lambda j: 1.0),
    "chebyshev_w": (2.0, 1.0, lambda j: 2.0, lambda j: 0.0, lambda j: 1.0),
    "hermite_h": (2.0, 0.0, lambda j: 2.0, lambda j: 0.0, lambda j: 2.0 * j),
    "hermite_he": (1.0, 0.0, lambda j: 1.0, lambda j: 0.0, lambda j: float(j)),
    "laguerre_l": (-1.0, 1.0, lambda j: -1 / (j + 1), lambda j: (2 * j + 1) / (j + 1), lambda j: j / (j + 1)),
    "legendre_p": (1.0, 0.0, lambda j: (2 * j + 1) / (j + 1), lambda j: 0.0, lambda j: j / (j + 1)),
}


def _np_polynomial(family, x, n, derivative=0):
    """dᵏ/dxᵏ p_n(x) for arrays x and n (broadcast), in float64; nan where n is nan."""
    shifted = family.startswith("shifted_")
    alpha, beta, a, b, c = _FAMILIES[family.removeprefix("shifted_")]
    x, n = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(n, np.float64))
    scale = 2.0 ** derivative if shifted else 1.0         # d/dx of p(2x - 1) is 2·p'(2x - 1)
    degree = np.trunc(np.where(np.isfinite(n), n, -1)).astype(np.int64)
    k = derivative
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):   # huge x or n: inf, as torch
        x = 2 * x - 1 if shifted else x
        # prev[m], cur[m]: the m-th derivatives of p_{j-1} and p_j, m = 0 … k
        prev = [np.ones_like(x)] + [np.zeros_like(x)] * k
        cur = [alpha * x + beta] + [np.full_like(x, alpha) if m == 1 else np.zeros_like(x) for m in range(1, k + 1)]
        out = np.where(degree == 0, prev[k], np.where(degree == 1, cur[k], 0.0))
        for j in range(1, int(degree.max(initial=0))):
            line = a(j) * x + b(j)
            nxt = [line * cur[m] + (m * a(j) * cur[m - 1] if m else 0.0) - c(j) * prev[m] for m in range(k + 1)]
            prev, cur = cur, nxt
            out = np.where(degree == j + 1, cur[k], out)
        return np.where(np.isnan(n) | np.isnan(x), np.nan, out * scale)


class OrthogonalPolynomial(Op):
    """y = dᵏ/dxᵏ p_n(x) of one family (k = 0 is the polynomial);  dy/dx = dᵏ⁺¹/dxᵏ⁺¹ p_n(x); n gets no gradient
    (the degree is an integer)."""

    def forward(self, x, n, family, derivative):
        self.family, self.derivative = family, derivative
        return _cast_like(_np_polynomial(family, x, n, derivative), x)

    def backward(self, g):
        x, n = self.inputs
        return g * OrthogonalPolynomial.apply(x, n, family=self.family, derivative=self.derivative + 1), None


def _polynomial(family, x, n):
    """x and n promoted to one dtype as torch does (a float n of the wider dtype widens x; two ints give a float
    result), then the op."""
    return OrthogonalPolynomial.apply(*tensor_pair(x, n), family=family, derivative=0)


def _make(family, title, torch_name):
    def fn(input, n):
        return _polynomial(family, input, n)
    fn.__name__ = fn.__qualname__ = torch_name
    fn.__doc__ = f"{title} of degree n at x (torch.special.{torch_name}); differentiable in x."
    return fn


chebyshev_polynomial_t = _make("chebyshev_t", "The Chebyshev polynomial of the first kind Tₙ", "chebyshev_polynomial_t")
chebyshev_polynomial_u = _make("chebyshev_u", "The Chebyshev polynomial of the second kind Uₙ",
                               "chebyshev_polynomial_u")
chebyshev_polynomial_v = _make("chebyshev_v", "The Chebyshev polynomial of the third kind Vₙ", "chebyshev_polynomial_v")
chebyshev_polynomial_w = _make("chebyshev_w", "The Chebyshev polynomial of the fourth kind Wₙ",
                               "chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _make("shifted_chebyshev_t", "T*ₙ(x) = Tₙ(2x - 1)", "shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _make("shifted_chebyshev_u", "U*ₙ(x) = Uₙ(2x - 1)", "shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _make("shifted_chebyshev_v", "V*ₙ(x) = Vₙ(2x - 1)", "shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _make("shifted_chebyshev_w", "W*ₙ(x) = Wₙ(2x - 1)", "shifted_chebyshev_polynomial_w")
hermite_polynomial_h = _make("hermite_h", "The physicists' Hermite polynomial Hₙ", "hermite_polynomial_h")
hermite_polynomial_he = _make("hermite_he", "The probabilists' Hermite polynomial Heₙ", "hermite_polynomial_he")
laguerre_polynomial_l = _make("laguerre_l", "The Laguerre polynomial Lₙ", "laguerre_polynomial_l")
legendre_polynomial_p = _make("legendre_p", "The Legendre polynomial Pₙ", "legendre_polynomial_p")


def _series_reference(value, shift=False):
    """NumPy's own evaluation of a polynomial series (an independent reference): p_n is the series [0, …, 0, 1]."""
    def one(x, n):
        n = int(np.trunc(n))
        return 0.0 if n < 0 else value(2 * x - 1 if shift else x, [0.0] * n + [1.0])
    return lambda x, n: np.vectorize(one, otypes=[np.float64])(x, n)


_P = np.polynomial
_REFERENCES = {"chebyshev_polynomial_t": _series_reference(_P.chebyshev.chebval),
               "shifted_chebyshev_polynomial_t": _series_reference(_P.chebyshev.chebval, shift=True),
               "hermite_polynomial_h": _series_reference(_P.hermite.hermval),
               "hermite_polynomial_he": _series_reference(_P.hermite_e.hermeval),
               "laguerre_polynomial_l": _series_reference(_P.laguerre.lagval),
               "legendre_polynomial_p": _series_reference(_P.legendre.legval)}

# a scalar degree, a broadcast tensor of degrees (with 0, 1 and a negative one), and x = ±1 where V and W have
# their special values
_SAMPLES = [sample(T((3, 4), -1.2, 1.2), 5),
            sample(T((2, 1), -1.5, 1.5), T((1, 5), values=[[0, 1, 3, 6, -2]], grad=False, dtype="int64")),
            sample(T((4,), values=[-1.0, 1.0, 0.25, 0.5]), 7)]
for _fn in (chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w,
            shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
            shifted_chebyshev_polynomial_w, hermite_polynomial_h, hermite_polynomial_he, laguerre_polynomial_l,
            legendre_polynomial_p):
    register(_fn.__name__, ref=_REFERENCES.get(_fn.__name__), samples=_SAMPLES)(_fn)
