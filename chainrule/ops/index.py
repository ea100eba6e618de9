"""Indexing: basic slicing, integer arrays, boolean masks, gather, index_select, masked_fill, index_put.
Backward scatters g back into a zero tensor of the input's shape; repeated indices accumulate (np.add.at)."""
import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from ..autograd.function import Op
from ._util import as_array, lift, one_dim, scalar_as_vector
from .registry import T, register, sample, tensor_method

_wrap = Tensor._wrap


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) for i in items)


def _raw_index(index):
    """Tensors inside an index become arrays."""
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index


class GetItem(Op):
    """y = x[index];  dL/dx = zeros with g added at index (repeated indices add up)."""
    saves_inputs = False

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        out = x[index]
        if type(out) is not np.ndarray:   # all-integer index: NumPy's scalar copy; a 0-d view shares x's memory (as
            out = x[(index if type(index) is tuple else (index,)) + (Ellipsis,)]   # torch's x[1], for x[1].add_(…))
        return out

    def backward(self, g):
        return IndexAddInto.apply(g, shape=self.shape, index=self.index)


class IndexAddInto(Op):
    """y = zeros(shape) with g added at index;  dL/dg = dL/dy at index (the adjoint of GetItem)."""
    saves_inputs = False

    def forward(self, g, shape, index):
        self.index = index
        out = np.zeros(shape, g.dtype)
        if _is_basic(index):
            out[index] = g
        else:
            np.add.at(out, index, g)
        return out

    def backward(self, gg):
        return GetItem.apply(gg, index=self.index)


def getitem(input, index):
    index = _raw_index(index)
    try:
        return GetItem.apply(input, index=index)
    except IndexError as exc:
        text = str(exc)   # named by the op already ("getitem: index 5 is out of bounds …") unless NumPy's own
        raise IndexError(f"{text}; index {index!r}" if text.startswith("getitem: ") else
                         f"getitem: {text} (tensor of shape {input.shape}, index {index!r})") from None


getitem = register("getitem", ref=lambda x, i: x[_raw_index(i)],
         samples=[sample(T((4, 5)), (1, slice(None, None, 2))), sample(T((4, 5)), (Ellipsis, None, -1)),
                  sample(T((4, 5)), [0, 2, 0]), sample(T((3, 4)), (np.array([0, 2, 2]), np.array([1, 1, 3]))),
                  sample(T((3, 4)), np.array([[True, False, True, False]] * 3))])(getitem)
Tensor.__getitem__ = getitem
register("index_add_into", ref=lambda g, shape, index: _np_add_into(g, shape, index),
         samples=[sample(T((3,)), (5,), np.array([0, 2, 0]))])(lambda g, shape, index: IndexAddInto.apply(g, shape=shape, index=index))


def _np_add_into(g, shape, index):
    out = np.zeros(shape)
    np.add.at(out, index, g)
    return out


class Gather(Op):
    """y[i][j] = x[i][index[i][j]] (dim=1);  dL/dx = zeros with g added at the gathered positions."""
    saves_inputs = False

    def forward(self, x, axis, index):
        self.shape, self.axis, self.index = x.shape, axis, index
        if all(n == m for d, (n, m) in enumerate(zip(index.shape, x.shape)) if d != axis):
            return np.take_along_axis(x, index, axis=axis)
        # an index smaller than x outside dim reads x's leading block (torch's rule; NumPy's would broadcast it)
        return x[_along(index, axis)]

    def backward(self, g):
        return ScatterAdd.apply(g, shape=self.shape, axis=self.axis, index=self.index)


class ScatterAdd(Op):
    """y = zeros(shape) with g added along dim at index;  its adjoint is gather."""
    saves_inputs = False

    def forward(self, g, shape, axis, index):
        self.axis, self.index = axis, index
        out = np.zeros(shape, g.dtype)
        np.add.at(out, _along(index, axis), g)
        return out

    def backward(self, gg):
        return Gather.apply(gg, axis=self.axis, index=self.index)


def _along(index, axis):
    """The fancy index that pairs index[i][j] with its own position in every other dim: out[_along(index, 0)]
    is out[index[i][j]][j]."""
    full = list(np.indices(index.shape, sparse=True))
    full[axis] = index
    return tuple(full)


def _slices(axis, idx):
    """The index that picks positions idx along dim `axis` and everything along the other dims."""
    return (slice(None),) * axis + (idx,)


