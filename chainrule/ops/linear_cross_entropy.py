"""The fused node behind nn.functional.linear_cross_entropy with options (torch's LinearCrossEntropyOptions): the
cross-entropy of linear(x, W, b) against class indices without ever holding the whole (N, C) logits. For each
chunk of rows,

    z = x_c Wᵀ + b,   ℓᵢ = lse(zᵢ) - zᵢ[yᵢ]        (only lse and ℓ are kept)

and backward recomputes each chunk's z to form dz = (softmax(z) - onehot(y))·coefᵢ, then dx_c = dz W,
dW += dzᵀ x_c, db += Σ dz: memory O(chunk·C) instead of O(N·C), for vocabulary-sized heads.
"""
import dataclasses

import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ..tensor import Tensor

_wrap = Tensor._wrap


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """torch's switch to the chunked computation: batch_chunk_size rows at a time (None: rows so that a chunk's
    logits take about 8 MB). chunking_method, acc_policy and acc_dtype pick kernels in torch; allow_retain_graph
    is accepted (chainrule's backward recomputes, so a second backward works either way)."""
    allow_retain_graph: bool = False
    batch_chunk_size: int = None
    chunking_method: str = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None


class LinearCrossEntropy(Op):
    """The chunked node (see the module docstring); inputs x (N, F), W (C, F), optional b (C,)."""

    def forward(self, x, w, b=None, *, target, weights, ignore_index, reduction, chunk):
        n = x.shape[0]
        self.chunk, self.has_bias = chunk, b is not None
        keep = target != ignore_index
        self.safe = safe = np.where(keep, target, 0)   # ignored rows read class 0, then count 0
        coef = (weights[safe] if weights is not None else np.ones(n, x.dtype)) * keep   # w[yᵢ], 0 if ignored
        self.lse = np.empty(n, x.dtype)
        losses = np.empty(n, x.dtype)
        for lo in range(0, n, chunk):
            z = self._logits(x, w, b, lo)
            m = z.max(axis=1, keepdims=True)
            self.lse[lo:lo + chunk] = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
            losses[lo:lo + chunk] = self.lse[lo:lo + chunk] - z[np.arange(z.shape[0]), safe[lo:lo + chunk]]
        weighted = np.where(keep, losses * coef, 0)   # an ignored row counts 0 even when its logits are NaN
        self.ignored = None if keep.all() else ~keep
        # ∂L/∂ℓᵢ per unit upstream gradient: w[yᵢ] (none, sum) or w[yᵢ]/Σw (mean)
        self.row_coef = coef / coef.sum() if reduction == "mean" else coef
        if reduction == "none":
            return weighted
        total = weighted.sum()
        return np.asarray(total / coef.sum() if reduction == "mean" else total, x.dtype)

    def _logits(self, x, w, b, lo):
        z = x[lo:lo + self.chunk] @ w.T
        return z + b if b is not None else z

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        b = self.inputs[2] if self.has_bias else None
        if STATE.grad_enabled:   # create_graph: the same gradient from differentiable ops
            from .linalg import linear
            from .reduce import softmax
            onehot = np.zeros((x.shape[0], w.shape[0]), x._data.dtype)
            onehot[np.arange(x.shape[0]), self.safe] = 1
            scale = g * _wrap(self.row_coef)
            dz = (softmax(linear(x, w, b), 1) - _wrap(onehot)) * scale.unsqueeze(1)
            return (dz @ w, dz.mT @ x) + ((dz.sum(0),) if self.has_bias else ())
        xd, wd, bd = x._data, w._data, (b._data if b is not None else None)
        scale, safe = g._data * self.row_coef, self.safe
        dx, dw = np.empty_like(xd), np.zeros_like(wd)
        db = np.zeros(wd.shape[0], wd.dtype) if self.has_bias else None
        for lo in range(0, xd.shape[0], self.chunk):
            dz = np.exp(self._logits(xd, wd, bd, lo) - self.lse[lo:lo + self.chunk, None])   # softmax, recomputed
            rows = np.arange(dz.shape[0])
            dz[rows, safe[lo:lo + self.chunk]] -= 1
            dz *= scale[lo:lo + self.chunk, None]
            if self.ignored is not None:   # 0, not NaN·0, for ignored rows
                dz[self.ignored[lo:lo + self.chunk]] = 0
            dx[lo:lo + self.chunk] = dz @ wd
            dw += dz.T @ xd[lo:lo + self.chunk]
            if db is not None:
                db += dz.sum(axis=0)
        return (_wrap(dx), _wrap(dw)) + ((_wrap(db),) if self.has_bias else ())


def fused_linear_cross_entropy(x, w, b, labels, weights, ignore_index, reduction, chunk):
    """The chunked node on (N, F) rows and (N,) integer labels."""
    args = (x, w) if b is None else (x, w, b)
    return LinearCrossEntropy.apply(*args, target=labels, ignore_index=ignore_index, reduction=reduction,
                                    chunk=int(chunk), weights=weights)
