"""biject_to / transform_to, the transforms they build, HalfCauchy, OneHotCategoricalStraightThrough and
distributions.utils against torch (float64): forward and inverse maps, log|det J|, log_prob, cdf/icdf, entropy
and gradients."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from chainrule.distributions import constraints

torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
TD = torch.distributions

CONSTRAINTS = [("real", lambda c: c.real), ("positive", lambda c: c.positive), ("nonnegative", lambda c: c.nonnegative),
               ("greater_than", lambda c: c.greater_than(1.5)), ("less_than", lambda c: c.less_than(-2.0)),
               ("unit_interval", lambda c: c.unit_interval), ("interval", lambda c: c.interval(-1.0, 3.0)),
               ("simplex", lambda c: c.simplex), ("real_vector", lambda c: c.real_vector),
               ("independent", lambda c: c.independent(c.positive, 1)),
               ("lower_cholesky", lambda c: c.lower_cholesky), ("positive_definite", lambda c: c.positive_definite)]
MATRIX = {"lower_cholesky", "positive_definite"}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name,make", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
def test_registry_maps_onto_the_constraint_as_torch(registry, name, make):
    theirs_registry, ours_registry = getattr(TD, registry), getattr(D, registry)
    try:
        theirs = theirs_registry(make(TD.constraints))
    except NotImplementedError:
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            ours_registry(make(constraints))
        return
    ours = ours_registry(make(constraints))
    u = np.random.default_rng(0).standard_normal((3, 3, 3) if name in MATRIX else (4, 3))
    uc, ut = cr.tensor(u, requires_grad=True), torch.tensor(u, requires_grad=True)
    xc, xt = ours(uc), theirs(ut)
    np.testing.assert_allclose(xc.detach().numpy(), xt.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.all(make(constraints).check(xc.detach().numpy()))
    if theirs.bijective:
        np.testing.assert_allclose(ours.inv(xc).detach().numpy(), theirs.inv(xt).detach().numpy(), rtol=1e-8,
                                   atol=1e-10)
        lc, lt = ours.log_abs_det_jacobian(uc, xc), theirs.log_abs_det_jacobian(ut, xt)
        np.testing.assert_allclose(np.broadcast_to(lc.detach().numpy(), lt.shape), lt.detach().numpy(), rtol=1e-9,
                                   atol=1e-12)
        (lc.sum() + xc.sum()).backward()
        (lt.sum() + xt.sum()).backward()
        np.testing.assert_allclose(uc.grad.numpy(), ut.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_dependent_and_unknown_constraints_are_named_errors():
    with pytest.raises(NotImplementedError, match="Cannot transform Dependent"):
        D.biject_to(constraints.dependent)
    assert constraints.is_dependent(constraints.dependent) and not constraints.is_dependent(constraints.real)

    class Odd(constraints.Constraint):
        pass
    odd = Odd("Odd()", lambda v: v % 2 == 1)
    D.biject_to.register(Odd, lambda c: D.AffineTransform(1.0, 2.0))
    assert D.biject_to(odd)(cr.tensor(3.0)).item() == 7.0


def test_a_parameter_optimised_unconstrained_stays_in_the_support():
    """The VI idiom: optimise u freely, use biject_to(support)(u) as the Gamma's rate."""
    u = cr.zeros(3, requires_grad=True)
    to_rate = D.biject_to(D.Gamma.arg_constraints["rate"])
    opt = cr.optim.Adam([u], lr=0.1)
    data = cr.tensor([0.5, 1.0, 2.0])
    for _ in range(200):
        opt.zero_grad()
        loss = -D.Exponential(to_rate(u)).log_prob(data).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(to_rate(u).detach().numpy(), 1 / data.numpy(), rtol=2e-2)


def test_inverse_transforms_are_transforms():
    t = D.ComposeTransform([D.ExpTransform(), D.AffineTransform(1.0, 3.0)])
    x = cr.tensor([0.1, -0.4])
    y = t(x)
    assert t.inv.inv is t
    np.testing.assert_allclose(t.inv(y).numpy(), x.numpy(), rtol=1e-6)
    np.testing.assert_allclose(t.inv.log_abs_det_jacobian(y, x).numpy(), -t.log_abs_det_jacobian(x, y).numpy())
    r = D.ReshapeTransform((2, 3), (6,))
    assert r.forward_shape((5, 2, 3)) == (5, 6) and r.inv.forward_shape((5, 6)) == (5, 2, 3)


@pytest.mark.parametrize("name,args,shape", [("SoftmaxTransform", (), (4, 3)), ("AbsTransform", (), (4, 3)),
                                             ("ReshapeTransform", ((2, 3), (3, 2)), (4, 2, 3)),
                                             ("LowerCholeskyTransform", (), (2, 3, 3)),
                                             ("PositiveDefiniteTransform", (), (2, 3, 3))])