def _index_array(index, name):
    idx = as_array(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got {idx.dtype}")
    return idx


def _check_index_values(name, idx, input, axis, dim, negative_ok):
    """Index values must address dim `axis` of the input (from the end too, where negative_ok)."""
    n = input.shape[axis]
    if idx.size and (idx.min() < (-n if negative_ok else 0) or idx.max() >= n):
        raise IndexError(f"{name}: index values must be in [0, {n}) for dim {dim} of shape {input.shape}; got min "
                         f"{idx.min()}, max {idx.max()}")


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[i][index[i][j]] along dim (for dim = 1); the gradient scatter-adds g back. sparse_grad
    (torch's sparse gradient) gives the same values as a dense array here: chainrule has no sparse tensors.
    The result has the index's shape, also for a 0-d input (read as (1,))."""
    idx = _index_array(index, "gather")
    if input.ndim == 0 and idx.ndim <= 1:
        return gather(input.reshape(1), dim, _wrap(idx.reshape(-1)), sparse_grad=sparse_grad).reshape(idx.shape)
    if idx.size == 0:   # nothing gathered: any index shape (torch's rule), still linked to the input
        return input.reshape(-1)[:0].reshape(idx.shape)
    if idx.ndim != input.ndim:
        raise ShapeError(f"gather: index has {idx.ndim} dims but input has {input.ndim} ({input.shape}); they must match")
    axis = one_dim(dim, input.ndim, "gather")
    larger = [d for d, (n, limit) in enumerate(zip(idx.shape, input.shape)) if n > limit and d != axis]
    if larger:
        raise ShapeError(f"gather: index {idx.shape} is larger than the input {input.shape} in dim {larger[0]}; "
                         f"outside dim {dim} it may be no larger (it reads the input's leading block)")
    _check_index_values("gather", idx, input, axis, dim, negative_ok=True)
    return Gather.apply(input, axis=axis, index=idx)


gather = register("gather", method="gather", ref=lambda x, d, i: x[_along(i, d)],
         samples=[sample(T((3, 4)), 1, np.array([[0, 0], [1, 3], [2, 2]])),
                  sample(T((3, 4)), 0, np.array([[0, 1, 2, 0], [2, 2, 2, 2]])),
                  sample(T((3, 4)), 1, np.array([[3, 0], [1, 1]]))])(gather)
register("scatter_add_into", ref=None,
         samples=[sample(T((3, 2)), (3, 4), 1, np.array([[0, 0], [1, 3], [2, 2]]))])(
    lambda g, shape, axis, index: ScatterAdd.apply(g, shape=shape, axis=axis, index=index))


def _check_scatter(input, dim, idx, src, name):
    axis = one_dim(dim, input.ndim, name)
    larger = [d for d, (n, limit) in enumerate(zip(idx.shape, input.shape)) if n > limit and d != axis] or \
        ([d for d, (n, limit) in enumerate(zip(idx.shape, src.shape)) if n > limit] if src is not None else [])
    if idx.ndim != input.ndim or larger:
        raise ShapeError(f"{name}: index {idx.shape} must have as many dims as the input {input.shape}, be no "
                         f"larger than it outside dim {dim}" + ("" if src is None else f" and no larger than src "
                                                                 f"{tuple(src.shape)}"))
    _check_index_values(name, idx, input, axis, dim, negative_ok=False)
    return axis


def _trimmed(src, idx):
    """src cut to the index's shape (torch reads only src's leading index.shape block)."""
    return src[tuple(slice(0, n) for n in idx.shape)] if src.shape != idx.shape else src


@scalar_as_vector
def scatter_add(input, dim, index, src):
    """out = input, then out[index[i][j]][j] += src[i][j] (dim=0): the adjoint of gather, so
    dL/dinput = g and dL/dsrc = gather(g, dim, index)."""
    idx = _index_array(index, "scatter_add")
    axis = _check_scatter(input, dim, idx, src, "scatter_add")
    return input + ScatterAdd.apply(_trimmed(src, idx), shape=input.shape, axis=axis, index=idx)


@scalar_as_vector
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """out = input with out[index[i][j]][j] = src[i][j] (or value) (dim=0); dL/dinput = g where nothing was
    written, dL/dsrc = gather(g, dim, index). With repeated indices the written value is one of theirs.
    reduce='add' or 'multiply' (torch's older form of scatter_reduce) combines instead of writing: it is
    scatter_reduce with 'sum' or 'prod' and include_self=True, differentiable here (torch's is not)."""
    idx = _index_array(index, "scatter")
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a tensor) and value (a number)")
    if not isinstance(src, Tensor):
        value, src = (src if src is not None else value), None
    if reduce is not None:
        from .index_write import scatter_reduce
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}; scatter_reduce has the "
                             f"others (amax, amin, mean)")
        if src is None:
            src = Tensor._wrap(np.full(idx.shape, value, input.dtype))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    axis = _check_scatter(input, dim, idx, src, "scatter")
    return index_put(input, _along(idx, axis), value if src is None else _trimmed(src, idx))


