"""Cumulative ops beyond cumsum: cumprod (a primitive, with the zero case handled exactly), logcumsumexp (a
primitive, stable), and cummax / cummin (a gather at the running arg-max, so the gradient goes to the entry that
holds the running extreme)."""
import collections

import numpy as np

from ..tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ._util import norm_dim
from .elementwise import where
from .index import gather
from .registry import T, register, sample

_wrap = Tensor._wrap
_ScanResult = collections.namedtuple("return_types", ["values", "indices"])   # torch.return_types.cummax


def _moved(arr, axis):
    return np.moveaxis(arr, axis, 0)


class Cumprod(Op):
    """yᵢ = Π_{k≤i} xₖ;  dL/dxⱼ = Σ_{i≥j} gᵢ Π_{k≤i, k≠j} xₖ.
    Without zeros that is (reversed cumsum of g⊙y)ⱼ / xⱼ. With zeros the division fails, so the sum is taken as
    Π_{k<j} xₖ · Sⱼ with Sⱼ = gⱼ + xⱼ₊₁ Sⱼ₊₁ (a backward recurrence along the dim)."""

    def forward(self, x, axis):
        self.axis = axis
        self.out = np.cumprod(x, axis=axis)
        return self.out

    def backward(self, g):
        x, = self.inputs
        ax = self.axis
        if not (x._data == 0).any():
            y = self.saved_output()
            return (g * y).flip(ax).cumsum(ax).flip(ax) / x
        if not STATE.grad_enabled:
            return _wrap(_cumprod_grad_with_zeros(x._data, g._data, ax))
        return _cumprod_grad_composed(x, g, ax)


def _cumprod_grad_with_zeros(x, g, axis):
    xm, gm = _moved(x, axis), _moved(g, axis)
    n = xm.shape[0]
    before = np.ones_like(xm)                  # Π_{k<j} x_k, the exclusive cumulative product
    before[1:] = np.cumprod(xm[:-1], axis=0)
    s = np.empty_like(gm)
    s[n - 1] = gm[n - 1]
    for j in range(n - 2, -1, -1):
        s[j] = gm[j] + xm[j + 1] * s[j + 1]
    return np.moveaxis(before * s, 0, axis)


def _cumprod_grad_composed(x, g, axis):
    """The same recurrence with Tensor ops, so that it differentiates again (create_graph)."""
    from .shape import stack, unbind
    xs, gs = unbind(x, axis), unbind(g, axis)
    n = len(xs)
    s = [None] * n
    s[n - 1] = gs[n - 1]
    for j in range(n - 2, -1, -1):
        s[j] = gs[j] + xs[j + 1] * s[j + 1]
    one = _wrap(np.ones_like(xs[0]._data))
    before = cumprod(stack([one] + list(xs[:-1]), axis), axis)
    return before * stack(s, axis)


class LogCumSumExp(Op):
    """yᵢ = ln Σ_{k≤i} e^xₖ;  dL/dxⱼ = Σ_{i≥j} gᵢ e^(xⱼ - yᵢ) = e^(xⱼ - yⱼ) Aⱼ with Aⱼ = gⱼ + e^(yⱼ - yⱼ₊₁) Aⱼ₊₁,
    a backward recurrence in which every exponent is ≤ 0 (y never decreases and yⱼ ≥ xⱼ): no overflow at ±1000."""

    def forward(self, x, axis):
        self.axis = axis
        self.out = np.logaddexp.accumulate(x, axis=axis)
        return self.out

    def backward(self, g):
        x, = self.inputs
        ax = self.axis
        y = self.saved_output()
        if not STATE.grad_enabled:
            return _wrap(_lcse_grad(x._data, y._data, g._data, ax))
        # create_graph: the pairwise form, exp(x_j - y_i) masked to i ≥ j, summed over i (n² but differentiable)
        n = x.shape[ax]
        xm, ym, gm = (t.movedim(ax, -1) for t in (x, y, g))
        below = _wrap(np.tril(np.ones((n, n), bool)))       # i ≥ j; masked before exp, which would overflow above
        w = where(below, xm.unsqueeze(-2) - ym.unsqueeze(-1), _wrap(np.array(-np.inf, x.dtype))).exp()
        return (gm.unsqueeze(-1) * w).sum(-2).movedim(-1, ax)


def _lcse_grad(x, y, g, axis):
    xm, ym, gm = _moved(x, axis), _moved(y, axis), _moved(g, axis)
    n = xm.shape[0]
    out = np.empty_like(xm)
    acc = np.zeros_like(gm[0])                 # Σ_{i≥j} gᵢ e^(yⱼ - yᵢ), carried from the end; every factor ≤ 1
    for j in range(n - 1, -1, -1):
        if j < n - 1:
            acc = acc * np.exp(ym[j] - ym[j + 1])
        acc = acc + gm[j]
        out[j] = acc * np.exp(xm[j] - ym[j])
    return np.moveaxis(out, 0, axis)


def cumprod(input, dim, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Cumprod.apply(input, axis=norm_dim(dim, input.ndim, "cumprod")[0])


def logcumsumexp(input, dim):
    return LogCumSumExp.apply(input, axis=norm_dim(dim, input.ndim, "logcumsumexp")[0])


def _running(input, dim, pick, name):
    d = norm_dim(dim, input.ndim, name)[0]
    x = _moved(input._data, d)
    idx = np.zeros(x.shape, np.int64)
    best = x[0].copy()
    for i in range(1, x.shape[0]):             # ties take the later index, as torch
        take = pick(x[i], best) | (x[i] == best)
        best = np.where(take, x[i], best)
        idx[i] = np.where(take, i, idx[i - 1])
    idx = np.moveaxis(idx, 0, d)
    return _ScanResult(gather(input, d, _wrap(idx)), _wrap(idx))


def cummax(input, dim):
    """(running maxima, their indices) along dim; the gradient goes to the entry holding each maximum."""
    return _running(input, dim, np.greater, "cummax")


def cummin(input, dim):
    return _running(input, dim, np.less, "cummin")


register("cumprod", method="cumprod", ref=lambda x, dim: np.cumprod(x, axis=dim),
         samples=[sample(T((3, 4)), 1), sample(T((2, 3, 4)), 0),
                  sample(T((2, 4), values=[[1.5, 0.0, 2.0, -1.2], [0.0, 0.7, 0.0, 1.1]]), 1)])(cumprod)
register("logcumsumexp", method="logcumsumexp", ref=lambda x, dim: np.logaddexp.accumulate(x, axis=dim),
         samples=[sample(T((3, 4)), 1), sample(T((2, 3)), 0),
                  sample(T((2, 3), values=[[-1000.0, 0.0, 1000.0], [5.0, 1000.0, -1000.0]]), 1)])(logcumsumexp)
register("cummax", method="cummax", ref=lambda x, dim: np.maximum.accumulate(x, axis=dim),
         samples=[sample(T((3, 5)), 1), sample(T((4, 2)), 0)])(lambda input, dim: cummax(input, dim).values)
register("cummin", method="cummin", ref=lambda x, dim: np.minimum.accumulate(x, axis=dim),
         samples=[sample(T((3, 5)), 1)])(lambda input, dim: cummin(input, dim).values)
Tensor.cummax, Tensor.cummin = cummax, cummin   # the full (values, indices) forms
