"""Distributions on the circle: von Mises."""
import math

import numpy as np

from .. import creation
from ..ops.bessel import i0e, i1e
from ..random import _gen
from . import constraints
from .distribution import Distribution, broadcast_params


class VonMises(Distribution):
    """The von Mises distribution on the circle (angles in radians, any real loc and value, read modulo 2π):
    log p(x) = κ cos(x - μ) - log 2π - log I₀(κ), computed as κ(cos(x - μ) - 1) - log 2π - log i0e(κ) so large κ
    does not overflow; circular variance 1 - I₁(κ)/I₀(κ). Sampled by Best & Fisher's rejection method (1979),
    without a gradient."""
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_params(loc, concentration)
        super().__init__(self.loc.shape, (), validate_args)

    mean = mode = property(lambda self: self.loc)
    variance = property(lambda self: 1 - i1e(self.concentration) / i0e(self.concentration))

    def log_prob(self, value):
        self._validate_sample(value)
        k = self.concentration
        return k * ((value - self.loc).cos() - 1) - math.log(2 * math.pi) - i0e(k).log()

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        kappa = np.broadcast_to(self.concentration.detach().numpy().astype(np.float64), shape)
        loc = np.broadcast_to(self.loc.detach().numpy().astype(np.float64), shape)
        tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
        rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
        r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
        theta, todo, g = np.zeros(shape), np.ones(shape, bool), _gen(None)
        while todo.any():
            u1, u2, u3 = (g.random(shape) for _ in range(3))
            z = np.cos(np.pi * u1)
            f = (1 + r * z) / (r + z)
            c = kappa * (r - f)
            with np.errstate(divide="ignore", invalid="ignore"):
                accept = todo & ((c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0))
            theta[accept] = (np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)))[accept]
            todo &= ~accept
        out = np.mod(theta + loc + np.pi, 2 * np.pi) - np.pi
        return creation.tensor(out.astype(self.loc.dtype))
