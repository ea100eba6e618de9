"""Linear algebra with derivatives (torch.linalg's names), batched over leading dims. Each backward is the
standard matrix-calculus result (Giles 2008, "Extended collection of matrix derivative results"), written with
Tensor ops so that it differentiates again:

    Y = A⁻¹             dA = -Yᵀ G Yᵀ
    d = det A           dA = g d A⁻ᵀ                     (the cofactor matrix; via the SVD when A is singular)
    ℓ = ln|det A|       dA = g A⁻ᵀ
    X = A⁻¹ B           dB = A⁻ᵀ G,  dA = -dB Xᵀ
    A = L Lᵀ            dA = ½ (S + Sᵀ),  S = L⁻ᵀ Φ(Lᵀ G) L⁻¹,  Φ = lower triangle with the diagonal halved
    A = V diag(w) Vᵀ    dA = V (diag(g_w) + ½(Vᵀ G_V - G_Vᵀ V) / (wⱼ - wᵢ)) Vᵀ
    s = σ(A)            dA = U diag(g) Vᵀ

cholesky and eigh read A's lower triangle, as LAPACK does, and return the symmetric gradient (as PyTorch).
"""
import collections

import numpy as np

from ..errors import LinAlgError, ShapeError
from ..tensor import Tensor
from ..autograd.function import Function, Op
from ..autograd.grad_mode import STATE
from ._util import checked_decomposition, copied, linked_zero, refuse_float16, require_finite
from .arrange import diag_embed, diagonal
from .registry import T, register, sample, tensor_method
from .shape import cat, tril

_wrap = Tensor._wrap
_Slogdet = collections.namedtuple("return_types", ["sign", "logabsdet"])
_QR = collections.namedtuple("return_types", ["Q", "R"])
_Eigh = collections.namedtuple("return_types", ["eigenvalues", "eigenvectors"])
_Svd = collections.namedtuple("return_types", ["U", "S", "Vh"])


def _square(A, op):
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: expected a square matrix (or a batch of them), got shape {A.shape}")


def _lapack(fn, op, *arrays):
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError as exc:
        raise LinAlgError(f"{op}: {exc} (shapes {[a.shape for a in arrays]}); the matrix is singular or not "
                          f"positive definite. Check the input, or add a small multiple of the identity.") from None


def _through_lu(fn, a):
    """np.linalg.det or slogdet of a, with NaN for each matrix that holds a NaN, as torch: LAPACK's LU may pivot the
    NaN away and report 0 (a singular matrix), with NumPy's 'invalid value' note."""
    with np.errstate(invalid="ignore"):
        out = fn(a)
    nan = np.isnan(a).any(axis=(-2, -1))
    if not nan.any():
        return out

    def masked(r):
        return np.where(nan, np.nan, r).astype(r.dtype, copy=False)
    return tuple(masked(r) for r in out) if isinstance(out, tuple) else masked(out)


class Inv(Op):
    """Y = A⁻¹;  dL/dA = -Yᵀ G Yᵀ."""
    saves_inputs = False

    def forward(self, a):
        self.out = _lapack(np.linalg.inv, "inv", a)
        return self.out

    def backward(self, g):
        y = self.saved_output()
        return -(y.mT @ g @ y.mT)


class Det(Op):
    """d = det A;  dL/dA = g · cofactor(A) = g d A⁻ᵀ. The cofactors come from the SVD A = U diag(s) Vᵀ as
    det(U) det(Vᵀ) U diag(Π_{j≠i} sⱼ) Vᵀ, which holds for singular A too (where A⁻ᵀ does not exist)."""

    def forward(self, a):
        self.out = _through_lu(np.linalg.det, a)
        return self.out

    def backward(self, g):
        a, = self.inputs
        if a.shape[-1] == 0:   # det of a 0×0 matrix is 1 whatever it holds: there is nothing to differentiate
            return _wrap(np.zeros(a.shape, a.dtype))
        if STATE.grad_enabled:   # create_graph: d A⁻ᵀ with differentiable ops (A must be invertible)
            return (g * self.saved_output())[..., None, None] * inv(a).mT
        u, s, vh = checked_decomposition("det", np.linalg.svd, a._data)
        n = s.shape[-1]
        others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], -1)
        sign = np.linalg.det(u) * np.linalg.det(vh)
        cof = sign[..., None, None] * (u * others[..., None, :]) @ vh
        return _wrap(g._data[..., None, None] * cof)


class LogAbsDet(Op):
    """ℓ = ln|det A| (the slogdet's logabsdet);  dL/dA = g A⁻ᵀ. slogdet factors A once and hands ℓ in."""

    def forward(self, a, logabs):
        return logabs

    def backward(self, g):
        return g[..., None, None] * inv(self.inputs[0]).mT


