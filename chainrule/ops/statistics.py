"""Statistics and bucketing with torch's names. cov, corrcoef, dist and renorm are compositions of registered ops
(so they differentiate); histc, histogram, bucketize, searchsorted, isin, argwhere and unique_consecutive count
or locate, and return tensors without a gradient, as in torch.

    cov(X)ᵢⱼ = Σₖ wₖ (xᵢₖ - x̄ᵢ)(xⱼₖ - x̄ⱼ) / (Σw - c·Σ(w·a)/Σw),  x̄ᵢ = Σₖ wₖ xᵢₖ / Σw,  w = fweights·aweights
    corrcoef(X)ᵢⱼ = cov(X)ᵢⱼ / √(cov(X)ᵢᵢ cov(X)ⱼⱼ), clipped to [-1, 1]
    renorm: each slice along dim whose p-norm exceeds maxnorm is scaled by maxnorm / (norm + 1e-7)
"""
import collections

import numpy as np

from ..amp import computed_in_float32
from ..errors import ShapeError
from ..tensor import Tensor
from .discrete import nonzero
from .elementwise import where
from .registry import T, register, sample
from ._util import as_array, floating

_wrap = Tensor._wrap
_Histogram = collections.namedtuple("return_types", ["hist", "bin_edges"])


@computed_in_float32
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in input's rows (observations in columns); a 1-d input is one
    variable and gives a 0-d variance. fweights are integer repeat counts, aweights relative importances."""
    if input.ndim > 2:
        raise ShapeError(f"cov: expects a 1-d or 2-d tensor (variables × observations), got shape {input.shape}")
    x = floating(input)
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n = x.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is not None:
            if weights.ndim != 1 or weights.shape[0] != n:
                raise ShapeError(f"cov: {name} must be 1-d with one weight per observation ({n}), got shape "
                                 f"{weights.shape}")
            if (weights._data < 0).any():
                raise ValueError(f"cov: {name} must be non-negative")
            weights = weights.to(x.dtype)
            w = weights if w is None else w * weights
    total = w.sum() if w is not None else float(n)
    mean = ((x * w).sum(1, keepdim=True) / total) if w is not None else x.mean(1, keepdim=True)
    xc = x - mean
    if correction == 0:
        norm = total
    elif aweights is not None:
        norm = total - correction * (w * aweights.to(x.dtype)).sum() / total
    else:
        norm = total - correction
    c = ((xc * w) if w is not None else xc) @ xc.mT / norm
    return c.reshape(()) if input.ndim < 2 or x.shape[0] == 1 else c   # one variable: its variance, 0-d (torch)


@computed_in_float32
def corrcoef(input):
    """Pearson correlation coefficients of the rows (variables) of input."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal().sqrt()
    return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1.0, 1.0)


@computed_in_float32
def dist(input, other, p=2):
    """‖input - other‖ₚ over all elements (broadcast first)."""
    diff = input - other
    if p == 0:
        return _wrap(np.asarray(np.count_nonzero(diff._data), dtype=diff.dtype))
    return diff.norm(p)


def renorm(input, p, dim, maxnorm):
    """Each slice input.select(dim, i) with ‖·‖ₚ > maxnorm scaled down to norm maxnorm (torch's rule:
    by maxnorm / (‖·‖ₚ + 1e-7)); the other slices unchanged."""
    if maxnorm < 0:
        raise ValueError(f"renorm: maxnorm must be ≥ 0, got {maxnorm}")
    if input.ndim < 2:
        raise ShapeError(f"renorm: the input needs at least 2 dims (slices along dim {dim}, each with a norm), got "
                         f"shape {input.shape}")
    d = dim % input.ndim
    axes = tuple(i for i in range(input.ndim) if i != d)
    big = _wrap(input.detach().norm(p, dim=axes, keepdim=True)._data > maxnorm)
    zero, one = _wrap(np.zeros((), input.dtype)), _wrap(np.ones((), input.dtype))
    # only the slices that are scaled enter the differentiated norm: a NaN slice's norm would send 0·NaN back
    norms = where(big, input, zero).norm(p, dim=axes, keepdim=True)
    # the slices left alone divide by 1, not by 1e-7 (maxnorm/1e-7 overflows float16, though where drops it)
    scale = where(big, maxnorm / where(big, norms + 1e-7, one), one)
    return input * scale


