"""Tensor's queries and in-place fills that torch code reaches for and that are not ops: memory layout (stride,
storage_offset, element_size, data_ptr), dtype predicates, the random in-place fills (random_, bernoulli_,
exponential_, …), and a few aliases. Nothing here records a graph node."""
import math

import numpy as np

from . import creation, dtypes
from .autograd import engine
from .autograd.grad_mode import bump_version
from .errors import DTypeError
from .ops.registry import tensor_method
from .random import _gen
from .storage import owner, storage, untyped_storage
from .tensor import Tensor

_wrap = Tensor._wrap


# ---- memory layout ----------------------------------------------------------------------------------------------
@tensor_method("stride")
def stride(self, dim=None):
    """Steps in elements (not bytes, as NumPy's strides) between neighbours along each dim."""
    arr = self._data
    steps = tuple(s // arr.itemsize for s in arr.strides)
    return steps if dim is None else steps[dim]


@tensor_method("storage_offset")
def storage_offset(self):
    """Where this tensor's first element sits in the memory it shares with the tensor it is a view of, in
    elements (0 for a tensor that owns its memory)."""
    arr = self._data
    root = owner(arr)
    if root is arr:
        return 0
    return (arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // arr.itemsize


Tensor.data_ptr = lambda self: self._data.__array_interface__["data"][0]
Tensor.element_size = lambda self: self._data.itemsize
Tensor.nbytes = property(lambda self: self._data.nbytes)
Tensor.itemsize = property(lambda self: self._data.itemsize)
Tensor.ndimension = lambda self: self._data.ndim
Tensor.nelement = lambda self: self._data.size
Tensor.is_cpu = property(lambda self: True)
Tensor.get_device = lambda self: -1   # torch's answer for a CPU tensor


# ---- dtype predicates ---------------------------------------------------------------------------------------------
def is_floating_point(input):
    return input._data.dtype.kind == "f"


def is_complex(input):
    return input._data.dtype.kind == "c"


def is_signed(input):
    return input._data.dtype.kind in "if"


def is_nonzero(input):
    """The truth of a one-element tensor (torch.is_nonzero); anything larger is an error, as in torch."""
    if input._data.size != 1:
        raise RuntimeError(f"is_nonzero: a tensor with {input._data.size} elements has no single truth value; "
                           f"use .any() or .all()")
    return bool(input._data.reshape(()))


def is_same_size(input, other):
    return input.shape == other.shape


for _f in (is_floating_point, is_complex, is_signed, is_nonzero, is_same_size):
    setattr(Tensor, _f.__name__, _f)


def promote_types(type1, type2):
    """The dtype an op on these two dtypes returns (torch's promotion rule: a float beats any int)."""
    return dtypes.promote(dtypes.canonical(type1, "promote_types"), dtypes.canonical(type2, "promote_types"))


def result_type(tensor, other):
    """The dtype of an op on these operands; Python scalars do not upcast a tensor, as torch.result_type."""
    def kind(x):
        return x._data.dtype if isinstance(x, Tensor) else None
    a, b = kind(tensor), kind(other)
    if a is None and b is None:
        return dtypes.promote(dtypes.canonical(np.asarray(tensor).dtype), dtypes.canonical(np.asarray(other).dtype))
    if a is None:
        return dtypes.scalar_dtype(tensor, b)
    if b is None:
        return dtypes.scalar_dtype(other, a)
    return dtypes.promote_operands(a, tensor.ndim, b, other.ndim)


def can_cast(from_, to):
    """Whether torch allows an implicit cast (as for an in-place op's result): float → int and anything → bool
    are refused, everything else allowed."""
    f, t = np.dtype(from_), np.dtype(to)
    if t.kind == "b":
        return f.kind == "b"
    if t.kind in "iu":
        return f.kind in "iub"
    return True


# ---- random fills, in place -------------------------------------------------------------------------------------
def _fill(self, values):
    return self.copy_(_wrap(np.asarray(values).astype(self._data.dtype, copy=False)))


@tensor_method("random_")
def random_(self, from_=0, to=None, *, generator=None):
    """Integers drawn uniformly from [from, to - 1]; random_(to) means [0, to - 1]; with no bound, [0, 2^mantissa]
    for floats and the dtype's range for ints, as torch."""
    if to is None and from_ != 0:
        from_, to = 0, from_
    if to is None:
        dt = self._data.dtype
        to = (2 ** (np.finfo(dt).nmant + 1) + 1) if dt.kind == "f" else (int(np.iinfo(dt).max) + 1 if dt.kind != "b" else 2)
    if to <= from_:
        raise ValueError(f"random_: expects from < to, got from={from_}, to={to}")
    return _fill(self, _gen(generator).integers(from_, to, self.shape))


@tensor_method("bernoulli_")
def bernoulli_(self, p=0.5, *, generator=None):
    """1 with probability p (a number or a tensor of probabilities), else 0."""
    prob = p._data if isinstance(p, Tensor) else p
    if np.any(np.asarray(prob) < 0) or np.any(np.asarray(prob) > 1):
        raise ValueError(f"bernoulli_: p must be in [0, 1], got {prob}")
    return _fill(self, _gen(generator).random(self.shape) < prob)


@tensor_method("exponential_")
def exponential_(self, lambd=1.0, *, generator=None):
    """Draws from the exponential distribution with rate λ: density λe^(-λx)."""
    if lambd <= 0:
        raise ValueError(f"exponential_: lambd must be > 0, got {lambd}")
    return _fill(self, _gen(generator).exponential(1 / lambd, self.shape))


@tensor_method("geometric_")
def geometric_(self, p, *, generator=None):
    """The number of Bernoulli(p) trials up to and including the first success: 1, 2, …"""
    if not 0 < p <= 1:
        raise ValueError(f"geometric_: p must be in (0, 1], got {p}")
    return _fill(self, _gen(generator).geometric(p, self.shape))


@tensor_method("log_normal_")
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """e^X with X normal(mean, std)."""
    return _fill(self, _gen(generator).lognormal(mean, std, self.shape))


@tensor_method("cauchy_")
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """median + σ·tan(π(U - ½)), U uniform: the Cauchy distribution."""
    return _fill(self, median + sigma * np.tan(math.pi * (_gen(generator).random(self.shape) - 0.5)))


@tensor_method("apply_")
def apply_(self, callable):
    """Replace each element x by callable(x), a Python function of one number (slow: one call per element)."""
    return _fill(self, np.vectorize(callable, otypes=[self._data.dtype])(self._data))


@tensor_method("map_")
def map_(self, tensor, callable):
    """Replace each element x by callable(x, y), y the matching element of `tensor` (broadcast to self)."""
    other = np.broadcast_to(tensor._data, self._data.shape)
    return _fill(self, np.vectorize(callable, otypes=[self._data.dtype])(self._data, other))


# ---- aliases torch keeps for real tensors ------------------------------------------------------------------------
def _real_only(name):
    def fn(self):
        if self._data.dtype.kind == "c":
            raise DTypeError(f"{name}: complex tensors are not supported")
        return self
    return fn


Tensor.conj = Tensor.resolve_conj = Tensor.resolve_neg = _real_only("conj")
Tensor.conj_physical = Tensor.conj_physical_ = _real_only("conj_physical")   # self for a real tensor, as torch
Tensor.real = property(_real_only("real"))
Tensor.H = property(lambda self: self.T)
Tensor.mH = property(lambda self: self.mT)
Tensor.adjoint = lambda self: self.mT
Tensor.greater = Tensor.gt
Tensor.less = Tensor.lt
Tensor.greater_equal = Tensor.ge
Tensor.less_equal = Tensor.le
Tensor.not_equal = Tensor.ne


@tensor_method("fill_diagonal_")
def fill_diagonal_(self, fill_value, wrap=False):
    """Set the main diagonal (entries with all indices equal) to fill_value, in place. A tall matrix's diagonal
    restarts below every N+1 rows with wrap=True, as torch's and NumPy's fill_diagonal."""
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise ValueError(f"fill_diagonal_: needs a matrix or a tensor with all dims equal, got shape {self.shape}")
    on_diagonal = np.zeros(self.shape, bool)
    np.fill_diagonal(on_diagonal, True, wrap=wrap)
    return self._write("fill_diagonal_", fill_value, on_diagonal)


# ---- memory placement: one process on the CPU, so pinning and sharing change nothing --------------------------
Tensor.pin_memory = lambda self, device=None: self
Tensor.is_pinned = lambda self, device=None: False
Tensor.share_memory_ = lambda self: self
Tensor.is_shared = lambda self: False


# ---- the rest of torch.Tensor's surface: predicates that are False on a dense CPU array, legacy constructors,
# ---- resizing, and thin forwards to functions that live elsewhere ---------------------------------------------
Tensor.greater_, Tensor.less_, Tensor.greater_equal_ = Tensor.gt_, Tensor.lt_, Tensor.ge_
Tensor.less_equal_, Tensor.not_equal_ = Tensor.le_, Tensor.ne_
for _name in ("is_meta", "is_sparse", "is_sparse_csr", "is_quantized", "is_mps", "is_xpu", "is_mkldnn", "is_nested",
              "is_ipu", "is_xla", "is_vulkan", "is_mtia", "is_maia"):
    setattr(Tensor, _name, property(lambda self: False))
Tensor.is_conj = Tensor.is_neg = Tensor.is_inference = lambda self: False
Tensor.layout = property(lambda self: creation.strided)
Tensor.output_nr = property(lambda self: self._out_idx)
Tensor.name = None          # named tensors are not supported: every dim is unnamed
Tensor.to_dense = lambda self, dtype=None, *, masked_grad=None: self if dtype is None else self.to(dtype)


@tensor_method("dim_order")
def dim_order(self):
    """The dims from outermost to innermost in memory (by stride)."""
    strides = self.stride()
    return tuple(sorted(range(self.ndim), key=lambda d: (-strides[d], d)))


@tensor_method("new")
def new(self, *args):
    """The legacy x.new(...): x.new([1, 2]) builds from data, x.new(2, 3) is uninitialised, both with x's dtype."""
    if len(args) == 1 and not isinstance(args[0], int):
        data = args[0]._data if isinstance(args[0], type(self)) else args[0]   # (no copy-construct warning)
        return creation.tensor(data, dtype=self.dtype)
    return creation.empty(*args, dtype=self.dtype)


@tensor_method("bernoulli")
def bernoulli(self, p=None, *, generator=None):
    """Draws of 0/1 with probability self (or p), in self's dtype; no gradient."""
    probs = self._data if p is None else np.broadcast_to(np.asarray(p, self._data.dtype), self.shape)
    if ((probs < 0) | (probs > 1)).any():
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    return _wrap((_gen(generator).random(self.shape) < probs).astype(self._data.dtype))


@tensor_method("resize_")
def resize_(self, *sizes, size=None, memory_format=None):
    """Change the shape in place, keeping the first elements in row-major order; new ones are uninitialised
    (zeros here). A tensor that requires grad cannot be resized (its graph would refer to the old shape)."""
    sizes = sizes if size is None else (size,)
    shape = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else tuple(sizes)
    if self.requires_grad:
        raise RuntimeError("resize_: cannot resize a tensor that requires grad; resize a detached copy")
    flat = np.zeros(int(np.prod(shape, dtype=np.int64)), self._data.dtype)
    keep = min(flat.size, self._data.size)
    flat[:keep] = self._data.reshape(-1)[:keep]
    self._data = flat.reshape(shape)
    self._version = bump_version()
    return self


Tensor.resize_as_ = lambda self, the_template, memory_format=None: self.resize_(the_template.shape)


@tensor_method("set_")
def set_(self, source=None, *args):
    """Make self share source's data (shape included); with no source, an empty tensor."""
    if self.requires_grad and self.grad_fn is None:
        raise RuntimeError("set_: cannot change the data of a leaf tensor that requires grad in place")
    self._data = source._data if isinstance(source, Tensor) else np.empty(0, self._data.dtype)
    self._version = bump_version()
    return self


Tensor.is_set_to = lambda self, tensor: self._data is tensor._data or (
    self._data.shape == tensor._data.shape and self._data.strides == tensor._data.strides and
    self._data.__array_interface__["data"][0] == tensor._data.__array_interface__["data"][0])
Tensor.narrow_copy = lambda self, dim, start, length: self.narrow(dim, start, length).clone()


@tensor_method("index_reduce")
def index_reduce(self, dim, index, source, reduce, *, include_self=True):
    """Reduce the slices of source into self's slices at `index` along dim ('prod', 'mean', 'amax', 'amin'):
    scatter_reduce with the index spread over source's other dims."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ValueError(f"index_reduce: reduce must be 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")
    if self.ndim == 0:   # as a (1,) vector, as torch takes it
        return index_reduce(self.reshape(1), dim, index.reshape(-1), source.reshape(-1), reduce,
                            include_self=include_self).reshape(())
    from .ops._util import one_dim
    axis = one_dim(dim, self.ndim, "index_reduce")
    shape = [1] * source.ndim
    shape[axis] = -1
    spread = index.reshape(*shape).expand(*source.shape)
    return self.scatter_reduce(axis, spread, source, reduce, include_self=include_self)


def _unsupported_dtype(name):
    def method(self, *args, **kwargs):
        raise DTypeError(f"Tensor.{name}(): chainrule has no {name} dtype (NumPy has none); use float16, float32 or "
                         f"float64")
    return method


for _name in ("bfloat16", "cfloat", "cdouble", "chalf"):
    setattr(Tensor, _name, _unsupported_dtype(_name))

Tensor.storage = storage
Tensor.untyped_storage = untyped_storage


def _grad_dtype_get(self):
    """The dtype backward casts this leaf's gradient to (torch 2.13's Tensor.grad_dtype): by default the tensor's
    own; set it to keep float32 gradients for float16 weights, or to None to keep whatever dtype arrives."""
    if self.grad_fn is not None:
        raise RuntimeError("grad_dtype can only be accessed on leaf tensors (this one has a grad_fn); its gradient "
                           "is never accumulated, so it has no grad dtype")
    return engine.grad_dtype(self)


def _grad_dtype_set(self, dtype):
    if self.grad_fn is not None:
        raise RuntimeError("grad_dtype can only be set on leaf tensors (this one has a grad_fn)")
    if dtype is not None and not dtypes.is_dtype(dtype):
        raise TypeError(f"grad_dtype must be a dtype (e.g. chainrule.float32) or None, but got "
                        f"{type(dtype).__name__}")
    engine.set_grad_dtype(self, None if dtype is None else dtypes.canonical(dtype, "grad_dtype"))


Tensor.grad_dtype = property(_grad_dtype_get, _grad_dtype_set)
