"""Tensor constructors with PyTorch's names and defaults (float32 unless told otherwise)."""
import numpy as np

from . import dtypes
from .random import _gen
from .tensor import Tensor, _to_array


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _make(arr, dtype, requires_grad):
    arr = arr.astype(dtypes.canonical(dtype) if dtype is not None else arr.dtype, copy=False)
    return Tensor._wrap(arr).requires_grad_(requires_grad) if requires_grad else Tensor._wrap(arr)


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of data; ints stay int64, Python floats become float32."""
    if isinstance(data, Tensor):
        data = data._data
    arr = _to_array(data, dtype, "tensor")
    if isinstance(data, np.ndarray) and arr is data:
        arr = arr.copy()
    t = Tensor._wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


def as_tensor(data, dtype=None):
    return data if isinstance(data, Tensor) and dtype is None else Tensor._wrap(_to_array(data, dtype, "as_tensor"))


def from_numpy(ndarray):
    """Shares memory with the array, as torch.from_numpy."""
    return Tensor._wrap(_to_array(ndarray, None, "from_numpy"))


def _default(dtype):
    return dtypes.get_default_dtype() if dtype is None else dtype


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_shape(size), _default(dtype)), None, requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_shape(size), _default(dtype)), None, requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _make(np.empty(_shape(size), _default(dtype)), None, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = dtypes.int64 if isinstance(fill_value, int) and not isinstance(fill_value, bool) else \
            dtypes.bool_ if isinstance(fill_value, bool) else dtypes.get_default_dtype()
    return _make(np.full(_shape((size,)), fill_value, dtype), None, requires_grad)


def zeros_like(input, dtype=None, requires_grad=False):
    return _make(np.zeros(input.shape, dtype or input.dtype), None, requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    return _make(np.ones(input.shape, dtype or input.dtype), None, requires_grad)


def empty_like(input, dtype=None, requires_grad=False):
    return _make(np.empty(input.shape, dtype or input.dtype), None, requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return _make(np.full(input.shape, fill_value, dtype or input.dtype), None, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_default(dtype)), None, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtype), None, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _make(np.linspace(start, end, steps, dtype=_default(dtype)), None, requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None):
    """Uniform on [0, 1)."""
    return _make(_gen(generator).random(_shape(size)), _default(dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None):
    """Standard normal."""
    return _make(_gen(generator).standard_normal(_shape(size)), _default(dtype), requires_grad)


def randint(low, high=None, size=None, dtype=None, generator=None):
    if high is None:
        low, high = 0, low
    return _make(_gen(generator).integers(low, high, _shape((size,))), dtype or dtypes.int64, False)


def randperm(n, generator=None):
    return Tensor._wrap(_gen(generator).permutation(n).astype(np.int64))


def rand_like(input, dtype=None):
    return rand(*input.shape, dtype=dtype or input.dtype)


def randn_like(input, dtype=None):
    return randn(*input.shape, dtype=dtype or input.dtype)


# ---- tensor.new_*: a new tensor with this one's dtype -------------------------------------------------------------
Tensor.new_zeros = lambda self, *size, dtype=None, requires_grad=False: zeros(
    *size, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_ones = lambda self, *size, dtype=None, requires_grad=False: ones(
    *size, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_empty = lambda self, *size, dtype=None, requires_grad=False: empty(
    *size, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_full = lambda self, size, fill_value, dtype=None, requires_grad=False: full(
    size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_tensor = lambda self, data, dtype=None, requires_grad=False: tensor(
    data, dtype=dtype or self.dtype, requires_grad=requires_grad)


# ---- sampling ------------------------------------------------------------------------------------------------------
def normal(mean, std, size=None, generator=None):
    """Samples of N(mean, std²): mean and std are tensors (broadcast together) or floats with a size."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise ValueError(f"normal: std must be ≥ 0, got {s}")
    shape = _shape((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    dtype = next((t.dtype for t in (mean, std) if isinstance(t, Tensor)), dtypes.get_default_dtype())
    return Tensor._wrap((m + s * _gen(generator).standard_normal(shape)).astype(dtype))


def bernoulli(input, generator=None):
    """1 with probability input (elementwise), else 0."""
    p = input._data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"bernoulli: probabilities must be in [0, 1], got values in [{p.min()}, {p.max()}]")
    return Tensor._wrap((_gen(generator).random(p.shape) < p).astype(p.dtype))


def multinomial(input, num_samples, replacement=False, generator=None):
    """Indices drawn from each row's (unnormalised, non-negative) weights, as torch.multinomial: (num_samples,)
    for a 1-d input, (rows, num_samples) for a 2-d one."""
    w = np.asarray(input._data, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-d or 2-d weights, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(1) <= 0).any():
        raise ValueError("multinomial: weights must be finite, non-negative, with a positive sum in each row")
    fewest = (rows > 0).sum(1).min()
    if not replacement and num_samples > fewest:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from a row with "
                         f"only {fewest} non-zero weights; pass replacement=True")
    rng = _gen(generator)
    out = np.stack([rng.choice(w.shape[-1], num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return Tensor._wrap(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))
