"""svd_lowrank / pca_lowrank (randomised low-rank SVD, Halko et al. 2009): exact where A has rank ≤ q, torch's
shapes and values, differentiable through the ops they are composed of, named errors."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck

R = np.random.default_rng(0)


def low_rank(m, n, rank, batch=()):
    return R.standard_normal(batch + (m, rank)) @ R.standard_normal(batch + (rank, n))


def reconstruct(U, S, V):
    return ((U * S.unsqueeze(-2)) @ V.mT).numpy()


@pytest.mark.parametrize("shape", [(20, 12), (12, 20), (2, 15, 9)])
def test_svd_lowrank_is_exact_for_a_matrix_of_rank_at_most_q(shape):
    A = low_rank(shape[-2], shape[-1], 3, shape[:-2])
    cr.manual_seed(0)
    U, S, V = cr.svd_lowrank(cr.tensor(A), q=5)
    m, n = shape[-2:]
    assert U.shape == shape[:-2] + (m, 5) and S.shape == shape[:-2] + (5,) and V.shape == shape[:-2] + (n, 5)
    np.testing.assert_allclose(reconstruct(U, S, V), A, atol=1e-10)
    np.testing.assert_allclose(S.numpy()[..., :3], np.linalg.svd(A, compute_uv=False)[..., :3], rtol=1e-10)
    np.testing.assert_allclose((U.mT @ U).numpy(), np.broadcast_to(np.eye(5), shape[:-2] + (5, 5)), atol=1e-10)


def test_svd_lowrank_with_a_mean_decomposes_a_minus_m_without_forming_it():
    A, M = low_rank(16, 10, 2), R.standard_normal((1, 10))
    cr.manual_seed(1)
    U, S, V = cr.svd_lowrank(cr.tensor(A + M), q=4, M=cr.tensor(M))
    np.testing.assert_allclose(reconstruct(U, S, V), A, atol=1e-10)


def test_the_same_seed_gives_the_same_decomposition():
    A = cr.tensor(R.standard_normal((30, 20)))
    runs = []
    for _ in range(2):
        cr.manual_seed(7)
        runs.append([t.numpy() for t in cr.svd_lowrank(A, q=4, niter=1)])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_pca_lowrank_finds_the_principal_directions():
    # 200 samples spread along two directions in 8 features: S² / (m - 1) are the variances along them
    directions = np.linalg.qr(R.standard_normal((8, 2)))[0]
    X = (R.standard_normal((200, 2)) * [5.0, 2.0]) @ directions.T + 3.0
    cr.manual_seed(0)
    U, S, V = cr.pca_lowrank(cr.tensor(X), q=2)
    centered = X - X.mean(0)
    np.testing.assert_allclose(S.numpy() ** 2 / 199, np.linalg.eigvalsh(np.cov(centered.T))[::-1][:2], rtol=1e-10)
    np.testing.assert_allclose(np.abs(V.numpy().T @ directions), np.eye(2), atol=0.05)  # up to sign and sampling
    U, S, V = cr.pca_lowrank(cr.tensor(X), q=3, center=False)   # uncentred: X itself, of rank 3 with its mean
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(X, compute_uv=False)[:3], rtol=1e-10)


def test_gradients_flow_through_the_composed_ops():
    # with q = min(m, n) the basis spans the whole range, so the result does not depend on the random draw:
    # d(Σσ)/dA = U Vᵀ, as for the full SVD
    A = cr.tensor(R.standard_normal((6, 4)), requires_grad=True)

    def singular_values(a):
        cr.manual_seed(3)
        return cr.svd_lowrank(a, q=4)[1]
    assert gradcheck(singular_values, (A,))
    singular_values(A).sum().backward()
    u, _, vh = np.linalg.svd(A.detach().numpy(), full_matrices=False)
    np.testing.assert_allclose(A.grad.numpy(), u @ vh, atol=1e-10)


def test_matches_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    A = low_rank(25, 14, 4)
    cr.manual_seed(0)
    torch.manual_seed(0)
    for ours, theirs in [(cr.svd_lowrank(cr.tensor(A), q=6), torch.svd_lowrank(torch.tensor(A), q=6)),
                         (cr.pca_lowrank(cr.tensor(A)), torch.pca_lowrank(torch.tensor(A)))]:
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
        np.testing.assert_allclose(ours[1].numpy()[:3], theirs[1].numpy()[:3], rtol=1e-10)
        np.testing.assert_allclose(reconstruct(*ours), reconstruct(*(cr.tensor(t.numpy()) for t in theirs)),
                                   atol=1e-9)


@pytest.mark.parametrize("call, error, match", [
    (lambda A: cr.svd_lowrank(A, q=-1), ValueError, "svd_lowrank: q must be a non-negative int"),
    (lambda A: cr.svd_lowrank(A, niter=-2), ValueError, "svd_lowrank: niter must be a non-negative int"),
    (lambda A: cr.svd_lowrank(A[0]), cr.ShapeError, r"svd_lowrank: expected a matrix .* got shape \(4,\)"),
    (lambda A: cr.pca_lowrank(A, q=5), ValueError, r"pca_lowrank: q \(= 5\) must be .* min\(m, n\) = 4"),
    (lambda A: cr.pca_lowrank(A, niter=1.5), ValueError, "pca_lowrank: niter must be a non-negative int"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call(cr.tensor(R.standard_normal((6, 4))))
