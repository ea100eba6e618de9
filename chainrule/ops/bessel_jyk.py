"""The Bessel functions of order 0 and 1 that torch.special adds to I₀ and I₁: J₀, J₁ (first kind), Y₀, Y₁ (second
kind), K₀, K₁ and the scaled eˣK₀, eˣK₁ (modified, second kind), and the spherical j₀(x) = sin x / x. NumPy only,
to float64 precision (tests: within a few 1e-16 of mpmath), and, unlike torch's, differentiable:

    |x| ≤ 2:  the power series in q = x²/4 (A&S 9.1.10-11, 9.6.10-11); Y and K carry ln(x/2) and the harmonic
              numbers Hₖ = 1 + ½ + … + 1/k.
    |x| > 2:  one integral for all of them,
                  eᶻ Kᵥ(z) = ∫₀^∞ e⁻ᵘ u^(-½) cosh(ν·acosh(1 + u/z)) / √(u + 2z) du     (u = z(cosh t - 1) in
              Kᵥ(z) = ∫₀^∞ e^(-z cosh t) cosh νt dt), by Gauss–Hermite quadrature on u = s² (50 nodes: the integrand
              is analytic for |Im s| < √(2|z|)). Real z = x gives K; z = -ix gives the Hankel function
                  H⁽¹⁾ᵥ(x) = Jᵥ(x) + i·Yᵥ(x) = (2/iπ) e^(-iνπ/2) e^(ix) · [eᶻKᵥ(z)] at z = -ix.
              Real ν works too: ops/airy.py uses ν = ⅓ and ⅔.

Derivatives (DLMF 10.6, 10.29):  J₀' = -J₁,  J₁' = J₀ - J₁/x (½ at 0),  Y₀' = -Y₁,  Y₁' = Y₀ - Y₁/x,
K₀' = -K₁,  K₁' = -K₀ - K₁/x,  (eˣK₀)' = eˣK₀ - eˣK₁,  (eˣK₁)' = eˣK₁·(1 - 1/x) - eˣK₀,
j₀' = (x cos x - sin x)/x² = -x/3 + x³/30 - … near 0.
Domains as torch: Y and K are nan for x < 0, and -inf (Y) or +inf (K) at 0. At ±inf the values are their limits
(J, Y, K, j₀ → 0), where torch gives nan for J and Y.
"""
import math

import numpy as np

from ..autograd.function import Op
from .elementwise import where
from .registry import T, register, sample
from .special import _cast_like

_EULER_GAMMA = 0.5772156649015329
_SWITCH = 2.0        # series below, the integral above (both are at full precision on either side)
_CHUNK = 4096        # elements per quadrature pass: 50 nodes × 4096 complex values stay in cache-sized arrays
_TERMS = 24          # q = x²/4 ≤ 1 at the switch: the k-th term is below 1/(k!)², 1e-47 at k = 24


def _series_coefficients():
    k = np.arange(_TERMS)
    fact = np.array([float(math.factorial(i)) for i in range(_TERMS + 1)])
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, _TERMS + 1))])
    inv00, inv01 = 1 / (fact[k] * fact[k]), 1 / (fact[k] * fact[k + 1])
    psi_sum = 2 * -_EULER_GAMMA + harmonic[k] + harmonic[k + 1]          # ψ(k+1) + ψ(k+2)
    sign = (-1.0) ** k
    return {"j0": sign * inv00, "j1": sign * inv01, "i0": inv00, "i1": inv01,
            "y0": -sign * harmonic[k] * inv00, "y1": sign * psi_sum * inv01,
            "k0": harmonic[k] * inv00, "k1": psi_sum * inv01}


_C = _series_coefficients()


def _poly(name, q):
    return np.polynomial.polynomial.polyval(q, _C[name])


def _series(kind, order, x):
    """The power series for 0 < |x| ≤ 2 (x = 0 only for J)."""
    q = x * x / 4
    if kind == "j":
        return _poly("j0", q) if order == 0 else x / 2 * _poly("j1", q)
    log_half = np.log(x / 2)
    if kind == "y" and order == 0:
        return 2 / math.pi * ((log_half + _EULER_GAMMA) * _poly("j0", q) + _poly("y0", q))
    if kind == "y":
        return -2 / (math.pi * x) + 2 / math.pi * log_half * x / 2 * _poly("j1", q) - x / (2 * math.pi) * _poly("y1", q)
    if order == 0:
        return -(log_half + _EULER_GAMMA) * _poly("i0", q) + _poly("k0", q)
    return 1 / x + log_half * x / 2 * _poly("i1", q) - x / 4 * _poly("k1", q)


_NODES = []


def _hermite_nodes():
    """Gauss–Hermite nodes of ∫ e^(-s²) f(s²) ds folded onto s > 0: u = s², weights doubled (f is even in s)."""
    if not _NODES:
        s, w = np.polynomial.hermite.hermgauss(100)
        _NODES.extend([s[s > 0] ** 2, 2 * w[s > 0]])
    return _NODES


