"""torch's stacking, splitting and windowing helpers (hstack, tensor_split, atleast_2d, broadcast_tensors,
Tensor.unfold, take, combinations, …), each a composition of registered ops (cat, indexing, index_select,
reshape, flip), so they differentiate through those ops and need no backward of their own."""
import itertools

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from ._util import as_array, one_dim
from .arrange import movedim
from .index import index_select
from .linalg import diag
from .registry import T, register, sample
from .shape import cat, expand, flip, reshape, transpose

_wrap = Tensor._wrap


def _tensors(tensors, op):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError(f"{op}: expects at least one tensor")
    return tensors


# ---- dims ---------------------------------------------------------------------------------------------------------
def _to_1d(t):
    return t.reshape(1) if t.ndim == 0 else t


def _to_2d(t):
    return t.reshape(1, -1) if t.ndim < 2 else t


def _to_3d(t):
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1, 1)
    return t.unsqueeze(-1) if t.ndim == 2 else t


def _atleast(lift, tensors, op):
    """lift applied to each tensor: one tensor in, one out, else a tuple (torch's atleast_*d)."""
    out = tuple(lift(t) for t in _tensors(tensors, op))
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else out


def atleast_1d(*tensors):
    """Each tensor with at least one dim (a 0-d one becomes (1,))."""
    return _atleast(_to_1d, tensors, "atleast_1d")


def atleast_2d(*tensors):
    """(n,) → (1, n), 0-d → (1, 1); two or more dims unchanged."""
    return _atleast(_to_2d, tensors, "atleast_2d")


def atleast_3d(*tensors):
    """(n,) → (1, n, 1), (m, n) → (m, n, 1), 0-d → (1, 1, 1), as NumPy and torch."""
    return _atleast(_to_3d, tensors, "atleast_3d")


def broadcast_shapes(*shapes):
    """The shape all of `shapes` broadcast to (NumPy's rule), or a ShapeError that lists them."""
    try:
        return tuple(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {list(shapes)} do not broadcast: compared from the right, each "
                         f"pair of dims must be equal or 1") from None


def broadcast_tensors(*tensors):
    """Views of all tensors expanded to their common shape; gradients sum back over the expanded dims."""
    tensors = _tensors(tensors, "broadcast_tensors")
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(t if t.shape == shape else expand(t, shape) for t in tensors)


def t(input):
    """The transpose of a matrix; a 0-d or 1-d tensor comes back as it is, as a new view (torch.t)."""
    if input.ndim > 2:
        raise ShapeError(f"t: expects a tensor with at most 2 dims, got shape {input.shape}; use transpose(dim0, "
                         f"dim1) or .mT for batches of matrices")
    return transpose(input, 0, 1 if input.ndim == 2 else 0)   # 0 or 1 dims: a new view of it


def sum_to_size(input, *size):
    """Sum over the dims that broadcasting would have stretched, so the result has `size`."""
    from ..autograd.engine import sum_to_shape
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    try:
        fits = np.broadcast_shapes(size, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"sum_to_size: size {size} is not expandable to the tensor's shape {input.shape}")
    return sum_to_shape(input, size)


# ---- stacking ---------------------------------------------------------------------------------------------------
def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-d tensors)."""
    ts = [_to_1d(t) for t in _tensors(tuple(tensors), "hstack")]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0 after atleast_2d: 1-d tensors become rows."""
    return cat([_to_2d(t) for t in _tensors(tuple(tensors), "vstack")], 0)


def dstack(tensors):
    """Concatenate along dim 2 after atleast_3d (depth-wise)."""
    return cat([_to_3d(t) for t in _tensors(tuple(tensors), "dstack")], 2)


def column_stack(tensors):
    """0-d and 1-d tensors become columns (n, 1); then concatenate along dim 1."""
    cols = [t.reshape(-1, 1) if t.ndim < 2 else t for t in _tensors(tuple(tensors), "column_stack")]
    return cat(cols, 1)


row_stack = vstack


# ---- splitting --------------------------------------------------------------------------------------------------
def _sections_or_indices(op, indices_or_sections, sections, indices):
    """The one split spec given: positionally, or by torch's keywords sections= (a count) or indices= (a list)."""
    given = [v for v in (indices_or_sections, sections, indices) if v is not None]
    if len(given) != 1:
        raise TypeError(f"{op}: give one of indices_or_sections (positionally), sections= or indices=; got "
                        f"{len(given)}")
    return given[0]


