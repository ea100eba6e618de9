"""Elementwise ops. Each backward is the textbook local derivative times the upstream gradient g; the engine sums
it back over broadcast axes, so no op here deals with broadcasting."""
import math

import numpy as np

from .. import dtypes
from ..errors import DTypeError
from ..tensor import Tensor
from ._util import as_array, const, floating, lift, promote_pair, tensor_pair
from ..autograd.function import Op
from ..autograd import buffers
from ..autograd.grad_mode import STATE
from .registry import T, register, sample

_wrap = Tensor._wrap
BCAST = [sample(T((3, 4)), T((3, 4))), sample(T((3, 4)), T((4,))), sample(T((2, 1, 3)), T((4, 1)))]
UNARY = [sample(T((3, 4))), sample(T(()))]


def _binary(cls, a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):   # the common case first: no lifting
        da, db = a._data.dtype, b._data.dtype
        if da is db or da == db:
            return cls.apply(a, b)
        return cls.apply(*promote_pair(a, b))
    t, s = (a, b) if isinstance(a, Tensor) else (b, a)
    if isinstance(t, Tensor) and t._data.dtype == buffers.HALF and _outside_half(s):
        # torch computes a float16 op with a Python number in float32 and rounds once: 1e-3 * 1e5 is 100, where
        # the number taken to float16 first would be ∞ (or 1e-8 a flush to 0)
        a, b = (a.float(), b) if a is t else (a, b.float())
        return cls.apply(*tensor_pair(a, b)).half()
    return cls.apply(*tensor_pair(a, b))


def _outside_half(number):
    """A Python number that float16 cannot hold: beyond its range, or below its normal numbers (not 0)."""
    if type(number) not in (int, float):
        return False
    magnitude = math.fabs(number)   # (abs is the op here)
    return 65504.0 < magnitude < float("inf") or 0.0 < magnitude < 6.103515625e-05


# ---- dtype cast -----------------------------------------------------------------------------------------------
class Cast(Op):
    """y = x as another dtype;  dL/dx = g cast back."""
    saves_inputs = False

    def forward(self, x, dtype):
        self.src = x.dtype
        if x.dtype.kind == "f" and dtype.itemsize < x.dtype.itemsize:
            with np.errstate(over="ignore"):   # past the narrower range is ±inf, quietly, as torch
                return x.astype(dtype)
        return x.astype(dtype)

    def backward(self, g):
        return g.to(self.src)


def cast(input, dtype):
    dtype = dtypes.canonical(dtype, "to")
    if input._data.dtype == dtype:
        return input
    if input.requires_grad and dtype.kind != "f":
        return _wrap(input._data.astype(dtype))
    return Cast.apply(input, dtype=dtype)


cast = register("cast", ref=lambda x, d: x.astype(d), samples=[sample(T((3, 2)), "float32", check=dict(eps=1e-2, atol=1e-4))], gradgrad=False)(cast)


# ---- arithmetic -----------------------------------------------------------------------------------------------
class Add(Op):
    """z = a + b;  dz/da = 1, dz/db = 1."""
    saves_inputs = False

    def forward(self, a, b):
        return buffers.binary(np.add, a, b)

    def backward(self, g):
        return g, g


class Sub(Op):
    """z = a - b;  dz/da = 1, dz/db = -1."""
    saves_inputs = False

    def forward(self, a, b):
        return buffers.binary(np.subtract, a, b)

    def backward(self, g):
        if not self.needs_input_grad[1]:   # the common a - target: no negation to compute
            return g, None
        if not STATE.grad_enabled:
            return g, _wrap(-g._data)
        return g, -g


