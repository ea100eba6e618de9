"""All differentiable ops, one family per file; importing this package fills the registry."""
from . import (activation, arith, arrange, conv, decomp, discrete, elementwise, index, index_write, linalg,  # noqa: F401
               loss, matfun, order_stats, pooling, reduce, scan, shape, sorting, special, stacking, statistics, trig, volume)
from . import inplace  # noqa: F401,E402  (after the ops it makes in-place variants of)
from .registry import OPS
