"""LU factorisation with partial pivoting, A = P L U (torch.linalg.lu, lu_factor, lu_factor_ex, lu_solve,
torch.lu_unpack), for any (..., m, n): L (m, k) unit lower triangular, U (k, n) upper triangular, k = min(m, n).

The factorisation is Doolittle's elimination with row pivoting, one column at a time and vectorised over the batch
(LAPACK's getrf, which NumPy does not expose). Its gradient, with Ā = dL/dA, L̄ and Ū the gradients of the factors
(square case; the wide and tall cases carry the extra block of U or L through):

    Ā = P L⁻ᵀ [ tril₋₁(Lᵀ L̄) + triu(Ū Uᵀ) ] U⁻ᵀ

The packed form (L below the diagonal, U on and above it), lu_unpack and lu_solve are compositions of this node
with differentiable tril / triu / solve_triangular, so their gradients follow.
"""
import math
from collections import namedtuple

import numpy as np

from ..errors import LinAlgError, ShapeError
from ..tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE

from ._util import refuse_float16
from .matfun import solve_triangular
from .registry import T, register, sample, tensor_method
from .shape import cat, tril, triu

_wrap = Tensor._wrap
LU_Result = namedtuple("LU_Result", ["P", "L", "U"])
LU_Factor = namedtuple("LU_Factor", ["LU", "pivots"])
LU_FactorEx = namedtuple("LU_FactorEx", ["LU", "pivots", "info"])


