"""Ops with no useful derivative: comparisons, logic and value tests return bool tensors outside the graph;
rounding is piecewise constant, so its gradient is zero wherever it exists (as in PyTorch)."""
import numpy as np

from ..autograd.function import Op
from ..errors import ShapeError
from ..tensor import Tensor
from .registry import T, register, sample, tensor_method

_wrap = Tensor._wrap


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


# ---- comparisons and logic (bool results, not differentiable) ------------------------------------------------
def _elementwise_test(npfn, name):
    def fn(input, other):
        try:
            return _wrap(np.asarray(npfn(_raw(input), _raw(other))))
        except ValueError:
            raise ShapeError(f"{name}: cannot broadcast shapes {np.shape(_raw(input))} and "
                             f"{np.shape(_raw(other))}") from None
    fn.__name__ = name
    return fn


eq, ne, lt, le, gt, ge = (_elementwise_test(f, n) for f, n in [
    (np.equal, "eq"), (np.not_equal, "ne"), (np.less, "lt"), (np.less_equal, "le"), (np.greater, "gt"),
    (np.greater_equal, "ge")])
logical_and, logical_or, logical_xor = (_elementwise_test(f, n) for f, n in [
    (np.logical_and, "logical_and"), (np.logical_or, "logical_or"), (np.logical_xor, "logical_xor")])
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
def _compares_with_values(fn):
    """x == None is False and x != None True, as in torch (not a tensor of False): Python's identity fallback."""
    def op(self, other):
        return NotImplemented if other is None or isinstance(other, str) else fn(self, other)
    return op


for _f in (eq, ne, lt, le, gt, ge):
    setattr(Tensor, _f.__name__, _f)
    setattr(Tensor, f"__{_f.__name__}__", _compares_with_values(_f) if _f in (eq, ne) else _f)
for _f in (logical_and, logical_or, logical_xor):
    setattr(Tensor, _f.__name__, _f)


def _unary_test(npfn, name):
    fn = lambda input: _wrap(np.asarray(npfn(input._data)))   # noqa: E731
    fn.__name__ = name
    setattr(Tensor, name, fn)
    return fn


isnan, isinf, isfinite, logical_not = (_unary_test(f, n) for f, n in [
    (np.isnan, "isnan"), (np.isinf, "isinf"), (np.isfinite, "isfinite"), (np.logical_not, "logical_not")])
isposinf, isneginf = _unary_test(np.isposinf, "isposinf"), _unary_test(np.isneginf, "isneginf")
isreal = _unary_test(lambda a: np.ones(a.shape, bool), "isreal")   # chainrule has no complex dtype
class NextAfter(Op):
    """y = the next float after x towards other: x moved by one unit in the last place, so dy/dx = 1 and
    dy/dother = 0 (torch's rule)."""
    saves_inputs = False

    def forward(self, x, other):
        return np.nextafter(x, other)

    def backward(self, g):
        other = self.inputs[1]
        return g, (_wrap(np.zeros(other.shape, other.dtype)) if self.needs_input_grad[1] else None)


def nextafter(input, other):
    from ._util import tensor_pair
    input, other = tensor_pair(input, other)   # torch's promotion: int64 ⊕ float32 is float32
    if input._data.dtype.kind != "f":
        raise TypeError(f"nextafter: needs floating-point inputs, got {input._data.dtype}; convert with .double()")
    try:
        np.broadcast_shapes(input.shape, other.shape)
    except ValueError:
        raise ShapeError(f"nextafter: cannot broadcast shapes {input.shape} and {other.shape}") from None
    return NextAfter.apply(input, other)


nextafter = register("nextafter", method="nextafter", ref=np.nextafter,
         samples=[sample(T((3, 4)), T((3, 4), 5.0, 6.0)), sample(T((2, 3)), T((3,), -6.0, -5.0))])(nextafter)


class Mantissa(Op):
    """m = x · 2⁻ᵉ with e = frexp's exponent, which is piecewise constant;  dm/dx = 2⁻ᵉ (torch's rule)."""
    saves_inputs = False

    def forward(self, x, parts):
        mantissa, self.exponent = parts
        return mantissa

    def backward(self, g):
        with np.errstate(over="ignore"):   # 2⁻ᵉ of the smallest subnormals is past the dtype's range: inf, the slope
            scale = np.ldexp(np.ones((), g.dtype), -self.exponent).astype(g.dtype)
        return g * _wrap(scale)


@tensor_method("frexp")
def frexp(input):
    """(mantissa, exponent) with input = mantissa · 2^exponent and 0.5 ≤ |mantissa| < 1 (torch.frexp); the
    mantissa is differentiable (dm/dx = 2⁻ᵉ), the int32 exponent is not."""
    if input._data.dtype.kind != "f":
        raise TypeError(f"frexp: needs a floating-point tensor, got {input._data.dtype}; convert with .float()")
    mantissa, exponent = np.frexp(input._data)
    return Mantissa.apply(input, parts=(mantissa, exponent)), _wrap(exponent.astype(np.int32))


