"""Convolution (and adaptive average pooling; window pooling is in pooling.py), composed from two adjoint
primitives:

    unfold (im2col): (N, C, H, W) -> (N, C·kh·kw, L), every kernel-sized patch as a column (a strided view, one copy)
    fold   (col2im): (N, C·kh·kw, L) -> (N, C, H, W), columns added back into place: the adjoint of unfold

so conv2d = unfold, then one matmul with the weight (BLAS), and its gradient is that of matmul followed by fold.
Loops run over kernel positions (kh·kw), never over pixels.
"""
import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..amp import autocast_to_lower_precision, computed_in_float32
from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ..autograd import buffers
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import ntuple
from .registry import T, register, sample

_wrap = Tensor._wrap


def _out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


class Unfold(Op):
    """cols[n, (c,i,j), (y,x)] = x_pad[n, c, y·s + i·d, x·s + j·d];  its adjoint (backward) is Fold."""
    saves_inputs = False

    def forward(self, x, kernel, dilation, padding, stride):
        self.shape, self.args = x.shape, (kernel, dilation, padding, stride)
        (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel, dilation, padding, stride
        xp = x
        if ph or pw:   # zero border in pooled memory (np.pad would fault in fresh pages every step)
            xp = buffers.zeros(x.shape[:2] + (x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), x.dtype)
            xp[:, :, ph: ph + x.shape[2], pw: pw + x.shape[3]] = x
        win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
        win = win[:, :, ::sh, ::sw, ::dh, ::dw]                      # (N, C, H', W', kh, kw)
        n, c, ho, wo = win.shape[:4]
        return buffers.copy_of(win.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * kh * kw, ho * wo)

    def backward(self, g):
        return Fold.apply(g, output_size=self.shape[2:], channels=self.shape[1], args=self.args)


def _valid_range(offset, stride, n_out, size):
    """Output positions k in [k0, k1) whose input position offset + k·stride lies inside [0, size), and the first
    such input position; None when there is none."""
    k0 = 0 if offset >= 0 else (-offset + stride - 1) // stride       # first k with offset + k·stride ≥ 0
    k1 = min(n_out, (size - 1 - offset) // stride + 1)                 # past the last k with it < size
    return (k0, k1, offset + k0 * stride) if k1 > k0 else None


class Fold(Op):
    """x[n, c, y·s + i·d, x·s + j·d] += cols[n, (c,i,j), (y,x)];  its adjoint (backward) is Unfold."""
    saves_inputs = False

    def forward(self, cols, output_size, channels, args):
        self.args = args
        (kh, kw), (dh, dw), (ph, pw), (sh, sw) = args
        H, W = output_size
        n = cols.shape[0]
        ho, wo = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
        c6 = cols.reshape(n, channels, kh, kw, ho, wo)
        out = buffers.empty((n, channels, H, W), cols.dtype)   # unpadded: what lands in the padding is dropped
        blocks = []
        for i in range(kh):
            rows = _valid_range(i * dh - ph, sh, ho, H)
            for j in range(kw):
                cols_ = _valid_range(j * dw - pw, sw, wo, W)
                if rows is not None and cols_ is not None:
                    (y0, y1, r0), (x0, x1, q0) = rows, cols_
                    blocks.append((np.s_[:, :, r0: r0 + sh * (y1 - y0 - 1) + 1: sh, q0: q0 + sw * (x1 - x0 - 1) + 1: sw],
                                   c6[:, :, i, j, y0:y1, x0:x1]))
        # a kernel position that covers every output pixel (the centre, for 'same' padding) is copied, not added
        # to zeros: one pass fewer over the output
        full = next((k for k, (_, src) in enumerate(blocks) if src.shape[2:] == (H, W)), None)
        if full is None:
            out.fill(0)
        else:
            np.copyto(out, blocks.pop(full)[1])
        for where, src in blocks:
            out[where] += src
        return out

    def backward(self, g):
        k, d, p, s = self.args
        return Unfold.apply(g, kernel=k, dilation=d, padding=p, stride=s)


class ConvMatmulBias(Op):
    """y = W cols + b for cols (N, K, L), W (O, K), b (O,): conv2d's matmul with its bias added in place, one
    output array and one pass fewer than matmul then add;  dcols = Wᵀg, dW = Σ_n g[n] cols[n]ᵀ, db = Σ_{n,l} g."""

    def forward(self, cols, w, b):
        out = buffers.matmul(w, cols)
        out += b[:, None]
        return out

    def backward(self, g):
        cols, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        if not STATE.grad_enabled:
            gd = g._data
            if need[0] and need[1]:
                gd = buffers.dense(gd)   # a broadcast gradient is made dense once, for both products
            return ((_wrap(buffers.matmul(w._data.T, gd)) if need[0] else None),
                    (_wrap(np.add.reduce(buffers.matmul(gd, cols._data.transpose(0, 2, 1)), 0)) if need[1] else None),
                    (_wrap(np.add.reduce(gd, axis=(0, 2))) if need[2] else None))
        return ((w.mT @ g if need[0] else None), ((g @ cols.mT).sum(0) if need[1] else None),
                (g.sum(dim=(0, 2)) if need[2] else None))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's F.unfold: (N, C, H, W) -> (N, C·kh·kw, L), or one unbatched (C, H, W) -> (C·kh·kw, L)."""
    if input.ndim not in (3, 4):
        raise ShapeError(f"unfold: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape {input.shape}")
    k, d, p, s = ntuple(kernel_size, 2), ntuple(dilation, 2), ntuple(padding, 2), ntuple(stride, 2)
    for n, kk, ss, pp, dd, axis in zip(input.shape[-2:], k, s, p, d, "HW"):
        if _out_size(n, kk, ss, pp, dd) < 1:
            raise ShapeError(f"unfold/conv: input {axis} = {n} (padding {pp}) is smaller than the dilated kernel "
                             f"{dd * (kk - 1) + 1}; use a smaller kernel or more padding")
    if input.ndim == 3:
        return Unfold.apply(input.unsqueeze(0), kernel=k, dilation=d, padding=p, stride=s).squeeze(0)
    return Unfold.apply(input, kernel=k, dilation=d, padding=p, stride=s)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's F.fold: (N, C·kh·kw, L) -> (N, C, H, W), summing overlapping values; or one unbatched
    (C·kh·kw, L) -> (C, H, W). L must be the number of blocks that fit the output:
    Π ⌊(o + 2p - d(k-1) - 1)/s⌋ + 1."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"fold: expected a 3-D (N, C·kh·kw, L) or 2-D (C·kh·kw, L) input, got shape {input.shape}")
    k, out = ntuple(kernel_size, 2), ntuple(output_size, 2)
    args = (k, ntuple(dilation, 2), ntuple(padding, 2), ntuple(stride, 2))
    if input.shape[-2] % (k[0] * k[1]):
        raise ShapeError(f"fold: dim {input.ndim - 2} ({input.shape[-2]}) of input {input.shape} must be divisible "
                         f"by the kernel size {k[0]}×{k[1]}")
    blocks = [(o + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for o, kk, dd, pp, ss in zip(out, *args)]
    if min(blocks) < 1 or blocks[0] * blocks[1] != input.shape[-1]:
        raise ShapeError(f"fold: output_size {out} with kernel {k}, dilation {args[1]}, padding {args[2]} and stride "
                         f"{args[3]} holds {blocks[0]}×{blocks[1]} sliding blocks, but the input has L = "
                         f"{input.shape[-1]} (its last dim, shape {input.shape}); make them agree")
    channels = input.shape[-2] // (k[0] * k[1])
    if input.ndim == 2:
        return Fold.apply(input.unsqueeze(0), output_size=out, channels=channels, args=args).squeeze(0)
    return Fold.apply(input, output_size=out, channels=channels, args=args)


def _np_unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = ntuple(kernel_size, 2), ntuple(dilation, 2), ntuple(padding, 2), ntuple(stride, 2)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, H, W = xp.shape
    ho, wo = (H - dh * (kh - 1) - 1) // sh + 1, (W - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c, kh, kw, ho, wo))
    for i in range(kh):
        for j in range(kw):
            for y in range(ho):
                for z in range(wo):
                    out[:, :, i, j, y, z] = xp[:, :, y * sh + i * dh, z * sw + j * dw]
    return out.reshape(n, c * kh * kw, ho * wo)


unfold = register("unfold", ref=_np_unfold, samples=[sample(T((2, 2, 5, 5)), 3), sample(T((1, 2, 6, 5)), (2, 3), 1, 1, 2),
                                            sample(T((1, 1, 7, 7)), 3, 2, 1, (2, 1))])(unfold)
fold = register("fold", ref=None, samples=[sample(T((2, 18, 9)), (5, 5), 3), sample(T((1, 8, 9)), (4, 5), 2, 1, 1, 2)])(fold)


def convolution_entry(conv):
    """What every convolution checks first: the bias has one entry per output channel (weight dim 0, or dim 1 ×
    groups for a transposed one; groups is argument 6 of both signatures), and one unbatched sample
    (C, *spatial) runs as a batch of one, as torch's."""
    transposed = "transpose" in conv.__name__

    @functools.wraps(conv)
    def wrapper(input, weight, *args, **kwargs):
        bias = args[0] if args else kwargs.get("bias")
        if bias is not None and weight.ndim >= 3:
            groups = args[4] if len(args) > 4 else kwargs.get("groups", 1)
            out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
            if tuple(bias.shape) != (out_channels,):
                raise ShapeError(f"{conv.__name__}: bias has shape {tuple(bias.shape)} but the weight "
                                 f"{tuple(weight.shape)} gives {out_channels} output channels; it needs shape "
                                 f"({out_channels},), one entry per output channel")
        if input.ndim == weight.ndim - 1:
            return conv(input.unsqueeze(0), weight, *args, **kwargs).squeeze(0)
        return conv(input, weight, *args, **kwargs)
    return wrapper


@convolution_entry
@autocast_to_lower_precision
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """PyTorch's F.conv2d: cross-correlation of (N, C, H, W) with (O, C/groups, kh, kw); padding may be 'same'
    or 'valid'. Computed as unfold + one matmul per group."""
    if input.ndim != 4 or weight.ndim != 4:
        raise ShapeError(f"conv2d: expected input (N, C, H, W) and weight (O, C/groups, kh, kw), got {input.shape} "
                         f"and {weight.shape}")
    n, c, H, W = input.shape
    o, cg, kh, kw = weight.shape
    if c != cg * groups or o % groups:
        raise ShapeError(f"conv2d: input has {c} channels but weight {weight.shape} with groups={groups} expects "
                         f"{cg * groups} (and out channels {o} divisible by groups)")
    d = ntuple(dilation, 2)
    if padding == "same":
        if ntuple(stride, 2) != (1, 1):
            raise ValueError("conv2d: padding='same' needs stride 1")
        tot = (d[0] * (kh - 1), d[1] * (kw - 1))
        lo = (tot[0] // 2, tot[1] // 2)
        if tot[0] % 2 or tot[1] % 2:   # uneven: pad one more at the end, as PyTorch does
            from .shape import pad as _pad
            input = _pad(input, (lo[1], tot[1] - lo[1], lo[0], tot[0] - lo[0]))
            lo = (0, 0)
        padding = lo
    elif padding == "valid":
        padding = 0
    p, s = ntuple(padding, 2), ntuple(stride, 2)
    H, W = input.shape[2:]
    ho, wo = _out_size(H, kh, s[0], p[0], d[0]), _out_size(W, kw, s[1], p[1], d[1])
    cols = unfold(input, (kh, kw), d, p, s)                                 # (N, C·kh·kw, L)
    if groups == 1 and bias is not None:
        return ConvMatmulBias.apply(cols, weight.reshape(o, -1), bias).reshape(n, o, ho, wo)
    if groups == 1:
        out = weight.reshape(o, -1) @ cols                                   # (N, O, L)
    else:
        from .shape import cat
        cols = cols.reshape(n, groups, cg * kh * kw, ho * wo)
        wg = weight.reshape(groups, o // groups, cg * kh * kw)
        out = cat([wg[gi] @ cols[:, gi] for gi in range(groups)], dim=1)
    if bias is not None:   # on the (N, O, L) layout: NumPy's inner loop runs over all L pixels, not one row
        out = out + bias.reshape(1, o, 1)
    return out.reshape(n, o, ho, wo)


@convolution_entry
@autocast_to_lower_precision
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """(N, C, L) * (O, C/groups, k), as conv2d over a height of 1."""
    if input.ndim != 3 or weight.ndim != 3:
        raise ShapeError(f"conv1d: expected input (N, C, L) and weight (O, C/groups, k), got {input.shape} and "
                         f"{weight.shape}")
    pad = padding if isinstance(padding, str) else (0, int(padding if isinstance(padding, int) else padding[0]))
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, ntuple(stride, 2)[0]), pad, (1, ntuple(dilation, 2)[0]),
                 groups)
    return out.squeeze(2)


@convolution_entry
@autocast_to_lower_precision
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """PyTorch's F.conv_transpose2d, the adjoint of conv2d: (N, C, H, W) with weight (C, O/groups, kh, kw) ->
    (N, O, (H-1)·s - 2p + d(k-1) + output_padding + 1, …). Each input pixel spreads Wᵀx over a kernel-sized
    patch: one matmul per group to the columns, then fold adds the overlapping patches (conv2d run backwards)."""
    if input.ndim != 4 or weight.ndim != 4:
        raise ShapeError(f"conv_transpose2d: expected input (N, C, H, W) and weight (C, O/groups, kh, kw), got "
                         f"{input.shape} and {weight.shape}")
    n, c, H, W = input.shape
    if weight.shape[0] != c or c % groups:
        raise ShapeError(f"conv_transpose2d: input has {c} channels but the weight {weight.shape} expects "
                         f"{weight.shape[0]} (its dim 0), divisible by groups={groups}")
    og, kh, kw = weight.shape[1:]
    s, p, op, d = ntuple(stride, 2), ntuple(padding, 2), ntuple(output_padding, 2), ntuple(dilation, 2)
    size = transposed_size("conv_transpose2d", (H, W), (kh, kw), s, p, op, d)
    x = input.reshape(n, groups, c // groups, H * W)
    w = weight.reshape(groups, c // groups, og * kh * kw)
    if groups == 1:
        cols = w[0].mT @ x[:, 0]                                             # (N, O·kh·kw, H·W)
    else:
        from .shape import cat
        cols = cat([w[gi].mT @ x[:, gi] for gi in range(groups)], dim=1)
    if all(o < si for o, si in zip(op, s)):
        out = fold(cols, size, (kh, kw), d, p, s)
    else:   # output_padding ≥ stride (allowed below the dilation): fold unpadded, then crop p and add output_padding
        from .shape import pad   # (negative widths crop)
        full = tuple((n_in - 1) * si + di * (k - 1) + 1 for n_in, si, di, k in zip((H, W), s, d, (kh, kw)))
        out = pad(fold(cols, full, (kh, kw), d, 0, s), (-p[1], op[1] - p[1], -p[0], op[0] - p[0]))
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


def transposed_size(op, spatial, kernel, stride, padding, output_padding, dilation):
    """The output's spatial size, (n - 1)·s - 2p + d(k - 1) + output_padding + 1 per dim, checked: output_padding
    below the stride or the dilation, and every size positive. Errors name `op` and show its own dims (a 1-d or
    3-d transposed conv runs through the 2-d one, whose numbers the caller never passed)."""
    if any(o >= max(si, di) for o, si, di in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than the stride {stride} or the "
                         f"dilation {dilation}")
    size = tuple((n - 1) * si - 2 * pi + di * (k - 1) + o + 1
                 for n, si, pi, di, k, o in zip(spatial, stride, padding, dilation, kernel, output_padding))
    if min(size) < 1:
        raise ShapeError(f"{op}: the output would be {size} for an input of spatial size {tuple(spatial)}; use less "
                         f"padding, or a larger stride, kernel or dilation")
    return size


@convolution_entry
@autocast_to_lower_precision
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """(N, C, L) with weight (C, O/groups, k), as conv_transpose2d over a height of 1."""
    if input.ndim != 3 or weight.ndim != 3:
        raise ShapeError(f"conv_transpose1d: expected input (N, C, L) and weight (C, O/groups, k), got "
                         f"{input.shape} and {weight.shape}")
    s, p, op, d = (ntuple(v, 2)[0] for v in (stride, padding, output_padding, dilation))
    transposed_size("conv_transpose1d", input.shape[2:], weight.shape[2:], (s,), (p,), (op,), (d,))
    out = conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, p), (0, op), groups, (1, d))
    return out.squeeze(2)


def adaptive_bounds(size, out):
    """PyTorch's adaptive windows: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉) for i < out."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive windows: start = ⌊i·H/out⌋, end = ⌈(i+1)·H/out⌉. (N, C, H, W) or unbatched
    (C, H, W); None in output_size keeps that size."""
    if input.ndim not in (3, 4):
        raise ShapeError(f"adaptive_avg_pool2d: expected (N, C, H, W) or (C, H, W), got {input.shape}")
    oh, ow = ntuple(output_size, 2) if not isinstance(output_size, int) else (output_size, output_size)
    H, W = input.shape[-2:]
    oh, ow = H if oh is None else oh, W if ow is None else ow
    if H % oh == 0 and W % ow == 0:
        from .pooling import avg_pool2d
        return avg_pool2d(input, (H // oh, W // ow))
    from .resample import adaptive_avg_pool   # uneven windows: area taps (resample imports this module)
    return adaptive_avg_pool(input, (oh, ow), "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):
    """adaptive_avg_pool2d over L of (N, C, L) or unbatched (C, L)."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"adaptive_avg_pool1d: expected (N, C, L) or (C, L), got {input.shape}")
    out = output_size if isinstance(output_size, int) else output_size[0]
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, out)).squeeze(-2)


conv2d = register("conv2d", ref=None, samples=[
    sample(T((2, 3, 5, 5)), T((4, 3, 3, 3)), T((4,))),
    sample(T((1, 2, 6, 6)), T((2, 2, 3, 2)), None, 2, 1),
    sample(T((1, 4, 5, 5)), T((4, 2, 3, 3)), T((4,)), 1, "same", 1, 2),
    sample(T((1, 2, 7, 6)), T((3, 2, 2, 3)), None, 1, 1, 2)])(conv2d)
conv1d = register("conv1d", ref=None, samples=[sample(T((2, 3, 7)), T((4, 3, 3)), T((4,)), 2, 1),
                                      sample(T((1, 2, 6)), T((2, 2, 2)), None, 1, "same")])(conv1d)
conv_transpose2d = register("conv_transpose2d", ref=None, samples=[
    sample(T((2, 3, 4, 4)), T((3, 2, 3, 3)), T((2,))),
    sample(T((1, 2, 3, 4)), T((2, 3, 2, 3)), None, 2, 1, 1),
    sample(T((1, 4, 3, 3)), T((4, 1, 3, 2)), T((2,)), (2, 1), (1, 0), 0, 2, (1, 2))])(conv_transpose2d)
conv_transpose1d = register("conv_transpose1d", ref=None, samples=[sample(T((2, 3, 5)), T((3, 2, 3)), T((2,)), 2, 1, 1)])(
    conv_transpose1d)
adaptive_avg_pool2d = register("adaptive_avg_pool2d", ref=None, samples=[sample(T((1, 2, 5, 7)), (2, 3)), sample(T((1, 1, 4, 4)), 2),
                                                   sample(T((2, 5, 7)), (None, 3))])(adaptive_avg_pool2d)
adaptive_avg_pool1d = register("adaptive_avg_pool1d", ref=None, samples=[sample(T((2, 3, 7)), 3), sample(T((1, 2, 8)), 4)])(
    adaptive_avg_pool1d)
