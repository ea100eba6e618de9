"""The dtypes chainrule supports, as NumPy dtypes, and PyTorch's promotion rules."""
import numpy as np

from .errors import DTypeError

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int64 = long = np.dtype(np.int64)
int32 = np.dtype(np.int32)      # torch.int and torch.short: aliased in chainrule/__init__ (here they would hide
int16 = np.dtype(np.int16)      # the builtin int that scalar_dtype tests against)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
SUPPORTED = (float16, float32, float64, int64, int32, int16, int8, uint8, bool_)
_FLOATS = (float16, float32, float64)

_default = [float32]


def get_default_dtype():
    return _default[0]


def set_default_dtype(dtype):
    if isinstance(dtype, UnsupportedDtype):
        raise unsupported(dtype, "set_default_dtype")
    dtype = np.dtype(dtype)
    if dtype not in _FLOATS:
        raise DTypeError(f"set_default_dtype: {dtype} is not a float dtype; use float16, float32 or float64")
    _default[0] = dtype


def is_floating(dtype):
    return dtype.kind == "f"


class UnsupportedDtype:
    """A torch dtype NumPy has no counterpart for (bfloat16, the complex types): the name exists, so scripts that
    list it (`{'bfloat16': torch.bfloat16, ...}`) run, and using it is a DTypeError that says what to use."""

    def __init__(self, name, floating, complex_):
        self.name, self.is_floating_point, self.is_complex = name, floating, complex_
        self.is_signed = True

    def __repr__(self):
        return f"chainrule.{self.name}"


bfloat16 = UnsupportedDtype("bfloat16", True, False)
complex32 = chalf = UnsupportedDtype("complex32", False, True)
complex64 = cfloat = UnsupportedDtype("complex64", False, True)
complex128 = cdouble = UnsupportedDtype("complex128", False, True)


def unsupported(dtype, where):
    return DTypeError(f"{where}: chainrule has no {dtype.name} (NumPy has no such dtype); use float16, float32 or "
                      f"float64" + (" (and for mixed precision, autocast with dtype=float16 and a GradScaler)"
                                    if dtype.name == "bfloat16" else ""))


def is_dtype(x):
    """A dtype (chainrule's, NumPy's or a NumPy scalar type), as opposed to a size or a tensor."""
    return isinstance(x, (np.dtype, UnsupportedDtype)) or (isinstance(x, type) and issubclass(x, np.generic))


def canonical(dtype, where="tensor"):
    """Map any NumPy dtype onto a supported one (the unsigned ints torch lacks -> int64), or raise naming the op."""
    if isinstance(dtype, UnsupportedDtype):
        raise unsupported(dtype, where)
    dtype = np.dtype(dtype)
    if dtype in SUPPORTED:
        return dtype
    if dtype.kind in "iu":
        return int64
    raise DTypeError(f"{where}: unsupported dtype {dtype}; chainrule supports float16, float32, float64, "
                     f"int64, int32, int16, int8, uint8 and bool. Convert the data first, e.g. "
                     f"np.asarray(x, dtype=np.float32).")


def promote(a, b):
    """PyTorch's rule: a float beats an int or bool whatever their widths; otherwise NumPy's rule."""
    if a == b:
        return a
    fa, fb = a.kind == "f", b.kind == "f"
    if fa and not fb:
        return a
    if fb and not fa:
        return b
    return np.result_type(a, b)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def promote_operands(a, a_ndim, b, b_ndim):
    """torch's rule for two tensors: a 0-dim tensor beside one with dims counts like a number, setting the dtype
    only where its category (bool < int < float) is higher. float16 ⊕ 0-dim float64 is float16, uint8 ⊕ 0-dim
    int64 is uint8, int64 ⊕ 0-dim float64 is float64; otherwise `promote`."""
    if a == b:
        return a
    if (a_ndim == 0) == (b_ndim == 0):
        return promote(a, b)
    dims, zero = (a, b) if b_ndim == 0 else (b, a)
    return promote(dims, zero) if _CATEGORY[zero.kind] > _CATEGORY[dims.kind] else dims


def scalar_dtype(value, like):
    """Python scalars do not upcast: 2.0 * float16 stays float16; 2.5 * int64 becomes the default float."""
    if isinstance(value, bool):
        return like
    if isinstance(value, int):
        return like if like != bool_ else int64
    if like.kind == "f":
        return like
    return _default[0]


class FloatCasts:
    """PyTorch's shorthands for .to(dtype), shared by Tensor and Module (each defines its own .to); memory_format
    (torch's keyword for tensors) has no meaning for NumPy arrays and is accepted as a no-op."""
    __slots__ = ()

    def float(self, memory_format=None):
        return self.to(float32)

    def double(self, memory_format=None):
        return self.to(float64)

    def half(self, memory_format=None):
        return self.to(float16)


class IntCasts:
    """torch's integer shorthands for .to(dtype) (Tensor only: a Module's parameters stay floating point)."""
    __slots__ = ()

    def long(self, memory_format=None):
        return self.to(int64)

    def int(self, memory_format=None):
        return self.to(int32)

    def short(self, memory_format=None):
        return self.to(int16)

    def char(self, memory_format=None):
        return self.to(int8)

    def byte(self, memory_format=None):
        return self.to(uint8)


def finfo(dtype=None):
    """Limits of a float dtype (default: the default dtype): eps, max, min, tiny = smallest_normal, bits,
    resolution, as torch.finfo."""
    return np.finfo(canonical(dtype, "finfo") if dtype is not None else get_default_dtype())


def iinfo(dtype):
    """Limits of an integer dtype: min, max, bits."""
    return np.iinfo(dtype)
