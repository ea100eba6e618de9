"""More arithmetic with PyTorch's names: expm1 and logaddexp (primitives, for their numerics), remainder and fmod
(a - ⌊a/b⌋b with a gradient), and compositions of registered ops (log2, exp2, reciprocal, addcmul, nan_to_num, …),
which differentiate through the ops they are made of."""
import math

import numpy as np

from ..errors import IntegerDivisionError
from ..tensor import Tensor
from ..autograd.function import Op
from .discrete import floor, isfinite, trunc
from .elementwise import BCAST, UNARY, _binary, _unary, div, exp, log, mul, sub, where
from .power import pow
from ._util import as_array, floating, lift, promote_pair, quiet_logaddexp, tensor_pair
from .registry import T, register, sample

_wrap = Tensor._wrap


class Expm1(Op):
    """y = eˣ - 1, exact for tiny x where exp(x) - 1 cancels;  dy/dx = eˣ = y + 1."""
    saves_inputs = False

    def forward(self, x):
        self.out = np.expm1(x)
        return self.out

    def backward(self, g):
        return g * (self.saved_output() + 1.0)


class LogAddExp(Op):
    """y = ln(eᵃ + eᵇ) = max(a, b) + ln(1 + e^-|a-b|), which never overflows;
    ∂y/∂a = eᵃ⁻ʸ = σ(a - b), ∂y/∂b = σ(b - a) (σ of the difference: exact where a and b are large)."""

    def forward(self, a, b):
        return quiet_logaddexp(a, b)

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (g * (a - b).sigmoid() if na else None), (g * (b - a).sigmoid() if nb else None)


class Remainder(Op):
    """r = a - ⌊a/b⌋·b (the sign of b, Python's %) or, for fmod, a - trunc(a/b)·b (the sign of a);
    ∂r/∂a = 1, ∂r/∂b = -⌊a/b⌋ (or -trunc(a/b)): the quotient is piecewise constant."""

    def forward(self, a, b, c_style):
        self.c_style = c_style
        with np.errstate(divide="ignore", invalid="ignore"):   # x mod 0 is nan, as torch, without NumPy's warning
            return np.fmod(a, b) if c_style else np.remainder(a, b)

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            q = (np.trunc if self.c_style else np.floor)(a._data / b._data)
        return (g if na else None), (-g * _wrap(q) if nb else None)


expm1 = _unary("expm1", Expm1, np.expm1, [sample(T((3, 4))), sample(T((3,), values=[-1e-10, 0.0, 1e-10]))])


class Lerp(Op):
    """y = a + w·(b - a);  ∂y/∂a = 1 - w, ∂y/∂b = w, ∂y/∂w = b - a.
    Computed as torch does, a + w(b - a) for |w| < ½ and b - (b - a)(1 - w) otherwise, so that w = 1 gives b
    exactly. Where that form meets ∞ - ∞ and the other gives a number, the other is taken: lerp(-∞, 1, ¾) is -∞
    (the limit), not NaN."""

    def forward(self, a, b, w):
        d = b - a
        with np.errstate(invalid="ignore"):   # ∞·0 and ∞ - ∞ in the branch not taken, or in both (NaN, as torch)
            near_a, near_b = a + w * d, b - d * (1 - w)
        small = np.abs(w) < 0.5
        y = np.where(small, near_a, near_b)
        lost = np.isnan(y)
        if lost.any():
            y = np.where(lost, np.where(small, near_b, near_a), y)
        return y

    def backward(self, g):
        a, b, w = self.inputs
        na, nb, nw = self.needs_input_grad
        return (g * (1 - w) if na else None), (g * w if nb else None), (g * (b - a) if nw else None)


def lerp(input, end, weight):
    """input + weight·(end - input), weight a number or a tensor (broadcast with the others)."""
    a, b = tensor_pair(input, end)
    w = weight if isinstance(weight, Tensor) else lift(weight, a)
    if w._data.dtype != a._data.dtype:   # a float64 weight makes the result float64, as torch
        a, w = promote_pair(a, w)
        b, _ = promote_pair(b, w)
    return Lerp.apply(a, b, w)


def logaddexp(input, other):
    return _binary(LogAddExp, input, other)


def _integer_quotient(op, fn, a, b):
    """fn(a, b) on integer arrays, which have no inf to give for a zero divisor: that is an error, not a warning."""
    if (b == 0).any():
        raise IntegerDivisionError(f"{op}: integer division by zero (the divisor of shape {np.shape(b)} has "
                                   f"{int(np.count_nonzero(b == 0))} zero(s)); mask them out, or divide float "
                                   f"tensors to get inf/nan")
    return _wrap(np.asarray(fn(a, b)))


def remainder(input, other):
    """Python's a % b: the result has the sign of b."""
    if not _floats(input, other):
        return _integer_quotient("remainder", np.remainder, as_array(input), as_array(other))
    return Remainder.apply(*tensor_pair(input, other), c_style=False)


