"""Order statistics and NaN-aware reductions with PyTorch's names: median, nanmedian, quantile, kthvalue, mode,
msort, nansum, nanmean, var_mean, std_mean, aminmax. Values are gathers at the chosen indices (or lerps between
two of them for quantile), so the gradient goes to the entries the statistic was read from."""
import collections

import numpy as np

from ..errors import ShapeError, warn
from ..tensor import Tensor
from ._util import norm_dim, one_dim, scalar_as_vector
from .arith import lerp
from .elementwise import where
from .index import gather
from .reduce import Amax, Mean, _nonempty, amax, amin, mean, positional_unbiased, std, sum, var
from .registry import T, register, sample
from .shape import reshape, stack
from .sorting import sort

_wrap = Tensor._wrap
_Picked = collections.namedtuple("return_types", ["values", "indices"])   # torch.return_types.median / kthvalue


def _pick(input, dim, keepdim, idx):
    """input gathered at idx (keepdims form along dim), as torch's (values, indices)."""
    values = gather(input, dim, _wrap(idx))
    if not keepdim:
        values, idx = values.squeeze(dim), np.squeeze(idx, dim)
    return _Picked(values, _wrap(idx))


def _kth_index(arr, k, axis):
    """Index of the k-th smallest (0-based) along axis; stable, so ties pick the first occurrence."""
    return np.take(np.argsort(arr, axis=axis, kind="stable"), [k], axis=axis).astype(np.int64)


def _lower_median(x, axis, keepdims):
    """The (n-1)//2-th smallest along axis, or NaN where that slice holds one: a value of the slice, for Amax."""
    k = (x.shape[axis[0]] - 1) // 2
    out = np.take(np.partition(x, k, axis=axis[0]), [k], axis=axis[0])
    if x.dtype.kind == "f":   # partition sorts NaN last; a slice with one has median NaN
        out = np.where(np.isnan(x).any(axis=axis[0], keepdims=True), np.nan, out).astype(x.dtype, copy=False)
    return out if keepdims else np.squeeze(out, axis)


