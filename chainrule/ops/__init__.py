"""All differentiable ops, one family per file; importing this package fills the registry."""
from . import (activation, airy, arith, arrange, bessel, bessel_jyk, bitwise, calculus, conv, ctc,  # noqa: F401
               decomp, discrete, einsum, elementwise, fractional_pool, grid_sample, incomplete_gamma, index, index_write,
               linalg, loss, lu, matfun, order_stats, orthogonal_polynomials, pooling, power, reduce, resample, scan,
               shape, sorting, special, stacking, statistics, tiling, trig, volume, zeta)
from . import inplace  # noqa: F401,E402  (after the ops it makes in-place variants of)
from .registry import OPS