def fmod(input, other):
    """C's fmod: the result has the sign of a."""
    if not _floats(input, other):
        return _integer_quotient("fmod", np.fmod, as_array(input), as_array(other))
    return Remainder.apply(*tensor_pair(input, other), c_style=True)


def floor_divide(input, other):
    """⌊a/b⌋, outside the graph: a staircase has no useful gradient (PyTorch does not differentiate it)."""
    a, b = tensor_pair(input, other)
    if not _floats(a, b):
        return _integer_quotient("floor_divide", np.floor_divide, a._data, b._data)
    with np.errstate(divide="ignore", invalid="ignore"):   # x // 0 is ±inf or nan, as torch, without NumPy's warning
        return _wrap(np.asarray(np.floor_divide(a._data, b._data)))


def _floats(a, b):
    return as_array(a).dtype.kind == "f" or as_array(b).dtype.kind == "f"


# samples keep a/b off the integers, where the quotient jumps
_DIVIDEND = T((3, 4), values=[[0.7, -1.3, 2.6, -2.2], [3.4, -0.4, 1.2, 5.5], [-4.6, 0.1, 2.3, -3.7]])
lerp = register("lerp", method="lerp", ref=lambda a, b, w: a + w * (b - a),
         samples=[sample(T((3, 4)), T((3, 4)), 0.3), sample(T((3, 4)), T((4,)), T((3, 1))),
                  sample(T((2, 3)), T((2, 3)), T((2, 3), low=-2, high=3))])(lerp)
logaddexp = register("logaddexp", method="logaddexp", ref=np.logaddexp,
         samples=BCAST + [sample(T((2,), values=[-1000.0, 1000.0]), T((2,), values=[1000.0, -1000.0]))])(logaddexp)
remainder = register("remainder", method="remainder", ref=np.remainder,
         samples=[sample(_DIVIDEND, 1.5), sample(_DIVIDEND, T((4,), values=[0.9, -1.1, 1.0, 2.0]))],
         gradgrad=False)(remainder)
fmod = register("fmod", method="fmod", ref=np.fmod,
         samples=[sample(_DIVIDEND, 1.5), sample(_DIVIDEND, T((4,), values=[0.9, -1.1, 1.0, 2.0]))],
         gradgrad=False)(fmod)
Tensor.__mod__ = remainder
Tensor.__rmod__ = lambda self, other: remainder(other, self)
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = lambda self, other: floor_divide(other, self)
Tensor.floor_divide = floor_divide


# ---- compositions of registered ops ---------------------------------------------------------------------------
_LN2, _LN10 = math.log(2.0), math.log(10.0)


def log2(input):
    """log₂ x = ln x / ln 2."""
    return log(input) * (1.0 / _LN2)


def log10(input):
    """log₁₀ x = ln x / ln 10."""
    return log(input) * (1.0 / _LN10)


def exp2(input):
    """2ˣ = e^(x ln 2)."""
    return exp(input * _LN2)


def reciprocal(input):
    """1/x."""
    return pow(input, -1)


def frac(input):
    """x - trunc(x), the fractional part (sign of x); d/dx = 1."""
    return input - trunc(input)


def float_power(input, exponent):
    """input ** exponent in float64, as torch.float_power."""
    from .elementwise import cast
    a = cast(input, "float64") if isinstance(input, Tensor) else input
    b = cast(exponent, "float64") if isinstance(exponent, Tensor) else exponent
    return pow(a, b)


def addcmul(input, tensor1, tensor2, value=1):
    """input + value · tensor1 ⊙ tensor2."""
    return input + value * (tensor1 * tensor2)


