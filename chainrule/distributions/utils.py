"""torch.distributions.utils' helpers for writing distributions: broadcasting parameters, converting between
probabilities and logits (log-odds for a binary event, log-probabilities up to a constant otherwise), and
lazy_property, which computes whichever of the two was not given on first use, and packing a triangle of a matrix
into a vector and back."""
import numpy as np

from ..ops.elementwise import sigmoid
from ..ops.reduce import softmax
from ..ops.shape import pad
from .distribution import broadcast_params


def broadcast_all(*values):
    """Numbers and tensors as tensors of one broadcast shape (numbers take the tensors' float dtype)."""
    return tuple(broadcast_params(*values))


def clamp_probs(probs):
    """probs kept inside [eps, 1 - eps] of their dtype, so that their logs and log(1 - p) stay finite."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log p (is_binary: log p - log(1 - p)), of clamped probabilities."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits, is_binary=False):
    """σ(logits) (is_binary) or softmax over the last dim."""
    return sigmoid(logits) if is_binary else softmax(logits, -1)


class lazy_property:
    """A property computed on first use and then kept in the instance's __dict__ (which a plain attribute lookup
    reads first from then on); a constructor may set the value there directly, as torch's distributions do for
    whichever of probs and logits they were given."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def _tril_positions(n, diag):
    rows, cols = np.indices((n, n))
    return np.flatnonzero(cols < rows + (diag + 1))   # row by row, as torch fills them


def vec_to_tril_matrix(vec, diag=0):
    """(..., N) -> (..., n, n): the entries on and below diagonal `diag` filled row by row, zeros elsewhere
    (torch.distributions.utils). Differentiable: an index into the vector with one zero appended."""
    N = vec.shape[-1]
    n = round((-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * N + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2)
    positions = _tril_positions(n, diag)
    if len(positions) != N:
        raise ValueError(f"vec_to_tril_matrix: a vector of {N} entries does not fill the triangle below diagonal "
                         f"{diag} of any square matrix")
    index = np.full(n * n, N)
    index[positions] = np.arange(N)
    padded = pad(vec, (0, 1), value=0.0)
    return padded[..., index].reshape(tuple(vec.shape[:-1]) + (n, n))


def tril_matrix_to_vec(mat, diag=0):
    """(..., n, n) -> (..., N): the entries on and below diagonal `diag`, row by row (torch.distributions.utils)."""
    n = mat.shape[-1]
    return mat.reshape(tuple(mat.shape[:-2]) + (n * n,))[..., _tril_positions(n, diag)]
