"""torch.linalg's keyword options against torch: the *_ex variants' per-matrix info on a batch with failures,
matrix_rank's atol / rtol / hermitian, the norms' dtype=, batched linalg.vander."""
import numpy as np
import pytest

import chainrule as cr
from helpers import torch_or_skip

R = np.random.default_rng(23)
A = R.standard_normal((3, 4, 4))
SPD = A @ A.transpose(0, 2, 1) + 4 * np.eye(4)


def _batch_with_failures(kind):
    """A batch of three: good, failing, good (the failure at a known place)."""
    good = SPD if kind == "cholesky" else A
    bad = good.copy()
    if kind == "cholesky":
        bad[1, 2, 2] = -50.0   # the leading minors of order 1 and 2 are PD, the one of order 3 is not: info 3
    else:
        bad[1, :, 2] = 0.0   # a zero column: elimination meets an exact zero pivot in column 3, info 3
    return bad


@pytest.mark.parametrize("fn", ["cholesky_ex", "inv_ex", "solve_ex"])
def test_ex_variants_give_one_info_per_matrix_and_nan_only_where_it_failed(fn):
    torch = torch_or_skip()
    M = _batch_with_failures("cholesky" if fn == "cholesky_ex" else "lu")
    B = R.standard_normal((3, 4, 2))
    args = (lambda L: (L.tensor(M, requires_grad=True), L.tensor(B))) if fn == "solve_ex" else \
        (lambda L: (L.tensor(M, requires_grad=True),))
    ours_in, theirs_in = args(cr), args(torch)
    ours, theirs = getattr(cr.linalg, fn)(*ours_in), getattr(torch.linalg, fn)(*theirs_in)
    assert ours.info.dtype == cr.int32 and ours.info.tolist() == theirs.info.tolist()
    assert ours.info.tolist()[1] != 0 and ours.info.tolist()[0] == ours.info.tolist()[2] == 0
    result, expected = ours[0].detach().numpy(), theirs[0].detach().numpy()
    assert np.isnan(result[1]).all()
    np.testing.assert_allclose(result[[0, 2]], expected[[0, 2]], rtol=1e-9, atol=1e-12)
    # the good matrices keep their gradients; the failed one gets none (its result is a constant NaN)
    ours[0][[0, 2]].sum().backward()
    theirs[0][[0, 2]].sum().backward()
    np.testing.assert_allclose(ours_in[0].grad.numpy()[[0, 2]], theirs_in[0].grad.numpy()[[0, 2]], rtol=1e-8)
    assert (ours_in[0].grad.numpy()[1] == 0).all()


def test_ex_variants_raise_with_check_errors_and_keep_a_scalar_info_for_one_matrix():
    with pytest.raises(cr.linalg.LinAlgError, match="cholesky"):
        cr.linalg.cholesky_ex(cr.tensor(_batch_with_failures("cholesky")), check_errors=True)
    one = cr.linalg.inv_ex(cr.zeros(2, 2))
    assert one.info.shape == () and one.info.item() == 1 and np.isnan(one.inverse.numpy()).all()


@pytest.mark.parametrize("options", [dict(), dict(atol=1.0), dict(rtol=0.3), dict(atol=0.5, rtol=0.2),
                                     dict(hermitian=True), dict(hermitian=True, atol=3.0)],
                         ids=["default", "atol", "rtol", "both", "hermitian", "hermitian_atol"])
def test_matrix_rank_tolerances_match_torch(options):
    torch = torch_or_skip()
    M = R.standard_normal((5, 4, 3)) @ np.diag([3.0, 1.0, 0.2]) @ R.standard_normal((3, 4))   # rank ≤ 3, spread σ
    if options.get("hermitian"):
        M = M @ M.transpose(0, 2, 1)
    ours = cr.linalg.matrix_rank(cr.tensor(M), **options)
    assert ours.tolist() == torch.linalg.matrix_rank(torch.tensor(M), **options).tolist()
    assert cr.linalg.matrix_rank(cr.tensor(M), tol=1.0).tolist() == \
        torch.linalg.matrix_rank(torch.tensor(M), atol=1.0, rtol=0.0).tolist()   # torch's older tol


@pytest.mark.parametrize("name", ["vector_norm", "matrix_norm", "norm"])
def test_norms_compute_in_a_wider_dtype_and_refuse_a_narrower_one(name):
    torch = torch_or_skip()
    x = R.standard_normal((3, 4)).astype(np.float32)
    ours = getattr(cr.linalg, name)(cr.tensor(x), dtype=cr.float64)
    theirs = getattr(torch.linalg, name)(torch.tensor(x), dtype=torch.float64)
    assert ours.dtype == cr.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match=f"linalg.{name}: dtype=float32 would narrow the input's float64"):
        getattr(cr.linalg, name)(cr.tensor(x.astype(np.float64)), dtype=cr.float32)


def test_linalg_vander_takes_a_batch_and_matches_torch():
    torch = torch_or_skip()
    x = R.standard_normal((2, 3))
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = cr.linalg.vander(ours, N=4), torch.linalg.vander(theirs, N=4)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    (y ** 2).sum().backward()
    (yt ** 2).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="N must be greater than 1, got N=1"):
        cr.linalg.vander(cr.ones(3), N=1)


def test_pinv_hermitian_reads_the_lower_triangle_as_torch():
    torch = torch_or_skip()
    M = R.standard_normal((2, 4, 4))   # not symmetric: only its lower triangle counts
    ours, theirs = cr.tensor(M, requires_grad=True), torch.tensor(M, requires_grad=True)
    y, yt = cr.linalg.pinv(ours, hermitian=True), torch.linalg.pinv(theirs, hermitian=True)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-12)
    # the gradient is the true one: zero in the upper triangle, which the result never reads (torch's, through
    # eigh, assumes a symmetric perturbation and puts something there)
    assert cr.autograd.gradcheck(lambda a: cr.linalg.pinv(a, hermitian=True), (ours,))
    y.sum().backward()
    assert (np.triu(ours.grad.numpy(), 1) == 0).all()


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shapes", [((4, 3), (4, 2)), ((3, 3), (3, 2)), ((2, 3), (2, 2)), ((2, 5, 3), (2, 5, 2)),
                                    ((4, 3), (4,))])
