"""Mixtures whose components are one batched distribution (torch's MixtureSameFamily)."""
import numpy as np

from .. import creation
from ..ops.reduce import logsumexp
from .discrete import Categorical
from .distribution import Distribution


class MixtureSameFamily(Distribution):
    """A mixture Σₖ πₖ p_k(x) whose components are one batched distribution (the last batch dim indexes k) and
    whose weights are a Categorical: log p(x) = logsumexp_k(log πₖ + log p_k(x)). Sampled without a gradient."""
    arg_constraints = {}

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("MixtureSameFamily: mixture_distribution must be a Categorical")
        k = component_distribution.batch_shape[-1] if component_distribution.batch_shape else None
        if k != mixture_distribution._num_events:
            raise ValueError(f"MixtureSameFamily: the mixture has {mixture_distribution._num_events} weights but "
                             f"the components' last batch dim is {k}")
        self._mixture_distribution, self._component_distribution = mixture_distribution, component_distribution
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(component_distribution.batch_shape[:-1], component_distribution.event_shape, validate_args)
        self.support = component_distribution.support

    mixture_distribution = property(lambda self: self._mixture_distribution)
    component_distribution = property(lambda self: self._component_distribution)

    def _weights(self):
        return self._mixture_distribution.probs.reshape(*self._mixture_distribution.probs.shape,
                                                        *([1] * self._event_ndims))

    @property
    def mean(self):
        return (self._weights() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        w, comp = self._weights(), self._component_distribution
        mean = self.mean.unsqueeze(-1 - self._event_ndims)
        return (w * comp.variance).sum(-1 - self._event_ndims) + (w * (comp.mean - mean) ** 2).sum(
            -1 - self._event_ndims)

    def log_prob(self, value):
        x = value.unsqueeze(-1 - self._event_ndims)   # against every component
        log_p = self._component_distribution.log_prob(x)
        return logsumexp(log_p + self._mixture_distribution.logits, -1)

    def sample(self, sample_shape=()):
        which = self._mixture_distribution.sample(sample_shape).numpy()
        draws = self._component_distribution.sample(sample_shape).numpy()   # (..., K, *event)
        index = which.reshape(*which.shape, 1, *([1] * self._event_ndims))
        index = np.broadcast_to(index, which.shape + (1,) + draws.shape[which.ndim + 1:])
        return creation.tensor(np.take_along_axis(draws, index, which.ndim).squeeze(which.ndim))
