"""Discrete distributions. Bernoulli and Categorical take probs or logits (one of them); the other is derived,
and log_prob works from the logits, so it stays finite where probs round to 0 or 1.
"""
import math

import numpy as np

from .. import creation, dtypes
from ..nn.functional import binary_cross_entropy_with_logits, logsigmoid, one_hot, softplus
from ..ops.arith import xlogy
from ..ops.elementwise import sigmoid, where
from ..ops.reduce import logsumexp
from ..ops.stacking import broadcast_tensors
from ..ops.special import lgamma
from ..random import _gen
from . import constraints
from .continuous import draw
from .distribution import Distribution, ExponentialFamily, as_tensor, broadcast_params
from .utils import lazy_property, logits_to_probs, probs_to_logits


def _one_of(name, probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give either probs or logits, not {'both' if probs is not None else 'neither'}")
    return as_tensor(probs if probs is not None else logits)


def np_round(values):
    return np.round(np.atleast_1d(values)[:5], 6).tolist()


def _trials(self, name, probs, logits, total_count=None):
    """For the distributions that count Bernoulli trials (Geometric, Binomial, NegativeBinomial): the given probs
    or logits (broadcast with total_count, when there is one) kept under its name, and a Bernoulli over it that
    derives the other. Returns the parameter."""
    param = _one_of(name, probs, logits)
    if total_count is not None:
        self.total_count, param = broadcast_params(total_count, param)
    given = "probs" if probs is not None else "logits"
    self._bernoulli = Bernoulli(**{given: param}, validate_args=False)
    self.__dict__[given] = param
    return param


class Bernoulli(ExponentialFamily):
    """Bernoulli(p), p = σ(logits):  log p(x) = x log p + (1-x) log(1-p) = -BCEWithLogits(logits, x);
    H = BCEWithLogits(logits, p). Sampled without a gradient (use log_prob for score-function estimates)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support, has_enumerate_support = constraints.boolean, True

    def enumerate_support(self, expand=True):
        return self._enumerated(creation.arange(2, dtype=self.probs.dtype), expand)

    def __init__(self, probs=None, logits=None, validate_args=None):
        param = _one_of("Bernoulli", probs, logits)
        self.__dict__["probs" if probs is not None else "logits"] = param
        super().__init__(param.shape, (), validate_args)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @lazy_property
    def logits(self):   # log p - log(1-p), p clamped one ulp inside (0, 1)
        return probs_to_logits(self.probs, is_binary=True)

    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self):
        p = self.probs
        return where(p == 0.5, float("nan"), (p > 0.5).to(p.dtype))

    def sample(self, sample_shape=()):
        p = np.broadcast_to(self.probs.detach().numpy(), self._extended_shape(sample_shape))
        return draw(self.probs, p.shape, lambda g, s: g.random(s) < p)

    def log_prob(self, value):
        self._validate_sample(value)
        logits, value = broadcast_tensors(self.logits, as_tensor(value, self.logits).to(self.logits.dtype))
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Categorical(Distribution):
    """Categorical over the last dim of probs (normalised) or logits (log-softmaxed):  log p(k) = logits_k;
    H = -Σ_k p_k logits_k. Samples are int64 indices, drawn without a gradient."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        param = _one_of(type(self).__name__, probs, logits)
        if param.ndim < 1:
            raise ValueError(f"{type(self).__name__}: probs/logits need at least one dim (the categories), got a "
                             f"0-d tensor")
        if probs is not None:
            sums = param.detach().numpy().sum(-1)
            if not (sums > 0).all():   # normalising would divide by zero (or flip signs): say so, no NaN
                raise ValueError(f"{type(self).__name__}: every row of probs must have a positive sum (they are "
                                 f"normalised to sum to 1), got row sums {np_round(sums)}")
            self.__dict__["probs"] = param / param.sum(-1, keepdim=True)
        else:
            self.__dict__["logits"] = param - logsumexp(param, -1, keepdim=True)
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], (), validate_args)

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @property
    def param_shape(self):
        return self._batch_shape + (self._num_events,)

    mean = property(lambda self: creation.full(self._batch_shape, float("nan"), dtype=self.probs.dtype))
    variance = mean
    mode = property(lambda self: self.probs.argmax(-1))

    def sample(self, sample_shape=()):
        """Inverse-CDF draws: the first category whose cumulative probability exceeds u ~ U(0, 1)."""
        shape = self._extended_shape(sample_shape)
        cdf = np.cumsum(self.probs.detach().numpy(), -1)
        cdf = np.broadcast_to(cdf, shape + (self._num_events,))
        u = _gen(None).random(shape + (1,)) * cdf[..., -1:]
        index = np.minimum((cdf <= u).sum(-1), self._num_events - 1)
        return creation.tensor(index, dtype=dtypes.int64)

    def log_prob(self, value):
        self._validate_sample(value)
        index = as_tensor(value).long().unsqueeze(-1)
        index, log_pmf = broadcast_tensors(index, self.logits)
        return log_pmf.gather(-1, index[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = creation.arange(self._num_events).reshape(-1, *([1] * len(self._batch_shape)))
        return values.expand(-1, *self._batch_shape) if expand else values


class OneHotCategorical(Distribution):
    """A Categorical whose draws are one-hot vectors: log p(x) = logits · x."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.Constraint("OneHot()", lambda v: np.all((v == 0) | (v == 1), -1) & (v.sum(-1) == 1), True, 1)
    has_enumerate_support = True

    def enumerate_support(self, expand=True):
        return self._enumerated(creation.eye(self._event_shape[0], dtype=self.probs.dtype), expand)

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        super().__init__(self._categorical.batch_shape, (self._categorical._num_events,), validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self):
        """The one-hot vector of the most probable category."""
        return one_hot(self.probs.argmax(-1), self.probs.shape[-1]).to(self.probs.dtype)

    def sample(self, sample_shape=()):
        index = self._categorical.sample(sample_shape).numpy()
        return creation.tensor(np.eye(self._event_shape[0], dtype=self.probs.dtype)[index])

    def log_prob(self, value):
        self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical with the straight-through gradient estimator (Bengio et al., 2013): rsample returns the
    one-hot draw in the forward pass and passes the gradient to the probabilities as if it were probs:
    x + p - stop_gradient(p)."""
    has_rsample = True

    def rsample(self, sample_shape=()):
        draws = self.sample(sample_shape)
        probs = self.probs
        return draws + (probs - probs.detach())


class Poisson(ExponentialFamily):
    """Poisson(λ):  log p(k) = k log λ - λ - log k!. Sampled without a gradient."""
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_params(rate)
        super().__init__(self.rate.shape, (), validate_args)

    mean = variance = property(lambda self: self.rate)
    mode = property(lambda self: self.rate.floor())

    def sample(self, sample_shape=()):
        lam = np.broadcast_to(self.rate.detach().numpy(), self._extended_shape(sample_shape))
        return draw(self.rate, lam.shape, lambda g, s: g.poisson(lam))

    def log_prob(self, value):
        self._validate_sample(value)
        return xlogy(value, self.rate) - self.rate - lgamma(value + 1)


class Geometric(Distribution):
    """The number of failures before the first success, P(k) = (1-p)ᵏ p:  log P(k) = k log(1-p) + log p;
    H = BCEWithLogits(logits, p)/p. Sampled without a gradient."""
    arg_constraints = {"probs": constraints.Constraint("Interval(lower_bound=0.0, upper_bound=1.0)",
                                                       lambda v: (v > 0) & (v <= 1)), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        param = _trials(self, "Geometric", probs, logits)
        super().__init__(param.shape, (), validate_args)

    probs = property(lambda self: self._bernoulli.probs)
    logits = property(lambda self: self._bernoulli.logits)
    mean = property(lambda self: 1 / self.probs - 1)
    mode = property(lambda self: self.probs * 0)
    variance = property(lambda self: (1 / self.probs - 1) / self.probs)

    def sample(self, sample_shape=()):
        p = np.broadcast_to(self.probs.detach().numpy(), self._extended_shape(sample_shape))
        tiny = np.finfo(p.dtype).tiny
        return draw(self.probs, p.shape, lambda g, s: np.floor(np.log(g.uniform(tiny, 1, s)) /
                                                               np.log1p(-np.minimum(p, 1 - 1e-12))))

    def log_prob(self, value):
        self._validate_sample(value)
        value, probs = broadcast_tensors(as_tensor(value, self.probs).to(self.probs.dtype), self.probs)
        safe = where((probs == 1) & (value == 0), 0.0, probs)   # 0·log(0) at p = 1, k = 0 counts as 0
        return value * (-safe).log1p() + self.probs.log()

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs


class Binomial(Distribution):
    """Binomial(n, p):  log P(k) = log n! - log k! - log (n-k)! + k·logits - n·softplus(logits). Sampled without a
    gradient."""
    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}

    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        param = _trials(self, "Binomial", probs, logits, total_count)
        super().__init__(param.shape, (), validate_args)

    def enumerate_support(self, expand=True):
        counts = self.total_count.detach().numpy()
        n = int(counts.max()) if counts.size else 0
        if counts.size and counts.min() != n:
            raise NotImplementedError("Binomial.enumerate_support: total_count differs across the batch "
                                      f"({counts.min():g} to {n}); enumerate each count separately")
        return self._enumerated(creation.arange(n + 1, dtype=self.probs.dtype), expand)

    @property
    def support(self):
        return constraints.Constraint("IntegerInterval(lower_bound=0, upper_bound=total_count)",
                                      lambda v: (v >= 0) & (v <= self.total_count.detach().numpy()) &
                                      (v == np.round(v)), True)

    probs = property(lambda self: self._bernoulli.probs)
    logits = property(lambda self: self._bernoulli.logits)
    mean = property(lambda self: self.total_count * self.probs)
    mode = property(lambda self: ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count))
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        n = np.broadcast_to(self.total_count.detach().numpy(), shape).astype(np.int64)
        p = np.broadcast_to(self.probs.detach().numpy(), shape)
        return draw(self.probs, shape, lambda g, s: g.binomial(n, p))

    def log_prob(self, value):
        self._validate_sample(value)
        n, k = self.total_count, value
        return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * self.logits - n * softplus(self.logits)

    def entropy(self):
        """-Σₖ P(k) log P(k) over k = 0 … n (one n for the whole batch, as torch requires)."""
        counts = np.unique(self.total_count.detach().numpy())
        if counts.size != 1:
            raise NotImplementedError(f"Binomial.entropy: the total counts differ across the batch ({counts[:5]}); "
                                      f"torch supports one total count only")
        k = creation.arange(int(counts[0]) + 1, dtype=self.logits.dtype).reshape(-1, *([1] * len(self._batch_shape)))
        log_p = self.log_prob(k.expand(-1, *self._batch_shape)) if self._batch_shape else self.log_prob(k.reshape(-1))
        return -(log_p.exp() * log_p).sum(0)


class Multinomial(Distribution):
    """Counts of n draws over the categories of probs/logits:  log P(x) = log n! - Σ log xᵢ! + Σ xᵢ log pᵢ.
    Sampled without a gradient."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise ValueError(f"Multinomial: total_count must be an int (one count for the whole batch), got "
                             f"{total_count!r}")
        self.total_count = total_count
        self._categorical = Categorical(probs, logits, validate_args)
        n = self._categorical._num_events
        super().__init__(self._categorical.batch_shape, (n,), validate_args)

    @property
    def support(self):
        n = self.total_count
        return constraints.Constraint(f"Multinomial support (counts summing to {n})",
                                      lambda v: np.all((v >= 0) & (v == np.round(v)), -1) & (v.sum(-1) == n), True, 1)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    mean = property(lambda self: self.probs * self.total_count)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(self.probs.detach().numpy().astype(np.float64), shape)
        p = p / p.sum(-1, keepdims=True)
        counts = _gen(None).multinomial(self.total_count, p.reshape(-1, shape[-1])).reshape(shape)
        return creation.tensor(counts.astype(self.probs.dtype))

    def log_prob(self, value):
        self._validate_sample(value)
        logits = where((value == 0) & (self.logits == float("-inf")), 0.0, self.logits)
        return lgamma(value.sum(-1) + 1) - lgamma(value + 1).sum(-1) + (value * logits).sum(-1)

    def entropy(self):
        """H = n·H(p) - log n! + Σᵢ Σₖ₌₁ⁿ Binomial(k; n, pᵢ)·log k!, since each count xᵢ is Binomial(n, pᵢ)."""
        n = self.total_count
        k = creation.arange(1, n + 1, dtype=self.probs.dtype).reshape(-1, *([1] * (len(self._batch_shape) + 1)))
        counts = Binomial(n, probs=self.probs, validate_args=False)
        weighted = (counts.log_prob(k).exp() * lgamma(k + 1)).sum(0).sum(-1)
        return n * self._categorical.entropy() - math.lgamma(n + 1) + weighted


class NegativeBinomial(Distribution):
    """Successes before the r-th failure (r = total_count), success probability p = σ(logits):
    log P(k) = r log σ(-logits) + k log σ(logits) + log Γ(r + k) - log Γ(1 + k) - log Γ(r). Sampled without a
    gradient."""
    arg_constraints = {"total_count": constraints.nonnegative, "probs": constraints.Constraint(
        "HalfOpenInterval(lower_bound=0.0, upper_bound=1.0)", lambda v: (v >= 0) & (v < 1)), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        param = _trials(self, "NegativeBinomial", probs, logits, total_count)
        super().__init__(param.shape, (), validate_args)

    probs = property(lambda self: self._bernoulli.probs)
    logits = property(lambda self: self._bernoulli.logits)
    mean = property(lambda self: self.total_count * self.logits.exp())
    mode = property(lambda self: ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0))
    variance = property(lambda self: self.mean / sigmoid(-self.logits))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        r = np.broadcast_to(self.total_count.detach().numpy(), shape)
        p = np.broadcast_to(self.probs.detach().numpy(), shape)
        return draw(self.probs, shape, lambda g, s: g.negative_binomial(r, 1 - p))   # NumPy counts the other side

    def log_prob(self, value):
        self._validate_sample(value)
        r = self.total_count
        unnormalized = r * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normalization = -lgamma(r + value) + lgamma(1.0 + value) + lgamma(r)
        return unnormalized - where((r + value) == 0, 0.0, normalization)