def test_transforms_match_torch(name, args, shape):
    u = np.random.default_rng(1).standard_normal(shape)
    ours, theirs = getattr(D, name)(*args), getattr(TD.transforms, name)(*args)
    np.testing.assert_allclose(ours(cr.tensor(u)).numpy(), theirs(torch.tensor(u)).numpy(), rtol=1e-10, atol=1e-12)
    y = theirs(torch.tensor(u))
    np.testing.assert_allclose(ours.inv(cr.tensor(y.numpy())).numpy(), theirs.inv(y).numpy(), rtol=1e-8, atol=1e-10)


def test_half_cauchy_matches_torch():
    scale = np.array([0.5, 2.0, 3.0])
    x = np.array([0.3, 4.0, 1.2])
    sc, st = cr.tensor(scale, requires_grad=True), torch.tensor(scale, requires_grad=True)
    ours, theirs = D.HalfCauchy(sc), TD.HalfCauchy(st)
    for fn, arg in [("log_prob", x), ("cdf", x), ("icdf", np.array([0.1, 0.5, 0.9]))]:
        np.testing.assert_allclose(getattr(ours, fn)(cr.tensor(arg)).detach().numpy(),
                                   getattr(theirs, fn)(torch.tensor(arg)).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.entropy().detach().numpy(), theirs.entropy().detach().numpy(), rtol=1e-12)
    assert np.isinf(ours.mean.detach().numpy()).all() and np.isinf(ours.variance.detach().numpy()).all()
    ours.log_prob(cr.tensor(x)).sum().backward()
    theirs.log_prob(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(sc.grad.numpy(), st.grad.numpy(), rtol=1e-12)
    loose = D.HalfCauchy(cr.tensor(scale), validate_args=False)
    assert loose.log_prob(cr.tensor(-1.0)).numpy()[0] == -np.inf   # outside the support, as torch
    cr.manual_seed(0)
    draws = D.HalfCauchy(cr.tensor(2.0)).rsample((20000,)).numpy()
    assert (draws >= 0).all() and abs(np.median(draws) - 2.0) < 0.1   # the median of |Cauchy(0, γ)| is γ


def test_straight_through_one_hot_passes_the_gradient_to_the_probabilities():
    logits = np.array([[0.2, -1.0, 0.5], [1.5, 0.0, -0.3]])
    w = np.array([[1.0, 2.0, -1.0], [0.5, -2.0, 3.0]])
    lc, lt = cr.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    xc = D.OneHotCategoricalStraightThrough(logits=lc).rsample()
    xt = TD.OneHotCategoricalStraightThrough(logits=lt).rsample()
    assert set(xc.detach().numpy().sum(-1)) == {1.0}
    (cr.tensor(w) * xc).sum().backward()
    (torch.tensor(w) * xt).sum().backward()
    np.testing.assert_allclose(lc.grad.numpy(), lt.grad.numpy(), rtol=1e-12)


def test_utils_match_torch():
    from torch.distributions import utils as tu

    from chainrule.distributions import utils as cu
    p = np.array([0.0, 0.3, 1.0])
    z = np.array([[0.5, -2.0, 1.0]])
    for binary in (False, True):
        np.testing.assert_allclose(cu.probs_to_logits(cr.tensor(p), binary).numpy(),
                                   tu.probs_to_logits(torch.tensor(p), binary).numpy(), rtol=1e-12)
        np.testing.assert_allclose(cu.logits_to_probs(cr.tensor(z), binary).numpy(),
                                   tu.logits_to_probs(torch.tensor(z), binary).numpy(), rtol=1e-12)
    np.testing.assert_allclose(cu.clamp_probs(cr.tensor(p)).numpy(), tu.clamp_probs(torch.tensor(p)).numpy())
    a, b = cu.broadcast_all(cr.tensor([1.0, 2.0]), 3.0)
    assert a.shape == b.shape == (2,)


@pytest.mark.parametrize("name,kwargs", [("Bernoulli", {"probs": [[0.2, 0.7, 0.5]]}),
                                         ("Categorical", {"probs": [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]}),
                                         ("OneHotCategorical", {"logits": [[0.2, -0.3], [1.0, 0.5], [0.0, 0.0]]}),
                                         ("Binomial", {"total_count": 4.0, "probs": [0.3, 0.6]})])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support_matches_torch(name, kwargs, expand):
    ours = getattr(D, name)(**{k: cr.tensor(np.array(v)) if isinstance(v, list) else v for k, v in kwargs.items()})
    theirs = getattr(TD, name)(**{k: torch.tensor(np.array(v)) if isinstance(v, list) else v
                                  for k, v in kwargs.items()})
    assert ours.has_enumerate_support and theirs.has_enumerate_support
    values_c, values_t = ours.enumerate_support(expand), theirs.enumerate_support(expand)
    assert tuple(values_c.shape) == tuple(values_t.shape)
    np.testing.assert_array_equal(values_c.numpy(), values_t.numpy())
    # the idiom it serves: an exact expectation, Σ over the support of p(v)·f(v)
    np.testing.assert_allclose(ours.log_prob(ours.enumerate_support()).exp().sum(0).numpy(), 1.0, rtol=1e-12)


def test_enumerate_support_is_refused_where_it_does_not_exist():
    with pytest.raises(NotImplementedError, match="no finite support"):
        D.Normal(0.0, 1.0).enumerate_support()
    with pytest.raises(NotImplementedError, match="total_count differs"):
        D.Binomial(cr.tensor([2.0, 3.0]), probs=cr.tensor([0.5, 0.5])).enumerate_support()


@pytest.mark.parametrize("loc,scale,xi", [(0.5, 2.0, 0.3), (0.0, 1.0, 0.0), (1.0, 0.5, -0.4)])
def test_generalized_pareto_matches_torch(loc, scale, xi):
    """float32 (torch's GeneralizedPareto fails on float64 parameters: its isclose compares with a float32 zero)."""
    params = [np.array(v, np.float32) for v in (loc, scale, xi)]
    pc = [cr.tensor(v, requires_grad=True) for v in params]
    pt = [torch.tensor(v, requires_grad=True) for v in params]
    ours, theirs = D.GeneralizedPareto(*pc), TD.GeneralizedPareto(*pt)
    x = np.array([loc + 0.2, loc + 0.5, loc + 0.6], np.float32)
    u = np.array([0.1, 0.5, 0.9], np.float32)
    for fn, arg in [("log_prob", x), ("cdf", x), ("icdf", u), ("log_survival_function", x)]:
        np.testing.assert_allclose(getattr(ours, fn)(cr.tensor(arg)).detach().numpy(),
                                   getattr(theirs, fn)(torch.tensor(arg)).detach().numpy(), rtol=1e-5, atol=1e-6)
    for prop in ("entropy", "mean", "variance"):
        a = getattr(ours, prop)() if prop == "entropy" else getattr(ours, prop)
        b = getattr(theirs, prop)() if prop == "entropy" else getattr(theirs, prop)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
    assert repr(ours.support) == repr(theirs.support)
    ours.log_prob(cr.tensor(x)).sum().backward()
    theirs.log_prob(torch.tensor(x)).sum().backward()
    for a, b in zip(pc, pt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-6)
    cr.manual_seed(0)
    draws = D.GeneralizedPareto(loc, scale, xi).rsample((4000,)).numpy()
    assert np.all(ours.support.check(draws))


def test_cumulative_distribution_transform_matches_torch():
    x = np.array([-1.0, 0.2, 1.5])
    ours = D.CumulativeDistributionTransform(D.Normal(0.0, 2.0))
    theirs = TD.transforms.CumulativeDistributionTransform(TD.Normal(0.0, 2.0))
    y = ours(cr.tensor(x, dtype=cr.float32))
    np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x, dtype=torch.float32)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.inv(y).numpy(), x, rtol=1e-5)
    np.testing.assert_allclose(ours.log_abs_det_jacobian(cr.tensor(x, dtype=cr.float32), y).numpy(),
                               theirs.log_abs_det_jacobian(torch.tensor(x, dtype=torch.float32),
                                                           torch.tensor(y.numpy())).numpy(), rtol=1e-6)


