"""geqrf / orgqr / ormqr: LAPACK's compact QR, as torch's. ormqr's gradients are the registry's (test_ops)."""
import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_geqrf_holds_r_and_the_reflectors_that_rebuild_a(shape):
    """Q (formed by ormqr from the identity) times R (a's upper triangle) is A; Q is orthogonal; orgqr is its first
    columns."""
    A = np.random.default_rng(0).standard_normal(shape)
    a, tau = cr.geqrf(cr.tensor(A))
    m, n = shape[-2:]
    assert tau.shape == shape[:-2] + (min(m, n),)
    Q = cr.ormqr(a, tau, cr.eye(m, dtype=cr.float64).expand(*shape[:-2], m, m)).numpy()
    np.testing.assert_allclose(Q @ np.triu(a.numpy()), A, atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(Q, -1, -2) @ Q, np.broadcast_to(np.eye(m), Q.shape), atol=1e-12)
    k = min(m, n)
    np.testing.assert_allclose(cr.orgqr(a[..., :, :k], tau).numpy(), Q[..., :, :k], atol=1e-12)


def test_ormqr_is_q_or_its_transpose_from_either_side():
    rng = np.random.default_rng(1)
    a, tau = cr.geqrf(cr.tensor(rng.standard_normal((5, 3))))
    Q = cr.ormqr(a, tau, cr.eye(5, dtype=cr.float64)).numpy()
    C, D = rng.standard_normal((5, 2)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(cr.ormqr(a, tau, cr.tensor(C)).numpy(), Q @ C, atol=1e-12)
    np.testing.assert_allclose(cr.ormqr(a, tau, cr.tensor(C), transpose=True).numpy(), Q.T @ C, atol=1e-12)
    np.testing.assert_allclose(cr.ormqr(a, tau, cr.tensor(D), left=False).numpy(), D @ Q, atol=1e-12)
    np.testing.assert_allclose(a.ormqr(tau, cr.tensor(D), False, True).numpy(), D @ Q.T, atol=1e-12)


def test_geqrf_is_not_differentiable_and_says_what_is():
    x = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
    a, tau = cr.geqrf(x)
    with pytest.raises(NotImplementedError, match="geqrf: not differentiable.*linalg.qr"):
        (a.sum() + tau.sum()).backward()
    with pytest.raises(cr.ShapeError, match=r"geqrf: expected a matrix"):
        cr.geqrf(cr.randn(3))
    with pytest.raises(cr.ShapeError, match=r"ormqr: .* needs 4 rows"):
        cr.ormqr(a.detach(), tau.detach(), cr.randn(3, 2, dtype=cr.float64))


def test_as_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle (pip install torch==2.13.0)")
    rng = np.random.default_rng(3)
    for shape in [(5, 3), (3, 5), (2, 4, 4)]:
        A = rng.standard_normal(shape)
        ours, theirs = cr.geqrf(cr.tensor(A)), torch.geqrf(torch.tensor(A))
        np.testing.assert_allclose(ours.a.numpy(), theirs.a.numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.tau.numpy(), theirs.tau.numpy(), atol=1e-12)
    a, tau = torch.geqrf(torch.tensor(rng.standard_normal((5, 3))))
    for left, transpose, C in [(True, False, (5, 2)), (False, True, (4, 5)), (True, True, (5, 5))]:
        c = rng.standard_normal(C)
        np.testing.assert_allclose(
            cr.ormqr(cr.tensor(a.numpy()), cr.tensor(tau.numpy()), cr.tensor(c), left, transpose).numpy(),
            torch.ormqr(a, tau, torch.tensor(c), left, transpose).numpy(), atol=1e-12)
    np.testing.assert_allclose(cr.orgqr(cr.tensor(a.numpy()), cr.tensor(tau.numpy())).numpy(),
                               torch.orgqr(a, tau).numpy(), atol=1e-12)
