"""Resizing (torch's F.interpolate, every mode). Each mode is separable: along one spatial dim, output i is a weighted
sum of a few inputs, y_i = Σ_k w_ik · x_{idx_ik} — a sparse linear map, one `Taps` op per dim. Its backward is the
transposed map, dx_j = Σ_{(i,k): idx_ik = j} w_ik · g_i, itself a Taps, so every mode is twice differentiable.

Only the taps are read (a gather, not a dense matrix product): an inf in one pixel stays in the outputs that read
it, instead of turning 0·inf into NaN across the whole row.

Source positions follow torch's (ATen UpSample.h): with align_corners, src = i·(n-1)/(o-1); otherwise
src = (i + ½)·s - ½ with s = 1/scale_factor when one is given (and not recomputed), else n/o.
    nearest        floor(i·s)               nearest-exact   floor((i + ½)·s)          (float32, as torch)
    linear         (1-λ)·x_⌊src⌋ + λ·x_⌊src⌋+1, src clamped at 0
    cubic          4 taps, Keys' kernel with A = -0.75, indices clamped to the edge
    area           the mean over [⌊i·n/o⌋, ⌈(i+1)·n/o⌉)  (adaptive average pooling)
    antialias      linear/cubic filters stretched by s when shrinking, normalised (PIL's, torch's _aa kernels)
"""
import math

import numpy as np

from ..autograd.function import Op
from ..errors import ShapeError
from ._util import copied
from .conv import adaptive_bounds
from .registry import T, register, sample

_CUBIC_A = -0.75
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


class TapMap:
    """The sparse linear map of one dim: idx (o, K) into n inputs (idx == n reads a padding zero), weights w (o, K)
    or None for pure copies (nearest)."""

    def __init__(self, idx, w, n):
        self.idx, self.w, self.n = idx, w, n
        self._t = None

    def transpose(self):
        """The adjoint map, n outputs from o inputs: input j collects every (i, w_ik) with idx_ik = j."""
        if self._t is None:
            o, k = self.idx.shape
            rows = np.repeat(np.arange(o), k)
            cols = self.idx.reshape(-1)
            w = np.ones(o * k) if self.w is None else self.w.reshape(-1)
            keep = cols < self.n
            rows, cols, w = rows[keep], cols[keep], w[keep]
            order = np.argsort(cols, kind="stable")
            rows, cols, w = rows[order], cols[order], w[order]
            counts = np.bincount(cols, minlength=self.n)
            width = max(int(counts.max()) if counts.size else 0, 1)
            slot = np.arange(cols.size) - np.repeat(np.cumsum(counts) - counts, counts)
            idx_t = np.full((self.n, width), o, np.int64)
            w_t = np.zeros((self.n, width))
            idx_t[cols, slot] = rows
            w_t[cols, slot] = w
            self._t = TapMap(idx_t, w_t, o)
            self._t._t = self
        return self._t


class Taps(Op):
    """y[..., i, ...] = Σ_k w[i, k] · x[..., idx[i, k], ...] along `axis`;  dx = the transposed taps applied to g."""
    saves_inputs = False   # linear in x: backward reads only the map

    def forward(self, x, axis, taps):
        self.axis, self.taps = axis, taps
        xm = np.moveaxis(x, axis, -1)
        idx, w = taps.idx, taps.w
        if idx.size and idx.max() >= taps.n:   # ragged rows read a zero appended after the last input
            xm = np.concatenate([xm, np.zeros(xm.shape[:-1] + (1,), x.dtype)], axis=-1)
        if w is None:
            out = xm[..., idx[:, 0]]
        else:
            w = w.astype(x.dtype, copy=False)
            out = xm[..., idx[:, 0]] * w[:, 0]
            for k in range(1, idx.shape[1]):
                out += xm[..., idx[:, k]] * w[:, k]
        return np.ascontiguousarray(np.moveaxis(out, -1, axis))

    def backward(self, g):
        return Taps.apply(g, axis=self.axis, taps=self.taps.transpose())


# ---- the maps of each mode ------------------------------------------------------------------------------------
def _scale(n, o, align_corners, factor):
    """torch's area_pixel_compute_scale: input step per output step."""
    if align_corners:
        return (n - 1) / (o - 1) if o > 1 else 0.0
    return 1.0 / factor if factor is not None and factor > 0 else n / o


def _source(scale, i, align_corners, cubic):
    if align_corners:
        return scale * i
    src = scale * (i + 0.5) - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _floor_and_lambda(src, n):
    """torch's guard_index_and_lambda: the left index (≤ n-1) and the fraction past it, in [0, 1]."""
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    return i0, np.clip(src - i0, 0.0, 1.0)


