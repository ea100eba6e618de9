"""Special functions (torch.special): the gamma family, the error-function family, the normal distribution's
functions, and a few elementwise helpers (logit, sinc, copysign, fmax/fmin). Primitives where the numerics need
care (lgamma, digamma, polygamma, erfc, erfinv, log_ndtr); the rest are compositions that differentiate through
the registered ops they are made of. NumPy only: the gamma family is computed here, not taken from SciPy."""
import math

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ..autograd.function import Op
from .arith import xlogy_op
from .elementwise import GAUSSIAN_TAIL, UNARY, _erf, _unary, log, log1p, where
from ._util import const, floating, lift, tensor_pair
from .registry import T, register, sample

_wrap = Tensor._wrap
_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
# Bernoulli numbers B₂, B₄, …, B₁₄ for the Euler–Maclaurin tail of the Hurwitz zeta function
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _float(x):
    return np.asarray(x, dtype=np.float64)


def _lgamma_scalar(v):
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):   # a pole 0, -1, -2, …, or past 2.5e305: +inf, as torch
        return math.inf


_lgamma_each = np.frompyfunc(_lgamma_scalar, 1, 1)
_erfc_each = np.frompyfunc(math.erfc, 1, 1)


def _np_lgamma(x):
    with np.errstate(over="ignore"):   # the OverflowError _lgamma_scalar turns into inf leaves NumPy's flag set
        return np.asarray(_lgamma_each(_float(x)), dtype=np.float64)


def _np_erfc(x):
    return np.asarray(_erfc_each(_float(x)), dtype=np.float64)


def _hurwitz_zeta(s, a):
    """ζ(s, a) = Σₖ (a + k)^-s for s > 1, a > 0: the first terms summed until a + k ≥ 16 + s, then the
    Euler–Maclaurin tail N^(1-s)/(s-1) · _euler_maclaurin_bracket(s, N). An element stops
    early once what is left, below ∫ₐ^∞ t^-s dt = a·a^-s/(s-1), is under 1e-17 of its sum: for large s (up to inf)
    that is after a term or two, where walking up to 16 + s would never end."""
    s, a = np.broadcast_arrays(np.asarray(s, np.float64), np.array(a, np.float64))
    total, a = np.zeros(a.shape), a.copy()
    edge = 16.0 + s
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        walking = a < edge
        while walking.any():
            term = np.where(walking, a ** -s, 0.0)
            total += term
            a += walking
            walking &= (a < edge) & ~((a > 1) & ((term == 0) | (term * a <= 1e-17 * total * (s - 1))))
        early = a < edge
        tail = a ** (1 - s) / (s - 1) * _euler_maclaurin_bracket(s, a)
    return total + np.where(early, 0.0, tail)


def _euler_maclaurin_bracket(s, n):
    """The Euler–Maclaurin tail Σₖ₌₀^∞ (n + k)^-s = N^(1-s)/(s-1) + N^-s/2 + Σⱼ B₂ⱼ/(2j)! · s(s+1)…(s+2j-2) ·
    N^(-s-2j+1) over its first term N^(1-s)/(s-1): 1 + (s-1)/(2N) + Σⱼ B₂ⱼ/(2j)! · (s-1)s…(s+2j-2)/N²ʲ (for N large
    next to s, as both zeta sums walk up to N ≥ 16 + s first)."""
    bracket, rising = 1 + (s - 1) / (2 * n), (s - 1) * s
    for j, b in enumerate(_BERNOULLI, start=1):
        bracket = bracket + b / math.factorial(2 * j) * rising / n ** (2 * j)
        rising = rising * (s + 2 * j - 1) * (s + 2 * j)
    return bracket


