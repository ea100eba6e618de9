"""Matrix products. For C = A·B the chain rule gives dA = dC·Bᵀ and dB = Aᵀ·dC (the texts' dW = dZ·Aᵀ);
batch dims broadcast like NumPy's matmul and the engine sums them back."""
import math

import numpy as np

from ..amp import autocast_to_lower_precision, computed_in_float32
from ..errors import ShapeError
from ..tensor import Tensor
from ..autograd.function import Op
from ..autograd import buffers
from .. import amp as _amp
from ..autograd.grad_mode import STATE
from ._util import lift, promote_pair
from .registry import T, register, sample, tensor_method
from .einsum import einsum
from .shape import cat

_wrap = Tensor._wrap
_add_reduce = np.add.reduce


def _autocast(*tensors):
    return _amp.cast_inputs(*tensors) if _amp._ACTIVE[0] is not None else tensors


def _mm_error(a, b):
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    hint = ""
    if a.ndim >= 2 and b.ndim >= 2 and a.shape[-2] == kb:
        hint = " The first looks transposed: try a.T @ b (or a.mT @ b)."
    elif b.ndim >= 2 and b.shape[-1] == ka:
        hint = " The second looks transposed: try a @ b.T (or a @ b.mT)."
    return ShapeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied: the last dim of the first "
                      f"({ka}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} dim of the second "
                      f"({kb}).{hint}")


class MatMul(Op):
    """C = A @ B;  dL/dA = g @ Bᵀ,  dL/dB = Aᵀ @ g (1-d operands are treated as a row / a column)."""
    read_for_others = (0, 1)

    def forward(self, a, b):
        return buffers.matmul(a, b)

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if na else None), (g * a if nb else None)
        if a.ndim == 1:
            ga = (g.unsqueeze(-2) @ b.mT).squeeze(-2) if na else None
            gb = a.unsqueeze(-1) * g.unsqueeze(-2) if nb else None
            return ga, gb
        if b.ndim == 1:
            ga = g.unsqueeze(-1) * b if na else None
            gb = (a.mT @ g.unsqueeze(-1)).squeeze(-1) if nb else None
            return ga, gb
        if not STATE.grad_enabled:
            gd = g._data
            if na and nb:
                gd = buffers.dense(gd)   # a broadcast gradient is made dense once, for both products
            return (_wrap(buffers.matmul(gd, b._data.swapaxes(-1, -2))) if na else None), \
                   (_wrap(buffers.matmul(a._data.swapaxes(-1, -2), gd)) if nb else None)
        return (g @ b.mT if na else None), (a.mT @ g if nb else None)


def matmul(input, other):
    a, b = lift(input, other if isinstance(other, Tensor) else None), lift(other, input if isinstance(input, Tensor) else None)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}; "
                         f"use * to multiply by a scalar")
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != kb:
        raise _mm_error(a, b)
    a, b = _autocast(a, b)
    if a._data.dtype != b._data.dtype:
        a, b = promote_pair(a, b)
    return MatMul.apply(a, b)


matmul = register("matmul", method="matmul", ref=np.matmul,
         samples=[sample(T((3, 4)), T((4, 2))), sample(T((4,)), T((4, 2))), sample(T((3, 4)), T((4,))),
                  sample(T((4,)), T((4,))), sample(T((2, 3, 4)), T((4, 5))), sample(T((2, 1, 3, 4)), T((3, 4, 2))),
                  sample(T((4,)), T((2, 4, 3))), sample(T((2, 3, 4)), T((4,)))])(matmul)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.mm = lambda self, mat2: mm(self, mat2)
Tensor.bmm = lambda self, mat2: bmm(self, mat2)


