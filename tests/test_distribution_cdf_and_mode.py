"""cdf / icdf through monotone transforms (a decreasing one flips the cdf), the Gamma family's cdf, and the modes
torch defines, against torch; the Kumaraswamy mode and the Multinomial entropy against their definitions."""
import itertools
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from chainrule.autograd import gradcheck


def _t(x, requires_grad=False):
    return cr.tensor(np.asarray(x, dtype=np.float64), requires_grad=requires_grad)


# name, parameters, values in the support (for cdf), and whether icdf is defined
CDF_CASES = [
    ("Gamma", dict(concentration=[2.0, 0.7], rate=[3.0, 1.2]), [0.4, 1.1], False),
    ("Chi2", dict(df=[3.0, 1.5]), [0.3, 2.0], False),
    ("InverseGamma", dict(concentration=[1.5, 3.0], rate=[1.0, 2.0]), [0.3, 2.0], False),
    ("LogNormal", dict(loc=[0.5, -1.0], scale=[1.0, 0.3]), [0.7, 0.2], True),
    ("Laplace", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), [-0.5, 2.0], True),
    ("Gumbel", dict(loc=[0.0, 1.0], scale=[1.0, 2.0]), [0.3, -1.0], True),
    ("Weibull", dict(scale=[1.0, 2.0], concentration=[0.7, 3.0]), [0.3, 2.0], True),
    ("Pareto", dict(scale=[1.0, 2.0], alpha=[0.7, 3.0]), [1.3, 2.5], True),
    ("Kumaraswamy", dict(concentration1=[0.7, 2.0, 5.0], concentration0=[1.5, 0.8, 3.0]), [0.2, 0.5, 0.9], True),
]


@pytest.mark.parametrize("name, params, values, has_icdf", CDF_CASES, ids=[c[0] for c in CDF_CASES])
def test_cdf_and_icdf_as_torch(name, params, values, has_icdf):
    torch = pytest.importorskip("torch", reason="torch is the oracle for cdf and icdf")
    ours = getattr(D, name)(**{k: _t(v) for k, v in params.items()})
    theirs = getattr(torch.distributions, name)(**{k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()})
    np.testing.assert_allclose(ours.cdf(_t(values)).numpy(), theirs.cdf(torch.tensor(values, dtype=torch.float64)).numpy(), rtol=1e-10)
    if has_icdf:
        q = np.linspace(0.1, 0.9, len(values))
        x = ours.icdf(_t(q))
        np.testing.assert_allclose(x.numpy(), theirs.icdf(torch.tensor(q)).numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.cdf(x).numpy(), q, rtol=1e-10)


def test_kumaraswamy_cdf_is_increasing():
    """Its transforms include y = 1 - x (decreasing): the cdf was returned as the survival function."""
    k = D.Kumaraswamy(_t(2.0), _t(3.0))
    xs = np.linspace(0.05, 0.95, 7)
    cdf = k.cdf(_t(xs)).numpy()
    np.testing.assert_allclose(cdf, 1 - (1 - xs ** 2) ** 3, rtol=1e-12)
    assert np.all(np.diff(cdf) > 0)


def test_gamma_cdf_gradient_in_the_value():
    g = D.Gamma(_t([2.0, 0.7]), _t([3.0, 1.2]))
    assert gradcheck(lambda v: g.cdf(v), (_t([0.4, 1.1], requires_grad=True),))
    x = _t([0.4, 1.1], requires_grad=True)
    g.cdf(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g.log_prob(x.detach()).exp().numpy(), rtol=1e-10)   # dF/dx = p


def test_signs_of_transforms():
    T = D.transforms
    assert T.AffineTransform(0.0, -2.0).sign == -1 and T.AffineTransform(1.0, 3.0).sign == 1
    assert T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, -1.0)]).sign == -1
    np.testing.assert_array_equal(T.PowerTransform(_t([2.0, -1.0])).sign.numpy(), [1.0, -1.0])
    with pytest.raises(NotImplementedError, match="StickBreakingTransform.sign: the transform is not monotone"):
        T.StickBreakingTransform().sign
    with pytest.raises(NotImplementedError, match="not monotone"):
        D.LogisticNormal(_t([0.3, -0.2]), _t([1.0, 0.5])).cdf(_t([0.2, 0.3, 0.5]))