def _np_digamma(x):
    """ψ(x) = Γ'(x)/Γ(x): reflection ψ(x) = ψ(1-x) - π/tan(πx) for x < 0, the recurrence ψ(x) = ψ(x+1) - 1/x up to
    x ≥ 10, then the asymptotic series ln x - 1/(2x) - Σ B₂ₖ/(2k x²ᵏ). Poles as torch: ψ(0) = -inf, ψ(-0.0) = +inf,
    ψ(-n) = nan."""
    x = _float(x)
    out = np.empty_like(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        neg = x < 0
        z = np.where(neg, 1 - x, x)
        acc = np.zeros_like(z)
        while True:
            low = z < 10
            if not low.any():
                break
            acc -= np.where(low, 1 / np.where(low, z, 1), 0.0)
            z = z + low
        inv2 = 1 / (z * z)
        series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))))
        out[...] = acc + np.log(z) - 0.5 / z - series
        out = np.where(neg, out - math.pi / np.tan(math.pi * x), out)
        out = np.where(x == 0, np.where(np.signbit(x), np.inf, -np.inf), out)
        out = np.where(neg & (x == np.floor(x)), np.nan, out)
        out = np.where(x == np.inf, np.inf, out)
    return out


def _log_hurwitz_zeta(s, a):
    """ln ζ(s, a) for a > 0, where ζ itself under- or overflows (s in the hundreds): log-sum-exp of the terms
    -s·ln(a + k) until a + k ≥ 16 + s (or they no longer count), then the Euler–Maclaurin tail in logs,
    (1-s)·ln N - ln(s-1) + ln _euler_maclaurin_bracket(s, N)."""
    a = np.array(a, np.float64)
    log_sum = np.full(a.shape, -np.inf)
    edge = 16.0 + s
    walking = a < edge
    while walking.any():
        term = np.where(walking, -s * np.log(a), -np.inf)
        log_sum = np.logaddexp(log_sum, term)
        a += walking
        walking &= (a < edge) & (term - log_sum > -40)   # e^-40 of the sum: the rest cannot count
    early = a < edge
    n = np.where(early, edge, a)
    tail = (1 - s) * np.log(n) - math.log(s - 1) + np.log(_euler_maclaurin_bracket(s, n))
    return np.where(early, log_sum, np.logaddexp(log_sum, tail))


def _times_factorial(n, x):
    """n!·ζ(n+1, x): directly while n! fits in float64 (n ≤ 170), else through logs (x > 0), so that a product of
    representable size comes out right although its factors do not (ψ⁽²⁰⁰⁾(50) = -2.6e33: 200! and ζ(201, 50) = 1e-341
    are not float64 numbers)."""
    if n <= 170:
        return float(math.factorial(n)) * _hurwitz_zeta(n + 1.0, x)
    with np.errstate(over="ignore"):
        big = np.exp(math.lgamma(n + 1) + _log_hurwitz_zeta(n + 1.0, np.where(x > 0, x, 1.0)))
        return np.where(x > 0, big, math.inf * _hurwitz_zeta(n + 1.0, x))


def _np_polygamma(n, x):
    """ψ⁽ⁿ⁾(x) = (-1)ⁿ⁺¹ n! ζ(n+1, x) for n ≥ 1 (the n-th derivative of ψ), with ψ⁽ⁿ⁾ at the poles 0, -1, … equal to
    +inf for odd n and -inf for even n, as torch."""
    if n == 0:
        return _np_digamma(x)
    x = _float(x)
    sign = 1.0 if n % 2 else -1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pole = (x <= 0) & (x == np.floor(x))
        if n == 1 and (x < 0).any():   # reflection ψ₁(x) = π²/sin²(πx) - ψ₁(1-x): no long walk up from very negative x
            neg = x < 0
            z = _hurwitz_zeta(2.0, np.where(neg, 1 - x, x))
            out = np.where(neg, (math.pi / np.sin(math.pi * x)) ** 2 - z, z)
        else:
            out = sign * _times_factorial(n, np.where(pole, 1.0, x))
        out = np.where(pole, sign * np.inf, out)
        out = np.where(x == np.inf, 0.0, np.where(x == -np.inf, np.nan, out))
    return out


