"""Volumetric (3-d) convolution and pooling, and adaptive max pooling, built from the 2-d ops.

A 3-d cross-correlation is a sum over the kernel's depth of 2-d ones: with x_d the input's depth slices,
    out[:, :, z] = Σ_kd conv2d(x[:, :, z·s_d + kd·dil_d], w[:, :, kd]),
and for each kd the slices of every output depth z form one strided view of the input, folded into the batch. So
a conv3d is kd conv2d calls (no loop over voxels), and its gradient is theirs.
"""
import numpy as np

from ..amp import autocast_to_lower_precision, computed_in_float32
from ..errors import ShapeError
from ..tensor import Tensor
from .conv import convolution_entry, adaptive_bounds, conv2d, conv_transpose2d, transposed_size
from .index import index_add
from .pooling import (_out_len, as_batch, avg_pool2d, check_dims, geometry, lp_root, max_pool2d,
                      window_average)
from ._util import lowest, ntuple
from .registry import T, register, sample
from .shape import pad, stack


def _depth_slices(x, k, s, p, d, fill, name, ceil_mode=False):
    """For each kernel depth offset kd: the input's depth slices read by every output depth, folded into the
    batch, (N·D_out, C, H, W). Pads depth by p with `fill` first (and past the end for ceil_mode's last window)."""
    d_out = _out_len(x.shape[2], k, s, p, d, ceil_mode)
    extra = max(0, (d_out - 1) * s + d * (k - 1) + 1 - (x.shape[2] + 2 * p))
    if p or extra:
        x = pad(x, (0, 0, 0, 0, p, p + extra), value=fill)
    n, c, depth = x.shape[:3]
    if d_out < 1:
        raise ShapeError(f"{name}: the kernel (depth {k}, dilation {d}) is larger than the padded input depth "
                         f"{depth}")
    views = []
    for kd in range(k):
        start = kd * d
        sl = x[:, :, start:start + s * (d_out - 1) + 1:s]                       # (N, C, D_out, H, W)
        views.append(sl.transpose(1, 2).reshape(n * d_out, c, *x.shape[3:]))
    return views, n, d_out


def _unfold_depth(out2d, n, d_out):
    """(N·D_out, C, H', W') -> (N, C, D_out, H', W')."""
    return out2d.reshape(n, d_out, *out2d.shape[1:]).transpose(1, 2)


