"""Correlation-matrix factors: CorrCholeskyTransform (forward, inverse, log|det J| = torch's, and the log-det
against a finite-difference Jacobian), LKJCholesky (log_prob = torch's, samples in the support with the LKJ
marginals), the corr_cholesky constraint with biject_to, and torch's vec/tril helpers."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from chainrule.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix
from helpers import torch_or_skip


def test_corr_cholesky_transform_matches_torch_and_inverts():
    torch = torch_or_skip()
    x = np.random.default_rng(0).standard_normal((2, 6))
    ours, theirs = D.transforms.CorrCholeskyTransform(), torch.distributions.transforms.CorrCholeskyTransform()
    y, ty = ours(cr.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-14)
    np.testing.assert_allclose(ours.inv(y).numpy(), x, atol=1e-12)
    np.testing.assert_allclose(ours.log_abs_det_jacobian(cr.tensor(x), y).numpy(),
                               theirs.log_abs_det_jacobian(torch.tensor(x), ty).numpy(), atol=1e-12)
    assert ours.forward_shape((5, 6)) == (5, 4, 4) and ours.inverse_shape((5, 4, 4)) == (5, 6)
    assert D.constraints.corr_cholesky.check(y.numpy()).all()
    with pytest.raises(ValueError, match="not D\\(D-1\\)/2"):
        ours.forward_shape((5,))


def test_the_log_det_is_that_of_the_map_onto_the_sub_diagonal_entries():
    """y's free coordinates are its sub-diagonal entries (the diagonal follows from unit rows): log|det ∂y_tril/∂x|
    by central differences equals log_abs_det_jacobian."""
    t = D.transforms.CorrCholeskyTransform()
    x = np.random.default_rng(1).standard_normal(6) * 0.7
    f = lambda v: tril_matrix_to_vec(t(cr.tensor(v)), diag=-1).numpy()   # noqa: E731
    J = np.stack([(f(x + h) - f(x - h)) / 2e-6 for h in np.eye(6) * 1e-6], axis=1)
    logdet = t.log_abs_det_jacobian(cr.tensor(x), t(cr.tensor(x))).item()
    assert abs(np.linalg.slogdet(J)[1] - logdet) < 1e-6


def test_gradients_flow_through_the_transform_and_the_log_prob():
    x = cr.tensor(np.random.default_rng(2).standard_normal(3), requires_grad=True)
    assert cr.autograd.gradcheck(lambda v: D.transforms.CorrCholeskyTransform()(v), [x])
    eta = cr.tensor(1.7, dtype=cr.float64, requires_grad=True)
    L = D.transforms.CorrCholeskyTransform()(x)
    assert cr.autograd.gradcheck(lambda e, v: D.LKJCholesky(3, e).log_prob(
        D.transforms.CorrCholeskyTransform()(v)), [eta, x])
    D.LKJCholesky(3, eta).log_prob(L).backward()
    assert eta.grad is not None and x.grad is not None


@pytest.mark.parametrize("eta", [0.5, 1.0, 3.0])
def test_lkj_log_prob_matches_torch(eta):
    torch = torch_or_skip()
    torch.manual_seed(0)
    theirs = torch.distributions.LKJCholesky(4, torch.tensor(eta, dtype=torch.float64))
    L = theirs.sample((5,))
    ours = D.LKJCholesky(4, cr.tensor(eta, dtype=cr.float64))
    np.testing.assert_allclose(ours.log_prob(cr.tensor(L.numpy())).numpy(), theirs.log_prob(L).numpy(), atol=1e-12)
    assert ours.event_shape == (4, 4) and ours.batch_shape == ()


@pytest.mark.parametrize("dim", [3, 5])
def test_lkj_samples_lie_in_the_support_with_lkj_marginals(dim):
    """det(M)^(η-1) is symmetric in the variables, so every correlation has the same marginal:
    (r + 1)/2 ~ Beta(β, β) with β = η - 1 + D/2, Var r = 1/(2β + 1). (torch's sampler misses it from row 2 on.)"""
    cr.manual_seed(3)
    d = D.LKJCholesky(dim, cr.tensor([0.7, 2.0], dtype=cr.float64))
    L = d.sample((20000,))
    assert L.shape == (20000, 2, dim, dim)
    assert D.constraints.corr_cholesky.check(L.numpy()).all()
    M = L.numpy() @ np.swapaxes(L.numpy(), -1, -2)
    np.testing.assert_allclose(np.diagonal(M, 0, -2, -1), 1.0, atol=1e-12)
    for k, eta in enumerate((0.7, 2.0)):
        expected = 1 / (2 * (eta - 1 + dim / 2) + 1)
        for i in range(1, dim):
            for j in range(i):
                assert abs(M[:, k, i, j].var() - expected) < 0.012, (eta, i, j)
                assert abs(M[:, k, i, j].mean()) < 0.015


def test_biject_to_corr_cholesky_and_bad_arguments():
    t = D.biject_to(D.constraints.corr_cholesky)
    assert isinstance(t, D.transforms.CorrCholeskyTransform)
    assert D.constraints.corr_cholesky.check(t(cr.zeros(10)).numpy())
    with pytest.raises(ValueError, match="dim must be an int ≥ 2"):
        D.LKJCholesky(1)
    with pytest.raises(ValueError, match="concentration"):
        D.LKJCholesky(3, cr.tensor(-1.0))


def test_vec_and_tril_helpers_match_torch():
    torch = torch_or_skip()
    from torch.distributions.utils import tril_matrix_to_vec as t_to_vec, vec_to_tril_matrix as t_to_mat
    vec, m = np.arange(1.0, 7.0), np.arange(16.0).reshape(4, 4)
    for diag in (0, -1):
        np.testing.assert_array_equal(vec_to_tril_matrix(cr.tensor(vec), diag).numpy(),
                                      t_to_mat(torch.tensor(vec), diag).numpy())
        np.testing.assert_array_equal(tril_matrix_to_vec(cr.tensor(m), diag).numpy(),
                                      t_to_vec(torch.tensor(m), diag).numpy())
    with pytest.raises(ValueError, match="does not fill the triangle"):
        vec_to_tril_matrix(cr.ones(5))
