"""Wishart: log_prob, entropy, mean, mode, variance and precision = torch's in float64 for each of its three
parameterisations; Bartlett rsample with the right moments and gradients reaching df and Σ; singular draws
redrawn; bad arguments named. Also the positive_definite constraint, now checked per matrix."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.distributions import Wishart, constraints
from helpers import torch_or_skip

RNG = np.random.default_rng(0)
_A = RNG.standard_normal((2, 3, 3))
SIGMA = _A @ np.swapaxes(_A, -1, -2) + 3 * np.eye(3)


@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_matches_torch(kind):
    torch = torch_or_skip()
    matrix = np.linalg.cholesky(SIGMA) if kind == "scale_tril" else SIGMA
    df = np.array([4.5, 7.0])
    df_c, mat_c = cr.tensor(df, requires_grad=True), cr.tensor(matrix, requires_grad=True)
    df_t, mat_t = torch.tensor(df, requires_grad=True), torch.tensor(matrix, requires_grad=True)
    ours = Wishart(df_c, **{kind: mat_c})
    theirs = torch.distributions.Wishart(df_t, **{kind: mat_t})
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = theirs.sample((4,))
    for name in ("mean", "variance", "mode", "precision_matrix", "covariance_matrix"):
        np.testing.assert_allclose(getattr(ours, name).detach().numpy(), getattr(theirs, name).detach().numpy(),
                                   rtol=1e-12, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.log_prob(cr.tensor(X.numpy())).detach().numpy(),
                               theirs.log_prob(X).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.entropy().detach().numpy(), theirs.entropy().detach().numpy(), rtol=1e-12)
    (ours.log_prob(cr.tensor(X.numpy())).sum() + ours.entropy().sum()).backward()
    (theirs.log_prob(X).sum() + theirs.entropy().sum()).backward()
    np.testing.assert_allclose(df_c.grad.numpy(), df_t.grad.numpy(), rtol=1e-8)   # trigamma: 2e-10 apart
    grad_t = mat_t.grad.numpy()
    if kind == "scale_tril":   # torch's gradient to scale_tril's upper triangle is its own; compare the lower
        grad_t = np.tril(grad_t)
    np.testing.assert_allclose(np.tril(mat_c.grad.numpy()) if kind == "scale_tril" else mat_c.grad.numpy(),
                               grad_t, rtol=1e-9, atol=1e-12)
    assert ours.event_shape == (3, 3) and ours.batch_shape == (2,)


def test_bartlett_draws_have_the_wishart_moments_and_gradients():
    cr.manual_seed(0)
    S = SIGMA[0]
    d = Wishart(cr.tensor(6.0, dtype=cr.float64), covariance_matrix=cr.tensor(S))
    X = d.sample((20000,)).numpy()
    assert constraints.positive_definite.check(X).all()
    np.testing.assert_allclose(X.mean(0), 6 * S, atol=0.02 * np.abs(6 * S).max())
    np.testing.assert_allclose(X.var(0), d.variance.numpy(), atol=0.03 * d.variance.numpy().max())
    nu = cr.tensor(6.0, dtype=cr.float64, requires_grad=True)
    cov = cr.tensor(S, requires_grad=True)
    Wishart(nu, covariance_matrix=cov).rsample((20000,)).mean(0).trace().backward()   # E tr X = ν tr Σ
    assert abs(nu.grad.item() - np.trace(S)) < 0.02 * np.trace(S)
    np.testing.assert_allclose(cov.grad.numpy(), 6 * np.eye(3), atol=0.1)


def test_a_singular_draw_is_drawn_again(monkeypatch):
    d = Wishart(cr.tensor(5.0, dtype=cr.float64), covariance_matrix=cr.tensor(SIGMA[0]))
    draws = iter([np.zeros((2, 3, 3)), np.stack([np.eye(3)] * 2)])
    monkeypatch.setattr(d, "_bartlett", lambda shape: cr.tensor(next(draws)))
    with pytest.warns(UserWarning, match="singular sample"):
        X = d.rsample((2,))
    np.testing.assert_array_equal(X.numpy(), np.stack([np.eye(3)] * 2))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="exactly one of"):
        Wishart(5.0, covariance_matrix=cr.eye(3), scale_tril=cr.eye(3))
    with pytest.raises(ValueError, match="df must be greater than p - 1 = 2"):
        Wishart(1.5, covariance_matrix=cr.eye(3))
    with pytest.raises(ValueError, match=r"\(\.\.\., p, p\)"):
        Wishart(5.0, covariance_matrix=cr.ones(3))
    with pytest.warns(UserWarning, match="singular samples are likely"):
        Wishart(2.5, covariance_matrix=cr.eye(3))
    with pytest.raises(ValueError, match="covariance_matrix"):
        Wishart(5.0, covariance_matrix=-cr.eye(3))


def test_positive_definite_is_checked_per_matrix():
    batch = np.stack([SIGMA[0], -SIGMA[0], np.eye(3), np.array([[1.0, 2.0, 0], [0, 1.0, 0], [0, 0, 1.0]])])
    np.testing.assert_array_equal(constraints.positive_definite.check(batch), [True, False, True, False])