class Linear(Op):
    """y = x Wᵀ + b as one node (one BLAS call each way);  dx = g W, dW = gᵀ x (summed over batch dims), db = Σ g."""
    read_for_others = (0, 1, 2)

    def forward(self, x, w, b=None):
        if x.ndim > 2 and x.flags.c_contiguous:   # (..., in) as one (N, in) matrix: one BLAS call, not one per batch
            out = buffers.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            out = buffers.matmul(x, w.T)
        if b is not None:
            out += b
        return out

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        if not STATE.grad_enabled and x._data.ndim >= 2:   # plain backward on arrays: dx = g W, dW = gᵀx, db = Σ g
            gd, xd = g._data, x._data
            if xd.ndim > 2:   # batch dims flattened into rows: dW and db sum over all of them
                if not gd.flags.c_contiguous:
                    gd = buffers.copy_of(gd)
                gd, xd = gd.reshape(-1, gd.shape[-1]), xd.reshape(-1, xd.shape[-1])
            gx = None
            if need[0]:
                gx = _wrap(buffers.matmul(gd, w._data).reshape(x._data.shape))
            out = gx, (_wrap(buffers.matmul(gd.T, xd)) if need[1] else None)
            if len(need) == 3:
                out += (_wrap(_add_reduce(gd, 0)) if need[2] else None,)
            return out
        gx = g @ w if need[0] else None
        gw = None
        if need[1]:
            if x.ndim == 1:
                gw = g.unsqueeze(-1) * x
            else:
                gw = g.reshape(-1, g.shape[-1]).mT @ x.reshape(-1, x.shape[-1])
        if len(self.inputs) == 2:
            return gx, gw
        gb = None
        if need[2]:
            gb = g.sum(dim=tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return gx, gw, gb


def linear(input, weight, bias=None):
    """PyTorch's F.linear: input (..., in), weight (out, in), bias (out,) -> (..., out)."""
    if input._data.shape[-1:] != weight._data.shape[-1:]:
        raise ShapeError(f"linear: input has {input.shape[-1]} features (shape {input.shape}) but the weight "
                         f"expects {weight.shape[-1]} (weight shape {weight.shape}, i.e. out×in). Make the layer's "
                         f"in_features equal the input's last dim.")
    input, weight, bias = _autocast(input, weight, bias)
    if input._data.dtype != weight._data.dtype or bias is not None and bias._data.dtype != weight._data.dtype:
        # torch's promotion, as matmul and the elementwise ops: integer input with float32 weights is float32 (NumPy
        # would make it float64)
        input, weight = promote_pair(input, weight)
        if bias is not None:
            weight, bias = promote_pair(weight, bias)
            input, weight = promote_pair(input, weight)
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


linear = register("linear", ref=lambda x, w, b=None: x @ w.T + (0 if b is None else b),
         samples=[sample(T((5, 3)), T((4, 3)), T((4,))), sample(T((2, 5, 3)), T((4, 3)), T((4,))),
                  sample(T((3,)), T((4, 3))), sample(T((5, 3), grad=False), T((4, 3)), T((4,)))])(linear)


def outer(input, vec2):
    """a ⊗ b = a bᵀ, composed as a broadcast product."""
    return input.unsqueeze(1) * vec2.unsqueeze(0)


outer = register("outer", method=("outer", "ger"), ref=np.outer, samples=[sample(T((3,)), T((4,)))])(outer)


# ---- composed from the ops above (their gradients are the registered ones) ----------------------------------
@tensor_method("addmm")
@autocast_to_lower_precision   # all three in float16, as torch's
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """β·input + α·(mat1 @ mat2), input broadcast to the product's shape."""
    product = matmul(mat1, mat2)
    return (product if alpha == 1 else product * alpha) + (input if beta == 1 else input * beta)


@tensor_method("baddbmm")
@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """β·input + α·(batch1 @ batch2) over a batch of matrices."""
    return addmm(input, batch1, batch2, beta=beta, alpha=alpha)


def diag(input, diagonal=0):
    """1-d input: a square matrix with it on the `diagonal`-th diagonal; 2-d input: that diagonal as a 1-d
    tensor. Built from indexing (getitem, whose backward adds g into place), so its gradient is that op's."""
    if input.ndim == 1:   # pick from [input, 0]: the diagonal's positions take input[i], all others the 0
        n = input.shape[0]
        m = n + abs(diagonal)
        rows, cols = np.arange(n) + max(-diagonal, 0), np.arange(n) + max(diagonal, 0)
        picks = np.full(m * m, n, np.int64)
        picks[rows * m + cols] = np.arange(n)
        padded = cat([input, input.new_zeros(1)])
        return padded[_wrap(picks)].reshape(m, m)
    if input.ndim == 2:
        r, c = input.shape
        start_r, start_c = (0, diagonal) if diagonal >= 0 else (-diagonal, 0)
        n = max(min(r - start_r, c - start_c), 0)
        idx = np.arange(n)
        return input[_wrap(idx + start_r), _wrap(idx + start_c)]
    raise ValueError(f"diag: expected a 1-d or 2-d input, got shape {input.shape}")


@computed_in_float32(float32_under_autocast=True)
def trace(input):
    """Σᵢ Aᵢᵢ of a 2-d input."""
    if input.ndim != 2:
        raise ValueError(f"trace: expected a 2-d input, got shape {input.shape}")
    return diag(input).sum()


addmm = register("addmm", ref=lambda i, a, b, beta=1, alpha=1: beta * i + alpha * (a @ b),
         samples=[sample(T((3, 2)), T((3, 4)), T((4, 2))), sample(T((2,)), T((3, 4)), T((4, 2)), beta=0.5, alpha=2.0)])(addmm)
baddbmm = register("baddbmm", ref=lambda i, a, b, beta=1, alpha=1: beta * i + alpha * (a @ b),
         samples=[sample(T((2, 3, 2)), T((2, 3, 4)), T((2, 4, 2)), alpha=0.5)])(baddbmm)
diag = register("diag", method="diag", ref=lambda x, diagonal=0: np.diag(x, diagonal),
         samples=[sample(T((3,))), sample(T((3,)), 1), sample(T((2,)), -2), sample(T((3, 4))), sample(T((3, 4)), 1),
                  sample(T((4, 3)), -1)])(diag)
trace = register("trace", method="trace", ref=np.trace, samples=[sample(T((3, 3))), sample(T((2, 4)))])(trace)


# ---- more products, composed from matmul, einsum and the elementwise ops -----------------------------------------
def dot(input, tensor):
    """Σᵢ aᵢbᵢ of two 1-d tensors of the same length (torch.dot; torch.vdot(input, other) is the same for reals)."""
    if input.ndim != 1 or tensor.ndim != 1 or input.shape != tensor.shape:
        raise ShapeError(f"dot: expected two 1-d tensors of the same length, got shapes {input.shape} and "
                         f"{tensor.shape}")
    return matmul(input, tensor)


def vdot(input, other):
    return dot(input, other)


def mm(input, mat2):
    """torch.mm: (n, m) @ (m, p) of two matrices; unlike matmul it takes no vectors and does not broadcast."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: both arguments must be matrices (2-d), got shapes {input.shape} and {mat2.shape}; use "
                         f"matmul for vectors or batches")
    return matmul(input, mat2)


def bmm(input, mat2):
    """torch.bmm: (b, n, m) @ (b, m, p), one product per batch entry; no broadcasting."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: both arguments must be 3-d batches of matrices with the same batch size, got shapes "
                         f"{input.shape} and {mat2.shape}; use matmul to broadcast")
    return matmul(input, mat2)


