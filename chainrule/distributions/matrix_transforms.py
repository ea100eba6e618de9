"""Transforms onto matrices (torch.distributions.transforms): lower-triangular factors with a positive diagonal,
positive-definite matrices, and Cholesky factors of correlation matrices (the LKJ distribution's support)."""
import math

import numpy as np

from ..creation import eye
from ..nn.functional import softplus
from ..ops.decomp import cholesky
from ..ops.shape import pad
from . import constraints
from .transforms import Transform
from .utils import tril_matrix_to_vec, vec_to_tril_matrix


class LowerCholeskyTransform(Transform):
    """An unconstrained square matrix onto a lower-triangular one with a positive diagonal: the strict lower
    triangle kept, the diagonal exponentiated (not bijective onto all matrices: the upper triangle is dropped)."""
    domain, codomain, bijective, event_dim = constraints.independent(constraints.real, 2), \
        constraints.lower_cholesky, False, 2

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(Transform):
    """An unconstrained square matrix onto a positive-definite one: L Lᵀ with L = LowerCholeskyTransform(x)."""
    domain, codomain, bijective, event_dim = constraints.independent(constraints.real, 2), \
        constraints.positive_definite, False, 2

    def _call(self, x):
        L = LowerCholeskyTransform()(x)
        return L @ L.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(cholesky(y))


class CorrCholeskyTransform(Transform):
    """Unconstrained (..., D(D-1)/2) vectors onto Cholesky factors of D×D correlation matrices, by a signed
    stick-breaking per row: r = tanh(x) filled row by row below the diagonal, yᵢⱼ = rᵢⱼ·√Π_{k<j}(1 - rᵢₖ²),
    yᵢᵢ = √Π_{k<i}(1 - rᵢₖ²) (each row has unit norm); log|det J| = ½ Σ log(1 - Σ_{k<j} yᵢₖ²) + Σ log(1 - tanh² x)."""
    domain, codomain, event_dim = constraints.real_vector, constraints.corr_cholesky, 1

    def _call(self, x):
        eps = float(np.finfo(x.dtype).eps)
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        left = (1 - r * r).sqrt().cumprod(-1)                  # √Π(1 - r²) along the row: the stick left
        identity = eye(r.shape[-1], dtype=r.dtype)
        return (r + identity) * pad(left[..., :-1], (1, 0), value=1.0)

    def _inverse(self, y):
        left = 1 - (y * y).cumsum(-1)
        shifted = pad(left[..., :-1], (1, 0), value=1.0)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(shifted, diag=-1).sqrt()
        return ((t).log1p() - (-t).log1p()) / 2               # atanh

    def log_abs_det_jacobian(self, x, y):
        left = tril_matrix_to_vec(1 - (y * y).cumsum(-1), diag=-2)
        tanh_part = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)   # Σ log(1 - tanh² x), stably
        return 0.5 * left.log().sum(-1) + tanh_part

    def forward_shape(self, shape):
        N = shape[-1]
        D = round((0.25 + 2 * N) ** 0.5 + 0.5)
        if D * (D - 1) // 2 != N:
            raise ValueError(f"CorrCholeskyTransform: {N} is not D(D-1)/2 for any D (the entries below a diagonal)")
        return tuple(shape[:-1]) + (D, D)

    def inverse_shape(self, shape):
        if shape[-2] != shape[-1]:
            raise ValueError(f"CorrCholeskyTransform: expected square matrices, got shape {tuple(shape)}")
        D = shape[-1]
        return tuple(shape[:-2]) + (D * (D - 1) // 2,)