def scaled_k_integral(nu, z):
    """eᶻKᵥ(z) for an array z (real ≥ 2, or -ix with x ≥ 2) and a real order ν ≥ 0, by the quadrature in the
    module docstring; complex in, complex out."""
    u, w = _hermite_nodes()
    flat = z.reshape(-1)
    out = np.empty(flat.shape, np.result_type(flat, np.float64))
    for start in range(0, flat.size, _CHUNK):
        zc = flat[start:start + _CHUNK, None]
        ratio = u / zc
        if nu == 0:
            weight = w
        elif nu == 1:
            weight = w * (1 + ratio)                                        # cosh(acosh y) = y
        else:                                                               # cosh νa = (rᵛ + r⁻ᵛ)/2, r = y + √(y²-1)
            r = 1 + ratio + np.sqrt(ratio * (2 + ratio))
            weight = w * (r ** nu + r ** -nu) / 2
        out[start:start + _CHUNK] = (weight / np.sqrt(u + 2 * zc)).sum(-1)
    return out.reshape(z.shape)


def hankel1(nu, x):
    """H⁽¹⁾ᵥ(x) = Jᵥ(x) + i·Yᵥ(x) for x ≥ 2 (the phase e^(ix) taken on its own: x - νπ/2 would round for large x)."""
    scaled = scaled_k_integral(nu, -1j * x)
    return (2 / (math.pi * 1j)) * np.exp(-0.5j * nu * math.pi) * np.exp(1j * x) * scaled


def _split(x, compute_small, compute_large, small_at=None):
    """Evaluate the series where |x| ≤ 2 (or where small_at) and the integral elsewhere, on finite x only."""
    small = np.abs(x) <= _SWITCH if small_at is None else small_at
    finite = np.isfinite(x)
    out = np.full(x.shape, np.nan)
    if (small & finite).any():
        out[small & finite] = compute_small(x[small & finite])
    if (~small & finite).any():
        out[~small & finite] = compute_large(x[~small & finite])
    return out