@scalar_as_vector
def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest entry (1-based k, as torch) along dim, and its index."""
    d = one_dim(dim, input.ndim, "kthvalue")
    n = input.shape[d]
    if not 1 <= k <= n:
        raise ShapeError(f"kthvalue: k = {k} is out of range for dim {d} of size {n}; k runs from 1 to {n}")
    return _pick(input, d, keepdim, _kth_index(input._data, k - 1, d))


@scalar_as_vector
def median(input, dim=None, keepdim=False):
    """The lower median ((n-1)//2-th smallest, as torch: no averaging of the two middle values); median(x) is a
    scalar, median(x, dim) gives (values, indices). A slice holding a NaN has median NaN, read at its first NaN (as
    torch; nanmedian skips them)."""
    if dim is None:   # torch shares the gradient among all entries equal to the median (the ties), as amax
        flat = reshape(input, -1)
        if flat.shape[0] == 0:   # nan, as torch, with a warning
            return Mean.apply(flat, axes=(0,), keepdim=False, name="median")
        return Amax.apply(flat, axes=(0,), keepdim=False, fn=_lower_median)
    _nonempty(input, "median", dim)
    d = one_dim(dim, input.ndim, "median")
    arr = input._data
    idx = _kth_index(arr, (arr.shape[d] - 1) // 2, d)
    if arr.dtype.kind == "f":
        nan = np.isnan(arr)
        idx = np.where(nan.any(axis=d, keepdims=True), np.argmax(nan, axis=d, keepdims=True), idx)
    return _pick(input, d, keepdim, idx)


@scalar_as_vector
def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaNs (NaNs sort last, so the median of the non-NaN entries is read at their middle)."""
    if dim is None:
        return nanmedian(reshape(input, -1), 0).values
    d = one_dim(dim, input.ndim, "nanmedian")
    arr = input._data
    order = np.argsort(arr, axis=d, kind="stable")             # NaNs go last
    count = (~np.isnan(arr)).sum(axis=d, keepdims=True)
    k = np.maximum(count - 1, 0) // 2
    return _pick(input, d, keepdim, np.take_along_axis(order, k, axis=d).astype(np.int64))


def quantile(input, q, dim=None, keepdim=False, interpolation="linear"):
    """The q-quantile(s) along dim (the flattened input when dim is None), interpolating between the two nearest
    sorted entries as torch (linear, lower, higher, nearest, midpoint); q a float or a 1-d tensor (a new first dim).
    A slice holding a NaN gives NaN. With linear interpolation a q that requires grad gets one, as torch's:
    ∂/∂q = (x_hi - x_lo)(n - 1)."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, interpolation="linear"):
    """quantile of the non-NaN entries of each slice (NaN only where a slice has none)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile")


def _quantile(input, q, dim, keepdim, interpolation, name):
    """Position q·(n - 1) in each sorted slice, n its length (its non-NaN count for nanquantile: NaNs sort last),
    read by a gather of the sorted values, so the gradient goes to the one or two entries read."""
    if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"{name}: unknown interpolation {interpolation!r}")
    qs = np.asarray(q._data if isinstance(q, Tensor) else q, dtype=np.float64)
    if qs.ndim > 1 or not ((qs >= 0) & (qs <= 1)).all():   # (NaN fails both, as torch refuses it)
        raise ValueError(f"{name}: q must be a float or 1-d tensor with values in [0, 1], got {qs.tolist()}")
    if input.ndim == 0:   # a 0-d input is one sample: the result has q's shape, keepdim or not (torch's)
        if dim is not None:
            one_dim(dim, 0, name)
        input, dim, keepdim = reshape(input, 1), 0, False
    x = reshape(input, -1) if dim is None else input
    d = 0 if dim is None else one_dim(dim, input.ndim, name)
    q_grad = isinstance(q, Tensor) and q.requires_grad and interpolation == "linear"
    s = sort(x, d, stable=True).values   # stable: which of tied entries gets the gradient is torch's choice
    nan = np.isnan(x._data).sum(axis=d, keepdims=True)
    n = x.shape[d] - nan if name == "nanquantile" else np.full(nan.shape, x.shape[d])
    outs = []
    for k, qv in enumerate(np.atleast_1d(qs)):
        pos = qv * np.maximum(n - 1, 0)
        lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
        frac = pos - lo
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = np.where(np.round(pos) == lo, lo, hi)   # round half to even, as torch
        elif interpolation == "midpoint":
            frac = np.where(hi != lo, 0.5, 0.0)
        if name == "quantile":   # a slice with a NaN reads its last sorted entry, a NaN (and sends it the gradient)
            lo, hi = np.where(nan > 0, x.shape[d] - 1, lo), np.where(nan > 0, x.shape[d] - 1, hi)
        a = s.gather(d, lo)
        if q_grad:   # the weight q·(n - 1) - lo as a function of q
            q_k = (q if q.ndim == 0 else q[k]).to(s.dtype)
            v = lerp(a, s.gather(d, hi), q_k * _wrap(np.maximum(n - 1, 0).astype(s.dtype)) - _wrap(lo.astype(s.dtype)))
        else:
            v = a if (lo == hi).all() else lerp(a, s.gather(d, hi), _wrap(np.where(lo == hi, 0.0, frac).astype(s.dtype)))
        outs.append(v if keepdim and dim is not None else v.squeeze(d))
    if qs.ndim == 0:
        return outs[0]
    return stack(outs, 0)


