"""Matrix functions with their own derivatives (the pseudo-inverse and the matrix exponential) and the solvers and
products torch builds on the decompositions (lstsq, solve_triangular, cholesky_solve, addmv, …), batched over
leading dims:

    Y = A⁺ (m×n → n×m)  dA = -Yᵀ G Yᵀ + (I - A Y) Gᵀ Y Yᵀ + Yᵀ Y Gᵀ (I - Y A)   (Golub & Pereyra; constant rank)
    Y = exp(A)          dA = [exp([[Aᵀ, G], [0, Aᵀ]])]₁₂                        (the Fréchet derivative at Aᵀ)
"""
import collections

import numpy as np

from ..amp import autocast_to_lower_precision, computed_in_float32
from ..errors import ShapeError
from ..tensor import Tensor
from ..autograd.function import Op
from ._util import as_array, checked_decomposition, copied, refuse_float16
from .elementwise import where
from .decomp import cholesky, det, inv, logdet, qr, slogdet, solve, svd as linalg_svd, _square
from .linalg import matmul
from .registry import T, register, sample
from .shape import cat, tril, triu

_wrap = Tensor._wrap
_Lstsq = collections.namedtuple("return_types", ["solution", "residuals", "rank", "singular_values"])
_LegacySvd = collections.namedtuple("return_types", ["U", "S", "V"])
# Padé(13) coefficients and the 1-norm below which it is exact to double precision (Higham 2005, table 2.3)
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _np_expm(a):
    """exp(A) by scaling and squaring with the [13/13] Padé approximant (Higham 2005), in float64."""
    A = np.asarray(a, dtype=np.float64)
    n = A.shape[-1]
    norm = np.abs(A).sum(-2).max(-1) if A.size else np.zeros(A.shape[:-2])
    broken = ~np.isfinite(norm)          # an inf or nan entry: that matrix's exp is all nan, as torch's
    if broken.any():
        A = np.where(broken[..., None, None], 0.0, A)
        norm = np.where(broken, 0.0, norm)
    s = int(max(0, np.ceil(np.log2(max(float(np.max(norm, initial=0.0)), 1e-300) / _THETA13))))
    A = A / 2.0 ** s
    b = _PADE13
    eye = np.broadcast_to(np.eye(n), A.shape)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    R = np.linalg.solve(V - U, V + U)
    for _ in range(s):
        R = R @ R
    return np.where(broken[..., None, None], np.nan, R) if broken.any() else R


class MatrixExp(Op):
    """Y = exp(A) = Σₖ Aᵏ/k!;  dL/dA = the top-right block of exp([[Aᵀ, G], [0, Aᵀ]]) (the adjoint of the Fréchet
    derivative of exp at A is the Fréchet derivative at Aᵀ), computed with this op, so it differentiates again."""

    def forward(self, a):
        return _np_expm(a).astype(a.dtype, copy=False)

    def backward(self, g):
        at = self.inputs[0].mT
        n = at.shape[-1]
        zeros = _wrap(np.zeros(at.shape, at.dtype))
        block = cat([cat([at, g], -1), cat([zeros, at], -1)], -2)
        return MatrixExp.apply(block)[..., :n, n:]


def matrix_exp(A):
    """exp(A) of a square matrix (or a batch of them)."""
    _square(A, "matrix_exp")
    return MatrixExp.apply(A)


def singular_cutoff(s, a, atol, rtol):
    """max(atol, rtol·σ_max) per matrix (kept dims), the line below which a singular value of a counts as zero
    (torch's pinv and matrix_rank): rtol defaults to max(m, n)·eps, or to 0 where only a positive atol is given."""
    top = s.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    per_matrix = lambda tol: as_array(tol).astype(s.dtype)[..., None]   # noqa: E731  (a tensor: one per matrix)
    if rtol is None:
        default = max(a.shape[-2:]) * np.finfo(a.dtype).eps
        rtol = default if atol is None else np.where(per_matrix(atol) > 0, 0.0, default)
    else:
        rtol = per_matrix(rtol)
    return np.maximum(0.0 if atol is None else per_matrix(atol), rtol * top)