def addcdiv(input, tensor1, tensor2, value=1):
    """input + value · tensor1 / tensor2."""
    return input + value * (tensor1 / tensor2)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN → nan, +∞ → posinf, -∞ → neginf (the dtype's largest and smallest finite values by default); the
    gradient flows only through the entries that were finite, as in PyTorch."""
    replaced = np.nan_to_num(input._data, nan=nan, posinf=posinf, neginf=neginf)
    return where(isfinite(input), input, _wrap(replaced))


_POSITIVE = [sample(T((3, 4), 0.1, 3))]
log2 = register("log2", method="log2", ref=np.log2, samples=_POSITIVE)(log2)
log10 = register("log10", method="log10", ref=np.log10, samples=_POSITIVE)(log10)
exp2 = register("exp2", method="exp2", ref=np.exp2, samples=UNARY)(exp2)
reciprocal = register("reciprocal", method="reciprocal", ref=np.reciprocal,
         samples=[sample(T((3, 4), 0.5, 2)), sample(T((3,), -2, -0.5))])(reciprocal)
frac = register("frac", method="frac", ref=lambda x: x - np.trunc(x),
         samples=[sample(T((3, 4), values=[[0.2, -1.3, 2.6, -2.7]] * 3))])(frac)
float_power = register("float_power", method="float_power", ref=np.float_power,
         samples=[sample(T((3, 4), 0.5, 2), 2.5), sample(T((3, 4), 0.5, 2), T((4,)))])(float_power)
addcmul = register("addcmul", method="addcmul", ref=lambda i, a, b, value=1: i + value * a * b,
         samples=[sample(T((3, 4)), T((3, 4)), T((4,)), value=0.5)])(addcmul)
addcdiv = register("addcdiv", method="addcdiv", ref=lambda i, a, b, value=1: i + value * a / b,
         samples=[sample(T((3, 4)), T((3, 4)), T((4,), 0.5, 2), value=-2.0)])(addcdiv)
nan_to_num = register("nan_to_num", method="nan_to_num", ref=lambda x, **kw: np.nan_to_num(x, **kw),
         samples=[sample(T((4,), values=[np.nan, np.inf, -np.inf, 0.5])),
                  sample(T((2, 3)), nan=1.0, posinf=9.0, neginf=-9.0)])(nan_to_num)


def _div(input, other, *, rounding_mode=None):
    """a / b; rounding_mode 'trunc' or 'floor' rounds the quotient (zero gradient, as in PyTorch)."""
    if rounding_mode is None:
        return div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    if not _floats(input, other):
        a, b = as_array(input), as_array(other)
        if rounding_mode == "floor":
            return _integer_quotient("div", np.floor_divide, a, b)
        return _integer_quotient("div", lambda a, b: np.trunc(a / b).astype(np.result_type(a, b)), a, b)
    q = div(input, other)
    return floor(q) if rounding_mode == "floor" else trunc(q)


Tensor.div = Tensor.divide = Tensor.true_divide = _div
Tensor.multiply, Tensor.subtract = mul, sub
Tensor.negative = lambda self: -self
Tensor.positive = lambda self: self
Tensor.absolute = Tensor.abs
Tensor.xlogy = lambda self, other: xlogy(self, other)


class XLogY(Op):
    """z = x·ln y (or x·ln(1 + y) for xlog1py, through log1p), taken as 0 where x = 0 unless y is nan, as torch;
    ∂z/∂x = ln y (0 where x = 0 and y ≤ 0, where ln y is not finite, as torch),
    ∂z/∂y = x / y (0 at x = y = 0: z(0, y) ≡ 0, so the partial is 0, where torch's 0/0 gives nan).
    For xlog1py read 1 + y for y throughout."""

    def forward(self, x, y, plus_one):
        self.plus_one = plus_one
        with np.errstate(divide="ignore", invalid="ignore"):   # ln of y ≤ 0 is masked or nan, as torch
            out = x * (np.log1p(y) if plus_one else np.log(y))
        return np.where((x == 0) & ~np.isnan(y), 0, out)

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_input_grad
        edge = -1.0 if self.plus_one else 0.0            # where ln(1 + y) or ln y is -inf
        neutral = _wrap(np.full((), 0.0 if self.plus_one else 1.0, y.dtype))   # where it is 0
        zero = x._data == 0
        gx = gy = None
        if nx:
            off = zero & (y._data <= edge)
            safe = where(_wrap(off), neutral, y) if off.any() else y
            gx = g * (safe.log1p() if self.plus_one else log(safe))
        if ny:   # only x = 0 at the edge is masked, so that ∂(x/y)/∂x = 1/y stays right for the second derivative
            off = zero & (y._data == edge)
            safe = where(_wrap(off), neutral, y) if off.any() else y
            gy = g * x / (safe + 1 if self.plus_one else safe)
        return gx, gy


def xlogy_op(input, other, plus_one=False):
    """x·ln y or x·ln(1 + y) as torch: tensors or numbers, integer inputs give the default float dtype."""
    x, y = tensor_pair(input, other)
    if x.dtype.kind != "f":
        x, y = floating(x), floating(y)
    return XLogY.apply(x, y, plus_one=plus_one)


def xlogy(input, other):
    """x · ln y, taken as 0 where x = 0 (even for y = 0), as torch.xlogy; integer inputs give the default float."""
    return xlogy_op(input, other)


xlogy = register("xlogy", ref=lambda x, y: np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y))),
         samples=[sample(T((3, 4)), T((3, 4), 0.2, 2)),
                  sample(T((3,), values=[0.0, 0.5, 0.0], grad=False), T((3,), values=[0.0, 2.0, 3.0])),
                  # ∂/∂x at x = 0 is ln y: z(x, 2) = x ln 2 is smooth through x = 0
                  sample(T((2, 3), values=[[0.0, 0.0, 0.7], [0.0, -0.4, 0.0]]), T((3,), values=[2.0, 0.5, 1.5]))])(xlogy)
divide = true_divide = _div
multiply, subtract = mul, sub