# ---- counting and locating (no gradient) ---------------------------------------------------------------------
def histc(input, bins=100, min=0, max=0):
    """Counts in `bins` equal bins over [min, max] (the data's range when both are 0); values outside are
    ignored. The counts have input's float dtype, as torch."""
    x = input._data
    lo, hi = float(min), float(max)
    if lo == hi:
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max ({hi}) must be ≥ min ({lo})")
    counts, _ = np.histogram(x[np.isfinite(x)], bins=bins, range=(lo, hi))
    return _wrap(counts.astype(x.dtype if x.dtype.kind == "f" else np.float32))


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """(hist, bin_edges) as torch.histogram: `bins` a count or the edges as a tensor."""
    edges = bins._data if isinstance(bins, Tensor) else bins
    hist, out_edges = np.histogram(input._data, bins=edges, range=range, density=density,
                                   weights=weight._data if weight is not None else None)
    dt = input._data.dtype
    return _Histogram(_wrap(hist.astype(dt)), _wrap(out_edges.astype(dt)))


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges) of the points in input's last dim (a (*, D) input is N = prod(*) points in D dims), as
    torch.histogramdd: bins a count for every dim, a count per dim, or the edges per dim as 1-d tensors; range
    [min₀, max₀, min₁, max₁, …] (points outside are left out; the last bin of each dim includes its right edge)."""
    x = input._data
    if x.ndim < 2:
        raise ShapeError(f"histogramdd: input must be (*, D) points with their D coordinates in the last dim, got "
                         f"shape {x.shape}; reshape a 1-d input to (N, 1), or use histogram")
    dims = x.shape[-1]
    if not isinstance(bins, (int, list, tuple)) or isinstance(bins, bool):
        raise TypeError(f"histogramdd: bins must be an int, a count per dim or a list of edge tensors per dim, got "
                        f"{type(bins).__name__}")
    if not isinstance(bins, int):
        bins = [b._data if isinstance(b, Tensor) else b for b in bins]
        if len(bins) != dims:
            raise ValueError(f"histogramdd: bins gives {len(bins)} dims, the points have {dims}")
        for d, edges in enumerate(bins):   # torch bins nothing into decreasing edges, silently; say so instead
            if np.ndim(edges) == 1 and np.any(np.diff(edges) < 0):
                raise ValueError(f"histogramdd: the edges of bins[{d}] must increase, got {np.asarray(edges)}")
    limits = None
    if range is not None:
        if len(range) != 2 * dims:
            raise ValueError(f"histogramdd: range must give a min and a max per dim, 2·{dims} numbers, got "
                             f"{len(range)}")
        limits = list(zip(range[0::2], range[1::2]))
    w = None
    if weight is not None:
        w = as_array(weight)
        if w.shape != x.shape[:-1]:
            raise ShapeError(f"histogramdd: weight must have one entry per point, shape {x.shape[:-1]}, got {w.shape}")
        w = w.reshape(-1)
    hist, edges = np.histogramdd(x.reshape(-1, dims), bins=bins, range=limits, weights=w, density=density)
    return _Histogram(_wrap(hist.astype(x.dtype)), tuple(_wrap(e.astype(x.dtype)) for e in edges))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """For each value, the index of the bucket it falls in: i with boundaries[i-1] < x ≤ boundaries[i]
    (right=False) or boundaries[i-1] ≤ x < boundaries[i] (right=True)."""
    b = as_array(boundaries)
    if b.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-d, got shape {b.shape}")
    x = as_array(input)
    out = np.searchsorted(b, x, side="right" if right else "left")
    return _wrap(np.asarray(out, dtype=np.int32 if out_int32 else np.int64))


def searchsorted(sorted_sequence, values=None, *, out_int32=False, right=False, side=None, sorter=None, input=None):
    """Insertion points of values into each row of sorted_sequence (its leading dims match values'): left
    (first position) by default, right with right=True or side='right'. torch documents the second argument as
    `values` but its keyword is `input`: both are taken."""
    if (values is None) == (input is None):
        raise TypeError("searchsorted: give the values to insert once, as the second argument, values= or input=")
    values = input if values is None else values
    seq = sorted_sequence._data
    vals = as_array(values)
    how = side or ("right" if right else "left")
    order = sorter._data if sorter is not None else None
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=how, sorter=order)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise ShapeError(f"searchsorted: the leading dims of sorted_sequence {seq.shape} and values {vals.shape} "
                             f"must match")
        n = int(np.prod(seq.shape[:-1]))   # rows counted, not inferred: a -1 cannot be read off an empty array
        rows, vrows = seq.reshape(n, seq.shape[-1]), vals.reshape(n, vals.shape[-1])
        srt = order.reshape(rows.shape) if order is not None else None
        out = np.empty(vrows.shape, np.int64)
        for i, (r, v) in enumerate(zip(rows, vrows)):
            out[i] = np.searchsorted(r, v, side=how, sorter=None if srt is None else srt[i])
        out = out.reshape(vals.shape)
    return _wrap(np.asarray(out, dtype=np.int32 if out_int32 else np.int64))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element occurs in test_elements (a tensor or a number)."""
    e = as_array(elements)
    t = as_array(test_elements)
    return _wrap(np.isin(e, t, assume_unique=assume_unique, invert=invert))


def argwhere(input):
    """The indices of the non-zero elements, one row each: (n, ndim)."""
    return nonzero(input)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive elements (or slices along dim) collapsed to one, with the inverse map and the
    run lengths on request."""
    x = input._data
    if dim is None:
        flat = x.reshape(-1)
        starts = np.r_[True, flat[1:] != flat[:-1]] if flat.size else np.zeros(0, bool)
        values = flat[starts]
        inverse_shape = x.shape
    else:
        d = dim % x.ndim
        moved = np.moveaxis(x, d, 0).reshape(x.shape[d], x.size // x.shape[d] if x.shape[d] else 0)
        starts = np.r_[True, (moved[1:] != moved[:-1]).any(1)] if moved.shape[0] else np.zeros(0, bool)
        values = np.compress(starts, x, axis=d)
        inverse_shape = (x.shape[d],)
    out = [_wrap(values)]
    if return_inverse:
        out.append(_wrap((np.cumsum(starts) - 1).astype(np.int64).reshape(inverse_shape)))
    if return_counts:
        out.append(_wrap(np.diff(np.r_[np.flatnonzero(starts), starts.size]).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


cov = register("cov", method="cov", ref=lambda x, **k: np.cov(x), samples=[sample(T((3, 5))), sample(T((6,)))])(cov)
register("cov_weighted", ref=None,
         samples=[sample(T((2, 5)), T((5,), 1, 4, dtype="int64", grad=False), T((5,), 0.5, 2), c) for c in (0, 1)])(
    lambda x, fweights, aweights, correction: cov(x, correction=correction, fweights=fweights, aweights=aweights))
corrcoef = register("corrcoef", method="corrcoef", ref=np.corrcoef, samples=[sample(T((3, 6)))])(corrcoef)
dist = register("dist", method="dist", ref=lambda a, b, p=2: np.linalg.norm((a - b).reshape(-1), p),
         samples=[sample(T((3, 4)), T((4,))), sample(T((3,)), T((3,)), 3), sample(T((2, 2)), T((2, 2)), 1)])(dist)
renorm = register("renorm", method="renorm", ref=None,
         samples=[sample(T((3, 4)), 2, 0, 1.0), sample(T((2, 3, 2)), 1, 1, 2.0), sample(T((3, 2), -0.1, 0.1), 2, 1, 5.0)])(renorm)
for _name, _fn in (("histc", histc), ("histogram", histogram), ("bucketize", bucketize), ("isin", isin),
                   ("argwhere", argwhere), ("unique_consecutive", unique_consecutive)):
    setattr(Tensor, _name, _fn)
