"""torch.special's names: the gamma and error-function families, the normal distribution, and the elementwise
helpers that live there, all differentiable (see ops/special.py for the formulas)."""
from .ops.elementwise import erf, exp, sigmoid as expit  # noqa: F401
from .ops.arith import exp2, expm1, xlogy  # noqa: F401
from .ops.discrete import round  # noqa: F401
from .ops.elementwise import log1p  # noqa: F401
from .ops.reduce import log_softmax, logsumexp, softmax  # noqa: F401
from .ops.special import (digamma, entr, erfc, erfinv, lgamma as gammaln, log_ndtr, logit, multigammaln,  # noqa: F401
                          ndtr, ndtri, polygamma, sinc, xlog1py)

from .ops.bessel import i0, i0e, i1, i1e  # noqa: F401,E402
from .ops.incomplete_gamma import erfcx, gammainc, gammaincc  # noqa: F401,E402

psi = digamma
modified_bessel_i0, modified_bessel_i1 = i0, i1   # torch.special's long names
