"""LU with partial pivoting (linalg.lu, lu_factor, lu_factor_ex, lu_solve, torch.lu_unpack, torch.lu, lu_solve):
factors, pivots and gradients equal torch's in float64 for square, tall, wide and batched matrices; singular
matrices and bad shapes raise named errors. The registry gradchecks the same ops (tests/test_ops.py)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import LinAlgError, ShapeError
from helpers import torch_or_skip

SHAPES = [(3, 3), (5, 3), (3, 6), (2, 4, 4), (2, 5, 2), (1, 2, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_factors_pivots_and_gradients_match_torch(shape):
    torch = torch_or_skip()
    rng = np.random.default_rng(len(shape) * 10 + shape[-1])
    a = rng.standard_normal(shape)
    A, tA = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    P, L, U = cr.linalg.lu(A)
    tP, tL, tU = torch.linalg.lu(tA)
    for ours, theirs in ((P, tP), (L, tL), (U, tU)):
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-13)
    assert not P.requires_grad
    np.testing.assert_allclose((P @ L @ U).detach().numpy(), a, atol=1e-13)
    gl, gu = rng.standard_normal(L.shape), rng.standard_normal(U.shape)
    ((L * cr.tensor(gl)).sum() + (U * cr.tensor(gu)).sum()).backward()
    ((tL * torch.tensor(gl)).sum() + (tU * torch.tensor(gu)).sum()).backward()
    np.testing.assert_allclose(A.grad.numpy(), tA.grad.numpy(), atol=1e-12)
    A.grad, tA.grad = None, None
    LU, piv = cr.linalg.lu_factor(A)
    tLU, tpiv = torch.linalg.lu_factor(tA)
    np.testing.assert_allclose(LU.detach().numpy(), tLU.detach().numpy(), atol=1e-13)
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    assert piv.dtype == cr.int32
    g = rng.standard_normal(LU.shape)
    (LU * cr.tensor(g)).sum().backward()
    (tLU * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), tA.grad.numpy(), atol=1e-12)
    for ours, theirs in zip(cr.lu_unpack(LU, piv), torch.lu_unpack(tLU, tpiv)):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-13)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_matches_torch_every_way(left, adjoint):
    torch = torch_or_skip()
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 4, 4))
    b = rng.standard_normal((2, 4, 3) if left else (2, 3, 4))
    A, B = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    tA, tB = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    X = cr.linalg.lu_solve(*cr.linalg.lu_factor(A), B, left=left, adjoint=adjoint)
    tX = torch.linalg.lu_solve(*torch.linalg.lu_factor(tA), tB, left=left, adjoint=adjoint)
    np.testing.assert_allclose(X.detach().numpy(), tX.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(X.shape)
    (X * cr.tensor(g)).sum().backward()
    (tX * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), tA.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(B.grad.numpy(), tB.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_legacy_spellings_and_methods():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    A = cr.tensor(a)
    LU, piv = A.lu()
    LU2, piv2, info = cr.lu(A, get_infos=True)
    np.testing.assert_array_equal(LU.numpy(), LU2.numpy())
    assert info.item() == 0
    np.testing.assert_allclose(cr.tensor(b).lu_solve(LU, piv).numpy(), np.linalg.solve(a, b), rtol=1e-12)
    np.testing.assert_allclose(cr.lu_solve(cr.tensor(b), LU, piv).numpy(), np.linalg.solve(a, b), rtol=1e-12)
    P, L, U = cr.lu_unpack(LU, piv, unpack_data=False)
    assert L.numel() == 0 and U.numel() == 0 and P.shape == (3, 3)


def test_singular_matrices_are_factored_or_named():
    a = np.diag([1.0, 0.0, 0.0])
    LU, piv, info = cr.linalg.lu_factor_ex(cr.tensor(a))
    assert info.item() == 2                       # LAPACK's convention: the first zero pivot, counted from 1
    P, L, U = cr.linalg.lu(cr.tensor(a))
    np.testing.assert_allclose((P @ L @ U).numpy(), a)
    with pytest.raises(LinAlgError, match=r"linalg.lu_factor: U\[1, 1\] is zero .*linalg.lu_factor_ex"):
        cr.linalg.lu_factor(cr.tensor(a))
    with pytest.raises(LinAlgError, match="lu_factor_ex: U"):
        cr.linalg.lu_factor_ex(cr.tensor(np.stack([np.eye(3), a])), check_errors=True)


def test_bad_input_is_named():
    with pytest.raises(ShapeError, match=r"linalg.lu: expected a matrix .* got shape \(3,\)"):
        cr.linalg.lu(cr.ones(3))
    with pytest.raises(TypeError, match="floating-point"):
        cr.linalg.lu(cr.ones(3, 3, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="without pivoting is not implemented on the CPU"):
        cr.linalg.lu_factor(cr.ones(3, 3), pivot=False)
    LU, piv = cr.linalg.lu_factor(cr.eye(3, dtype=cr.float64))
    with pytest.raises(ShapeError, match=r"lu_solve: B of shape \(4, 2\) does not fit the 3×3 system"):
        cr.linalg.lu_solve(LU, piv, cr.ones(4, 2, dtype=cr.float64))
    x = cr.randn(3, 3, dtype=cr.float64, requires_grad=True)
    P, L, U = cr.linalg.lu(x)
    with pytest.raises(NotImplementedError, match="second derivatives"):
        cr.autograd.grad(L.sum(), x, create_graph=True)
