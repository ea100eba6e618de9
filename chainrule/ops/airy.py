"""The Airy function Ai(x) (torch.special.airy_ai), the solution of y'' = x·y that decays as x → ∞, and its
derivative Ai'(x), to float64 precision and differentiable to any order (torch's has no gradient):

    |x| ≤ 2:  Ai(x) = c₁ f(x) - c₂ g(x),  f = Σₖ 3ᵏ(⅓)ₖ x³ᵏ/(3k)!,  g = Σₖ 3ᵏ(⅔)ₖ x³ᵏ⁺¹/(3k+1)!  (DLMF 9.4.1),
              c₁ = Ai(0) = 1/(3^⅔ Γ(⅔)), c₂ = -Ai'(0) = 1/(3^⅓ Γ(⅓)); Ai' = c₁ f' - c₂ g'.
    x > 2:    Ai(x) = (1/π)√(x/3) K_⅓(ζ),  Ai'(x) = -(x/(π√3)) K_⅔(ζ),  ζ = ⅔ x^(3/2)  (DLMF 9.6.1, 9.6.2)
    x < -2:   Ai(x) = (√|x|/2) [J_⅓(ζ) - Y_⅓(ζ)/√3],  Ai'(x) = (|x|/2) [J_⅔(ζ) + Y_⅔(ζ)/√3]  (DLMF 9.6.6, 9.6.7)

with K, J and Y of fractional order from the quadrature in ops/bessel_jyk.py. Derivatives: d Ai/dx = Ai'(x) and
d Ai'/dx = x·Ai(x) (the Airy equation). Ai(±∞) = 0 (torch gives nan); Ai'(+∞) = 0, Ai'(-∞) is nan (it oscillates
with growing amplitude).
"""
import math

import numpy as np

from ..autograd.function import Op
from .bessel_jyk import hankel1, scaled_k_integral
from .registry import T, register, sample
from .special import _cast_like

_AI0, _AIP0 = 0.35502805388781723926, -0.25881940379280679840     # Ai(0), Ai'(0)
_TERMS = 30                                                         # |x|³ ≤ 8: term k is below 8ᵏ/(3k)!


def _maclaurin_coefficients():
    """Coefficients in x of Ai = Ai(0) f + Ai'(0) g (f, g the two power series) and of Ai', as dense polynomial
    coefficient arrays."""
    f, g = np.zeros(3 * _TERMS + 2), np.zeros(3 * _TERMS + 2)
    f[0], g[1] = 1.0, 1.0
    for k in range(_TERMS - 1):           # each term from the last: x³/((3k+2)(3k+3)) and x³/((3k+3)(3k+4))
        f[3 * k + 3] = f[3 * k] / ((3 * k + 2) * (3 * k + 3))
        g[3 * k + 4] = g[3 * k + 1] / ((3 * k + 3) * (3 * k + 4))
    ai = _AI0 * f + _AIP0 * g
    return ai, np.polynomial.polynomial.polyder(ai)


_AI_SERIES, _AIP_SERIES = _maclaurin_coefficients()


def _np_airy(x, prime):
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        middle, right, left = np.abs(x) <= 2, (x > 2) & np.isfinite(x), (x < -2) & np.isfinite(x)
        out[middle] = np.polynomial.polynomial.polyval(x[middle], _AIP_SERIES if prime else _AI_SERIES)
        if right.any():
            v = x[right]
            zeta = 2 / 3 * v * np.sqrt(v)
            factor = -v / (math.pi * math.sqrt(3)) if prime else np.sqrt(v / 3) / math.pi
            out[right] = factor * scaled_k_integral(2 / 3 if prime else 1 / 3, zeta) * np.exp(-zeta)
        if left.any():
            v = -x[left]
            h = hankel1(2 / 3 if prime else 1 / 3, 2 / 3 * v * np.sqrt(v))
            out[left] = v / 2 * (h.real + h.imag / math.sqrt(3)) if prime else \
                np.sqrt(v) / 2 * (h.real - h.imag / math.sqrt(3))
        out[x == np.inf] = 0.0
        out[x == -np.inf] = np.nan if prime else 0.0
    return out


class AiryAi(Op):
    """y = Ai(x);  dy/dx = Ai'(x)."""

    def forward(self, x):
        return _cast_like(_np_airy(x, prime=False), x)

    def backward(self, g):
        return g * airy_ai_prime(self.inputs[0])


class AiryAiPrime(Op):
    """y = Ai'(x);  dy/dx = x·Ai(x), from Ai'' = x·Ai."""

    def forward(self, x):
        return _cast_like(_np_airy(x, prime=True), x)

    def backward(self, g):
        x = self.inputs[0]
        return g * x * airy_ai(x)


def airy_ai(input):
    """Ai(x), the Airy function of the first kind (torch.special.airy_ai)."""
    return AiryAi.apply(input)


def airy_ai_prime(input):
    """Ai'(x), the derivative of the Airy function (scipy.special.airy's second value; torch has none)."""
    return AiryAiPrime.apply(input)


_SAMPLES = [sample(T((3, 4), -6, 6)), sample(T((7,), values=[-30.0, -2.1, -1.9, 0.0, 1.9, 2.1, 20.0]))]
airy_ai = register("airy_ai", samples=_SAMPLES)(airy_ai)
airy_ai_prime = register("airy_ai_prime", samples=_SAMPLES)(airy_ai_prime)
