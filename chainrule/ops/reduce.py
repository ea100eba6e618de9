"""Reductions and normalisations over dims. Backward spreads g back over the reduced dims (reshape to the
keepdim shape, then expand); dims are an int, a tuple or None (all), negative dims count from the end."""
import collections

import math

import numpy as np

from ..amp import computed_in_float32
from ..errors import warn
from ..tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ._util import (const, equal_or_both_nan, floating, keep_shape, norm_dim, one_dim, ones_where_zero, reduced_shape,
                    scalar_as_vector)
from .registry import T, register, sample, tensor_method

_wrap = Tensor._wrap
REDUCE = [sample(T((3, 4))), sample(T((3, 4)), 1), sample(T((2, 3, 4)), (0, 2), keepdim=True),
          sample(T((2, 3, 4)), -1), sample(T(()))]


def _spread(g, shape, axes, keepdim):
    """g from a reduction back to the input's shape."""
    if not keepdim:
        g = g.reshape(keep_shape(shape, axes))
    return g.expand(shape)


def _spread_array(g, shape, axes, keepdim):
    if g.ndim == 0 or g.size == 1 and len(axes) == len(shape):
        # a full reduction: a read-only zero-stride view of the one value (10× cheaper than np.broadcast_to)
        out = np.ndarray(shape, g.dtype, g if g.flags.c_contiguous else g.copy(), 0, (0,) * len(shape))
        out.flags.writeable = False
        return out
    if not keepdim:
        g = g.reshape(keep_shape(shape, axes))
    return np.broadcast_to(g, shape)


class Sum(Op):
    """y = Σᵢ xᵢ over dims;  dy/dxᵢ = 1, so dL/dx = g spread over the reduced dims."""
    saves_inputs = False

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return np.add.reduce(x, axis=axes, keepdims=keepdim)   # np.sum, without its ~3 µs Python wrapper

    def backward(self, g):
        if not STATE.grad_enabled:
            return _wrap(_spread_array(g._data, self.shape, self.axes, self.keepdim))
        return _spread(g, self.shape, self.axes, self.keepdim)


class Mean(Op):
    """y = (1/n) Σᵢ xᵢ;  dy/dxᵢ = 1/n."""
    saves_inputs = False

    def forward(self, x, axes, keepdim, name="mean"):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        self.n = n = math.prod([x.shape[a] for a in axes])
        if n == 0:
            return empty_mean(name, x, axes, keepdim)
        if x.dtype.kind != "f" or x.dtype.itemsize < 4:
            return np.mean(x, axis=axes, keepdims=keepdim)   # NumPy's float32 accumulator for float16
        return np.add.reduce(x, axis=axes, keepdims=keepdim) / n   # what np.mean computes, without its 3 µs wrapper

    def backward(self, g):
        if self.n == 0:     # the input had no elements: its gradient has none either
            return _wrap(np.zeros(self.shape, g.dtype))
        if not STATE.grad_enabled:
            gd = g._data
            gd = np.array(float(gd) / self.n, gd.dtype) if gd.ndim == 0 else gd * gd.dtype.type(1.0 / self.n)
            return _wrap(_spread_array(gd, self.shape, self.axes, self.keepdim))
        return _spread(g * (1.0 / self.n), self.shape, self.axes, self.keepdim)


