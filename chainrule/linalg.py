"""torch.linalg's names: norms (composed from the registered ops, so gradients are theirs), and the
decompositions and solvers of chainrule/ops/decomp.py."""
import numpy as _np

from .ops.decomp import (cholesky, det, eigh, eigvalsh, inv, matrix_power, qr, slogdet, solve, svd,  # noqa: F401
                         svdvals)
from .ops.linalg import cross, matmul, multi_dot, tensordot  # noqa: F401
from .ops.lu import lu, lu_factor, lu_factor_ex, lu_solve  # noqa: F401
from .ops.matfun import lstsq, matrix_exp, pinv, solve_triangular  # noqa: F401
from .ops.matfun import singular_cutoff as _singular_cutoff
from .ops.arrange import diagonal as _diagonal
from .ops.reduce import norm as _norm
from .errors import ShapeError
from .tensor import Tensor as _Tensor
from .ops._util import checked_decomposition as _checked_decomposition


def _computed_in(x, dtype, name):
    """x cast to the norms' dtype= (torch's: a widening only, so that no precision is lost before the norm)."""
    if dtype is None or x.dtype == dtype:
        return x
    from .dtypes import canonical, promote
    dtype = canonical(dtype, name)
    if promote(x.dtype, dtype) != dtype:
        raise TypeError(f"{name}: dtype={dtype} would narrow the input's {x.dtype}; pass a dtype at least as wide, "
                        f"or cast the input first")
    return x.to(dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(Σ|x|^ord)^(1/ord) over dim (all elements when dim is None); ord = inf is max |x|. dtype= computes in that
    (wider) dtype."""
    x = _computed_in(x, dtype, "linalg.vector_norm")
    if dim is None and x.ndim > 1:
        return _norm(x.reshape(-1), ord, None, False).reshape((1,) * x.ndim if keepdim else ())
    return _norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norms over the two dims: 'fro' √(ΣA²), 'nuc' Σσ, 2 / -2 the largest / smallest singular value,
    1 / -1 the largest / smallest column sum of |A|, inf / -inf the largest / smallest row sum."""
    A = _computed_in(A, dtype, "linalg.matrix_norm")
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        return _norm(A, "fro", (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        return out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1)) if keepdim else out
    if ord in (1, -1, float("inf"), -float("inf")):
        along, across = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(along, keepdim=True)
        out = (sums.amax if ord > 0 else sums.amin)(across, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {ord!r}")


def vecdot(x, y, dim=-1):
    """Σ x⊙y along dim."""
    return (x * y).sum(dim)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values above max(atol, rtol·σ_max) (rtol defaults to max(m, n)·eps, or to 0 where
    only atol is given; torch's older tol is atol with rtol 0); with hermitian, |eigenvalues| stand in for the
    singular values. An integer tensor, outside the graph."""
    if tol is not None:
        atol, rtol = tol, 0.0
    if hermitian:
        s = _np.abs(_checked_decomposition("matrix_rank", _np.linalg.eigvalsh, A._data))
    else:
        s = _checked_decomposition("matrix_rank", _np.linalg.svd, A._data, compute_uv=False)
    return _Tensor._wrap(_np.asarray((s > _singular_cutoff(s, A._data, atol, rtol)).sum(-1), _np.int64))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """ord=None: the 2-norm of the flattened input (= Frobenius for a matrix); with ord, a vector norm for 1-d
    input (or an int dim) and the Frobenius norm for 2-d input."""
    A = _computed_in(A, dtype, "linalg.norm")
    if ord is None:
        return vector_norm(A, 2, dim, keepdim)
    if isinstance(dim, int) or (dim is None and A.ndim == 1):
        return vector_norm(A, ord, dim, keepdim)
    return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: the diagonal of each matrix in a batch (dims -2, -1 by default)."""
    return _diagonal(A, offset, dim1, dim2)


def vander(x, *, N=None):
    """torch.linalg.vander: (*, n) -> (*, n, N), columns 1, x, x², …, x^(N-1) (increasing powers, unlike
    torch.vander); N defaults to n and must be at least 2."""
    from .ops.stacking import powers
    if x.ndim < 1:
        raise ShapeError(f"linalg.vander: x must have at least 1 dim (*, n), got shape {x.shape}")
    N = x.shape[-1] if N is None else N
    if N < 2:
        raise ValueError(f"linalg.vander: N must be greater than 1, got N={N}")
    return powers(x, N)


def householder_product(A, tau):
    """The first n columns of Q = H₁H₂⋯H_k for A (..., m, n): Hᵢ = I - τᵢvᵢvᵢᵀ with vᵢ the i-th column of A below
    the diagonal and 1 on it (LAPACK's orgqr). Composed from matmuls and outer products, so it differentiates in
    A and τ."""
    from .creation import eye
    m, n = A.shape[-2], A.shape[-1]
    if tau.shape[-1] > n or n > m:
        raise ValueError(f"householder_product: A must be (..., m, n) with m ≥ n and tau (..., k ≤ n), got "
                         f"{A.shape} and {tau.shape}")
    V = A.tril(-1) + eye(m, n, dtype=A.dtype)
    Q = eye(m, dtype=A.dtype).expand(*A.shape[:-2], m, m)
    if tau.shape[-1] == 0 and (A.requires_grad or tau.requires_grad):   # no reflection: I, still in the graph
        from .ops._util import linked_zero
        Q = Q + linked_zero(A, tau)
    for i in range(tau.shape[-1]):
        v = V[..., :, i]
        Q = Q - tau[..., i, None, None] * (Q @ v.unsqueeze(-1)) * v.unsqueeze(-2)
    return Q[..., :, :n]


from .errors import LinAlgError  # noqa: E402,F401  (torch.linalg.LinAlgError)
_namedtuple = __import__("collections").namedtuple
_CholeskyEx = _namedtuple("return_types", ["L", "info"])
_InvEx = _namedtuple("return_types", ["inverse", "info"])
_SolveEx = _namedtuple("return_types", ["result", "info"])


def _lu_info(a):
    """Per matrix: 0, or the first j (from 1) where elimination with partial pivoting meets a zero pivot (getrf)."""
    from .ops.lu import _factor
    return _factor(a)[2]


def _cholesky_info(a):
    """Per matrix: 0, or the order k of the first leading minor that is not positive definite (potrf). The leading
    minors are PD up to some order and not after it, so a bisection finds k in log n factorisations."""
    *batch, n, _ = a.shape
    flat = a.reshape(-1, n, n)
    info = _np.zeros(flat.shape[0], _np.int32)
    for i, m in enumerate(flat):
        lo, hi = 0, n                         # the minor of order lo is PD (order 0 trivially); find the first not
        while lo < hi:
            mid = (lo + hi + 1) // 2
            try:
                _np.linalg.cholesky(m[:mid, :mid])
                lo = mid
            except _np.linalg.LinAlgError:
                hi = mid - 1
        info[i] = 0 if lo == n else lo + 1
    return info.reshape(batch)


def _ex(fn, A, info_of, check_errors):
    """torch's *_ex variants: (fn(A), info), info (one int32 per matrix of the batch) 0 where fn succeeded. A failure
    raises only with check_errors; otherwise the failed matrices' results are NaN and the others' are fn's
    (with their gradients), as if each matrix were factorised alone."""
    from .creation import eye, tensor
    from .ops.elementwise import where
    try:
        return fn(A), tensor(_np.zeros(A.shape[:-2], _np.int32))
    except LinAlgError:
        if check_errors:
            raise
    info = info_of(A._data)
    failed = info != 0
    if not failed.any():   # fn's own test caught what the factorisation did not: mark the whole batch
        info, failed = _np.ones_like(info), _np.ones_like(failed)
    bad = tensor(failed.reshape(*failed.shape, 1, 1))
    result = fn(where(bad, eye(A.shape[-1], dtype=A.dtype), A))   # the failed matrices swapped for I, then NaN
    bad = bad.reshape(*failed.shape, *(1,) * (result.ndim - failed.ndim))
    return where(bad, float("nan"), result), tensor(info)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """cholesky with info: 0, or the order of the first leading minor that is not positive definite."""
    return _CholeskyEx(*_ex(lambda M: cholesky(M, upper=upper), A, _cholesky_info, check_errors))


def inv_ex(A, *, check_errors=False):
    """inv with info: 0, or the first j (from 1) where A's LU factor U has U[j, j] = 0 (A is singular)."""
    return _InvEx(*_ex(inv, A, _lu_info, check_errors))


def solve_ex(A, B, *, left=True, check_errors=False):
    """solve with info as inv_ex's."""
    return _SolveEx(*_ex(lambda M: solve(M, B, left=left), A, _lu_info, check_errors))


def cond(A, p=None):
    """The condition number ‖A‖‖A⁻¹‖: σ_max/σ_min for p = None or 2 (by the singular values), else with the
    matrix norm of order p."""
    if p in (None, 2, -2):
        s = svdvals(A)
        return s.amax(-1) / s.amin(-1) if p != -2 else s.amin(-1) / s.amax(-1)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def tensorinv(A, ind=2):
    """The inverse of A viewed as a matrix (the first `ind` dims against the rest): tensordot(tensorinv(A), A,
    ind) is the identity."""
    rows, cols = A.shape[:ind], A.shape[ind:]
    n = int(_np.prod(rows))
    if n != int(_np.prod(cols)):
        raise ValueError(f"tensorinv: the first {ind} dims {rows} and the rest {cols} must have equal products")
    return inv(A.reshape(n, n)).reshape(*cols, *rows)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B."""
    if dims is not None:
        rest = [d for d in range(A.ndim) if d not in [d % A.ndim for d in dims]]
        A = A.permute(*rest, *[d % A.ndim for d in dims])
    out_shape = A.shape[B.ndim:]
    n = int(_np.prod(B.shape))
    return solve(A.reshape(n, -1), B.reshape(n)).reshape(*out_shape)
