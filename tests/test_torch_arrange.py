"""Rearranging, cumulative and order-statistic ops (movedim … quantile) against torch: values, integer outputs and
gradients in float64. The registry gradchecks each one on its own (tests/test_ops.py)."""
import numpy as np
import pytest

import chainrule as cr


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


R = np.random.default_rng(0)
A34, A234, A5 = R.standard_normal((3, 4)), R.standard_normal((2, 3, 4)), R.standard_normal(5)
ZEROS = np.array([[1.5, 0.0, 2.0, -1.2], [0.0, 0.7, 0.0, 1.1]])
IDX = np.array([[0, 3], [1, 1], [2, 0]])
CASES = [   # (id, function name, float inputs, other args, kwargs)
    ("movedim", "movedim", [A234], (0, -1), {}),
    ("movedim2", "movedim", [A234], ((0, 1), (2, 0)), {}),
    ("narrow", "narrow", [A34], (1, 1, 2), {}),
    ("tile", "tile", [A34], ((2, 1, 2),), {}),
    ("ravel", "ravel", [A234], (), {}),
    ("diagonal", "diagonal", [A234], (1, 2, 1), {}),
    ("diagonal_neg", "diagonal", [A34], (-1,), {}),
    ("diag_embed", "diag_embed", [A34], (1,), {}),
    ("rot90", "rot90", [A234], (1, (2, 0)), {}),
    ("rot90_3", "rot90", [A34], (3,), {}),
    ("kron", "kron", [A34, A5[:2].reshape(1, 2)], (), {}),
    ("block_diag", "block_diag", [A34, A5[:2].reshape(1, 2)], (), {}),
    ("diff", "diff", [A34], (), {"n": 2, "dim": 1}),
    ("cartesian_prod", "cartesian_prod", [A5[:3], A5[3:]], (), {}),
    ("cumprod", "cumprod", [A34], (1,), {}),
    ("cumprod_zeros", "cumprod", [ZEROS], (1,), {}),
    ("logcumsumexp", "logcumsumexp", [A34 * 400], (1,), {}),
    ("median", "median", [A34], (), {}),
    ("quantile", "quantile", [A34], (0.3,), {"dim": 1, "keepdim": True}),
    ("quantile_nearest", "quantile", [A5], (0.4,), {"interpolation": "nearest"}),
    ("nansum", "nansum", [np.array([1.0, np.nan, 2.0])], (), {}),
    ("nanmean", "nanmean", [np.array([[1.0, np.nan, 2.0], [3.0, 4.0, 5.0]])], (), {"dim": 1}),
]
WITH_INDICES = [   # (function name, float input, args): (values, indices) results
    ("cummax", A34, (1,)), ("cummin", A34, (0,)), ("median", A34, (1,)), ("kthvalue", A34, (2, 1)),
    ("mode", np.array([[1.0, 2.0, 2.0, 3.0], [5.0, 5.0, 1.0, 1.0]]), (1,)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case):
    torch = _torch()
    _, name, arrays, args, kwargs = case
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = getattr(cr, name)(*ours, *args, **kwargs), getattr(torch, name)(*theirs, *args, **kwargs)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = R.standard_normal(y.shape)
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, array, args", WITH_INDICES, ids=[c[0] for c in WITH_INDICES])
def test_values_and_indices_match_torch(name, array, args):
    torch = _torch()
    x, xt = cr.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    (v, i), (vt, it) = getattr(cr, name)(x, *args), getattr(torch, name)(xt, *args)
    np.testing.assert_allclose(v.detach().numpy(), vt.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    v.sum().backward()
    vt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_take_along_dim_masked_select_meshgrid_match_torch():
    torch = _torch()
    x, xt = cr.tensor(A34, requires_grad=True), torch.tensor(A34, requires_grad=True)
    y, yt = cr.take_along_dim(x, cr.tensor(IDX), 1), torch.take_along_dim(xt, torch.tensor(IDX), 1)
    m = A34 > 0
    z, zt = cr.masked_select(x, cr.tensor(m)), torch.masked_select(xt, torch.tensor(m))
    (y.sum() + (z * z).sum()).backward()
    (yt.sum() + (zt * zt).sum()).backward()
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(z.detach().numpy(), zt.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    for indexing in ("ij", "xy"):
        for a, b in zip(cr.meshgrid(cr.arange(3), cr.arange(2), indexing=indexing),
                        torch.meshgrid(torch.arange(3), torch.arange(2), indexing=indexing)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_named_errors():
    x = cr.randn(3, 4)
    with pytest.raises(cr.ShapeError, match="narrow"):
        cr.narrow(x, 1, 3, 2)
    with pytest.raises(cr.ShapeError, match="kthvalue"):
        cr.kthvalue(x, 5, 1)
    with pytest.raises(ValueError, match="quantile"):
        cr.quantile(x, 1.5)
    with pytest.raises(cr.ShapeError, match="movedim"):
        cr.movedim(x, (0, 1), 0)
    with pytest.raises(cr.ShapeError, match="diagonal"):
        cr.diagonal(x, 0, 1, 1)


def test_cumprod_with_zeros_differentiates_twice():
    x = cr.tensor(ZEROS, requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda t: cr.cumprod(t, 1), [x])


def test_as_strided_scatter_as_torch():
    """Values and src's gradient as torch's; input's gradient is g where input survives and 0 where src was
    written (torch's AsStridedScatterBackward gives the reverse and fails its own gradcheck)."""
    torch = _torch()
    for shape, size, stride, offset in (((3, 4), (2, 2), (1, 2), None), ((6,), (2, 2), (3, 1), 1),
                                        ((2, 3), (3, 2), (2, 1), 0)):
        x, src = R.standard_normal(shape), R.standard_normal(size)
        ours_x, ours_src = cr.tensor(x, requires_grad=True), cr.tensor(src, requires_grad=True)
        theirs_src = torch.tensor(src, requires_grad=True)
        ours = cr.as_strided_scatter(ours_x, ours_src, size, stride, offset)
        theirs = torch.as_strided_scatter(torch.tensor(x), theirs_src, size, stride, offset)
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
        g = R.standard_normal(shape)
        ours.backward(cr.tensor(g))
        theirs.backward(torch.tensor(g))
        np.testing.assert_array_equal(ours_src.grad.numpy(), theirs_src.grad.numpy())
        written = np.zeros(x.size, bool)
        written[np.lib.stride_tricks.as_strided(np.arange(x.size)[offset or 0:], size,
                                                tuple(s * 8 for s in stride)).ravel()] = True
        np.testing.assert_array_equal(ours_x.grad.numpy().ravel(), np.where(written, 0.0, g.ravel()))
        assert cr.autograd.gradcheck(lambda a, b: cr.as_strided_scatter(a, b, size, stride, offset),
                                     (ours_x.detach().requires_grad_(), ours_src.detach().requires_grad_()))
    method = cr.tensor(A34).as_strided_scatter(cr.zeros(2, 2, dtype=cr.float64), (2, 2), (4, 1))
    assert method.numpy()[:2, :2].tolist() == [[0, 0], [0, 0]]


def test_as_strided_scatter_errors_and_new_empty_strided():
    x = cr.zeros(3, 4)
    with pytest.raises(ValueError, match=r"as_strided_scatter: size \(2, 2\) and stride \(0, 1\) reach some "
                                         r"elements more than once"):
        cr.as_strided_scatter(x, cr.ones(2, 2), (2, 2), (0, 1))
    with pytest.raises(cr.errors.ShapeError, match=r"as_strided_scatter: src must have the view's shape \(2, 2\)"):
        cr.as_strided_scatter(x, cr.ones(4), (2, 2), (1, 2))
    with pytest.raises(cr.errors.ShapeError, match=r"as_strided_scatter: size \(3, 3\), stride \(4, 1\) and offset "
                                                   r"2 reach element 12 of a tensor with 12"):
        cr.as_strided_scatter(x, cr.ones(3, 3), (3, 3), (4, 1), 2)
    y = cr.zeros(2, dtype=cr.float64).new_empty_strided((4, 5), (5, 1))
    assert y.shape == (4, 5) and y.dtype == cr.float64
    assert x.new_empty_strided((3,), (1,), dtype=cr.int64).dtype == cr.int64
