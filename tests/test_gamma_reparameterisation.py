"""Reparameterised Gamma draws (implicit differentiation, ∂z/∂α = -(∂P/∂α)/p(z)) and what is built on them: Gamma,
Chi2, Beta, Dirichlet, StudentT's degrees of freedom, FisherSnedecor. The derivative is checked against mpmath
(exact) and torch's _standard_gamma_grad (an approximation), the samplers' gradients against the derivatives of
closed-form means, FisherSnedecor against torch. The deterministic twin, gamma_quantile, is gradchecked in the
registry (tests/test_ops.py)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from chainrule.ops.incomplete_gamma import _np_gamma_quantile, _np_gamma_quantile_grad_a, _np_gammainc
from helpers import torch_or_skip

POINTS = [(0.05, 1e-20), (0.3, 0.2), (1.0, 1.0), (2.5, 3.0), (10.0, 9.0), (100.0, 110.0), (0.5, 5.0)]


def test_the_implicit_derivative_is_exact_to_1e9():
    mp = pytest.importorskip("mpmath", reason="mpmath gives the exact derivative of the incomplete gamma function")
    mp.mp.dps = 40
    for a, z in POINTS[1:]:
        dp_da = mp.diff(lambda s: mp.gammainc(s, 0, z, regularized=True), a)
        exact = -dp_da / (mp.power(z, a - 1) * mp.exp(-z) / mp.gamma(a))
        assert abs(_np_gamma_quantile_grad_a(a, z) / float(exact) - 1) < 1e-9, (a, z)


def test_the_implicit_derivative_agrees_with_torchs_approximation():
    torch = torch_or_skip()
    a, z = (np.array(v) for v in zip(*POINTS))
    ours = _np_gamma_quantile_grad_a(a, z)
    theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(z)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-3)   # torch's rational approximations are good to ~4e-4


def test_gamma_quantile_inverts_gammainc():
    a = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 100.0, 0.5])
    u = np.array([0.01, 0.3, 0.5, 0.9, 0.999, 0.5, 1e-5])
    z = _np_gamma_quantile(a, u)
    np.testing.assert_allclose(_np_gammainc(a, z), u, rtol=1e-12, atol=1e-18)
    assert _np_gamma_quantile(2.0, 0.0) == 0 and _np_gamma_quantile(2.0, 1.0) == np.inf


def test_gamma_rsample_gradients_are_those_of_its_mean():
    """E[x] = α/β, so the mean over many draws of ∂x/∂α is 1/β and of ∂x/∂β is -α/β² (the draws' own gradient,
    not a score-function estimate)."""
    cr.manual_seed(0)
    alpha = cr.tensor([0.4, 2.0, 15.0], dtype=cr.float64, requires_grad=True)
    beta = cr.tensor([0.5, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    x = D.Gamma(alpha, beta).rsample((40000,))
    x.mean(0).sum().backward()
    np.testing.assert_allclose(alpha.grad.numpy(), 1 / beta.detach().numpy(), rtol=0.03)
    np.testing.assert_allclose(beta.grad.numpy(), -alpha.detach().numpy() / beta.detach().numpy() ** 2, rtol=0.03)
    assert D.Gamma(alpha, beta).has_rsample and D.Chi2(alpha).has_rsample
    df = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    D.Chi2(df).rsample((40000,)).mean().backward()       # E = k
    assert abs(df.grad.item() - 1) < 0.03


def test_beta_dirichlet_and_student_t_reparameterise_through_the_gammas():
    cr.manual_seed(1)
    a = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    b = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    D.Beta(a, b).rsample((40000,)).mean().backward()       # E = a/(a+b)
    assert abs(a.grad.item() - 3 / 25) < 0.01 and abs(b.grad.item() + 2 / 25) < 0.01
    conc = cr.tensor([1.0, 2.0, 5.0], dtype=cr.float64, requires_grad=True)
    x = D.Dirichlet(conc).rsample((40000,))
    np.testing.assert_allclose(x.sum(-1).detach().numpy(), 1.0, rtol=1e-12)
    x[:, 2].mean().backward()                              # E[x₂] = α₂/α₀
    np.testing.assert_allclose(conc.grad.numpy(), [-5 / 64, -5 / 64, 3 / 64], atol=0.006)
    nu = cr.tensor(6.0, dtype=cr.float64, requires_grad=True)
    (D.StudentT(nu).rsample((60000,)) ** 2).mean().backward()   # E[t²] = ν/(ν-2): d/dν = -2/(ν-2)²
    assert abs(nu.grad.item() + 2 / 16) < 0.02


def test_fisher_snedecor_matches_torch_and_trains_both_degrees_of_freedom():
    torch = torch_or_skip()
    d1, d2 = np.array([3.0, 6.0, 1.5]), np.array([5.0, 9.0, 2.5])
    ours = D.FisherSnedecor(cr.tensor(d1, requires_grad=True), cr.tensor(d2, requires_grad=True))
    theirs = torch.distributions.FisherSnedecor(torch.tensor(d1, requires_grad=True), torch.tensor(d2))
    v = np.array([0.5, 1.3, 4.0])
    np.testing.assert_allclose(ours.log_prob(cr.tensor(v)).detach().numpy(),
                               theirs.log_prob(torch.tensor(v)).detach().numpy(), rtol=1e-12)
    for name in ("mean", "variance", "mode"):
        np.testing.assert_allclose(getattr(ours, name).detach().numpy(), getattr(theirs, name).detach().numpy(),
                                   rtol=1e-12)
    ours.log_prob(cr.tensor(v)).sum().backward()
    theirs.log_prob(torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ours.df1.grad.numpy(), theirs.df1.grad.numpy(), rtol=1e-10)
    assert ours.has_rsample == theirs.has_rsample
    cr.manual_seed(2)
    df2 = cr.tensor(10.0, dtype=cr.float64, requires_grad=True)
    x = D.FisherSnedecor(cr.tensor(4.0, dtype=cr.float64), df2).rsample((100000,))
    assert abs(x.mean().item() - 10 / 8) < 0.02
    x.mean().backward()                                    # E = d₂/(d₂-2): d/dd₂ = -2/(d₂-2)²
    assert abs(df2.grad.item() + 2 / 64) < 0.006
    with pytest.raises(ValueError, match="df1"):
        D.FisherSnedecor(cr.tensor([-1.0]), cr.tensor([2.0]))
    from chainrule.distributions.fishersnedecor import FisherSnedecor   # torch's module path
    assert FisherSnedecor is D.FisherSnedecor