def test_lstsq_outputs_follow_the_driver_as_torch(driver, shapes):
    """residuals (tall, full-rank A, all drivers but gelsy), rank (all but gels) and singular_values (gelsd,
    gelss): values and shapes as torch's, empty where torch's are; residuals are differentiable."""
    torch = torch_or_skip()
    A, B = R.standard_normal(shapes[0]), R.standard_normal(shapes[1])
    ours = cr.linalg.lstsq(cr.tensor(A), cr.tensor(B), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver=driver)
    for name in ("solution", "residuals", "rank", "singular_values"):
        a, b = getattr(theirs, name), getattr(ours, name)
        assert tuple(b.shape) == tuple(a.shape), name
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    if ours.residuals.numel():
        a = cr.tensor(A, requires_grad=True)
        assert cr.autograd.gradcheck(lambda a: cr.linalg.lstsq(a, cr.tensor(B), driver=driver).residuals, (a,))


def test_lstsq_of_a_rank_deficient_matrix_has_no_residuals_and_a_bad_driver_is_named():
    A = cr.tensor([[1.0, 2, 3], [2, 4, 6], [1, 0, 1], [0, 1, 1]], dtype=cr.float64)
    out = cr.linalg.lstsq(A, cr.ones(4, 2, dtype=cr.float64), driver="gelsd")
    assert int(out.rank) == 2 and out.residuals.shape == (0,)
    with pytest.raises(ValueError, match="lstsq: driver must be one of"):
        cr.linalg.lstsq(A, A, driver="gelsx")


@pytest.mark.parametrize("options", [{"rtol": [1e-1, 1e-2, 0.5]}, {"atol": [0.5, 0.0, 1.0]}, {"atol": 1.0},
                                     {"rtol": 1.0}, {"atol": 0.3, "rtol": 0.1}])
def test_pinv_and_matrix_rank_take_one_tolerance_per_matrix_as_torch(options):
    """Tensor atol / rtol broadcast over the batch (rtol falls to 0 where a positive atol is given)."""
    torch = torch_or_skip()
    A = R.standard_normal((3, 4, 4))
    A[1, :, 0] = A[1, :, 1] * 1e-3
    ours = {k: cr.tensor(np.asarray(v, dtype=np.float64)) for k, v in options.items()}
    theirs = {k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in options.items()}
    np.testing.assert_allclose(cr.linalg.pinv(cr.tensor(A), **ours).numpy(),
                               torch.linalg.pinv(torch.tensor(A), **theirs).numpy(), rtol=1e-9, atol=1e-12)
    assert cr.linalg.matrix_rank(cr.tensor(A), **ours).tolist() == \
        torch.linalg.matrix_rank(torch.tensor(A), **theirs).tolist()


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_triangular_solve_as_torch(upper, transpose, unitriangular):
    """torch.triangular_solve(b, A, upper, transpose, unitriangular) -> (solution, cloned_coefficient), with A's
    batch broadcast against b's: values and both gradients."""
    import warnings
    torch = torch_or_skip()
    a, b = R.uniform(1, 2, (2, 3, 3)), R.standard_normal((3, 2))
    ours_a, ours_b = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    theirs_a, theirs_b = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours = cr.triangular_solve(ours_b, ours_a, upper, transpose, unitriangular)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch's deprecation notice
        theirs = torch.triangular_solve(theirs_b, theirs_a, upper, transpose, unitriangular)
    np.testing.assert_allclose(ours.solution.detach().numpy(), theirs.solution.detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ours.cloned_coefficient.detach().numpy(), a)
    g = R.standard_normal(ours.solution.shape)
    ours.solution.backward(cr.tensor(g))
    theirs.solution.backward(torch.tensor(g))
    np.testing.assert_allclose(ours_a.grad.numpy(), theirs_a.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_b.grad.numpy(), theirs_b.grad.numpy(), rtol=1e-10, atol=1e-12)
    method = ours_b.detach().triangular_solve(ours_a.detach(), upper, transpose, unitriangular).solution
    np.testing.assert_allclose(method.numpy(), ours.solution.detach().numpy())


def test_solve_triangular_takes_b_as_matrices_and_broadcasts_batches():
    """linalg.solve_triangular's B is always (*, n, k): a (2, 3) B against a (2, 3, 3) batch is one matrix for
    both (linalg.solve would read it as a batch of two vectors), and a vector B is refused, as torch refuses it."""
    torch = torch_or_skip()
    a, b = R.uniform(1, 2, (2, 3, 3)), R.standard_normal((3, 2))
    for left, rhs in ((True, b), (False, b.T)):
        ours = cr.linalg.solve_triangular(cr.tensor(a), cr.tensor(rhs), upper=True, left=left)
        theirs = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(rhs), upper=True, left=left)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.raises(cr.errors.ShapeError, match=r"solve_triangular: B must have at least 2 dims"):
        cr.linalg.solve_triangular(cr.tensor(a[0]), cr.tensor(b[:, 0]), upper=True)
    with pytest.raises(cr.errors.ShapeError, match=r"batch dims of A \(2, 3, 3\) and B \(4, 3, 2\) do not"):
        cr.linalg.solve_triangular(cr.tensor(a), cr.randn(4, 3, 2, dtype=cr.float64), upper=True)
