"""torch.nn.utils.parametrizations: weight_norm, spectral_norm and orthogonal as parametrizations (see
parametrize.py), with torch's state_dict layout (parametrizations.weight.original0/original1, ..._u/_v, base).

    weight_norm:    w = g · v / ‖v‖, ‖v‖ over every dim but `dim` (Salimans & Kingma, 2016)
    spectral_norm:  w = W / σ, σ = uᵀWv from power iteration on W as a matrix, u and v updated without gradient
                    in training mode (Miyato et al., 2018)
    orthogonal:     w = base · Q(X) with Q orthogonal: exp(A) or the Cayley map (I - A/2)⁻¹(I + A/2) of the
                    skew-symmetric A = X - Xᵀ, or a product of Householder reflections
"""
import numpy as np

from ... import creation
from ...autograd.grad_mode import no_grad
from ...linalg import householder_product, matrix_exp, solve
from ...ops.shape import cat
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from . import parametrize
from .reparam import _norm_except


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """module.<name> = g · v / ‖v‖, with g = original0 and v = original1."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(f"spectral_norm: dim {dim} is out of range for a {ndim}-d weight")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got {n_power_iterations}")
        self.dim, self.eps = dim % ndim, eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._as_matrix(weight)
            h, w = mat.shape
            self.register_buffer("_u", F.normalize(creation.randn(h, dtype=weight.dtype), dim=0, eps=eps))
            self.register_buffer("_v", F.normalize(creation.randn(w, dtype=weight.dtype), dim=0, eps=eps))
            self._power_method(mat, 15)

    def _as_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, mat, iterations):
        with no_grad():
            mat = mat.detach()
            for _ in range(iterations):
                self._u = F.normalize(mat @ self._v, dim=0, eps=self.eps)
                self._v = F.normalize(mat.T @ self._u, dim=0, eps=self.eps)

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = self._as_matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        sigma = (self._u.clone() * (mat @ self._v.clone())).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """module.<name> divided by its largest singular value, estimated by power iteration (dim: 1 for the
    transposed convolutions, else 0)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter or buffer {name!r}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, use_trivialization=True):
        super().__init__()
        self.shape, self.orthogonal_map = weight.shape, orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                X = cat([X, creation.zeros(n, n - k, dtype=X.dtype).expand(*X.shape[:-2], -1, -1)], -1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:
                eye = creation.eye(n, dtype=A.dtype)
                Q = solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().to(Q.dtype).unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(f"orthogonal: expected a matrix of shape {self.shape}, got {Q.shape}")
        if "base" not in self._buffers:
            raise NotImplementedError("orthogonal: assigning needs use_trivialization=True")
        with no_grad():
            init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            if n < k:
                Q, n, k = Q.mT, k, n
            q = Q.detach().numpy()
            if n != k:
                extra = np.random.default_rng(0).standard_normal(q.shape[:-2] + (n, n - k)).astype(q.dtype)
                q = np.concatenate([q, extra], -1)
            if n != k or not np.allclose(np.swapaxes(q, -1, -2) @ q, np.eye(n), atol=10 * n * np.finfo(q.dtype).eps):
                qq, r = np.linalg.qr(q)
                q = qq * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
            self.base = creation.tensor(q.astype(init.dtype))
            neg_eye = np.zeros(init.shape, init.dtype)
            idx = np.arange(min(init.shape[-2:]))
            neg_eye[..., idx, idx] = -1
            return creation.tensor(neg_eye)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain module.<name> (a matrix, or a batch of them) to orthogonal (QᵀQ = I when tall, QQᵀ = I when wide).
    orthogonal_map: 'matrix_exp' (default for square), 'cayley' or 'householder' (default otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"orthogonal: {type(module).__name__} has no parameter or buffer {name!r}")
    if weight.ndim < 2:
        raise ValueError(f"orthogonal: expected a matrix or batch of matrices, got a {weight.ndim}-d tensor")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in ("matrix_exp", "cayley", "householder"):
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
                         f'{orthogonal_map}')
    parametrize.register_parametrization(module, name, _Orthogonal(weight, orthogonal_map, use_trivialization),
                                         unsafe=True)
    return module