@scalar_as_vector
def mode(input, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest of equally frequent ones) and an index where it occurs. Each
    NaN counts once (NaN ≠ NaN) and sorts last, so NaN is the mode only of a slice of NaNs."""
    d = one_dim(dim, input.ndim, "mode")
    arr = np.moveaxis(input._data, d, -1)
    flat = arr.reshape(-1, arr.shape[-1])
    idx = np.empty(flat.shape[0], np.int64)
    for r, row in enumerate(flat):
        values, counts = np.unique(row, return_counts=True, equal_nan=False)
        best = values[np.argmax(counts)]
        idx[r] = np.flatnonzero(row == best)[-1] if best == best else np.argmax(np.isnan(row))   # torch: the last
    idx = np.moveaxis(idx.reshape(arr.shape[:-1] + (1,)), -1, d)
    return _pick(input, d, keepdim, idx)


def msort(input):
    return sort(input, 0).values


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Σ over the non-NaN entries; NaN entries get zero gradient."""
    if dtype is not None:
        input = input.to(dtype)
    return sum(where(input.isnan(), _wrap(np.zeros((), input.dtype)), input), dim, keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN entries."""
    if dtype is not None:
        input = input.to(dtype)
    axes = norm_dim(dim, input.ndim, "nanmean")
    count = np.asarray(np.sum(~np.isnan(input._data), axis=axes, keepdims=keepdim), input.dtype)
    if not (count == 0).any():
        return nansum(input, dim, keepdim) / _wrap(count)
    warn(f"nanmean: reducing over no elements (no non-NaN entry in {int((count == 0).sum())} slice(s) over dims "
         f"{tuple(axes)} of shape {tuple(input.shape)}) gives nan; check the mask or slice that emptied it")
    empty = count == 0           # nan there (as torch), added as a constant so that the gradient stays 0
    return nansum(input, dim, keepdim) / _wrap(np.where(empty, 1, count)) + _wrap(np.where(empty, np.nan, 0)
                                                                                   .astype(input.dtype))


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    dim, unbiased = positional_unbiased(dim, unbiased)
    return var(input, dim, unbiased, keepdim, correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    dim, unbiased = positional_unbiased(dim, unbiased)
    return std(input, dim, unbiased, keepdim, correction), mean(input, dim, keepdim)


_AminAmax = collections.namedtuple("return_types", ["min", "max"])


def aminmax(input, *, dim=None, keepdim=False):
    return _AminAmax(amin(input, dim, keepdim), amax(input, dim, keepdim))


register("kthvalue", ref=lambda x, k, dim=-1: np.sort(x, axis=dim).take(k - 1, axis=dim),
         samples=[sample(T((3, 5)), 2), sample(T((4, 3)), 4, 0)])(lambda x, k, dim=-1: kthvalue(x, k, dim).values)
register("median", ref=lambda x, dim=None: np.sort(x.reshape(-1) if dim is None else x, axis=0 if dim is None else dim)
         .take(((x.size if dim is None else x.shape[dim]) - 1) // 2, axis=0 if dim is None else dim),
         samples=[sample(T((3, 4))), sample(T((3, 5)), 1), sample(T((4, 3)), 0)])(
    lambda x, dim=None: median(x) if dim is None else median(x, dim).values)
register("nanmedian", ref=lambda x, dim=None: np.sort(x[~np.isnan(x)])[(int((~np.isnan(x)).sum()) - 1) // 2],
         samples=[sample(T((5,), values=[3.0, np.nan, -1.0, 2.5, 0.5]))])(lambda x: nanmedian(x))
quantile = register("quantile", ref=lambda x, q, dim=None, interpolation="linear": np.quantile(
             x.reshape(-1) if dim is None else x, q, axis=0 if dim is None else dim, method=interpolation),
         samples=[sample(T((3, 5)), 0.3), sample(T((3, 5)), 0.5, 1), sample(T((4, 3)), [0.25, 0.9], 0),
                  sample(T((7,)), 0.4, interpolation="nearest"), sample(T((7,)), 0.5, interpolation="midpoint")])(quantile)
nanquantile = register("nanquantile", ref=lambda x, q, dim=None: np.nanquantile(x, q, axis=dim),
         samples=[sample(T((2, 4), values=[[1.5, np.nan, -2.0, 0.3], [0.5, 1.0, np.nan, np.nan]]), 0.4, 1),
                  sample(T((6,), values=[0.2, np.nan, 3.0, -1.0, 2.2, 0.7]), [0.1, 0.75])])(nanquantile)
nansum = register("nansum", ref=lambda x, dim=None: np.nansum(x, axis=dim),
         samples=[sample(T((3,), values=[1.5, np.nan, -2.0])), sample(T((3, 4)), 1)])(nansum)
nanmean = register("nanmean", ref=lambda x, dim=None: np.nanmean(x, axis=dim),
         samples=[sample(T((2, 3), values=[[1.5, np.nan, -2.0], [0.5, 1.0, 2.0]]), 1), sample(T((3, 4)))])(nanmean)
for _name, _fn in [("kthvalue", kthvalue), ("median", median), ("nanmedian", nanmedian), ("quantile", quantile),
                   ("nanquantile", nanquantile),
                   ("mode", mode), ("msort", msort), ("nansum", nansum), ("nanmean", nanmean),
                   ("aminmax", aminmax)]:
    setattr(Tensor, _name, _fn)