def mv(input, vec):
    """Matrix times vector: (n, m) @ (m,) -> (n,)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise ShapeError(f"mv: expected a matrix and a vector, got shapes {input.shape} and {vec.shape}")
    return matmul(input, vec)


def tensordot(a, b, dims=2):
    """Σ over the last `dims` dims of a and the first `dims` of b, or over the paired dims ([a dims], [b dims])."""
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da, db = [d % a.ndim for d in da], [d % b.ndim for d in db]
    if any(a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]) for i, j in zip(da, db)):
        raise ShapeError(f"tensordot: contracted dims of shapes {a.shape} (dims {da}) and {b.shape} (dims {db}) "
                         f"differ in size (a size 1 broadcasts, as torch's)")
    letters = "abcdefghijklmnopqrstuvwxyz"
    la, lb = list(letters[:a.ndim]), list(letters[a.ndim:a.ndim + b.ndim])
    for i, j in zip(da, db):
        lb[j] = la[i]
    out = [c for k, c in enumerate(la) if k not in da] + [c for k, c in enumerate(lb) if k not in db]
    return einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


def inner(input, other):
    """Σ over the last dims of both (a product with a scalar when either is 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, ([-1], [-1]))


@computed_in_float32
def cross(input, other, dim=-1):
    """The cross product of 3-vectors along dim: (a₂b₃ - a₃b₂, a₃b₁ - a₁b₃, a₁b₂ - a₂b₁)."""
    from .index import index_select
    if input.ndim == 0 or other.ndim == 0:
        raise ShapeError(f"cross: needs vectors of 3 along dim {dim}, got shapes {input.shape} and {other.shape}")
    d = dim % input.ndim
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise ShapeError(f"cross: dim {dim} must have size 3 in both inputs, got shapes {input.shape} and "
                         f"{other.shape}")
    nxt, prev = _wrap(np.array([1, 2, 0])), _wrap(np.array([2, 0, 1]))
    return (index_select(input, d, nxt) * index_select(other, d, prev)
            - index_select(input, d, prev) * index_select(other, d, nxt))


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


