"""Cumulative ops beyond cumsum: cumprod (a primitive, with the zero case handled exactly), logcumsumexp (a
primitive, stable), and cummax / cummin (a gather at the running arg-max, so the gradient goes to the entry that
holds the running extreme)."""
import collections
import math

import numpy as np

from ..amp import computed_in_float32
from ..tensor import Tensor
from ..autograd.function import Op
from ._util import one_dim, scalar_as_vector
from .index import gather
from .shape import cat, stack, unbind
from .registry import T, register, sample

_wrap = Tensor._wrap
_ScanResult = collections.namedtuple("return_types", ["values", "indices"])   # torch.return_types.cummax


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
        xs = unbind(x, ax)
        one = _wrap(np.ones_like(xs[0]._data))
        before = cumprod(stack([one] + list(xs[:-1]), ax), ax)   # Π_{k<j} xₖ, the exclusive product
        return before * _backward_recurrence(unbind(g, ax), xs[1:], ax)


class LogCumSumExp(Op):
    """yᵢ = ln Σ_{k≤i} e^xₖ;  dL/dxⱼ = Σ_{i≥j} gᵢ e^(xⱼ - yᵢ) = e^(xⱼ - yⱼ) Aⱼ with Aⱼ = gⱼ + e^(yⱼ - yⱼ₊₁) Aⱼ₊₁,
    a backward recurrence in which every exponent is ≤ 0 (y never decreases and yⱼ ≥ xⱼ): no overflow at ±1000."""

    def forward(self, x, axis):
        self.axis = axis
        with np.errstate(invalid="ignore"):   # a NaN carries on down the scan, quietly (as torch)
            self.out = np.logaddexp.accumulate(x, axis=axis)
        return self.out

    def backward(self, g):
        x, = self.inputs
        ax = self.axis
        y = self.saved_output()
        n = x.shape[ax]
        if n == 0:
            return g
        decay = (y.narrow(ax, 0, n - 1) - y.narrow(ax, 1, n - 1)).exp()
        return (x - y).exp() * _backward_recurrence(unbind(g, ax), unbind(decay, ax), ax)


def _backward_recurrence(gs, factors, axis):
    """S stacked along axis, with S_{n-1} = g_{n-1} and Sⱼ = gⱼ + factorⱼ Sⱼ₊₁: the sums over i ≥ j that both
    cumulative ops' gradients need. Tensor ops, so that it differentiates again (create_graph)."""
    s = [None] * len(gs)
    s[-1] = gs[-1]
    for j in range(len(gs) - 2, -1, -1):
        s[j] = gs[j] + factors[j] * s[j + 1]
    return stack(s, axis)


@scalar_as_vector
@computed_in_float32
def cumprod(input, dim, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Cumprod.apply(input, axis=one_dim(dim, input.ndim, "cumprod"))


# ---- Π_{j≠i} xⱼ over reduced axes (prod's gradient where x holds zeros): exclusive products, no division ----
def prod_of_others(x, axes):
    """Π_{j≠i} xⱼ over the reduced axes: the product of the entries before i (an exclusive cumprod) times the
    product of those after it. Built from ops, so under create_graph a second derivative at zeros is right too."""
    kept = [d for d in range(x.ndim) if d not in axes]
    order = kept + list(axes)
    moved = x.permute(order)
    flat = moved.reshape(moved.shape[:len(kept)] + (math.prod(moved.shape[len(kept):]),))   # not -1: 0 elements
    one = Tensor._wrap(np.ones(flat.shape[:-1] + (1,), x.dtype))
    before = cumprod(cat([one, flat[..., :-1]], -1), -1)
    after = cumprod(cat([one, flat.flip(-1)[..., :-1]], -1), -1).flip(-1)
    inverse = [order.index(d) for d in range(x.ndim)]
    return (before * after).reshape(moved.shape).permute(inverse)


@scalar_as_vector
def logcumsumexp(input, dim):
    return LogCumSumExp.apply(input, axis=one_dim(dim, input.ndim, "logcumsumexp"))


def _running(input, dim, pick, name):
    d = one_dim(dim, input.ndim, name)
    x = np.moveaxis(input._data, d, 0)
    idx = np.zeros(x.shape, np.int64)
    best = x[0].copy() if len(x) else None     # an empty dim: nothing to scan
    # as torch: a tie takes the later index; once the running value is NaN it stays NaN, and each new NaN takes over
    for i in range(1, x.shape[0]):
        take = np.isnan(x[i]) | (pick(x[i], best) | (x[i] == best)) & ~np.isnan(best)
        best = np.where(take, x[i], best)
        idx[i] = np.where(take, i, idx[i - 1])
    idx = np.moveaxis(idx, 0, d)
    return _ScanResult(gather(input, d, _wrap(idx)), _wrap(idx))


@scalar_as_vector
def cummax(input, dim):
    """(running maxima, their indices) along dim; the gradient goes to the entry holding each maximum."""
    return _running(input, dim, np.greater, "cummax")


@scalar_as_vector
def cummin(input, dim):
    return _running(input, dim, np.less, "cummin")


cumprod = register("cumprod", method="cumprod", ref=lambda x, dim: np.cumprod(x, axis=dim),
         samples=[sample(T((3, 4)), 1), sample(T((2, 3, 4)), 0),
                  sample(T((2, 4), values=[[1.5, 0.0, 2.0, -1.2], [0.0, 0.7, 0.0, 1.1]]), 1)])(cumprod)
logcumsumexp = register("logcumsumexp", method="logcumsumexp", ref=lambda x, dim: np.logaddexp.accumulate(x, axis=dim),
         samples=[sample(T((3, 4)), 1), sample(T((2, 3)), 0),
                  sample(T((2, 3), values=[[-1000.0, 0.0, 1000.0], [5.0, 1000.0, -1000.0]]), 1)])(logcumsumexp)
register("cummax", method="cummax", ref=lambda x, dim: np.maximum.accumulate(x, axis=dim),
         samples=[sample(T((3, 5)), 1), sample(T((4, 2)), 0)])(lambda input, dim: cummax(input, dim).values)
register("cummin", method="cummin", ref=lambda x, dim: np.minimum.accumulate(x, axis=dim),
         samples=[sample(T((3, 5)), 1)])(lambda input, dim: cummin(input, dim).values)
Tensor.cummax, Tensor.cummin = cummax, cummin   # the full (values, indices) forms
