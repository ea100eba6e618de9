"""torch's remaining top-level functions, each a few lines over chainrule's ops: index helpers (unravel_index,
nonzero_static, put), norms and matrix helpers (nuclear_norm, frobenius_norm, norm_except_dim, cholesky_inverse,
mvlgamma), sampling (poisson, binomial), tensors from raw memory (frombuffer, empty_strided), and the autocast
queries. Differentiable where torch's are: they are built from differentiable ops."""
import numpy as np

from . import amp, creation, dtypes, linalg
from .ops.matfun import cholesky_solve
from .ops.index_write import _same_dtype_as_input
from .ops.inplace import _variant
from .ops.special import multigammaln
from .ops.stacking import split_with_sizes
from .random import _gen
from .tensor import Tensor


def unravel_index(indices, shape):
    """The coordinates of flat indices in a tensor of `shape`: a tuple of int64 tensors, one per dim."""
    flat = indices.numpy() if isinstance(indices, Tensor) else np.asarray(indices)
    if flat.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected integer indices, got {flat.dtype}")
    size = int(np.prod(shape))
    if flat.size and (flat.min() < -size or flat.max() >= size):
        raise RuntimeError(f"unravel_index: an index is out of range for a tensor of shape {tuple(shape)} "
                           f"({size} elements)")
    coords = np.unravel_index(np.where(flat < 0, flat + size, flat), tuple(shape))
    return tuple(creation.tensor(c.astype(np.int64)) for c in coords)


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero() padded with fill_value (or cut) to exactly `size` rows: a shape known before the data."""
    found = np.argwhere(input.numpy())
    out = np.full((size, input.ndim), fill_value, np.int64)
    out[:min(size, len(found))] = found[:size]
    return creation.tensor(out)


def put(input, index, source, accumulate=False):
    """input with the elements at flat positions `index` (as if input were 1-d) replaced by source, or increased
    by it with accumulate=True. source must have input's dtype, as torch requires."""
    _same_dtype_as_input("put", input, source, "source")
    flat = input.reshape(-1)
    idx = index.reshape(-1)
    return flat.index_put((idx,), source.reshape(-1), accumulate=accumulate).reshape(*input.shape)


def nuclear_norm(input, dim=(-2, -1), keepdim=False):
    """Σ singular values over the matrices in dim."""
    return linalg.matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim)


def frobenius_norm(input, dim=(-2, -1), keepdim=False):
    return linalg.matrix_norm(input, "fro", dim, keepdim)


def norm_except_dim(v, pow=2, dim=0):
    """‖v‖ₚ over every dim but `dim` (kept, with size-1 dims elsewhere); over everything when dim = -1."""
    if dim == -1:
        return v.norm(pow)
    dims = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return v.norm(pow, dim=dims, keepdim=True)


def cholesky_inverse(L, upper=False):
    """A⁻¹ for A = LLᵀ (UᵀU with upper=True), from its Cholesky factor."""
    eye = creation.eye(L.shape[-1], dtype=L.dtype).expand(*L.shape)
    return cholesky_solve(eye, L, upper)


def mvlgamma(input, p):
    """The multivariate log-gamma log Γₚ(x) (torch.mvlgamma = special.multigammaln)."""
    return multigammaln(input, p)


def poisson(input, generator=None):
    """A Poisson draw with rate `input` at every position (no gradient)."""
    rates = input.numpy()
    if (rates < 0).any():
        raise ValueError("poisson: the rates must be non-negative")
    return creation.tensor(_gen(generator).poisson(rates).astype(input.dtype))


