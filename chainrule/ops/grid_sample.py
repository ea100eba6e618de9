"""Spatial transformers: affine_grid makes sampling positions, grid_sample reads the input there (torch's
F.affine_grid / F.grid_sample). Composed from registered ops, so the input and the grid both get gradients:

    unnormalise     align_corners: i = (g + 1)/2 · (n - 1);   otherwise i = ((g + 1)·n - 1)/2
    padding         zeros: taps outside read 0;  border: clamp i to [0, n-1];  reflection: fold i back at the edges
    bilinear        out = Σ_corners Π_k (1 - |i_k - c_k|) · x[c]      ∂out/∂i_k = Σ ± Π_{j≠k} … · x[c]
    nearest         x[round-half-even(i)]  (no gradient for the grid, as torch: zeros)
    bicubic         4×4 taps, Keys' kernel (A = -0.75) in each dim; padding applies to the tap positions
"""
import itertools

import numpy as np

from ..amp import computed_in_float32
from ..errors import ShapeError
from ..tensor import Tensor
from .elementwise import where
from .registry import T, register, sample

_wrap = Tensor._wrap
_MODES, _PADDINGS = ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection")


def _linspace(steps, align_corners):
    """torch's linspace_from_neg_one: pixel centres in [-1, 1] coordinates."""
    if steps <= 1:
        return np.zeros(max(steps, 0))
    r = np.linspace(-1.0, 1.0, steps)
    return r if align_corners else r * (steps - 1) / steps


def affine_grid(theta, size, align_corners=None):
    """Sampling positions of an affine map: grid[n, ..., :] = θ_n · (x, y[, z], 1) over the output's pixel centres.
    theta (N, 2, 3) with size (N, C, H, W) gives (N, H, W, 2); theta (N, 3, 4) with size (N, C, D, H, W) gives
    (N, D, H, W, 3)."""
    size = tuple(int(s) for s in size)
    d = len(size) - 2
    if d not in (2, 3) or tuple(theta.shape) != (size[0], d, d + 1):
        raise ShapeError(f"affine_grid: theta {tuple(theta.shape)} and size {size} do not fit; expected theta "
                         f"(N, 2, 3) with size (N, C, H, W), or (N, 3, 4) with (N, C, D, H, W)")
    ac = bool(align_corners)
    axes = [_linspace(s, ac) for s in size[:1:-1]]            # x over W, y over H, z over D
    mesh = list(np.meshgrid(*axes[::-1], indexing="ij"))[::-1]   # each shaped like the spatial dims
    base = np.stack(mesh + [np.ones_like(mesh[0])], -1).reshape(-1, d + 1).astype(theta.dtype)
    grid = _wrap(base) @ theta.transpose(1, 2)                 # (N, P, d)
    return grid.reshape(size[0], *size[2:], d)


def _unnormalize(g, n, align_corners):
    return (g + 1) * ((n - 1) / 2) if align_corners else ((g + 1) * n - 1) / 2


def _reflect(i, twice_low, twice_high):
    """Fold i into [low, high] by reflecting at both ends (torch's reflect_coordinates)."""
    if twice_low == twice_high:
        return i * 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (i - low).abs()
    flips = np.floor(dist.detach().numpy() / span)
    extra = dist - _wrap((flips * span).astype(dist.dtype))   # fmod(dist, span), with ∂/∂dist = 1
    return extra.where(_wrap(flips % 2 == 0), span - extra) + low


def _pad_coordinates(i, n, padding_mode, align_corners):
    if padding_mode == "border":
        return i.clamp(0, n - 1)
    if padding_mode == "reflection":
        i = _reflect(i, 0, 2 * (n - 1)) if align_corners else _reflect(i, -1, 2 * n - 1)
        return i.clamp(0, n - 1)
    return i


def _gather(flat, positions, sizes, strides, out_shape):
    """Values of flat (N, C, P) at integer positions (one array per coordinate); outside taps give 0 (the mask)."""
    inside = np.ones(positions[0].shape, bool)
    index = np.zeros(positions[0].shape, np.int64)
    for p, n, stride in zip(positions, sizes, strides):
        inside &= (p >= 0) & (p < n)
        index += np.clip(p, 0, n - 1).astype(np.int64) * stride
    n_batch, c = flat.shape[:2]
    per_sample = int(np.prod(index.shape[1:], dtype=np.int64))   # sizes spelt out: -1 is ambiguous for a batch of 0
    index = np.broadcast_to(index.reshape(n_batch, 1, per_sample), (n_batch, c, per_sample))
    return flat.gather(2, index).reshape(n_batch, c, *out_shape), inside


def _cubic_weights(t):
    """Keys' kernel (A = -0.75) at the distances of the 4 taps -1, 0, 1, 2 from a point t ∈ [0, 1) past tap 0."""
    a = -0.75

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


