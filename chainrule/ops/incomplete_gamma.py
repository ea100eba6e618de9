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
from ..tensor import Tensor
from ..errors import BackwardError
from ._util import tensor_pair
from .elementwise import _unary
from .registry import T, register, sample
from .special import _cast_like, _np_erfc, _np_erfinv, _np_lgamma

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
    far = (a == np.inf) & np.isfinite(x) & (x >= 0)      # the limit a → ∞ at a fixed x: P = 0, Q = 1, as torch
    return np.where(far, 0.0, p), np.where(far, 1.0, q)


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
        return None, g * _gamma_density(a, x) * self.sign


def _gamma_density(a, x):
    """xᵃ⁻¹e⁻ˣ/Γ(a) on Tensors (= ∂P/∂x), through logs, so that it differentiates (_np_gamma_density on arrays)."""
    return ((a - 1) * x.log() - x - a.lgamma()).exp()


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


def _np_gamma_density(a, z):
    """zᵃ⁻¹e⁻ᶻ/Γ(a), the standard gamma density (= ∂P/∂z), through logs."""
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        return np.exp((a - 1) * np.log(z) - z - _np_lgamma(a))


def _np_gamma_quantile(a, u):
    """z with P(a, z) = u: Halley's iteration from Wilson and Hilferty's cube-root normal guess (a ≥ 1) or from
    P ≈ zᵃ/Γ(a+1) (small a), kept above 0; converges to the last bits in a handful of steps."""
    a, u = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(u, np.float64))
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        normal = np.sqrt(2.0) * _np_erfinv(2 * np.clip(u, 1e-300, 1 - 1e-16) - 1)
        cube = np.maximum(1 - 1 / (9 * a) + normal / (3 * np.sqrt(a)), 1e-3)
        small = np.exp((np.log(np.maximum(u, 1e-300)) + _np_lgamma(a + 1)) / a)
        z = np.where(a >= 1, a * cube ** 3, small)
        for _ in range(100):
            f = _np_gammainc(a, z) - u
            d = _np_gamma_density(a, z)
            step = f / d
            step = step / np.maximum(1 - 0.5 * step * ((a - 1) / z - 1), 0.5)   # Halley's correction
            new = np.where(z - step > 0, z - step, z / 4)
            done = np.all((np.abs(new - z) <= 1e-14 * new) | ~np.isfinite(new))
            z = new
            if done:
                break
    return np.where((u <= 0) & (a > 0), 0.0, np.where(u >= 1, np.inf, z))


def _np_gamma_quantile_grad_a(a, z):
    """∂z/∂a along P(a, z) = const (implicit differentiation): -(∂P/∂a) / (∂P/∂z). ∂P/∂a has no closed form; it is
    taken by central differences in float64 (step 1e-5·a: truncation and rounding both near 1e-10 relative)."""
    a, z = np.asarray(a, np.float64), np.asarray(z, np.float64)
    h = 1e-5 * a
    dp_da = (_np_gammainc(a + h, z) - _np_gammainc(a - h, z)) / (2 * h)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(z > 0, -dp_da / _np_gamma_density(a, z), 0.0)


class GammaQuantile(Op):
    """z = P⁻¹(a, u), the standard gamma quantile (the inverse of gammainc in its second argument);
    ∂z/∂u = 1/p(z) with p(z) = zᵃ⁻¹e⁻ᶻ/Γ(a), ∂z/∂a = -(∂P/∂a)(a, z) / p(z) (implicit differentiation).

    With drawn=True the second input is a sample z ~ Gamma(a, 1) itself (from NumPy's sampler): the same ∂z/∂a
    holds for it (its u = P(a, z) is held fixed), which is the reparameterised gradient of Gamma.rsample
    (Figurnov et al. 2018's implicit reparameterisation, torch's _standard_gamma_grad)."""

    once_differentiable = True   # ∂z/∂a is a NumPy series in a and z

    def forward(self, a, u, drawn=False):
        self.out = u.copy() if drawn else _cast_like(_np_gamma_quantile(a, u), u)
        return self.out

    def backward(self, g):
        a, _ = self.inputs
        z = self.saved_output()
        na, nu = self.needs_input_grad
        ga = gu = None
        if na:
            ga = g * Tensor._wrap(_cast_like(_np_gamma_quantile_grad_a(a._data, z._data), z._data))
        if nu:
            gu = g / _gamma_density(a, z)
        return ga, gu


def gamma_quantile(a, u):
    """z with gammainc(a, z) = u, differentiable in both (the gamma distribution's inverse CDF at rate 1)."""
    return GammaQuantile.apply(*tensor_pair(a, u))


def standard_gamma_rsample(concentration, z):
    """A draw z ~ Gamma(concentration, 1) made differentiable in the concentration (implicit reparameterisation)."""
    return GammaQuantile.apply(concentration, z, drawn=True)


def gammainc(input, other):
    """The regularised lower incomplete gamma function P(input, other) (torch.special.gammainc, torch.igamma)."""
    return Gammainc.apply(*tensor_pair(input, other))


def gammaincc(input, other):
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P (torch.special.gammaincc)."""
    return Gammaincc.apply(*tensor_pair(input, other))


_GAMMA_SAMPLES = [sample(T((3, 4), 0.5, 4.0, grad=False), T((3, 4), 0.1, 8.0)),
                  sample(T((4,), values=[0.7, 2.0, 5.0, 30.0], grad=False), T((4,), values=[0.3, 6.0, 1.5, 28.0]))]
gammainc = register("gammainc", method=("igamma",), ref=_np_gammainc, samples=_GAMMA_SAMPLES)(gammainc)
gammaincc = register("gammaincc", method=("igammac",), ref=_np_gammaincc, samples=_GAMMA_SAMPLES)(gammaincc)
gamma_quantile = register("gamma_quantile", ref=_np_gamma_quantile, gradgrad=False,
         samples=[sample(T((3, 4), 0.5, 6.0), T((3, 4), 0.05, 0.95)),
                  sample(T((4,), values=[0.3, 1.0, 4.0, 40.0]), T((4,), values=[0.5, 0.01, 0.99, 0.3]))])(gamma_quantile)
erfcx = _unary("erfcx", Erfcx, _np_erfcx, [sample(T((3, 4), -3, 3)), sample(T((4,), values=[-4.0, 0.5, 4.9, 12.0]))])
