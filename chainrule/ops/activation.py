"""Activation functions. Each backward is the local derivative times g (the engine handles broadcasting)."""
import math

import numpy as np

from ..amp import computed_in_float32
from ..autograd.function import Op
from ..autograd import buffers
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from ._util import const, floating, quiet_logaddexp
from .elementwise import _erf, erf, sigmoid, tanh, where
from .registry import T, register, sample, tensor_method

_wrap = Tensor._wrap


# ---- activations ----------------------------------------------------------------------------------------------
class ReLU(Op):
    """relu(x) = max(0, x);  relu'(x) = 1 if x > 0 else 0 (0 at the kink, as PyTorch)."""
    saves_inputs = False   # backward reads only the cached mask
    def forward(self, x):
        self.mask = x > 0      # the cached local derivative: 1 where x > 0
        return np.maximum(x, 0, out=buffers.out_like(x))

    def backward(self, g):
        if not STATE.grad_enabled:   # g ⊙ mask: 10x faster than np.where on a bool mask
            gd = g._data
            return _wrap(np.multiply(gd, self.mask, out=buffers.out_like(gd) if gd.shape == self.mask.shape else None))
        return where(const(self.mask), g, const(np.zeros((), g.dtype)))


class LeakyReLU(Op):
    """leaky_relu(x) = x if x > 0 else αx;  derivative 1 or α."""

    def forward(self, x, slope):
        self.slope = slope
        return np.where(x > 0, x, x * slope)

    def backward(self, g):
        x = self.inputs[0]._data
        return g * const(np.where(x > 0, 1.0, self.slope).astype(x.dtype))


class ELU(Op):
    """elu(x) = x if x > 0 else α(eˣ - 1);  derivative 1 or αeˣ."""

    def forward(self, x, alpha):
        self.alpha = alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, g):
        x = self.inputs[0]
        pos = x._data > 0
        return g * where(const(pos), 1.0, x.clamp(max=0.0).exp() * self.alpha)


class Softplus(Op):
    """softplus(x) = ln(1 + e^(βx))/β, linear beyond βx > threshold;  derivative σ(βx).
    Computed as logaddexp(0, βx)/β, which never overflows."""

    def forward(self, x, beta, threshold):
        self.beta, self.threshold = beta, threshold
        bx = x * beta
        return np.where(bx > threshold, x, quiet_logaddexp(0, bx) / beta).astype(x.dtype, copy=False)

    def backward(self, g):
        x = self.inputs[0]
        s = sigmoid(x * self.beta)
        lin = x._data * self.beta > self.threshold
        return g * (where(const(lin), 1.0, s) if lin.any() else s)


class Clamp(Op):
    """clamp(x, lo, hi);  derivative 1 where lo ≤ x ≤ hi, else 0. At a bound itself the derivative is a convention:
    clamp passes the gradient there (closed=True), hardtanh and relu6 do not (closed=False), both as in torch."""

    def forward(self, x, lo, hi, closed=True):
        self.lo, self.hi, self.closed = lo, hi, closed
        return np.clip(x, lo, hi)

    def backward(self, g):
        x = self.inputs[0]._data
        mask = np.ones(x.shape, bool)
        above, below = (np.greater_equal, np.less_equal) if self.closed else (np.greater, np.less)
        if self.lo is not None:
            mask &= above(x, self.lo)
        if self.hi is not None:
            mask &= below(x, self.hi)
        return g * const(mask)