@convolution_entry
@autocast_to_lower_precision
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """PyTorch's F.conv3d: (N, C, D, H, W) with weight (O, C/groups, kd, kh, kw); padding an int, a triple,
    'same' (stride 1) or 'valid'."""
    if input.ndim != 5 or weight.ndim != 5:
        raise ShapeError(f"conv3d: expected input (N, C, D, H, W) and weight (O, C/groups, kd, kh, kw), got "
                         f"{input.shape} and {weight.shape}")
    if input.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ShapeError(f"conv3d: input has {input.shape[1]} channels but weight {weight.shape} with groups={groups} "
                         f"expects {weight.shape[1] * groups} (and out channels {weight.shape[0]} divisible by groups)")
    s, dl = ntuple(stride, 3), ntuple(dilation, 3)
    kd = weight.shape[2]
    if padding == "same":
        if s != (1, 1, 1):
            raise ValueError("conv3d: padding='same' needs stride 1")
        tot = [dl[i] * (weight.shape[2 + i] - 1) for i in range(3)]
        input = pad(input, (tot[2] // 2, tot[2] - tot[2] // 2, tot[1] // 2, tot[1] - tot[1] // 2,
                            tot[0] // 2, tot[0] - tot[0] // 2))
        p = (0, 0, 0)
    else:
        p = (0, 0, 0) if padding == "valid" else ntuple(padding, 3)
    views, n, d_out = _depth_slices(input, kd, s[0], p[0], dl[0], 0.0, "conv3d")
    out = None
    for k, v in enumerate(views):
        part = conv2d(v, weight[:, :, k], None, s[1:], p[1:], dl[1:], groups)
        out = part if out is None else out + part
    out = _unfold_depth(out, n, d_out)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out


@convolution_entry
@autocast_to_lower_precision
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """PyTorch's F.conv_transpose3d, the adjoint of conv3d: (N, C, D, H, W) with weight (C, O/groups, kd, kh, kw)
    -> (N, O, (D-1)·s - 2p + d(k-1) + output_padding + 1, …). Per kernel depth kd, one conv_transpose2d of every
    input depth slice (folded into the batch) lands at output depths z·s + kd·dil (index_add), then the depth
    padding is cropped: kd 2-d calls, and the gradient is theirs."""
    if input.ndim != 5 or weight.ndim != 5:
        raise ShapeError(f"conv_transpose3d: expected input (N, C, D, H, W) and weight (C, O/groups, kd, kh, kw), "
                         f"got {input.shape} and {weight.shape}")
    if input.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ShapeError(f"conv_transpose3d: input has {input.shape[1]} channels but weight {weight.shape} expects "
                         f"{weight.shape[0]} (divisible by groups={groups})")
    s, p, op, dl = ntuple(stride, 3), ntuple(padding, 3), ntuple(output_padding, 3), ntuple(dilation, 3)
    transposed_size("conv_transpose3d", input.shape[2:], weight.shape[2:], s, p, op, dl)
    n, c, depth = input.shape[:3]
    kd = weight.shape[2]
    flat = input.transpose(1, 2).reshape(n * depth, c, *input.shape[3:])      # every depth slice in the batch
    full_depth = (depth - 1) * s[0] + dl[0] * (kd - 1) + 1 + op[0]
    out = None
    for k in range(kd):
        part = conv_transpose2d(flat, weight[:, :, k], None, s[1:], p[1:], op[1:], groups, dl[1:])
        part = part.reshape(n, depth, *part.shape[1:])                         # (N, D, O, H', W')
        if out is None:
            out = Tensor._wrap(np.zeros((n, full_depth) + part.shape[2:], part.dtype))
        out = index_add(out, 1, Tensor._wrap(np.arange(depth) * s[0] + k * dl[0]), part)
    out = out[:, p[0]:full_depth - p[0]].transpose(1, 2)                       # crop the depth padding
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each (kd, kh, kw) window of (N, C, D, H, W) (or (C, D, H, W)): per kernel depth, the 2-d window
    maxima of the depth slices it reads, then the first maximum over kd, so the gradient goes to the first
    maximum of the window in (d, h, w) order, as torch's. return_indices: the flat d·H·W + h·W + w of each maximum
    in its input volume (what max_unpool3d takes)."""
    x, unbatched = as_batch("max_pool3d", input, "D, H, W")
    k, s, p, dl, *_ = geometry("max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, 3)
    views, n, d_out = _depth_slices(x, k[0], s[0], p[0], dl[0], lowest(x.dtype), "max_pool3d", ceil_mode)
    pooled = [max_pool2d(v, k[1:], s[1:], p[1:], dl[1:], ceil_mode, True) for v in views]
    best = stack([v for v, _ in pooled]).max(dim=0)
    out = _unfold_depth(best.values, n, d_out)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    H, W = x.shape[3:]
    kd = best.indices._data                                                     # which kernel depth held it
    hw = np.take_along_axis(np.stack([i._data for _, i in pooled]), kd[None], 0)[0]
    z = (np.arange(n * d_out) % d_out).reshape(-1, 1, 1, 1)
    depth_index = z * s[0] - p[0] + kd * dl[0]
    indices = _unfold_depth(Tensor._wrap((depth_index * H * W + hw).astype(np.int64)), n, d_out)
    return (out.squeeze(0), indices.squeeze(0)) if unbatched else (out, indices)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each (kd, kh, kw) window of (N, C, D, H, W) (or (C, D, H, W)): the window's sum (2-d window sums
    added over the kernel depth) divided by its volume, counting the zero padding (count_include_pad) or not, or
    by divisor_override."""
    x, unbatched = as_batch("avg_pool3d", input, "D, H, W")
    k, s, p, *_ = geometry("avg_pool3d", input, kernel_size, stride, padding, 1, ceil_mode, 3)
    views, n, d_out = _depth_slices(x, k[0], s[0], p[0], 1, 0.0, "avg_pool3d", ceil_mode)
    total = None
    for v in views:   # divisor_override=1: avg_pool2d gives the plain window sums
        part = avg_pool2d(v, k[1:], s[1:], p[1:], ceil_mode, True, 1)
        total = part if total is None else total + part
    total = _unfold_depth(total, n, d_out)
    out = window_average(total, x.shape[2:], k, s, p, count_include_pad, divisor_override)
    return out.squeeze(0) if unbatched else out


@computed_in_float32
def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(Σ_window xᵖ)^(1/p) over each (kd, kh, kw) window: the mean of xᵖ times the window's volume, as torch."""
    k = ntuple(kernel_size, 3)
    if np.isinf(norm_type):
        return max_pool3d(input, k, stride, ceil_mode=ceil_mode)
    check_dims("lp_pool3d", input, "D, H, W")
    geometry("lp_pool3d", input, k, stride, 0, 1, ceil_mode, 3)
    pooled = avg_pool3d(input ** norm_type, k, stride, 0, ceil_mode)
    return lp_root(pooled, k[0] * k[1] * k[2], norm_type, "lp_pool3d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows of (N, C, D, H, W) (or (C, D, H, W)): per output depth, the first maximum
    over its depth window of the 2-d adaptive maxima (a max over a box is a max of maxima); with return_indices,
    the flat d·H·W + h·W + w of each maximum in its input volume."""
    x, unbatched = as_batch("adaptive_max_pool3d", input, "D, H, W")
    sizes = (output_size,) * 3 if isinstance(output_size, int) else tuple(output_size)
    od, oh, ow = (x.shape[2 + i] if o is None else o for i, o in enumerate(sizes))
    n, c, depth, H, W = x.shape
    planes, hw = adaptive_max_pool2d(x.transpose(1, 2).reshape(n * depth, c, H, W), (oh, ow), True)
    planes, hw = planes.reshape(n, depth, c, oh, ow), hw._data.reshape(n, depth, c, oh, ow)
    values, indices = [], []
    for a, b in adaptive_bounds(depth, od):
        best = planes[:, a:b].max(dim=1)
        values.append(best.values)
        pick = best.indices._data[:, None]
        indices.append((a + pick[:, 0]) * H * W + np.take_along_axis(hw[:, a:b], pick, 1)[:, 0])
    out = stack(values, 2)
    idx = Tensor._wrap(np.stack(indices, 2).astype(np.int64))
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows of (N, C, H, W) (or (C, H, W)); with return_indices, the flat index
    h·W + w of each maximum in its input plane."""
    if input.ndim not in (3, 4):
        raise ShapeError(f"adaptive_max_pool2d: expected (N, C, H, W) or (C, H, W), got {input.shape}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    H, W = x.shape[2:]
    oh, ow = oh or H, ow or W
    rows, idx_rows = [], []
    for h0, h1 in adaptive_bounds(H, oh):
        cells, idx = [], []
        for w0, w1 in adaptive_bounds(W, ow):
            window = x[:, :, h0:h1, w0:w1].reshape(*x.shape[:2], (h1 - h0) * (w1 - w0))   # not -1: N may be 0
            best = window.max(dim=-1)
            cells.append(best.values)
            local = best.indices._data
            idx.append((h0 + local // (w1 - w0)) * W + w0 + local % (w1 - w0))
        rows.append(stack(cells, dim=-1))
        idx_rows.append(np.stack(idx, -1))
    out = stack(rows, dim=-2)
    indices = Tensor._wrap(np.stack(idx_rows, -2).astype(np.int64))
    if input.ndim == 3:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    if input.ndim not in (2, 3):
        raise ShapeError(f"adaptive_max_pool1d: expected (N, C, L) or (C, L), got {input.shape}")
    size = output_size if isinstance(output_size, int) else output_size[0]
    res = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


def _np_adaptive_max2d(x, out):
    oh, ow = (out, out) if isinstance(out, int) else out
    H, W = x.shape[-2:]
    return np.stack([np.stack([x[..., a:b, c:d].max((-2, -1)) for c, d in adaptive_bounds(W, ow)], -1)
                     for a, b in adaptive_bounds(H, oh)], -2)


conv3d = register("conv3d", ref=None, samples=[
    sample(T((2, 2, 4, 4, 3)), T((3, 2, 2, 3, 2)), T((3,))),
    sample(T((1, 4, 5, 4, 4)), T((4, 2, 3, 2, 2)), None, (2, 1, 1), 1, (1, 2, 1), 2),
    sample(T((1, 1, 3, 3, 3)), T((2, 1, 2, 2, 2)), None, 1, "same")])(conv3d)
conv_transpose3d = register("conv_transpose3d", ref=None, samples=[
    sample(T((1, 2, 2, 3, 3)), T((2, 3, 2, 2, 2)), T((3,))),
    sample(T((2, 2, 3, 2, 2)), T((2, 2, 3, 1, 2)), None, (2, 1, 2), (1, 0, 1), (1, 0, 1), 1, (1, 2, 1)),
    sample(T((1, 4, 2, 2, 2)), T((4, 1, 2, 2, 2)), T((2,)), 1, 0, 0, 2)])(conv_transpose3d)
lp_pool3d = register("lp_pool3d", ref=None, samples=[sample(T((1, 2, 4, 4, 4), 0.5, 1.5), 2, 2),
                                         sample(T((1, 1, 4, 5, 3), 0.5, 1.5), 3, 2, 1)])(lp_pool3d)
adaptive_max_pool3d = register("adaptive_max_pool3d", ref=None, samples=[sample(T((1, 2, 5, 4, 6)), (2, 3, 4)),
                                                   sample(T((2, 3, 4, 4)), 2)])(adaptive_max_pool3d)
max_pool3d = register("max_pool3d", ref=None, samples=[sample(T((1, 2, 4, 4, 4)), 2), sample(T((1, 1, 5, 4, 3)), (3, 2, 2), (2, 1, 1), 1),
                                          sample(T((2, 5, 4, 5)), 2, 2, 0, 1, True)])(max_pool3d)
avg_pool3d = register("avg_pool3d", ref=None, samples=[sample(T((1, 2, 4, 4, 4)), 2), sample(T((1, 1, 5, 4, 3)), (3, 2, 2), (2, 1, 1), 1),
                                          sample(T((1, 1, 5, 4, 5)), 3, 2, 1, True, False),
                                          sample(T((2, 4, 4, 4)), 2, divisor_override=3)])(avg_pool3d)
adaptive_max_pool2d = register("adaptive_max_pool2d", ref=_np_adaptive_max2d, samples=[sample(T((2, 3, 5, 7)), (2, 3)), sample(T((1, 4, 4)), 2)])(
    adaptive_max_pool2d)
adaptive_max_pool1d = register("adaptive_max_pool1d", ref=lambda x, o: _np_adaptive_max2d(x[..., None, :], (1, o))[..., 0, :],
         samples=[sample(T((2, 3, 7)), 3)])(adaptive_max_pool1d)