class Solve(Op):
    """X = A⁻¹ B (B a matrix, or a vector when it has one dim fewer than A);  dB = A⁻ᵀ G, dA = -dB Xᵀ."""

    def forward(self, a, b):
        self.vector = b.ndim == a.ndim - 1
        rhs = b[..., None] if self.vector else b
        x = _lapack(np.linalg.solve, "solve", a, rhs)
        self.out = x[..., 0] if self.vector else x
        return self.out

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        gb = solve(a.mT, g)
        x = self.saved_output()
        if self.vector:
            ga = -(gb.unsqueeze(-1) * x.unsqueeze(-2)) if na else None
        else:
            ga = -(gb @ x.mT) if na else None
        return ga, (gb if nb else None)


class Cholesky(Op):
    """A = L Lᵀ (L lower);  dA = ½(S + Sᵀ), S = L⁻ᵀ Φ(Lᵀ G) L⁻¹ (Φ: lower triangle, diagonal halved)."""
    saves_inputs = False

    def forward(self, a):
        require_finite("cholesky", np.tril(a), "cholesky")   # only the lower triangle is read (LAPACK, torch)
        self.out = _lapack(np.linalg.cholesky, "cholesky", a)
        return self.out

    def backward(self, g):
        L = self.saved_output()
        phi = tril(L.mT @ g)
        phi = phi - 0.5 * diag_embed(diagonal(phi, 0, -2, -1))
        L_inv = inv(L)
        s = L_inv.mT @ phi @ L_inv
        return 0.5 * (s + s.mT)


class Eigh(Function):
    """A = V diag(w) Vᵀ for symmetric A (w ascending);
    dA = V (diag(g_w) + ½(Vᵀ G_V - G_Vᵀ V) ⊘ E) Vᵀ with E_ij = w_j - w_i (distinct eigenvalues; first
    derivatives only)."""

    @staticmethod
    def forward(ctx, a):
        w, v = checked_decomposition("eigh", np.linalg.eigh, a._data)
        ctx.w, ctx.v = w, v
        return _wrap(w), _wrap(v)

    @staticmethod
    def backward(ctx, gw, gv):
        if STATE.grad_enabled:
            raise NotImplementedError("eigh: second derivatives (create_graph=True) are not implemented")
        w, v = ctx.w, ctx.v
        vtg = np.swapaxes(v, -1, -2) @ gv._data
        gap = w[..., None, :] - w[..., :, None] + np.eye(w.shape[-1], dtype=w.dtype)   # skew part's diagonal is 0
        inner = 0.5 * (vtg - np.swapaxes(vtg, -1, -2)) / gap
        inner[..., np.arange(w.shape[-1]), np.arange(w.shape[-1])] += gw._data
        return _wrap(v @ inner @ np.swapaxes(v, -1, -2))


class QR(Function):
    """A = QR (reduced: Q (m, k) orthonormal columns, R (k, n) upper triangular, k = min(m, n)).
    Tall or square (m ≥ n): dA = (G_Q + Q·copyltu(M)) R⁻ᵀ with M = R G_Rᵀ - G_Qᵀ Q and copyltu(M) = the symmetric
    matrix with M's lower triangle (Walter & Lehmann, 2018).
    Wide (m < n): A = [X | Y] and R = [U | V] with X = QU square and Y = QV, so dY = Q G_V, and dX is the square
    rule with G_Q + Y G_Vᵀ (Q also reaches the loss through V = QᵀY). First derivatives, full rank."""

    @staticmethod
    def forward(ctx, a, mode):
        refuse_float16("qr", a._data)
        q, r = np.linalg.qr(a._data, mode="reduced" if mode == "r" else mode)
        ctx.q, ctx.r = q, r
        if mode == "r":
            return _wrap(np.zeros((0,), a._data.dtype)), _wrap(r)
        return _wrap(q), _wrap(r)

    @staticmethod
    def backward(ctx, gq, gr):
        if STATE.grad_enabled:
            raise NotImplementedError("qr: second derivatives (create_graph=True) are not implemented")
        q, r = ctx.q, ctx.r
        m, n = q.shape[-2], r.shape[-1]
        if q.shape[-1] != min(m, n):
            raise NotImplementedError(f"qr: the gradient of mode='complete' needs m ≤ n (Q is then the reduced Q); "
                                      f"got Q {q.shape} and R {r.shape}. Use mode='reduced'")
        g_q = gq._data if gq._data.shape == q.shape else np.zeros_like(q)
        g_r = gr._data
        if m >= n:
            return _wrap(_qr_square_backward(q, r, g_q, g_r)), None
        u, g_u, g_v = r[..., :m], g_r[..., :m], g_r[..., m:]
        y = q @ r[..., m:]
        g_x = _qr_square_backward(q, u, g_q + y @ np.swapaxes(g_v, -1, -2), g_u)
        return _wrap(np.concatenate([g_x, q @ g_v], axis=-1)), None


