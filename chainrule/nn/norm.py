"""Normalisation layers, composed from registered ops (so their gradients are those ops')."""
import math

import numpy as np

from .. import creation, dtypes
from ..amp import in_float32
from ..autograd.grad_mode import no_grad
from ..errors import ShapeError
from .module import Module
from .parameter import Parameter


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """y = (x - μ)/√(σ² + ε)·γ + β over the last len(normalized_shape) dims (biased variance)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[-len(shape):] != shape:
        raise ShapeError(f"layer_norm: input shape {input.shape} does not end with normalized_shape {shape}")
    input, finish = in_float32(input)
    y = _standardise(input, tuple(range(input.ndim - len(shape), input.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return finish(y)


def _standardise(input, dims, eps):
    """(x - μ)/√(σ² + ε) over dims, with the biased variance."""
    xc = input - input.mean(dim=dims, keepdim=True)
    return xc * ((xc * xc).mean(dim=dims, keepdim=True) + eps).rsqrt()


def _per_channel(input):
    """The shape that lines a (C,) vector up with dim 1 of input: (1, C, 1, …)."""
    return (1, -1) + (1,) * (input.ndim - 2)


def _with_running_stats(input, running_mean, running_var, eps):
    """(x - running mean)/√(running var + ε) per channel (dim 1): batch and instance norm outside training."""
    shape = _per_channel(input)
    return (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()


def _channel_affine(y, weight, bias):
    """y·γ_c + β_c per channel (dim 1), either left out when None."""
    shape = _per_channel(y)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Channels (dim 1) split into num_groups groups; each sample's group is standardised over its channels and
    spatial positions, then scaled and shifted per channel: y = (x - μ_g)/√(σ_g² + ε)·γ_c + β_c."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ShapeError(f"group_norm: the input's {input.shape[1] if input.ndim > 1 else 0} channels (dim 1 of "
                         f"{input.shape}) must split evenly into num_groups={num_groups} groups")
    if input.shape[0] * (input.shape[1] // num_groups) * math.prod(input.shape[2:]) == 1:   # torch's check
        raise ValueError(f"group_norm: expected more than 1 value per channel, got input {input.shape} with "
                         f"num_groups={num_groups}: the one value of each group would normalise to 0. Use fewer "
                         f"groups, a larger input, or a batch of more than one")
    input, finish = in_float32(input)
    grouped = input.reshape(input.shape[0], num_groups, math.prod(input.shape[1:]) // num_groups)
    return finish(_channel_affine(_standardise(grouped, (2,), eps).reshape(input.shape), weight, bias))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch (and spatial dims); in training, update the running
    statistics (unbiased variance) with `momentum`; in eval, use them."""
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected (N, C) or (N, C, *spatial) input, got shape {input.shape}")
    dims = (0,) + tuple(range(2, input.ndim))
    input, finish = in_float32(input)
    if training:
        n = input.numel() // input.shape[1] if input.shape[1] else 0
        if input.numel() == 0:   # an empty batch: an empty result, the running statistics unchanged (torch's)
            return finish(input.clone())
        if n < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per channel in training, got input "
                             f"{input.shape}; use a batch of at least 2 or eval()")
        mu = input.mean(dim=dims, keepdim=True)
        xc = input - mu
        var = (xc * xc).mean(dim=dims, keepdim=True)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mu.detach().reshape(-1) * momentum)
                running_var.mul_(1 - momentum).add_(var.detach().reshape(-1) * (momentum * n / (n - 1)))
        y = xc * (var + eps).rsqrt()
    else:
        y = _with_running_stats(input, running_mean, running_var, eps)
    return finish(_channel_affine(y, weight, bias))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Each sample's channel standardised over its own spatial dims: y = (x - μ_nc)/√(σ²_nc + ε)·γ_c + β_c. With
    running statistics and use_input_stats, they are updated with the batch average of the per-instance mean and
    unbiased variance; without use_input_stats, the running statistics normalise instead (torch's eval)."""
    if input.ndim < 3:
        raise ShapeError(f"instance_norm: expected (N, C, *spatial) with at least one spatial dim, got {input.shape}")
    dims = tuple(range(2, input.ndim))
    input, finish = in_float32(input)
    if use_input_stats:
        y = _standardise(input, dims, eps)
        if running_mean is not None:
            n = input.numel() // (input.shape[0] * input.shape[1])
            with no_grad():
                x = input.detach()
                mu = x.mean(dim=dims)
                var = x.var(dim=dims, correction=1 if n > 1 else 0)
                running_mean.mul_(1 - momentum).add_(mu.mean(dim=0) * momentum)
                running_var.mul_(1 - momentum).add_(var.mean(dim=0) * momentum)
    else:
        if running_mean is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        y = _with_running_stats(input, running_mean, running_var, eps)
    return finish(_channel_affine(y, weight, bias))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """y = x / √(mean(x²) + ε) · γ over the last len(normalized_shape) dims (no centring; Zhang & Sennrich, 2019);
    ε defaults to the dtype's machine epsilon, as torch's."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[-len(shape):] != shape:
        raise ShapeError(f"rms_norm: input shape {input.shape} does not end with normalized_shape {shape}")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    input, finish = in_float32(input)
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return finish(y * weight if weight is not None else y)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """AlexNet's normalisation across channels: y_c = x_c / (k + α/n · Σ_{c'} x_{c'}²)^β, the sum over the n = size
    channels c - ⌊n/2⌋ … c + ⌈n/2⌉ - 1 (zero beyond the edges), as torch's."""
    if input.ndim < 3:
        raise ShapeError(f"local_response_norm: expected (N, C, ...) with at least one spatial dim, got {input.shape}")
    if size < 1:
        raise ValueError(f"local_response_norm: size must be positive, got {size}")
    from ..ops.shape import pad
    c = input.shape[1]
    input, finish = in_float32(input)
    sq = (input * input).movedim(1, -1)
    padded = pad(sq, (size // 2, (size - 1) // 2))
    window = padded[..., 0:c]
    for j in range(1, size):
        window = window + padded[..., j:j + c]
    return finish(input / (window.movedim(-1, 1) * (alpha / size) + k) ** beta)


class LocalResponseNorm(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = dtypes.get_default_dtype()
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, dtype=dt))
            self.bias = Parameter(creation.zeros(*self.normalized_shape, dtype=dt)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self._own("weight"), self._own("bias"), self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dt = dtypes.get_default_dtype()
        self.weight = Parameter(creation.ones(num_channels, dtype=dt)) if affine else None
        self.bias = Parameter(creation.zeros(num_channels, dtype=dt)) if affine and bias else None

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _NormBase(Module):
    """What batch and instance normalisation share (torch's _NormBase): the affine weight and bias, and the running
    mean and variance with the count of batches behind them."""
    _optional_state = ("num_batches_tracked",)   # checkpoints from before it was kept still load

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum, self.affine = num_features, eps, momentum, affine
        dt = dtypes.get_default_dtype()
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dt))
            self.bias = Parameter(creation.zeros(num_features, dtype=dt)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.track_running_stats = track_running_stats
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dt))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", creation.tensor(0, dtype=dtypes.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self):
        """Running mean 0, variance 1, no batches seen (in place, so references stay valid)."""
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight._data[...] = 1
            if self.bias is not None:
                self.bias._data[...] = 0

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    dims = None

    def forward(self, input):
        """momentum=None averages the running statistics over all batches so far (factor 1/batches), as torch."""
        if input.ndim not in self.dims or input.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}): expected a {' or '.join(map(str, self.dims))}-D "
                             f"input with {self.num_features} channels in dim 1, got shape {input.shape}")
        factor = self.momentum if self.momentum is not None else 0.0
        if self.training and self.track_running_stats:
            batches = self._own("num_batches_tracked")
            batches._data += 1
            if self.momentum is None:
                factor = 1.0 / float(batches._data)
        use_batch = self.training or not self.track_running_stats
        return batch_norm(input, self._own("running_mean") if self.track_running_stats else None,
                          self._own("running_var"), self._own("weight"), self._own("bias"), use_batch, factor,
                          self.eps)


