"""Indexing: basic slicing, integer arrays, boolean masks, gather, index_select, masked_fill, index_put.
Backward scatters g back into a zero tensor of the input's shape; repeated indices accumulate (np.add.at)."""
import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from ..autograd.function import Op
from ._util import lift, norm_dim
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
        return x[index]

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
        raise IndexError(f"index: {exc} (tensor of shape {input.shape}, index {index!r})") from None


register("getitem", ref=lambda x, i: x[_raw_index(i)],
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
        return np.take_along_axis(x, index, axis=axis)

    def backward(self, g):
        return ScatterAdd.apply(g, shape=self.shape, axis=self.axis, index=self.index)


class ScatterAdd(Op):
    """y = zeros(shape) with g added along dim at index;  its adjoint is gather."""
    saves_inputs = False

    def forward(self, g, shape, axis, index):
        self.axis, self.index = axis, index
        out = np.zeros(shape, g.dtype)
        full = list(np.indices(index.shape, sparse=True))
        full[axis] = index
        np.add.at(out, tuple(full), g)
        return out

    def backward(self, gg):
        return Gather.apply(gg, axis=self.axis, index=self.index)


def gather(input, dim, index):
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer tensor, got {idx.dtype}")
    if idx.ndim != input.ndim:
        raise ShapeError(f"gather: index has {idx.ndim} dims but input has {input.ndim} ({input.shape}); they must match")
    axis = norm_dim(dim, input.ndim, "gather")[0]
    if idx.size and (idx.min() < -input.shape[axis] or idx.max() >= input.shape[axis]):
        raise IndexError(f"gather: index values must be in [0, {input.shape[axis]}) for dim {dim} of shape "
                         f"{input.shape}; got min {idx.min()}, max {idx.max()}")
    return Gather.apply(input, axis=axis, index=idx)


register("gather", method="gather", ref=lambda x, d, i: np.take_along_axis(x, i, axis=d),
         samples=[sample(T((3, 4)), 1, np.array([[0, 0], [1, 3], [2, 2]])),
                  sample(T((3, 4)), 0, np.array([[0, 1, 2, 0], [2, 2, 2, 2]]))])(gather)
register("scatter_add_into", ref=None,
         samples=[sample(T((3, 2)), (3, 4), 1, np.array([[0, 0], [1, 3], [2, 2]]))])(
    lambda g, shape, axis, index: ScatterAdd.apply(g, shape=shape, axis=axis, index=index))


def index_select(input, dim, index):
    axis = norm_dim(dim, input.ndim, "index_select")[0]
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    return getitem(input, (slice(None),) * axis + (idx,))


register("index_select", method="index_select", ref=lambda x, d, i: np.take(x, i, axis=d),
         samples=[sample(T((3, 4)), 1, np.array([3, 0, 3])), sample(T((2, 3, 4)), -2, np.array([1]))])(index_select)


def masked_fill(input, mask, value):
    from .elementwise import where
    return where(mask, lift(value, input), input)


register("masked_fill", method="masked_fill", ref=lambda x, m, v: np.where(m, v, x),
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


register("index_put", ref=_np_index_put,
         samples=[sample(T((3, 4)), (1, slice(1, 3)), T((2,))), sample(T((4,)), np.array([0, 2]), T(()))])(index_put)
tensor_method("masked_fill_")(lambda self, mask, value: self._inplace("masked_fill_", lambda s: masked_fill(s, mask, value)))