def _qr_square_backward(q, r, g_q, g_r):
    t = lambda x: np.swapaxes(x, -1, -2)  # noqa: E731
    mm = r @ t(g_r) - t(g_q) @ q
    low = np.tril(mm, -1)
    sym = low + t(low) + np.eye(r.shape[-1], dtype=mm.dtype) * mm       # copyltu: the lower triangle mirrored
    x = g_q + q @ sym
    return t(np.linalg.solve(r, t(x))) if r.shape[-1] else x


class SvdVals(Op):
    """s = the singular values of A (descending);  dL/dA = U diag(g) Vᵀ (first derivatives only). The caller
    factors A once and hands in the reduced (U, s, Vᵀ)."""

    def forward(self, a, factors):
        self.u, s, self.vh = factors
        return s

    def backward(self, g):
        if STATE.grad_enabled:
            raise NotImplementedError("svdvals: second derivatives (create_graph=True) are not implemented; they need "
                                      "the derivatives of the singular vectors")
        return _wrap((self.u * g._data[..., None, :]) @ self.vh)


def inv(A):
    _square(A, "inv")
    return Inv.apply(A)


def det(A):
    _square(A, "det")
    return Det.apply(A)


def slogdet(A):
    """(sign, ln|det A|); the sign is piecewise constant, not differentiable."""
    _square(A, "slogdet")
    refuse_float16("slogdet", A._data)
    sign, logabs = _through_lu(np.linalg.slogdet, A._data)   # the sign from the LU too: det can underflow to 0
    return _Slogdet(_wrap(np.asarray(sign)), LogAbsDet.apply(A, logabs=logabs))


def logdet(A):
    """ln det A: NaN where det A < 0, -inf where it is 0 (as torch.logdet)."""
    sign, logabs = slogdet(A)
    return logabs + _wrap(np.where(sign._data > 0, 0.0, np.where(sign._data == 0, -np.inf, np.nan)).astype(A.dtype))


def solve(A, B, *, left=True):
    """X with A X = B (left=True) or X A = B."""
    _square(A, "solve")
    if not left:
        return solve(A.mT, B.mT).mT
    k = A.shape[-1]
    vector = B.ndim == A.ndim - 1
    if (B.shape[-1] if vector else B.shape[-2]) != k:
        raise ShapeError(f"solve: A has shape {A.shape} but B has shape {B.shape}; B's "
                         f"{'only' if vector else 'second-to-last'} dim must be {k}")
    return Solve.apply(A, B)


def cholesky(A, *, upper=False):
    """L lower-triangular with A = L Lᵀ (A symmetric positive definite; its lower triangle is read)."""
    _square(A, "cholesky")
    L = Cholesky.apply(A)
    return L.mT if upper else L


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of the symmetric A. Eigenvector signs are arbitrary, so a
    loss should not depend on them; the gradient needs distinct eigenvalues."""
    _square(A, "eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    w, v = Eigh.apply(A if UPLO == "L" else A.mT)
    return _Eigh(w, v)


def eigvalsh(A, UPLO="L"):
    refuse_float16("eigvalsh", A._data)
    return eigh(A, UPLO).eigenvalues


def svdvals(A):
    if A.ndim < 2:
        raise ShapeError(f"svdvals: expected a matrix (or a batch of them), got shape {A.shape}")
    return SvdVals.apply(A, factors=checked_decomposition("svdvals", np.linalg.svd, A._data, full_matrices=False))


def svd(A, full_matrices=True):
    """(U, S, Vh) as constants around the differentiable S: the gradient flows through S only (use svdvals for a
    loss of the singular values); U and Vh do not require grad."""
    if A.ndim < 2:
        raise ShapeError(f"svd: expected a matrix (or a batch of them), got shape {A.shape}")
    u, s, vh = checked_decomposition("svd", np.linalg.svd, A._data, full_matrices=full_matrices)
    k = s.shape[-1]   # the reduced factors are the first k columns of U and rows of Vᵀ
    return _Svd(_wrap(u), SvdVals.apply(A, factors=(u[..., :k], s, vh[..., :k, :])), _wrap(vh))


def qr(A, mode="reduced"):
    """A = QR: (Q, R) with mode 'reduced' (Q (m, k), R (k, n), k = min(m, n)), 'complete' (Q (m, m)) or 'r' (R
    only; Q empty), as torch.linalg.qr."""
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    if A.ndim < 2:
        raise ShapeError(f"qr: expected a matrix (or a batch of them), got shape {A.shape}")
    q, r = QR.apply(A, mode)
    return _QR(q, r)


@tensor_method("matrix_power")
def matrix_power(A, n):
    """Aⁿ by repeated squaring (A⁻¹ raised to -n for negative n)."""
    _square(A, "matrix_power")
    if n < 0:
        refuse_float16("matrix_power", A._data)
        return inv(A) if n == -1 else matrix_power(inv(A), -n)   # inv's result is new already: no copy
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is not None:
        return copied(result, A)   # n = 1 gives A itself; torch's result is a new tensor
    identity = _wrap(np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy())
    return identity + linked_zero(A) if A.requires_grad else identity


def _qr_fixed(A):
    """Q and R with R's diagonal made positive (QR is unique up to those signs; LAPACK may pick either)."""
    q, r = qr(A)
    sign = _wrap(np.where(np.diagonal(r._data, 0, -2, -1) < 0, -1.0, 1.0).astype(r.dtype))
    return q * sign.unsqueeze(-2), r * sign.unsqueeze(-1)


