"""torch's type objects that scripts name: `dtype` (for annotations and isinstance), `layout` and `memory_format`
values, the legacy tensor types (FloatTensor, LongTensor … as constructors, isinstance checks and .type()
arguments) and autograd.Variable, which today is the tensor itself."""
import numpy as np

from . import creation, dtypes
from .creation import layout, strided  # noqa: F401  (torch.layout, torch.strided: kept with the constructors)
from .tensor import Tensor

dtype = np.dtype   # isinstance(cr.float32, cr.dtype); `def f(x, dtype: torch.dtype = torch.float32)` evaluates it


class memory_format(str):
    """Accepted wherever torch takes memory_format=; NumPy arrays are row-major, so every format is a no-op."""

    def __repr__(self):
        return f"chainrule.{str.__str__(self)}"


contiguous_format, preserve_format = memory_format("contiguous_format"), memory_format("preserve_format")
channels_last, channels_last_3d = memory_format("channels_last"), memory_format("channels_last_3d")


class _LegacyType(type):
    """FloatTensor and kin: isinstance(x, FloatTensor) tests the dtype; calling one builds a tensor, from data
    (FloatTensor([1, 2])) or uninitialised from sizes (FloatTensor(2, 3))."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args):
        if len(args) == 1 and not isinstance(args[0], int):
            data = args[0]
            return (data.to(cls.dtype) if isinstance(data, Tensor) else creation.tensor(data, dtype=cls.dtype))
        return creation.empty(*args, dtype=cls.dtype)

    def __repr__(cls):
        return f"<class 'chainrule.{cls.__name__}'>"


def _legacy(name, dt):
    return _LegacyType(name, (), {"dtype": np.dtype(dt)})


LEGACY = {name: _legacy(name, dt) for name, dt in (
    ("FloatTensor", dtypes.float32), ("DoubleTensor", dtypes.float64), ("HalfTensor", dtypes.float16),
    ("LongTensor", dtypes.int64), ("IntTensor", np.int32), ("ShortTensor", np.int16), ("CharTensor", np.int8),
    ("ByteTensor", np.uint8), ("BoolTensor", np.bool_))}
_BY_NAME = {f"chainrule.{k}": v for k, v in LEGACY.items()}
_BY_NAME.update({f"torch.{k}": v for k, v in LEGACY.items()})


def type_name(dt):
    """A tensor's .type(): 'chainrule.FloatTensor' as torch's 'torch.FloatTensor', or 'chainrule.<dtype>' for a
    dtype without a legacy type (bfloat16, the unsigned ints)."""
    legacy = [name for name, cls in LEGACY.items() if cls.dtype == dt]
    return f"chainrule.{legacy[0] if legacy else np.dtype(dt).name}"


def legacy_dtype(t):
    """The dtype a legacy type (or its name, 'torch.FloatTensor') stands for; None if t is not one."""
    if isinstance(t, _LegacyType):
        return t.dtype
    if isinstance(t, str) and t in _BY_NAME:
        return _BY_NAME[t].dtype
    return None


def Variable(data, requires_grad=False, volatile=False):
    """torch.autograd.Variable: since torch 0.4 a Variable is a tensor; this returns `data` with requires_grad
    set (a tensor built from it when it is an array or a list)."""
    t = data if isinstance(data, Tensor) else creation.tensor(data)
    return t.requires_grad_(requires_grad) if requires_grad else t


def set_default_tensor_type(t):
    """torch.set_default_tensor_type(torch.DoubleTensor) (or its name): the default floating dtype."""
    dt = legacy_dtype(t)
    if dt is None or dt.kind != "f":
        raise TypeError(f"set_default_tensor_type: expected a floating tensor type such as DoubleTensor, got {t!r}")
    dtypes.set_default_dtype(dt)
