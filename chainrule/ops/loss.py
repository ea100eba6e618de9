"""Fused loss ops, where fusing gives the stable, textbook gradient in one node:

    softmax + cross-entropy:  L = -log softmax(z)[y],  dL/dz = softmax(z) - onehot(y)   (the texts' "beautiful
    simplification": the Jacobian of softmax and the 1/p of the log cancel)
"""
import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from .registry import T, register, sample

_wrap = Tensor._wrap


class SoftmaxCrossEntropy(Op):
    """Per-row loss ℓᵢ = lse(zᵢ) - zᵢ[yᵢ];  dℓᵢ/dzᵢ = softmax(zᵢ) - onehot(yᵢ). z is (N, C), y is (N,) ints."""

    def forward(self, z, target):
        self.target = target
        m = np.maximum.reduce(z, axis=1, keepdims=True)   # the ufunc reductions skip ndarray.max's wrapper
        shifted = z - m
        e = np.exp(shifted)
        s = np.add.reduce(e, axis=1, keepdims=True)
        self.softmax = e / s
        rows = np.arange(z.shape[0])
        return (np.log(s[:, 0]) - shifted[rows, target]).astype(z.dtype, copy=False)

    def backward(self, g):
        rows = np.arange(self.softmax.shape[0])
        if not STATE.grad_enabled:
            d = self.softmax.copy()
            d[rows, self.target] -= 1
            return _wrap(d * g._data[:, None])
        from .reduce import softmax
        onehot = np.zeros_like(self.softmax)
        onehot[rows, self.target] = 1
        return (softmax(self.inputs[0], 1) - _wrap(onehot)) * g.unsqueeze(1)


def softmax_cross_entropy(logits, target):
    """Per-sample cross-entropy of (N, C) logits against (N,) class indices, as one fused node."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    return SoftmaxCrossEntropy.apply(logits, target=t)


def _np_ce(z, y):
    m = z.max(1, keepdims=True)
    return (np.log(np.exp(z - m).sum(1)) + m[:, 0]) - z[np.arange(len(y)), y]


register("softmax_cross_entropy", ref=_np_ce,
         samples=[sample(T((4, 3)), np.array([0, 2, 1, 2])),
                  sample(T((2, 3), values=[[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]), np.array([1, 2]))])(
    softmax_cross_entropy)