class Mul(Op):
    """z = a * b;  dz/da = b, dz/db = a."""
    read_for_others = (0, 1)

    def forward(self, a, b):
        return buffers.binary(np.multiply, a, b)

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        if not STATE.grad_enabled:   # plain backward (no create_graph): the same formula on arrays
            gd = g._data
            if a is b and not STATE.observers:   # x * x: both terms at once, dL/dx = 2·g·x (one edge, not two)
                gx = buffers.binary(np.multiply, gd, a._data)
                return _wrap(np.add(gx, gx, out=gx) if type(gx) is np.ndarray else np.asarray(gx + gx)), None
            return ((_wrap(buffers.binary(np.multiply, gd, b._data)) if na else None),
                    (_wrap(buffers.binary(np.multiply, gd, a._data)) if nb else None))
        return (g * b if na else None), (g * a if nb else None)


class Div(Op):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b²."""
    read_for_others = (0,)

    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        # -g·(a/b)/b, as torch's: b·b overflows where a/b² does not (b = 1e20 in float32, 300 in float16)
        return (g / b if na else None), (-g * (a / b) / b if nb else None)


class Neg(Op):
    """z = -a;  dz/da = -1."""
    saves_inputs = False

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


def add(input, other, alpha=1):
    return _binary(Add, input, other if alpha == 1 else other * alpha)


def sub(input, other, alpha=1):
    return _binary(Sub, input, other if alpha == 1 else other * alpha)


def mul(input, other):
    return _binary(Mul, input, other)


def div(input, other):
    if _integral(input) and _integral(other):   # true division of integers gives the default float dtype
        input = floating(lift(input))
    return _binary(Div, input, other)


def _integral(x):
    return (x._data.dtype.kind in "biu") if isinstance(x, Tensor) else isinstance(x, (int, bool, np.integer))


def neg(input):
    return Neg.apply(input)


add = register("add", method="add", ref=np.add, samples=BCAST)(add)
sub = register("sub", method="sub", ref=np.subtract, samples=BCAST)(sub)
mul = register("mul", method="mul", ref=np.multiply, samples=BCAST)(mul)
div = register("div", method="div", ref=np.divide,
         samples=[sample(T((3, 4)), T((3, 4), 0.5, 2)), sample(T((2, 3)), T((3,), -2, -0.5))])(div)
neg = register("neg", method="neg", ref=np.negative, samples=UNARY)(neg)
Tensor.__add__ = Tensor.__radd__ = lambda self, other: _binary(Add, self, other)
Tensor.__sub__ = lambda self, other: _binary(Sub, self, other)
Tensor.__rsub__ = lambda self, other: _binary(Sub, other, self)
Tensor.__mul__ = Tensor.__rmul__ = lambda self, other: _binary(Mul, self, other)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, other: div(other, self)
Tensor.__neg__ = lambda self: Neg.apply(self)
Tensor.__pos__ = lambda self: self


# ---- unary math -----------------------------------------------------------------------------------------------
def _unary(name, cls, ref, samples=UNARY, gradgrad=True, keeps_integers=False):
    if keeps_integers:
        def fn(input):
            return cls.apply(input)
    else:
        def fn(input):
            if input._data.dtype.kind not in "fc":   # (sigmoid of ints gave 0, 0, 0; exp float64)
                input = floating(input)
            return cls.apply(input)
    fn.__name__ = name
    fn.__doc__ = cls.__doc__
    return register(name, method=name, ref=ref, samples=samples, gradgrad=gradgrad)(fn)


class Exp(Op):
    """y = eˣ;  dy/dx = eˣ = y (reuses the cached output)."""
    saves_inputs = False

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, g):
        if not STATE.grad_enabled:
            return _wrap(g._data * self.out)
        return g * self.saved_output()


class Log(Op):
    """y = ln x;  dy/dx = 1/x."""

    def forward(self, x):
        return np.log(x)

    def backward(self, g):
        return g / self.inputs[0]


class Log1p(Op):
    """y = ln(1 + x);  dy/dx = 1/(1 + x)."""

    def forward(self, x):
        return np.log1p(x)

    def backward(self, g):
        return g / (self.inputs[0] + 1.0)


class Sqrt(Op):
    """y = √x;  dy/dx = 1/(2√x) = 1/(2y)."""
    saves_inputs = False

    def forward(self, x):
        self.out = np.sqrt(x)
        return self.out

    def backward(self, g):
        return g / (self.saved_output() * 2.0)


class Rsqrt(Op):
    """y = 1/√x;  dy/dx = -½ x^(-3/2) = -½ y³. As 1/√x, not x^(-½): IEEE pow gives (-∞)^(-½) = 0 and (-0)^(-½) = +∞,
    where 1/√x gives NaN and -∞ (torch's)."""
    saves_inputs = False

    def forward(self, x):
        self.out = 1 / np.sqrt(x)
        return self.out

    def backward(self, g):
        y = self.saved_output()
        return g * (y * y * y) * -0.5


class Abs(Op):
    """y = |x|;  dy/dx = sign(x) (0 at x = 0, the subgradient PyTorch uses)."""

    def forward(self, x):
        return np.abs(x)

    def backward(self, g):
        return g * const(np.sign(self.inputs[0]._data))


class Sign(Op):
    """y = sign(x);  dy/dx = 0 almost everywhere."""
    saves_inputs = False

    def forward(self, x):
        return np.sign(x) if x.dtype != np.bool_ else x.copy()

    def backward(self, g):
        return g * 0.0


class Sin(Op):
    """y = sin x;  dy/dx = cos x."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, g):
        return g * self.inputs[0].cos()


class Cos(Op):
    """y = cos x;  dy/dx = -sin x."""

    def forward(self, x):
        return np.cos(x)

    def backward(self, g):
        return -g * self.inputs[0].sin()


class Tanh(Op):
    """y = tanh x;  dy/dx = 1 - tanh²x = 1 - y²."""
    saves_inputs = False

    def forward(self, x):
        self.out = np.tanh(x, out=buffers.out_like(x))
        return self.out

    def backward(self, g):
        if not STATE.grad_enabled:   # g ⊙ (1 - y²) in one buffer
            y, gd = self.out, g._data
            if gd.shape != y.shape or gd.dtype != y.dtype or y.ndim == 0:   # (0-d: NumPy gives scalars, no out=)
                return _wrap(np.asarray(gd * (1 - y * y)))
            d = np.multiply(y, y, out=buffers.out_like(y))
            np.subtract(1, d, out=d)
            return _wrap(np.multiply(gd, d, out=d))
        y = self.saved_output()
        return g * (1.0 - y * y)


class Sigmoid(Op):
    """σ(x) = 1/(1 + e⁻ˣ);  σ'(x) = σ(x)(1 - σ(x)).
    Stable: e^(-|x|) never overflows, so ±1000 give 1 and 0 without warnings."""
    saves_inputs = False

    def forward(self, x):
        e = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        return self.out

    def backward(self, g):
        if not STATE.grad_enabled:
            return _wrap(g._data * self.out * (1 - self.out))
        s = self.saved_output()
        return g * s * (1.0 - s)


# e^(-x²) is 0 in every dtype beyond |x| = 27.3 (e^-745 is below float64's smallest subnormal); the derivatives
# of erf and erfc clamp x there, so x² cannot overflow (x = 1e20 in float32, 300 in float16) on the way to that 0
GAUSSIAN_TAIL = 27.5


class Erf(Op):
    """erf(x) = 2/√π ∫₀ˣ e^(-t²) dt;  d/dx erf(x) = 2/√π · e^(-x²)."""

    def forward(self, x):
        return _erf(x).astype(x.dtype, copy=False)

    def backward(self, g):
        x = self.inputs[0].clamp(-GAUSSIAN_TAIL, GAUSSIAN_TAIL)
        return g * (-(x * x)).exp() * (2.0 / math.sqrt(math.pi))


_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    return np.asarray(_erf_scalar(x), dtype=np.float64) if np.ndim(x) else np.float64(math.erf(float(x)))


exp = _unary("exp", Exp, np.exp)
log = _unary("log", Log, np.log, [sample(T((3, 4), 0.1, 3)), sample(T((), 0.5, 2))])
log1p = _unary("log1p", Log1p, np.log1p, [sample(T((3, 4), -0.5, 3))])
sqrt = _unary("sqrt", Sqrt, np.sqrt, [sample(T((3, 4), 0.1, 3))])
abs = _unary("abs", Abs, np.abs, [sample(T((3, 4), away=0.0))], keeps_integers=True)
sign = _unary("sign", Sign, np.sign, [sample(T((3, 4), away=0.0))], keeps_integers=True)
sin = _unary("sin", Sin, np.sin)
cos = _unary("cos", Cos, np.cos)
tanh = _unary("tanh", Tanh, np.tanh, [sample(T((3, 4), -3, 3)), sample(T((3,), values=[-1000.0, 0.0, 1000.0]))])
sigmoid = _unary("sigmoid", Sigmoid, lambda x: 1 / (1 + np.exp(-x)),
                 [sample(T((3, 4), -4, 4)), sample(T((2,), values=[-30.0, 30.0]))])
erf = _unary("erf", Erf, lambda x: _erf(x), [sample(T((3, 4)))])
Tensor.__abs__ = abs


rsqrt = _unary("rsqrt", Rsqrt, lambda x: 1 / np.sqrt(x), [sample(T((3, 4), 0.2, 3))])


# ---- two-input selections ---------------------------------------------------------------------------------------
class Maximum(Op):
    """max(a, b);  the gradient goes to the larger input, split in half on ties (as PyTorch)."""

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.inputs[0]._data, self.inputs[1]._data
        wa = (a > b) + 0.5 * (a == b)
        return g * const(wa.astype(g.dtype)), g * const((1.0 - wa).astype(g.dtype))


class Minimum(Op):
    """min(a, b);  the gradient goes to the smaller input, split in half on ties."""

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, g):
        a, b = self.inputs[0]._data, self.inputs[1]._data
        wa = (a < b) + 0.5 * (a == b)
        return g * const(wa.astype(g.dtype)), g * const((1.0 - wa).astype(g.dtype))


class Where(Op):
    """where(c, a, b) picks a where c else b;  the gradient follows the pick: (g·c, g·(1-c))."""
    saves_inputs = False

    def forward(self, a, b, cond):
        self.cond = cond
        return np.where(cond, a, b)

    def backward(self, g):
        c = const(self.cond)
        zero = const(np.zeros((), g.dtype))
        return where(c, g, zero), where(c, zero, g)


def maximum(input, other):
    return _binary(Maximum, input, other)


def minimum(input, other):
    return _binary(Minimum, input, other)


def where(condition, input=None, other=None):
    """where(condition, input, other): input where condition holds, else other; where(condition) alone is
    nonzero(condition, as_tuple=True), as in torch."""
    if input is None and other is None:
        from .discrete import nonzero
        return nonzero(condition if isinstance(condition, Tensor) else Tensor._wrap(np.asarray(condition)),
                       as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (where(condition) lists the indices)")
    cond = as_array(condition)
    if cond.dtype != np.bool_:
        raise DTypeError(f"where: condition must be a bool tensor, got {cond.dtype}; compare first, e.g. x > 0")
    return Where.apply(*tensor_pair(input, other), cond=cond)


maximum = register("maximum", method="maximum", ref=np.maximum,
         samples=[sample(T((3, 4)), T((3, 4))), sample(T((3, 4)), T((4,)))])(maximum)
minimum = register("minimum", method="minimum", ref=np.minimum,
         samples=[sample(T((3, 4)), T((3, 4))), sample(T((2, 3)), T((2, 1)))])(minimum)
where = register("where", ref=np.where, samples=[sample(T((3, 4), dtype="bool", grad=False), T((3, 4)), T((3, 4))),
                                         sample(T((3, 1), dtype="bool", grad=False), T((4,)), T((3, 4)))])(where)
Tensor.where = lambda self, condition, other: where(condition, self, other)


Tensor.clone = lambda self, memory_format=None: self * 1 if self.requires_grad else _wrap(self._data.copy())
Tensor.square = lambda self: self * self

