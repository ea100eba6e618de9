"""All differentiable ops, one family per file; importing this package fills the registry."""
from . import (activation, arith, arrange, bessel, bitwise, calculus, conv, ctc, decomp,  # noqa: F401
               discrete, elementwise, fractional_pool, grid_sample, incomplete_gamma, index, index_write, linalg,
               loss, lu, matfun, order_stats, pooling, reduce, resample, scan, shape, sorting, special, stacking,
               statistics, trig, volume)
from . import inplace  # noqa: F401,E402  (after the ops it makes in-place variants of)
from .registry import OPS