def _nearest(n, o, factor, exact, dims):
    if o == n and not exact and dims == 2:   # torch copies here for 2-d input only; 1-d and 3-d apply the scale
        return TapMap(np.arange(o)[:, None], None, n)
    s = np.float32(1.0 / factor if factor is not None and factor > 0 else n / o)
    i = np.arange(o, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return TapMap(np.minimum(np.floor(i * s).astype(np.int64), n - 1)[:, None], None, n)


def _linear(n, o, align_corners, factor):
    if o == n:
        return TapMap(np.arange(o)[:, None], None, n)
    i0, lam = _floor_and_lambda(_source(_scale(n, o, align_corners, factor), np.arange(o), align_corners, False), n)
    i1 = i0 + (i0 < n - 1)
    return TapMap(np.stack([i0, i1], 1), np.stack([1.0 - lam, lam], 1), n)


def _keys(x, a):
    """Keys' cubic convolution kernel W(x) (|x| < 1 and 1 ≤ |x| < 2 pieces), parameter a."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _cubic(n, o, align_corners, factor):
    i0, t = _floor_and_lambda(_source(_scale(n, o, align_corners, factor), np.arange(o), align_corners, True), n)
    idx = np.clip(i0[:, None] + np.arange(-1, 3), 0, n - 1)
    w = _keys(t[:, None] - np.arange(-1, 3), _CUBIC_A)
    return TapMap(idx, w, n)


def _area(n, o):
    """The mean over torch's adaptive windows (conv.adaptive_bounds)."""
    start, end = np.array(adaptive_bounds(n, o)).T
    width = int((end - start).max())
    idx = start[:, None] + np.arange(width)
    inside = idx < end[:, None]
    return TapMap(np.where(inside, idx, n), inside / (end - start)[:, None], n)


def _antialiased(n, o, align_corners, factor, cubic):
    """torch's _compute_indices_min_size_weights_aa: a filter of support (taps/2)·s centred at s·(i + ½),
    stretched by s when shrinking (s > 1) so that every input contributes, weights normalised to sum 1."""
    taps = 4 if cubic else 2
    s = _scale(n, o, align_corners, factor)
    support = taps / 2 * s if s >= 1 else taps / 2
    inv = 1 / s if s >= 1 else 1.0
    width = int(math.ceil(support)) * 2 + 1
    center = s * (np.arange(o) + 0.5)
    lo = np.maximum((center - support + 0.5).astype(np.int64), 0)
    size = np.clip(np.minimum((center + support + 0.5).astype(np.int64), n) - lo, 0, width)
    j = np.arange(width)
    x = (j + lo[:, None] - center[:, None] + 0.5) * inv
    w = _keys(x, -0.5) if cubic else np.maximum(0.0, 1 - np.abs(x))
    inside = j < size[:, None]
    w = np.where(inside, w, 0.0)
    total = w.sum(1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total != 0)
    return TapMap(np.where(inside, lo[:, None] + j, n), w, n)


def _map(mode, n, o, align_corners, factor, antialias, dims):
    if mode in ("nearest", "nearest-exact"):
        return _nearest(n, o, factor, mode == "nearest-exact", dims)
    if mode == "area":
        return _area(n, o)
    if antialias:
        return _antialiased(n, o, align_corners, factor, mode == "bicubic")
    if mode == "bicubic":
        return _cubic(n, o, align_corners, factor)
    return _linear(n, o, align_corners, factor)


def _as_tuple(v, dims, what, op):
    if isinstance(v, (list, tuple)):
        if len(v) != dims:
            raise ShapeError(f"{op}: {what} {tuple(v)} has {len(v)} entries for {dims} spatial dims; give one "
                             f"per dim after (N, C)")
        return tuple(v)
    return (v,) * dims


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """torch.nn.functional.interpolate: resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to
    `size` or by `scale_factor`, with mode nearest, nearest-exact, linear (3-d input), bilinear (4-d), bicubic (4-d),
    trilinear (5-d) or area; align_corners for the linear and cubic modes, antialias for bilinear and bicubic."""
    if mode not in _MODES:
        raise ValueError(f"interpolate: unknown mode {mode!r}; expected one of {', '.join(_MODES)}")
    spatial = tuple(input.shape[2:])
    dims = len(spatial)
    if not 1 <= dims <= 3:
        raise ShapeError(f"interpolate: expected (N, C, L), (N, C, H, W) or (N, C, D, H, W), got shape {input.shape}")
    want = _MODE_DIMS.get(mode)
    if want is not None and want != dims:
        raise ShapeError(f"interpolate: mode {mode!r} needs {want + 2}-d input (N, C + {want} spatial dims), got "
                         f"shape {input.shape}; use {[m for m, d in _MODE_DIMS.items() if d == dims][0]!r}")
    if align_corners is not None and want is None:
        raise ValueError(f"interpolate: align_corners only applies to linear, bilinear, bicubic and trilinear, not "
                         f"mode {mode!r}; leave it None")
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError(f"interpolate: antialias applies to bilinear and bicubic only, not mode {mode!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out, factors = _as_tuple(size, dims, "size", "interpolate"), (None,) * dims
    else:
        factors = tuple(float(f) for f in _as_tuple(scale_factor, dims, "scale_factor", "interpolate"))
        out = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
        if recompute_scale_factor:
            factors = (None,) * dims
    if min(out) < 1 or min(spatial) < 1:
        raise ShapeError(f"interpolate: input spatial size {spatial} → output {out}; both must be positive "
                         f"(a scale_factor that rounds a dim down to 0?)")
    y = input
    for d, (n, o, f) in enumerate(zip(spatial, out, factors)):
        taps = _map(mode, n, o, bool(align_corners), f, antialias, dims)
        if not (taps.w is None and o == n and (taps.idx[:, 0] == np.arange(n)).all()):   # an identity map
            y = Taps.apply(y, axis=d + 2, taps=taps)
    return copied(y, input)


def adaptive_avg_pool3d(input, output_size):
    """torch's F.adaptive_avg_pool3d: the mean over windows [⌊i·n/o⌋, ⌈(i+1)·n/o⌉) in each of D, H, W —
    separable, so three area Taps. (N, C, D, H, W) or unbatched (C, D, H, W); None in output_size keeps that size."""
    if input.ndim not in (4, 5):
        raise ShapeError(f"adaptive_avg_pool3d: expected (N, C, D, H, W) or (C, D, H, W), got {input.shape}")
    return adaptive_avg_pool(input, _as_tuple(output_size, 3, "output_size", "adaptive_avg_pool3d"),
                             "adaptive_avg_pool3d")


def adaptive_avg_pool(input, sizes, op):
    """Adaptive average pooling of the last len(sizes) dims to `sizes` (None keeps a dim): one area Taps per dim
    that changes."""
    spatial = input.shape[-len(sizes):]
    out = tuple(n if o is None else int(o) for n, o in zip(spatial, sizes))
    if min(out) < 1:
        raise ShapeError(f"{op}: output_size {tuple(sizes)} must be positive")
    y = input
    for axis, (n, o) in enumerate(zip(spatial, out)):
        if n != o:
            y = Taps.apply(y, axis=input.ndim - len(sizes) + axis, taps=_area(n, o))
    return copied(y, input)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """torch's deprecated F.upsample: interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_bilinear(input, size=None, scale_factor=None):
    """F.upsample_bilinear: bilinear with align_corners=True."""
    return interpolate(input, size, scale_factor, "bilinear", True)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, "nearest")


interpolate = register("interpolate", samples=[
    sample(T((1, 2, 3, 4)), scale_factor=2), sample(T((2, 1, 5)), size=3), sample(T((1, 1, 2, 3)), size=(3, 7)),
    sample(T((2, 1, 5)), size=8, mode="linear"), sample(T((1, 2, 3, 4)), scale_factor=1.7, mode="bilinear"),
    sample(T((1, 1, 4, 3)), size=(2, 5), mode="bilinear", align_corners=True),
    sample(T((1, 1, 3, 4)), size=(5, 3), mode="bicubic"),
    sample(T((1, 1, 3, 4)), scale_factor=2, mode="bicubic", align_corners=True),
    sample(T((1, 1, 2, 3, 2)), size=(3, 2, 4), mode="trilinear"), sample(T((1, 2, 7)), size=3, mode="area"),
    sample(T((1, 1, 5, 6)), size=(2, 4), mode="area"), sample(T((1, 1, 5)), size=7, mode="nearest-exact"),
    sample(T((1, 1, 7, 6)), size=(3, 2), mode="bilinear", antialias=True),
    sample(T((1, 1, 6, 5)), size=(2, 4), mode="bicubic", antialias=True)])(interpolate)
adaptive_avg_pool3d = register("adaptive_avg_pool3d", samples=[sample(T((1, 2, 5, 4, 3)), (2, 3, 2)), sample(T((2, 3, 4, 5)), (3, None, 2))])(
    adaptive_avg_pool3d)
