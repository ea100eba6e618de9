"""Fused loss ops, where fusing gives the stable, textbook gradient in one node:

    softmax + cross-entropy:  L = -log softmax(z)[y],  dL/dz = softmax(z) - onehot(y)   (the texts' "beautiful
    simplification": the Jacobian of softmax and the 1/p of the log cancel)
"""
import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from .reduce import empty_mean
from .registry import T, register, sample
from ._util import as_array

_wrap = Tensor._wrap


class SoftmaxCrossEntropy(Op):
    """Per-row loss ℓᵢ = lse(zᵢ) - zᵢ[yᵢ];  dℓᵢ/dzᵢ = softmax(zᵢ) - onehot(yᵢ). z is (N, C), y is (N,) ints.
    reduction 'mean' (L = Σℓᵢ/N, dL/dzᵢ = (softmax(zᵢ) - onehot(yᵢ))/N) or 'sum' happens inside the node: one
    node instead of two on every training step."""

    def forward(self, z, target, reduction="none"):
        self.target, self.reduction = target, reduction
        m = np.maximum.reduce(z, axis=1, keepdims=True)   # the ufunc reductions skip ndarray.max's wrapper
        shifted = z - m
        e = np.exp(shifted)
        s = np.add.reduce(e, axis=1, keepdims=True)
        self.softmax = e / s
        rows = np.arange(z.shape[0])
        per_row = np.log(s[:, 0]) - shifted[rows, target]
        if reduction == "none":
            return per_row.astype(z.dtype, copy=False)
        if reduction == "mean" and not len(per_row):   # an empty batch: nan with a warning, as every mean
            return empty_mean("cross_entropy", per_row, (0,), False)
        total = np.add.reduce(per_row, axis=None)
        return np.asarray(total / len(per_row) if reduction == "mean" else total, z.dtype)

    def backward(self, g):
        rows = np.arange(self.softmax.shape[0])
        if self.reduction == "none":
            scale = g.unsqueeze(1)
        else:
            scale = g / max(len(rows), 1) if self.reduction == "mean" else g   # no rows: nothing to scale
        if not STATE.grad_enabled:
            d = self.softmax.copy()
            d[rows, self.target] -= 1
            d *= scale._data
            return _wrap(d)
        from .reduce import softmax
        onehot = np.zeros_like(self.softmax)
        onehot[rows, self.target] = 1
        return (softmax(self.inputs[0], 1) - _wrap(onehot)) * scale


def softmax_cross_entropy(logits, target, reduction="none"):
    """Cross-entropy of (N, C) logits against (N,) class indices as one fused node: per sample, or reduced by
    'mean' or 'sum'."""
    t = as_array(target)
    return SoftmaxCrossEntropy.apply(logits, target=t, reduction=reduction)


def _np_ce(z, y, reduction="none"):
    m = z.max(1, keepdims=True)
    per_row = (np.log(np.exp(z - m).sum(1)) + m[:, 0]) - z[np.arange(len(y)), y]
    return {"none": per_row, "mean": per_row.mean(), "sum": per_row.sum()}[reduction]


softmax_cross_entropy = register("softmax_cross_entropy", ref=_np_ce,
         samples=[sample(T((4, 3)), np.array([0, 2, 1, 2])), sample(T((4, 3)), np.array([0, 2, 1, 1]), reduction="mean"),
                  sample(T((3, 5)), np.array([4, 0, 1]), reduction="sum"),
                  sample(T((2, 3), values=[[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]), np.array([1, 2]))])(
    softmax_cross_entropy)
