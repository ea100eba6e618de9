"""Gradient clipping and flat parameter vectors (nn.utils)."""
import types
import warnings

import numpy as np

from ...tensor import Tensor
from . import fusion, parametrizations, parametrize, prune, rnn  # noqa: F401  (nn.utils.rnn.pad_sequence, as torch)
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights  # noqa: F401
from .reparam import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm  # noqa: F401
from ...ops._util import as_array


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _vector_norm(values, p):
    """‖x‖_p of the flattened array as torch.linalg.vector_norm: max |x| for p = ∞, min |x| for -∞, the number of
    nonzero entries for p = 0, (Σ|x|ᵖ)^(1/p) otherwise (in float64, so float16 sums do not overflow)."""
    magnitudes = np.abs(np.asarray(values, np.float64)).ravel()
    if p == np.inf:
        return float(magnitudes.max(initial=0.0))
    if p == -np.inf:
        return float(magnitudes.min(initial=np.inf))
    if p == 0:
        return float(np.count_nonzero(magnitudes))
    with np.errstate(divide="ignore", over="ignore"):   # |0|^p for p < 0 is ∞, whose reciprocal power is 0
        return float(np.sum(magnitudes ** p) ** (1.0 / p))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """‖(t₁, t₂, …)‖ of order norm_type over all the tensors together: the norm of their norms, which is the norm
    of their concatenation (torch 2.6's name; clip_grad_norm_ = get_total_norm of the grads +
    clip_grads_with_norm_)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]
    if not tensors:
        return Tensor._wrap(np.array(0.0, np.float32))
    norm_type = float(norm_type)
    total = _vector_norm([_vector_norm(t._data, norm_type) for t in tensors], norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"get_total_norm (clip_grad_norm_): the total norm of order {norm_type} of the gradients "
                           f"is {total}, so they cannot be clipped. Find the first NaN/Inf with "
                           f"chainrule.autograd.detect_anomaly(), or lower the learning rate; error_if_nonfinite=False "
                           f"skips this check")
    return Tensor._wrap(np.array(total, np.result_type(*[t._data.dtype for t in tensors])))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place. As torch's, a non-finite
    total_norm scales by 0 (∞) or NaN (NaN), so an infinite gradient entry becomes NaN: pass
    error_if_nonfinite=True to clip_grad_norm_ to be told instead."""
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    if not coef >= 1:   # NaN too, as torch's clamp(max=1) keeps NaN
        with np.errstate(invalid="ignore"):
            for p in _grads(parameters):
                p.grad._data *= p.grad._data.dtype.type(coef)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients by min(1, max_norm / ‖g‖) where ‖g‖ is the norm of all of them together; returns ‖g‖."""
    params = _grads(parameters)
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """clip_grad_norm_ under its old name, with torch's FutureWarning."""
    warnings.warn("`chainrule.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`chainrule.nn.utils.clip_grad_norm_` (as in torch).", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def convert_conv2d_weight_memory_format(module, memory_format):
    """The module itself: NumPy arrays are row-major and memory formats are no-ops here (torch converts the conv
    weights to channels_last for NHWC kernels on GPUs)."""
    return module


convert_conv3d_weight_memory_format = convert_conv2d_weight_memory_format


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry to [-clip_value, clip_value], in place (foreach picks a kernel in torch)."""
    for p in _grads(parameters):
        np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters):
    from ...ops.shape import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__} (make one with "
                        f"chainrule.tensor(...))")
    data = as_array(vec)
    offset = 0
    for p in parameters:
        n = p.numel()
        if offset + n > data.size:
            raise ValueError(f"vector_to_parameters: vector of {data.size} elements is too short for the parameters")
        p._data[...] = data[offset:offset + n].reshape(p.shape)
        offset += n
    if offset != data.size:
        raise ValueError(f"vector_to_parameters: vector has {data.size} elements but the parameters need {offset}")


def tbptt(*args, **kwargs):
    """Truncated BPTT (see chainrule.nn.rnn.tbptt)."""
    from ..rnn import tbptt as _tbptt
    return _tbptt(*args, **kwargs)


def skip_init(module_cls, *args, **kwargs):
    """The module without running its initialisation (torch.nn.utils.skip_init): here layers are built and
    initialised in one step, so this builds it normally; the values are then overwritten by the caller."""
    return module_cls(*args, **kwargs)


def _stateless_functional_call(module, parameters_and_buffers, args=(), kwargs=None, *, tie_weights=True,
                                strict=False):
    from ...func import functional_call
    return functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)


stateless = types.SimpleNamespace(functional_call=_stateless_functional_call)   # torch.nn.utils.stateless