def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """n sections (the first n mod k one longer: sizes differ by at most one) or a list of split indices, as
    NumPy's array_split; views of input, so gradients flow back into place."""
    d = one_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    spec = _sections_or_indices("tensor_split", indices_or_sections if tensor_indices_or_sections is None
                                else tensor_indices_or_sections, sections, indices)
    if isinstance(spec, Tensor):
        spec = spec.tolist()
    if isinstance(spec, (int, np.integer)):
        if spec < 1:
            raise ValueError(f"tensor_split: the number of sections must be ≥ 1, got {spec}")
        size, extra = divmod(n, int(spec))
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (int(spec) - extra)).tolist()
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else int(i) + n, 0), n) for i in spec] + [n]
    index = [slice(None)] * input.ndim
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index[d] = slice(lo, max(lo, hi))
        out.append(input[tuple(index)])
    return tuple(out)


def _direction_split(name, dim, min_dims):
    def fn(input, indices_or_sections=None, *, sections=None, indices=None):
        indices_or_sections = _sections_or_indices(name, indices_or_sections, sections, indices)
        if input.ndim < min_dims:
            raise ShapeError(f"{name}: needs a tensor with at least {min_dims} dims, got shape {input.shape}")
        d = dim if input.ndim > 1 or name != "hsplit" else 0
        if isinstance(indices_or_sections, int) and input.shape[d] % indices_or_sections:
            raise ShapeError(f"{name}: dim {d} of size {input.shape[d]} does not split into "
                             f"{indices_or_sections} equal sections; pass split indices, or use tensor_split")
        return tensor_split(input, indices_or_sections, d)
    fn.__name__ = name
    fn.__doc__ = f"tensor_split along dim {dim}, requiring equal sections when given a number."
    return fn


hsplit = _direction_split("hsplit", 1, 1)
vsplit = _direction_split("vsplit", 0, 2)
dsplit = _direction_split("dsplit", 2, 3)


def split_with_sizes(input, split_sizes, dim=0):
    return input.split(list(split_sizes), dim)


# ---- picking and windows ----------------------------------------------------------------------------------------
def take(input, index):
    """input as if flattened, indexed by `index` (any shape; negatives count from the end)."""
    idx = as_array(index)
    n = input.numel()
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError(f"take: index out of range for a tensor of {n} elements (got {idx.min()} … {idx.max()})")
    flat = index_select(reshape(input, -1), 0, _wrap((idx % max(n, 1)).reshape(-1).astype(np.int64)))
    return reshape(flat, idx.shape)


def unfold(input, dimension, size, step):
    """Tensor.unfold: every window of `size` elements along `dimension`, `step` apart, in a new last dim:
    dim of length L becomes (L - size) // step + 1 windows."""
    d = one_dim(dimension, max(input.ndim, 1), "unfold")
    x = input.reshape(1) if input.ndim == 0 else input
    length = x.shape[d]
    if input.ndim == 0 and 0 <= size <= 1 and step >= 1:
        return x[:size]   # torch: a 0-d tensor's one window is the (size,) tensor
    if size > length or size < 0 or step < 1:
        raise ShapeError(f"unfold: windows of size {size} with step {step} do not fit dim {d} of length {length} "
                         f"(need 0 ≤ size ≤ {length}, step ≥ 1)")
    windows = (length - size) // step + 1
    picks = (np.arange(windows)[:, None] * step + np.arange(size)).reshape(-1)
    out = index_select(x, d, _wrap(picks))
    out = out.reshape(*x.shape[:d], windows, size, *x.shape[d + 1:])
    return movedim(out, d + 1, -1)


def fliplr(input):
    """Reverse the columns (dim 1) of a tensor with at least 2 dims."""
    if input.ndim < 2:
        raise ShapeError(f"fliplr: needs at least 2 dims, got shape {input.shape}")
    return flip(input, [1])


def flipud(input):
    """Reverse the rows (dim 0)."""
    if input.ndim < 1:
        raise ShapeError("flipud: needs at least 1 dim, got a 0-d tensor")
    return flip(input, [0])


def diagflat(input, offset=0):
    """The flattened input on the `offset`-th diagonal of a square matrix."""
    return diag(reshape(input, -1), offset)