def _np_erfinv(x):
    """erf⁻¹(x): Giles' single-precision approximation, then Halley steps on erf(y) = x, written for |x| > ½
    as erfc(|y|) = 1 - |x| so that no digits cancel near ±1. ±1 → ±inf, |x| > 1 → nan."""
    x = _float(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = -np.log((1 - x) * (1 + x))
        central = w < 5
        wc, wt = w - 2.5, np.sqrt(np.where(central, 5.0, w)) - 3
        pc = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
                  0.246640727, 1.50140941):
            pc = c + pc * wc
        pt = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                  1.00167406, 2.83297682):
            pt = c + pt * wt
        y = np.where(central, pc, pt) * x
        finite = np.isfinite(y)
        y = np.where(finite, y, 0.0)
        ax, ay = np.abs(x), np.abs(y)
        for _ in range(8):   # three steps from Giles' start in the centre; more in the far tail (1 - |x| < 1e-9)
            tail = ax > 0.5
            resid = np.where(tail, (1 - ax) - np.asarray(_erfc_each(ay), dtype=np.float64),
                             _erf(ay) - ax)
            step = resid / (2 / _SQRT_PI * np.exp(-ay * ay))
            step = step / (1 + ay * step)              # Halley: erf'' = -2y erf', cubic convergence
            ay = ay - step
            if not (np.abs(step) > 1e-17 * ay).any():
                break
        y = np.copysign(ay, x)
        y = np.where(ax == 1, np.copysign(np.inf, x), y)
        y = np.where((ax > 1) | np.isnan(x), np.nan, y)
    return y