def binomial(count, prob, generator=None):
    """A Binomial(count, prob) draw at every position (no gradient)."""
    p = prob.numpy()
    if ((p < 0) | (p > 1)).any():
        raise ValueError("binomial: prob must lie in [0, 1]")
    n = count.numpy() if isinstance(count, Tensor) else np.asarray(count)
    return creation.tensor(_gen(generator).binomial(n.astype(np.int64), p).astype(prob.dtype))


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d tensor over the bytes of `buffer` (bytes, bytearray, memoryview, array.array), shared where the
    buffer is writable."""
    arr = np.frombuffer(buffer, dtype=np.dtype(dtype), count=count, offset=offset)
    return Tensor._wrap(arr).requires_grad_(requires_grad) if requires_grad else Tensor._wrap(arr)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor of `size` (NumPy picks its own strides: they are a layout detail here)."""
    return creation.empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def is_autocast_enabled(device_type=None):
    return amp.autocast_dtype() is not None


def get_autocast_dtype(device_type="cpu"):
    return amp.autocast_dtype() or dtypes.float16


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """out = input with source's slices along dim reduced ('prod', 'mean', 'amax', 'amin') into the slices at
    `index` (Tensor.index_reduce)."""
    return input.index_reduce(dim, index, source, reduce, include_self=include_self)


def _removed_in_torch(name, instead):
    """torch 1.9 deprecated these and torch 2 removed them (calling one raises there): the same here, with the
    replacement, so that old code fails with directions rather than an AttributeError."""
    def removed(*args, **kwargs):
        raise RuntimeError(f"{name}: torch removed it (deprecated since 1.9; calling it raises there too); "
                           f"use {instead}")
    removed.__name__ = removed.__qualname__ = name
    return removed


_REMOVED = {
    "solve": "linalg.solve(A, B), whose arguments are reversed (torch.solve(B, A) was B's solution first)",
    "lstsq": "linalg.lstsq(A, B), whose arguments are reversed",
    "matrix_rank": "linalg.matrix_rank (its 'symmetric' is called 'hermitian')",
    "symeig": "linalg.eigh(A, UPLO='U' if upper else 'L'), or linalg.eigvalsh for the eigenvalues alone",
    "eig": "linalg.eigh for a symmetric matrix (chainrule has no complex dtype for linalg.eig)",
}


def is_distributed(input):
    """False: chainrule trains in one process (torch's answer for a tensor outside a process group)."""
    return False


def get_device(input):
    """-1: the CPU (torch's answer for a CPU tensor)."""
    return -1


Tensor.put = put
Tensor.mvlgamma = mvlgamma
Tensor.nonzero_static = nonzero_static
Tensor.cholesky_inverse = cholesky_inverse
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: creation.multinomial(
    self, num_samples, replacement, generator)
Tensor.new_empty_strided = lambda self, size, stride, *, dtype=None, **kw: empty_strided(
    size, stride, dtype=dtype or self.dtype, **kw)
Tensor.unsafe_chunk = Tensor.chunk
Tensor.unsafe_split = Tensor.split
Tensor.unsafe_split_with_sizes = Tensor.split_with_sizes
Tensor.is_distributed = is_distributed
Tensor.const_data_ptr = Tensor.data_ptr
for _name in ("put", "mvlgamma", "index_reduce", "nextafter"):   # x.put_(…) … as every other in-place variant
    setattr(Tensor, _name + "_", _variant(_name))

EXPORTS = {"unravel_index": unravel_index, "nonzero_static": nonzero_static, "put": put,
           "nuclear_norm": nuclear_norm, "frobenius_norm": frobenius_norm, "norm_except_dim": norm_except_dim,
           "cholesky_inverse": cholesky_inverse, "mvlgamma": mvlgamma, "poisson": poisson, "binomial": binomial,
           "frombuffer": frombuffer, "empty_strided": empty_strided, "is_autocast_enabled": is_autocast_enabled,
           "get_autocast_dtype": get_autocast_dtype, "get_device": get_device, "index_reduce": index_reduce,
           "unsafe_split_with_sizes": split_with_sizes, "init_num_threads": lambda: None,
           "is_distributed": is_distributed,
           **{name: _removed_in_torch(name, instead) for name, instead in _REMOVED.items()}}
