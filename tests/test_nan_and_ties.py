"""Order statistics and sorting at NaN and at ties, against torch: the values, the indices where torch's choice is
documented or deterministic, and the gradients. A NaN must never vanish from a result (median and cummax used to
skip it), and an integer sort must not wrap (descending used to negate the keys)."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
NAN = float("nan")
X = [[3.0, NAN, 1.0, NAN, 2.0], [1.0, 2.0, 3.0, 4.0, 5.0], [NAN, 2.0, 0.5, 1.0, 0.0], [2.0, 2.0, 1.0, 2.0, 1.0]]
CASES = {   # name -> (function of (library, tensor), compare the indices too)
    "sort": (lambda L, t: L.sort(t, 1), False),   # ties: unspecified without stable=True, in both
    "sort_descending": (lambda L, t: L.sort(t, 1, descending=True), False),   # ties: torch's order unspecified
    "sort_stable_descending": (lambda L, t: L.sort(t, dim=1, descending=True, stable=True), True),
    "argsort_stable": (lambda L, t: L.argsort(t, dim=1, stable=True), True),
    "topk": (lambda L, t: L.topk(t, 2, 1), False),
    "msort": (lambda L, t: L.msort(t), True),
    "median": (lambda L, t: L.median(t, 1), True),        # the first NaN, as torch
    "median_all": (lambda L, t: L.median(t), True),
    "nanmedian": (lambda L, t: L.nanmedian(t[:2], 1), True),
    "kthvalue": (lambda L, t: L.kthvalue(t[:2], 2, 1), True),
    "cummax": (lambda L, t: L.cummax(t, 1), True),        # a NaN sticks, and each new NaN takes the index
    "cummin": (lambda L, t: L.cummin(t, 1), True),
    "mode": (lambda L, t: L.mode(t[[1, 3]], 1), True),   # torch's mode of a row with a NaN follows no rule
    "quantile": (lambda L, t: L.quantile(t, 0.3, dim=1), True),
    "nanquantile": (lambda L, t: L.nanquantile(t, 0.3, dim=1), True),
    "max": (lambda L, t: L.max(t, 1), True),
    "amin": (lambda L, t: L.amin(t, 1), True),
    "norm_neg_inf": (lambda L, t: L.linalg.vector_norm(t, -float("inf"), dim=1), True),
    "norm_zero": (lambda L, t: L.linalg.vector_norm(t, 0, dim=1), True),
    "hardshrink": (lambda L, t: L.nn.functional.hardshrink(t, 1.0), True),
    "softshrink": (lambda L, t: L.nn.functional.softshrink(t, 1.0), True),
    "threshold": (lambda L, t: L.nn.functional.threshold(t, 1.5, -1.0), True),
}


def _as_lists(out):
    return [np.asarray(o.detach().tolist(), float) for o in (out if isinstance(out, tuple) else (out,))]


@pytest.mark.parametrize("name", CASES)
def test_values_indices_and_gradient_match_torch(name):
    fn, with_indices = CASES[name]
    a, b = cr.tensor(X, dtype=cr.float64, requires_grad=True), torch.tensor(X, dtype=torch.float64, requires_grad=True)
    ours, theirs = fn(cr, a), fn(torch, b)
    ours_l, theirs_l = _as_lists(ours), _as_lists(theirs)
    np.testing.assert_array_equal(ours_l[0], theirs_l[0], err_msg=f"{name}: values")
    if with_indices and len(ours_l) > 1:
        np.testing.assert_array_equal(ours_l[1], theirs_l[1], err_msg=f"{name}: indices")
    value, t_value = (ours[0], theirs[0]) if isinstance(ours, tuple) else (ours, theirs)
    if not with_indices or not t_value.requires_grad:
        return
    g = np.arange(1.0, value.numel() + 1).reshape(tuple(value.shape))
    value.backward(cr.tensor(g))
    t_value.backward(torch.tensor(g))
    ours_grad, theirs_grad = (np.zeros(a.shape) if t.grad is None else t.grad.numpy() for t in (a, b))   # ord=0
    # compared at the finite inputs (the gradient at a NaN input itself is a convention; torch's is often 0), and
    # where torch's is a number: its amin over a row holding NaN divides 0 by 0 entries equal to NaN, chainrule
    # shares the gradient among the NaN entries (as torch's own max() does) and is finite
    compared = ~np.isnan(np.asarray(X)) & ~np.isnan(theirs_grad)
    np.testing.assert_allclose(ours_grad[compared], theirs_grad[compared], rtol=1e-15, err_msg=f"{name}: gradient")
    assert np.isfinite(ours_grad[~np.isnan(np.asarray(X))]).all()


@pytest.mark.parametrize("dtype", ["uint8", "int64", "bool", "float64"])
@pytest.mark.parametrize("stable", [False, True])
def test_descending_sort_of_every_dtype_matches_torch(dtype, stable):
    values = {"uint8": [3, 0, 255, 7, 0], "int64": [-2 ** 63, 0, 5, 2 ** 63 - 1, -1],
              "bool": [True, False, True, False, False], "float64": [NAN, 1.0, -np.inf, NAN, np.inf]}[dtype]
    ours = cr.sort(cr.tensor(values, dtype=getattr(cr, dtype)), descending=True, stable=stable)
    theirs = torch.sort(torch.tensor(values, dtype=getattr(torch, dtype)), descending=True, stable=stable)
    np.testing.assert_array_equal(np.asarray(ours.values.tolist(), float), np.asarray(theirs.values.tolist(), float))
    if stable or dtype == "float64":
        assert ours.indices.tolist() == theirs.indices.tolist()


def test_unique_keeps_each_nan_as_torch_does():
    ours = cr.unique(cr.tensor([NAN, 1.0, NAN, 1.0]), return_counts=True)
    theirs = torch.unique(torch.tensor([NAN, 1.0, NAN, 1.0]), return_counts=True)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    assert ours[1].tolist() == theirs[1].tolist() == [2, 1, 1]


def test_median_of_everything_shares_the_gradient_among_ties_median_along_a_dim_does_not():
    """As torch: median() spreads it over the entries equal to the median (as amax), median(dim) gives it to the
    one whose index it returns."""
    a = cr.tensor([2.0, 1.0, 2.0, 2.0, 3.0], requires_grad=True)
    a.median().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1 / 3, 0, 1 / 3, 1 / 3, 0])
    b = cr.tensor([2.0, 1.0, 2.0, 2.0, 3.0], requires_grad=True)
    values, index = b.median(0)
    values.backward()
    assert b.grad.numpy()[index.item()] == 1.0 and b.grad.sum().item() == 1.0


def test_rsqrt_at_the_edges_of_its_domain_is_one_over_sqrt():
    """x^(-1/2) by IEEE pow gives (-∞)^(-1/2) = 0 and (-0)^(-1/2) = +∞; 1/√x gives nan and -∞, as torch."""
    edges = [-np.inf, -0.0, 0.0, np.inf, NAN, 4.0]
    with np.errstate(divide="ignore", invalid="ignore"):   # NumPy's notes, as for sqrt and log out of domain
        ours = cr.rsqrt(cr.tensor(edges, dtype=cr.float64)).numpy()
    np.testing.assert_array_equal(ours, torch.rsqrt(torch.tensor(edges, dtype=torch.float64)).numpy())


def test_std_of_a_constant_slice_has_torch_zero_subgradient_without_a_warning():
    """std = √var has an infinite slope at var = 0; torch takes 0 there. Composed from sqrt it gave ∞·0 = nan with
    NumPy's divide-by-zero warning (which the test configuration turns into an error)."""
    x = cr.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], dtype=cr.float64, requires_grad=True)
    x.std(-1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0], [-0.5, 0, 0.5]])
    g, = cr.autograd.grad(x.std(-1, keepdim=True).sum(), x, create_graph=True)
    (g * g).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