def test_exponential_families_are_marked_as_in_torch():
    made = {"Normal": (0.0, 1.0), "Exponential": (1.0,), "Gamma": (2.0, 1.0), "Beta": (2.0, 3.0), "Chi2": (3.0,),
            "Poisson": (2.0,), "Laplace": (0.0, 1.0), "Cauchy": (0.0, 1.0), "StudentT": (3.0,)}
    for name, args in made.items():
        assert isinstance(getattr(D, name)(*args), D.ExponentialFamily) == \
            isinstance(getattr(TD, name)(*[torch.tensor(a) for a in args]), TD.ExponentialFamily), name
    assert isinstance(D.Bernoulli(probs=0.3), D.ExponentialFamily)
    assert isinstance(D.Dirichlet(cr.ones(3)), D.ExponentialFamily)


@pytest.mark.parametrize("name", ["cat", "stack"])
def test_cat_and_stack_transforms_match_torch(name):
    def make(M):
        if name == "cat":
            return M.CatTransform([M.ExpTransform(), M.AffineTransform(1.0, 2.0), M.SigmoidTransform()], dim=1,
                                  lengths=[2, 2, 1])
        return M.StackTransform([M.ExpTransform(), M.AffineTransform(1.0, -3.0), M.TanhTransform(),
                                 M.SoftplusTransform()], dim=0)
    x = np.random.default_rng(0).standard_normal((4, 5))
    ours, theirs = make(D), make(TD.transforms)
    xc = cr.tensor(x, requires_grad=True)
    yc, yt = ours(xc), theirs(torch.tensor(x))
    np.testing.assert_allclose(yc.detach().numpy(), yt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.inv(yc).detach().numpy(), theirs.inv(yt).numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.log_abs_det_jacobian(xc, yc).detach().numpy(),
                               theirs.log_abs_det_jacobian(torch.tensor(x), yt).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="expected"):
        ours(cr.zeros(4, 7) if name == "cat" else cr.zeros(3, 5))
