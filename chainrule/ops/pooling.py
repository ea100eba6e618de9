"""Max, average and power-average pooling over 1-d and 2-d windows, with torch's full signatures (ceil_mode,
return_indices, count_include_pad, divisor_override), and max_unpool, their inverse. Composed from conv.py's
unfold (every window as a column) and reductions over the window, so the gradients are those ops':

    max_pool   the gradient of each output goes to the (first) maximum of its window
    avg_pool   g / divisor to every element of the window (the divisor counts padding or not)
    lp_pool    (Σ_window xᵖ)^(1/p), computed as (avg_pool(xᵖ) · window size)^(1/p), as torch
"""
import functools
import math

import numpy as np

from ..amp import computed_in_float32
from ..errors import ShapeError, warn
from ..tensor import Tensor
from ._util import lowest, ntuple
from .conv import _out_size, unfold
from .index import IndexPut
from .registry import T, register, sample

_wrap = Tensor._wrap


def _out_len(n, k, s, p, d, ceil_mode):
    """Windows along one dim (torch's pooling_output_shape): with ceil_mode a last, partial window is kept if it
    starts inside the input or its left padding."""
    if not ceil_mode:
        return _out_size(n, k, s, p, d)
    out = -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


def geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode, dims=2):
    """(kernel, stride, padding, dilation, *output sizes) over the last `dims` dims, each a dims-tuple; a bad
    geometry raises, worded as the caller's op sees it (a 1-d pool's numbers, not those of the 2-d pool it runs)."""
    k, d, p = ntuple(kernel_size, dims), ntuple(dilation, dims), ntuple(padding, dims)
    s = ntuple(stride, dims) if stride not in (None, ()) else k

    def shown(v):
        return v[0] if dims == 1 else v
    if min(k) < 1 or min(s) < 1 or min(d) < 1:
        raise ValueError(f"{op}: kernel_size {shown(k)}, stride {shown(s)} and dilation {shown(d)} must be positive")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding {shown(p)} should be at most half of the kernel size {shown(k)}")
    out = [_out_len(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(input.shape[-dims:], k, s, p, d)]
    if min(out) < 1:
        raise ShapeError(f"{op}: input {input.shape} is too small for kernel {shown(k)} with padding {shown(p)} and "
                         f"dilation {shown(d)} (output would be {'×'.join(map(str, out))})")
    return (k, s, p, d, *out)


def _windows(x, k, s, p, d, ho, wo, fill):
    """(N·C, kh·kw, ho·wo): every window as a column, padded with `fill` (and past the right edge for ceil_mode)."""
    n, c, H, W = x.shape
    extra = [max(0, (o - 1) * si + di * (ki - 1) + 1 - (size + 2 * pi)) for o, si, di, ki, size, pi in
             zip((ho, wo), s, d, k, (H, W), p)]
    if p != (0, 0) or any(extra):
        from .shape import pad
        x = pad(x, (p[1], p[1] + extra[1], p[0], p[0] + extra[0]), value=fill)
    cols = unfold(x.reshape(n * c, 1, *x.shape[2:]), k, d, 0, s)
    return cols[..., :ho * wo] if cols.shape[-1] != ho * wo else cols


def as_batch(name, input, spatial):
    """(input as a batch (N, C, *spatial), whether it came as one unbatched sample (C, *spatial)); spatial names
    the dims for the error, e.g. "H, W"."""
    dims = check_dims(name, input, spatial)
    return (input, False) if input.ndim == dims + 2 else (input.unsqueeze(0), True)


def check_dims(name, input, spatial):
    """The number of spatial dims, after checking that input is (N, C, *spatial) or (C, *spatial)."""
    dims = spatial.count(",") + 1
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(f"{name}: expected input (N, C, {spatial}) or (C, {spatial}), got shape {input.shape}")
    return dims


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window of (N, C, H, W) (or (C, H, W)); with return_indices also the flat index h·W + w of each
    maximum in its input plane (what max_unpool2d takes)."""
    x, unbatched = as_batch("max_pool2d", input, "H, W")
    k, s, p, d, ho, wo = geometry("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, H, W = x.shape
    cols = _windows(x, k, s, p, d, ho, wo, lowest(x.dtype))
    best = cols.max(dim=1)
    out = best.values.reshape(n, c, ho, wo)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    arg = best.indices._data.reshape(n, c, ho, wo)
    ki, kj = np.divmod(arg, k[1])
    rows = np.arange(ho).reshape(-1, 1) * s[0] - p[0] + ki * d[0]
    cols_ = np.arange(wo) * s[1] - p[1] + kj * d[1]
    indices = _wrap((rows * W + cols_).astype(np.int64))
    return (out.squeeze(0), indices.squeeze(0)) if unbatched else (out, indices)


def _window_spans(n, k, s, p, o, count_include_pad):
    """torch's divisor along one dim: each window clipped to the padded input (count_include_pad) or to the input."""
    start = np.arange(o) * s - p
    end = np.minimum(start + k, n + p)
    return end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)


