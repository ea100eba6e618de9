"""Small helpers every op module shares: lifting Python scalars and arrays to tensors, dtype promotion."""
import functools

import numpy as np

from .. import dtypes
from ..errors import DTypeError, LinAlgError
from ..tensor import Tensor

_wrap = Tensor._wrap


def lift(x, like=None):
    """A Tensor for x. Python scalars take `like`'s dtype (they do not upcast), as in PyTorch."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, bool)) and like is not None:
        return _wrap(np.array(x, dtype=dtypes.scalar_dtype(x, like._data.dtype)))
    return Tensor(x) if not isinstance(x, np.ndarray) else _wrap(_canon(x))


def copied(out, input):
    """out, or a copy of it where it turned out a view of input (a reshape or transpose that moved nothing, an
    identity resize): for ops that torch documents as returning a new tensor, so writing into the result never
    changes the input."""
    return out.clone() if out is input or np.may_share_memory(out._data, input._data) else out


def linked_zero(*tensors):
    """A 0-d zero that depends on the tensors (a sum over an empty slice, so never NaN): added to a result that does
    not read them (A⁰'s identity), it keeps them in the graph with a zero gradient, as torch's results are."""
    total = tensors[0].reshape(-1)[:0].sum()
    for t in tensors[1:]:
        total = total + t.reshape(-1)[:0].sum()
    return total


def as_array(x):
    """The NumPy array behind x: a Tensor's data (no copy), or np.asarray of anything else (indices, masks, targets
    given as lists or arrays)."""
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def quiet_logaddexp(a, b):
    """np.logaddexp without NumPy's 'invalid value' note for a NaN operand: the NaN is the answer, as in torch."""
    with np.errstate(invalid="ignore"):
        return np.logaddexp(a, b)


def equal_or_both_nan(x, y):
    """x == y with NaN equal to NaN: the entries a max or min picked, when the pick is NaN (it propagates)."""
    same = x == y
    if x.dtype.kind == "f" and np.isnan(y).any():
        same |= np.isnan(x) & np.isnan(y)
    return same


def ntuple(value, n):
    """How sizes are given to conv and pool layers (kernel_size, stride, padding, dilation): an int (Python or NumPy)
    stands for the same value in each of the n dimensions, and so does a sequence of one (torch's (1,)); a longer
    sequence is taken as it is, as a tuple."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(value)
    return value * n if len(value) == 1 else value


def require_finite(name, a, routine):
    """Refuse non-finite input to a decomposition up front, as torch does, with the LinAlgError that names the op
    and counts the inf and nan entries: OpenBLAS's SVD of a matrix with nan can loop for ever instead of failing,
    and NumPy's Cholesky returns nan."""
    if not np.isfinite(a).all():
        raise LinAlgError.from_numpy(name, [a], np.linalg.LinAlgError(f"{routine} needs finite values"))


def refuse_float16(name, *arrays):
    """A LAPACK-backed op's named DTypeError for float16 input, before NumPy's bare TypeError."""
    if any(a.dtype == np.float16 for a in arrays):
        raise DTypeError.no_lapack(name, arrays)


def checked_decomposition(name, decompose, a, **options):
    """decompose(a, **options), an iterative LAPACK routine (np.linalg.svd, eigh), with its failure raised as a
    LinAlgError that names the op; non-finite input refused first (require_finite)."""
    require_finite(name, a, decompose.__name__)
    try:
        return decompose(a, **options)
    except np.linalg.LinAlgError as exc:
        raise LinAlgError.from_numpy(name, [a], exc) from None
    except TypeError as exc:
        if "unsupported in linalg" not in str(exc):
            raise
        raise DTypeError.no_lapack(name, [a]) from None


def _canon(arr):
    c = dtypes.canonical(arr.dtype, "tensor")
    return arr if c == arr.dtype else arr.astype(c)


def const(arr):
    """A constant (no grad) tensor around an array computed inside a backward formula."""
    return _wrap(arr)


def tensor_pair(a, b):
    """a and b as tensors of one dtype: a Python scalar takes the other's dtype, then both are promoted."""
    a = lift(a, b if isinstance(b, Tensor) else None)
    b = lift(b, a)
    return promote_pair(a, b) if a._data.dtype != b._data.dtype else (a, b)


def floating(input):
    """input itself if it is floating; an integer or bool tensor in the default float dtype, as torch's
    floating-point ops take them (NumPy would give float64, or keep the integers)."""
    if input._data.dtype.kind in "fc":
        return input
    from .elementwise import cast
    return cast(input, dtypes.get_default_dtype())


def lowest(dtype):
    """The value below every other of dtype: what a max pads with (-inf has no integer)."""
    if dtype.kind == "f":
        return float("-inf")
    return False if dtype.kind == "b" else int(np.iinfo(dtype).min)


def promote_pair(a, b):
    da, db = a._data.dtype, b._data.dtype
    if da == db:
        return a, b
    from .elementwise import cast
    d = dtypes.promote_operands(da, a._data.ndim, db, b._data.ndim)
    return (a if da == d else cast(a, d)), (b if db == d else cast(b, d))


_ALL_DIMS = [tuple(range(n)) for n in range(65)]


def norm_dim(dim, ndim, op):
    """dim as int, tuple or None -> tuple of non-negative axes; raises naming the op when out of range."""
    if dim is None:
        return _ALL_DIMS[ndim]
    if type(dim) is int and -ndim <= dim < ndim:   # the common case, without the general loop
        return (dim % ndim,)
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims "
                             f"(expected {-max(ndim, 1)} to {max(ndim, 1) - 1})")
        out.append(d % max(ndim, 1))
    # a 0-d tensor accepts dim 0 or -1 as torch's (generic code reduces over -1 whatever the rank), and there is
    # no axis to name: a reduction over () leaves the value, as torch's does
    return tuple(sorted(set(out))) if ndim else ()


def one_dim(dim, ndim, op):
    """The one axis an op along a dim works on (0 for a 0-d tensor, which takes dim 0 or -1); raises naming the op
    when out of range."""
    if type(dim) is int and -ndim <= dim < ndim:   # the common case, without norm_dim's general loop
        return dim % ndim
    axes = norm_dim(dim, ndim, op)   # the range check and its error
    return axes[0] if axes else 0


def scalar_as_vector(fn):
    """For ops along a dim that NumPy cannot run on a 0-d array: a 0-d input (and any 0-d tensor argument, an
    index or a source) runs as shape (1,), and the results come back 0-d, as torch's do."""
    @functools.wraps(fn)
    def along_dim(input, *args, **kwargs):
        if getattr(input, "ndim", 1):
            return fn(input, *args, **kwargs)
        def as_vector(a):
            return a.reshape(1) if isinstance(a, Tensor) and a.ndim == 0 else a
        out = fn(input.reshape(1), *map(as_vector, args), **{k: as_vector(v) for k, v in kwargs.items()})
        if isinstance(out, Tensor):
            return out.reshape(())
        return type(out)(*(o.reshape(()) for o in out))   # (values, indices)
    return along_dim


def keep_shape(shape, axes):
    """The shape of a reduction with keepdim=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduced_shape(shape, axes, keepdim):
    """The shape of a reduction over axes, with or without keepdim."""
    return keep_shape(shape, axes) if keepdim else tuple(n for i, n in enumerate(shape) if i not in axes)


def ones_where_zero(t):
    """t with its zero entries made 1, as a constant shift: a safe denominator (or base) for a backward formula
    whose value at 0 is masked or multiplied by 0 anyway, so that 0/0 or 0·∞ never makes a nan."""
    return t + const((t._data == 0).astype(t.dtype))
