"""Ordering ops: sort, argsort, topk, unique. The values come out of a gather at the sorted indices, so their
gradient is gather's (g scattered back to where each value came from); indices are integers, not differentiable."""
import collections

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from ._util import one_dim
from .index import gather
from .registry import T, register, sample, tensor_method

_wrap = Tensor._wrap
SortResult = collections.namedtuple("return_types", ["values", "indices"])   # torch.return_types.sort / topk


def _order(arr, axis, descending, stable):
    """Indices that sort arr along axis; NaN counts as the largest value (last ascending, first descending, as in
    torch), bools as 0/1. Descending is the ascending order of the reversed array, reversed back: negating the keys
    instead would wrap unsigned and minimal integers and move NaN to the wrong end. Reversing twice keeps equal
    values in their original order when stable (as torch's stable=True)."""
    keys = arr.astype(np.int8) if arr.dtype == np.bool_ else arr
    kind = "stable" if stable else None
    if not descending:
        return np.argsort(keys, axis=axis, kind=kind)
    reversed_order = np.argsort(np.flip(keys, axis), axis=axis, kind=kind)
    return keys.shape[axis] - 1 - np.flip(reversed_order, axis)


def _axis(input, dim, op):
    return one_dim(dim, input.ndim, op) if input.ndim else None


def argsort(input, dim=-1, descending=False, stable=False):
    axis = _axis(input, dim, "argsort")
    if axis is None:
        return _wrap(np.zeros((), np.int64))
    return _wrap(_order(input._data, axis, descending, stable).astype(np.int64))


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) with values = input gathered at indices, sorted along dim."""
    axis = _axis(input, dim, "sort")
    if axis is None:
        return SortResult(input * 1 if input.requires_grad else input, _wrap(np.zeros((), np.int64)))
    idx = _order(input._data, axis, descending, stable).astype(np.int64)
    return SortResult(gather(input, axis, _wrap(idx)), _wrap(idx))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (smallest with largest=False) entries along dim, as (values, indices), largest first."""
    axis = _axis(input, dim, "topk")
    n = input.shape[axis] if axis is not None else 1
    if not 0 <= k <= n:
        raise ShapeError(f"topk: k = {k} is out of range for dim {dim} of size {n} (shape {input.shape}); "
                         f"k must be between 0 and {n}")
    if axis is None:
        return sort(input)
    idx = np.take(_order(input._data, axis, largest, True), np.arange(k), axis=axis).astype(np.int64)
    return SortResult(gather(input, axis, _wrap(idx)), _wrap(idx))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (not differentiable), with the inverse map and counts on request, as torch.unique."""
    values, inverse, counts = np.unique(input._data, return_inverse=True, return_counts=True, axis=dim,
                                        equal_nan=False)   # each NaN is its own value, as torch (NaN ≠ NaN)
    out = [_wrap(values)]
    if return_inverse:
        out.append(_wrap(inverse.reshape(input.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(_wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


tensor_method("argsort")(argsort)
tensor_method("unique")(unique)
Tensor.sort, Tensor.topk = sort, topk   # the (values, indices) forms; the registry tests their values
register("sort", ref=lambda x, dim=-1, descending=False: np.flip(np.sort(x, axis=dim), dim) if descending else
         np.sort(x, axis=dim),
         samples=[sample(T((3, 4))), sample(T((3, 4)), 0, descending=True), sample(T((5,)), descending=True)])(
    lambda input, dim=-1, descending=False: sort(input, dim, descending).values)
register("topk", ref=lambda x, k, dim=-1, largest=True: np.take(
    np.flip(np.sort(x, axis=dim), dim) if largest else np.sort(x, axis=dim), np.arange(k), axis=dim),
         samples=[sample(T((3, 5)), 2), sample(T((4, 3)), 3, 0), sample(T((6,)), 2, largest=False)])(
    lambda input, k, dim=-1, largest=True: topk(input, k, dim, largest).values)
