"""torch.linalg's names for the norms chainrule has (composed from the registered `norm`, so gradients are its)."""
from .ops.reduce import norm as _norm


def vector_norm(x, ord=2, dim=None, keepdim=False):
    """(Σ|x|^ord)^(1/ord) over dim (all elements when dim is None); ord = inf is max |x|."""
    if dim is None and x.ndim > 1:
        return _norm(x.reshape(-1), ord, None, False).reshape((1,) * x.ndim if keepdim else ())
    return _norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):
    """The Frobenius norm √(ΣA²) over the two dims (other matrix norms need an SVD chainrule does not have)."""
    if ord != "fro":
        raise NotImplementedError(f"linalg.matrix_norm: only ord='fro' is supported, got {ord!r}")
    return _norm(A, "fro", tuple(dim), keepdim)


def norm(A, ord=None, dim=None, keepdim=False):
    """ord=None: the 2-norm of the flattened input (= Frobenius for a matrix); with ord, a vector norm for 1-d
    input (or an int dim) and the Frobenius norm for 2-d input."""
    if ord is None:
        return vector_norm(A, 2, dim, keepdim)
    if isinstance(dim, int) or (dim is None and A.ndim == 1):
        return vector_norm(A, ord, dim, keepdim)
    return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim)
