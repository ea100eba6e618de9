"""torch.distributions.utils' helpers for writing distributions: broadcasting parameters, and converting between
probabilities and logits (log-odds for a binary event, log-probabilities up to a constant otherwise)."""
import numpy as np

from ..ops.elementwise import sigmoid
from ..ops.reduce import softmax
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
