"""Modified Bessel functions of the first kind, I₀ and I₁, and their exponentially scaled forms
i0e(x) = e^(-|x|) I₀(x), i1e(x) = e^(-|x|) I₁(x) (torch.special's i0, i0e, i1, i1e), to float64 precision:

    |x| ≤ 30:  Iᵥ(x) = Σₖ (x/2)^(2k+ν) / (k! (k+ν)!)          (positive terms: no cancellation)
    |x| > 30:  Iᵥ(x) ≈ eˣ/√(2πx) Σₖ (-1)ᵏ Πⱼ₌₁ᵏ (4ν² - (2j-1)²) / (k! (8x)ᵏ)   (error ~ e^(-2x))

Derivatives:  I₀' = I₁;  I₁' = I₀ - I₁/x (½ at 0);  i0e' = i1e - sign(x)·i0e;  i1e' = i0e - i1e·(sign(x) + 1/x)
(½ at 0). I₀ is even and I₁ odd.
"""
import math

import numpy as np

from ..autograd.function import Op
from ..tensor import Tensor
from .elementwise import where
from .registry import T, register, sample
from .special import _cast_like

_wrap = Tensor._wrap
_SWITCH = 30.0


def _scaled(x, order):
    """e^(-|x|) I_order(|x|) in float64, for any real array x."""
    ax = np.abs(np.asarray(x, np.float64))
    out = np.empty_like(ax)
    small = ax <= _SWITCH
    xs = ax[small]
    if xs.size:
        h2 = (xs / 2) ** 2
        term = (xs / 2) ** order / math.factorial(order)
        total = term.copy()
        for k in range(1, 200):
            term = term * h2 / (k * (k + order))
            total += term
            if not (term > total * 1e-17).any():
                break
        out[small] = total * np.exp(-xs)
    xl = ax[~small]
    if xl.size:
        mu, term, total = 4.0 * order * order, np.ones_like(xl), np.ones_like(xl)
        with np.errstate(over="ignore"):   # 8k·x overflows past 1e307: the term is then 0, as it should be
            for k in range(1, 40):
                term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * xl)
                total += term
            out[~small] = total / (np.sqrt(2 * np.pi) * np.sqrt(xl))   # 2πx itself overflows past 3e307
    return out


def _unscaled(x, scaled, odd=False):
    """Iᵥ(x) = e^|x| · (e^(-|x|) Iᵥ(x)): ±inf past |x| ≈ 713 and at ±inf, as torch, without an overflow warning."""
    x = x.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out = scaled * np.exp(np.abs(x))
    return np.where(np.isinf(x), np.copysign(np.inf, x) if odd else np.inf, out)


def _odd(x, values):
    """I₁ and i1e are odd: the sign of x carries over."""
    return np.where(np.asarray(x) < 0, -values, values)


class I0e(Op):
    """y = e^(-|x|) I₀(x);  dy/dx = i1e(x) - sign(x)·i0e(x)."""

    def forward(self, x):
        return _cast_like(_scaled(x, 0), x)

    def backward(self, g):
        x = self.inputs[0]
        return g * (i1e(x) - x.sign() * i0e(x))


class I1e(Op):
    """y = e^(-|x|) I₁(x);  dy/dx = i0e(x) - i1e(x)·(sign(x) + 1/x), ½ at x = 0."""

    def forward(self, x):
        return _cast_like(_odd(x, _scaled(x, 1)), x)

    def backward(self, g):
        x = self.inputs[0]
        safe = where(x == 0, 1.0, x)
        return g * where(x == 0, 0.5, i0e(x) - i1e(x) * (x.sign() + 1 / safe))


class I0(Op):
    """y = I₀(x);  dy/dx = I₁(x)."""

    def forward(self, x):
        return _cast_like(_unscaled(x, _scaled(x, 0)), x)

    def backward(self, g):
        return g * i1(self.inputs[0])


class I1(Op):
    """y = I₁(x);  dy/dx = I₀(x) - I₁(x)/x = e^|x|·(i0e(x) - i1e(x)/x), ½ at x = 0 (the scaled form: I₀ and I₁
    overflow together past |x| ≈ 713 in float64, 13 in float16, where I₀ - I₁/x is ∞ - ∞)."""

    def forward(self, x):
        return _cast_like(_unscaled(x, _odd(x, _scaled(x, 1)), odd=True), x)

    def backward(self, g):
        x = self.inputs[0]
        safe = where(x == 0, 1.0, x)
        with np.errstate(over="ignore"):   # e^|x| is ∞ where the derivative is, as torch's
            return g * where(x == 0, 0.5, x.abs().exp() * (i0e(x) - i1e(x) / safe))


def i0(input):
    return I0.apply(input)


def i0e(input):
    return I0e.apply(input)


def i1(input):
    return I1.apply(input)


def i1e(input):
    return I1e.apply(input)


# both sides of the series/asymptotic switch at |x| = 30, and x = 0 (i0e has a kink there, from e^(-|x|): its
# samples avoid it, as gradgradcheck would rightly fail)
_SAMPLES = [sample(T((3, 4), -5, 5)), sample(T((6,), values=[-40.0, -29.0, 0.0, 0.5, 31.0, 50.0]))]
_NO_ZERO = [sample(T((3, 4), -5, 5)), sample(T((6,), values=[-40.0, -29.0, -0.3, 0.5, 31.0, 50.0]))]
for _name, _fn in (("i0", i0), ("i0e", i0e), ("i1", i1), ("i1e", i1e)):
    register(_name, method=_name if _name == "i0" else None, samples=_NO_ZERO if _name == "i0e" else _SAMPLES)(_fn)
