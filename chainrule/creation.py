"""Tensor constructors with PyTorch's names and defaults (float32 unless told otherwise).

Every constructor also takes torch's placement keywords (device=, layout=, pin_memory=, memory_format=), so that
`torch.zeros(n, device=x.device)` runs unchanged: the device must be the CPU (an error names any other), the layout
strided; pinning and memory formats have no meaning for NumPy arrays and are accepted as no-ops.
"""
import functools
import inspect
import warnings

import numpy as np

from . import devices, dtypes
from .random import _gen
from .tensor import Tensor, _to_array

class layout(str):
    """torch.layout's type; equal to its name, printed as chainrule.<name>."""

    def __repr__(self):
        return f"chainrule.{str.__str__(self)}"


strided = layout("strided")   # torch.strided: the one layout chainrule has


def _placement(fn):
    """Accept and check torch's placement keywords on top of fn's own arguments, and, for a factory that takes
    its sizes as varargs (zeros(2, 3)), torch's keyword for them too (zeros(size=(2, 3)))."""
    name = fn.__name__
    sized = any(p.kind is p.VAR_POSITIONAL and p.name == "size" for p in inspect.signature(fn).parameters.values())

    @functools.wraps(fn)
    def wrapper(*args, device=None, layout=None, pin_memory=False, memory_format=None, **kwargs):
        if sized and "size" in kwargs:
            if args:
                raise TypeError(f"{name}: give the size positionally or as size=, not both (got {args} and "
                                f"size={kwargs['size']})")
            args = (kwargs.pop("size"),)
        if device is not None:
            devices.check_cpu(device, name)
        if layout is not None and layout != strided:
            raise ValueError(f"{name}: only the strided layout exists here (dense NumPy arrays), got {layout!r}")
        if isinstance(kwargs.get("dtype"), dtypes.UnsupportedDtype):
            raise dtypes.unsupported(kwargs["dtype"], name)
        return fn(*args, **kwargs)
    return wrapper


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _make(arr, dtype, requires_grad):
    arr = arr.astype(dtypes.canonical(dtype) if dtype is not None else arr.dtype, copy=False)
    return Tensor._wrap(arr).requires_grad_(requires_grad) if requires_grad else Tensor._wrap(arr)


@_placement
def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of data; ints stay int64, Python floats become float32."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, use x.detach().clone() (or .requires_grad_(True) on that), "
                      "rather than cr.tensor(x): the copy never carries x's graph", UserWarning, stacklevel=2)
        data = data._data
    arr = _to_array(data, dtype, "tensor")
    if isinstance(data, np.ndarray) and arr is data:
        arr = arr.copy()
    t = Tensor._wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


@_placement
def as_tensor(data, dtype=None):
    return data if isinstance(data, Tensor) and dtype is None else Tensor._wrap(_to_array(data, dtype, "as_tensor"))


def from_numpy(ndarray):
    """Shares memory with the array, as torch.from_numpy."""
    return Tensor._wrap(_to_array(ndarray, None, "from_numpy"))


def _default(dtype):
    return dtypes.get_default_dtype() if dtype is None else dtype


@_placement
def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_shape(size), _default(dtype)), None, requires_grad)


@_placement
def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_shape(size), _default(dtype)), None, requires_grad)


@_placement
def empty(*size, dtype=None, requires_grad=False):
    return _make(np.empty(_shape(size), _default(dtype)), None, requires_grad)


@_placement
def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = dtypes.int64 if isinstance(fill_value, int) and not isinstance(fill_value, bool) else \
            dtypes.bool_ if isinstance(fill_value, bool) else dtypes.get_default_dtype()
    return _make(np.full(_shape((size,)), fill_value, dtype), None, requires_grad)


@_placement
def zeros_like(input, dtype=None, requires_grad=False):
    return _make(np.zeros(input.shape, dtype or input.dtype), None, requires_grad)


@_placement
def ones_like(input, dtype=None, requires_grad=False):
    return _make(np.ones(input.shape, dtype or input.dtype), None, requires_grad)


