"""torch.distributions' names: parameterised distributions with sample / rsample (the reparameterisation trick),
log_prob, entropy, mean and variance, and kl_divergence in closed form. Parameters and values are checked
(validate_args, on by default as in torch) with errors that name the distribution, the argument and the values."""
from . import constraints  # noqa: F401
from .continuous import Beta, Exponential, Gamma, Laplace, LogNormal, Normal, Uniform  # noqa: F401
from .discrete import Bernoulli, Categorical, Dirichlet, OneHotCategorical, Poisson  # noqa: F401
from .distribution import Distribution, Independent  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
from .multivariate_normal import MultivariateNormal  # noqa: F401
