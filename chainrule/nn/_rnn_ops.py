"""Two fused nodes that make recurrent layers fast (PERF.md: coarse nodes pay):

- unbind_steps: one node that splits a (T, …) tensor into T steps; its backward stacks the T gradients in one
  pass (T separate slices would each scatter into a full-size zero array);
- lstm_gates: the LSTM cell's elementwise part as one node. With a = W_ih x + b_ih + W_hh h + b_hh split into
  (a_i, a_f, a_g, a_o): i, f, o = σ(a_i), σ(a_f), σ(a_o); g = tanh(a_g); c' = f⊙c + i⊙g; h' = o⊙tanh(c').
  Backward: dc = g_c + g_h⊙o⊙(1 - tanh²c'); da_o = g_h⊙tanh c'⊙o(1-o); da_i = dc⊙g⊙i(1-i);
  da_f = dc⊙c⊙f(1-f); da_g = dc⊙i⊙(1-g²); dc_prev = dc⊙f.
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..ops.elementwise import sigmoid, tanh
from ..ops.registry import T, register, sample
from ..ops.shape import cat, stack
from ..tensor import Tensor

_wrap = Tensor._wrap


class UnbindSteps(Function):
    @staticmethod
    def forward(ctx, x):
        return tuple(_wrap(x._data[t]) for t in range(x.shape[0]))

    @staticmethod
    def backward(ctx, *grads):
        if not STATE.grad_enabled:
            return _wrap(np.stack([g._data for g in grads]))
        return stack(list(grads))


def unbind_steps(x):
    out = UnbindSteps.apply(x)
    return out if isinstance(out, tuple) else (out,)


def _np_sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class LSTMGates(Function):
    @staticmethod
    def forward(ctx, pre, c_prev):
        a, c0 = pre._data, c_prev._data
        H = c0.shape[-1]
        i, f, o = _np_sigmoid(a[..., :H]), _np_sigmoid(a[..., H:2 * H]), _np_sigmoid(a[..., 3 * H:])
        g = np.tanh(a[..., 2 * H:3 * H])
        c = f * c0 + i * g
        tc = np.tanh(c)
        ctx.save_for_backward(pre, c_prev)
        ctx.cache = (i.astype(a.dtype), f.astype(a.dtype), g, o.astype(a.dtype), tc, c0)
        return _wrap((o * tc).astype(a.dtype)), _wrap(c.astype(a.dtype))

    @staticmethod
    def backward(ctx, gh, gc):
        if not STATE.grad_enabled:      # plain backward: the formulas in the module docstring, on arrays
            i, f, g, o, tc, c0 = ctx.cache
            gh_, gc_ = gh._data, gc._data
            dc = gc_ + gh_ * o * (1 - tc * tc)
            da = np.concatenate([dc * g * i * (1 - i), dc * c0 * f * (1 - f), dc * i * (1 - g * g),
                                 gh_ * tc * o * (1 - o)], axis=-1)
            return _wrap(da), _wrap(dc * f)
        pre, c_prev = ctx.saved_tensors    # create_graph: the same formulas on Tensors, so they differentiate
        H = c_prev.shape[-1]
        i, f, o = sigmoid(pre[..., :H]), sigmoid(pre[..., H:2 * H]), sigmoid(pre[..., 3 * H:])
        g = tanh(pre[..., 2 * H:3 * H])
        tc = tanh(f * c_prev + i * g)
        dc = gc + gh * o * (1 - tc * tc)
        da = cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), gh * tc * o * (1 - o)], -1)
        return da, dc * f


def lstm_gates(pre, c_prev):
    return LSTMGates.apply(pre, c_prev)


def _lstm_ref(pre, c):
    H = c.shape[-1]
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    cn = s(pre[..., H:2 * H]) * c + s(pre[..., :H]) * np.tanh(pre[..., 2 * H:3 * H])
    return np.concatenate([s(pre[..., 3 * H:]) * np.tanh(cn), cn], -1)


register("lstm_gates", ref=_lstm_ref, samples=[sample(T((2, 8)), T((2, 2))), sample(T((3, 12)), T((3, 3)))])(
    lambda pre, c: cat(list(lstm_gates(pre, c)), -1))
register("unbind_steps", ref=lambda x: x * np.arange(1, x.shape[0] + 1).reshape(-1, *([1] * (x.ndim - 1))),
         samples=[sample(T((3, 2, 2)))])(
    lambda x: stack([s * float(k + 1) for k, s in enumerate(unbind_steps(x))]))
