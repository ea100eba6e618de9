"""The LKJ distribution over Cholesky factors of correlation matrices (torch's LKJCholesky); the corr_cholesky
constraint is in constraints.py and CorrCholeskyTransform, which maps unconstrained vectors onto them, in
transforms.py.

A correlation matrix M = L Lᵀ has unit diagonal, so each row of its lower-triangular factor L has unit norm and a
positive last entry. CorrCholeskyTransform maps x ∈ ℝ^(D(D-1)/2) there by a signed stick-breaking per row: the row's
entries r = tanh(x) (filled row by row below the diagonal) are shrunk by the stick left over,
yᵢⱼ = rᵢⱼ·√Π_{k<j}(1 - rᵢₖ²), and the diagonal takes the rest, yᵢᵢ = √Π_{k<i}(1 - rᵢₖ²);
log|det J| = ½ Σ log(1 - Σ_{k<j} yᵢₖ²) over the sub-diagonal entries + Σ log(1 - tanh² x).

LKJCholesky(D, η): p(M) ∝ det(M)^(η-1); for its factor, with the Jacobian of L ↦ L Lᵀ,
log p(L) = Σ_{i≥2} (2(η-1) + D - i)·log Lᵢᵢ - log Z(η), sampled by the onion method (Lewandowski, Kurowicka & Joe,
2009): row i is √yᵢ·u with yᵢ ~ Beta(i/2, η + (D-2)/2 - (i-1)/2) and u uniform on the sphere.
"""
import math

import numpy as np

from ..ops.special import lgamma, multigammaln
from .. import creation
from ..random import _gen
from . import constraints
from .continuous import Beta
from .distribution import Distribution, broadcast_params


class LKJCholesky(Distribution):
    """LKJ(η) over the Cholesky factors of D×D correlation matrices (module docstring)."""
    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if not isinstance(dim, int) or dim < 2:
            raise ValueError(f"LKJCholesky: dim must be an int ≥ 2, got {dim!r}")
        self.dim = dim
        (self.concentration,) = broadcast_params(concentration)
        # row k (k ≥ 1) of the onion: its squared sub-diagonal norm y ~ Beta(k/2, η + (D-2)/2 - (k-1)/2); row 0 has
        # no sub-diagonal entries and its draw is unused. (torch's sampler uses k - ½ in place of k/2 from row 2 on,
        # which breaks the LKJ law's symmetry between rows: its correlations with row 2 come out too spread.)
        dt = self.concentration._data.dtype
        k = np.arange(dim, dtype=dt)
        first = np.maximum(k / 2, 0.5)
        decrease = np.concatenate([[0.0], 0.5 * np.arange(dim - 1)]).astype(dt)
        marginal = self.concentration + 0.5 * (dim - 2)
        self._beta = Beta(creation.tensor(first), marginal.unsqueeze(-1) - creation.tensor(decrease))
        super().__init__(self.concentration.shape, (dim, dim), validate_args)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        y = self._beta.sample(sample_shape).unsqueeze(-1)     # squared norm of each row's sub-diagonal part
        normal = np.tril(_gen(None).standard_normal(shape), -1)
        norms = np.linalg.norm(normal, axis=-1, keepdims=True)
        sphere = np.divide(normal, norms, out=np.zeros_like(normal), where=norms > 0)   # row 0 has nothing
        w = np.sqrt(y.numpy()) * sphere
        diagonal = np.sqrt(np.clip(1 - (w ** 2).sum(-1), np.finfo(w.dtype).tiny, None))
        w = w + diagonal[..., None] * np.eye(self.dim)
        return creation.tensor(w.astype(self.concentration._data.dtype))

    def log_prob(self, value):
        self._validate_sample(value)
        diag = value.diagonal(dim1=-2, dim2=-1)[..., 1:]
        order = creation.tensor(np.arange(2, self.dim + 1, dtype=value._data.dtype))
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalised = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normaliser = 0.5 * dm1 * math.log(math.pi) + multigammaln(alpha - 0.5, dm1) - lgamma(alpha) * dm1
        return unnormalised - normaliser