def _pinv_array(a, atol, rtol):
    u, s, vh = checked_decomposition("pinv", np.linalg.svd, a, full_matrices=False)
    cutoff = singular_cutoff(s, a, atol, rtol)
    with np.errstate(divide="ignore"):
        s_inv = np.where(s > cutoff, 1 / s, 0.0).astype(a.dtype)
    return np.swapaxes(vh, -1, -2) @ (s_inv[..., :, None] * np.swapaxes(u, -1, -2))


class Pinv(Op):
    """Y = A⁺, the Moore–Penrose pseudo-inverse (A (m, n) → (n, m));
    dL/dA = -Yᵀ G Yᵀ + (I - A Y) Gᵀ Y Yᵀ + Yᵀ Y Gᵀ (I - Y A), exact where the rank does not change."""

    def forward(self, a, atol, rtol):
        self.out = _pinv_array(a, atol, rtol)
        return self.out

    def backward(self, g):
        a, y = self.inputs[0], self.saved_output()
        yt = y.mT
        left = (y.mT @ g @ yt) * -1.0
        out_residual = g.mT - (a @ (y @ g.mT))          # (I - A Y) Gᵀ
        in_residual = g.mT - ((g.mT @ y) @ a)           # Gᵀ (I - Y A)
        return left + out_residual @ (y @ yt) + (yt @ y) @ in_residual


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """A⁺ (torch.linalg.pinv): singular values below max(atol, rtol·σ_max) count as zero; by default
    rtol = max(m, n)·eps. With hermitian, only A's lower triangle is read (as torch's, which then takes an
    eigendecomposition; the SVD of the symmetric matrix gives the same A⁺)."""
    if A.ndim < 2:
        raise ShapeError(f"pinv: expected a matrix (or a batch of them), got shape {A.shape}")
    if hermitian:
        _square(A, "pinv")
        A = tril(A) + tril(A, -1).mT   # so the upper triangle gets no gradient (torch's, through eigh, gives one)
    return Pinv.apply(A, atol=atol, rtol=rtol)


def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with singular values below rcond·σ_max dropped."""
    return pinv(input, rtol=rcond)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X = A⁺B of min ‖AX - B‖ (torch.linalg.lstsq), differentiable through pinv.
    The other outputs follow the driver as torch's (default 'gelsy'): rank for all but 'gels'; singular_values
    for 'gelsd' / 'gelss'; residuals Σ (AX - B)² per column, for all but 'gelsy', when A is tall (m > n) and of
    full rank — else those outputs are empty."""
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise ValueError(f"lstsq: driver must be one of 'gels', 'gelsy', 'gelsd', 'gelss', got {driver!r}")
    driver = driver or "gelsy"
    if A.ndim < 2 or B.ndim < 1 or B.shape[-2 if B.ndim == A.ndim else -1] != A.shape[-2]:
        raise ShapeError(f"lstsq: A has shape {A.shape} and B {B.shape}; B needs A's {A.shape[-2]} rows")
    refuse_float16("lstsq", A._data, B._data)
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    X = pinv(A, rtol=rcond) @ Bm
    s = checked_decomposition("lstsq", np.linalg.svd, A._data, compute_uv=False)
    tol = (rcond if rcond is not None else max(A.shape[-2:]) * np.finfo(A.dtype).eps) * s[..., :1]
    rank = (s > tol).sum(-1).astype(np.int64)
    empty = _wrap(np.zeros(0, A.dtype))
    m, n = A.shape[-2:]
    residuals = empty
    if driver != "gelsy" and m > n and (driver == "gels" or (rank == n).all()):
        residuals = ((A @ X - Bm) ** 2).sum(-2)
    return _Lstsq(X.squeeze(-1) if vector else X, residuals,
                  _wrap(np.zeros(0, np.int64)) if driver == "gels" else _wrap(rank),
                  _wrap(s) if driver in ("gelsd", "gelss") else empty)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with T X = B (or X T = B), T the upper or lower triangle of A (with ones on the diagonal when
    unitriangular); only that triangle receives a gradient, as in torch."""
    _square(A, "solve_triangular")
    refuse_float16("solve_triangular", A._data, B._data)
    if B.ndim < 2:
        raise ShapeError(f"solve_triangular: B must have at least 2 dims (*, n, k), got shape {B.shape}; for a "
                         f"vector b use B = b.unsqueeze(-1)")
    try:
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise ShapeError(f"solve_triangular: the batch dims of A {A.shape} and B {B.shape} do not broadcast") from None
    if B.shape[:-2] != batch:   # B as a batch of matrices, never solve's batch of vectors
        B = B.expand(*batch, *B.shape[-2:])
    Tm = triu(A) if upper else tril(A)
    if unitriangular:   # the diagonal is never read (a where, so that a NaN there does not leak in)
        Tm = where(_wrap(np.eye(A.shape[-1], dtype=bool)), _wrap(np.ones((), A.dtype)), Tm)
    return solve(Tm, B, left=left)


def cholesky_solve(input, input2, upper=False):
    """X with (L Lᵀ) X = B given B = input and the Cholesky factor L = input2 (torch's keywords; or U with UᵀU
    when upper): two triangular solves, L Y = B then Lᵀ X = Y. Only L's lower (or U's upper) triangle is read, as
    LAPACK's potrs and torch."""
    B, L = input, input2
    refuse_float16("cholesky_solve", B._data, L._data)
    if upper:
        return solve_triangular(L, solve_triangular(L.mT, B, upper=False), upper=True)
    return solve_triangular(L.mT, solve_triangular(L, B, upper=False), upper=True)