class BatchNorm1d(_BatchNorm):
    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    dims = (4,)


class BatchNorm3d(_BatchNorm):
    dims = (5,)


class SyncBatchNorm(_BatchNorm):
    """torch's SyncBatchNorm: batch statistics over every process of a group. chainrule trains in one process,
    where that is BatchNorm over any (N, C, *) input."""
    dims = tuple(range(2, 9))

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)
        self.process_group = process_group

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """The module with every BatchNorm*d replaced by a SyncBatchNorm holding the same tensors."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                       process_group)
            sync._parameters.update(module._parameters)
            sync._buffers.update(module._buffers)
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module


class _InstanceNorm(_NormBase):
    """Instance normalisation (Ulyanov et al., 2016): torch's defaults affine=False, track_running_stats=False.
    An unbatched input (C, *spatial) is taken as a batch of one."""
    spatial = None

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)

    def forward(self, input):
        if input.ndim not in (self.spatial + 1, self.spatial + 2):
            raise ShapeError(f"{type(self).__name__}: expected a {self.spatial + 2}-D (batched) or "
                             f"{self.spatial + 1}-D (unbatched) input, got shape {input.shape}")
        unbatched = input.ndim == self.spatial + 1
        if unbatched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.num_features and self.weight is not None:
            raise ShapeError(f"{type(self).__name__}({self.num_features}): input has {input.shape[1]} channels in dim "
                             f"1 (shape {input.shape})")
        use_input = self.training or not self.track_running_stats
        y = instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_input,
                          self.momentum if self.momentum is not None else 0.0, self.eps)   # torch: None is 0 here
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    spatial = 1


class InstanceNorm2d(_InstanceNorm):
    spatial = 2


class InstanceNorm3d(_InstanceNorm):
    spatial = 3


class RMSNorm(Module):
    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, dtype=dtype or dtypes.get_default_dtype()))
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


def _register():
    import numpy as np
    from ..ops.registry import T, register, sample

    def np_ln(x, shape, w=None, b=None, eps=1e-5):
        dims = tuple(range(x.ndim - len(shape), x.ndim))
        y = (x - x.mean(dims, keepdims=True)) / np.sqrt(x.var(dims, keepdims=True) + eps)
        return y * (1 if w is None else w) + (0 if b is None else b)
    register("layer_norm", ref=np_ln, samples=[sample(T((3, 4)), (4,), T((4,)), T((4,))),
                                               sample(T((2, 3, 4)), (3, 4))])(layer_norm)

    def np_gn(x, groups, w=None, b=None, eps=1e-5):
        g = x.reshape(x.shape[0], groups, -1)
        y = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + eps)).reshape(x.shape)
        per_channel = (1, -1) + (1,) * (x.ndim - 2)
        return y * (1 if w is None else w.reshape(per_channel)) + (0 if b is None else b.reshape(per_channel))
    register("group_norm", ref=np_gn, samples=[sample(T((2, 4, 3)), 2, T((4,)), T((4,))),
                                               sample(T((2, 6, 2, 2)), 3), sample(T((3, 4)), 4, T((4,)))])(group_norm)
    register("batch_norm_train", ref=None, samples=[sample(T((5, 3)), None, None, T((3,)), T((3,)), True),
                                                    sample(T((2, 2, 3, 3)), None, None, None, None, True)])(batch_norm)
    register("instance_norm", ref=None, samples=[sample(T((2, 3, 4)), None, None, T((3,)), T((3,))),
                                                 sample(T((2, 2, 3, 3)))])(instance_norm)
    register("rms_norm", ref=lambda x, shape, w=None, eps=None: x / np.sqrt((x * x).mean(-1, keepdims=True) +
                                                                           np.finfo(x.dtype).eps) * (1 if w is None else w),
             samples=[sample(T((3, 4)), 4, T((4,))), sample(T((2, 3, 4)), (4,))])(rms_norm)
    register("local_response_norm", samples=[sample(T((2, 5, 3)), 3), sample(T((1, 4, 2, 3)), 2, 0.1, 0.6, 2.0),
                                             sample(T((1, 3, 2, 2, 2)), 5, 0.5)])(local_response_norm)


_register()