def combinations(input, r=2, with_replacement=False):
    """All length-r combinations of the elements of a 1-d tensor, one per row (itertools' order)."""
    if input.ndim != 1:
        raise ShapeError(f"combinations: expects a 1-d tensor, got shape {input.shape}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if rows.size == 0:
        return input[_wrap(np.zeros(0, np.int64))].reshape(0, r) if r else input[:0]
    return index_select(input, 0, _wrap(rows.reshape(-1))).reshape(-1, r)


def vander(x, N=None, increasing=False):
    """Columns x^(N-1), …, x, 1 (or 1, x, …, x^(N-1) when increasing), built as a cumulative product so that no
    power with a negative exponent is formed."""
    if x.ndim != 1:
        raise ShapeError(f"vander: expects a 1-d tensor, got shape {x.shape}")
    cols = powers(x, x.shape[0] if N is None else N)
    return cols if increasing else flip(cols, [1])


def powers(x, N):
    """(..., n) -> (..., n, N): columns 1, x, …, x^(N-1), a cumulative product of x (no 0⁰ or negative power)."""
    if N < 1:
        return x.unsqueeze(-1)[..., :0]
    ones = x.new_ones(*x.shape, 1)
    return cat([ones, expand(x.unsqueeze(-1), (*x.shape, N - 1))], -1).cumprod(-1) if N > 1 else ones


# ---- registry: each gradchecked as a composition ----------------------------------------------------------------
hstack = register("hstack", ref=lambda xs: np.hstack(xs), samples=[sample([T((2, 3)), T((2, 1))]), sample([T((3,)), T((2,))])])(hstack)
vstack = register("vstack", ref=lambda xs: np.vstack(xs), samples=[sample([T((3,)), T((2, 3))])])(vstack)
dstack = register("dstack", ref=lambda xs: np.dstack(xs), samples=[sample([T((2, 3)), T((2, 3, 2))])])(dstack)
column_stack = register("column_stack", ref=lambda xs: np.column_stack(xs), samples=[sample([T((3,)), T((3, 2))])])(column_stack)
def _np_unfold(x, d, size, step):
    d %= x.ndim
    return np.lib.stride_tricks.sliding_window_view(x, size, axis=d).take(np.arange(0, x.shape[d] - size + 1, step), d)


unfold = register("tensor_unfold", method="unfold", ref=_np_unfold, samples=[sample(T((7,)), 0, 3, 2), sample(T((2, 5, 3)), 1, 2, 1), sample(T((4, 6)), -1, 6, 1)])(unfold)
take = register("take", method="take", ref=lambda x, i: np.take(x, i),
         samples=[sample(T((3, 4)), T((2, 2), 0, 12, dtype="int64", grad=False)),
                  sample(T((5,)), T((4,), values=[0, -1, 0, 2], dtype="int64", grad=False))])(take)
sum_to_size = register("sum_to_size", method="sum_to_size",
         ref=lambda x, *s: np.sum(x, axis=tuple(i for i, n in enumerate(s) if n == 1), keepdims=True), samples=[sample(T((3, 4)), 3, 1), sample(T((2, 3)), 1, 3)])(sum_to_size)
diagflat = register("diagflat", ref=lambda x, offset=0: np.diagflat(x, offset),
         samples=[sample(T((2, 2))), sample(T((3,)), -1)])(diagflat)
combinations = register("combinations", ref=lambda x, r=2, with_replacement=False: np.array(list(
    (itertools.combinations_with_replacement if with_replacement else itertools.combinations)(x, r))),
    samples=[sample(T((4,))), sample(T((3,)), 2, True)])(combinations)
vander = register("vander", ref=lambda x, N=None, increasing=False: np.vander(x, N, increasing),
         samples=[sample(T((4,), 0.3, 2)), sample(T((3,), -2, -0.2), 5, True)])(vander)
powers = register("powers", ref=lambda x, N: x[..., None] ** np.arange(N),   # linalg.vander's columns, batched
         samples=[sample(T((2, 3), 0.3, 2), 4), sample(T((3,), -2, 2), 2)])(powers)
t = register("t", ref=lambda x: x.T, samples=[sample(T((2, 3))), sample(T((3,)))])(t)
fliplr = register("fliplr", ref=np.fliplr, samples=[sample(T((2, 3, 2)))])(fliplr)
flipud = register("flipud", ref=np.flipud, samples=[sample(T((3, 2)))])(flipud)
atleast_3d = register("atleast_3d", ref=np.atleast_3d, samples=[sample(T((3,))), sample(T((2, 3)))])(atleast_3d)
register("tensor_split", ref=lambda x, spec, dim=0: np.concatenate([p.ravel() for p in np.array_split(x, spec, dim)]),
         samples=[sample(T((5, 3)), 3), sample(T((4, 6)), [1, 4], 1)])(
    lambda x, spec, dim=0: cat([p.reshape(-1) for p in tensor_split(x, spec, dim)]))
register("broadcast_tensors", ref=lambda *xs: np.concatenate([a.ravel() for a in np.broadcast_arrays(*xs)]),
         samples=[sample(T((3, 1)), T((4,)), T(()))])(lambda *xs: cat([b.reshape(-1) for b in broadcast_tensors(*xs)]))
for _name, _fn in (("t", t), ("fliplr", fliplr), ("flipud", flipud), ("tensor_split", tensor_split),
                   ("hsplit", hsplit), ("vsplit", vsplit), ("dsplit", dsplit), ("split_with_sizes", split_with_sizes),
                   ("swapdims", transpose), ("diagflat", diagflat)):
    setattr(Tensor, _name, _fn)
