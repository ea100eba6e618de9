"""QR in LAPACK's compact Householder form, as torch's geqrf / orgqr / ormqr:

    geqrf(A) -> (a, tau)      R on and above a's diagonal, the Householder vectors vᵢ below it (1 on it, implied)
    orgqr(a, tau) = Q         Q = H₁H₂⋯H_k, Hᵢ = I - τᵢvᵢvᵢᵀ (linalg.householder_product)
    ormqr(a, tau, C) = op(Q)·C or C·op(Q), op = identity or transpose, without the caller forming Q

geqrf is not differentiable (torch's is not either: its derivative is not implemented); orgqr and ormqr are
composed from matmuls and outer products, so they are, in a, tau and C.
"""
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import refuse_float16
from .registry import T, register, sample

_wrap = Tensor._wrap
_Geqrf = namedtuple("geqrf", ["a", "tau"])


class Geqrf(Function):
    """(a, tau) of LAPACK's geqrf. No gradient: backward names the op and the differentiable way round."""

    @staticmethod
    def forward(ctx, A):
        refuse_float16("geqrf", A._data)
        h, tau = np.linalg.qr(A._data, mode="raw")   # NumPy's raw mode gives LAPACK's array transposed
        return _wrap(np.ascontiguousarray(np.swapaxes(h, -1, -2))), _wrap(tau.astype(A._data.dtype, copy=False))

    @staticmethod
    def backward(ctx, ga, gtau):
        raise NotImplementedError("geqrf: not differentiable (torch's derivative for geqrf is not implemented "
                                  "either); use linalg.qr, whose Q and R are, or call geqrf on input.detach()")


def geqrf(input):
    if input.ndim < 2:
        raise ShapeError(f"geqrf: expected a matrix or a batch of matrices (..., m, n), got shape {input.shape}")
    return _Geqrf(*Geqrf.apply(input))


def orgqr(input, tau):
    """Q's first n columns from geqrf's (a, tau) (torch.orgqr = linalg.householder_product)."""
    from ..linalg import householder_product
    return householder_product(input, tau)


def ormqr(input, tau, other, left=True, transpose=False):
    """op(Q)·C (left) or C·op(Q) (right) with Q = H₁⋯H_k the full (mn, mn) orthogonal matrix of geqrf's (a, tau):
    input (..., mn, k), tau (..., min(mn, k)) exactly, other C (..., m, n) with mn = m (left) or n (right).

    As LAPACK's ormqr, Q is never formed: each reflector acts on the rows (left) or columns (right) it touches,
    C[i:] ← C[i:] - τᵢ·vᵢ(vᵢᵀC[i:]), since vᵢ is zero above entry i. Forming Q first multiplies those zeros by
    whatever the other rows hold, so an overflow there (τ and v near 1e18 in float32) turned finite rows into NaN."""
    if input.ndim < 2 or other.ndim < 2:
        raise ShapeError(f"ormqr: input and other must be matrices or batches of them, got {input.shape} and "
                         f"{other.shape}")
    mn, k = input.shape[-2], input.shape[-1]
    side = other.shape[-2] if left else other.shape[-1]
    if side != mn or tau.shape[-1] != min(mn, k):   # (torch asks for exactly min(mn, k) scalars too)
        raise ShapeError(f"ormqr: input {input.shape} holds reflectors of length {mn}, so other {other.shape} needs "
                         f"{mn} {'rows (left=True)' if left else 'columns (left=False)'}, and tau {tau.shape} "
                         f"min(mn, k) = {min(mn, k)} scalars (geqrf's tau has that many)")
    from ..creation import ones
    from .stacking import cat
    one = ones(*input.shape[:-2], 1, 1, dtype=input.dtype)
    # Q·C = H₁(H₂(⋯H_k C)) applies the last reflector first; Qᵀ·C = H_k⋯H₁C the first; C·Q and C·Qᵀ the reverse
    order = range(tau.shape[-1]) if left == transpose else reversed(range(tau.shape[-1]))
    C = other
    for i in order:
        v = cat([one, input[..., i + 1:, i:i + 1]], -2)            # (..., mn - i, 1): vᵢ from entry i on
        tau_i = tau[..., i:i + 1].unsqueeze(-1)                     # (..., 1, 1)
        if left:
            rest = C[..., i:, :]
            C = cat([C[..., :i, :], rest - v @ (tau_i * (v.mT @ rest))], -2)
        else:
            rest = C[..., :, i:]
            C = cat([C[..., :, :i], rest - ((rest @ v) * tau_i) @ v.mT], -1)
    return C


def _ref_ormqr(a, tau, c, left=True, transpose=False):
    """NumPy: Q as the product of the reflectors, one by one, per matrix of the batch."""
    if a.ndim > 2:
        return np.stack([_ref_ormqr(a_, t_, c_, left, transpose) for a_, t_, c_ in zip(a, tau, c)])
    mn = a.shape[-2]
    Q = np.eye(mn)
    for i in range(tau.shape[-1]):
        v = np.zeros(mn)
        v[i] = 1
        v[i + 1:] = a[i + 1:, i]
        Q = Q @ (np.eye(mn) - tau[i] * np.outer(v, v))
    Q = Q.T if transpose else Q
    return Q @ c if left else c @ Q


ormqr = register("ormqr", method="ormqr", ref=_ref_ormqr,
                 samples=[sample(T((4, 3)), T((3,)), T((4, 2))),
                          sample(T((4, 3)), T((3,)), T((2, 4)), left=False, transpose=True),
                          sample(T((3, 3)), T((3,)), T((3, 3)), transpose=True),
                          sample(T((2, 4, 2)), T((2, 2)), T((2, 3, 4)), left=False)])(ormqr)
Tensor.geqrf = geqrf
Tensor.orgqr = orgqr