def window_average(total, input_sizes, k, s, p, count_include_pad, divisor_override):
    """total, the window sums (N, C, *out), divided by divisor_override or by each window's size (the outer product
    of its spans along every dim); by one number when every window has the same size."""
    if divisor_override:
        return total / float(divisor_override)
    divisor = functools.reduce(np.multiply.outer, [
        _window_spans(n, ki, si, pi, o, count_include_pad)
        for n, ki, si, pi, o in zip(input_sizes, k, s, p, total.shape[2:])])
    if (divisor != divisor.flat[0]).any():
        return total / _wrap(divisor.astype(total.dtype))
    return total / float(divisor.flat[0])


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window of (N, C, H, W) (or (C, H, W)): the window's sum divided by its size, counting the zero
    padding (count_include_pad) or not, or by divisor_override."""
    x, unbatched = as_batch("avg_pool2d", input, "H, W")
    k, s, p, _, ho, wo = geometry("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    n, c, H, W = x.shape
    total = _windows(x, k, s, p, (1, 1), ho, wo, 0.0).sum(dim=1).reshape(n, c, ho, wo)
    out = window_average(total, (H, W), k, s, p, count_include_pad, divisor_override)
    return out.squeeze(0) if unbatched else out


def _as_2d(name, input):
    check_dims(name, input, "L")
    return input.unsqueeze(-2)


def _one(v, fill):
    return (fill, ntuple(v, 2)[0]) if v is not None else None


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window of (N, C, L) (or (C, L)); indices are positions along L."""
    x = _as_2d("max_pool1d", input)
    geometry("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, 1)   # errors in 1-d terms
    res = max_pool2d(x, _one(kernel_size, 1), _one(stride, 1), _one(padding, 0),
                     _one(dilation, 1), ceil_mode, return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    x = _as_2d("avg_pool1d", input)
    geometry("avg_pool1d", input, kernel_size, stride, padding, 1, ceil_mode, 1)   # errors in 1-d terms
    return avg_pool2d(x, _one(kernel_size, 1), _one(stride, 1), _one(padding, 0),
                      ceil_mode, count_include_pad).squeeze(-2)


def _max_unpool(name, dims, input, indices, kernel_size, stride, padding, output_size):
    """The inverse of a max pool over the last `dims` dims: zeros of the unpooled size with each value put back at
    its index (the flat position within the plane that max_pool(return_indices=True) gave). Default size:
    (n - 1)·s - 2p + k per dim."""
    if input.shape != indices.shape:
        raise ShapeError(f"{name}: input {input.shape} and indices {indices.shape} must have the same shape")
    k, p = ntuple(kernel_size, dims), ntuple(padding, dims)
    s = ntuple(stride, dims) if stride is not None else k
    spatial = input.shape[-dims:]
    size = tuple(output_size[-dims:]) if output_size is not None else \
        tuple((n - 1) * s_ - 2 * p_ + k_ for n, s_, p_, k_ in zip(spatial, s, p, k))
    lead = input.shape[:-dims]
    planes = int(np.prod(lead)) if lead else 1
    volume = int(np.prod(size))
    idx = indices._data.reshape(planes, int(np.prod(indices.shape[len(lead):])))   # not -1: planes may be 0
    if idx.size and (idx.min() < 0 or idx.max() >= volume):
        raise IndexError(f"{name}: an index ({idx.min()} … {idx.max()}) falls outside the output size {size}")
    zeros = _wrap(np.zeros((planes, volume), input.dtype))
    where = (np.arange(planes)[:, None], idx)
    return IndexPut.apply(zeros, input.reshape(planes, idx.shape[1]), index=where).reshape(*lead, *size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d (see _max_unpool)."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool3d: each value put back at its flat d·H·W + h·W + w index."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    size = None if output_size is None else (1, output_size[-1])
    return max_unpool2d(input.unsqueeze(-2), indices.unsqueeze(-2), _one(kernel_size, 1),
                        _one(stride, 1), _one(padding, 0), size).squeeze(-2)


def lp_root(pooled, volume, p, name="lp_pool"):
    """(volume · relu(pooled))^(1/p) with torch's sign·relu(|·|) clamp, and 0 (value and gradient) for a window
    that sums to 0: the root's derivative there is ∞ and the clamp's is 0, whose product would be nan. A window
    whose Σxᵖ is negative (odd p, negative inputs) has no real root: nan, value and gradient, as in torch, with a
    warning that says why (not NumPy's bare 'invalid value encountered in power')."""
    total = pooled.sign() * pooled.abs().relu() * float(volume)
    d = total._data
    root = 1.0 / p
    # (-∞ has a root in IEEE pow, +∞, as in torch)
    unreal = (d < 0) & (d > -np.inf) if not root.is_integer() else np.zeros(d.shape, bool)
    bad = (d == 0) | unreal
    if not bad.any():
        return total ** root
    good = (~bad).astype(total.dtype)
    keep = good
    if unreal.any():
        warn(f"{name}: {int(unreal.sum())} window(s) have a negative sum of x^{p:g} (norm_type {p:g} is odd and "
             f"their inputs negative); the {p:g}-th root of a negative number is nan, as in torch. Use an even "
             f"norm_type, or make the input non-negative (e.g. after a ReLU)")
        keep = np.where(unreal, np.nan, good).astype(total.dtype)   # nan value and nan gradient there, as torch's
    # a base of 1 where the root is left out; multiplying total by 0 (not where()) passes a nan gradient on
    base = total * Tensor._wrap(good) + Tensor._wrap(bad.astype(total.dtype))
    return base ** root * Tensor._wrap(keep)


@computed_in_float32
def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(Σ_window xᵖ)^(1/p) over each window (p = norm_type; p = ∞ is max pooling)."""
    if math.isinf(norm_type):
        return max_pool2d(input, kernel_size, stride, ceil_mode=ceil_mode)
    k = ntuple(kernel_size, 2)
    check_dims("lp_pool2d", input, "H, W")
    geometry("lp_pool2d", input, k, stride, 0, 1, ceil_mode)
    pooled = avg_pool2d(input ** norm_type, k, stride, 0, ceil_mode)
    return lp_root(pooled, k[0] * k[1], norm_type, "lp_pool2d")


@computed_in_float32
def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(Σ_window xᵖ)^(1/p) over each window of (N, C, L) (or (C, L)); p = ∞ is max pooling."""
    if math.isinf(norm_type):
        return max_pool1d(input, kernel_size, stride, ceil_mode=ceil_mode)
    check_dims("lp_pool1d", input, "L")
    k = ntuple(kernel_size, 1)[0]
    geometry("lp_pool1d", input, k, stride, 0, 1, ceil_mode, 1)
    return lp_root(avg_pool1d(input ** norm_type, k, stride, 0, ceil_mode), k, norm_type, "lp_pool1d")


max_pool2d = register("max_pool2d", ref=None, samples=[sample(T((2, 2, 4, 4)), 2), sample(T((1, 1, 5, 5)), 3, 2, 1),
                                          sample(T((1, 2, 5, 6)), 2, 2, 0, 1, True), sample(T((2, 5, 5)), 3, 2, 1, 2)])(max_pool2d)
avg_pool2d = register("avg_pool2d", ref=None, samples=[sample(T((2, 2, 4, 4)), 2), sample(T((1, 1, 5, 5)), 3, 2, 1),
                                          sample(T((1, 2, 5, 6)), 3, 2, 1, True, False),
                                          sample(T((1, 1, 5, 5)), 2, 2, 1, True, True), sample(T((2, 4, 4)), 2, 1, 0, False, True, 3)])(avg_pool2d)
max_pool1d = register("max_pool1d", ref=None, samples=[sample(T((2, 3, 6)), 2), sample(T((1, 2, 7)), 3, 2, 1),
                                          sample(T((2, 7)), 2, 2, 0, 1, True)])(max_pool1d)
avg_pool1d = register("avg_pool1d", ref=None, samples=[sample(T((2, 3, 6)), 2), sample(T((1, 2, 7)), 3, 2, 1),
                                          sample(T((1, 2, 7)), 3, 2, 1, True, False)])(avg_pool1d)
register("max_unpool2d", ref=None, samples=[sample(T((1, 2, 2, 2)), np.array([[[[0, 3], [9, 14]], [[1, 2], [12, 15]]]]),
                                                   2)])(lambda x, i, k: max_unpool2d(x, _wrap(i), k))
lp_pool2d = register("lp_pool2d", ref=None, samples=[sample(T((1, 2, 4, 4), 0.2, 2), 2, 2), sample(T((1, 1, 5, 5), 0.2, 2), 3, 3, 2, True)])(lp_pool2d)
lp_pool1d = register("lp_pool1d", ref=None, samples=[sample(T((2, 2, 6), 0.2, 2), 1.5, 3)])(lp_pool1d)
