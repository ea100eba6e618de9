"""All differentiable ops, one family per file; importing this package fills the registry."""
from . import activation, conv, elementwise, index, linalg, loss, reduce, shape  # noqa: F401
from .registry import OPS
