"""Matrix functions (pinv, matrix_exp, lstsq, solve_triangular, cholesky_solve, legacy svd/qr, addmv/addr/addbmm),
index writes (index_copy, index_fill, index_put with accumulate, masked_scatter, scatter_reduce) and statistics
(cov, corrcoef, dist, renorm, histc, histogram, bucketize, searchsorted, isin, unique_consecutive) against torch:
values and gradients in float64. The registry gradchecks the differentiable ones (test_ops.py)."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_matches_torch, torch_or_skip

R = np.random.default_rng(0)


# ---- matrix functions ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3), (1, 1)])
def test_pinv_matches_torch(shape):
    torch = torch_or_skip()
    assert_matches_torch(cr.linalg.pinv, torch.linalg.pinv, [R.standard_normal(shape)], rtol=1e-10, atol=1e-12)
    assert_matches_torch(cr.pinverse, torch.pinverse, [R.standard_normal(shape)], rtol=1e-10, atol=1e-12)


def test_pinv_drops_small_singular_values_like_torch():
    torch = torch_or_skip()
    a = R.standard_normal((4, 2)) @ R.standard_normal((2, 3))   # rank 2
    np.testing.assert_allclose(cr.linalg.pinv(cr.tensor(a)).numpy(), torch.linalg.pinv(torch.tensor(a)).numpy(),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cr.linalg.pinv(cr.tensor(a), atol=0.5).numpy(),
                               torch.linalg.pinv(torch.tensor(a), atol=0.5).numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("scale", [0.1, 1.0, 8.0])
def test_matrix_exp_matches_torch(scale):
    torch = torch_or_skip()
    for shape in [(3, 3), (2, 4, 4)]:
        assert_matches_torch(cr.matrix_exp, torch.matrix_exp, [R.standard_normal(shape) * scale], rtol=1e-11,
                             atol=1e-12)


def test_matrix_exp_properties_and_second_derivative():
    torch = torch_or_skip()
    a = R.standard_normal((3, 3))
    skew = a - a.T   # exp of a skew-symmetric matrix is a rotation
    q = cr.matrix_exp(cr.tensor(skew)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-13)
    np.testing.assert_allclose(cr.matrix_exp(cr.zeros(2, 2, dtype=cr.float64)).numpy(), np.eye(2))
    x, y = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gx,) = cr.autograd.grad(cr.matrix_exp(x).sum(), [x], create_graph=True)
    (gy,) = torch.autograd.grad(torch.matrix_exp(y).sum(), [y], create_graph=True)
    (hx,) = cr.autograd.grad((gx * gx).sum(), [x])
    (hy,) = torch.autograd.grad((gy * gy).sum(), [y])
    np.testing.assert_allclose(hx.numpy(), hy.numpy(), rtol=1e-9)


def test_solvers_match_torch():
    torch = torch_or_skip()
    a, b = R.standard_normal((5, 3)), R.standard_normal((5, 2))
    assert_matches_torch(lambda x, y: cr.linalg.lstsq(x, y).solution,
                         lambda x, y: torch.linalg.lstsq(x, y).solution, [a, b], rtol=1e-10)
    assert int(cr.linalg.lstsq(cr.tensor(a), cr.tensor(b)).rank) == 3
    tri = R.standard_normal((3, 3)) + 3 * np.eye(3)
    rhs = R.standard_normal((3, 2))
    for upper in (True, False):
        for unit in (False, True):
            assert_matches_torch(lambda x, y: cr.linalg.solve_triangular(x, y, upper=upper, unitriangular=unit),
                                 lambda x, y: torch.linalg.solve_triangular(x, y, upper=upper, unitriangular=unit),
                                 [tri, rhs], rtol=1e-10)
    assert_matches_torch(lambda x, y: cr.linalg.solve_triangular(x, y, upper=True, left=False),
                         lambda x, y: torch.linalg.solve_triangular(x, y, upper=True, left=False),
                         [tri, rhs.T], rtol=1e-10)
    low = np.tril(R.standard_normal((3, 3))) + 2 * np.eye(3)
    # x.tril(): torch's own gradient also reaches the triangle its forward never reads
    assert_matches_torch(lambda y, x: cr.cholesky_solve(y, x), lambda y, x: torch.cholesky_solve(y, x.tril()), [rhs, low],
                         rtol=1e-10)
    assert_matches_torch(lambda y, x: cr.cholesky_solve(y, x, True), lambda y, x: torch.cholesky_solve(y, x.triu(), True),
                         [rhs, low.T], rtol=1e-10)


def test_legacy_svd_qr_and_products_match_torch():
    torch = torch_or_skip()
    a = R.standard_normal((4, 3))
    U, S, V = cr.svd(cr.tensor(a))
    tu, ts, tv = torch.svd(torch.tensor(a))
    assert U.shape == tuple(tu.shape) and V.shape == tuple(tv.shape)
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ V.numpy().T, a, atol=1e-12)
    np.testing.assert_allclose(S.numpy(), ts.numpy(), rtol=1e-12)
    assert cr.tensor(a).svd(some=False).U.shape == (4, 4)
    q, r = cr.tensor(a).qr()
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-12)
    x, m, v = R.standard_normal(3), R.standard_normal((3, 4)), R.standard_normal(4)
    assert_matches_torch(lambda *t: cr.addmv(*t, beta=0.5, alpha=2.0), lambda *t: torch.addmv(*t, beta=0.5, alpha=2.0),
                         [x, m, v], rtol=1e-12)
    assert_matches_torch(lambda i, p, q_: cr.addr(i, p, q_, alpha=-1.5), lambda i, p, q_: torch.addr(i, p, q_, alpha=-1.5),
                         [R.standard_normal((3, 2)), R.standard_normal(3), R.standard_normal(2)], rtol=1e-12)
    assert_matches_torch(lambda *t: cr.addbmm(*t, beta=2.0), lambda *t: torch.addbmm(*t, beta=2.0),
                         [R.standard_normal((2, 3)), R.standard_normal((4, 2, 5)), R.standard_normal((4, 5, 3))],
                         rtol=1e-12)
    nan_input = cr.tensor([np.nan, 1.0, 2.0])
    out = cr.addmv(nan_input, cr.tensor(m), cr.tensor(v), beta=0)
    assert np.isfinite(out.numpy()).all()   # β = 0 ignores the input, NaN included, as torch
    mats = [R.standard_normal((2, 3)), R.standard_normal((3, 4)), R.standard_normal((4, 2))]
    np.testing.assert_allclose(cr.chain_matmul(*[cr.tensor(x_) for x_ in mats]).numpy(),
                               mats[0] @ mats[1] @ mats[2], rtol=1e-12)
    for name in ("det", "logdet", "inverse"):
        sq = R.standard_normal((3, 3)) + 3 * np.eye(3)
        np.testing.assert_allclose(getattr(cr.tensor(sq), name)().numpy(), getattr(torch.tensor(sq), name)().numpy(),
                                   rtol=1e-12)


# ---- index writes ---------------------------------------------------------------------------------------------------
def test_index_copy_fill_put_scatter_match_torch():
    torch = torch_or_skip()
    idx = np.array([3, 1])
    assert_matches_torch(lambda x, s: cr.index_copy(x, 0, cr.tensor(idx), s),
                         lambda x, s: torch.index_copy(x, 0, torch.tensor(idx), s),
                         [R.standard_normal((4, 3)), R.standard_normal((2, 3))], rtol=1e-15)
    assert_matches_torch(lambda x: x.index_fill(1, cr.tensor([0, 2]), -1.5),
                         lambda x: x.index_fill(1, torch.tensor([0, 2]), -1.5), [R.standard_normal((3, 4))])
    assert_matches_torch(lambda x, v: x.index_fill(0, cr.tensor([1]), v),
                         lambda x, v: x.index_fill(0, torch.tensor([1]), v),
                         [R.standard_normal((3, 2)), np.array(0.7)])
    where = (np.array([0, 2, 0]),)
    for acc in (False, True):
        assert_matches_torch(lambda x, v: x.index_put(tuple(cr.tensor(i) for i in where), v, acc),
                             lambda x, v: x.index_put(tuple(torch.tensor(i) for i in where), v, acc),
                             [R.standard_normal(5), np.array([1.0, 2.0, 3.0])] if acc else
                             [R.standard_normal(5), np.array([1.0, 2.0, 2.0])], rtol=1e-15)
    mask = R.random((3, 4)) > 0.5
    assert_matches_torch(lambda x, s: x.masked_scatter(cr.tensor(mask), s),
                         lambda x, s: x.masked_scatter(torch.tensor(mask), s),
                         [R.standard_normal((3, 4)), R.standard_normal(12)])
    t = cr.zeros(4)
    t.index_put_((cr.tensor([1, 1]),), cr.tensor([2.0, 3.0]), accumulate=True)
    np.testing.assert_array_equal(t.numpy(), [0, 5, 0, 0])


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch(reduce, include_self):
    torch = torch_or_skip()
    index = np.array([[0, 1, 2, 0], [0, 0, 2, 2], [1, 1, 1, 1]])
    x, src = R.standard_normal((3, 4)), R.standard_normal((3, 4))
    src[2, 1] = src[0, 1] = x[0, 1] = 0.25   # ties for amax/amin and a shared value
    if reduce == "prod":
        src[1, 3] = 0.0                      # a zero factor
    assert_matches_torch(lambda a, b: a.scatter_reduce(0, cr.tensor(index), b, reduce, include_self=include_self),
                         lambda a, b: a.scatter_reduce(0, torch.tensor(index), b, reduce, include_self=include_self),
                         [x, src], rtol=1e-13)


def test_index_writes_name_their_errors():
    with pytest.raises(cr.ShapeError, match="index_copy: source"):
        cr.index_copy(cr.zeros(4, 3), 0, cr.tensor([1]), cr.zeros(2, 3))
    with pytest.raises(ValueError, match="scatter_reduce: reduce must be"):
        cr.zeros(3).scatter_reduce(0, cr.tensor([0]), cr.ones(1), "max")
    with pytest.raises(cr.ShapeError, match="masked_scatter: the mask selects 3 positions but source has only 2"):
        cr.zeros(3).masked_scatter(cr.tensor([True, True, True]), cr.ones(2))


# ---- statistics -----------------------------------------------------------------------------------------------------
def test_cov_and_corrcoef_match_torch():
    torch = torch_or_skip()
    x = R.standard_normal((3, 7))
    assert_matches_torch(cr.cov, torch.cov, [x], rtol=1e-12)
    assert_matches_torch(cr.cov, torch.cov, [x[0]], rtol=1e-12)
    assert_matches_torch(cr.corrcoef, torch.corrcoef, [x], rtol=1e-12)
    fw, aw = np.array([1, 2, 1, 3, 1, 1, 2]), R.uniform(0.5, 2, 7)
    for correction in (0, 1, 2):
        assert_matches_torch(lambda t, a: cr.cov(t, correction=correction, fweights=cr.tensor(fw), aweights=a),
                             lambda t, a: torch.cov(t, correction=correction, fweights=torch.tensor(fw), aweights=a),
                             [x, aw], rtol=1e-12)


def test_dist_and_renorm_match_torch():
    torch = torch_or_skip()
    for p in (2, 1, 3, float("inf")):
        assert_matches_torch(lambda a, b: cr.dist(a, b, p), lambda a, b: torch.dist(a, b, p),
                             [R.standard_normal((3, 4)), R.standard_normal(4)], rtol=1e-12)
    for p, dim, maxnorm in [(2, 0, 1.0), (1, 1, 2.0), (3, -1, 0.5)]:
        assert_matches_torch(lambda a: a.renorm(p, dim, maxnorm), lambda a: a.renorm(p, dim, maxnorm),
                             [R.standard_normal((3, 4)) * 2], rtol=1e-12)


def test_counting_and_locating_match_torch():
    torch = torch_or_skip()
    x = R.standard_normal(50)
    for args in [(10,), (5, -1.0, 1.0), (4, 0, 0)]:
        np.testing.assert_array_equal(cr.histc(cr.tensor(x), *args).numpy(), torch.histc(torch.tensor(x), *args).numpy())
    h, e = cr.histogram(cr.tensor(x), 6)
    th, te = torch.histogram(torch.tensor(x), 6)
    np.testing.assert_allclose(h.numpy(), th.numpy())
    np.testing.assert_allclose(e.numpy(), te.numpy(), rtol=1e-12)
    bounds = np.array([-1.0, 0.0, 0.5, 2.0])
    vals = np.array([[-3.0, 0.0, 0.5], [0.7, 2.0, 9.0]])
    for right in (False, True):
        np.testing.assert_array_equal(cr.bucketize(cr.tensor(vals), cr.tensor(bounds), right=right).numpy(),
                                      torch.bucketize(torch.tensor(vals), torch.tensor(bounds), right=right).numpy())
        seq = np.sort(R.standard_normal((2, 5)), axis=1)
        np.testing.assert_array_equal(cr.searchsorted(cr.tensor(seq), cr.tensor(vals), right=right).numpy(),
                                      torch.searchsorted(torch.tensor(seq), torch.tensor(vals), right=right).numpy())
    # torch documents the second argument as `values`, but its keyword is `input`: both work here
    np.testing.assert_array_equal(cr.searchsorted(cr.tensor(seq), input=cr.tensor(vals)).numpy(),
                                  torch.searchsorted(torch.tensor(seq), input=torch.tensor(vals)).numpy())
    np.testing.assert_array_equal(cr.searchsorted(cr.tensor(seq), values=cr.tensor(vals)).numpy(),
                                  torch.searchsorted(torch.tensor(seq), input=torch.tensor(vals)).numpy())
    with pytest.raises(TypeError, match="searchsorted: give the values to insert once"):
        cr.searchsorted(cr.tensor(seq), cr.tensor(vals), input=cr.tensor(vals))
    assert cr.bucketize(cr.tensor(vals), cr.tensor(bounds), out_int32=True).dtype == cr.int32
    e_ = np.array([[1, 2], [3, 4]])
    np.testing.assert_array_equal(cr.isin(cr.tensor(e_), cr.tensor([2, 3])).numpy(),
                                  torch.isin(torch.tensor(e_), torch.tensor([2, 3])).numpy())
    np.testing.assert_array_equal(cr.argwhere(cr.tensor(e_ > 2)).numpy(), torch.argwhere(torch.tensor(e_ > 2)).numpy())
    runs = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    ours = cr.unique_consecutive(cr.tensor(runs), return_inverse=True, return_counts=True)
    theirs = torch.unique_consecutive(torch.tensor(runs), return_inverse=True, return_counts=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    rows = np.array([[1, 2], [1, 2], [3, 4], [1, 2]])
    ours = cr.unique_consecutive(cr.tensor(rows), return_counts=True, dim=0)
    theirs = torch.unique_consecutive(torch.tensor(rows), return_counts=True, dim=0)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_statistics_name_their_errors():
    with pytest.raises(cr.ShapeError, match="cov: fweights must be 1-d with one weight per observation"):
        cr.cov(cr.zeros(2, 3), fweights=cr.tensor([1, 2]))
    with pytest.raises(cr.ShapeError, match="bucketize: boundaries must be 1-d"):
        cr.bucketize(cr.zeros(2), cr.zeros(2, 2))
    with pytest.raises(ValueError, match=r"histc: max \(0.0\) must be ≥ min \(1.0\)"):
        cr.histc(cr.zeros(2), 3, 1, 0)


@pytest.mark.parametrize("options", [
    dict(bins=[3, 4]), dict(bins=2, range=[0.0, 1.0, -1.0, 1.0]), dict(bins=5, density=True),
    dict(bins=[3, 3], weight=True), dict(bins="edges", density=True)])
def test_histogramdd_matches_torch(options):
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    x = np.random.default_rng(1).standard_normal((2, 30, 2))        # (*, D): 60 points in 2 dims
    ours, theirs = dict(options), dict(options)
    if options.get("weight"):
        w = np.random.default_rng(2).random((2, 30))
        ours["weight"], theirs["weight"] = cr.tensor(w), torch.tensor(w)
    if options["bins"] == "edges":
        edges = [np.array([-3.0, -1.0, 0.0, 2.5]), np.array([-2.0, 0.0, 2.0])]
        ours["bins"], theirs["bins"] = [cr.tensor(e) for e in edges], [torch.tensor(e) for e in edges]
    got, want = cr.histogramdd(cr.tensor(x), **ours), torch.histogramdd(torch.tensor(x), **theirs)
    np.testing.assert_allclose(got.hist.numpy(), want.hist.numpy(), rtol=1e-12)
    assert got.hist.dtype == cr.float64 and len(got.bin_edges) == 2
    for a, b in zip(got.bin_edges, want.bin_edges):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, error, match", [
    (lambda x: cr.histogramdd(x[:, 0], bins=2), cr.ShapeError, r"histogramdd: input must be \(\*, D\) points"),
    (lambda x: cr.histogramdd(x, bins=[2, 2, 2]), ValueError, "histogramdd: bins gives 3 dims, the points have 2"),
    (lambda x: cr.histogramdd(x, bins=2.5), TypeError, "histogramdd: bins must be an int, a count per dim"),
    (lambda x: cr.histogramdd(x, bins=2, range=[0, 1]), ValueError, "histogramdd: range must give a min and a max"),
    (lambda x: cr.histogramdd(x, bins=2, weight=cr.ones(3)), cr.ShapeError, "histogramdd: weight must have one"),
    (lambda x: cr.histogramdd(x, bins=[cr.tensor([0.0, 1.0]), cr.tensor([1.0, -1.0])]), ValueError,
     r"histogramdd: the edges of bins\[1\] must increase"),
])
def test_histogramdd_errors_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call(cr.tensor(np.random.default_rng(0).standard_normal((10, 2))))