def _factor(a):
    """Packed LU of a float array (..., m, n) in place of a copy -> (packed, pivots (..., k) int32 counting from 1,
    as LAPACK's, info (...) int32: 0, or the first j (from 1) with U[j, j] = 0)."""
    *batch, m, n = a.shape
    k = min(m, n)
    lu = np.array(a, dtype=a.dtype, copy=True).reshape(math.prod(batch), m, n)   # not -1: m or n may be 0
    rows = np.arange(lu.shape[0])
    pivots = np.empty((lu.shape[0], k), np.int32)
    info = np.zeros(lu.shape[0], np.int32)
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=-1)   # the largest entry of the column: stable elimination
        pivots[:, j] = p + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        pivot = lu[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        safe = np.where(zero, 1, pivot)
        lu[:, j + 1:, j] /= safe[:, None]                  # the multipliers: column j of L
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return lu.reshape(a.shape), pivots.reshape(*batch, k), info.reshape(batch)


def _permutation(pivots, m, dtype):
    """P with A = P L U from LAPACK's pivots (row j was swapped with row pivots[j] - 1, in order)."""
    *batch, k = pivots.shape
    flat = pivots.reshape(math.prod(batch), k) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for j in range(k):
        p = flat[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    eye = np.eye(m, dtype=dtype)
    return np.swapaxes(eye[perm], -1, -2).reshape(*batch, m, m)   # P = Iᵀ[perm]: P·(A[perm]) = A


def _split(lu):
    m, n = lu.shape[-2:]
    k = min(m, n)
    lower = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    return lower, np.triu(lu[..., :k, :])


class LU(Function):
    """A = P L U;  first derivatives as in the module docstring (for the wide and tall cases torch's formulas)."""

    @staticmethod
    def forward(ctx, A, factored):
        packed, pivots = factored          # the caller's elimination (it also wants the pivots and info)
        lower, upper = _split(packed)
        P = _wrap(_permutation(pivots, packed.shape[-2], packed.dtype))
        ctx.mark_non_differentiable(P)
        ctx.P, ctx.L, ctx.U = P._data, lower, upper
        return P, _wrap(lower), _wrap(upper)

    @staticmethod
    def backward(ctx, gP, gL, gU):
        if STATE.grad_enabled:
            raise NotImplementedError("lu: second derivatives (create_graph=True) are not implemented")
        P, L, U = ctx.P, ctx.L, ctx.U
        gL, gU = gL._data, gU._data
        m, n = L.shape[-2], U.shape[-1]
        k = min(m, n)
        t = lambda x: np.swapaxes(x, -1, -2)  # noqa: E731
        if m == n:
            inner = np.tril(t(L) @ gL, -1) + np.triu(gU @ t(U))
            grad = _left_solve(t(L), _right_solve(inner, t(U), lower=True), upper=True, unit=True)
        elif m < n:
            inner = t(L) @ gL - np.triu(gU) @ t(U)
            grad = _right_solve(np.tril(inner, -1), t(U[..., :k]), lower=True)
            grad = np.concatenate([grad + np.triu(gU[..., :k]), gU[..., k:]], -1)
            grad = _left_solve(t(L), grad, upper=True, unit=True)
        else:
            inner = gU @ t(U) - t(L) @ np.tril(gL, -1)
            grad = _left_solve(t(L[..., :k, :]), np.triu(inner), upper=True, unit=True)
            grad = np.concatenate([grad + np.tril(gL[..., :k, :], -1), gL[..., k:, :]], -2)
            grad = _right_solve(grad, t(U), lower=True)
        return _wrap(P @ grad), None


def _left_solve(T_, B, upper, unit=False):
    """T⁻¹ B for a triangular T (only its triangle read; ones on the diagonal when unit)."""
    if unit:   # the strict triangle, ones on the diagonal
        T_ = (np.triu(T_, 1) if upper else np.tril(T_, -1)) + np.eye(T_.shape[-1], dtype=T_.dtype)
    else:
        T_ = np.triu(T_) if upper else np.tril(T_)
    return np.linalg.solve(T_, B)


def _right_solve(B, T_, lower):
    """B T⁻¹ for a triangular T."""
    T_ = np.tril(T_) if lower else np.triu(T_)
    return np.swapaxes(np.linalg.solve(np.swapaxes(T_, -1, -2), np.swapaxes(B, -1, -2)), -1, -2)


def _check(A, name, pivot):
    if not isinstance(A, Tensor) or A.ndim < 2:
        raise ShapeError(f"{name}: expected a matrix or a batch of matrices (..., m, n), got shape "
                         f"{getattr(A, 'shape', type(A).__name__)}")
    if A.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point matrix, got {A.dtype}; convert it with .double()")
    refuse_float16(name, A._data)   # its solves and gradient need LAPACK, as torch's
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU (as in torch); use "
                           f"pivot=True")


def lu(A, *, pivot=True):
    """torch.linalg.lu: (P, L, U) with A = P L U, partial pivoting."""
    _check(A, "linalg.lu", pivot)
    packed, pivots, _ = _factor(A._data)
    return LU_Result(*LU.apply(A, (packed, pivots)))


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """torch.linalg.lu_factor_ex: (LU, pivots, info), LU packed (L's multipliers below the diagonal, U on and above
    it), pivots counted from 1 (LAPACK's), info = 0 or the first j (from 1) where U[j, j] = 0."""
    _check(A, "linalg.lu_factor_ex", pivot)
    packed_array, pivots, info = _factor(A._data)
    if not (STATE.grad_enabled and A.requires_grad):
        packed = _wrap(packed_array)
    else:   # the packed matrix from the differentiable factors: its gradient is the factors' (torch's formula)
        _, L, U = LU.apply(A, (packed_array, pivots))
        m, n = A.shape[-2:]
        k = min(m, n)
        if m > n:
            packed = cat([tril(L[..., :k, :], -1) + U, L[..., k:, :]], -2)
        elif m == n:
            packed = tril(L, -1) + U
        else:
            zeros = _wrap(np.zeros(L.shape[:-1] + (n - k,), packed_array.dtype))
            packed = cat([tril(L, -1), zeros], -1) + U
    if check_errors:
        _raise_if_singular(info, "linalg.lu_factor_ex")
    return LU_FactorEx(packed, _wrap(pivots), _wrap(info))


def _raise_if_singular(info, name):
    if (info != 0).any():
        j = int(info[info != 0].reshape(-1)[0]) - 1
        raise LinAlgError(f"{name}: U[{j}, {j}] is zero (the matrix is singular), and using it in lu_solve would "
                          f"divide by zero. To factor it anyway call linalg.lu(A) or linalg.lu_factor_ex(A), whose "
                          f"info says where (here {info.tolist()}).")


def lu_factor(A, *, pivot=True):
    """torch.linalg.lu_factor: (LU, pivots); a singular matrix raises LinAlgError (lu_factor_ex returns it)."""
    packed, pivots, info = lu_factor_ex(A, pivot=pivot)
    _raise_if_singular(info._data, "linalg.lu_factor")
    return LU_Factor(packed, pivots)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """torch.lu_unpack: (P, L, U) from lu_factor's packed matrix and pivots (empty tensors for what is not
    unpacked). L and U are read out of LU_data differentiably."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    empty = _wrap(np.zeros((0,), LU_data._data.dtype))
    P = _wrap(_permutation(np.asarray(LU_pivots._data), m, LU_data._data.dtype)) if unpack_pivots else empty
    if not unpack_data:
        return LU_Result(P, empty, empty)
    eye = _wrap(np.eye(m, k, dtype=LU_data._data.dtype))
    return LU_Result(P, tril(LU_data[..., :, :k], -1) + eye, triu(LU_data[..., :k, :]))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """torch.linalg.lu_solve: X with A X = B (left=False: X A = B; adjoint: Aᵀ in place of A) for A = P L U given
    by lu_factor. Composed of triangular solves, so gradients reach LU and B."""
    m, n = LU.shape[-2:]
    if m != n:
        raise ShapeError(f"linalg.lu_solve: LU must be square (..., n, n), got shape {tuple(LU.shape)}")
    rows = B.shape[-2] if left else B.shape[-1]
    if B.ndim < 2 or rows != n:
        raise ShapeError(f"linalg.lu_solve: B of shape {tuple(B.shape)} does not fit the {n}×{n} system "
                         f"({'rows' if left else 'columns'} must be {n})")
    refuse_float16("linalg.lu_solve", LU._data, B._data)
    P, L, U = lu_unpack(LU, pivots)
    if left and not adjoint:      # P L U X = B
        Y = solve_triangular(L, P.mT @ B, upper=False, unitriangular=True)
        return solve_triangular(U, Y, upper=True)
    if left:                      # Uᵀ Lᵀ Pᵀ X = B
        Y = solve_triangular(L.mT, solve_triangular(U.mT, B, upper=False), upper=True, unitriangular=True)
        return P @ Y
    if not adjoint:               # X P L U = B
        Y = solve_triangular(U, B, upper=True, left=False)
        return solve_triangular(L, Y, upper=False, left=False, unitriangular=True) @ P.mT
    Y = solve_triangular(L.mT, B @ P, upper=True, left=False, unitriangular=True)   # X Uᵀ Lᵀ Pᵀ = B
    return solve_triangular(U.mT, Y, upper=False, left=False)


@tensor_method("lu")
def legacy_lu(A, pivot=True, get_infos=False):
    """torch.lu (A.lu()): (LU, pivots[, infos]), the older spelling of linalg.lu_factor_ex."""
    packed, pivots, info = lu_factor_ex(A, pivot=pivot)
    return (packed, pivots, info) if get_infos else (packed, pivots)


@tensor_method("lu_solve")
def legacy_lu_solve(b, LU_data, LU_pivots):
    """torch.lu_solve(b, LU_data, LU_pivots): the older argument order of linalg.lu_solve."""
    return lu_solve(LU_data, LU_pivots, b)


# ---- registry: the packed factor, P L U back together, and solves; the forward against a textbook loop ----------
def _np_lu_packed(a):
    """Doolittle with partial pivoting, one matrix at a time, the textbook way (the registry's reference)."""
    out = np.array(a, dtype=np.float64)
    for idx in np.ndindex(*out.shape[:-2]):
        M = out[idx]
        m, n = M.shape
        for j in range(min(m, n)):
            p = j + int(np.argmax(np.abs(M[j:, j])))
            M[[j, p]] = M[[p, j]]
            if M[j, j] != 0:
                M[j + 1:, j] /= M[j, j]
            M[j + 1:, j + 1:] -= np.outer(M[j + 1:, j], M[j, j + 1:])
    return out


_SHAPES = [sample(T((3, 3))), sample(T((4, 3))), sample(T((3, 5))), sample(T((2, 3, 3)))]
register("lu_factor", ref=_np_lu_packed, gradgrad=False, samples=_SHAPES)(lambda A: lu_factor(A).LU)
register("lu_factors", ref=lambda a: np.concatenate([x.reshape(-1) for x in _split(_np_lu_packed(a))]),
         gradgrad=False, samples=_SHAPES)(lambda A: cat([f.reshape(-1) for f in lu(A)[1:]]))
register("lu_solve", ref=lambda a, b: np.linalg.solve(a, b), gradgrad=False,
         samples=[sample(T((3, 3)), T((3, 2))), sample(T((2, 4, 4)), T((2, 4, 1)))])(
    lambda A, B: lu_solve(*lu_factor(A), B))
