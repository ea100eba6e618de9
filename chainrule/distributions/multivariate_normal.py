"""The multivariate normal, parameterised by its lower Cholesky factor L (Σ = LLᵀ), and its low-rank-plus-diagonal
form (Σ = WWᵀ + D)."""
import math

from ..creation import eye
from ..linalg import cholesky, inv, solve_triangular
from ..ops.arrange import diag_embed
from ..ops.stacking import broadcast_shapes
from . import constraints
from .continuous import draw
from .distribution import Distribution, as_tensor


def batch_mahalanobis(L, x):
    """‖L⁻¹x‖² for x (..., k) and a lower-triangular L (..., k, k), by one triangular solve."""
    shape = broadcast_shapes(L.shape[:-2], x.shape[:-1])
    k = x.shape[-1]
    y = solve_triangular(L.expand(*shape, k, k), x.expand(*shape, k).unsqueeze(-1), upper=False)
    return (y.squeeze(-1) ** 2).sum(-1)


class ScaleTrilMatrices:
    """What distributions parameterised by a lower Cholesky factor L of Σ share (MultivariateNormal, Wishart):
    L and Σ = LLᵀ broadcast to the batch shape."""

    @property
    def scale_tril(self):
        L = self._unbroadcasted_scale_tril
        return L.expand(*self._batch_shape, *L.shape[-2:])

    @property
    def covariance_matrix(self):
        L = self.scale_tril
        return L @ L.mT


class MultivariateNormal(ScaleTrilMatrices, Distribution):
    """N(μ, Σ) over vectors of size k, from one of covariance_matrix, precision_matrix or scale_tril L:
    log p(x) = -½(k log 2π + ‖L⁻¹(x-μ)‖²) - Σᵢ log Lᵢᵢ;  H = ½k(1 + log 2π) + Σᵢ log Lᵢᵢ;  rsample: μ + Lε."""
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support, has_rsample = constraints.real_vector, True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("MultivariateNormal: give exactly one of covariance_matrix, precision_matrix or "
                             f"scale_tril, got {len(given)}")
        loc = as_tensor(loc)
        matrix = as_tensor(given[0], loc)
        if loc.ndim < 1 or matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2] or \
                matrix.shape[-1] != loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: loc must be (..., k) and the matrix (..., k, k), got {loc.shape} "
                             f"and {matrix.shape}")
        name = ("covariance_matrix" if covariance_matrix is not None else
                "precision_matrix" if precision_matrix is not None else "scale_tril")
        self.__dict__[name] = matrix
        batch = broadcast_shapes(loc.shape[:-1], matrix.shape[:-2])
        self.loc = loc.expand(*batch, loc.shape[-1])
        super().__init__(batch, loc.shape[-1:], validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = matrix
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = cholesky(inv(matrix))

    @property
    def precision_matrix(self):
        return inv(self.covariance_matrix)

    mean = mode = property(lambda self: self.loc)

    @property
    def variance(self):
        return (self.scale_tril ** 2).sum(-1)

    def rsample(self, sample_shape=()):
        eps = draw(self.loc, self._extended_shape(sample_shape), lambda g, s: g.standard_normal(s))
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        self._validate_sample(value)
        k = self._event_shape[0]
        m = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (k * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*self._batch_shape) if self._batch_shape else h

    def __repr__(self):
        return f"MultivariateNormal(loc: {self.loc.shape}, scale_tril: {self._unbroadcasted_scale_tril.shape})"



class LowRankMultivariateNormal(Distribution):
    """N(μ, WWᵀ + D) with W (k, m) of low rank m and D diagonal: the k×k covariance is never formed. With the m×m
    capacitance C = I + WᵀD⁻¹W:  log|WWᵀ + D| = log|C| + Σ log dᵢ (matrix determinant lemma) and
    xᵀ(WWᵀ + D)⁻¹x = Σ xᵢ²/dᵢ - ‖L_C⁻¹WᵀD⁻¹x‖² (Woodbury);  rsample: μ + Wε₁ + √D ε₂."""
    arg_constraints = {"loc": constraints.real_vector, "cov_factor": constraints.real,
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support, has_rsample = constraints.real_vector, True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        loc, cov_factor, cov_diag = as_tensor(loc), as_tensor(cov_factor, loc), as_tensor(cov_diag, loc)
        if loc.ndim < 1 or cov_factor.ndim < 2 or cov_factor.shape[-2] != loc.shape[-1] or \
                cov_diag.shape[-1:] != loc.shape[-1:]:
            raise ValueError(f"LowRankMultivariateNormal: loc must be (..., k), cov_factor (..., k, m) and cov_diag "
                             f"(..., k), got {loc.shape}, {cov_factor.shape} and {cov_diag.shape}")
        batch = broadcast_shapes(loc.shape[:-1], cov_factor.shape[:-2], cov_diag.shape[:-1])
        k = loc.shape[-1]
        self.loc = loc.expand(*batch, k)
        self.cov_factor = cov_factor.expand(*batch, *cov_factor.shape[-2:])
        self.cov_diag = cov_diag.expand(*batch, k)
        self._W, self._D = cov_factor, cov_diag
        super().__init__(batch, (k,), validate_args)
        Wt_Dinv = cov_factor.mT / cov_diag.unsqueeze(-2)
        m = cov_factor.shape[-1]
        self._capacitance_tril = cholesky(Wt_Dinv @ cov_factor + eye(m, dtype=cov_factor.dtype))

    mean = mode = property(lambda self: self.loc)
    variance = property(lambda self: ((self._W ** 2).sum(-1) + self._D).expand(*self._batch_shape,
                                                                                 *self._event_shape))

    @property
    def covariance_matrix(self):
        cov = self._W @ self._W.mT + diag_embed(self._D)
        return cov.expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps_w = draw(self.loc, shape[:-1] + self.cov_factor.shape[-1:], lambda g, s: g.standard_normal(s))
        eps_d = draw(self.loc, shape, lambda g, s: g.standard_normal(s))
        return self.loc + (self._W @ eps_w.unsqueeze(-1)).squeeze(-1) + self._D.sqrt() * eps_d

    def _log_det(self):
        return 2 * self._capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + self._D.log().sum(-1)

    def log_prob(self, value):
        self._validate_sample(value)
        diff = value - self.loc
        wt_dinv_x = ((self._W.mT / self._D.unsqueeze(-2)) @ diff.unsqueeze(-1)).squeeze(-1)
        m = (diff ** 2 / self._D).sum(-1) - batch_mahalanobis(self._capacitance_tril, wt_dinv_x)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + m)

    def entropy(self):
        h = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return h.expand(*self._batch_shape) if self._batch_shape else h