@_placement
def empty_like(input, dtype=None, requires_grad=False):
    return _make(np.empty(input.shape, dtype or input.dtype), None, requires_grad)


@_placement
def full_like(input, fill_value, dtype=None, requires_grad=False):
    return _make(np.full(input.shape, fill_value, dtype or input.dtype), None, requires_grad)


@_placement
def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_default(dtype)), None, requires_grad)


@_placement
def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtype), None, requires_grad)


@_placement
def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _make(np.linspace(start, end, steps, dtype=_default(dtype)), None, requires_grad)


@_placement
def rand(*size, dtype=None, requires_grad=False, generator=None):
    """Uniform on [0, 1)."""
    return _make(_gen(generator).random(_shape(size)), _default(dtype), requires_grad)


@_placement
def randn(*size, dtype=None, requires_grad=False, generator=None):
    """Standard normal."""
    return _make(_gen(generator).standard_normal(_shape(size)), _default(dtype), requires_grad)


@_placement
def randint(low, high=None, size=None, dtype=None, generator=None, requires_grad=False):
    """Integers drawn uniformly from [low, high) (torch's overloads: randint(high, size) and randint(low, high,
    size); size () gives a 0-d tensor)."""
    if isinstance(high, (tuple, list)) and size is None:   # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: size is required (randint(high, size) or randint(low, high, size))")
    return _make(_gen(generator).integers(low, high, _shape((size,))), dtype or dtypes.int64, requires_grad)


@_placement
def randperm(n, generator=None, dtype=None, requires_grad=False):
    return _make(_gen(generator).permutation(n), dtype or dtypes.int64, requires_grad)


@_placement
def rand_like(input, dtype=None, requires_grad=False):
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


@_placement
def randn_like(input, dtype=None, requires_grad=False):
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


@_placement
def randint_like(input, low=0, high=None, dtype=None, generator=None):
    """Integers drawn uniformly from [low, high) in input's shape (randint_like(x, high) reads low = 0)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, generator=generator)


@_placement
def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False):
    """steps points base^x for x evenly spaced from start to end (both included)."""
    return _make(np.logspace(start, end, steps, base=base, dtype=np.float64), _default(dtype), requires_grad)


@_placement
def float_range(start=0, end=None, step=1, dtype=None, requires_grad=False):
    """torch.range (deprecated in torch for arange): start, start+step, … up to and including end, float."""
    if end is None:
        start, end = 0, start
    count = int(np.floor((end - start) / step)) + 1
    return _make(start + step * np.arange(max(count, 0), dtype=np.float64), _default(dtype), requires_grad)


@_placement
def scalar_tensor(s, dtype=None, requires_grad=False):
    """A 0-d tensor holding s, float32 by default whatever s is (torch.scalar_tensor)."""
    return _make(np.asarray(s, dtype=np.float64 if not isinstance(s, bool) else bool), _default(dtype),
                 requires_grad)


@_placement
def asarray(obj, dtype=None, copy=None, requires_grad=False):
    """A tensor over obj: shares memory with a NumPy array or tensor of the same dtype unless copy=True
    (torch.asarray); copy=False where a copy is unavoidable is an error."""
    data = obj._data if isinstance(obj, Tensor) else obj
    arr = _to_array(data, dtype, "asarray")
    if copy is False and isinstance(data, np.ndarray) and not np.shares_memory(arr, data):
        raise ValueError(f"asarray: copy=False but the {data.dtype} data must be copied to become {arr.dtype}")
    return _make(arr.copy() if copy else arr, None, requires_grad)


def _triangle_indices(row, col, offset, lower, name, dtype):
    if row < 0 or col < 0:
        raise ValueError(f"{name}: row and col must be ≥ 0, got {row} and {col}")
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return _make(np.stack([r, c]), dtype or dtypes.int64, False)


@_placement
def tril_indices(row, col, offset=0, dtype=None):
    """The (2, N) row and column indices of the lower triangle of a row × col matrix (diagonal `offset`
    included), row by row: what m[tuple(idx)] reads."""
    return _triangle_indices(row, col, offset, True, "tril_indices", dtype)


@_placement
def triu_indices(row, col, offset=0, dtype=None):
    """The (2, N) indices of the upper triangle, from diagonal `offset` up, row by row."""
    return _triangle_indices(row, col, offset, False, "triu_indices", dtype)


# ---- signal windows (torch.*_window): periodic=True drops the last point of a window of length N + 1 ----------------
def _window(name, n, periodic, dtype, requires_grad, shape_fn):
    if n < 0:
        raise ValueError(f"{name}: window_length must be ≥ 0, got {n}")
    if n <= 1:
        return _make(np.ones(n), _default(dtype), requires_grad)
    m = n + 1 if periodic else n
    return _make(shape_fn(m)[:n], _default(dtype), requires_grad)


def _cosine_sum(*coefs):
    """w[k] = Σ_j (-1)^j a_j cos(2πjk / (M-1)), the family Hann, Hamming and Blackman belong to."""
    def shape(m):
        k = np.arange(m) * (2 * np.pi / (m - 1))
        return sum((-1) ** j * a * np.cos(j * k) for j, a in enumerate(coefs))
    return shape


@_placement
def hann_window(window_length, periodic=True, dtype=None, requires_grad=False):
    """½ - ½cos(2πk/(M-1))."""
    return _window("hann_window", window_length, periodic, dtype, requires_grad, _cosine_sum(0.5, 0.5))


@_placement
def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, dtype=None, requires_grad=False):
    """α - βcos(2πk/(M-1))."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad, _cosine_sum(alpha, beta))


