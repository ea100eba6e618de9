"""Convolution and pooling layers (PyTorch's names, arguments, default initialisation and output shapes)."""
import math
from collections.abc import Iterable

from .. import creation, dtypes
from ..ops import conv as C, fractional_pool as FP, pooling as P, volume as V
from ..ops._util import ntuple
from . import functional as F, init
from .module import Module
from .parameter import Parameter


def _ntuple(n, name="parse"):
    """torch.nn.modules.utils._ntuple: a function taking an int (repeated n times) or an iterable (as a tuple);
    _single, _pair, _triple and _quadruple are its n = 1…4, for layers written against torch's helpers."""
    def parse(x):
        return tuple(x) if isinstance(x, Iterable) else (x,) * n
    parse.__name__ = name
    return parse


_single, _pair, _triple, _quadruple = _ntuple(1, "_single"), _ntuple(2, "_pair"), _ntuple(3, "_triple"), \
    _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """(a, b) -> (b, …, b, a, …, a), each n times: conv padding in F.pad's last-dim-first order."""
    return tuple(x for x in reversed(t) for _ in range(n))


class _ConvNd(Module):
    """stride, padding, dilation and output_padding are stored as tuples (padding may be 'same' or 'valid'), as
    torch stores them. padding_mode 'reflect', 'replicate' or 'circular' pads the input with F.pad in that mode
    and convolves without padding; 'zeros' lets the convolution pad."""
    transposed = False   # ConvTranspose: weight (in, out/groups, *k), the adjoint of a convolution

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, dims,
                 padding_mode="zeros", output_padding=0):
        super().__init__()
        name = type(self).__name__
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must be divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got "
                             f"{padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
        k = ntuple(kernel_size, dims)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, k
        self.stride, self.dilation, self.groups = ntuple(stride, dims), ntuple(dilation, dims), groups
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions (stride "
                             f"{self.stride}); give the padding as numbers")
        self.padding = padding if isinstance(padding, str) else ntuple(padding, dims)
        self.output_padding, self.padding_mode = ntuple(output_padding, dims), padding_mode
        if padding == "same":   # torch's split of d(k-1): the smaller half before, the larger after
            total = [d * (kk - 1) for d, kk in zip(self.dilation, k)]
            pairs = [(t // 2, t - t // 2) for t in total]
        else:
            pairs = [(0, 0) if padding == "valid" else (p, p) for p in
                     (self.padding if not isinstance(padding, str) else (0,) * dims)]
        self._reversed_padding_repeated_twice = tuple(v for pair in reversed(pairs) for v in pair)
        dt = dtypes.get_default_dtype()
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(creation.empty(*shape, *k, dtype=dt))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))          # PyTorch's default
        if bias:
            fan_in = shape[1] * math.prod(k)                         # torch's fan-in: the weight's dim 1 × kernel
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, conv, x):
        weight, bias = self._own("weight"), self._own("bias")
        if self.padding_mode == "zeros":
            return conv(x, weight, bias, self.stride, self.padding, self.dilation, self.groups)
        try:
            x = F.pad(x, self._reversed_padding_repeated_twice, self.padding_mode)
        except ValueError as e:   # name the layer the user called, with pad's reason
            raise ValueError(f"{type(self).__name__}(padding_mode={self.padding_mode!r}) on input {x.shape}: "
                             f"{e}") from None
        return conv(x, weight, bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self):
        """torch's: the arguments that differ from their defaults."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str) or any(self.padding):
            s += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if any(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, 2,
                         padding_mode)

    def forward(self, input):
        return self._conv_forward(C.conv2d, input)


class Conv1d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, 1,
                         padding_mode)

    def forward(self, input):
        return self._conv_forward(C.conv1d, input)


class Conv3d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, 3,
                         padding_mode)

    def forward(self, input):
        return self._conv_forward(V.conv3d, input)


class _ConvTransposeNd(_ConvNd):
    transposed = True
    dims = conv = None   # set by each subclass: 1 or 2, and its functional form

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, self.dims,
                         padding_mode, output_padding)

    def forward(self, input, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:   # torch: the output_padding that makes the output this size
            spatial = tuple(output_size)[-self.dims:]
            output_padding = tuple(
                int(want) - ((n - 1) * s - 2 * p + d * (k - 1) + 1) for want, n, s, p, d, k in
                zip(spatial, input.shape[-self.dims:], self.stride, self.padding, self.dilation, self.kernel_size))
            if any(not 0 <= op < max(s, d) for op, s, d in zip(output_padding, self.stride, self.dilation)):
                raise ValueError(f"{type(self).__name__}: output_size {tuple(output_size)} cannot be reached from "
                                 f"input {input.shape} with stride {self.stride} (needs output_padding "
                                 f"{output_padding}, each below max(stride, dilation))")
        return self.conv(input, self._own("weight"), self._own("bias"), self.stride, self.padding, output_padding,
                         self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """The adjoint of Conv2d (a "deconvolution"): upsamples by the stride; weight (in, out/groups, kh, kw)."""
    dims, conv = 2, staticmethod(C.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """The adjoint of Conv1d; weight (in, out/groups, k)."""
    dims, conv = 1, staticmethod(C.conv_transpose1d)


class ConvTranspose3d(_ConvTransposeNd):
    """The adjoint of Conv3d; weight (in, out/groups, kd, kh, kw)."""
    dims, conv = 3, staticmethod(V.conv_transpose3d)


class _MaxPoolNd(Module):
    """torch's base classes of the pooling layers, so that isinstance(m, nn.modules.pooling._MaxPoolNd) holds."""


