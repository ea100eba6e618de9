"""The regularised incomplete gamma functions and the scaled complementary error function (torch.special's
gammainc, gammaincc, erfcx; torch.igamma / igammac):

    P(a, x) = γ(a, x)/Γ(a) = (1/Γ(a)) ∫₀ˣ tᵃ⁻¹e⁻ᵗ dt,   Q(a, x) = 1 - P(a, x),   erfcx(x) = e^(x²)·erfc(x)

P by its power series where x < a + 1, Q by its continued fraction elsewhere (each converges fast there, and the
other is 1 minus it with no cancellation that matters); erfcx directly below x = 5 and by erfc's continued fraction
above, where e^(x²) would overflow and erfc underflow. Derivatives: ∂P/∂x = xᵃ⁻¹e⁻ˣ/Γ(a) = -∂Q/∂x, and
erfcx'(x) = 2x·erfcx(x) - 2/√π. As in torch, the derivative with respect to a is not implemented.
"""
import math

import numpy as np

from ..autograd.function import Op
from ..errors import BackwardError
from ._util import tensor_pair
from .elementwise import _unary
from .registry import T, register, sample
from .special import _cast_like, _np_erfc, _np_lgamma

_SQRT_PI = math.sqrt(math.pi)


def _np_gammainc_pair(a, x):
    """(P(a, x), Q(a, x)) in float64, NaN outside a > 0, x ≥ 0."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    p, q = np.full(a.shape, np.nan), np.full(a.shape, np.nan)
    valid = (a > 0) & (x >= 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        log_front = a * np.log(np.where(x > 0, x, 1.0)) - x - _np_lgamma(a)   # log(xᵃe⁻ˣ/Γ(a))
        series = valid & (x < a + 1)
        if series.any():
            s_a, s_x = a[series], x[series]
            term = 1.0 / s_a
            total = term.copy()
            for n in range(1, 1000):
                term = term * s_x / (s_a + n)
                total += term
                if np.all(np.abs(term) < np.abs(total) * 1e-17):
                    break
            p[series] = np.where(s_x > 0, total * np.exp(log_front[series]), 0.0)
            q[series] = 1.0 - p[series]
        fraction = valid & ~series
        if fraction.any():   # modified Lentz for Q = front · 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- …)))
            f_a, f_x = a[fraction], x[fraction]
            tiny = 1e-300
            b = f_x + 1.0 - f_a
            c = np.full(b.shape, 1.0 / tiny)
            d = 1.0 / b
            h = d.copy()
            for i in range(1, 1000):
                an = -i * (i - f_a)
                b = b + 2.0
                d = an * d + b
                d = np.where(np.abs(d) < tiny, tiny, d)
                c = b + an / c
                c = np.where(np.abs(c) < tiny, tiny, c)
                d = 1.0 / d
                delta = d * c
                h = h * delta
                if np.all(np.abs(delta - 1.0) < 1e-16):
                    break
            q[fraction] = np.where(np.isinf(f_x), 0.0, np.exp(log_front[fraction]) * h)
            p[fraction] = 1.0 - q[fraction]
    return p, q


def _np_gammainc(a, x):
    return _np_gammainc_pair(a, x)[0]


def _np_gammaincc(a, x):
    return _np_gammainc_pair(a, x)[1]


def _np_erfcx(x):
    """e^(x²)·erfc(x): directly for x < 5 (inf below about -26.6, as torch), by erfc's continued fraction
    1/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) from x = 5 on."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        near = np.exp(np.where(x < 5, x * x, 0.0)) * _np_erfc(np.where(x < 5, x, 0.0))
        xf = np.where(x < 5, 5.0, x)
        t = xf.copy()
        for k in range(60, 0, -1):
            t = xf + (k / 2) / t
        return np.where(x < 5, near, 1.0 / (_SQRT_PI * t))


class _IncompleteGamma:
    """What P and Q share (a mixin, not an op of its own): the forward on arrays, the gradient to x only."""
    sign = 1.0

    def forward(self, a, x):
        return _cast_like(self.ref(a, x), x if x.dtype.kind == "f" else a)

    def backward(self, g):
        a, x = self.inputs
        if self.needs_input_grad[0]:
            raise BackwardError(f"{type(self).__name__.lower()}: the derivative with respect to the first argument "
                                f"(a) is not implemented, as in torch; detach a, or differentiate with respect to x "
                                f"only")
        density = ((a - 1) * x.log() - x - a.lgamma()).exp()   # xᵃ⁻¹e⁻ˣ/Γ(a)
        return None, g * density * self.sign


class Gammainc(_IncompleteGamma, Op):
    """P(a, x) = γ(a, x)/Γ(a);  ∂P/∂x = xᵃ⁻¹e⁻ˣ/Γ(a)."""
    ref = staticmethod(_np_gammainc)


class Gammaincc(_IncompleteGamma, Op):
    """Q(a, x) = 1 - P(a, x);  ∂Q/∂x = -xᵃ⁻¹e⁻ˣ/Γ(a)."""
    ref = staticmethod(_np_gammaincc)
    sign = -1.0


class Erfcx(Op):
    """y = e^(x²)·erfc(x);  dy/dx = 2x·y - 2/√π."""

    def forward(self, x):
        self.out = _cast_like(_np_erfcx(x), x)
        return self.out

    def backward(self, g):
        x, y = self.inputs[0], self.saved_output()
        return g * (2.0 * x * y - 2.0 / _SQRT_PI)


def gammainc(input, other):
    """The regularised lower incomplete gamma function P(input, other) (torch.special.gammainc, torch.igamma)."""
    return Gammainc.apply(*tensor_pair(input, other))


def gammaincc(input, other):
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P (torch.special.gammaincc)."""
    return Gammaincc.apply(*tensor_pair(input, other))


_GAMMA_SAMPLES = [sample(T((3, 4), 0.5, 4.0, grad=False), T((3, 4), 0.1, 8.0)),
                  sample(T((4,), values=[0.7, 2.0, 5.0, 30.0], grad=False), T((4,), values=[0.3, 6.0, 1.5, 28.0]))]
register("gammainc", method=("igamma",), ref=_np_gammainc, samples=_GAMMA_SAMPLES)(gammainc)
register("gammaincc", method=("igammac",), ref=_np_gammaincc, samples=_GAMMA_SAMPLES)(gammaincc)
erfcx = _unary("erfcx", Erfcx, _np_erfcx, [sample(T((3, 4), -3, 3)), sample(T((4,), values=[-4.0, 0.5, 4.9, 12.0]))])
