"""All differentiable ops, one family per file; importing this package fills the registry."""
from . import activation, arith, conv, discrete, elementwise, index, linalg, loss, reduce, shape, sorting, trig  # noqa: F401
from .registry import OPS
