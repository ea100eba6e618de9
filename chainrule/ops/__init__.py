"""All differentiable ops, one family per file; importing this package fills the registry."""
from . import (activation, arith, arrange, conv, decomp, discrete, elementwise, index, linalg, loss, order_stats,  # noqa: F401
               reduce, scan, shape, sorting, special, stacking, trig, volume)
from . import inplace  # noqa: F401,E402  (after the ops it makes in-place variants of)
from .registry import OPS
