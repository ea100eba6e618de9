"""All differentiable ops, one family per file; importing this package fills the registry."""
from . import activation, conv, discrete, elementwise, index, linalg, loss, reduce, shape, sorting  # noqa: F401
from .registry import OPS