def relu(input, inplace=False):
    return ReLU.apply(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return LeakyReLU.apply(input, slope=negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return ELU.apply(input, alpha=alpha)


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.apply(input, beta=beta, threshold=threshold)


@computed_in_float32
def gelu(input, approximate="none"):
    """gelu(x) = x·Φ(x) with Φ the standard normal CDF; approximate='tanh' uses
    0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). Composed from registered ops, so its gradient is theirs."""
    if approximate == "tanh":   # tanh is ±1 to the last bit beyond |x| = 10: the clamp keeps x³ from overflowing
        inner = input.clamp(-10.0, 10.0)
        return 0.5 * input * (1.0 + tanh(math.sqrt(2.0 / math.pi) * (inner + 0.044715 * inner ** 3)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * input * (1.0 + erf(input * (1.0 / math.sqrt(2.0))))


def clamp(input, min=None, max=None):
    """Numbers as bounds: one Clamp node. Tensor bounds (broadcast, as torch allows): min(max(x, lo), hi) by
    where, so x gets the gradient where lo ≤ x ≤ hi and each bound where it was the result. A NaN bound gives NaN
    (the bound is the result wherever x < lo fails to decide), as torch's clamp."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = where((out < min) | min.isnan() if isinstance(min, Tensor) else out < min, min, out)
        if max is not None:
            out = where((out > max) | max.isnan() if isinstance(max, Tensor) else out > max, max, out)
        return out
    if isinstance(min, float) or isinstance(max, float):   # an integer tensor with a float bound: a float result
        input = floating(input)
    return Clamp.apply(input, lo=min, hi=max)


def _np_gelu(x):
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


KINKED = [sample(T((3, 4), away=0.0)), sample(T((2,), values=[-1000.0, 1000.0]))]
relu = register("relu", method="relu", ref=lambda x: np.maximum(x, 0), samples=KINKED)(relu)
leaky_relu = register("leaky_relu", ref=lambda x, s=0.01: np.where(x > 0, x, s * x),
         samples=[sample(T((3, 4), away=0.0)), sample(T((3,), away=0.0), 0.2)])(leaky_relu)
elu = register("elu", ref=lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
         samples=[sample(T((3, 4), away=0.0)), sample(T((3,), away=0.0), alpha=0.5),
                  sample(T((2,), values=[-1000.0, 1000.0]))])(elu)
softplus = register("softplus", ref=lambda x, beta=1.0, threshold=20.0: np.logaddexp(0, beta * x) / beta,
         samples=[sample(T((3, 4))), sample(T((3,)), beta=2.0), sample(T((2,), values=[-1000.0, 1000.0]))])(softplus)
gelu = register("gelu", ref=lambda x, approximate="none": _np_gelu(x) if approximate == "none" else
         0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
         samples=[sample(T((3, 4))), sample(T((3, 4)), approximate="tanh")])(gelu)
clamp = register("clamp", method=("clamp", "clip"), ref=lambda x, min=None, max=None: np.clip(x, min, max),
         samples=[sample(T((3, 4), away=-0.5), -0.5), sample(T((3, 4), away=0.5), max=0.5),
                  sample(T((2, 3), 0.0, 0.4), -0.5, 0.5),
                  sample(T((3, 4), -3.0, 3.0), T((4,), -1.0, -0.5), T((3, 1), 0.5, 1.0)),   # tensor bounds, broadcast
                  sample(T((2, 3), -1.0, 1.0), T((2, 3), 2.0, 3.0)), sample(T((2, 3), 2.0, 3.0), None, T((3,), -1.0, 1.0))])(
    clamp)




# ---- more activations, composed from registered ops (so their gradients are those ops') ------------------------
def silu(input, inplace=False):
    """silu(x) = x·σ(x) (swish)."""
    return input * sigmoid(input)


def mish(input, inplace=False):
    """mish(x) = x·tanh(softplus(x))."""
    return input * tanh(softplus(input))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """selu(x) = λ·elu(x, α) with λ ≈ 1.0507, α ≈ 1.6733 (self-normalising)."""
    return elu(input, SELU_ALPHA) * SELU_SCALE


def celu(input, alpha=1.0, inplace=False):
    """celu(x) = x if x > 0 else α(e^(x/α) - 1) = α·elu(x/α)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return elu(input * (1.0 / alpha)) * alpha


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """hardtanh(x) = clamp(x, min_val, max_val), with derivative 0 at the bounds themselves (as relu's at 0)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return Clamp.apply(input, lo=min_val, hi=max_val, closed=False)


def relu6(input, inplace=False):
    """relu6(x) = min(max(0, x), 6)."""
    return hardtanh(input, 0.0, 6.0)


def softsign(input):
    """softsign(x) = x / (1 + |x|)."""
    return input / (input.abs() + 1.0)


def logsigmoid(input):
    """log σ(x) = -softplus(-x): finite for any x (no log of an underflowed σ)."""
    return -softplus(-input)


def hardsigmoid(input, inplace=False):
    """hardsigmoid(x) = clamp(x/6 + 1/2, 0, 1), with derivative 0 at x = ±3 (hardtanh's convention, torch's)."""
    return hardtanh(input * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def hardswish(input, inplace=False):
    """hardswish(x) = x·hardsigmoid(x)."""
    return input * hardsigmoid(input)


@tensor_method("prelu")
def prelu(input, weight):
    """prelu(x) = x if x > 0 else a·x, with a learned slope per channel (dim 1) or one shared slope."""
    if weight.numel() not in (1, input.shape[1] if input.ndim > 1 else 1):
        raise ValueError(f"prelu: weight has {weight.numel()} slopes but the input has "
                         f"{input.shape[1] if input.ndim > 1 else 1} channels (dim 1 of {input.shape}); "
                         f"use 1 or one per channel")
    a = weight.reshape(-1) if input.ndim else weight.reshape(())   # a 0-d input stays 0-d
    if a.ndim and a.shape[0] > 1:
        a = a.reshape((-1,) + (1,) * (input.ndim - 2))
    # the slope picked per entry, then one product: where(x > 0, x, a·x) would send 0·a back to x, NaN for a NaN slope
    return input * where(input > 0, _wrap(np.ones((), input.dtype)), a)


def threshold(input, threshold, value, inplace=False):
    """y = x where x > threshold, else value (NaN stays NaN, as in torch: it fails x ≤ threshold)."""
    return where(input <= threshold, value, input)


def _np_sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


SMOOTH = [sample(T((3, 4))), sample(T((2,), values=[-30.0, 30.0]))]
silu = register("silu", ref=lambda x: x * _np_sigmoid(x), samples=SMOOTH)(silu)
mish = register("mish", ref=lambda x: x * np.tanh(np.logaddexp(0, x)), samples=SMOOTH)(mish)
selu = register("selu", ref=lambda x: SELU_SCALE * _np_elu(x, SELU_ALPHA), samples=[sample(T((3, 4), away=0.0))])(selu)
celu = register("celu", ref=lambda x, alpha=1.0: alpha * _np_elu(x / alpha),
         samples=[sample(T((3, 4), away=0.0)), sample(T((3,), away=0.0), 2.0)])(celu)
hardtanh = register("hardtanh", ref=lambda x, lo=-1.0, hi=1.0: np.clip(x, lo, hi),
         samples=[sample(T((3, 4), values=[[-1.5, -0.5, 0.5, 1.5]] * 3)), sample(T((3,), values=[-3.0, 0.2, 3.0]), -2.0, 2.0)])(hardtanh)
relu6 = register("relu6", ref=lambda x: np.clip(x, 0, 6), samples=[sample(T((4,), values=[-1.0, 0.5, 5.5, 7.0]))])(relu6)
softsign = register("softsign", ref=lambda x: x / (1 + np.abs(x)), samples=[sample(T((3, 4), away=0.0))])(softsign)
logsigmoid = register("logsigmoid", ref=lambda x: -np.logaddexp(0, -x),
         samples=[sample(T((3, 4))), sample(T((2,), values=[-1000.0, 1000.0]))])(logsigmoid)
hardsigmoid = register("hardsigmoid", ref=lambda x: np.clip(x / 6 + 0.5, 0, 1),
         samples=[sample(T((4,), values=[-4.0, -1.0, 2.0, 4.0]))])(hardsigmoid)
hardswish = register("hardswish", ref=lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
         samples=[sample(T((4,), values=[-4.0, -1.0, 2.0, 4.0]))])(hardswish)
prelu = register("prelu", ref=lambda x, a: np.where(x > 0, x, x * (a.reshape((-1,) + (1,) * (x.ndim - 2)) if a.size > 1 else a)),
         samples=[sample(T((2, 3, 4), away=0.0), T((3,))), sample(T((4, 3), away=0.0), T((1,)))])(prelu)
threshold = register("threshold", ref=lambda x, t, v: np.where(x > t, x, v),
         samples=[sample(T((3, 4), away=0.5), 0.5, -1.0)])(threshold)
Tensor.clamp_min = lambda self, min: clamp(self, min=min)
Tensor.clamp_max = lambda self, max: clamp(self, max=max)


# ---- shrinkage, gating and randomised activations (composed) ----------------------------------------------------
def softshrink(input, lambd=0.5):
    """softshrink(x) = x - λ if x > λ, x + λ if x < -λ, else 0 (soft thresholding: the proximal map of λ|x|)."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be ≥ 0, got {lambd}")
    return where(input.abs() <= lambd, 0.0, input - input.sign() * lambd)   # NaN fails |x| ≤ λ: stays NaN


@tensor_method("hardshrink")
def hardshrink(input, lambd=0.5):
    """hardshrink(x) = x if |x| > λ, else 0."""
    return where(input.abs() <= lambd, 0.0, input)   # NaN fails the test and passes through, as in torch


def tanhshrink(input):
    """tanhshrink(x) = x - tanh(x)."""
    return input - tanh(input)


def glu(input, dim=-1):
    """Gated linear unit: split x in halves a, b along dim; glu(x) = a ⊙ σ(b)."""
    size = input.shape[dim] if input.ndim else 0
    if size % 2:
        raise ValueError(f"glu: dim {dim} of input {input.shape} has odd size {size}; it must split into two "
                         f"equal halves (value and gate)")
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmin(x) = softmax(-x) over dim (torch's F.softmin signature; dtype casts the input first)."""
    from .reduce import softmax
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim if dim is not None else (0 if input.ndim in (0, 1, 3) else 1))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, generator=None):
    """Randomised leaky ReLU: x if x ≥ 0, else a·x with a ~ U(lower, upper) drawn per element in training (from
    `generator`, torch.rrelu's keyword, else the global one), and a = (lower + upper)/2 in eval."""
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 ≤ lower ≤ upper, got lower={lower}, upper={upper}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    from ..random import _gen
    slope = _gen(generator).uniform(lower, upper, input.shape).astype(input.dtype)
    return where(input >= 0, input, input * Tensor._wrap(slope))


softshrink = register("softshrink", ref=lambda x, l=0.5: np.where(x > l, x - l, np.where(x < -l, x + l, 0)),
         samples=[sample(T((4,), values=[-1.5, -0.2, 0.3, 2.0])), sample(T((3, 4), away=0.0), 0.0)])(softshrink)
hardshrink = register("hardshrink", ref=lambda x, l=0.5: np.where(np.abs(x) > l, x, 0),
         samples=[sample(T((4,), values=[-1.5, -0.2, 0.3, 2.0])), sample(T((2, 3), away=1.0), 1.0)])(hardshrink)
tanhshrink = register("tanhshrink", ref=lambda x: x - np.tanh(x), samples=SMOOTH)(tanhshrink)
glu = register("glu", ref=lambda x, dim=-1: np.split(x, 2, dim)[0] * _np_sigmoid(np.split(x, 2, dim)[1]),
         samples=[sample(T((3, 4))), sample(T((4, 3, 2)), 0)])(glu)
softmin = register("softmin", ref=lambda x, dim: np.exp(-x) / np.exp(-x).sum(dim, keepdims=True),
         samples=[sample(T((3, 4)), 1), sample(T((2, 3)), 0)])(softmin)
