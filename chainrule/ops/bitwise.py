"""Bitwise and number-theoretic ops on integer and bool tensors (torch.bitwise_*, gcd, lcm). They have no
derivative and never join the graph; a float input is an error that names the op, as in PyTorch.

    bitwise_and(a, b) = a & b      bitwise_or = a | b      bitwise_xor = a ^ b      bitwise_not(a) = ~a
    bitwise_left_shift(a, s) = a << s = a·2ˢ (0 once s reaches the bit width)
    bitwise_right_shift(a, s) = a >> s = ⌊a / 2ˢ⌋ (arithmetic: the sign bit is kept)
    gcd(a, b) ≥ 0, gcd(0, 0) = 0;   lcm(a, b) = |a·b| / gcd(a, b), lcm(a, 0) = 0

Python scalars do not widen a tensor's dtype (NumPy ≥ 2 and PyTorch agree: int8 tensor & 3 stays int8).
"""
import numpy as np

from ..errors import DTypeError, ShapeError
from ..tensor import Tensor

_wrap = Tensor._wrap
_INTEGRAL = "biu"   # bool, signed and unsigned integers


def _operand(x, name):
    if isinstance(x, Tensor):
        data = x._data
    elif isinstance(x, (bool, int, np.integer, np.bool_)):
        return x
    else:
        data = np.asarray(x)
    if data.dtype.kind not in _INTEGRAL:
        raise DTypeError(f"{name}: needs integer or bool tensors, got {data.dtype} (shape {data.shape}). Bitwise "
                         f"ops have no meaning for floats: convert with .long() or .bool() first.")
    return data


def _binary(npfn, name, bool_ok=True):
    def fn(input, other):
        a, b = _operand(input, name), _operand(other, name)
        if not bool_ok and all(np.asarray(x).dtype == np.bool_ for x in (a, b)):
            a = np.asarray(a, np.int64)   # shifts, gcd and lcm of bools are computed on int64, as PyTorch does
        try:
            return _wrap(np.asarray(npfn(a, b)))
        except ValueError:
            raise ShapeError(f"{name}: cannot broadcast shapes {np.shape(a)} and {np.shape(b)}: dims are "
                             f"compared from the right and each pair must be equal or 1") from None
        except OverflowError as exc:
            raise DTypeError(f"{name}: {exc}; use a scalar that fits the tensor's dtype {np.asarray(a).dtype}")
    fn.__name__ = name
    fn.__doc__ = f"torch.{name}(input, other): elementwise, on integer or bool tensors (no gradient)."
    return fn


bitwise_and = _binary(np.bitwise_and, "bitwise_and")
bitwise_or = _binary(np.bitwise_or, "bitwise_or")
bitwise_xor = _binary(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _binary(np.left_shift, "bitwise_left_shift", bool_ok=False)
bitwise_right_shift = _binary(np.right_shift, "bitwise_right_shift", bool_ok=False)
gcd = _binary(np.gcd, "gcd", bool_ok=False)
lcm = _binary(np.lcm, "lcm", bool_ok=False)


def bitwise_not(input):
    """~input: every bit flipped (logical not for bool tensors)."""
    return _wrap(np.asarray(np.invert(_operand(input, "bitwise_not"))))


_BINARY = (bitwise_and, bitwise_or, bitwise_xor, bitwise_left_shift, bitwise_right_shift, gcd, lcm)
_OPERATORS = (("and", bitwise_and), ("or", bitwise_or), ("xor", bitwise_xor), ("lshift", bitwise_left_shift),
              ("rshift", bitwise_right_shift))


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _augmented(fn):
    """x &= y: x.bitwise_and_(y), which changes x (the in-place methods come from ops/inplace.py)."""
    name = fn.__name__ + "_"
    return lambda self, other: getattr(self, name)(other)


for _f in (*_BINARY, bitwise_not):
    setattr(Tensor, _f.__name__, _f)
for _op, _f in _OPERATORS:
    setattr(Tensor, f"__{_op}__", _f)
    setattr(Tensor, f"__r{_op}__", _reflected(_f))
    setattr(Tensor, f"__i{_op}__", _augmented(_f))
Tensor.__invert__ = bitwise_not