MODE_CASES = [
    ("Dirichlet", dict(concentration=[[2.0, 3.0, 1.5], [1.2, 0.5, 4.0]])),
    ("Beta", dict(concentration1=[2.0, 3.0], concentration0=[1.5, 4.0])),
    ("Binomial", dict(total_count=[5.0, 7.0], probs=[0.3, 0.6])),
    ("OneHotCategorical", dict(probs=[[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])),
    ("Uniform", dict(low=[0.0, -2.0], high=[1.0, 3.0])),
]


@pytest.mark.parametrize("name, params", MODE_CASES, ids=[c[0] for c in MODE_CASES])
def test_mode_as_torch(name, params):
    torch = pytest.importorskip("torch", reason="torch is the oracle for the modes")
    ours = getattr(D, name)(**{k: _t(v) for k, v in params.items()}).mode
    theirs = getattr(torch.distributions, name)(**{k: torch.tensor(v, dtype=torch.float64)
                                                   for k, v in params.items()}).mode
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, equal_nan=True)


def test_modes_by_definition():
    a, b = np.array([2.0, 5.0, 1.0, 0.7]), np.array([3.0, 2.0, 2.0, 2.0])
    mode = D.Kumaraswamy(_t(a), _t(b)).mode.numpy()
    xs = np.linspace(1e-6, 1 - 1e-6, 200001)
    for i in range(3):   # the argmax of the density; a < 1 has its peak at 0 and no interior mode (NaN)
        density = a[i] * b[i] * xs ** (a[i] - 1) * (1 - xs ** a[i]) ** (b[i] - 1)
        assert abs(mode[i] - xs[np.argmax(density)]) < 1e-5
    assert np.isnan(mode[3])
    vertex = D.Dirichlet(_t([[0.5, 0.2, 0.9]])).mode.numpy()   # every α < 1: the vertex of the smallest α
    np.testing.assert_array_equal(vertex, [[0.0, 1.0, 0.0]])


def test_multinomial_entropy_by_enumeration():
    p, n = np.array([0.2, 0.3, 0.5]), 4
    exact = 0.0
    for x in itertools.product(range(n + 1), repeat=3):
        if sum(x) == n:
            lp = math.lgamma(n + 1) - sum(math.lgamma(k + 1) for k in x) + sum(k * math.log(q) for k, q in zip(x, p))
            exact -= math.exp(lp) * lp
    batch = D.Multinomial(n, probs=_t([p, p[::-1]])).entropy().numpy()
    np.testing.assert_allclose(batch, [exact, exact], rtol=1e-13)


def test_dirichlet_and_beta_mode_gradient_is_finite_where_every_concentration_is_below_one():
    """Found by random distribution parameters against torch: with every α < 1 the mode is a vertex (no gradient),
    but the branch where() leaves out divided by nan, and 0·(1/nan) made the gradient nan. torch gives 0."""
    a = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
    b = cr.tensor(0.7, dtype=cr.float64, requires_grad=True)
    cr.distributions.Beta(a, b).mode.backward()
    assert a.grad.item() == 0.0 and b.grad.item() == 0.0
    c = cr.tensor([0.3, 0.6, 0.9], dtype=cr.float64, requires_grad=True)
    cr.distributions.Dirichlet(c).mode.sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), [0.0, 0.0, 0.0])
    a = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)   # an interior mode keeps its gradient
    cr.distributions.Beta(a, cr.tensor(3.0, dtype=cr.float64)).mode.backward()
    assert a.grad.item() == pytest.approx(2 / 9)


def test_weibull_mode_is_zero_for_k_at_most_one_without_a_numpy_warning():
    """For k ≤ 1 the density is largest at 0. The formula λ((k-1)/k)^(1/k) raised a negative base to a fractional
    power there: nan with NumPy's 'invalid value' warning (torch gives nan, or λ at k = 1/2)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        k = cr.tensor([0.5, 0.7, 1.0, 2.0], dtype=cr.float64, requires_grad=True)
        mode = D.Weibull(cr.tensor(1.0, dtype=cr.float64), k).mode
        mode.sum().backward()
    np.testing.assert_allclose(mode.detach().numpy(), [0.0, 0.0, 0.0, 0.5 ** 0.5])
    assert np.all(np.isfinite(k.grad.numpy())) and k.grad.numpy()[0] == 0.0