@_placement
def blackman_window(window_length, periodic=True, dtype=None, requires_grad=False):
    """0.42 - 0.5cos(2πk/(M-1)) + 0.08cos(4πk/(M-1))."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, _cosine_sum(0.42, 0.5, 0.08))


@_placement
def bartlett_window(window_length, periodic=True, dtype=None, requires_grad=False):
    """The triangle 1 - |2k/(M-1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad,
                   lambda m: 1 - np.abs(2 * np.arange(m) / (m - 1) - 1))


@_placement
def kaiser_window(window_length, periodic=True, beta=12.0, dtype=None, requires_grad=False):
    """I₀(β√(1 - (2k/(M-1) - 1)²)) / I₀(β), I₀ the modified Bessel function of order 0."""
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad,
                   lambda m: np.i0(beta * np.sqrt(1 - (2 * np.arange(m) / (m - 1) - 1) ** 2)) / np.i0(beta))


# ---- tensor.new_*: a new tensor with this one's dtype -------------------------------------------------------------
Tensor.new_zeros = lambda self, *size, dtype=None, **kw: zeros(*size, dtype=dtype or self.dtype, **kw)
Tensor.new_ones = lambda self, *size, dtype=None, **kw: ones(*size, dtype=dtype or self.dtype, **kw)
Tensor.new_empty = lambda self, *size, dtype=None, **kw: empty(*size, dtype=dtype or self.dtype, **kw)
Tensor.new_full = lambda self, size, fill_value, dtype=None, **kw: full(
    size, fill_value, dtype=dtype or self.dtype, **kw)
Tensor.new_tensor = lambda self, data, dtype=None, **kw: tensor(data, dtype=dtype or self.dtype, **kw)


# ---- sampling ------------------------------------------------------------------------------------------------------
@_placement
def normal(mean, std, size=None, generator=None, dtype=None, requires_grad=False):
    """Samples of N(mean, std²): mean and std are tensors (broadcast together) or floats with a size."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise ValueError(f"normal: std must be ≥ 0, got {s}")
    shape = _shape((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    if dtype is None:
        dtype = next((t.dtype for t in (mean, std) if isinstance(t, Tensor)), dtypes.get_default_dtype())
    return _make(m + s * _gen(generator).standard_normal(shape), dtype, requires_grad)


@_placement
def bernoulli(input, generator=None):
    """1 with probability input (elementwise), else 0."""
    p = input._data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"bernoulli: probabilities must be in [0, 1], got values in [{p.min()}, {p.max()}]")
    return Tensor._wrap((_gen(generator).random(p.shape) < p).astype(p.dtype))


@_placement
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
