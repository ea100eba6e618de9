"""The multivariate normal, parameterised by its lower Cholesky factor L (Σ = LLᵀ)."""
import math

from ..linalg import cholesky, inv, solve_triangular
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


class MultivariateNormal(Distribution):
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
    def scale_tril(self):
        L = self._unbroadcasted_scale_tril
        return L.expand(*self._batch_shape, *L.shape[-2:])

    @property
    def covariance_matrix(self):
        L = self.scale_tril
        return L @ L.mT

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

