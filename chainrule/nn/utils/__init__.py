"""Gradient clipping and flat parameter vectors (nn.utils)."""
import numpy as np

from ...tensor import Tensor
from . import rnn  # noqa: F401  (nn.utils.rnn.pad_sequence, as torch)
from .reparam import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm  # noqa: F401


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients by min(1, max_norm / ‖g‖) where ‖g‖ is the norm of all of them together; returns ‖g‖."""
    params = _grads(parameters)
    if not params:
        return Tensor._wrap(np.array(0.0, np.float32))
    if norm_type == float("inf"):
        total = max(float(np.abs(p.grad._data).max()) for p in params)
    else:
        total = float(sum(float(np.sum(np.abs(p.grad._data.astype(np.float64)) ** norm_type)) for p in params)
                      ** (1.0 / norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, so "
                           f"they cannot be clipped. Find the first NaN/Inf with chainrule.autograd.detect_anomaly(), "
                           f"or lower the learning rate; error_if_nonfinite=False skips this check")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:
            p.grad._data *= p.grad._data.dtype.type(coef)
    return Tensor._wrap(np.array(total, params[0].grad.dtype))


def clip_grad_value_(parameters, clip_value):
    for p in _grads(parameters):
        np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters):
    from ...ops.shape import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    data = vec._data if isinstance(vec, Tensor) else np.asarray(vec)
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
