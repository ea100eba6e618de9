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

from .ops.airy import airy_ai, airy_ai_prime  # noqa: F401,E402
from .ops.bessel_jyk import (bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_k0,  # noqa: F401,E402
                             modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1,
                             spherical_bessel_j0)
from .ops.orthogonal_polynomials import (chebyshev_polynomial_t, chebyshev_polynomial_u,  # noqa: F401,E402
                                         chebyshev_polynomial_v, chebyshev_polynomial_w, hermite_polynomial_h,
                                         hermite_polynomial_he, laguerre_polynomial_l, legendre_polynomial_p,
                                         shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u,
                                         shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w)
from .ops.zeta import zeta  # noqa: F401,E402