class Prod(Op):
    """y = Πᵢ xᵢ;  dy/dxᵢ = Π_{j≠i} xⱼ (= y/xᵢ where xᵢ ≠ 0; computed without division where a zero occurs)."""

    def forward(self, x, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim
        self.out = np.prod(x, axis=axes, keepdims=keepdim)
        return self.out

    def backward(self, g):
        x = self.inputs[0]
        if not (x._data == 0).any():
            y = _spread(self.saved_output(), x.shape, self.axes, self.keepdim)
            return _spread(g, x.shape, self.axes, self.keepdim) * y / x
        from .scan import prod_of_others   # zeros present: Π_{j≠i} xⱼ without a division
        return _spread(g, x.shape, self.axes, self.keepdim) * prod_of_others(x, self.axes)


class Amax(Op):
    """y = max over dims (or another selection fn(x, axis, keepdims) that returns one of the entries, as median());
    the gradient is shared equally among the entries equal to y, NaN counting as equal to NaN (as torch)."""

    def forward(self, x, axes, keepdim, fn):
        self.axes, self.keepdim = axes, keepdim
        self.out = fn(x, axis=axes, keepdims=True)
        return self.out if keepdim else np.squeeze(self.out, axis=axes)

    def backward(self, g):
        x = self.inputs[0]._data
        mask = equal_or_both_nan(x, self.out)   # a NaN result is shared among the NaN entries
        share = mask / mask.sum(axis=self.axes, keepdims=True)
        return _spread(g, x.shape, self.axes, self.keepdim) * const(share.astype(x.dtype))


def sum(input, dim=None, keepdim=False, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind == "b":
        input = input.long()
    return Sum.apply(input, axes=norm_dim(dim, input.ndim, "sum"), keepdim=keepdim)


def mean(input, dim=None, keepdim=False, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise TypeError(f"mean: input dtype should be floating point, got {input.dtype}; use x.float().mean()")
    return Mean.apply(input, axes=norm_dim(dim, input.ndim, "mean"), keepdim=keepdim)


@computed_in_float32(float32_under_autocast=True)
def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:   # as torch: the input is cast before the product
        input = input.to(dtype)
    return Prod.apply(input, axes=norm_dim(dim, input.ndim, "prod"), keepdim=keepdim)


def amax(input, dim=None, keepdim=False):
    _nonempty(input, "amax", dim)
    return Amax.apply(input, axes=norm_dim(dim, input.ndim, "amax"), keepdim=keepdim, fn=np.max)


def amin(input, dim=None, keepdim=False):
    _nonempty(input, "amin", dim)
    return Amax.apply(input, axes=norm_dim(dim, input.ndim, "amin"), keepdim=keepdim, fn=np.min)


def _nonempty(x, op, dim=None):
    """max/min of no elements has no value (torch raises too); reducing a non-empty dim of an empty tensor is fine."""
    for a in norm_dim(dim, x.ndim, op):
        if x.shape[a] == 0:
            raise ValueError(f"{op}: cannot reduce over dim {a} of size 0 (input shape {tuple(x.shape)}): the {op} of "
                             f"no elements is undefined; check the mask or slice that emptied it")


def empty_mean(op, x, axes, keepdim):
    """A mean-like reduction over no elements: nan as torch, with a warning naming the op (never a silent nan)."""
    warn(f"{op}: reducing over no elements (dims {tuple(axes)} of shape {tuple(x.shape)}) gives nan; check the mask "
         f"or slice that emptied it")
    return np.full(reduced_shape(x.shape, axes, keepdim), np.nan, x.dtype if x.dtype.kind == "f" else np.float64)


_MinMax = collections.namedtuple("return_types", ["values", "indices"])


def _max_min(input, dim, keepdim, other, reducer, elementwise, argfn, name):
    if isinstance(other, Tensor) or (dim is not None and not isinstance(dim, (int, np.integer))):
        return elementwise(input, other if other is not None else dim)
    if dim is None:
        return reducer(input)
    from .index import gather
    _nonempty(input, name, dim)
    d = one_dim(dim, input.ndim, name)
    idx = argfn(input._data, axis=d, keepdims=True) if input.ndim else np.zeros((), np.int64)
    values = gather(input, d, _wrap(idx)) if input.ndim else input * 1
    if not keepdim and input.ndim:
        values = values.squeeze(d)
        idx = np.squeeze(idx, d)
    return _MinMax(values, _wrap(idx.astype(np.int64)))


def max(input, dim=None, keepdim=False, other=None):
    """max(x) -> the largest value; max(x, dim) -> (values, indices); max(x, y) -> elementwise maximum."""
    from .elementwise import maximum
    return _max_min(input, dim, keepdim, other, amax, maximum, np.argmax, "max")


def min(input, dim=None, keepdim=False, other=None):
    from .elementwise import minimum
    return _max_min(input, dim, keepdim, other, amin, minimum, np.argmin, "min")


sum = register("sum", method="sum", ref=lambda x, dim=None, keepdim=False: np.sum(x, axis=dim, keepdims=keepdim),
         samples=REDUCE)(sum)
mean = register("mean", method="mean", ref=lambda x, dim=None, keepdim=False: np.mean(x, axis=dim, keepdims=keepdim),
         samples=REDUCE)(mean)
prod = register("prod", method="prod", ref=lambda x, dim=None, keepdim=False: np.prod(x, axis=dim, keepdims=keepdim),
         samples=[sample(T((3, 4), 0.5, 1.5)), sample(T((2, 3, 4), 0.5, 1.5), 1, keepdim=True)])(prod)
prod = register("prod_with_zero", ref=lambda x, dim=None, keepdim=False: np.prod(x, axis=dim, keepdims=keepdim),
         samples=[sample(T((2, 3), values=[[0.0, 2.0, 3.0], [1.5, 0.0, 0.0]]), 1),
                  sample(T((2, 2, 2), values=[[[0.0, 2.0], [3.0, 1.5]], [[0.0, 0.0], [-1.0, 2.0]]]), (0, 2)),
                  sample(T((4,), values=[0.5, 0.0, 2.0, -3.0]))])(prod)
MAXS = [sample(T((3, 4))), sample(T((3, 4)), 1), sample(T((2, 3, 4)), (0, 2), keepdim=True),
        sample(T((2, 2), values=[[1.0, 1.0], [0.5, 2.0]]), 1, gradgrad=False)]
amax = register("amax", method="amax", ref=lambda x, dim=None, keepdim=False: np.max(x, axis=dim, keepdims=keepdim),
         samples=MAXS)(amax)
amin = register("amin", method="amin", ref=lambda x, dim=None, keepdim=False: np.min(x, axis=dim, keepdims=keepdim),
         samples=MAXS)(amin)
register("max", method="max", ref=lambda x, dim=None, keepdim=False: np.max(x) if dim is None else
         np.max(x, axis=dim, keepdims=keepdim),
         samples=[sample(T((3, 4))), sample(T((3, 4)), 1), sample(T((2, 3, 4)), -1, keepdim=True)])(
    lambda input, dim=None, keepdim=False, other=None: _values(max(input, dim, keepdim, other)))
register("min", method="min", ref=lambda x, dim=None, keepdim=False: np.min(x) if dim is None else
         np.min(x, axis=dim, keepdims=keepdim),
         samples=[sample(T((3, 4))), sample(T((3, 4)), 0)])(
    lambda input, dim=None, keepdim=False, other=None: _values(min(input, dim, keepdim, other)))
Tensor.max, Tensor.min = max, min   # the full (values, indices) forms


def _values(r):
    return r.values if isinstance(r, _MinMax) else r


@tensor_method("argmax")
def argmax(input, dim=None, keepdim=False):
    if dim is None:
        return _wrap(np.array(np.argmax(input._data), dtype=np.int64))
    return _wrap(np.argmax(input._data, axis=dim, keepdims=keepdim).astype(np.int64))


@tensor_method("argmin")
def argmin(input, dim=None, keepdim=False):
    if dim is None:
        return _wrap(np.array(np.argmin(input._data), dtype=np.int64))
    return _wrap(np.argmin(input._data, axis=dim, keepdims=keepdim).astype(np.int64))


# ---- statistics: composed from sum and mean ----------------------------------------------------------------
def positional_unbiased(dim, unbiased):
    """(dim, unbiased) with torch's overload var(input, unbiased) read: a bool in dim's place is unbiased."""
    return (None, dim) if isinstance(dim, bool) else (dim, unbiased)


@computed_in_float32
def var(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """var = Σ(x - x̄)² / (n - correction), correction 1 by default (Bessel), 0 when unbiased=False. A bool in dim's
    place is unbiased (torch's overload var(input, unbiased))."""
    dim, unbiased = positional_unbiased(dim, unbiased)
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = norm_dim(dim, input.ndim, "var")
    n = int(np.prod([input.shape[a] for a in axes])) if axes else 1
    if n == 0:
        return Mean.apply(input, axes=axes, keepdim=keepdim, name="var")   # nan with a warning; zero gradient
    centred = input - input.mean(dim=axes, keepdim=True)
    dof = n - correction
    if dof <= 0:
        warn(f"var: degrees of freedom n - correction = {n} - {correction} = {dof} ≤ 0, so the result is NaN; "
             f"reduce over more elements or pass correction=0")
        return (centred * centred).sum(dim=axes, keepdim=keepdim) * float("nan")
    return (centred * centred).sum(dim=axes, keepdim=keepdim) * (1.0 / dof)


class RootOfVariance(Op):
    """s = √v;  ds/dv = 1/(2s), taken as 0 where s = 0: torch's subgradient of std at a constant slice, where
    every direction is a kink (plain sqrt gave ∞·0 = nan there, with NumPy's divide-by-zero warning)."""

    def forward(self, v):
        self.out = np.sqrt(v)
        return self.out

    def backward(self, g):
        s = self.saved_output()
        return g / (ones_where_zero(s) * 2.0) * const((self.out != 0).astype(self.out.dtype))


@computed_in_float32
def std(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return RootOfVariance.apply(var(input, dim, unbiased, keepdim, correction))


STATS = [sample(T((3, 4))), sample(T((3, 4)), 1), sample(T((2, 3, 4)), (0, 2), keepdim=True),
         sample(T((4, 5)), 0, unbiased=False)]


def _np_var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    ddof = correction if correction is not None else (0 if unbiased is False else 1)
    return np.var(x, axis=dim, ddof=ddof, keepdims=keepdim)


var = register("var", method="var", ref=_np_var, samples=STATS)(var)
std = register("std", method="std", ref=lambda *a, **k: np.sqrt(_np_var(*a, **k)), samples=STATS)(std)


def _power_sum_root(x, axes, keepdim, p):
    """(Σ|xᵢ|ᵖ)^(1/p). Where the plain sum overflows or underflows (x = 1e20 or 1e-30 in float32: x² is ∞ or 0),
    the slice is summed again scaled by its largest |x|, m·(Σ(|xᵢ|/m)ᵖ)^(1/p), as hypot does for two numbers
    (torch gives ∞ or 0 there)."""
    a = np.abs(x)
    with np.errstate(over="ignore", under="ignore", divide="ignore"):   # |0|^p = inf for p < 0 makes the norm 0
        out = np.sqrt(np.add.reduce(a * a, axis=axes, keepdims=keepdim)) if p == 2 else \
            np.add.reduce(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
        if p <= 0 or not a.size or x.dtype.kind != "f":
            return out
        info = np.finfo(x.dtype)
        redo = np.isinf(out) | (out < np.sqrt(info.tiny) / info.eps)
        if not redo.any():
            return out
        m = np.max(a, axis=axes, keepdims=True)
        m = np.where((m > 0) & np.isfinite(m), m, 1).astype(x.dtype)
        scaled = np.sum((a / m) ** p, axis=axes, keepdims=keepdim) ** (1.0 / p) * \
            (m if keepdim else np.squeeze(m, axis=axes))
    return np.where(redo, scaled, out).astype(out.dtype, copy=False)


class Norm2(Op):
    """‖x‖₂ = √(Σ xᵢ²);  d‖x‖/dxᵢ = xᵢ/‖x‖ (0 at the zero vector, the subgradient PyTorch uses)."""

    def forward(self, x, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim
        self.out = _power_sum_root(x, axes, keepdim, 2)
        return self.out

    def backward(self, g):
        x = self.inputs[0]
        n = _spread(self.saved_output(), x.shape, self.axes, self.keepdim)
        return _spread(g, x.shape, self.axes, self.keepdim) * x / ones_where_zero(n)


class PNorm(Op):
    """‖x‖ₚ = (Σ|xᵢ|ᵖ)^(1/p);  d‖x‖ₚ/dxᵢ = sign(xᵢ)·(|xᵢ|/‖x‖ₚ)^(p-1), taken as 0 where xᵢ = 0 or ‖x‖ₚ = 0 (torch's
    subgradient; composing pow(Σ|x|ᵖ, 1/p) gave 0·∞ = nan at the zero vector, and at xᵢ = 0 for p < 1)."""

    def forward(self, x, axes, keepdim, p):
        self.axes, self.keepdim, self.p = axes, keepdim, p
        self.out = _power_sum_root(x, axes, keepdim, p)
        return self.out

    def backward(self, g):
        x = self.inputs[0]
        n = _spread(self.saved_output(), x.shape, self.axes, self.keepdim)
        ratio = ones_where_zero(x.abs()) / ones_where_zero(n)
        keep = const(((x._data != 0) & (n._data != 0)).astype(x.dtype))
        return _spread(g, x.shape, self.axes, self.keepdim) * x.sign() * ratio ** (self.p - 1) * keep


@computed_in_float32
def norm(input, p="fro", dim=None, keepdim=False):
    if p == "nuc":   # the sum of singular values, over the last two dims or the two in dim (torch.norm's 'nuc')
        from ..linalg import matrix_norm
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
    axes = norm_dim(dim, input.ndim, "norm")
    if p in ("fro", 2, 2.0):
        return Norm2.apply(input, axes=axes, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return input.abs().amax(dim=axes, keepdim=keepdim)
    if p in (-float("inf"), "-inf"):   # the p → -∞ limit: min |x|
        return input.abs().amin(dim=axes, keepdim=keepdim)
    if p == 0:   # the number of nonzero entries (not a norm, but torch's ord=0; NaN counts): gradient 0, also at
        return input.sign().nan_to_num(1.0).abs().sum(dim=axes, keepdim=keepdim)   # a NaN (abs after the NaN is gone)
    if p == 1:
        return input.abs().sum(dim=axes, keepdim=keepdim)
    return PNorm.apply(input, axes=axes, keepdim=keepdim, p=float(p))


def _np_norm(x, p="fro", dim=None, keepdim=False):
    a = np.abs(x)
    p = 2 if p == "fro" else p
    if p == float("inf"):
        return a.max(axis=dim, keepdims=keepdim)
    if p == -float("inf"):
        return a.min(axis=dim, keepdims=keepdim)
    if p == 0:
        return (a != 0).sum(axis=dim, keepdims=keepdim).astype(x.dtype)
    return (a ** p).sum(axis=dim, keepdims=keepdim) ** (1 / p)


norm = register("norm", method="norm", ref=_np_norm,
         samples=[sample(T((3, 4))), sample(T((3, 4)), 2, 1), sample(T((2, 3, 4), away=0.0), 1, (0, 2), keepdim=True),
                  sample(T((3, 4), away=0.0), 3, -1), sample(T((3, 4)), float("inf"), 1),
                  sample(T((3, 4)), -float("inf"), 1), sample(T((2, 3), values=[[0.0, 1.5, -2.0], [0.0, 0.0, 0.3]]), 0, 1),
                  sample(T((2, 3), away=0.0), 0.5, 1), sample(T((2, 3), away=0.0), -1.5, 0),
                  # a zero row and a zero entry: the subgradient 0 there, not 0·∞ (first derivative only)
                  sample(T((2, 3), values=[[0.0, 0.0, 0.0], [0.0, 1.2, -0.7]]), 3, 1, gradgrad=False)])(norm)


# ---- log-sum-exp, softmax family: stable via the max shift ---------------------------------------------------
class LogSumExp(Op):
    """lse(x) = m + ln Σ e^(xᵢ - m), m = max x (never overflows);  d lse/dxᵢ = softmax(x)ᵢ = e^(xᵢ - lse)."""

    def forward(self, x, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim
        if any(x.shape[a] == 0 for a in axes):    # ln of an empty sum: -inf, as torch
            self.out = np.full(reduced_shape(x.shape, axes, keepdim), -np.inf, x.dtype)
            return self.out
        m = np.maximum.reduce(x, axis=axes, keepdims=True)   # the ufunc reductions skip np.max's ~3 µs wrapper
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(over="ignore"):   # only a slice holding NaN (m then 0) can overflow, and it is NaN anyway
            out = np.log(np.add.reduce(np.exp(x - m), axis=axes, keepdims=True)) + m
        self.out = out if keepdim else np.squeeze(out, axis=axes)
        return self.out

    def backward(self, g):
        x = self.inputs[0]
        lse = _spread(self.saved_output(), x.shape, self.axes, self.keepdim)
        return _spread(g, x.shape, self.axes, self.keepdim) * (x - lse).exp()


class Softmax(Op):
    """sᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m);  dL/dx = s ⊙ (g - Σ g⊙s) (the Jacobian diag(s) - s sᵀ applied to g)."""
    saves_inputs = False

    def forward(self, x, axis):
        self.axis = axis
        if x.size == 0:     # nothing to normalise (np.max has no identity to start from)
            self.out = x.copy()
            return self.out
        e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))   # ufunc reductions: no np.max wrapper
        self.out = e / np.add.reduce(e, axis=axis, keepdims=True)
        return self.out

    def backward(self, g):
        s = self.saved_output()
        return s * (g - (g * s).sum(dim=self.axis, keepdim=True))


class LogSoftmax(Op):
    """log softmax(x) = x - lse(x);  dL/dx = g - softmax(x)·Σ g."""
    saves_inputs = False

    def forward(self, x, axis):
        self.axis = axis
        if x.size == 0:
            self.out = x.copy()
            return self.out
        shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)   # ufunc reductions: no np.max wrapper
        self.out = shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
        return self.out

    def backward(self, g):
        if not STATE.grad_enabled:
            gd = g._data
            return _wrap(gd - np.exp(self.out) * gd.sum(axis=self.axis, keepdims=True))
        return g - self.saved_output().exp() * g.sum(dim=self.axis, keepdim=True)


def logsumexp(input, dim=None, keepdim=False):
    return LogSumExp.apply(floating(input), axes=norm_dim(dim, input.ndim, "logsumexp"), keepdim=keepdim)


def softmax(input, dim, dtype=None):
    """dim has no default, as torch's: a softmax over the wrong axis is silently wrong (F.softmax keeps torch's
    deprecated implicit dim, with its warning)."""
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, axis=one_dim(dim, input.ndim, "softmax"))


def log_softmax(input, dim, dtype=None):
    """dim has no default, as torch's (see softmax)."""
    if dtype is not None:
        input = input.to(dtype)
    return LogSoftmax.apply(input, axis=one_dim(dim, input.ndim, "log_softmax"))


def _np_lse(x, dim=None, keepdim=False):
    m = np.max(x, axis=dim, keepdims=True)
    return np.squeeze(m, axis=dim) + np.log(np.sum(np.exp(x - m), axis=dim)) if not keepdim else \
        m + np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True))


def _np_log_softmax(x, dim=-1):
    return x - _np_lse(x, dim, True)


EXTREME = T((2, 3), values=[[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0]])
logsumexp = register("logsumexp", method="logsumexp", ref=_np_lse,
         samples=[sample(T((3, 4)), 1), sample(T((2, 3, 4)), (0, 2), keepdim=True), sample(EXTREME, 1)])(logsumexp)
softmax = register("softmax", method="softmax", ref=lambda x, dim=-1: np.exp(_np_log_softmax(x, dim)),
         samples=[sample(T((3, 4)), -1), sample(T((2, 3, 4)), 1), sample(EXTREME, -1)])(softmax)
log_softmax = register("log_softmax", method="log_softmax", ref=_np_log_softmax,
         samples=[sample(T((3, 4)), 1), sample(T((2, 3, 4)), 0), sample(EXTREME, -1)])(log_softmax)


class Cumsum(Op):
    """yᵢ = Σ_{j≤i} xⱼ;  dL/dxⱼ = Σ_{i≥j} gᵢ, a reversed cumulative sum of g."""
    saves_inputs = False

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis)

    def backward(self, g):
        return g.flip(self.axis).cumsum(self.axis).flip(self.axis)


@scalar_as_vector
@computed_in_float32
def cumsum(input, dim, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Cumsum.apply(input, axis=one_dim(dim, input.ndim, "cumsum"))


cumsum = register("cumsum", method="cumsum", ref=lambda x, dim: np.cumsum(x, axis=dim),
         samples=[sample(T((3, 4)), 1), sample(T((2, 3, 4)), -3)])(cumsum)
