"""The generalised Pareto distribution (the law of exceedances over a high threshold), torch's GeneralizedPareto:
with z = (x - μ)/σ and shape ξ,

    log p(x) = -log σ - (1/ξ + 1)·log(1 + ξz)   (ξ = 0: -log σ - z),   log S(x) = -log(1 + ξz)/ξ   (ξ = 0: -z)

on x ≥ μ (and x ≤ μ - σ/ξ when ξ < 0);  H = log σ + ξ + 1;  rsample: F⁻¹(u) = μ + σ·((1 - u)^(-ξ) - 1)/ξ."""
import math

import numpy as np

from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .continuous import draw
from .distribution import Distribution, broadcast_params


class GeneralizedPareto(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_params(loc, scale, concentration)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def support(self):
        lower, xi = self.loc.detach().numpy(), self.concentration.detach().numpy()
        with np.errstate(divide="ignore"):
            upper = np.where(xi < 0, lower - self.scale.detach().numpy() / np.where(xi < 0, xi, -1.0), np.inf)
        return constraints.interval(lower, upper)

    def _safe(self):
        """(ξ with 1 where ξ = 0, the mask of ξ = 0): the ξ = 0 limit is taken by where, never by a 0/0."""
        zero = Tensor._wrap(np.asarray(np.isclose(self.concentration.detach().numpy(), 0.0)))
        return where(zero, 1.0, self.concentration), zero

    def rsample(self, sample_shape=()):
        u = draw(self.loc, self._extended_shape(sample_shape), lambda g, s: g.random(s))
        return self.icdf(u)

    def log_prob(self, value):
        self._validate_sample(value)
        z = (value - self.loc) / self.scale
        xi, zero = self._safe()
        y = 1 / xi + 1
        nonzero = where(y == 0, y, y * (xi * z).log1p())
        return -self.scale.log() - where(zero, z, nonzero)

    def log_survival_function(self, value):
        self._validate_sample(value)
        z = (value - self.loc) / self.scale
        xi, zero = self._safe()
        return where(zero, -z, -(xi * z).log1p() / xi)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return -self.log_survival_function(value).expm1()   # 1 - S(x), exact at the lower end (no log of 0)

    def icdf(self, value):
        xi, zero = self._safe()
        log_u = (-value).log1p()
        return where(zero, self.loc - self.scale * log_u,
                     self.loc + self.scale / xi * (-xi * log_u).expm1())

    def entropy(self):
        return (self.scale.log() + self.concentration + 1).expand(*self.batch_shape)

    @property
    def mean(self):
        valid = self.concentration < 1
        safe = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe = where(valid, self.concentration, 0.25)
        return where(valid, self.scale ** 2 / ((1 - safe) ** 2 * (1 - 2 * safe)), math.nan)

    @property
    def mode(self):
        return self.loc