def _np_log_ndtr(x):
    """ln Φ(x), Φ the standard normal CDF: ln(erfc(-x/√2)/2) while erfc is representable (x ≥ -20), and the
    asymptotic series -x²/2 - ln(-x) - ln√(2π) + ln(1 - 1/x² + 3/x⁴ - 15/x⁶ + …) (terms to x⁻¹⁴) below it."""
    x = _float(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        far = x < -20
        near = np.log(0.5 * _np_erfc(-np.where(far, 0.0, x) / _SQRT2))
        xf = np.where(far, x, -30.0)
        i2 = 1 / (xf * xf)
        series = np.log1p(i2 * (-1 + i2 * (3 + i2 * (-15 + i2 * (105 + i2 * (-945 + i2 * (10395 - i2 * 135135)))))))
        tail = -0.5 * xf * xf - np.log(-xf) - _LOG_SQRT_2PI + series
        return np.where(far, tail, near)


def _cast_like(value, x):
    """The result in x's float dtype (an int input gives the default float dtype, as torch); a value past the
    dtype's range is ±inf, as torch's, without NumPy's overflow note (erfcx(-4) in float16)."""
    with np.errstate(over="ignore"):
        return np.asarray(value).astype(x.dtype if x.dtype.kind == "f" else dtypes.get_default_dtype(), copy=False)


class Lgamma(Op):
    """y = ln|Γ(x)|;  dy/dx = ψ(x), the digamma function."""

    def forward(self, x):
        return _cast_like(_np_lgamma(x), x)

    def backward(self, g):
        return g * digamma(self.inputs[0])


class Polygamma(Op):
    """y = ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function (n = 0 is ψ itself);  dy/dx = ψ⁽ⁿ⁺¹⁾(x)."""

    def forward(self, x, n):
        self.n = n
        return _cast_like(_np_polygamma(n, x), x)

    def backward(self, g):
        return g * Polygamma.apply(self.inputs[0], n=self.n + 1)


class Erfc(Op):
    """y = erfc x = 1 - erf x, exact in the tail where 1 - erf x cancels;  dy/dx = -2/√π · e^(-x²)."""

    def forward(self, x):
        return _cast_like(_np_erfc(x), x)

    def backward(self, g):
        x = self.inputs[0].clamp(-GAUSSIAN_TAIL, GAUSSIAN_TAIL)
        return g * (-(x * x)).exp() * (-2.0 / _SQRT_PI)


class Erfinv(Op):
    """y = erf⁻¹ x on (-1, 1);  dy/dx = 1/erf'(y) = √π/2 · e^(y²)."""
    saves_inputs = False

    def forward(self, x):
        self.out = _cast_like(_np_erfinv(x), x)
        return self.out

    def backward(self, g):
        y = self.saved_output()
        return g * (y * y).exp() * (_SQRT_PI / 2)


class LogNdtr(Op):
    """y = ln Φ(x), Φ(x) = ½ erfc(-x/√2) the standard normal CDF, finite far into the left tail;
    dy/dx = φ(x)/Φ(x) = √(2/π)/erfcx(-x/√2) (Φ(x) = ½e^(-x²/2)·erfcx(-x/√2), so the Gaussians cancel on paper,
    not in floating point: exp(-x²/2 - y) lost every digit to the cancellation at x = -9000 in float32)."""
    saves_inputs = True

    def forward(self, x):
        self.out = _cast_like(_np_log_ndtr(x), x)
        return self.out

    def backward(self, g):
        from .incomplete_gamma import erfcx
        return g * math.sqrt(2 / math.pi) / erfcx(self.inputs[0] * (-1 / _SQRT2))


_POSITIVE = [sample(T((3, 4), 0.2, 6)), sample(T((5,), values=[-2.5, -0.5, 0.3, 1.4616, 30.0]))]
lgamma = _unary("lgamma", Lgamma, _np_lgamma, _POSITIVE)
erfc = _unary("erfc", Erfc, _np_erfc, [sample(T((3, 4), -3, 3)), sample(T((3,), values=[-6.0, 0.0, 6.0]))])
erfinv = _unary("erfinv", Erfinv, _np_erfinv, [sample(T((3, 4), -0.95, 0.95)),
                                                sample(T((3,), values=[-0.999, 0.0, 0.9999]), check=dict(rtol=1e-2))])


def log_ndtr(input):
    return LogNdtr.apply(lift(input))


log_ndtr = register("log_ndtr", ref=_np_log_ndtr, samples=[sample(T((3, 4), -4, 4)),
                                                sample(T((3,), values=[-30.0, -21.0, -19.0]))])(log_ndtr)


def polygamma(n, input):
    """ψ⁽ⁿ⁾(x) (torch.polygamma(n, input)): n = 0 is digamma, 1 trigamma, …"""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"polygamma: n must be an int ≥ 0 (the order of the derivative of digamma), got {n!r}")
    return Polygamma.apply(lift(input), n=n)


def digamma(input):
    """ψ(x) = d/dx ln Γ(x)."""
    return Polygamma.apply(lift(input), n=0)


polygamma = register("polygamma", ref=_np_polygamma, samples=[sample(1, T((3, 4), 0.3, 5)), sample(2, T((3,), values=[-2.5, 0.7, 25.0])),
                                                   sample(3, T((2, 2), 0.5, 3))])(polygamma)
digamma = register("digamma", method="digamma", ref=_np_digamma, samples=_POSITIVE)(digamma)
Tensor.polygamma = lambda self, n: polygamma(n, self)


# ---- compositions ---------------------------------------------------------------------------------------------
def logit(input, eps=None):
    """logit p = ln(p/(1-p)), the inverse of the sigmoid; with eps, p is first clamped to [eps, 1-eps]."""
    input = floating(input)
    p = input.clamp(eps, 1 - eps) if eps is not None else input
    with np.errstate(divide="ignore"):   # logit 0 = -inf and logit 1 = +inf, as torch, without a warning
        return log(p) - log1p(-p)


def sinc(input):
    """sinc x = sin(πx)/(πx), 1 at x = 0 (the normalised sinc, as torch and NumPy)."""
    zero = input._data == 0
    safe = where(const(zero), const(np.ones((), input._data.dtype)), input) * math.pi
    return where(const(zero), const(np.ones((), input._data.dtype)), safe.sin() / safe)


def deg2rad(input):
    return input * (math.pi / 180)


