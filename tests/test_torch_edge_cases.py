"""Edge cases found against torch (its OpInfo samples and probes):
- ops that torch documents as returning a new tensor must not hand back a view of their input, even where nothing
  moves (a repeat by 1, a roll by the dim's size, a resize to the same size): writing into the result would
  otherwise change the input; Tensor.to(copy=True); Tensor.type()'s round trip;
- a 0-d tensor takes dim 0 or -1 in reductions and ops along a dim;
- shapes of one-variable, unbatched and 0-d inputs, and torch's older positional forms."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

FRESH = {   # name: result of an op that moves nothing, from x of shape (2, 2, 2, 2)
    "repeat": lambda x: x.repeat(1, 1, 1, 1),
    "repeat_new_leading_dim": lambda x: x[0].repeat(2, 1, 1, 1),
    "tile": lambda x: x.tile((1,)),
    "roll_by_zero": lambda x: cr.roll(x, 0, 0),
    "roll_by_size": lambda x: cr.roll(x, 2, 1),
    "channel_shuffle_one_group": lambda x: F.channel_shuffle(x, 1),
    "pixel_shuffle_by_one": lambda x: F.pixel_shuffle(x, 1),
    "interpolate_same_size": lambda x: F.interpolate(x, size=(2, 2)),
    "interpolate_scale_one": lambda x: F.interpolate(x, scale_factor=1.0, mode="bilinear"),
    "adaptive_avg_pool3d_same_size": lambda x: F.adaptive_avg_pool3d(x, (2, 2, 2)),
    "pad_reflect_zero": lambda x: F.pad(x, (0, 0), mode="reflect"),
    "pad_circular_zero": lambda x: F.pad(x, (0, 0, 0, 0), mode="circular"),
    "matrix_power_one": lambda x: cr.linalg.matrix_power(x, 1),
    "chain_matmul_one": lambda x: cr.chain_matmul(x[0, 0]),
    "to_same_dtype_with_copy": lambda x: x.to(cr.float64, copy=True),
    "to_copy_positional": lambda x: x.to(cr.float64, False, True),
    "to_no_dtype_with_copy": lambda x: x.to(copy=True),
}


@pytest.mark.parametrize("name", FRESH)
def test_writing_into_the_result_leaves_the_input_alone(name):
    x = cr.arange(16, dtype=cr.float64).reshape(2, 2, 2, 2)
    y = FRESH[name](x)
    y[(0,) * y.ndim] = 99.0
    assert x.numpy().ravel()[0] == 0.0 and (x.numpy() != 99.0).all()


def test_to_without_copy_still_returns_self_when_nothing_changes():
    x = cr.ones(2, dtype=cr.float64)
    assert x.to(cr.float64) is x and x.to("cpu") is x and x.to(cr.float32, copy=True).dtype == cr.float32


def test_type_names_the_legacy_type_and_round_trips():
    x = cr.ones(2, dtype=cr.float64)
    assert x.type() == "chainrule.DoubleTensor" and cr.ones(1).type() == "chainrule.FloatTensor"
    assert cr.tensor([1]).type() == "chainrule.LongTensor" and cr.typename(cr.tensor([True])) == "chainrule.BoolTensor"
    assert x.type(x.type()) is x and cr.ones(1).type(x.type()).dtype == cr.float64


def test_adaptive_avg_pool1d_takes_unbatched_input_as_torch():
    x = cr.arange(8, dtype=cr.float64).reshape(2, 4)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 2).numpy(), [[0.5, 2.5], [4.5, 6.5]])
    with pytest.raises(cr.ShapeError, match=r"adaptive_avg_pool1d: expected \(N, C, L\) or \(C, L\), got \(8,\)"):
        F.adaptive_avg_pool1d(x.reshape(-1), 2)


# ---- a 0-d tensor takes dim 0 or -1, as torch's: generic code reduces over -1 whatever the rank ---------------
ALONG_DIM_OF_A_SCALAR = {
    "sum": lambda L, x: x.sum(0), "mean": lambda L, x: x.mean(-1, keepdim=True), "amax": lambda L, x: x.amax(0),
    "prod": lambda L, x: x.prod(0), "logsumexp": lambda L, x: x.logsumexp(0), "norm": lambda L, x: x.norm(2, 0),
    "nansum": lambda L, x: x.nansum(0), "nanmean": lambda L, x: x.nanmean(0), "flip": lambda L, x: x.flip(0),
    "max": lambda L, x: x.max(0), "median": lambda L, x: x.median(0), "nanmedian": lambda L, x: x.nanmedian(0),
    "kthvalue": lambda L, x: x.kthvalue(1, 0), "mode": lambda L, x: x.mode(0), "aminmax": lambda L, x: x.aminmax(dim=0),
    "quantile": lambda L, x: x.quantile(0.5, 0), "cumsum": lambda L, x: x.cumsum(0), "cumprod": lambda L, x: x.cumprod(0),
    "cummax": lambda L, x: x.cummax(0), "logcumsumexp": lambda L, x: x.logcumsumexp(0),
    "movedim": lambda L, x: x.movedim(0, -1), "softmax": lambda L, x: x.softmax(0),
    "index_select": lambda L, x: x.index_select(0, L.tensor([0])), "gather": lambda L, x: x.gather(0, L.tensor(0)),
    "scatter_add": lambda L, x: x.scatter_add(0, L.tensor(0), L.tensor(3.0, dtype=L.float64)),
    "index_add": lambda L, x: x.index_add(0, L.tensor([0]), L.tensor(3.0, dtype=L.float64)),
    "index_copy": lambda L, x: x.index_copy(0, L.tensor([0]), L.tensor(3.0, dtype=L.float64)),
    "scatter_reduce": lambda L, x: x.scatter_reduce(0, L.tensor(0), L.tensor(3.0, dtype=L.float64), "amax"),
    "index_fill": lambda L, x: x.index_fill(-1, L.tensor([0]), 3.0),
    "index_fill_0d_index_and_value": lambda L, x: x.index_fill(0, L.tensor(0), L.tensor(3.0, dtype=L.float64)),
    "index_fill_no_index": lambda L, x: x.index_fill(0, L.tensor([], dtype=L.int64), 3.0),
    "tanh": lambda L, x: x.tanh(), "tanhshrink": lambda L, x: L.nn.functional.tanhshrink(x),
    "mish": lambda L, x: L.nn.functional.mish(x), "gelu_tanh": lambda L, x: L.nn.functional.gelu(x, approximate="tanh"),
}


@pytest.mark.parametrize("name", ALONG_DIM_OF_A_SCALAR)
def test_ops_along_dim_0_of_a_0d_tensor_match_torch(name):
    """Values, shapes and gradients (the backward of tanh failed on 0-d tensors: NumPy gives 0-d results as
    scalars, which take no out=)."""
    from helpers import torch_or_skip
    torch = torch_or_skip()
    fn = ALONG_DIM_OF_A_SCALAR[name]
    x_ours = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    x_theirs = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ours, theirs = fn(cr, x_ours), fn(torch, x_theirs)
    ours, theirs = (ours, theirs) if isinstance(theirs, torch.Tensor) else (ours[0], theirs[0])
    assert tuple(ours.shape) == tuple(theirs.shape) == ()
    assert ours.item() == pytest.approx(theirs.item())
    if theirs.grad_fn is not None and ours.dtype == cr.float64:
        ours.backward()
        theirs.backward()
        assert x_ours.grad.item() == pytest.approx(x_theirs.grad.item())


REFUSED_LIKE_TORCH = {   # torch refuses these too; chainrule's error names the op (was a bare IndexError/TypeError)
    "cross_0d": (lambda: cr.cross(cr.tensor(1.0), cr.tensor(1.0)), cr.ShapeError, "cross: needs vectors of 3"),
    "renorm_vector": (lambda: cr.renorm(cr.ones(3), 2, 0, 1.0), cr.ShapeError, "renorm: the input needs at least 2"),
    "embedding_1d_weight": (lambda: F.embedding(cr.tensor([0]), cr.ones(3)), cr.ShapeError,
                            "embedding: the weight must be a 2-d table"),
    "embedding_bag_0d_weight": (lambda: F.embedding_bag(cr.tensor([[0]]), cr.tensor(1.0)), cr.ShapeError,
                                "embedding_bag: the weight must be a 2-d table"),
    "tril_vector": (lambda: cr.tril(cr.ones(3)), cr.ShapeError, "tril: needs a matrix"),
    "triu_0d": (lambda: cr.ones(()).triu(), cr.ShapeError, "triu: needs a matrix"),
    "roll_0d_dim": (lambda: cr.roll(cr.tensor(1.0), 1, 0), IndexError, "roll: dim 0 is out of range for a 0-d"),
    "repeat_interleave_0d_dim": (lambda: cr.repeat_interleave(cr.tensor(1.0), 2, 0), IndexError,
                                 "repeat_interleave: dim 0 is out of range"),
    "nextafter_integers": (lambda: cr.nextafter(cr.tensor([1]), cr.tensor([2])), TypeError,
                           "nextafter: needs floating-point inputs"),
    "batch_norm_0d": (lambda: F.batch_norm(cr.tensor(1.0), None, None, training=True), cr.ShapeError,
                      r"batch_norm: expected \(N, C\)"),
}


@pytest.mark.parametrize("name", REFUSED_LIKE_TORCH)
def test_what_torch_refuses_gets_an_error_naming_the_op(name):
    fn, error, message = REFUSED_LIKE_TORCH[name]
    with pytest.raises(error, match=message):
        fn()


def test_quantile_gradient_in_q_is_right_and_only_for_linear_interpolation():
    x = cr.tensor(np.random.default_rng(3).standard_normal((3, 5)))
    q = cr.tensor([0.2, 0.65], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda q: cr.quantile(x, q, dim=1), (q,))
    assert not cr.quantile(x, q, dim=1, interpolation="midpoint").requires_grad   # q is not in torch's graph there
    with pytest.raises(ValueError, match=r"quantile: q must be .* in \[0, 1\], got \[0.2, nan\]"):
        cr.quantile(x, cr.tensor([0.2, float("nan")], dtype=cr.float64))


def test_0d_quantile_and_diff_of_order_0_as_torch():
    from helpers import torch_or_skip
    torch = torch_or_skip()
    for kwargs in ({}, {"dim": 0}, {"dim": -1, "keepdim": True}):
        ours = cr.quantile(cr.tensor(0.5, dtype=cr.float64), cr.tensor([0.2, 0.7], dtype=cr.float64), **kwargs)
        theirs = torch.quantile(torch.tensor(0.5, dtype=torch.float64), torch.tensor([0.2, 0.7], dtype=torch.float64),
                                **kwargs)
        assert tuple(ours.shape) == tuple(theirs.shape) == (2,)
    x = cr.arange(4.0)
    assert cr.diff(x, 0, prepend=cr.zeros(2)).tolist() == [0.0, 1.0, 2.0, 3.0]   # torch leaves prepend out at n=0
    with pytest.raises(ValueError, match="diff: the order n must be non-negative"):
        cr.diff(x, -1)


def test_random_factories_take_torchs_overloads():
    assert cr.randint(10, ()).shape == () and cr.randint(10, (2, 3)).shape == (2, 3)
    assert cr.randint(3, 10, (4,)).min() >= 3
    assert cr.normal(0.0, 1.0, (2, 3), dtype=cr.float64).dtype == cr.float64
    assert cr.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="randint: size is required"):
        cr.randint(10)


def test_0d_inputs_that_torch_takes_without_a_dim():
    x = cr.tensor(2.0, dtype=cr.float64)
    assert cr.gradient(x) == ()   # torch.gradient of a 0-d tensor: no dims, no estimates
    assert cr.roll(x, 3).item() == 2.0 and cr.roll(x, 3).shape == ()
    assert cr.repeat_interleave(x, 2).tolist() == [2.0, 2.0]


SHAPES_AND_FORMS = {   # (lib) -> a result whose shape and values must be torch's
    "var_positional_unbiased": lambda L: L.tensor([[1.0, 2.0], [4.0, 8.0]]).var(False),
    "std_positional_unbiased": lambda L: L.tensor([[1.0, 2.0], [4.0, 8.0]]).std(True),
    "var_mean_positional": lambda L: L.var_mean(L.tensor([1.0, 2.0, 4.0]), False)[0],
    "cov_one_variable": lambda L: L.cov(L.tensor([[1.0, 2.0, 4.0]])),
    "corrcoef_one_variable": lambda L: L.corrcoef(L.tensor([[1.0, 2.0, 4.0]])),
    "nonzero_of_0d": lambda L: L.nonzero(L.tensor(3.0)),
    "nonzero_of_0d_zero": lambda L: L.nonzero(L.tensor(0.0)),
    "argwhere_of_0d": lambda L: L.argwhere(L.tensor(3.0)),
    "nll_loss_unbatched_none": lambda L: L.nn.functional.nll_loss(L.tensor([-1.0, -2, -3]), L.tensor(1), reduction="none"),
    "prelu_0d": lambda L: L.nn.functional.prelu(L.tensor(-2.0), L.tensor(0.25)),
    "avg_pool2d_one_tuple_padding": lambda L: L.nn.functional.avg_pool2d(L.ones(1, 1, 5, 5), (3, 3), (1, 1), (1,)),
    "masked_scatter_mask_broadcasts_the_input": lambda L: L.masked_scatter(
        L.ones(5), L.eye(5, dtype=L.bool), L.arange(25.0)),
    "multi_margin_loss_0d": lambda L: L.nn.functional.multi_margin_loss(L.tensor(0.3), L.tensor(0)),
    "cat_skips_empty_vectors": lambda L: L.cat([L.zeros(0), L.ones(2, 3), L.zeros(0)], dim=1),
    "norm_nuc": lambda L: L.norm(L.arange(9.0).reshape(3, 3), "nuc"),
    "norm_nuc_dims": lambda L: L.norm(L.arange(18.0).reshape(2, 3, 3), "nuc", dim=(0, 2)),
    "softmin_dtype": lambda L: L.nn.functional.softmin(L.tensor([1.0, 2.0, 3.0]), 0, dtype=L.float64),
    "gradient_none_spelled_out": lambda L: L.gradient(L.tensor([1.0, 4, 9, 16]), spacing=None, dim=None)[0],
    "index_reduce_0d": lambda L: L.tensor(2.0).index_reduce(0, L.tensor([0]), L.tensor(3.0), "prod"),
    "gaussian_nll_var_shared_along_one_dim": lambda L: L.nn.functional.gaussian_nll_loss(
        L.zeros(4, 3), L.ones(4, 3), L.full((1, 3), 2.0)),
    "batch_norm_empty_batch_in_training": lambda L: L.nn.functional.batch_norm(
        L.zeros(0, 5, 9), L.zeros(5), L.ones(5), training=True),
    "fractional_max_pool3d_more_sample_rows": lambda L: L.nn.functional.fractional_max_pool3d(
        L.arange(500.0).reshape(4, 5, 5, 5), 2, output_ratio=0.5, _random_samples=L.full((2, 4, 3), 0.5)),
    "tensordot_size_1_broadcasts": lambda L: L.tensordot(L.arange(2.0).reshape(2, 1), L.arange(12.0).reshape(3, 4),
                                                         dims=([1], [0])),
    "trapezoid_x_broadcasts": lambda L: L.trapezoid(L.arange(12.0).reshape(3, 4), L.arange(4.0).reshape(1, 4) * 2),
    "trapezoid_x_broadcasts_dim0": lambda L: L.trapezoid(L.arange(12.0).reshape(3, 4), L.arange(3.0).reshape(3, 1),
                                                         dim=0),
    "cumulative_trapezoid_x_broadcasts": lambda L: L.cumulative_trapezoid(L.arange(12.0).reshape(3, 4),
                                                                          L.arange(4.0).reshape(1, 4) * 2),
    "searchsorted_empty_batch": lambda L: L.searchsorted(L.zeros(0, 0), L.zeros(0, 0)),
    "searchsorted_empty_rows": lambda L: L.searchsorted(L.zeros(3, 0), L.ones(3, 2)),
    "unique_consecutive_empty_other_dims": lambda L: L.unique_consecutive(L.zeros(5, 0, 5), dim=1),
    "conv2d_one_tuple_stride": lambda L: L.nn.functional.conv2d(L.ones(1, 1, 5, 5), L.ones(1, 1, 3, 3), None, (2,), (1,)),
}


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")   # torch's own warning
@pytest.mark.parametrize("name", SHAPES_AND_FORMS)
def test_shapes_and_older_forms_match_torch(name):
    from helpers import torch_or_skip
    torch = torch_or_skip()
    ours, theirs = SHAPES_AND_FORMS[name](cr), SHAPES_AND_FORMS[name](torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dims,x_shape,w_shape,options", [
    (2, (2, 2, 4, 4), (2, 2, 4, 5), dict(stride=(3, 2), padding=(1, 2), output_padding=(2, 3), groups=2, dilation=4)),
    (2, (1, 2, 3, 3), (2, 1, 3, 2), dict(stride=2, padding=(0, 1), output_padding=(2, 1), dilation=3)),
    (3, (3, 4, 4, 4), (3, 3, 3, 3, 3), dict(stride=2, padding=2, output_padding=1)),          # unbatched
    (3, (1, 2, 3, 3, 3), (2, 1, 2, 2, 2), dict(stride=1, padding=1, output_padding=1, dilation=2)),
], ids=["2d_output_padding_above_stride", "2d_output_padding_above_padding", "3d_unbatched", "3d_dilated"])
def test_transposed_convolutions_with_large_output_padding_match_torch(dims, x_shape, w_shape, options):
    from helpers import torch_or_skip
    torch = torch_or_skip()
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    name = f"conv_transpose{dims}d"
    ya = getattr(F, name)(a, cr.tensor(w), **options)
    yb = getattr(torch.nn.functional, name)(b, torch.tensor(w), **options)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10, atol=1e-12)
    (ya ** 2).sum().backward()
    (yb ** 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-11)


# ---- gradients found missing or failing by tools/torch_opinfo_sweep.py --grad ----------------------------------
def _matrix(L, *shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return L.tensor(data, requires_grad=True)


GRADIENTS_AS_TORCH = {   # (lib) -> (result, inputs): the vector-Jacobian products must be torch's
    "qr_wide": lambda L: (lambda a: (L.linalg.qr(a), [a]))(_matrix(L, 2, 5)),
    "qr_wide_batched": lambda L: (lambda a: (L.linalg.qr(a), [a]))(_matrix(L, 3, 2, 4)),
    "qr_no_rows": lambda L: (lambda a: (L.linalg.qr(a), [a]))(_matrix(L, 0, 3)),
    "det_of_0x0": lambda L: (lambda a: (L.linalg.det(a), [a]))(_matrix(L, 3, 0, 0)),
    "gather_smaller_index": lambda L: (lambda a: (a.gather(1, L.tensor([[3, 0], [1, 1]])), [a]))(_matrix(L, 4, 5)),
    "scatter_add_smaller_index": lambda L: (lambda a, s: (a.scatter_add(1, L.tensor([[3, 0], [1, 1]]), s), [a, s]))(
        _matrix(L, 4, 5), _matrix(L, 2, 2, seed=1)),
    "frexp_mantissa": lambda L: (lambda a: (L.frexp(a * 40)[0], [a]))(_matrix(L, 3, 4)),
    "nextafter": lambda L: (lambda a, b: (L.nextafter(a, b), [a, b]))(_matrix(L, 3, 4), _matrix(L, 4, seed=1)),
    "matrix_power_0": lambda L: (lambda a: (L.linalg.matrix_power(a, 0), [a]))(_matrix(L, 2, 3, 3)),
    "quantile_q_requires_grad": lambda L: (lambda x, q: (L.quantile(x, q, dim=1), [x, q]))(
        _matrix(L, 3, 5), L.tensor([0.2, 0.65, 1.0], dtype=L.float64, requires_grad=True)),
    "quantile_0d_q_requires_grad": lambda L: (lambda x, q: (L.quantile(x, q), [x, q]))(
        _matrix(L, 3, 5), L.tensor(0.3, dtype=L.float64, requires_grad=True)),
    "householder_product_no_tau": lambda L: (lambda a, t: (L.linalg.householder_product(a, t), [a, t]))(
        _matrix(L, 4, 3), _matrix(L, 0)),
}


@pytest.mark.parametrize("name", GRADIENTS_AS_TORCH)
def test_gradients_match_torch(name):
    from helpers import torch_or_skip
    torch = torch_or_skip()
    ours, ours_in = GRADIENTS_AS_TORCH[name](cr)
    theirs, theirs_in = GRADIENTS_AS_TORCH[name](torch)
    ours = list(ours) if isinstance(ours, tuple) else [ours]
    theirs = list(theirs) if isinstance(theirs, tuple) else [theirs]
    rng = np.random.default_rng(7)
    cotangents = [rng.standard_normal(tuple(t.shape)) for t in theirs]
    g_theirs = torch.autograd.grad(theirs, theirs_in, [torch.from_numpy(c) for c in cotangents], allow_unused=True)
    g_ours = cr.autograd.grad(ours, ours_in, [cr.tensor(c) for c in cotangents], allow_unused=True)
    for x, a, b in zip(theirs_in, g_theirs, g_ours):
        assert a is None or b is not None, "an input torch keeps in the graph is kept here too"
        a = np.zeros(tuple(x.shape)) if a is None else a.numpy()
        np.testing.assert_allclose(np.zeros(a.shape) if b is None else b.numpy(), a, rtol=1e-9, atol=1e-12)


def test_fill_stays_in_the_graph_as_torchs():
    """torch.fill(x, v): x gets a zero gradient and a 0-d tensor v the sum of g, so a loss built on the result can
    backpropagate; without grad it is a plain filled copy."""
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    w = np.array([1.0, 2.0, 3.0])
    for make_value in (lambda L: True, lambda L: 2.5, lambda L: L.tensor(1.5, dtype=L.float64, requires_grad=True)):
        results = []
        for L in (cr, torch):
            x, v = L.tensor(np.zeros(3), requires_grad=True), make_value(L)
            y = L.fill(x, v)
            assert y.requires_grad
            (y * L.tensor(w)).sum().backward()
            results.append((y.detach().numpy(), x.grad.numpy(),
                            v.grad.numpy() if hasattr(v, "grad") and v.grad is not None else None))
        (ours_y, ours_gx, ours_gv), (theirs_y, theirs_gx, theirs_gv) = results
        np.testing.assert_array_equal(ours_y, theirs_y)
        np.testing.assert_array_equal(ours_gx, theirs_gx)
        assert (ours_gv is None) == (theirs_gv is None) and (ours_gv is None or ours_gv == theirs_gv)
    assert cr.fill(cr.zeros(2, dtype=cr.int64), 3).tolist() == [3, 3]
    with pytest.raises(ValueError, match=r"fill: value must be a number or a 0-d tensor, got shape \(2,\)"):
        cr.fill(cr.zeros(2, requires_grad=True), cr.ones(2))


def test_native_group_norm_of_an_empty_batch():
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    ours = cr.native_group_norm(cr.zeros(0, 2, dtype=cr.float64), cr.ones(2, dtype=cr.float64),
                                cr.zeros(2, dtype=cr.float64), 0, 2, 1, 1, 1e-5)
    theirs = torch.native_group_norm(torch.zeros(0, 2, dtype=torch.float64), torch.ones(2, dtype=torch.float64),
                                     torch.zeros(2, dtype=torch.float64), 0, 2, 1, 1, 1e-5)
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs] == [(0, 2), (0, 1), (0, 1)]


@pytest.mark.parametrize("call", [
    lambda x, i, v: x.index_put((i,), v), lambda x, i, v: x.index_put_((i,), v),
    lambda x, i, v: x.index_put((i,), v, accumulate=True), lambda x, i, v: x.put(i, v), lambda x, i, v: x.put_(i, v)])
def test_index_put_and_put_refuse_values_of_another_dtype_as_torch(call):
    x, i = cr.zeros(4), cr.tensor([1, 2])
    for values in (cr.ones(2, dtype=cr.float64), cr.tensor([1, 2])):
        with pytest.raises(cr.errors.DTypeError, match=r"(index_put|put): (values|source) has dtype .* but input has "
                                                        r"float32.*\.to\(input\.dtype\)"):
            call(x, i, values)
    assert x.tolist() == [0.0, 0.0, 0.0, 0.0]                  # nothing written before the refusal
    np.testing.assert_array_equal(call(x.clone(), i, cr.ones(2)).numpy(), [0, 1, 1, 0])   # the same dtype works
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    with pytest.raises(RuntimeError, match="dtype"):
        call(torch.zeros(4), torch.tensor([1, 2]), torch.ones(2, dtype=torch.float64))


def test_small_top_level_names_as_torch():
    x = cr.ones(3)
    np.testing.assert_array_equal(cr.index_reduce(x, 0, cr.tensor([0, 0]), cr.tensor([2.0, 3.0]), "prod").numpy(),
                                  [6.0, 1.0, 1.0])
    assert [t.tolist() for t in cr.unsafe_split_with_sizes(cr.arange(5), [2, 3])] == [[0, 1], [2, 3, 4]]
    assert cr.init_num_threads() is None and cr.is_distributed(x) is False


@pytest.mark.parametrize("name, instead", [("solve", "linalg.solve"), ("lstsq", "linalg.lstsq"),
                                           ("matrix_rank", "linalg.matrix_rank"), ("symeig", "linalg.eigh"),
                                           ("eig", "linalg.eigh")])
def test_functions_torch_removed_raise_with_their_replacement(name, instead):
    with pytest.raises(RuntimeError, match=rf"{name}: torch removed it .* use {instead}"):
        getattr(cr, name)(cr.eye(2), cr.eye(2))
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"):
        getattr(torch, name)(torch.eye(2), torch.eye(2)) if name in ("solve", "lstsq") else getattr(torch, name)(
            torch.eye(2))


def test_small_tensor_methods_as_torch():
    x = cr.tensor([1.0, 2.0, 3.0])
    assert x.conj_physical() is x and x.conj_physical_() is x        # torch returns self for a real tensor
    assert [t.tolist() for t in x.unsafe_split_with_sizes([1, 2])] == [[1.0], [2.0, 3.0]]
    assert x.is_distributed() is False and x.const_data_ptr() == x.data_ptr()


def test_masked_scatter_keeps_a_0d_tensor_0d():
    """Found by the random programs: the 0-d mask went through np.ascontiguousarray, which makes it 1-d, so the
    result was (1,) and masked_scatter_ on a 0-d tensor refused to change its shape."""
    assert cr.tensor(1.5).masked_scatter(cr.tensor(True), cr.tensor([3.0])).shape == ()
    x = cr.tensor(1.5, requires_grad=True)
    y = x.clone()
    y.masked_scatter_(y > 0, cr.tensor([7.0]))
    assert y.shape == () and y.item() == 7.0
