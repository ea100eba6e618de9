"""Writing into positions, torch's way: index_copy, index_fill, index_put (with accumulate), masked_scatter,
select_scatter / slice_scatter / diagonal_scatter / as_strided_scatter and scatter_reduce. Each is built on the indexing ops of
index.py (whose backward scatters or gathers g), except scatter_reduce's amax/amin/prod, which need their own
rule:

    amax, amin   the gradient of each output goes to the elements equal to it, split evenly among ties
    prod         ∂out/∂x = the product of the other factors at the same position (0 unless x is the only zero)
"""
import numpy as np

from ..errors import DTypeError, ShapeError
from ..tensor import Tensor
from ..autograd.function import Op
from ._util import as_array, equal_or_both_nan, lift, one_dim, scalar_as_vector
from .arrange import strided_positions
from .elementwise import where
from .index import (IndexAddInto, ScatterAdd, _along, _check_index_values, _check_scatter, _index_array, _raw_index,
                    _slices, _trimmed, gather, index_add, index_put as _put_values)
from .registry import T, register, sample

_wrap = Tensor._wrap


def _marked(shape, where_):
    """A bool array of `shape`, True at the positions an index (any NumPy index) selects."""
    mask = np.zeros(shape, bool)
    mask[where_] = True
    return mask


@scalar_as_vector
def index_copy(input, dim, index, source):
    """out = input with the slices at `index` along dim replaced by source's slices, in order."""
    idx = _index_array(index, "index_copy")
    axis = one_dim(dim, input.ndim, "index_copy")
    if idx.ndim != 1 or source.ndim != input.ndim or source.shape[axis] != len(idx):
        raise ShapeError(f"index_copy: source {source.shape} must match the input {input.shape} except in dim {dim}, "
                         f"where it needs one slice per index ({idx.shape})")
    _check_index_values("index_copy", idx, input, axis, dim, negative_ok=True)
    keep = _wrap(~_marked(input.shape, _slices(axis, idx)))
    return index_add(where(keep, input, _wrap(np.zeros((), input.dtype))), axis, _wrap(idx), source)


