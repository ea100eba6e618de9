"""Randomised low-rank SVD and PCA, torch.svd_lowrank and torch.pca_lowrank (Halko, Martinsson & Tropp, "Finding
structure with randomness", 2009). Composed from randn, matmul, qr and svd, so the gradients come from those ops'
rules; the random projection R is a constant to autograd. Results depend on the random draw: set
`cr.manual_seed` for repeatable ones (torch draws from its own generator, so the two libraries' U and V agree
only up to the approximation, and exactly only where A has rank ≤ q)."""
import numpy as np

from . import creation, random as _random
from .errors import ShapeError
from .ops.decomp import qr, svd
from .ops.registry import T, register, sample


def _check(name, A, q, niter):
    if A.ndim < 2:
        raise ShapeError(f"{name}: expected a matrix or a batch of matrices (*, m, n), got shape {tuple(A.shape)}")
    if not isinstance(q, int) or isinstance(q, bool) or q < 0:
        raise ValueError(f"{name}: q must be a non-negative int (the rank to find, a little above the true one), "
                         f"got {q!r}")
    if not isinstance(niter, int) or isinstance(niter, bool) or niter < 0:
        raise ValueError(f"{name}: niter must be a non-negative int (subspace iterations; 2 is plenty), "
                         f"got {niter!r}")


def get_approximate_basis(A, q, niter=2, M=None):
    """Q with q orthonormal columns such that Q Qᵀ (A - M) ≈ A - M (Algorithm 4.4): Q = orth((A - M) R) for a
    Gaussian R (n, q), then niter power iterations Q ← orth((A - M) orth((A - M)ᵀ Q)), which sharpen the
    subspace when the singular values decay slowly."""
    niter = 2 if niter is None else niter
    R = creation.randn(A.shape[-1], q, dtype=A.dtype if A.dtype.kind == "f" else np.float32)

    def project(Y):      # (A - M) Y, without forming A - M
        return A @ Y if M is None else A @ Y - M @ Y

    def project_t(Y):    # (A - M)ᵀ Y
        return A.mT @ Y if M is None else A.mT @ Y - M.mT @ Y
    Q = qr(project(R)).Q
    for _ in range(niter):
        Q = qr(project_t(Q)).Q
        Q = qr(project(Q)).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A - M ≈ U diag(S) Vᵀ, U (*, m, q), S (*, q), V (*, n, q) (Algorithm 5.1): B = Qᵀ(A - M) is
    small (q, n), and its exact SVD B = Û S Vᵀ gives U = Q Û. A wide A is handled as its transpose."""
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    _check("svd_lowrank", A, q, niter)
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(*A.shape)
    if m < n:
        A = A.mT
        M = M.mT if M is not None else None
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = Q.mT @ A if M is None else Q.mT @ A - Q.mT @ M
    U, S, Vh = svd(B, full_matrices=False)
    V, U = Vh.mT, Q @ U
    return (V, S, U) if m < n else (U, S, V)


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal components of the rows of A (m samples, n features): the low-rank SVD of A - mean over rows
    (center=True). V's columns are the principal directions, S² / (m - 1) the variances along them, and
    A @ V[:, :k] projects onto the first k. q defaults to min(6, m, n) and may not exceed min(m, n)."""
    if A.ndim < 2:
        raise ShapeError(f"pca_lowrank: expected a matrix or a batch of matrices (*, m, n), got shape "
                         f"{tuple(A.shape)}")
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif isinstance(q, int) and not isinstance(q, bool) and not 0 <= q <= min(m, n):
        raise ValueError(f"pca_lowrank: q (= {q}) must be a non-negative int no greater than min(m, n) = "
                         f"{min(m, n)}")
    _check("pca_lowrank", A, q, niter)
    if not center:
        return svd_lowrank(A, q, niter=niter)
    return svd_lowrank(A - A.mean(dim=-2, keepdim=True), q, niter=niter)


EXPORTS = {"svd_lowrank": svd_lowrank, "pca_lowrank": pca_lowrank}


def _singular_values_of_one_draw(decomposition):
    """A's singular values from decomposition(A, q=min(m, n)) with the global generator set to one fixed state for
    the call (and restored after). With q = min(m, n) the basis spans the whole range, so S is A's exact singular
    values; the fixed draw makes every call (the gradient tests make many) give the same bits."""
    def singular_values(A):
        saved = _random.get_rng_state()
        _random.set_rng_state(_ONE_DRAW)
        try:
            return decomposition(A, q=min(A.shape[-2:]))[1]
        finally:
            _random.set_rng_state(saved)
    return singular_values


_ONE_DRAW = _random._encode(np.random.default_rng(0))
_LOWRANK_SAMPLES = [sample(T((5, 3))), sample(T((3, 5))), sample(T((2, 4, 3)))]
register("svd_lowrank", ref=lambda a: np.linalg.svd(a, compute_uv=False), gradgrad=False, samples=_LOWRANK_SAMPLES)(
    _singular_values_of_one_draw(svd_lowrank))
register("pca_lowrank", ref=lambda a: np.linalg.svd(a - a.mean(-2, keepdims=True), compute_uv=False),
         gradgrad=False, samples=_LOWRANK_SAMPLES)(_singular_values_of_one_draw(pca_lowrank))