def _np_bessel_j(order, x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        out = _split(x, lambda v: _series("j", order, v),
                     lambda v: np.sign(v) ** order * hankel1(order, np.abs(v)).real)
    return np.where(np.isinf(x), 0.0, out)


def _np_bessel_y(order, x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        out = _split(x, lambda v: _series("y", order, v), lambda v: hankel1(order, v).imag, small_at=x <= _SWITCH)
        return np.where(x == np.inf, 0.0, np.where(x == 0, -np.inf, np.where(x < 0, np.nan, out)))


def _np_scaled_k(order, x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        out = _split(x, lambda v: _series("k", order, v) * np.exp(v), lambda v: scaled_k_integral(order, v),
                     small_at=x <= _SWITCH)
        return np.where(x == np.inf, 0.0, np.where(x == 0, np.inf, np.where(x < 0, np.nan, out)))


def _np_k(order, x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        return _np_scaled_k(order, x) * np.exp(-np.where(x > 0, x, 0.0))


def _np_spherical_j0(x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        q = x * x
        near = 1 + q * (-1 / 6 + q * (1 / 120 + q * (-1 / 5040 + q * (1 / 362880 - q / 39916800))))
        far = np.sin(x) / np.where(x == 0, 1.0, x)
        return np.where(np.abs(x) < 0.5, near, np.where(np.isinf(x), 0.0, far))


def _safe(x):
    return where(x == 0, 1.0, x)


class BesselJ0(Op):
    """y = J₀(x);  dy/dx = -J₁(x)."""

    def forward(self, x):
        return _cast_like(_np_bessel_j(0, x), x)

    def backward(self, g):
        return -g * bessel_j1(self.inputs[0])


class BesselJ1(Op):
    """y = J₁(x);  dy/dx = J₀(x) - J₁(x)/x, ½ at x = 0."""

    def forward(self, x):
        return _cast_like(_np_bessel_j(1, x), x)

    def backward(self, g):
        x = self.inputs[0]
        return g * where(x == 0, 0.5, bessel_j0(x) - bessel_j1(x) / _safe(x))


class BesselY0(Op):
    """y = Y₀(x);  dy/dx = -Y₁(x)."""

    def forward(self, x):
        return _cast_like(_np_bessel_y(0, x), x)

    def backward(self, g):
        return -g * bessel_y1(self.inputs[0])


class BesselY1(Op):
    """y = Y₁(x);  dy/dx = Y₀(x) - Y₁(x)/x."""

    def forward(self, x):
        return _cast_like(_np_bessel_y(1, x), x)

    def backward(self, g):
        x = self.inputs[0]
        return g * (bessel_y0(x) - bessel_y1(x) / x)


class ModifiedBesselK0(Op):
    """y = K₀(x);  dy/dx = -K₁(x)."""

    def forward(self, x):
        return _cast_like(_np_k(0, x), x)

    def backward(self, g):
        return -g * modified_bessel_k1(self.inputs[0])


class ModifiedBesselK1(Op):
    """y = K₁(x);  dy/dx = -K₀(x) - K₁(x)/x."""

    def forward(self, x):
        return _cast_like(_np_k(1, x), x)

    def backward(self, g):
        x = self.inputs[0]
        return -g * (modified_bessel_k0(x) + modified_bessel_k1(x) / x)


class ScaledModifiedBesselK0(Op):
    """y = eˣK₀(x);  dy/dx = eˣK₀(x) - eˣK₁(x)."""

    def forward(self, x):
        return _cast_like(_np_scaled_k(0, x), x)

    def backward(self, g):
        x = self.inputs[0]
        return g * (scaled_modified_bessel_k0(x) - scaled_modified_bessel_k1(x))


class ScaledModifiedBesselK1(Op):
    """y = eˣK₁(x);  dy/dx = eˣK₁(x)·(1 - 1/x) - eˣK₀(x)."""

    def forward(self, x):
        return _cast_like(_np_scaled_k(1, x), x)

    def backward(self, g):
        x = self.inputs[0]
        return g * (scaled_modified_bessel_k1(x) * (1 - 1 / x) - scaled_modified_bessel_k0(x))


class SphericalBesselJ0(Op):
    """y = j₀(x) = sin x / x (1 at 0);  dy/dx = (x cos x - sin x)/x², by its series -x/3 + x³/30 - x⁵/840 + x⁷/45360
    for |x| < ½ (where the difference cancels)."""

    def forward(self, x):
        return _cast_like(_np_spherical_j0(x), x)

    def backward(self, g):
        x = self.inputs[0]
        near = x.abs() < 0.5
        small = where(near, x, 0.0)   # the series and the quotient each see only their own x: no x² overflow
        q = small * small
        series = small * (-1 / 3 + q * (1 / 30 + q * (-1 / 840 + q * (1 / 45360 - q / 3991680))))
        safe = where(near, 1.0, x)
        return g * where(near, series, (safe.cos() - safe.sin() / safe) / safe)


def bessel_j0(input):
    """J₀(x), the Bessel function of the first kind of order 0 (torch.special.bessel_j0)."""
    return BesselJ0.apply(input)


def bessel_j1(input):
    """J₁(x), the Bessel function of the first kind of order 1 (torch.special.bessel_j1)."""
    return BesselJ1.apply(input)


def bessel_y0(input):
    """Y₀(x), the Bessel function of the second kind of order 0 (torch.special.bessel_y0); nan for x < 0."""
    return BesselY0.apply(input)


def bessel_y1(input):
    """Y₁(x), the Bessel function of the second kind of order 1 (torch.special.bessel_y1); nan for x < 0."""
    return BesselY1.apply(input)


def modified_bessel_k0(input):
    """K₀(x), the modified Bessel function of the second kind of order 0 (torch.special.modified_bessel_k0)."""
    return ModifiedBesselK0.apply(input)


def modified_bessel_k1(input):
    """K₁(x), the modified Bessel function of the second kind of order 1 (torch.special.modified_bessel_k1)."""
    return ModifiedBesselK1.apply(input)


def scaled_modified_bessel_k0(input):
    """eˣK₀(x), finite where K₀ underflows (torch.special.scaled_modified_bessel_k0)."""
    return ScaledModifiedBesselK0.apply(input)


def scaled_modified_bessel_k1(input):
    """eˣK₁(x), finite where K₁ underflows (torch.special.scaled_modified_bessel_k1)."""
    return ScaledModifiedBesselK1.apply(input)


def spherical_bessel_j0(input):
    """j₀(x) = sin x / x, the spherical Bessel function of the first kind of order 0
    (torch.special.spherical_bessel_j0)."""
    return SphericalBesselJ0.apply(input)


# both sides of the series/integral switch at |x| = 2, far out, and 0 where the function is finite there
_ANY_X = [sample(T((3, 4), -6, 6)), sample(T((6,), values=[-40.0, -2.5, -1.9, 0.0, 2.1, 300.0]))]
_POSITIVE_X = [sample(T((3, 4), 0.2, 6)), sample(T((5,), values=[0.05, 1.9, 2.1, 40.0, 300.0]))]
for _fn, _samples in ((bessel_j0, _ANY_X), (bessel_j1, _ANY_X), (bessel_y0, _POSITIVE_X), (bessel_y1, _POSITIVE_X),
                      (modified_bessel_k0, _POSITIVE_X), (modified_bessel_k1, _POSITIVE_X),
                      (scaled_modified_bessel_k0, _POSITIVE_X), (scaled_modified_bessel_k1, _POSITIVE_X),
                      (spherical_bessel_j0, _ANY_X)):
    register(_fn.__name__, samples=_samples)(_fn)
