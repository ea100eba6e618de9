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
}


@pytest.mark.parametrize("name", ALONG_DIM_OF_A_SCALAR)
def test_ops_along_dim_0_of_a_0d_tensor_match_torch(name):
    from helpers import torch_or_skip
    torch = torch_or_skip()
    fn = ALONG_DIM_OF_A_SCALAR[name]
    ours = fn(cr, cr.tensor(2.0, dtype=cr.float64, requires_grad=True))
    theirs = fn(torch, torch.tensor(2.0, dtype=torch.float64, requires_grad=True))
    ours, theirs = (ours, theirs) if isinstance(theirs, torch.Tensor) else (ours[0], theirs[0])
    assert tuple(ours.shape) == tuple(theirs.shape) == ()
    assert ours.item() == pytest.approx(theirs.item())


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
    "conv2d_one_tuple_stride": lambda L: L.nn.functional.conv2d(L.ones(1, 1, 5, 5), L.ones(1, 1, 3, 3), None, (2,), (1,)),
}


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
