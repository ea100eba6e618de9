"""Distributions of y = f(x) for x from a base distribution and f a chain of bijections (TransformedDistribution),
and the relaxed (Concrete / Gumbel-softmax) Bernoulli and categorical built on them:

    log p_Y(y) = log p_X(x) - Σ log|det J_fᵢ|,  x = f⁻¹(y)
"""
import numpy as np

from .. import creation
from ..ops.reduce import logsumexp
from ..ops.special import lgamma
from . import constraints
from .continuous import draw
from .discrete import Bernoulli, Categorical
from .distribution import Distribution, as_tensor
from .transforms import ComposeTransform, ExpTransform, SigmoidTransform, Transform, sum_rightmost


class TransformedDistribution(Distribution):
    """base_distribution pushed through `transforms` (a Transform or a list, applied in order). rsample keeps the
    base's reparameterisation, so gradients flow through f as well (tanh-squashed Gaussian policies)."""
    arg_constraints = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        self.transforms = [transforms] if isinstance(transforms, Transform) else list(transforms)
        self.base_dist = base_distribution
        self.has_rsample = base_distribution.has_rsample
        event_dim = max([len(base_distribution.event_shape)] + [t.event_dim for t in self.transforms])
        shape = base_distribution.batch_shape + base_distribution.event_shape
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:], validate_args)

    @property
    def support(self):
        return self.transforms[-1].codomain if self.transforms else self.base_dist.support

    def rsample(self, sample_shape=()):
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def sample(self, sample_shape=()):
        x = self.base_dist.sample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x.detach()

    def log_prob(self, value):
        self._validate_sample(value)
        event_dim = len(self._event_shape)
        total, y = 0.0, value
        for t in reversed(self.transforms):
            x = t.inv(y)
            total = total - sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - t.event_dim)
            y = x
        base_extra = event_dim - len(self.base_dist.event_shape)
        return total + sum_rightmost(self.base_dist.log_prob(y), base_extra)

    def cdf(self, value):
        for t in reversed(self.transforms):
            value = t.inv(value)
        return self.base_dist.cdf(value)


class LogitRelaxedBernoulli(Distribution):
    """The logit of a relaxed Bernoulli: x = (logits + log u - log(1-u))/τ, u ~ U(0, 1);
    log p(x) = log τ + (logits - τx) - 2 log(1 + e^(logits - τx))."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support, has_rsample = constraints.real, True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._bernoulli = Bernoulli(probs, logits, validate_args)
        self.temperature = as_tensor(temperature, self._bernoulli.logits)
        super().__init__(self._bernoulli.batch_shape, (), validate_args)

    logits = property(lambda self: self._bernoulli.logits)
    probs = property(lambda self: self._bernoulli.probs)

    def rsample(self, sample_shape=()):
        eps = np.finfo(self.logits.dtype).eps
        u = draw(self.logits, self._extended_shape(sample_shape), lambda g, s: g.uniform(eps, 1 - eps, s))
        return (u.log() - (-u).log1p() + self.logits) / self.temperature

    def log_prob(self, value):
        diff = self.logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """A Bernoulli relaxed to (0, 1) at temperature τ (Maddison et al., Jang et al. 2017): differentiable samples
    that approach 0/1 as τ → 0."""

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(LogitRelaxedBernoulli(temperature, probs, logits), SigmoidTransform(), validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)


class ExpRelaxedCategorical(Distribution):
    """log of a relaxed one-hot sample: x = log softmax((logits + g)/τ), g ~ Gumbel(0, 1)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support, has_rsample = constraints.real_vector, True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        self.temperature = as_tensor(temperature, self._categorical.logits)
        super().__init__(self._categorical.batch_shape, (self._categorical._num_events,), validate_args)

    logits = property(lambda self: self._categorical.logits)
    probs = property(lambda self: self._categorical.probs)

    def rsample(self, sample_shape=()):
        eps = np.finfo(self.logits.dtype).eps
        u = draw(self.logits, self._extended_shape(sample_shape), lambda g, s: g.uniform(eps, 1 - eps, s))
        scores = (self.logits - (-u.log()).log()) / self.temperature
        return scores - logsumexp(scores, -1, keepdim=True)

    def log_prob(self, value):
        k = self._event_shape[0]
        log_scale = lgamma(creation.full((), float(k), dtype=self.logits.dtype)) + (k - 1) * self.temperature.log()
        score = self.logits - value * self.temperature
        score = (score - logsumexp(score, -1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """A categorical relaxed to the simplex at temperature τ (the Gumbel-softmax / Concrete distribution)."""

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        exp = ExpTransform()
        exp.event_dim = 0
        super().__init__(ExpRelaxedCategorical(temperature, probs, logits), exp, validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)


__all__ = ["ComposeTransform", "TransformedDistribution", "RelaxedBernoulli", "RelaxedOneHotCategorical"]