class _AvgPoolNd(Module):
    pass


class _AdaptiveMaxPoolNd(Module):
    pass


class _AdaptiveAvgPoolNd(Module):
    pass


class _LPPoolNd(Module):
    pass


_POOL_BASES = [("AdaptiveMaxPool", _AdaptiveMaxPoolNd), ("AdaptiveAvgPool", _AdaptiveAvgPoolNd),
               ("MaxPool", _MaxPoolNd), ("AvgPool", _AvgPoolNd), ("LPPool", _LPPoolNd)]


def _pool(name, fn, doc, *fields, shown=None, single=False, stride_is_kernel=True, **defaults):
    """A pooling module: its constructor takes `fields` (those in `defaults` optional) and forward calls fn.
    As in torch, stride=None means the kernel size (LPPool keeps None), the repr lists `shown` (default: all
    fields), and AvgPool1d keeps its sizes as 1-tuples (`single`)."""
    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        values = dict(defaults)
        values.update(zip(fields, args))
        values.update(kwargs)
        missing = [f for f in fields if f not in values]
        if missing or set(values) - set(fields):
            raise TypeError(f"{name}: expected arguments {fields}, got {list(values)}")
        if stride_is_kernel and "stride" in values and values["stride"] in (None, [], ()):
            values["stride"] = values["kernel_size"]
        if single:
            values.update({f: ntuple(values[f], 1) for f in ("kernel_size", "stride", "padding")})
        self.__dict__.update(values)

    def forward(self, input):
        return fn(input, *[getattr(self, f) for f in fields])

    def extra_repr(self):
        return ", ".join(f"{f}={getattr(self, f)}" for f in shown or fields)
    base = next(cls for prefix, cls in _POOL_BASES if name.startswith(prefix))
    return type(name, (base,), {"__init__": __init__, "forward": forward, "extra_repr": extra_repr, "__doc__": doc,
                                "__module__": __name__})


_MAX = dict(stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)
_AVG = dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True)
_MAX_SHOWN = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
_MAX_FIELDS = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
_AVG_FIELDS = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
MaxPool2d = _pool("MaxPool2d", lambda x, k, s, p, d, ri, cm: P.max_pool2d(x, k, s, p, d, cm, ri),
                  "Max over each window of (N, C, H, W) (and the indices of the maxima with return_indices=True).",
                  *_MAX_FIELDS, shown=_MAX_SHOWN, **_MAX)
MaxPool1d = _pool("MaxPool1d", lambda x, k, s, p, d, ri, cm: P.max_pool1d(x, k, s, p, d, cm, ri),
                  "Max over each window of (N, C, L).", *_MAX_FIELDS, shown=_MAX_SHOWN, **_MAX)
AvgPool2d = _pool("AvgPool2d", P.avg_pool2d, "Mean over each window of (N, C, H, W).", *_AVG_FIELDS,
                  shown=_AVG_FIELDS[:3], divisor_override=None, **_AVG)
AvgPool1d = _pool("AvgPool1d", P.avg_pool1d, "Mean over each window of (N, C, L).", *_AVG_FIELDS[:5],
                  shown=_AVG_FIELDS[:3], single=True, **_AVG)
LPPool2d = _pool("LPPool2d", P.lp_pool2d, "(Σ_window xᵖ)^(1/p) over each window of (N, C, H, W).", "norm_type",
                 "kernel_size", "stride", "ceil_mode", stride_is_kernel=False, stride=None, ceil_mode=False)