@scalar_as_vector
def index_add(input, dim, index, source, alpha=1):
    """out = input, then out[..., index[i], ...] += alpha·source[..., i, ...] along dim (repeats add up);
    dL/dsource = alpha·index_select(g, dim, index)."""
    idx = _index_array(index, "index_add")
    axis = one_dim(dim, input.ndim, "index_add")
    if idx.ndim != 1 or source.ndim != input.ndim or source.shape[axis] != len(idx) or \
            source.shape[:axis] + source.shape[axis + 1:] != input.shape[:axis] + input.shape[axis + 1:]:
        raise ShapeError(f"index_add: source {source.shape} must match the input {input.shape} except in dim {dim}, "
                         f"where it must have one entry per index ({idx.shape})")
    _check_index_values("index_add", idx, input, axis, dim, negative_ok=True)
    spread = IndexAddInto.apply(source if alpha == 1 else source * alpha, shape=input.shape,
                                index=_slices(axis, idx))
    return input + spread


scatter_add = register("scatter_add", method="scatter_add", ref=None,
         samples=[sample(T((3, 4)), 0, np.array([[0, 1, 2, 0], [0, 0, 2, 2]]), T((2, 4))),
                  sample(T((2, 5)), 1, np.array([[4, 4], [0, 1]]), T((2, 3)))])(scatter_add)
scatter = register("scatter", method="scatter", ref=None,
         samples=[sample(T((3, 4)), 1, np.array([[0, 3], [1, 2], [2, 0]]), T((3, 2))),
                  sample(T((3, 4)), 0, np.array([[2, 0, 1, 1]]), None, 0.5),
                  sample(T((2, 3)), 1, np.array([[0, 0], [2, 1]]), T((2, 3)), reduce="add"),
                  sample(T((2, 3)), 1, np.array([[0, 0], [2, 1]]), T((2, 3)), reduce="multiply", gradgrad=False),
                  sample(T((2, 3)), 0, np.array([[1, 1, 0]]), None, 2.0, reduce="multiply", gradgrad=False)])(scatter)
index_add = register("index_add", method="index_add", ref=None,
         samples=[sample(T((4, 3)), 0, np.array([0, 2, 0]), T((3, 3))),
                  sample(T((2, 5)), 1, np.array([4, 1]), T((2, 2)), alpha=-2.0)])(index_add)


@scalar_as_vector
def index_select(input, dim, index):
    axis = one_dim(dim, input.ndim, "index_select")
    idx = as_array(index)
    return getitem(input, _slices(axis, idx))


index_select = register("index_select", method="index_select", ref=lambda x, d, i: np.take(x, i, axis=d),
         samples=[sample(T((3, 4)), 1, np.array([3, 0, 3])), sample(T((2, 3, 4)), -2, np.array([1]))])(index_select)


def masked_fill(input, mask, value):
    from .elementwise import where
    return where(mask, lift(value, input), input)


masked_fill = register("masked_fill", method="masked_fill", ref=lambda x, m, v: np.where(m, v, x),
         samples=[sample(T((3, 4)), np.array([True, False, True, False]), -1.0),
                  sample(T((3, 4)), np.tri(3, 4).astype(bool), 0.0)])(masked_fill)


class IndexPut(Op):
    """y = x with y[index] = v;  dL/dx = g with zeros at index, dL/dv = g[index] (summed to v's shape)."""
    saves_inputs = False

    def forward(self, x, v, index):
        self.index = index
        out = x.copy()
        out[index] = v
        return out

    def backward(self, g):
        zero = _wrap(np.zeros((), g.dtype))
        return IndexPut.apply(g, zero, index=self.index), GetItem.apply(g, index=self.index)


def index_put(input, index, value):
    value = lift(value, input)
    if value.dtype != input.dtype:
        value = value.to(input.dtype)
    return IndexPut.apply(input, value, index=_raw_index(index))


def _np_index_put(x, i, v):
    out = x.copy()
    out[i] = v
    return out


index_put = register("index_put", ref=_np_index_put,
         samples=[sample(T((3, 4)), (1, slice(1, 3)), T((2,))), sample(T((4,)), np.array([0, 2]), T(()))])(index_put)
tensor_method("masked_fill_")(lambda self, mask, value: self._inplace("masked_fill_", lambda s: masked_fill(s, mask, value)))