def rad2deg(input):
    return input * (180 / math.pi)


def copysign(input, other):
    """|a| with the sign of b (b's sign bit, so -0.0 counts as negative);  ∂/∂a = sign(a)·(±1), ∂/∂b = 0."""
    a, b = tensor_pair(input, other)
    if a._data.dtype.kind != "f":
        a = a.float()
    return a.abs() * const(np.where(np.signbit(b._data), -1.0, 1.0).astype(a._data.dtype))


def _nan_ignoring(input, other, keep_first):
    a, b = tensor_pair(input, other)
    mask = keep_first(a._data, b._data) | np.isnan(b._data)
    return where(const(mask), a, b)


def fmax(input, other):
    """max(a, b) ignoring NaN (NaN only where both are NaN); a tie goes to a, as torch's gradient."""
    return _nan_ignoring(input, other, np.greater_equal)


def fmin(input, other):
    """min(a, b) ignoring NaN; a tie goes to a."""
    return _nan_ignoring(input, other, np.less_equal)


def xlog1py(input, other):
    """x · ln(1 + y), taken as 0 where x = 0 (even where ln(1 + y) is infinite), as torch; the gradients in
    arith.XLogY."""
    return xlogy_op(input, other, plus_one=True)


def entr(input):
    """-x ln x for x > 0, 0 at x = 0, -inf for x < 0 (entropy of one probability)."""
    d = input._data
    pos = ~(d <= 0)   # NaN takes the differentiated branch, so that its gradient is NaN too
    safe = where(const(pos), input, const(np.ones((), d.dtype)))
    rest = const(np.where(d == 0, 0.0, -np.inf).astype(d.dtype))
    return where(const(pos), -(safe * log(safe)), rest)