LPPool3d = _pool("LPPool3d", V.lp_pool3d, "(Σ_window xᵖ)^(1/p) over each window of (N, C, D, H, W).", "norm_type",
                 "kernel_size", "stride", "ceil_mode", stride_is_kernel=False, stride=None, ceil_mode=False)
LPPool1d = _pool("LPPool1d", P.lp_pool1d, "(Σ_window xᵖ)^(1/p) over each window of (N, C, L).", "norm_type",
                 "kernel_size", "stride", "ceil_mode", stride_is_kernel=False, stride=None, ceil_mode=False)


class _MaxUnpoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = ntuple(kernel_size, self.dims)
        self.stride = ntuple(stride if stride is not None else kernel_size, self.dims)
        self.padding = ntuple(padding, self.dims)

    def forward(self, input, indices, output_size=None):
        return self.unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """Puts each value of a max-pooled (N, C, H, W) back where max_pool2d(return_indices=True) found it."""
    unpool, dims = staticmethod(P.max_unpool2d), 2


class MaxUnpool1d(_MaxUnpoolNd):
    unpool, dims = staticmethod(P.max_unpool1d), 1


class MaxUnpool3d(_MaxUnpoolNd):
    unpool, dims = staticmethod(P.max_unpool3d), 3


class _FractionalMaxPoolNd(Module):
    """torch's FractionalMaxPool2d / 3d: output_size or output_ratio (in (0, 1)), one of them; _random_samples (a
    buffer, as in torch) fixes the windows."""
    dims, pool = None, None

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size, self.return_indices = ntuple(kernel_size, self.dims), return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = ntuple(output_size, self.dims) if output_size is not None else None
        self.output_ratio = (output_ratio,) * self.dims if isinstance(output_ratio, (int, float)) else output_ratio
        if (output_size is None) == (output_ratio is None):
            raise ValueError(f"{name}: give exactly one of output_size and output_ratio")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"{name}: output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return self.pool(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                         _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    dims, pool = 2, staticmethod(FP.fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    dims, pool = 3, staticmethod(FP.fractional_max_pool3d)
AdaptiveAvgPool2d = _pool("AdaptiveAvgPool2d", C.adaptive_avg_pool2d, "Mean over windows giving output_size.",
                          "output_size")
AdaptiveAvgPool3d = _pool("AdaptiveAvgPool3d", F.adaptive_avg_pool3d, "Mean over windows giving output_size "
                          "(D, H, W).", "output_size")
MaxPool3d = _pool("MaxPool3d", V.max_pool3d, "Max over each window of (N, C, D, H, W).",
                  *_MAX_FIELDS[:4], "ceil_mode", "return_indices", shown=_MAX_SHOWN, **_MAX)
AvgPool3d = _pool("AvgPool3d", V.avg_pool3d, "Mean over each window of (N, C, D, H, W).", *_AVG_FIELDS,
                  shown=_AVG_FIELDS[:3], divisor_override=None, **_AVG)
AdaptiveMaxPool2d = _pool("AdaptiveMaxPool2d", V.adaptive_max_pool2d, "Max over windows giving output_size (and "
                          "the flat indices of the maxima with return_indices=True).", "output_size", "return_indices",
                          shown=("output_size",), return_indices=False)
AdaptiveMaxPool3d = _pool("AdaptiveMaxPool3d", V.adaptive_max_pool3d, "Max over windows giving output_size "
                          "(D, H, W).", "output_size", "return_indices", shown=("output_size",), return_indices=False)
AdaptiveMaxPool1d = _pool("AdaptiveMaxPool1d", V.adaptive_max_pool1d, "Max over windows giving output_size.",
                          "output_size", "return_indices", shown=("output_size",), return_indices=False)
AdaptiveAvgPool1d = _pool("AdaptiveAvgPool1d", C.adaptive_avg_pool1d, "Mean over windows giving output_size.",
                          "output_size")


class Upsample(Module):
    """Resize to `size` or by `scale_factor` with any mode of nn.functional.interpolate (torch's nn.Upsample)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        if scale_factor is not None:   # torch keeps the factor as a float (or a tuple of floats)
            scale_factor = tuple(map(float, scale_factor)) if isinstance(scale_factor, (tuple, list)) \
                else float(scale_factor)
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour 2-d upsampling (torch's nn.UpsamplingNearest2d)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-d upsampling with align_corners=True (torch's nn.UpsamplingBilinear2d)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", align_corners=True)
