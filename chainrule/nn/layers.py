"""Layers: Identity, Flatten, Linear, Dropout and the activation modules."""
import math

from .. import creation, dtypes
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

# F.linear without the registry's check for NumPy arrays given as Tensors (a frame per call, on the hottest layer):
# Module.__call__ names such an input already
_linear = F.linear.__wrapped__


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Linear(Module):
    """y = x Wᵀ + b, W of shape (out_features, in_features). PyTorch's default init:
    W ~ U(-1/√in, 1/√in) (kaiming_uniform_ with a = √5), b ~ U(-1/√in, 1/√in)."""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dtype = dtype or dtypes.get_default_dtype()
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype))
        self.bias = Parameter(creation.empty(out_features, dtype=dtype)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.shape[-1] != self.in_features:
            from ..errors import ShapeError
            where = f" ({self._path})" if self._path else ""
            raise ShapeError(f"Linear{where}: expected input with {self.in_features} features in its last dim, got "
                             f"shape {input.shape}. Set in_features={input.shape[-1]}, or reshape/flatten the input "
                             f"(e.g. nn.Flatten()) so its last dim is {self.in_features}")
        return _linear(input, self._own("weight"), self._own("bias"))

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _DropoutNd(Module):
    """What every dropout layer shares (torch's _DropoutNd): the probability p and the inplace flag."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace   # inplace is recorded, not acted on: the output is always a new tensor

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class _ChannelDropout(_DropoutNd):
    """Zero whole channels (dim 1) with probability p, scaling the rest by 1/(1-p), as Dropout1d/2d."""
    spatial = 1

    def forward(self, input):
        return F.channel_dropout(input, self.p, self.training, self.spatial, type(self).__name__)


class Dropout1d(_ChannelDropout):
    spatial = 1


class Dropout2d(_ChannelDropout):
    spatial = 2


class Dropout3d(_ChannelDropout):
    spatial = 3


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: keeps mean 0 and variance 1 (see nn.functional.alpha_dropout)."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)


def _activation(name, fn, doc, **defaults):
    """An activation module; torch's `inplace` flag (after the other arguments) is recorded for the repr, and the
    output is a new tensor either way."""
    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        params = dict(defaults)
        params.update(zip(list(defaults), args))
        self.inplace = kwargs.pop("inplace", args[len(defaults)] if len(args) > len(defaults) else False)
        params.update(kwargs)
        self._names = tuple(params)
        self.__dict__.update(params)   # torch's attributes: ELU().alpha, Softmax().dim, LeakyReLU().negative_slope

    def forward(self, input):
        names = self._names
        if not names:   # ReLU, Tanh, Sigmoid …: no keywords to gather on every call
            return fn(input)
        return fn(input, **{k: self.__dict__[k] for k in names})

    def extra_repr(self):
        values = {k: self.__dict__[k] for k in self._names}
        shown = [str(v) for v in values.values()] if name in ("Hardshrink", "Softshrink") else \
            [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in values.items()]
        return ", ".join(shown + (["inplace=True"] if self.inplace else []))
    return type(name, (Module,), {"__init__": __init__, "forward": forward, "extra_repr": extra_repr,
                                  "__doc__": doc})


ReLU = _activation("ReLU", lambda x: F.relu(x), "max(0, x)")
LeakyReLU = _activation("LeakyReLU", lambda x, negative_slope: F.leaky_relu(x, negative_slope), "x or αx",
                        negative_slope=0.01)
ELU = _activation("ELU", lambda x, alpha: F.elu(x, alpha), "x or α(eˣ-1)", alpha=1.0)
GELU = _activation("GELU", lambda x, approximate: F.gelu(x, approximate), "x·Φ(x)", approximate="none")
Sigmoid = _activation("Sigmoid", lambda x: F.sigmoid(x), "1/(1+e⁻ˣ)")
Tanh = _activation("Tanh", lambda x: F.tanh(x), "tanh x")
Softplus = _activation("Softplus", lambda x, beta, threshold: F.softplus(x, beta, threshold), "ln(1+e^(βx))/β",
                       beta=1.0, threshold=20.0)
Softmax = _activation("Softmax", lambda x, dim: F.softmax(x, dim), "softmax over dim", dim=None)
LogSoftmax = _activation("LogSoftmax", lambda x, dim: F.log_softmax(x, dim), "log softmax over dim", dim=None)
SiLU = _activation("SiLU", lambda x: F.silu(x), "x·σ(x)")
Mish = _activation("Mish", lambda x: F.mish(x), "x·tanh(softplus(x))")
SELU = _activation("SELU", lambda x: F.selu(x), "λ·elu(x, α), λ ≈ 1.0507, α ≈ 1.6733")
CELU = _activation("CELU", lambda x, alpha: F.celu(x, alpha), "x or α(e^(x/α)-1)", alpha=1.0)
ReLU6 = _activation("ReLU6", lambda x: F.relu6(x), "min(max(0, x), 6)")
Hardtanh = _activation("Hardtanh", lambda x, min_val, max_val: F.hardtanh(x, min_val, max_val),
                       "clamp(x, min_val, max_val)", min_val=-1.0, max_val=1.0)
Softsign = _activation("Softsign", lambda x: F.softsign(x), "x/(1+|x|)")
LogSigmoid = _activation("LogSigmoid", lambda x: F.logsigmoid(x), "log σ(x)")
Hardsigmoid = _activation("Hardsigmoid", lambda x: F.hardsigmoid(x), "clamp(x/6 + 1/2, 0, 1)")
Hardswish = _activation("Hardswish", lambda x: F.hardswish(x), "x·hardsigmoid(x)")
Softshrink = _activation("Softshrink", lambda x, lambd: F.softshrink(x, lambd), "x ∓ λ beyond ±λ, else 0", lambd=0.5)
Hardshrink = _activation("Hardshrink", lambda x, lambd: F.hardshrink(x, lambd), "x where |x| > λ, else 0", lambd=0.5)
Tanhshrink = _activation("Tanhshrink", lambda x: F.tanhshrink(x), "x - tanh x")
GLU = _activation("GLU", lambda x, dim: F.glu(x, dim), "a⊙σ(b) for the halves a, b of x along dim", dim=-1)
Softmin = _activation("Softmin", lambda x, dim: F.softmin(x, dim), "softmax(-x) over dim", dim=None)
Threshold = _activation("Threshold", lambda x, threshold, value: F.threshold(x, threshold, value),
                        "x where x > threshold, else value", threshold=0.0, value=0.0)


class PReLU(Module):
    """x if x > 0 else a·x, with a learned: one slope shared (num_parameters=1) or one per channel (dim 1)."""

    def __init__(self, num_parameters=1, init=0.25, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(creation.full((num_parameters,), float(init), dtype=dtype))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Unflatten(Module):
    """Split dim into unflattened_size: the inverse of Flatten."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class CosineSimilarity(Module):
    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class RReLU(Module):
    """Randomised leaky ReLU: a random negative slope a ~ U(lower, upper) per element in training, (lower+upper)/2
    in eval."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper = lower, upper

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}"


class Bilinear(Module):
    """y = x₁ᵀ A x₂ + b per output unit: weight A (out, in1, in2), bias (out,), both U(-1/√in1, 1/√in1) as torch.
    Inputs (*, in1) and (*, in2) with the same leading dims."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        dt = dtype or dtypes.get_default_dtype()
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features, dtype=dt))
        self.bias = Parameter(creation.empty(out_features, dtype=dt)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        bound = 1 / math.sqrt(in1_features)
        init.uniform_(self.weight, -bound, bound)
        if bias:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class PixelShuffle(Module):
    """(*, C·r², H, W) -> (*, C, H·r, W·r): sub-pixel upsampling (Shi et al., 2016)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) -> (*, C·r², H, W): the inverse of PixelShuffle."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


def _padding_module(name, mode, dims):
    """A padding layer: padding an int (the same on every side of the last `dims` dims) or torch's tuple;
    ConstantPadNd also takes the fill value."""
    def setup(self, padding, value):
        Module.__init__(self)
        self.padding = (padding,) * (2 * dims) if isinstance(padding, int) else tuple(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, mode, self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}" if name.startswith("Constant") else f"{self.padding}"
    if name.startswith("Constant"):
        def __init__(self, padding, value):
            setup(self, padding, value)
    else:
        def __init__(self, padding):
            setup(self, padding, 0.0)
    return type(name, (Module,), {"__init__": __init__, "forward": forward, "extra_repr": extra_repr,
                                  "__doc__": f"F.pad(x, padding, {mode!r}) over the last {dims} dim(s)."})


for _d in (1, 2, 3):
    for _prefix, _mode in (("Zero", "constant"), ("Constant", "constant"), ("Reflection", "reflect"),
                           ("Replication", "replicate"), ("Circular", "circular")):
        globals()[f"{_prefix}Pad{_d}d"] = _padding_module(f"{_prefix}Pad{_d}d", _mode, _d)


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W)."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            from ..errors import ShapeError
            raise ShapeError(f"Softmax2d: expected (N, C, H, W) or (C, H, W), got {input.shape}")
        return F.softmax(input, -3)


class ChannelShuffle(Module):
    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


class Unfold(Module):
    """Sliding local blocks of (N, C, H, W) as columns (N, C·kh·kw, L): F.unfold."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """The adjoint of Unfold: sums columns (N, C·kh·kw, L) back into (N, C, H, W): F.fold."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
