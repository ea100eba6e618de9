"""Discrete distributions and the Dirichlet over the simplex. Bernoulli and Categorical take probs or logits (one
of them); the other is derived, and log_prob works from the logits, so it stays finite where probs round to 0 or 1.
"""
import numpy as np

from .. import creation, dtypes
from ..nn.functional import binary_cross_entropy_with_logits
from ..ops.arith import xlogy
from ..ops.elementwise import sigmoid, where
from ..ops.reduce import logsumexp, softmax
from ..ops.stacking import broadcast_tensors
from ..ops.special import digamma, lgamma
from ..random import _gen
from . import constraints
from .continuous import draw
from .distribution import Distribution, as_tensor, broadcast_params


def _one_of(name, probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give either probs or logits, not {'both' if probs is not None else 'neither'}")
    return as_tensor(probs if probs is not None else logits)


def np_round(values):
    return np.round(np.atleast_1d(values)[:5], 6).tolist()


def _clamped_log(probs):
    eps = np.finfo(probs.dtype).eps
    return probs.clamp(eps, 1 - eps).log()


class Bernoulli(Distribution):
    """Bernoulli(p), p = σ(logits):  log p(x) = x log p + (1-x) log(1-p) = -BCEWithLogits(logits, x);
    H = BCEWithLogits(logits, p). Sampled without a gradient (use log_prob for score-function estimates)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    def __init__(self, probs=None, logits=None, validate_args=None):
        param = _one_of("Bernoulli", probs, logits)
        self.__dict__["probs" if probs is not None else "logits"] = param
        super().__init__(param.shape, (), validate_args)

    @property
    def probs(self):
        if "probs" not in self.__dict__:
            self.__dict__["probs"] = sigmoid(self.__dict__["logits"])
        return self.__dict__["probs"]

    @property
    def logits(self):
        if "logits" not in self.__dict__:   # log p - log(1-p), p clamped one ulp inside (0, 1)
            p = self.__dict__["probs"]
            self.__dict__["logits"] = _clamped_log(p) - _clamped_log(1 - p)
        return self.__dict__["logits"]

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

    @property
    def probs(self):
        if "probs" not in self.__dict__:
            self.__dict__["probs"] = softmax(self.__dict__["logits"], -1)
        return self.__dict__["probs"]

    @property
    def logits(self):
        if "logits" not in self.__dict__:
            self.__dict__["logits"] = _clamped_log(self.__dict__["probs"])
        return self.__dict__["logits"]

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

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        super().__init__(self._categorical.batch_shape, (self._categorical._num_events,), validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        index = self._categorical.sample(sample_shape).numpy()
        return creation.tensor(np.eye(self._event_shape[0], dtype=self.probs.dtype)[index])

    def log_prob(self, value):
        self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()


class Poisson(Distribution):
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


class Dirichlet(Distribution):
    """Dirichlet(α) over the simplex:  log p(x) = Σ(α_i-1) log x_i + log Γ(α₀) - Σ log Γ(α_i), α₀ = Σα_i;
    H = Σ log Γ(α_i) - log Γ(α₀) - (k - α₀)ψ(α₀) - Σ(α_i-1)ψ(α_i). Sampled without a reparameterised gradient."""
    arg_constraints = {"concentration": constraints.Constraint("IndependentConstraint(GreaterThan(lower_bound=0.0), 1)",
                                                               lambda v: np.all(v > 0, -1), event_dim=1)}
    support = constraints.simplex

    def __init__(self, concentration, validate_args=None):
        (self.concentration,) = broadcast_params(concentration)
        if self.concentration.ndim < 1:
            raise ValueError("Dirichlet: concentration needs at least one dim (the categories), got a 0-d tensor")
        super().__init__(self.concentration.shape[:-1], self.concentration.shape[-1:], validate_args)

    mean = property(lambda self: self.concentration / self.concentration.sum(-1, keepdim=True))

    @property
    def variance(self):
        a0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (a0 - self.concentration) / (a0 ** 2 * (a0 + 1))

    def sample(self, sample_shape=()):
        a = np.broadcast_to(self.concentration.detach().numpy(), self._extended_shape(sample_shape))
        gammas = _gen(None).standard_gamma(a)
        return creation.tensor((gammas / gammas.sum(-1, keepdims=True)).astype(a.dtype))

    def log_prob(self, value):
        self._validate_sample(value)
        a = self.concentration
        return xlogy(a - 1, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1)

    def entropy(self):
        a = self.concentration
        k, a0 = a.shape[-1], a.sum(-1)
        return lgamma(a).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - ((a - 1) * digamma(a)).sum(-1)
