"""torch.special's names: the gamma and error-function families, the normal distribution, and the elementwise
helpers that live there, all differentiable (see ops/special.py for the formulas)."""
from .ops.elementwise import erf, exp, sigmoid as expit  # noqa: F401
from .ops.arith import exp2, expm1, xlogy  # noqa: F401
from .ops.discrete import round  # noqa: F401
from .ops.elementwise import log1p  # noqa: F401
from .ops.reduce import log_softmax, logsumexp, softmax  # noqa: F401
from .ops.special import (digamma, entr, erfc, erfinv, lgamma as gammaln, log_ndtr, logit, ndtr, ndtri,  # noqa: F401
                          polygamma, sinc, xlog1py)

psi = digamma


def multigammaln(input, p):
    """ln Γₚ(a) = p(p-1)/4 · ln π + Σⱼ₌₁ᵖ ln Γ(a + (1-j)/2), the multivariate log-gamma function."""
    import math
    if not isinstance(p, int) or p < 1:
        raise ValueError(f"multigammaln: p must be an int ≥ 1, got {p!r}")
    total = gammaln(input)
    for j in range(2, p + 1):
        total = total + gammaln(input + (1 - j) / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)