def index_fill(input, dim, index, value):
    """out = input with the slices at `index` along dim set to value (a number or a 0-d tensor, which then gets
    the sum of the gradient over the filled positions)."""
    idx = _index_array(index, "index_fill")
    if input.ndim == 0:   # as a (1,) vector (scalar_as_vector would make a 0-d value (1,) too)
        return index_fill(input.reshape(1), dim, _wrap(idx.reshape(-1)), value).reshape(())
    axis = one_dim(dim, input.ndim, "index_fill")
    _check_index_values("index_fill", idx, input, axis, dim, negative_ok=True)
    value = lift(value, input)
    if value.ndim:
        raise ShapeError(f"index_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    return where(_wrap(_marked(input.shape, _slices(axis, idx.reshape(-1)))), value.to(input.dtype), input)


def index_put(input, indices, values, accumulate=False):
    """out = input with out[indices] = values (indices: a tuple of index tensors, as torch); accumulate=True adds
    instead, repeated positions adding up. A values tensor must have input's dtype (a Python number is cast), as
    torch requires."""
    _same_dtype_as_input("index_put", input, values, "values")
    index = tuple(indices) if isinstance(indices, (tuple, list)) else (indices,)
    if not accumulate:
        return _put_values(input, index, values)
    raw = _raw_index(index)
    values = lift(values, input).to(input.dtype)
    target = np.empty(input.shape, bool)[raw].shape
    if values.shape != target:
        values = values.expand(*target)
    return input + IndexAddInto.apply(values, shape=input.shape, index=raw)


def _same_dtype_as_input(name, input, values, what):
    if isinstance(values, Tensor) and values.dtype != input.dtype:
        raise DTypeError(f"{name}: {what} has dtype {values.dtype} but input has {input.dtype}; they must match (a "
                         f"silent cast could round or truncate). Pass {what}.to(input.dtype)")


def _embed(input, src, index, name, what):
    """out = input with out[index] = src (index: any NumPy index into input), src's shape checked against the
    positions it fills. dL/dinput is g off those positions, dL/dsrc is g at them."""
    target = np.empty(input.shape, bool)[index].shape
    if tuple(src.shape) != target:   # torch requires the exact shape; index_put alone would broadcast
        raise ShapeError(f"{name}: src must have the shape of {what}, {target}, got {src.shape}")
    return _put_values(input, index, src)


def select_scatter(input, src, dim, index):
    """out = input with out.select(dim, index) = src."""
    axis = one_dim(dim, input.ndim, "select_scatter")
    if not -input.shape[axis] <= index < input.shape[axis]:
        raise IndexError(f"select_scatter: index {index} is out of range for dim {dim} of size {input.shape[axis]}")
    return _embed(input, src, (slice(None),) * axis + (index,), "select_scatter", f"input.select({dim}, {index})")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """out = input with out[start:end:step] along dim = src."""
    axis = one_dim(dim, input.ndim, "slice_scatter")
    return _embed(input, src, (slice(None),) * axis + (slice(start, end, step),), "slice_scatter",
                  f"the slice {start}:{end}:{step} of dim {dim}")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """out = input with out.diagonal(offset, dim1, dim2) = src (the diagonal's entries last, as diagonal())."""
    positions = np.diagonal(np.arange(input.numel()).reshape(input.shape), offset, dim1, dim2)
    if tuple(src.shape) != positions.shape:
        raise ShapeError(f"diagonal_scatter: src must have the diagonal's shape {positions.shape}, got {src.shape}")
    flat = _embed(input.reshape(-1), src.reshape(-1), (positions.reshape(-1),), "diagonal_scatter", "the diagonal")
    return flat.reshape(*input.shape)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """out = input with out.as_strided(size, stride, storage_offset) = src: positions offset + Σ iₖ·strideₖ of
    input's elements in row-major order. dL/dinput is g off those positions, dL/dsrc is g at them."""
    positions = strided_positions(input.numel(), size, stride, storage_offset or 0, "as_strided_scatter")
    if tuple(src.shape) != positions.shape:
        raise ShapeError(f"as_strided_scatter: src must have the view's shape {positions.shape}, got {src.shape}")
    if len(np.unique(positions)) != positions.size:
        raise ValueError(f"as_strided_scatter: size {tuple(size)} and stride {tuple(stride)} reach some elements "
                         f"more than once, so which src value lands there is undefined; use index_put(..., "
                         f"accumulate=True) to add them, or strides that do not overlap")
    flat = _embed(input.reshape(-1), src.reshape(-1), (positions.reshape(-1),), "as_strided_scatter", "the view")
    return flat.reshape(*input.shape)


def masked_scatter(input, mask, source):
    """out = input, with the positions where mask is True (broadcast to input) taking source's elements in
    row-major order."""
    m = as_array(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_scatter: mask must be bool, got {m.dtype}")
    try:   # input and mask broadcast together, as torch's (a (5,) input under a (5, 5) mask gives (5, 5))
        shape = np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise ShapeError(f"masked_scatter: the mask {m.shape} and the input {input.shape} do not broadcast") from None
    if shape != input.shape:
        input = input.expand(*shape)
    m = np.broadcast_to(m, shape)
    n = int(m.sum())
    if source.numel() < n:
        raise ShapeError(f"masked_scatter: the mask selects {n} positions but source has only {source.numel()} "
                         f"elements")
    spots = np.flatnonzero(m)
    flat = IndexAddInto.apply(source.reshape(-1)[:n], shape=(input.numel(),), index=(spots,))
    # np.require, not ascontiguousarray, which makes a 0-d mask 1-d (and so a 0-d input's result (1,))
    return where(_wrap(np.require(m, requirements="C")), flat.reshape(*input.shape), input)


class ScatterExtreme(Op):
    """out = input with, at each position, the max / min / product of input (if include_self) and the src
    elements scattered there. Backward: see the module docstring."""

    def forward(self, x, src, axis, index, reduce, include_self):
        self.axis, self.index, self.reduce, self.include_self = axis, index, reduce, include_self
        # the product's partials depend on x and src but are computed in NumPy (amax/amin's are piecewise
        # constant, so their second derivative, 0, is right)
        self.once_differentiable = reduce == "prod"
        where_ = _along(index, axis)
        hit = _marked(x.shape, where_)
        out = x.copy()
        ufunc = {"amax": np.maximum, "amin": np.minimum, "prod": np.multiply}[reduce]
        if not include_self:
            out[hit] = {"amax": -np.inf, "amin": np.inf, "prod": 1}[reduce] if x.dtype.kind == "f" else \
                {"amax": np.iinfo(x.dtype).min, "amin": np.iinfo(x.dtype).max, "prod": 1}[reduce]
        with np.errstate(invalid="ignore"):   # a NaN propagates (as torch); ufunc.at warns where np.maximum does not
            ufunc.at(out, where_, src)
        self.hit, self.out = hit, out
        return out

    def backward(self, g):
        x, src = self.inputs[0]._data, self.inputs[1]._data
        out, hit, where_ = self.out, self.hit, _along(self.index, self.axis)
        counted_self = ~hit | self.include_self          # positions where x itself takes part
        if self.reduce == "prod":
            d_self, d_src = _prod_partials(x, src, where_, hit, counted_self)
        else:
            chosen_self = counted_self & equal_or_both_nan(x, out)   # a NaN result: its NaN contributors share g
            chosen_src = equal_or_both_nan(src, out[where_])
            ties = chosen_self.astype(x.dtype)
            np.add.at(ties, where_, chosen_src)
            d_self = np.where(hit, chosen_self / np.maximum(ties, 1), 1.0).astype(x.dtype)
            d_src = (chosen_src / np.maximum(ties, 1)[where_]).astype(x.dtype)
        return g * _wrap(d_self), gather(g, self.axis, _wrap(self.index)) * _wrap(d_src)


def _prod_partials(x, src, where_, hit, counted_self):
    """∂out/∂(each factor) = the product of the other factors at its position, computed without dividing by a
    zero: from the product of the non-zero factors and the number of zeros."""
    nonzero = np.where(counted_self & (x != 0), x, 1).astype(x.dtype)
    zeros = (counted_self & (x == 0)).astype(np.int64)
    np.multiply.at(nonzero, where_, np.where(src != 0, src, 1))
    np.add.at(zeros, where_, src == 0)

    def partial(v, prod_nz, n_zero):
        others = np.where(v != 0, prod_nz / np.where(v != 0, v, 1), prod_nz)
        return np.where(n_zero - (v == 0) > 0, 0, others)
    d_self = np.where(counted_self, partial(x, nonzero, zeros), 0).astype(x.dtype)
    d_self = np.where(hit, d_self, 1).astype(x.dtype)
    return d_self, partial(src, nonzero[where_], zeros[where_]).astype(x.dtype)


@scalar_as_vector
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """torch.scatter_reduce: out = input, then at out[index[i][j]][j] (dim = 0) the src elements are combined with
    reduce = 'sum', 'prod', 'mean', 'amax' or 'amin' — together with input's own value unless include_self=False."""
    idx = _index_array(index, "scatter_reduce")
    axis = _check_scatter(input, dim, idx, src, "scatter_reduce")
    src = _trimmed(src, idx)
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ValueError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")
    if reduce in ("sum", "mean"):
        hit = _marked(input.shape, _along(idx, axis))
        base = input if include_self else where(_wrap(hit), _wrap(np.zeros((), input.dtype)), input)
        total = base + ScatterAdd.apply(src, shape=input.shape, axis=axis, index=idx)
        if reduce == "sum":
            return total
        count = np.where(hit & (not include_self), 0, 1).astype(input.dtype)
        np.add.at(count, _along(idx, axis), 1)
        if input.dtype.kind != "f":
            return _wrap(np.floor_divide(total._data, count))
        return total / _wrap(count)
    return ScatterExtreme.apply(input, src, axis=axis, index=idx, reduce=reduce, include_self=include_self)


_IDX = np.array([[0, 1, 2, 0], [0, 0, 2, 2]])
index_copy = register("index_copy", method="index_copy", ref=None,
         samples=[sample(T((4, 3)), 0, np.array([3, 1]), T((2, 3))), sample(T((2, 5)), 1, np.array([4]), T((2, 1)))])(index_copy)
index_fill = register("index_fill", method="index_fill", ref=None,
         samples=[sample(T((4, 3)), 1, np.array([0, 2]), -1.5), sample(T((3, 2)), 0, np.array([1]), T(()))])(index_fill)
index_put = register("index_put_accumulate", ref=None,
         samples=[sample(T((5,)), (np.array([0, 2, 0]),), T((3,)), True), sample(T((3, 4)), (np.array([1, 1]), np.array([0, 3])), T(()), True)])(index_put)
masked_scatter = register("masked_scatter", method="masked_scatter", ref=None,
         samples=[sample(T((3, 4)), np.array([True, False, True, False]), T((8,))),
                  sample(T((2, 3)), np.tri(2, 3).astype(bool), T((2, 3)))])(masked_scatter)
scatter_reduce = register("scatter_reduce", method="scatter_reduce", ref=None,
         samples=[sample(T((3, 4)), 0, _IDX, T((2, 4)), reduce) for reduce in ("sum", "mean", "amax", "amin")] +
         [sample(T((3, 4)), 0, _IDX, T((2, 4)), reduce, include_self=False) for reduce in ("sum", "mean", "amax")] +
         [sample(T((3, 4), 0.5, 2), 0, _IDX, T((2, 4), 0.5, 2), "prod", gradgrad=False),
          sample(T((3, 4), 0.5, 2), 0, _IDX, T((2, 4), 0.5, 2), "prod", include_self=False, gradgrad=False)])(scatter_reduce)
Tensor.index_put = index_put
Tensor.index_put_ = lambda self, indices, values, accumulate=False: self._inplace(
    "index_put_", lambda s: index_put(s, indices, values, accumulate), values if isinstance(values, Tensor) else None)
select_scatter = register("select_scatter", method="select_scatter", ref=None,
         samples=[sample(T((3, 4)), T((4,)), 0, 1), sample(T((2, 3, 4)), T((2, 4)), 1, -1)])(select_scatter)
slice_scatter = register("slice_scatter", method="slice_scatter", ref=None,
         samples=[sample(T((5, 3)), T((2, 3)), 0, 1, 5, 2), sample(T((2, 6)), T((2, 3)), 1, None, 3)])(slice_scatter)
diagonal_scatter = register("diagonal_scatter", method="diagonal_scatter", ref=None,
         samples=[sample(T((3, 3)), T((3,))), sample(T((3, 4)), T((3,)), 1), sample(T((2, 3, 3)), T((3, 2)), 0, 0, 1),
                  sample(T((4, 3)), T((2,)), -2)])(diagonal_scatter)
as_strided_scatter = register("as_strided_scatter", method="as_strided_scatter", ref=None,
         samples=[sample(T((3, 4)), T((2, 2)), (2, 2), (1, 2)), sample(T((6,)), T((2, 2)), (2, 2), (3, 1), 1),
                  sample(T((2, 3)), T((3, 2)), (3, 2), (2, 1))])(as_strided_scatter)
