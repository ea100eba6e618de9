"""The Distribution base class (torch.distributions' interface) and the parameter checks every distribution shares.

A distribution holds tensors of parameters, broadcast together to its batch_shape; a draw has shape
sample_shape + batch_shape + event_shape. `rsample` draws through the reparameterisation trick (x = g(ε, θ) with ε
independent of θ, so ∂x/∂θ exists and gradients flow from a sampled loss into θ); `sample` draws without a graph.
log_prob, entropy, mean and variance are built from differentiable ops, so their gradients are the chain rule on
the formula in each class's docstring.
"""
import functools
import inspect

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops.stacking import broadcast_tensors
from ..tensor import Tensor
from .. import creation, dtypes

_VALIDATE = [True]


def as_tensor(value, like=None):
    """A parameter or value as a floating tensor (Python numbers take the default dtype, or like's dtype)."""
    if isinstance(value, Tensor):
        return value
    dtype = like.dtype if isinstance(like, Tensor) and like.dtype.kind == "f" else dtypes.get_default_dtype()
    return creation.tensor(value, dtype=dtype)


def broadcast_params(*values):
    """Parameters as tensors broadcast against each other (torch's broadcast_all)."""
    like = next((v for v in values if isinstance(v, Tensor) and v.dtype.kind == "f"), None)
    tensors = [as_tensor(v, like) for v in values]
    return broadcast_tensors(*tensors) if len(tensors) > 1 else tensors


class Distribution:
    """Base of all distributions: torch.distributions.Distribution's names and shapes. Each keeps the arguments
    it was constructed with (for expand)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def recording(self, *args, **kw):
            # the outermost constructor's call, kept as given: expand() binds it to names, construction stays cheap
            if "_init_call" not in self.__dict__:
                self.__dict__["_init_call"] = (type(self).__init__, args, kw)
            init(self, *args, **kw)
        cls.__init__ = recording
    arg_constraints = {}
    support = None
    has_rsample = False
    has_enumerate_support = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        self._validate_args = _VALIDATE[0] if validate_args is None else validate_args
        if self._validate_args:   # the parameters given (Bernoulli keeps probs or logits, the other is derived)
            for name, constraint in self.arg_constraints.items():
                value = self.__dict__.get(name)
                if isinstance(value, Tensor):
                    self._check(constraint, value, f"parameter {name}")

    @staticmethod
    def set_default_validate_args(value):
        """Switch argument validation on or off for distributions created from now on (torch's default: on)."""
        _VALIDATE[0] = bool(value)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _check(self, constraint, value, what):
        data = value.detach().numpy()
        ok = np.asarray(constraint.check(data))
        if not np.all(ok):
            bad = data[~ok] if ok.shape == data.shape else data   # an event constraint: show the whole value
            raise ValueError(f"{type(self).__name__}: expected {what} (a tensor of shape {value.shape}) to satisfy "
                             f"the constraint {constraint}, but found invalid values {np.ravel(bad)[:5].tolist()}; "
                             f"pass validate_args=False to skip this check")

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError(f"{type(self).__name__}.log_prob: the value must be a Tensor, got {type(value).__name__}")
        if self._validate_args and self.support is not None:
            shape = self._batch_shape + self._event_shape
            try:
                np.broadcast_shapes(value.shape, shape)
            except ValueError:
                raise ValueError(f"{type(self).__name__}.log_prob: the value's shape {value.shape} does not broadcast "
                                 f"with the distribution's batch_shape + event_shape {shape}") from None
            self._check(self.support, value, "value argument")

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape + event_shape, without a graph."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampler (rsample); use sample(), "
                                  f"which gives no gradient, or a score-function estimator with log_prob")

    def enumerate_support(self, expand=True):
        """Every value of a finite support, along a new first dim: (n,) + batch_shape + event_shape, or with
        size-1 batch dims when expand=False (for exact sums over a discrete variable)."""
        raise NotImplementedError(f"{type(self).__name__} has no finite support to enumerate "
                                  f"(has_enumerate_support is False)")

    def _enumerated(self, values, expand):
        """values (n, *event_shape) laid out over the batch dims, as enumerate_support returns them."""
        event = tuple(values.shape[1:])
        values = values.reshape((values.shape[0],) + (1,) * len(self.batch_shape) + event)
        return values.expand((values.shape[0],) + tuple(self.batch_shape) + event) if expand else values

    def sample_n(self, n):
        return self.sample((n,))

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__}.log_prob is not implemented")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__}.entropy is not implemented")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.cdf is not implemented")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.icdf is not implemented")

    def perplexity(self):
        return self.entropy().exp()

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__}.mean is not implemented")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__}.mode is not implemented")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__}.variance is not implemented")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def expand(self, batch_shape):
        """The same distribution with batch_shape (its parameters broadcast to it): rebuilt from the arguments it
        was made with, each tensor expanded over the new batch dims and base distributions expanded in turn."""
        batch_shape = tuple(batch_shape)
        call = self.__dict__.get("_init_call")
        if call is None:
            raise NotImplementedError(f"{type(self).__name__}.expand: build the distribution with the expanded "
                                      f"parameters instead")
        init, given, named = call
        bound = inspect.signature(init).bind(self, *given, **named)
        bound.apply_defaults()
        args = {k: v for k, v in list(bound.arguments.items())[1:] if k != "validate_args"}
        old = len(self._batch_shape)
        for name, value in args.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name in self.arg_constraints:
                value = as_tensor(value)   # Normal(0.0, 1.0).expand([3]): a number parameter becomes a tensor
            if isinstance(value, Tensor) and value.ndim >= old:
                args[name] = value.expand(*batch_shape, *value.shape[old:])
            elif isinstance(value, Distribution):
                extra = value.batch_shape[old:] if len(value.batch_shape) > old else ()
                args[name] = value.expand(batch_shape + extra)
        args["validate_args"] = False
        return type(self)(**args)

    def __repr__(self):
        params = ", ".join(f"{k}: {self.__dict__[k].shape if self.__dict__[k].ndim else self.__dict__[k].item()}"
                           for k in self.arg_constraints if isinstance(self.__dict__.get(k), Tensor))
        return f"{type(self).__name__}({params})"


class ExponentialFamily(Distribution):
    """torch's base of the exponential families, p(x) = h(x)·exp(⟨θ, T(x)⟩ - A(θ)): Bernoulli, Beta, Dirichlet,
    Gamma, Chi2, ContinuousBernoulli, Exponential, Normal and Poisson derive from it, so isinstance checks agree with
    torch; each computes its entropy and KL divergences in closed form itself."""


class Independent(Distribution):
    """Treat the rightmost `reinterpreted_batch_ndims` batch dims of `base_distribution` as event dims: log_prob
    and entropy sum over them (a diagonal Normal over vectors from a batch of scalar Normals)."""
    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        shape = base_distribution.batch_shape + base_distribution.event_shape
        n = reinterpreted_batch_ndims
        if n > len(base_distribution.batch_shape):
            raise ValueError(f"Independent: reinterpreted_batch_ndims ({n}) must be at most the base's batch dims "
                             f"{base_distribution.batch_shape}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        event_dim = n + len(base_distribution.event_shape)
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:], validate_args)
        self.has_rsample = base_distribution.has_rsample
        self.support = base_distribution.support

    def _sum_rightmost(self, value):
        n = self.reinterpreted_batch_ndims
        return value.sum(dim=tuple(range(-n, 0))) if n else value

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def log_prob(self, value):
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_rightmost(self.base_dist.entropy())

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
