"""Ops that torch documents as returning a new tensor must not hand back a view of their input, even where
nothing moves (a repeat by 1, a roll by the dim's size, a resize to the same size): writing into the result
would otherwise change the input. Also Tensor.to(copy=True) and Tensor.type()'s round trip."""
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
