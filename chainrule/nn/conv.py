"""Convolution and pooling layers (PyTorch's names, arguments, default initialisation and output shapes)."""
import math

from .. import creation, dtypes
from ..ops import conv as C, pooling as P, volume as V
from . import functional as F, init
from .module import Module
from .parameter import Parameter


class _ConvNd(Module):
    transposed = False   # ConvTranspose: weight (in, out/groups, *k), the adjoint of a convolution

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, dims):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must be divisible by groups ({groups})")
        k = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, k
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
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

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}" + (f", groups={self.groups}" if self.groups != 1 else ""))


class Conv2d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, 2)

    def forward(self, x):
        return C.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, 1)

    def forward(self, x):
        return C.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv3d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, 3)

    def forward(self, x):
        return V.conv3d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    transposed = True
    dims = conv = None   # set by each subclass: 1 or 2, and its functional form

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, self.dims)
        self.output_padding = output_padding

    def forward(self, x):
        return self.conv(x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups,
                         self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """The adjoint of Conv2d (a "deconvolution"): upsamples by the stride; weight (in, out/groups, kh, kw)."""
    dims, conv = 2, staticmethod(C.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """The adjoint of Conv1d; weight (in, out/groups, k)."""
    dims, conv = 1, staticmethod(C.conv_transpose1d)


def _pool(name, fn, doc, *fields, **defaults):
    """A pooling module: its constructor takes `fields` (those in `defaults` optional) and forward calls fn."""
    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        values = dict(defaults)
        values.update(zip(fields, args))
        values.update(kwargs)
        missing = [f for f in fields if f not in values]
        if missing or set(values) - set(fields):
            raise TypeError(f"{name}: expected arguments {fields}, got {list(values)}")
        self.__dict__.update(values)

    def forward(self, x):
        return fn(x, *[getattr(self, f) for f in fields])

    def extra_repr(self):
        return ", ".join(f"{f}={getattr(self, f)}" for f in fields)
    return type(name, (Module,), {"__init__": __init__, "forward": forward, "extra_repr": extra_repr,
                                  "__doc__": doc})


_MAX = dict(stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)
_AVG = dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True)
MaxPool2d = _pool("MaxPool2d", lambda x, k, s, p, d, ri, cm: P.max_pool2d(x, k, s, p, d, cm, ri),
                  "Max over each window of (N, C, H, W) (and the indices of the maxima with return_indices=True).",
                  "kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode", **_MAX)
MaxPool1d = _pool("MaxPool1d", lambda x, k, s, p, d, ri, cm: P.max_pool1d(x, k, s, p, d, cm, ri),
                  "Max over each window of (N, C, L).", "kernel_size", "stride", "padding", "dilation",
                  "return_indices", "ceil_mode", **_MAX)
AvgPool2d = _pool("AvgPool2d", P.avg_pool2d, "Mean over each window of (N, C, H, W).", "kernel_size", "stride",
                  "padding", "ceil_mode", "count_include_pad", "divisor_override", divisor_override=None, **_AVG)
AvgPool1d = _pool("AvgPool1d", P.avg_pool1d, "Mean over each window of (N, C, L).", "kernel_size", "stride",
                  "padding", "ceil_mode", "count_include_pad", **_AVG)
LPPool2d = _pool("LPPool2d", P.lp_pool2d, "(Σ_window xᵖ)^(1/p) over each window of (N, C, H, W).", "norm_type",
                 "kernel_size", "stride", "ceil_mode", stride=None, ceil_mode=False)
LPPool1d = _pool("LPPool1d", P.lp_pool1d, "(Σ_window xᵖ)^(1/p) over each window of (N, C, L).", "norm_type",
                 "kernel_size", "stride", "ceil_mode", stride=None, ceil_mode=False)


class _MaxUnpoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding

    def forward(self, input, indices, output_size=None):
        return self.unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """Puts each value of a max-pooled (N, C, H, W) back where max_pool2d(return_indices=True) found it."""
    unpool = staticmethod(P.max_unpool2d)


class MaxUnpool1d(_MaxUnpoolNd):
    unpool = staticmethod(P.max_unpool1d)
AdaptiveAvgPool2d = _pool("AdaptiveAvgPool2d", C.adaptive_avg_pool2d, "Mean over windows giving output_size.",
                          "output_size")
AdaptiveAvgPool3d = _pool("AdaptiveAvgPool3d", F.adaptive_avg_pool3d, "Mean over windows giving output_size "
                          "(D, H, W).", "output_size")
MaxPool3d = _pool("MaxPool3d", V.max_pool3d, "Max over each window of (N, C, D, H, W).", "kernel_size", "stride",
                  "padding", "dilation", stride=None, padding=0, dilation=1)
AvgPool3d = _pool("AvgPool3d", V.avg_pool3d, "Mean over each window of (N, C, D, H, W).", "kernel_size", "stride",
                  "padding", stride=None, padding=0)
AdaptiveMaxPool2d = _pool("AdaptiveMaxPool2d", V.adaptive_max_pool2d, "Max over windows giving output_size (and "
                          "the flat indices of the maxima with return_indices=True).", "output_size", "return_indices",
                          return_indices=False)
AdaptiveMaxPool1d = _pool("AdaptiveMaxPool1d", V.adaptive_max_pool1d, "Max over windows giving output_size.",
                          "output_size", "return_indices", return_indices=False)
AdaptiveAvgPool1d = _pool("AdaptiveAvgPool1d", C.adaptive_avg_pool1d, "Mean over windows giving output_size.",
                          "output_size")


class Upsample(Module):
    """Resize to `size` or by `scale_factor` with any mode of nn.functional.interpolate (torch's nn.Upsample)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
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