def svd(input, some=True, compute_uv=True):
    """torch.svd (the legacy form): (U, S, V) with V, not Vᵀ; reduced factors unless some=False."""
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    if not compute_uv:
        return _LegacySvd(_wrap(np.zeros_like(U._data)), S, _wrap(np.zeros_like(Vh._data)))
    return _LegacySvd(U, S, Vh.mT)


def _legacy_qr(input, some=True):
    return qr(input, "reduced" if some else "complete")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """β·input + α·(mat @ vec); with β = 0 the input is ignored (even NaN in it), as torch."""
    return _scaled_sum(input, matmul(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """β·input + α·(vec1 ⊗ vec2)."""
    return _scaled_sum(input, vec1.unsqueeze(1) * vec2.unsqueeze(0), beta, alpha)


@autocast_to_lower_precision   # all three in float16, as torch's
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """β·input + α·Σᵢ batch1[i] @ batch2[i]."""
    return _scaled_sum(input, matmul(batch1, batch2).sum(0), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    product = product * alpha if alpha != 1 else product
    if beta == 0:   # input * 0 would carry its NaN and inf into the result
        shape = np.broadcast_shapes(product.shape, input.shape)
        return product if product.shape == shape else product.expand(*shape)
    return (input * beta if beta != 1 else input) + product


def chain_matmul(*matrices):
    """The product of the matrices, left to right (torch.chain_matmul; linalg.multi_dot picks the order)."""
    from .linalg import multi_dot
    return copied(multi_dot(list(matrices)), matrices[0])   # of one matrix, a copy (torch's result is new)


_SQ = [sample(T((3, 3))), sample(T((2, 2, 2)))]
matrix_exp = register("matrix_exp", method="matrix_exp", ref=_np_expm,
         samples=_SQ + [sample(T((3, 3), -6, 6)), sample(T((2, 2), values=[[0.0, 0.0], [0.0, 0.0]]))])(matrix_exp)
pinv = register("pinv", ref=lambda a, hermitian=False, **k: np.linalg.pinv(
    np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2) if hermitian else a),   # hermitian: the lower triangle only
    samples=[sample(T((4, 3))), sample(T((2, 5))), sample(T((2, 3, 2))), sample(T((2, 3, 3)), hermitian=True)])(pinv)
register("lstsq", ref=lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], samples=[sample(T((5, 3)), T((5, 2)))])(
    lambda A, B: lstsq(A, B).solution)
_TriangularSolve = collections.namedtuple("return_types", ["solution", "cloned_coefficient"])


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve(b, A) (deprecated there for linalg.solve_triangular): X with op(T) X = b, T the upper
    (or lower) triangle of A and op(T) = Tᵀ when transpose; returns (solution, cloned_coefficient = a copy of A).
    As Tᵀ's triangle is the other one, transpose solves with A.mT and the other triangle's flag."""
    solution = solve_triangular(A.mT if transpose else A, input, upper=upper != bool(transpose),
                                unitriangular=unitriangular)
    return _TriangularSolve(solution, A.clone())


def _np_solve_triangular(a, b, upper, unitriangular=False):
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        t = t - np.diag(np.diag(t)) + np.eye(t.shape[-1])
    return np.linalg.solve(t, b)


register("solve_triangular", ref=_np_solve_triangular, samples=[sample(T((3, 3), 1, 2), T((3, 2)), upper=True), sample(T((3, 3), 1, 2), T((3, 2)), upper=False, unitriangular=True)])(
    lambda A, B, upper, unitriangular=False: solve_triangular(A, B, upper=upper, unitriangular=unitriangular))
register("triangular_solve", method="triangular_solve", ref=lambda b, a, upper=True, transpose=False: np.linalg.solve(
    (np.triu(a) if upper else np.tril(a)).swapaxes(-1, -2) if transpose else (np.triu(a) if upper else np.tril(a)), b),
    samples=[sample(T((3, 2)), T((3, 3), 1, 2)), sample(T((2, 3, 2)), T((3, 3), 1, 2), False, True),
             sample(T((3, 1)), T((2, 3, 3), 1, 2), True, True)])(lambda b, A, *a: triangular_solve(b, A, *a).solution)
Tensor.triangular_solve = lambda self, A, upper=True, transpose=False, unitriangular=False: triangular_solve(
    self, A, upper, transpose, unitriangular)
_FACTOR = [[2.0, 0.7, -0.4], [0.5, 1.5, 0.9], [-0.3, 0.2, 1.8]]   # the other triangle must be ignored
register("cholesky_solve", ref=lambda b, f, upper=False: np.linalg.solve(
    np.triu(f).T @ np.triu(f) if upper else np.tril(f) @ np.tril(f).T, b),
         samples=[sample(T((3, 2)), T((3, 3), values=_FACTOR)), sample(T((2, 3, 2)), T((3, 3), values=_FACTOR),
                                                                       upper=True)])(
    lambda B, L, upper=False: cholesky_solve(B, L, upper))
addmv = register("addmv", ref=lambda x, m, v, beta=1, alpha=1: beta * x + alpha * (m @ v),
         samples=[sample(T((3,)), T((3, 4)), T((4,)), beta=0.5, alpha=2.0)])(addmv)
addr = register("addr", ref=lambda x, a, b, beta=1, alpha=1: beta * x + alpha * np.outer(a, b),
         samples=[sample(T((3, 2)), T((3,)), T((2,)), alpha=-1.5)])(addr)
addbmm = register("addbmm", ref=lambda x, a, b, beta=1, alpha=1: beta * x + alpha * (a @ b).sum(0),
         samples=[sample(T((2, 3)), T((4, 2, 5)), T((4, 5, 3)), beta=2.0)])(addbmm)
for _name, _fn in (("pinverse", pinverse), ("svd", svd), ("qr", _legacy_qr), ("inverse", inv), ("det", det), ("logdet", logdet),
                   ("slogdet", slogdet), ("cholesky_solve", cholesky_solve), ("addmv", addmv), ("addr", addr),
                   ("addbmm", addbmm)):
    setattr(Tensor, _name, _fn)
Tensor.cholesky = lambda self, upper=False: cholesky(self, upper=upper)