@computed_in_float32(float32_under_autocast=True)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (…, P, M) and x2 (…, R, M) -> (…, P, R); at zero
    distance the 2-norm's gradient is 0 (its subgradient), as in PyTorch. compute_mode picks torch's faster,
    less exact matmul route for p = 2; here every mode computes the differences directly (the exact route)."""
    from .reduce import norm
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {_CDIST_MODES}, got {compute_mode!r}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: the rows must have the same length, got shapes {x1.shape} and {x2.shape}")
    return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


def multi_dot(tensors):
    """A chain of matrix products (1-d ends are a row and a column vector), evaluated left to right."""
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out


dot = register("dot", method="dot", ref=np.dot, samples=[sample(T((4,)), T((4,)))])(dot)
mv = register("mv", method="mv", ref=np.dot, samples=[sample(T((3, 4)), T((4,)))])(mv)
tensordot = register("tensordot", ref=lambda a, b, dims=2: np.tensordot(a, b, dims),
         samples=[sample(T((2, 3, 4)), T((3, 4, 2))), sample(T((2, 3)), T((3, 2)), 1),
                  sample(T((2, 3, 4)), T((4, 2, 3)), ([1, 2], [2, 0]))])(tensordot)
inner = register("inner", method="inner", ref=np.inner, samples=[sample(T((2, 3)), T((4, 3))), sample(T((3,)), T((3,)))])(inner)
cross = register("cross", method="cross", ref=lambda a, b, dim=-1: np.cross(a, b, axis=dim),
         samples=[sample(T((4, 3)), T((4, 3))), sample(T((3, 2)), T((3, 1)), 0)])(cross)
cdist = register("cdist", ref=lambda a, b, p=2.0: np.linalg.norm(a[..., :, None, :] - b[..., None, :, :], ord=p, axis=-1),
         samples=[sample(T((3, 2)), T((4, 2))), sample(T((2, 3, 2)), T((2, 2, 2)), 1.0, check=dict(atol=1e-4))])(cdist)
Tensor.vdot = vdot


@computed_in_float32   # one float32 accumulation, rounded once, as torch's kernel
def bilinear(input1, input2, weight, bias=None):
    """y_o = Σᵢⱼ x₁ᵢ A_oij x₂ⱼ + b_o for x₁ (*, in1), x₂ (*, in2), A (out, in1, in2): as (x₁ A_o) · x₂, one product."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2] or \
            input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(f"bilinear: inputs {input1.shape} and {input2.shape} do not fit weight {weight.shape}; "
                         f"expected (*, in1), (*, in2) with the same leading dims and weight (out, in1, in2)")
    lead, (o, i1, i2) = input1.shape[:-1], weight.shape
    n = math.prod(lead)                     # sizes spelt out: -1 is ambiguous where a size is 0
    x1, x2 = input1.reshape(n, i1), input2.reshape(n, i2)
    mixed = (x1 @ weight.permute(1, 0, 2).reshape(i1, o * i2)).reshape(n, o, i2)   # (N, out, in2): x₁ᵀ A_o
    out = (mixed * x2.unsqueeze(1)).sum(dim=-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, o)


bilinear = register("bilinear", ref=lambda a, b, w, bias=None: np.einsum("...i,oij,...j->...o", a, w, b) + (0 if bias is None else bias),
         samples=[sample(T((4, 3)), T((4, 2)), T((5, 3, 2)), T((5,))), sample(T((2, 3, 3)), T((2, 3, 1)), T((2, 3, 1)))])(
    bilinear)