def multigammaln(input, p):
    """ln Γₚ(a) = p(p-1)/4 · ln π + Σⱼ₌₁ᵖ ln Γ(a + (1-j)/2), the multivariate log-gamma function."""
    if not isinstance(p, int) or p < 1:
        raise ValueError(f"multigammaln: p must be an int ≥ 1, got {p!r}")
    total = lgamma(input)
    for j in range(2, p + 1):
        total = total + lgamma(input + (1 - j) / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


def ndtr(input):
    """Φ(x) = ½ erfc(-x/√2), the standard normal CDF."""
    return erfc(input * (-1 / _SQRT2)) * 0.5


def ndtri(input):
    """Φ⁻¹(p) = √2 erf⁻¹(2p - 1), the standard normal quantile."""
    return erfinv(input * 2 - 1) * _SQRT2


def heaviside(input, values):
    """0 where x < 0, `values` where x = 0, 1 where x > 0. A step: no gradient (torch has none either)."""
    a, v = tensor_pair(input, values)
    return _wrap(np.heaviside(a._data, v._data).astype(a._data.dtype))


def signbit(input):
    return _wrap(np.signbit(input._data))


_PROB = [sample(T((3, 4), 0.05, 0.95))]
logit = register("logit", method="logit",
         ref=lambda p, eps=None: np.log(np.clip(p, eps, 1 - eps) / (1 - np.clip(p, eps, 1 - eps))) if eps else np.log(p / (1 - p)),
         samples=_PROB + [sample(T((4,), values=[0.001, 0.3, 0.6, 0.999]), eps=0.01)])(logit)
sinc = register("sinc", method="sinc", ref=np.sinc, samples=[sample(T((3, 4), 0.1, 2.5)), sample(T((3,), values=[0.0, 0.4, -1.3]), gradgrad=False)])(sinc)
deg2rad = register("deg2rad", method="deg2rad", ref=np.deg2rad, samples=UNARY)(deg2rad)
rad2deg = register("rad2deg", method="rad2deg", ref=np.rad2deg, samples=UNARY)(rad2deg)
_LN2 = math.log(2.0)


def logaddexp2(input, other):
    """log₂(2^a + 2^b) = logaddexp(a·ln2, b·ln2) / ln2: stable for any a, b, with logaddexp's gradient
    (∂/∂a = 2^a / (2^a + 2^b))."""
    from .arith import logaddexp
    return logaddexp(input * _LN2, other * _LN2) * (1 / _LN2)


def ldexp(input, other):
    """input · 2^other (float result);  ∂/∂input = 2^other, ∂/∂other = input · 2^other · ln2. (2.0 ** other, not
    exp2, which is exp(other·ln2) and misses exact powers of two by an ulp.)"""
    a, b = tensor_pair(input, other)
    if a._data.dtype.kind != "f":
        a = a.float()
    if b._data.dtype.kind != "f":
        b = b.to(a.dtype)
    return a * (2.0 ** b)


class Angle(Op):
    """angle(x) of a real x: 0 for x ≥ 0, π for x < 0, NaN for NaN;  the derivative is 0 (as torch's for real input)."""

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            return np.where(np.isnan(x), x, np.where(x < 0, np.pi, 0.0)).astype(x.dtype)

    def backward(self, g):
        return g * 0.0


def angle(input):
    if input._data.dtype.kind != "f":
        input = input.float()
    return Angle.apply(input)


copysign = register("copysign", method="copysign", ref=np.copysign,
         samples=[sample(T((3, 4), away=0.0), T((3, 4))), sample(T((3, 4), away=0.0), T((4,)))])(copysign)
fmax = register("fmax", method="fmax", ref=np.fmax, samples=[sample(T((3, 4)), T((3, 4))), sample(T((3, 4)), T((4,)))])(fmax)
fmin = register("fmin", method="fmin", ref=np.fmin, samples=[sample(T((3, 4)), T((3, 4))), sample(T((3, 4)), T((4,)))])(fmin)
xlog1py = register("xlog1py", ref=lambda x, y: np.where(x == 0, 0.0, x * np.log1p(y)),
         samples=[sample(T((3, 4)), T((3, 4), -0.5, 2)),
                  sample(T((3,), values=[0.0, 0.5, 0.0], grad=False), T((3,), values=[-0.5, 2.0, 3.0])),
                  sample(T((2, 3), values=[[0.0, 0.0, 0.7], [0.0, -0.4, 0.0]]), T((3,), values=[2.0, -0.5, 1.5]))])(xlog1py)
entr = register("entr", ref=lambda x: np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0, -np.inf)),
         samples=[sample(T((3, 4), 0.1, 2))])(entr)
multigammaln = register("multigammaln", ref=lambda a, p: sum(_np_lgamma(a - j / 2) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi),
         samples=[sample(T((3, 4), 1.6, 6), 3), sample(T((2,), 0.6, 4), 1)])(multigammaln)
ndtr = register("ndtr", ref=lambda x: 0.5 * _np_erfc(-x / _SQRT2), samples=[sample(T((3, 4), -3, 3))])(ndtr)
ndtri = register("ndtri", ref=lambda p: _SQRT2 * _np_erfinv(2 * p - 1), samples=_PROB)(ndtri)
Tensor.heaviside = heaviside
Tensor.signbit = signbit
Tensor.sgn = Tensor.sign
Tensor.xlog1py = xlog1py
logaddexp2 = register("logaddexp2", method="logaddexp2", ref=np.logaddexp2,
         samples=[sample(T((3, 4)), T((4,))), sample(T((2,), values=[-1000.0, 1000.0]), T((2,), values=[1000.0, 3.0]))]
         )(logaddexp2)
ldexp = register("ldexp", method="ldexp", ref=lambda a, b: a * np.exp2(b),
         samples=[sample(T((3, 4)), T((4,), values=[-2.0, 0.0, 1.0, 3.0])), sample(T((3,)), T((3,), -1, 1))])(ldexp)
angle = register("angle", method="angle", ref=lambda x: np.where(x < 0, np.pi, 0.0),
         samples=[sample(T((3, 4), away=0.0)), sample(T((3,), values=[-1000.0, 2.0, 1000.0]))])(angle)
