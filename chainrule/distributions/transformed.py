"""Distributions of y = f(x) for x from a base distribution and f a chain of bijections (TransformedDistribution),
and the relaxed (Concrete / Gumbel-softmax) Bernoulli and categorical built on them:

    log p_Y(y) = log p_X(x) - Σ log|det J_fᵢ|,  x = f⁻¹(y)
"""
import numpy as np

from .. import creation
from ..ops.elementwise import where
from ..ops.reduce import logsumexp
from ..ops.special import digamma, lgamma
from . import constraints
from .continuous import _EULER, Exponential, Gamma, Normal, Uniform, draw
from .discrete import Bernoulli, Categorical
from .distribution import Distribution, as_tensor, broadcast_params
from .transforms import (AffineTransform, ExpTransform, PowerTransform, SigmoidTransform, StickBreakingTransform,
                         Transform, _product, sum_rightmost)


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
        for t in self.transforms:   # stick-breaking adds an entry; the other transforms keep the shape
            shape = t.forward_shape(shape)
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

    def _monotonize_cdf(self, value):
        """F_Y(y) = F_X(f⁻¹(y)) for an increasing f, 1 - F_X(f⁻¹(y)) for a decreasing one: the product of the
        transforms' signs says which (a transform that is not monotone raises NotImplementedError)."""
        sign = _product([t.sign for t in self.transforms])
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value):
        for t in reversed(self.transforms):
            value = t.inv(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value):
        """y = f(F_X⁻¹(q)), with q flipped to 1 - q when f decreases."""
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            value = t(value)
        return value


class LogisticNormal(TransformedDistribution):
    """A Normal on ℝᴷ⁻¹ pushed onto the K-simplex by stick-breaking (torch's LogisticNormal)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support, has_rsample = constraints.simplex, True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args)

    loc = property(lambda self: self.base_dist.loc)
    scale = property(lambda self: self.base_dist.scale)


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




class Weibull(TransformedDistribution):
    """Weibull(λ, k): x = λ·E^(1/k), E ~ Exp(1);  log p(x) = log(k/λ) + (k-1) log(x/λ) - (x/λ)ᵏ;
    H = γ(1 - 1/k) + log(λ/k) + 1."""
    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_params(scale, concentration)
        self.concentration_reciprocal = 1 / self.concentration
        super().__init__(Exponential(self.scale * 0 + 1, validate_args=False),
                         [PowerTransform(self.concentration_reciprocal), AffineTransform(0.0, self.scale)],
                         validate_args)

    support = constraints.positive
    mean = property(lambda self: self.scale * lgamma(1 + self.concentration_reciprocal).exp())
    @property
    def mode(self):
        """λ((k - 1)/k)^(1/k) for k > 1; 0 for k ≤ 1, where the density is largest at 0 (torch applies the formula
        there too: nan with NumPy's warning for most k < 1, and 1.0·λ for k = 1/2, whose (-1)² is 1)."""
        k = self.concentration
        above = k > 1
        base = where(above, (k - 1) / k, 1.0)
        return where(above, self.scale * base ** self.concentration_reciprocal, 0.0)

    @property
    def variance(self):
        return self.scale ** 2 * (lgamma(1 + 2 * self.concentration_reciprocal).exp() -
                                  (2 * lgamma(1 + self.concentration_reciprocal)).exp())

    def entropy(self):
        return _EULER * (1 - self.concentration_reciprocal) + (self.scale * self.concentration_reciprocal).log() + 1


class Pareto(TransformedDistribution):
    """Pareto type I(scale, α): x = scale·e^E, E ~ Exp(α);  H = log(scale/α) + 1 + 1/α."""
    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_params(scale, alpha)
        super().__init__(Exponential(self.alpha, validate_args=False),
                         [ExpTransform(), AffineTransform(0.0, self.scale)], validate_args)

    @property
    def support(self):
        return constraints.greater_than_eq(self.scale.detach().numpy())

    mode = property(lambda self: self.scale)

    @property
    def mean(self):
        """α·scale/(α - 1), infinite for α ≤ 1 (torch's answer, without a division by zero)."""
        a = self.alpha
        return where(a > 1, a * self.scale / where(a > 1, a - 1, 1.0), float("inf"))

    @property
    def variance(self):
        a = self.alpha
        finite = self.scale ** 2 * a / ((a - 1) ** 2 * where(a > 2, a - 2, 1.0))
        return where(a > 2, finite, float("inf"))

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + 1 / self.alpha)


class InverseGamma(TransformedDistribution):
    """1/X for X ~ Gamma(α, β);  H = α + log β + log Γ(α) - (1 + α)ψ(α). Sampled without a reparameterised
    gradient (as its Gamma base)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        super().__init__(base, PowerTransform(-1.0), validate_args)

    concentration = property(lambda self: self.base_dist.concentration)
    rate = property(lambda self: self.base_dist.rate)
    mode = property(lambda self: self.rate / (self.concentration + 1))

    @property
    def mean(self):
        return where(self.concentration > 1, self.rate / (self.concentration - 1), float("inf"))

    @property
    def variance(self):
        c = self.concentration
        return where(c > 2, self.rate ** 2 / ((c - 1) ** 2 * (c - 2)), float("inf"))

    def entropy(self):
        c = self.concentration
        return c + self.rate.log() + lgamma(c) - (1 + c) * digamma(c)


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(a, b) on (0, 1), a Beta look-alike with a closed-form inverse CDF:
    x = (1 - u^(1/b))^(1/a), u ~ U(0, 1);  p(x) = ab x^(a-1) (1 - xᵃ)^(b-1);
    H = (1 - 1/b) + (1 - 1/a)(ψ(b + 1) + γ) - log a - log b."""
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_params(concentration1, concentration0)
        zeros = self.concentration0 * 0
        super().__init__(Uniform(zeros, zeros + 1, validate_args=False),
                         [PowerTransform(1 / self.concentration0), AffineTransform(1.0, -1.0),
                          PowerTransform(1 / self.concentration1)], validate_args)

    def _moment(self, n):
        a, b = self.concentration1, self.concentration0
        arg = 1 + n / a
        return b * (lgamma(arg) + lgamma(b) - lgamma(arg + b)).exp()

    mean = property(lambda self: self._moment(1))
    variance = property(lambda self: self._moment(2) - self._moment(1) ** 2)

    @property
    def mode(self):
        """((a - 1)/(ab - 1))^(1/a) where a ≥ 1 and b ≥ 1 (NaN elsewhere: the density peaks at 0 or 1 or is flat).
        torch's formula gives NaN everywhere (it takes log1p(-b), undefined for b > 1)."""
        a, b = self.concentration1, self.concentration0
        inside = (a >= 1) & (b >= 1)
        safe_a, safe_b = where(inside, a, 2.0), where(inside, b, 2.0)
        mode = ((safe_a - 1) / (safe_a * safe_b - 1)) ** (1 / safe_a)
        return where(inside & ((a > 1) | (b > 1)), mode, float("nan"))

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return (1 - 1 / b) + (1 - 1 / a) * (digamma(b + 1) + _EULER) - a.log() - b.log()