def _np_qr_fixed(a):
    q, r = np.linalg.qr(a)
    sign = np.where(np.diagonal(r, 0, -2, -1) < 0, -1.0, 1.0)
    return q * sign[..., None, :], r * sign[..., :, None]


def _spd(a):
    """A symmetric positive definite matrix from any square a: a aᵀ + n I (what the cholesky samples factor)."""
    return a @ a.mT + _wrap(np.eye(a.shape[-1], dtype=a.dtype) * a.shape[-1])


def _sign_fixed(v):
    """Eigenvectors with their largest-magnitude entry made positive: a loss of them is then well defined."""
    arr = v._data
    idx = np.abs(arr).argmax(-2)[..., None, :]
    return v * _wrap(np.sign(np.take_along_axis(arr, idx, -2)))


def _np_sign_fixed(v):
    idx = np.abs(v).argmax(-2)[..., None, :]
    return v * np.sign(np.take_along_axis(v, idx, -2))


_SQUARE = [sample(T((3, 3))), sample(T((2, 3, 3)))]
inv = register("inv", ref=np.linalg.inv, samples=_SQUARE)(inv)
det = register("det", ref=np.linalg.det, samples=_SQUARE + [
    sample(T((3, 3), values=[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]]), gradgrad=False)])(det)
register("logabsdet", ref=lambda a: np.linalg.slogdet(a)[1], samples=_SQUARE)(lambda A: slogdet(A).logabsdet)
solve = register("solve", ref=lambda a, b: np.linalg.solve(a, b[..., None])[..., 0] if b.ndim == a.ndim - 1 else
         np.linalg.solve(a, b),
         samples=[sample(T((3, 3)), T((3, 2))), sample(T((3, 3)), T((3,))), sample(T((2, 3, 3)), T((2, 3, 4)))])(solve)
register("cholesky", ref=lambda a: np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + np.eye(a.shape[-1]) * a.shape[-1]),
         samples=_SQUARE)(lambda a: cholesky(_spd(a)))
register("eigvalsh", ref=lambda a: np.linalg.eigvalsh(a + np.swapaxes(a, -1, -2)), gradgrad=False,
         samples=_SQUARE)(lambda a: eigvalsh(a + a.mT))
register("eigh_vectors", ref=lambda a: _np_sign_fixed(np.linalg.eigh(a + np.swapaxes(a, -1, -2))[1]),
         gradgrad=False, samples=_SQUARE)(lambda a: _sign_fixed(eigh(a + a.mT).eigenvectors))
svdvals = register("svdvals", ref=lambda a: np.linalg.svd(a, compute_uv=False), gradgrad=False,
         samples=[sample(T((3, 3))), sample(T((4, 2))), sample(T((2, 2, 3)))])(svdvals)
register("qr", ref=lambda a: np.concatenate([x.reshape(-1) for x in _np_qr_fixed(a)]), gradgrad=False,
         samples=[sample(T((4, 3))), sample(T((3, 3))), sample(T((2, 5, 2))), sample(T((2, 4))), sample(T((2, 2, 3)))])(
    lambda A: cat([x.reshape(-1) for x in _qr_fixed(A)]))
matrix_power = register("matrix_power", ref=np.linalg.matrix_power,
         samples=[sample(T((3, 3)), 3), sample(T((3, 3)), 0), sample(T((2, 2), 0.5, 2), -2)])(matrix_power)
