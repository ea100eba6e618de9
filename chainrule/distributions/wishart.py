"""The Wishart distribution over p×p positive-definite matrices, torch's Wishart(df, covariance_matrix |
precision_matrix | scale_tril): the law of Σₖ xₖxₖᵀ for ν = df draws xₖ ~ N(0, Σ), Σ = L Lᵀ. With Γ_p the
multivariate gamma function and ψ_p its log-derivative,

    log p(X) = -ν(p/2·log 2 + Σᵢ log Lᵢᵢ) - log Γ_p(ν/2) + (ν-p-1)/2·log det X - ½ tr(Σ⁻¹X)
    H = (p+1)(p/2·log 2 + Σᵢ log Lᵢᵢ) + log Γ_p(ν/2) - (ν-p-1)/2·ψ_p(ν/2) + νp/2

mean νΣ, mode (ν-p-1)Σ (ν > p+1), variance ν(Σᵢⱼ² + ΣᵢᵢΣⱼⱼ). rsample by Bartlett's decomposition: X = (LA)(LA)ᵀ with
A lower triangular, Aᵢᵢ = √cᵢ, cᵢ ~ χ²(ν - i) (reparameterised, so gradients reach ν too) and standard normal
entries below the diagonal."""
import math
import warnings

import numpy as np

from ..creation import eye, tensor
from ..linalg import cholesky, inv, slogdet
from ..ops.arrange import diag_embed
from ..ops.matfun import cholesky_solve
from ..ops.special import digamma, multigammaln
from ..ops.stacking import broadcast_shapes
from . import constraints
from .continuous import Chi2, draw
from .distribution import ExponentialFamily, as_tensor
from .multivariate_normal import ScaleTrilMatrices

_LOG_2 = math.log(2.0)


class Wishart(ScaleTrilMatrices, ExponentialFamily):
    arg_constraints = {"covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky, "df": constraints.greater_than(0)}
    support, has_rsample = constraints.positive_definite, True

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Wishart: give exactly one of covariance_matrix, precision_matrix or scale_tril, got "
                             f"{len(given)}")
        matrix = as_tensor(given[0])
        if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
            raise ValueError(f"Wishart: the matrix must be (..., p, p), got shape {tuple(matrix.shape)}")
        p = matrix.shape[-1]
        df = as_tensor(df, matrix)
        batch = broadcast_shapes(matrix.shape[:-2], df.shape)
        if bool((df._data <= p - 1).any()):
            raise ValueError(f"Wishart: df must be greater than p - 1 = {p - 1} for {p}×{p} matrices, got "
                             f"{df.tolist()}")
        if bool((df._data < p).any()):
            warnings.warn(f"Wishart: df below p = {p}: singular samples are likely", stacklevel=2)
        self.df = df.expand(*batch)
        name = ("covariance_matrix" if covariance_matrix is not None else
                "precision_matrix" if precision_matrix is not None else "scale_tril")
        self.__dict__[name] = matrix.expand(*batch, p, p)
        super().__init__(batch, (p, p), validate_args)
        self._unbroadcasted_scale_tril = (matrix if scale_tril is not None else
                                          cholesky(matrix) if covariance_matrix is not None else
                                          cholesky(inv(matrix)))
        offsets = as_tensor(np.arange(p, dtype=matrix._data.dtype), matrix)
        self._chi2 = Chi2(self.df.unsqueeze(-1) - offsets, validate_args=False)   # χ²(ν - i) on A's diagonal

    @property
    def precision_matrix(self):
        p = self._event_shape[-1]
        return cholesky_solve(eye(p, dtype=self.df.dtype).expand(*self._batch_shape, p, p), self.scale_tril)

    def _df_matrix(self):
        return self.df.reshape(*self._batch_shape, 1, 1)

    mean = property(lambda self: self._df_matrix() * self.covariance_matrix)

    @property
    def mode(self):
        factor = self._df_matrix() - self._event_shape[-1] - 1
        return (factor * self.covariance_matrix).masked_fill(factor._data <= 0, float("nan"))

    @property
    def variance(self):
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (V ** 2 + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett(self, sample_shape):
        p = self._event_shape[-1]
        root = self._chi2.rsample(sample_shape).sqrt().clamp(min=float(np.finfo(self.df._data.dtype).eps))
        below = draw(self.df, tuple(sample_shape) + tuple(self._batch_shape) + (p, p),
                     lambda g, s: np.tril(g.standard_normal(s), -1))
        chol = self._unbroadcasted_scale_tril @ (diag_embed(root) + below)
        return chol @ chol.mT

    def rsample(self, sample_shape=(), max_try_correction=None):
        """Bartlett draws; a draw that came out numerically singular is drawn again, up to max_try_correction
        (default 10) times, as torch does."""
        sample = self._bartlett(sample_shape)
        for _ in range(10 if max_try_correction is None else max_try_correction):
            singular = ~constraints.positive_definite.check(sample.detach().numpy())
            if not np.any(singular):
                break
            warnings.warn("Wishart: singular sample detected; drawing it again", stacklevel=2)
            sample = sample.where(tensor(~singular[..., None, None]), self._bartlett(sample_shape))
        return sample

    def _log_scale_term(self):
        p = self._event_shape[-1]
        return p * _LOG_2 / 2 + self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        trace = cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(dim1=-2, dim2=-1).sum(-1)
        return -nu * self._log_scale_term() - multigammaln(nu / 2, p) + \
            (nu - p - 1) / 2 * slogdet(value).logabsdet - trace / 2

    def entropy(self):
        nu, p = self.df, self._event_shape[-1]
        mvdigamma = sum(digamma(nu / 2 - i / 2) for i in range(p))
        return (p + 1) * self._log_scale_term() + multigammaln(nu / 2, p) - (nu - p - 1) / 2 * mvdigamma + \
            nu * p / 2