register("frexp_mantissa", ref=lambda x: np.frexp(x)[0], samples=[sample(T((3, 4), -20.0, 20.0))])(
    lambda x: frexp(x)[0])


def is_signed(input):
    """True for signed integer and floating-point dtypes (torch.is_signed)."""
    return input._data.dtype.kind in "if"


Tensor.is_signed = is_signed


@tensor_method("all")
def all(input, dim=None, keepdim=False):
    return _wrap(np.asarray(np.all(input._data, axis=dim, keepdims=keepdim)))


@tensor_method("any")
def any(input, dim=None, keepdim=False):
    return _wrap(np.asarray(np.any(input._data, axis=dim, keepdims=keepdim)))


@tensor_method("allclose")
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when |input - other| ≤ atol + rtol·|other| everywhere (a Python bool, as torch.allclose)."""
    return bool(np.allclose(_raw(input), _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


@tensor_method("isclose")
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| ≤ atol + rtol·|other|, elementwise (a bool tensor)."""
    return _wrap(np.asarray(np.isclose(_raw(input), _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan)))


@tensor_method("nonzero")
def nonzero(input, as_tuple=False):
    """Indices of the non-zero entries: an (n, ndim) int64 tensor, or with as_tuple one index tensor per dim
    (what torch.where(condition) returns)."""
    idx = np.nonzero(input._data) if input.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in idx)
    if not input.ndim:   # a 0-d input has no index to give: (1, 0) where it is non-zero, (0, 0) where not (torch)
        return _wrap(np.zeros((len(idx[0]), 0), np.int64))
    return _wrap(np.stack(idx, axis=1).astype(np.int64))


@tensor_method("count_nonzero")
def count_nonzero(input, dim=None):
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=dim), np.int64))


@tensor_method("bincount")
def bincount(input, weights=None, minlength=0):
    """Counts of each value 0, 1, … in a 1-d tensor of non-negative ints (summed weights with `weights`): int64
    counts, or the weights' float dtype."""
    x = _raw(input)
    if x.ndim != 1 or (x.size and (x.dtype.kind not in "iu" or x.min() < 0)):
        raise ValueError(f"bincount: expected a 1-d tensor of non-negative integers, got shape {x.shape}, dtype "
                         f"{x.dtype}" + (f", min {x.min()}" if x.size and x.dtype.kind in "iu" else ""))
    if weights is None:
        return _wrap(np.bincount(x, minlength=minlength).astype(np.int64))
    w = _raw(weights)
    if w.shape != x.shape:
        raise ValueError(f"bincount: weights of shape {w.shape} must match the input's {x.shape}")
    dt = w.dtype if w.dtype.kind == "f" else np.float64
    return _wrap(np.bincount(x, weights=w, minlength=minlength).astype(dt))


@tensor_method("equal")
def equal(input, other):
    """True when both have the same shape and the same values."""
    return bool(np.array_equal(_raw(input), _raw(other)))


# ---- rounding: zero gradient ----------------------------------------------------------------------------------
class Rounding(Op):
    """y = round(x), floor(x), ceil(x) or trunc(x): a staircase, so dy/dx = 0 (undefined on the steps' edges)."""
    saves_inputs = False

    def forward(self, x, fn):
        return fn(x)

    def backward(self, g):
        return _wrap(np.zeros_like(g._data))


def _rounded(input, npfn):
    return input if input.dtype.kind != "f" else Rounding.apply(input, fn=npfn)   # integers are already whole


def floor(input):
    return _rounded(input, np.floor)


def ceil(input):
    return _rounded(input, np.ceil)


def trunc(input):
    return _rounded(input, np.trunc)


def round(input, decimals=0):
    """Round half to even, as torch.round; with decimals, to that many places."""
    return _rounded(input, np.round if decimals == 0 else lambda x: np.round(x, decimals))


# samples sit off the steps' edges (x.5 for round, integers for the others), where the derivative is 0
_OFF_EDGES = [sample(T((3, 4), values=[[0.2, -1.3, 2.6, -2.7]] * 3))]
floor = register("floor", method="floor", ref=np.floor, samples=_OFF_EDGES, gradgrad=False)(floor)
ceil = register("ceil", method="ceil", ref=np.ceil, samples=_OFF_EDGES, gradgrad=False)(ceil)
trunc = register("trunc", method=("trunc", "fix"), ref=np.trunc, samples=_OFF_EDGES, gradgrad=False)(trunc)
round = register("round", method="round", ref=lambda x, decimals=0: np.round(x, decimals),
         samples=_OFF_EDGES + [sample(T((4,), values=[0.123, -1.456, 2.61, 0.06]), decimals=1)],
         gradgrad=False)(round)
