"""torch.distributions' names: parameterised distributions with sample / rsample (the reparameterisation trick),
log_prob, entropy, mean and variance, and kl_divergence in closed form. Parameters and values are checked
(validate_args, on by default as in torch) with errors that name the distribution, the argument and the values."""
from . import constraints  # noqa: F401
from .continuous import (Beta, Cauchy, Chi2, Dirichlet, Exponential, Gamma, Gumbel, HalfCauchy,  # noqa: F401
                         HalfNormal, Laplace, LogNormal, Normal, StudentT, Uniform)
from .continuous_bernoulli import ContinuousBernoulli  # noqa: F401
from .circular import VonMises  # noqa: F401
from .discrete import (Bernoulli, Binomial, Categorical, Geometric, Multinomial, NegativeBinomial,  # noqa: F401
                       OneHotCategorical, OneHotCategoricalStraightThrough, Poisson)
from .fishersnedecor import FisherSnedecor  # noqa: F401
from .generalized_pareto import GeneralizedPareto  # noqa: F401
from .lkj_cholesky import LKJCholesky  # noqa: F401
from .mixture import MixtureSameFamily  # noqa: F401
from .distribution import Distribution, ExponentialFamily, Independent  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
from .multivariate_normal import LowRankMultivariateNormal, MultivariateNormal  # noqa: F401
from .transformed import (ExpRelaxedCategorical, InverseGamma, Kumaraswamy, LogisticNormal,  # noqa: F401
                          LogitRelaxedBernoulli, Pareto, RelaxedBernoulli, RelaxedOneHotCategorical,
                          TransformedDistribution, Weibull)
from .wishart import Wishart  # noqa: F401
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, CorrCholeskyTransform,  # noqa: F401
                         CumulativeDistributionTransform,
                         ExpTransform,
                         IndependentTransform, LowerCholeskyTransform, PositiveDefiniteTransform, PowerTransform,
                         ReshapeTransform, SigmoidTransform, SoftmaxTransform, SoftplusTransform, CatTransform,
                         StackTransform,
                         StickBreakingTransform, TanhTransform, Transform, identity_transform)
from . import transforms  # noqa: F401
from . import utils  # noqa: F401
from .constraint_registry import biject_to, transform_to  # noqa: F401
