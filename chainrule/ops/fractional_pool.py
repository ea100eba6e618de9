"""Fractional max pooling (Graham, 2014), torch's F.fractional_max_pool2d / 3d: windows of a fixed size whose
starts follow a pseudo-random sequence, so the output size can be any fraction of the input's. Along a dim of
input size n, window size k and output size o, with u ∈ [0, 1) drawn per (sample, channel, dim):

    α = (n - k) / (o - 1),   start_i = ⌊(i + u)·α⌋ - ⌊u·α⌋ for i < o - 1,   start_{o-1} = n - k

Composed from gather and max over each window, so the gradient goes to the first maximum of each window, as
torch's, and the indices are the flat positions in the input plane (or volume).
"""
import numpy as np

from ..errors import ShapeError
from ..random import _gen
from ..tensor import Tensor
from .pooling import as_batch
from .registry import T, register, sample

_wrap = Tensor._wrap


def _starts(u, n, k, o):
    """Window starts (…, o) for samples u (…): torch's generate_intervals, in the input's float precision."""
    out = np.empty(u.shape + (o,), np.int64)
    if o > 1:
        alpha = u.dtype.type((n - k) / (o - 1))
        i = np.arange(o - 1, dtype=u.dtype)
        out[..., :-1] = (np.floor((i + u[..., None]) * alpha) - np.floor(u[..., None] * alpha)).astype(np.int64)
    out[..., -1] = n - k
    return out


def _fractional(name, dims, input, kernel_size, output_size, output_ratio, return_indices, _random_samples):
    x, unbatched = as_batch(name, input, "H, W" if dims == 2 else "D, H, W")
    spatial = x.shape[2:]
    k = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{name}: give output_size or output_ratio")
        ratio = (output_ratio,) * dims if isinstance(output_ratio, (int, float)) else tuple(output_ratio)
        output_size = tuple(int(n * r) for n, r in zip(spatial, ratio))
    out = (output_size,) * dims if isinstance(output_size, int) else tuple(output_size)
    for n, ki, oi in zip(spatial, k, out):
        if oi + ki - 1 > n or oi < 1:
            raise ShapeError(f"{name}: output size {out} with kernel {k} does not fit the input's {tuple(spatial)} "
                             f"(need output + kernel - 1 ≤ input in every dim)")
    N, C = x.shape[:2]
    if _random_samples is None:
        u = _gen(None).random((N, C, dims)).astype(x.dtype)
    else:
        u = np.asarray(_random_samples._data if isinstance(_random_samples, Tensor) else _random_samples, x.dtype)
        if u.ndim != 3 or u.shape[0] < N or u.shape[1:] != (C, dims):   # torch reads the first N rows only
            raise ShapeError(f"{name}: _random_samples must have shape (≥{N}, {C}, {dims}), got {u.shape}")
        u = u[:N]
    # torch reads the samples last dim first in 2-d (u[..., 0] for the width) and in order in 3-d
    order = (1, 0) if dims == 2 else (0, 1, 2)
    starts = [_starts(u[..., order[d]], spatial[d], k[d], out[d]) for d in range(dims)]   # each (N, C, o_d)
    strides = np.cumprod((1,) + tuple(spatial[::-1]))[:-1][::-1]                          # flat index weights
    flat = np.zeros((N, C) + out + k, np.int64)
    for d in range(dims):
        pos = starts[d].reshape((N, C) + tuple(out[d] if j == d else 1 for j in range(dims)) + (1,) * dims) + \
            np.arange(k[d]).reshape((1, 1) + (1,) * dims + tuple(k[d] if j == d else 1 for j in range(dims)))
        flat = flat + pos * strides[d]
    n_in, n_win = int(np.prod(spatial)), int(np.prod(out + k))   # sizes spelt out: -1 is ambiguous for N = 0
    window = x.reshape(N, C, n_in).gather(2, _wrap(flat.reshape(N, C, n_win))).reshape(N, C, *out, int(np.prod(k)))
    best = window.max(dim=-1)
    values = best.values
    indices = _wrap(np.take_along_axis(flat.reshape(N, C, *out, int(np.prod(k))), best.indices._data[..., None], -1)[..., 0])
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Max over pseudo-random (kh, kw) windows of (N, C, H, W) (or (C, H, W)) giving output_size, or
    output_ratio × the input size; _random_samples (N, C, 2) fixes the windows (drawn from chainrule's generator
    otherwise)."""
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """fractional_max_pool2d over (kd, kh, kw) windows of (N, C, D, H, W); _random_samples is (N, C, 3)."""
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


_U2 = np.array([[[0.3, 0.7], [0.1, 0.9]]])
fractional_max_pool2d = register("fractional_max_pool2d", ref=None,
         samples=[sample(T((1, 2, 7, 6)), 2, (4, 3), _random_samples=_U2),
                  sample(T((1, 2, 8, 8)), 3, None, 0.5, _random_samples=_U2)])(fractional_max_pool2d)
fractional_max_pool3d = register("fractional_max_pool3d", ref=None,
         samples=[sample(T((1, 1, 5, 6, 5)), 2, (3, 4, 3), _random_samples=np.array([[[0.2, 0.6, 0.4]]]))])(
    fractional_max_pool3d)
