"""torch.distributions' names on chainrule: log_prob, entropy, moments, cdf and KL equal to torch's in float64 with
their gradients; the reparameterisation trick's gradient; sample moments; gradcheck of log_prob; validation errors.
Comparisons with torch skip with a reason when it is missing."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from chainrule.autograd import gradcheck


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _t(x, requires_grad=True):
    return cr.tensor(np.asarray(x, dtype=np.float64), requires_grad=requires_grad)


# name, parameters (as keyword arrays), values inside the support
CASES = [
    ("Normal", dict(loc=[0.5, -1.0, 2.0], scale=[1.0, 0.3, 2.5]), [0.1, -2.0, 4.0]),
    ("LogNormal", dict(loc=[0.5, -1.0], scale=[1.0, 0.3]), [0.7, 0.2]),
    ("Uniform", dict(low=[0.0, -2.0], high=[1.0, 3.0]), [0.25, 1.5]),
    ("Exponential", dict(rate=[0.5, 3.0]), [0.2, 1.7]),
    ("Laplace", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), [-0.5, 2.0]),
    ("Gamma", dict(concentration=[2.0, 0.7], rate=[3.0, 1.2]), [0.4, 1.1]),
    ("Beta", dict(concentration1=[2.0, 0.7], concentration0=[3.0, 1.5]), [0.3, 0.8]),
    ("Poisson", dict(rate=[0.5, 3.0, 7.0]), [0.0, 2.0, 9.0]),
    ("Bernoulli", dict(probs=[0.2, 0.9]), [1.0, 0.0]),
    ("Bernoulli", dict(logits=[-1.5, 2.0]), [0.0, 1.0]),
    ("Categorical", dict(probs=[[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]), [2, 0]),
    ("Categorical", dict(logits=[[0.2, -1.3, 0.5], [1.6, 0.1, -0.3]]), [1, 2]),
    ("OneHotCategorical", dict(probs=[[0.2, 0.3, 0.5]]), [[0.0, 1.0, 0.0]]),
    ("Dirichlet", dict(concentration=[[2.0, 0.7, 1.5]]), [[0.2, 0.5, 0.3]]),
    ("MultivariateNormal", dict(loc=[0.5, -1.0], covariance_matrix=[[2.0, 0.3], [0.3, 0.5]]),
     [[0.1, 0.2], [1.0, -2.0]]),
    ("MultivariateNormal", dict(loc=[0.5, -1.0], scale_tril=[[1.5, 0.0], [0.4, 0.7]]), [0.3, 0.3]),
    ("MultivariateNormal", dict(loc=[0.5, -1.0], precision_matrix=[[2.0, 0.3], [0.3, 0.5]]), [0.3, 0.3]),
    ("StudentT", dict(df=[3.0, 0.8, 5.0], loc=[0.0, 1.0, 2.0], scale=[1.0, 2.0, 0.5]), [0.3, -1.0, 2.0]),
    ("Cauchy", dict(loc=[0.0, 1.0], scale=[1.0, 2.0]), [0.3, -1.0]),
    ("HalfNormal", dict(scale=[1.0, 2.0]), [0.3, 1.0]),
    ("Gumbel", dict(loc=[0.0, 1.0], scale=[1.0, 2.0]), [0.3, -1.0]),
    ("Chi2", dict(df=[3.0, 1.5]), [0.3, 2.0]),
    ("Geometric", dict(probs=[0.3, 0.9]), [0.0, 3.0]),
    ("Geometric", dict(logits=[-0.3, 1.9]), [2.0, 1.0]),
    ("Binomial", dict(total_count=[5.0, 5.0], probs=[0.3, 0.6]), [2.0, 5.0]),
    ("Multinomial", dict(total_count=4, probs=[[0.2, 0.3, 0.5]]), [[1.0, 0.0, 3.0]]),
    ("Weibull", dict(scale=[1.0, 2.0], concentration=[0.7, 3.0]), [0.3, 2.0]),
    ("Pareto", dict(scale=[1.0, 2.0], alpha=[0.7, 3.0]), [1.3, 2.5]),
    ("InverseGamma", dict(concentration=[1.5, 3.0], rate=[1.0, 2.0]), [0.3, 2.0]),
    ("NegativeBinomial", dict(total_count=[3.0, 5.0], probs=[0.3, 0.6]), [2.0, 7.0]),
    ("NegativeBinomial", dict(total_count=[3.0, 0.5], logits=[0.3, -0.6]), [0.0, 1.0]),
    ("ContinuousBernoulli", dict(probs=[0.2, 0.4995, 0.7, 0.5]), [0.1, 0.4, 0.6, 0.9]),   # two in the Taylor zone
    ("ContinuousBernoulli", dict(logits=[-1.0, 0.001, 2.0]), [0.1, 0.5, 0.9]),
    ("LogisticNormal", dict(loc=[[0.3, -0.2, 1.0], [0.0, 0.5, -1.0]], scale=[[1.0, 0.5, 2.0], [0.7, 1.2, 0.9]]),
     [[0.1, 0.2, 0.3, 0.4], [0.05, 0.6, 0.15, 0.2]]),
    ("Kumaraswamy", dict(concentration1=[0.7, 2.0, 5.0], concentration0=[1.5, 0.8, 3.0]), [0.2, 0.5, 0.9]),
    ("LowRankMultivariateNormal", dict(loc=[[0.5, -1.0, 0.2], [0.0, 1.0, 2.0]],
                                       cov_factor=[[1.0, 0.2], [0.3, -0.5], [0.0, 0.7]], cov_diag=[0.5, 1.5, 0.8]),
     [[0.1, 0.2, 0.3], [1.0, -2.0, 0.0]]),
]
NO_ENTROPY = {"Poisson", "Multinomial", "NegativeBinomial", "LogisticNormal"}
# gradients through ψ'(α) (trigamma): torch's is ~4e-10 off (at α = 2: torch 0.64493406709, mpmath and chainrule
# 0.64493406685), so those compare to 1e-8
TRIGAMMA = {"Gamma", "Beta", "Dirichlet", "StudentT", "Chi2", "InverseGamma", "Weibull", "Kumaraswamy"}


def _pair(name, params):
    torch = _torch()
    ours = {k: _t(v) if not isinstance(v, int) else v for k, v in params.items()}
    theirs = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) if not isinstance(v, int) else v
              for k, v in params.items()}
    return getattr(D, name)(**ours), getattr(torch.distributions, name)(**theirs), ours, theirs


@pytest.mark.parametrize("name, params, values", CASES, ids=[f"{c[0]}-{'-'.join(c[1])}" for c in CASES])
def test_log_prob_entropy_and_moments_match_torch(name, params, values):
    torch = _torch()
    ours, theirs, p_ours, p_theirs = _pair(name, params)
    dtype = np.int64 if name == "Categorical" else np.float64
    lp_a = ours.log_prob(cr.tensor(np.asarray(values, dtype=dtype)))
    lp_b = theirs.log_prob(torch.tensor(np.asarray(values, dtype=dtype)))
    np.testing.assert_allclose(lp_a.detach().numpy(), lp_b.detach().numpy(), rtol=1e-10, atol=1e-12)
    total_a, total_b = lp_a.sum(), lp_b.sum()
    if name not in NO_ENTROPY:
        ent_a, ent_b = ours.entropy(), theirs.entropy()
        np.testing.assert_allclose(ent_a.detach().numpy(), ent_b.detach().numpy(), rtol=1e-10, atol=1e-12)
        total_a, total_b = total_a + ent_a.sum(), total_b + ent_b.sum()
    total_a.backward()
    total_b.backward()
    for k in (k for k in params if not isinstance(params[k], int)):
        if k == "total_count" and name != "NegativeBinomial":   # a count: its gradient is a by-product of lgamma
            continue
        np.testing.assert_allclose(p_ours[k].grad.numpy(), p_theirs[k].grad.numpy(),
                                   rtol=1e-8 if name in TRIGAMMA else 1e-9,
                                   atol=1e-9 if name in TRIGAMMA else 1e-12,
                                   err_msg=f"{name}: gradient of log_prob + entropy with respect to {k}")
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(theirs.event_shape)
    for moment in ("mean", "variance", "stddev"):
        try:
            expected = getattr(theirs, moment).detach().numpy()
        except NotImplementedError:
            continue
        np.testing.assert_allclose(getattr(ours, moment).detach().numpy(), expected, rtol=1e-10, equal_nan=True)


CDF_CASES = [("Normal", dict(loc=[0.5, -1.0], scale=[1.0, 0.3]), [0.1, -0.8]),
             ("Uniform", dict(low=[0.0, -2.0], high=[1.0, 3.0]), [0.25, 1.5]),
             ("Exponential", dict(rate=[0.5, 3.0]), [0.2, 1.7]),
             ("Laplace", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), [-0.5, 2.0])]


@pytest.mark.parametrize("name, params, values", CDF_CASES, ids=[c[0] for c in CDF_CASES])
def test_cdf_and_icdf_match_torch(name, params, values):
    torch = _torch()
    ours, theirs, _, _ = _pair(name, params)
    v = np.asarray(values)
    np.testing.assert_allclose(ours.cdf(_t(v)).detach().numpy(), theirs.cdf(torch.tensor(v)).detach().numpy(),
                               rtol=1e-10)
    if name != "Laplace":
        q = np.array([0.3, 0.9])
        np.testing.assert_allclose(ours.icdf(_t(q)).detach().numpy(),
                                   theirs.icdf(torch.tensor(q)).detach().numpy(), rtol=1e-10)


KL_CASES = [
    ("Normal", dict(loc=[0.5, -1.0], scale=[1.0, 0.3]), dict(loc=[0.0, 0.2], scale=[2.0, 0.5])),
    ("LogNormal", dict(loc=[0.5], scale=[1.0]), dict(loc=[0.0], scale=[2.0])),
    ("Bernoulli", dict(probs=[0.2, 0.9]), dict(logits=[0.3, -1.0])),
    ("Categorical", dict(probs=[[0.2, 0.3, 0.5]]), dict(logits=[[0.1, 0.5, -1.0]])),
    ("OneHotCategorical", dict(probs=[[0.2, 0.3, 0.5]]), dict(probs=[[0.4, 0.4, 0.2]])),
    ("Uniform", dict(low=[0.0], high=[1.0]), dict(low=[-1.0], high=[2.0])),
    ("Exponential", dict(rate=[0.5, 3.0]), dict(rate=[1.5, 0.2])),
    ("Laplace", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), dict(loc=[0.5, 0.0], scale=[2.0, 1.0])),
    ("Poisson", dict(rate=[0.5, 3.0]), dict(rate=[1.5, 2.0])),
    ("Gamma", dict(concentration=[2.0, 0.7], rate=[3.0, 1.2]), dict(concentration=[1.0, 2.0], rate=[1.0, 0.5])),
    ("Beta", dict(concentration1=[2.0, 0.7], concentration0=[3.0, 1.5]),
     dict(concentration1=[1.0, 2.0], concentration0=[1.0, 0.5])),
    ("Dirichlet", dict(concentration=[[2.0, 0.7, 1.5]]), dict(concentration=[[1.0, 1.0, 3.0]])),
    ("MultivariateNormal", dict(loc=[0.5, -1.0], covariance_matrix=[[2.0, 0.3], [0.3, 0.5]]),
     dict(loc=[0.0, 0.0], scale_tril=[[1.0, 0.0], [0.5, 2.0]])),
    ("HalfNormal", dict(scale=[1.0, 0.3]), dict(scale=[2.0, 0.5])),
    ("Gumbel", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), dict(loc=[0.5, 0.0], scale=[2.0, 1.0])),
    ("Geometric", dict(probs=[0.3, 0.8]), dict(probs=[0.5, 0.2])),
    ("Binomial", dict(total_count=[5.0, 5.0], probs=[0.3, 0.8]), dict(total_count=[5.0, 5.0], probs=[0.5, 0.2])),
    ("Chi2", dict(df=[3.0, 1.5]), dict(df=[2.0, 4.0])),
]


@pytest.mark.parametrize("name, p, q", KL_CASES, ids=[c[0] for c in KL_CASES])
def test_kl_divergence_and_its_gradient_match_torch(name, p, q):
    torch = _torch()
    p_ours, p_theirs, pa, pb = _pair(name, p)
    q_ours, q_theirs, qa, qb = _pair(name, q)
    kl_a, kl_b = D.kl_divergence(p_ours, q_ours), torch.distributions.kl_divergence(p_theirs, q_theirs)
    np.testing.assert_allclose(kl_a.detach().numpy(), kl_b.detach().numpy(), rtol=1e-10, atol=1e-12)
    kl_a.sum().backward()
    kl_b.sum().backward()
    for ours, theirs in ((pa, pb), (qa, qb)):
        for k in (k for k in ours if k != "total_count"):
            np.testing.assert_allclose(ours[k].grad.numpy(), theirs[k].grad.numpy(),
                                       rtol=1e-8 if name in TRIGAMMA else 1e-9,
                                       atol=1e-9 if name in TRIGAMMA else 1e-12)


def test_kl_is_infinite_where_q_misses_p_and_zero_for_equal_distributions():
    assert D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.0, 1.0)).item() == float("inf")
    assert D.kl_divergence(D.Bernoulli(probs=cr.tensor(0.5)), D.Bernoulli(probs=cr.tensor(0.0))).item() == \
        float("inf")
    p = D.Normal(cr.tensor([0.3]), cr.tensor([1.2]))
    assert abs(D.kl_divergence(p, p).item()) < 1e-7
    with pytest.raises(NotImplementedError, match="Normal ‖ Gamma.*register_kl"):
        D.kl_divergence(p, D.Gamma(1.0, 1.0))


def test_reparameterised_sample_carries_the_gradient():
    """x = μ + σε: ∂x/∂μ = 1 and ∂x/∂σ = ε = (x - μ)/σ, so a loss on samples trains the parameters."""
    cr.manual_seed(0)
    loc, scale = _t([0.5, -1.0]), _t([2.0, 0.5])
    x = D.Normal(loc, scale).rsample((1000,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [1000, 1000])
    eps = (x.detach().numpy() - [0.5, -1.0]) / [2.0, 0.5]
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0), rtol=1e-10)
    assert D.Normal(loc, scale).sample((3,)).requires_grad is False
    with pytest.raises(NotImplementedError, match="Poisson has no reparameterised sampler"):
        D.Poisson(2.0).rsample()


def test_a_gaussian_policy_learns_by_the_reparameterisation_trick():
    """Maximise E[-(x - 3)²] over μ, log σ of N(μ, σ²) by gradient steps on rsample: μ → 3 and σ → 0."""
    cr.manual_seed(1)
    mu, log_sigma = cr.tensor(0.0, requires_grad=True), cr.tensor(0.0, requires_grad=True)
    opt = cr.optim.Adam([mu, log_sigma], lr=0.05)
    for _ in range(300):
        x = D.Normal(mu, log_sigma.exp()).rsample((64,))
        loss = ((x - 3) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert abs(mu.item() - 3) < 0.1 and log_sigma.exp().item() < 0.3


@pytest.mark.parametrize("dist, mean, var", [
    (lambda: D.Normal(1.5, 2.0), 1.5, 4.0), (lambda: D.Uniform(-1.0, 3.0), 1.0, 16 / 12),
    (lambda: D.Exponential(2.0), 0.5, 0.25), (lambda: D.Laplace(1.0, 0.5), 1.0, 0.5),
    (lambda: D.Gamma(3.0, 2.0), 1.5, 0.75), (lambda: D.Beta(2.0, 3.0), 0.4, 0.04),
    (lambda: D.Poisson(4.0), 4.0, 4.0), (lambda: D.Bernoulli(probs=cr.tensor(0.3)), 0.3, 0.21),
    (lambda: D.LogNormal(0.0, 0.5), np.exp(0.125), (np.exp(0.25) - 1) * np.exp(0.25)),
], ids=["Normal", "Uniform", "Exponential", "Laplace", "Gamma", "Beta", "Poisson", "Bernoulli", "LogNormal"])
def test_sample_moments(dist, mean, var):
    cr.manual_seed(2)
    d = dist()
    x = d.sample((40000,)).numpy()
    assert x.shape == (40000,)
    assert abs(x.mean() - mean) < 4 * np.sqrt(var / 40000) + 1e-9
    assert abs(x.var() - var) < 0.05 * var
    np.testing.assert_allclose(d.mean.item(), mean, rtol=1e-6)
    np.testing.assert_allclose(d.variance.item(), var, rtol=1e-6)


def test_categorical_and_multivariate_samples():
    cr.manual_seed(3)
    c = D.Categorical(probs=cr.tensor([0.1, 0.6, 0.3]))
    counts = np.bincount(c.sample((30000,)).numpy(), minlength=3) / 30000
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.3], atol=0.01)
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    m = D.MultivariateNormal(cr.tensor([1.0, -1.0], dtype=cr.float64), cr.tensor(cov))
    x = m.sample((40000,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1.0, -1.0], atol=0.03)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.05)
    one_hot = D.OneHotCategorical(cr.tensor([[0.5, 0.5]])).sample((4,))
    assert one_hot.shape == (4, 1, 2) and (one_hot.numpy().sum(-1) == 1).all()


def test_log_prob_passes_gradcheck():
    assert gradcheck(lambda m, s, x: D.Normal(m, s).log_prob(x), (_t([0.3, -0.2]), _t([1.1, 0.4]), _t([0.5, 0.1])))
    assert gradcheck(lambda a, b, x: D.Beta(a, b).log_prob(x), (_t([2.0, 0.7]), _t([1.5, 3.0]), _t([0.3, 0.6])))
    assert gradcheck(lambda l: D.Categorical(logits=l).log_prob(cr.tensor([2, 0])), (_t([[0.1, 0.5, -1.0]] * 2),))
    tril = _t([[1.5, 0.0], [0.4, 0.7]])
    assert gradcheck(lambda mu, L, x: D.MultivariateNormal(mu, scale_tril=L.tril()).log_prob(x),
                     (_t([0.5, -1.0]), tril, _t([[0.3, 0.3], [1.0, -2.0]])))


def test_bad_parameters_and_values_are_named():
    with pytest.raises(ValueError, match="Normal: expected parameter scale.*GreaterThan.*-1.0"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="Bernoulli: give either probs or logits, not both"):
        D.Bernoulli(probs=cr.tensor(0.5), logits=cr.tensor(0.0))
    with pytest.raises(ValueError, match="Bernoulli: expected parameter probs.*Interval"):
        D.Bernoulli(probs=cr.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match="Categorical: every row of probs must have a positive sum"):
        D.Categorical(probs=cr.zeros(2, 3))
    with pytest.raises(ValueError, match="Uniform: low must be less than high"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="Exponential: expected value argument.*GreaterThanEq"):
        D.Exponential(1.0).log_prob(cr.tensor([-1.0]))
    with pytest.raises(ValueError, match="Categorical: expected value argument.*IntegerInterval"):
        D.Categorical(logits=cr.zeros(3)).log_prob(cr.tensor(3))
    with pytest.raises(ValueError, match="MultivariateNormal: give exactly one"):
        D.MultivariateNormal(cr.zeros(2))
    with pytest.raises(ValueError, match="PositiveDefinite"):
        D.MultivariateNormal(cr.zeros(2), cr.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="does not broadcast"):
        D.Normal(cr.zeros(3), cr.ones(3)).log_prob(cr.zeros(2))
    lp = D.Exponential(1.0, validate_args=False).log_prob(cr.tensor([0.5]))   # checks off: no error
    assert np.isfinite(lp.item())


def test_independent_sums_the_reinterpreted_dims():
    base = D.Normal(cr.zeros(4, 3), cr.ones(4, 3))
    ind = D.Independent(base, 1)
    assert ind.batch_shape == (4,) and ind.event_shape == (3,)
    x = ind.sample((2,))
    np.testing.assert_allclose(ind.log_prob(x).numpy(), base.log_prob(x).sum(-1).numpy(), rtol=1e-6)
    q = D.Independent(D.Normal(cr.ones(4, 3), cr.ones(4, 3)), 1)
    np.testing.assert_allclose(D.kl_divergence(ind, q).numpy(), np.full(4, 1.5), rtol=1e-6)


def _twins(build):
    """build(module, distributions, tensor) for chainrule and torch, with float64 tensors that require grad."""
    torch = _torch()
    made = []
    for m, dm in ((cr, D), (torch, torch.distributions)):
        leaves = []

        def t(values, m=m, leaves=leaves):
            x = m.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
            leaves.append(x)
            return x
        made.append((build(m, dm, t), leaves))
    return made


@pytest.mark.parametrize("case", ["tanh_normal", "affine_exp", "sigmoid", "softplus_power", "relaxed_bernoulli",
                                  "relaxed_one_hot", "mixture", "mixture_mvn"])
def test_transformed_relaxed_and_mixture_log_probs_match_torch(case):
    build, value = {
        "tanh_normal": (lambda m, dm, t: dm.TransformedDistribution(dm.Normal(t([0.3, -0.2]), t([1.0, 0.5])),
                                                                    [dm.TanhTransform()]), [0.5, -0.9]),
        "affine_exp": (lambda m, dm, t: dm.TransformedDistribution(
            dm.Normal(t([0.3, -0.2]), t([1.0, 0.5])), [dm.ExpTransform(), dm.AffineTransform(t([1.0, 2.0]),
                                                                                            t([0.5, 3.0]))]),
                       [1.7, 5.0]),
        "sigmoid": (lambda m, dm, t: dm.TransformedDistribution(dm.Normal(t([0.3]), t([1.5])),
                                                                dm.SigmoidTransform()), [0.2]),
        "softplus_power": (lambda m, dm, t: dm.TransformedDistribution(
            dm.Normal(t([0.3]), t([1.5])), [dm.transforms.SoftplusTransform(), dm.transforms.PowerTransform(2.0)]),
                           [0.8]),
        "relaxed_bernoulli": (lambda m, dm, t: dm.RelaxedBernoulli(t(0.7), logits=t([0.3, -1.0])), [0.2, 0.9]),
        "relaxed_one_hot": (lambda m, dm, t: dm.RelaxedOneHotCategorical(t(0.5), logits=t([0.3, -1.0, 0.2])),
                            [0.2, 0.5, 0.3]),
        "mixture": (lambda m, dm, t: dm.MixtureSameFamily(dm.Categorical(logits=t([0.1, 0.5, -0.2])),
                                                          dm.Normal(t([-1.0, 0.0, 2.0]), t([0.5, 1.0, 0.7]))),
                    [0.3, 1.5]),
        "mixture_mvn": (lambda m, dm, t: dm.MixtureSameFamily(
            dm.Categorical(logits=t([0.1, -0.4])),
            dm.Independent(dm.Normal(t([[0.0, 1.0], [2.0, -1.0]]), t([[1.0, 0.5], [0.7, 2.0]])), 1)),
                        [[0.3, 1.5], [1.0, -2.0]]),
    }[case]
    torch = _torch()
    (ours, ours_leaves), (theirs, theirs_leaves) = _twins(build)
    a, b = ours.log_prob(cr.tensor(value, dtype=cr.float64)), theirs.log_prob(torch.tensor(value, dtype=torch.float64))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)
    a.sum().backward()
    b.sum().backward()
    for x, y in zip(ours_leaves, theirs_leaves):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(theirs.event_shape)
    if case.startswith("mixture"):
        np.testing.assert_allclose(ours.mean.detach().numpy(), theirs.mean.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.variance.detach().numpy(), theirs.variance.detach().numpy(), rtol=1e-10)


def test_tanh_squashed_sample_is_differentiable_and_mixture_samples_follow_the_weights():
    cr.manual_seed(5)
    loc = cr.tensor([0.5], requires_grad=True)
    d = D.TransformedDistribution(D.Normal(loc, cr.tensor([0.1])), [D.TanhTransform()])
    y = d.rsample((2000,))
    assert (y.abs() < 1).all().item()
    y.mean().backward()
    assert abs(loc.grad.item() - (1 - np.tanh(0.5) ** 2)) < 0.02   # d tanh(μ + σε)/dμ ≈ 1 - tanh²μ for small σ
    gmm = D.MixtureSameFamily(D.Categorical(probs=cr.tensor([0.2, 0.8])), D.Normal(cr.tensor([-10.0, 10.0]),
                                                                                     cr.tensor([0.1, 0.1])))
    draws = gmm.sample((5000,)).numpy()
    assert draws.shape == (5000,) and abs((draws > 0).mean() - 0.8) < 0.02
    relaxed = D.RelaxedOneHotCategorical(cr.tensor(0.1), probs=cr.tensor([0.2, 0.8])).rsample((1000,))
    np.testing.assert_allclose(relaxed.numpy().sum(-1), 1, rtol=1e-5)
    assert abs((relaxed.numpy().argmax(-1) == 1).mean() - 0.8) < 0.04
    with pytest.raises(ValueError, match="MixtureSameFamily: the mixture has 3 weights"):
        D.MixtureSameFamily(D.Categorical(logits=cr.zeros(3)), D.Normal(cr.zeros(2), cr.ones(2)))


@pytest.mark.parametrize("make", [
    lambda m: m.Normal(0.0, 1.0), lambda m: m.LogNormal(m_t(m, [0.0, 1.0]), 1.0),
    lambda m: m.Geometric(probs=m_t(m, 0.3)),
    lambda m: m.Bernoulli(logits=m_t(m, 0.3)), lambda m: m.Categorical(probs=m_t(m, [0.2, 0.8])),
    lambda m: m.OneHotCategorical(probs=m_t(m, [0.2, 0.8])), lambda m: m.Multinomial(3, probs=m_t(m, [0.2, 0.8])),
    lambda m: m.Independent(m.Normal(m_t(m, [0.0, 0.0]), m_t(m, [1.0, 1.0])), 1),
    lambda m: m.MultivariateNormal(m_t(m, [0.0, 0.0]), m_t(m, [[1.0, 0.0], [0.0, 1.0]])),
    lambda m: m.RelaxedBernoulli(m_t(m, 0.5), probs=m_t(m, 0.3)), lambda m: m.Dirichlet(m_t(m, [1.0, 2.0, 3.0])),
    lambda m: m.MixtureSameFamily(m.Categorical(logits=m_t(m, [0.0, 1.0])), m.Normal(m_t(m, [0.0, 1.0]), 1.0)),
], ids=["Normal", "LogNormal", "Geometric", "Bernoulli", "Categorical", "OneHotCategorical", "Multinomial",
        "Independent", "MultivariateNormal", "RelaxedBernoulli", "Dirichlet", "MixtureSameFamily"])
def test_expand_gives_torchs_shapes(make):
    torch = _torch()
    ours, theirs = make(D), make(torch.distributions)
    e, te = ours.expand((4,) + ours.batch_shape), theirs.expand((4,) + tuple(theirs.batch_shape))
    assert e.batch_shape == tuple(te.batch_shape) and e.event_shape == tuple(te.event_shape)
    draws = e.sample((2,))
    assert draws.shape == tuple(te.sample((2,)).shape)
    np.testing.assert_allclose(e.log_prob(draws).detach().numpy(),
                               te.log_prob(torch.tensor(draws.numpy())).detach().numpy(), rtol=1e-5, atol=1e-6)


def m_t(dists, values):
    """A float32 tensor of the library whose distributions module `dists` is (chainrule's or torch's)."""
    if dists is D:
        return cr.tensor(values)
    import torch
    return torch.tensor(values, dtype=torch.float32)


def test_von_mises_matches_torch_and_samples_the_circle():
    """torch computes log I₀(κ) by an Abramowitz-Stegun polynomial good to ~1e-7; chainrule's i0e is exact to
    float64 (tests/test_torch_special.py), so the two agree to 1e-6."""
    torch = _torch()
    loc, kappa, x = [0.5, -2.0, 3.0], [2.0, 0.3, 40.0], [0.3, 1.0, -3.0]
    (ours, theirs, po, pt) = _pair("VonMises", dict(loc=loc, concentration=kappa))
    lo, lt = ours.log_prob(_t(x, False)), theirs.log_prob(torch.tensor(x, dtype=torch.float64))
    np.testing.assert_allclose(lo.detach().numpy(), lt.detach().numpy(), rtol=1e-6)
    lo.sum().backward()
    lt.sum().backward()
    for k in po:
        np.testing.assert_allclose(po[k].grad.numpy(), pt[k].grad.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.variance.detach().numpy(), theirs.variance.detach().numpy(), atol=1e-6)
    cr.manual_seed(3)
    for k in (0.5, 4.0, 50.0):
        d = D.VonMises(cr.tensor(1.0, dtype=cr.float64), cr.tensor(k, dtype=cr.float64))
        s = d.sample((100000,)).numpy()
        assert (np.abs(s) <= np.pi).all()
        resultant = np.mean(np.exp(1j * s))
        assert abs(np.angle(resultant) - 1.0) < 0.02 and abs((1 - abs(resultant)) - d.variance.item()) < 0.01