@computed_in_float32(float32_under_autocast=True)
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, H, W) at grid (N, Ho, Wo, 2) — or (N, C, D, H, W) at (N, Do, Ho, Wo, 3) — whose last
    dim holds (x, y[, z]) in [-1, 1] (-1 the first pixel, 1 the last). Gradients flow to input and grid."""
    if mode not in _MODES:
        raise ValueError(f"grid_sample: unknown mode {mode!r}; expected one of {', '.join(_MODES)}")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"grid_sample: unknown padding_mode {padding_mode!r}; expected one of {', '.join(_PADDINGS)}")
    d = input.ndim - 2
    if d not in (2, 3) or grid.ndim != input.ndim or grid.shape[0] != input.shape[0] or grid.shape[-1] != d:
        raise ShapeError(f"grid_sample: input {tuple(input.shape)} needs a grid (N, Ho, Wo, 2) for 4-d input or "
                         f"(N, Do, Ho, Wo, 3) for 5-d input with the same N, got grid {tuple(grid.shape)}")
    if mode == "bicubic" and d != 2:
        raise ShapeError(f"grid_sample: mode 'bicubic' needs 4-d input (N, C, H, W), got {tuple(input.shape)}")
    ac = bool(align_corners)
    sizes = input.shape[:1:-1]                                  # per coordinate: W, H(, D)
    strides = [int(np.prod(input.shape[input.ndim - k:], dtype=np.int64)) for k in range(d)]
    flat = input.reshape(input.shape[0], input.shape[1], int(np.prod(input.shape[2:], dtype=np.int64)))
    out_shape = tuple(grid.shape[1:-1])
    coords = [_unnormalize(grid[..., k], sizes[k], ac) for k in range(d)]
    finite = np.logical_and.reduce([np.isfinite(i.detach().numpy()) for i in coords])
    if not finite.all():   # an inf or nan coordinate samples nan (torch: the same in 'zeros' mode), the rest as usual
        stand_in = where(_wrap(finite[..., None]), grid, 0.0)
        out = grid_sample(input, stand_in, mode, padding_mode, align_corners)
        return out * _wrap(np.where(finite, 1.0, np.nan).astype(out.dtype)[:, None])
    if mode != "bicubic":
        coords = [_pad_coordinates(i, n, padding_mode, ac) for i, n in zip(coords, sizes)]
    base = [np.floor(i.detach().numpy()) for i in coords]
    if mode == "nearest":
        values, inside = _gather(flat, [np.rint(i.detach().numpy()) for i in coords], sizes, strides, out_shape)
        out = values * _wrap(inside[:, None].astype(values.dtype))
        return out + (grid * 0).sum() if grid.requires_grad else out   # the grid's gradient is zero, not None
    if mode == "bilinear":
        taps = [(0, 1)] * d
        fraction = [i - _wrap(b.astype(i.dtype)) for i, b in zip(coords, base)]
        weights = [[1 - f, f] for f in fraction]
    else:
        taps = [(-1, 0, 1, 2)] * d
        weights = [_cubic_weights(i - _wrap(b.astype(i.dtype))) for i, b in zip(coords, base)]
    out = None
    for corner in itertools.product(*[range(len(t)) for t in taps]):
        positions = [b + taps[k][j] for k, (b, j) in enumerate(zip(base, corner))]
        if mode == "bicubic" and padding_mode != "zeros":
            positions = [np.trunc(_pad_coordinates(_wrap(p), n, padding_mode, ac).numpy()) for p, n in
                         zip(positions, sizes)]
        values, inside = _gather(flat, positions, sizes, strides, out_shape)
        w = weights[0][corner[0]]
        for k in range(1, d):
            w = w * weights[k][corner[k]]
        term = values * (w * _wrap(inside.astype(values.dtype))).unsqueeze(1)
        out = term if out is None else out + term
    return out


affine_grid = register("affine_grid", samples=[sample(T((2, 2, 3)), (2, 1, 3, 4)), sample(T((1, 2, 3)), (1, 2, 4, 2), True),
                                 sample(T((1, 3, 4)), (1, 1, 2, 3, 2))])(affine_grid)
grid_sample = register("grid_sample", samples=[
    sample(T((1, 2, 3, 4)), T((1, 2, 3, 2), -1.1, 1.1)),
    sample(T((2, 1, 4, 3)), T((2, 3, 2, 2), -1.3, 1.3), padding_mode="border", align_corners=True),
    sample(T((1, 1, 4, 4)), T((1, 2, 2, 2), -1.6, 1.6), padding_mode="reflection"),
    sample(T((1, 1, 3, 4)), T((1, 2, 2, 2), -2.5, 2.5), padding_mode="reflection", align_corners=True),
    sample(T((1, 2, 4, 4)), T((1, 2, 3, 2), -1, 1), mode="bicubic"),
    sample(T((1, 1, 4, 5)), T((1, 2, 2, 2), -1.4, 1.4), mode="bicubic", padding_mode="border"),
    sample(T((1, 1, 3, 3, 4)), T((1, 2, 1, 2, 3), -1.1, 1.1)),
    sample(T((1, 2, 3, 4)), T((1, 2, 3, 2), -1, 1, grad=False), mode="nearest")])(grid_sample)
