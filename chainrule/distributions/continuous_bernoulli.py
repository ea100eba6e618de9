"""The continuous Bernoulli distribution on [0, 1]."""
import math

import numpy as np

from ..nn.functional import binary_cross_entropy_with_logits
from ..ops.elementwise import where
from ..ops.stacking import broadcast_tensors
from . import constraints
from .continuous import draw
from .discrete import _one_of
from .distribution import ExponentialFamily, as_tensor
from .utils import clamp_probs, lazy_property, logits_to_probs, probs_to_logits


class ContinuousBernoulli(ExponentialFamily):
    """The continuous Bernoulli on [0, 1] (Loaiza-Ganem & Cunningham 2019), for VAEs on [0, 1]-valued data:
    p(x) = C(λ) λˣ(1-λ)¹⁻ˣ with C(λ) = 2 artanh(1-2λ)/(1-2λ) (Taylor expansions near λ = ½, where the closed forms
    are 0/0, inside lims as torch does); rsample by the inverse CDF."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support, has_rsample = constraints.unit_interval, True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        param = _one_of("ContinuousBernoulli", probs, logits)
        if probs is not None:
            eps = np.finfo(param.dtype).eps
            if validate_args is not None and not np.all(constraints.unit_interval.check(param.detach().numpy())):
                raise ValueError("ContinuousBernoulli: the parameter probs has invalid values")
            param = param.clamp(eps, 1 - eps)
        self.__dict__["probs" if probs is not None else "logits"] = param
        self._lims = lims
        super().__init__(param.shape, (), validate_args)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    def _outside(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        return where(self._outside(), self.probs, self._lims[0])

    def _log_norm(self):
        cut = self._cut_probs()
        below, above = where(cut <= 0.5, cut, 0.0), where(cut >= 0.5, cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - where(cut <= 0.5, (-2.0 * below).log1p(),
                                                                   (2.0 * above - 1.0).log())
        x = (self.probs - 0.5) ** 2
        return where(self._outside(), log_norm, math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        return where(self._outside(), mus, 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x ** 2) * x)

    @property
    def variance(self):
        cut = self._cut_probs()
        var = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + 1.0 / ((-cut).log1p() - cut.log()) ** 2
        x = (self.probs - 0.5) ** 2
        return where(self._outside(), var, 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x)

    def rsample(self, sample_shape=()):
        u = draw(self.probs, self._extended_shape(sample_shape), lambda g, s: g.random(s))
        return self.icdf(u)

    def log_prob(self, value):
        self._validate_sample(value)
        logits, value = broadcast_tensors(self.logits, as_tensor(value, self.logits))
        return -binary_cross_entropy_with_logits(logits, value, reduction="none") + self._log_norm()

    def cdf(self, value):
        cut = self._cut_probs()
        cdfs = (cut ** value * (1.0 - cut) ** (1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        inside = where(self._outside(), cdfs, value)
        return where(value <= 0.0, 0.0, where(value >= 1.0, 1.0, inside))

    def icdf(self, value):
        cut = self._cut_probs()
        inverted = ((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / (cut.log() - (-cut).log1p())
        return where(self._outside(), inverted, value)

    def entropy(self):
        log0, log1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log0 - log1) - self._log_norm() - log0
