"""Edge cases the random layer configurations (test_random_layers_as_torch.py) found, each pinned down here so a
regression fails by name, whatever configurations hypothesis happens to draw."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.errors import ShapeError


def test_instance_norm_momentum_none_leaves_running_stats_alone():
    """torch's InstanceNorm passes momentum None on as 0 (BatchNorm reads it as a cumulative average): tracked
    running statistics stay at their initial values in training."""
    norm = nn.InstanceNorm1d(2, momentum=None, track_running_stats=True).double()
    norm(cr.randn(3, 2, 4, dtype=cr.float64))
    np.testing.assert_array_equal(norm.running_mean.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(norm.running_var.numpy(), [1.0, 1.0])


def test_group_norm_refuses_groups_of_one_value_as_torch():
    with pytest.raises(ValueError, match=r"group_norm: expected more than 1 value per channel"):
        nn.GroupNorm(1, 1)(cr.randn(1, 1))
    nn.GroupNorm(1, 1)(cr.randn(2, 1))   # torch counts the batch in: two samples of one value each pass


def test_lp_pool_of_odd_order_over_a_negative_window_is_nan_with_a_warning_that_says_why():
    x = cr.tensor([[[-1.0, -2.0, 3.0, 0.0, 0.0, 1.0]]], dtype=cr.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = F.lp_pool1d(x, 3.0, 2)
        y.sum().backward()
    assert [str(w.message).split(":")[0] for w in caught] == ["lp_pool1d"]   # one warning, chainrule's, named
    out = y.detach().numpy().ravel()
    assert np.isnan(out[0]) and out[1] == pytest.approx(3.0) and out[2] == pytest.approx(1.0)
    np.testing.assert_array_equal(np.isnan(x.grad.numpy().ravel()), [True, True, False, False, False, False])
    # -∞ has a real root in IEEE pow (+∞, as torch gives): no nan, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.lp_pool1d(cr.tensor([[[-np.inf, 1.0]]]), 3.0, 2).item() == np.inf


@pytest.mark.parametrize("call,message", [
    (lambda: F.avg_pool1d(cr.randn(1, 1, 1), 2), r"avg_pool1d: input \(1, 1, 1\) is too small for kernel 2 "),
    (lambda: F.max_pool1d(cr.randn(1, 1, 5), 2, 1, 2), r"max_pool1d: padding 2 should be at most half of the kernel "
                                                        r"size 2"),
    (lambda: F.lp_pool1d(cr.randn(1, 1, 1), 2.0, 2), r"lp_pool1d: input \(1, 1, 1\) is too small for kernel 2 "),
    (lambda: F.lp_pool2d(cr.randn(3), 2.0, 2), r"lp_pool2d: expected input \(N, C, H, W\) or \(C, H, W\), got "
                                                r"shape \(3,\)"),
    (lambda: nn.Conv1d(1, 1, 2, padding="same", padding_mode="reflect")(cr.randn(1, 1, 1)),
     r"Conv1d\(padding_mode='reflect'\) on input \(1, 1, 1\): pad: reflect padding"),
    (lambda: F.lp_pool3d(cr.randn(2, 3, 3, 2), 3.0, 3), r"lp_pool3d: input \(2, 3, 3, 2\) is too small for kernel "
                                                        r"\(3, 3, 3\)"),
    (lambda: F.max_pool3d(cr.randn(1, 1, 3, 3, 2), 3), r"max_pool3d: input \(1, 1, 3, 3, 2\) is too small"),
    (lambda: nn.ConvTranspose1d(1, 1, 2, stride=3, dilation=2, padding=2)(cr.randn(1, 1, 1)),
     r"conv_transpose1d: the output would be \(-1,\) for an input of spatial size \(1,\)"),
    # (the depth used to go unchecked: a negative depth made an empty output instead of an error)
    (lambda: nn.ConvTranspose3d(1, 1, (2, 1, 3), stride=3, dilation=2, padding=(2, 0, 0))(cr.randn(1, 1, 1, 4, 4)),
     r"conv_transpose3d: the output would be \(-1, 10, 14\)"),
])
def test_pooling_and_padding_errors_name_the_op_called_with_its_own_shapes(call, message):
    """A 1-d pool runs as a 2-d one, and a padded conv through F.pad: the error names the op the user called and
    the input they passed, not the (1, 1, 1, 1) the 2-d pool saw."""
    with pytest.raises((ShapeError, ValueError), match=message):
        call()


def test_embedding_scale_grad_by_freq_gives_each_row_the_mean_of_its_gradients():
    """scale_grad_by_freq divides row i's gradient by i's count in the input: the sum over its occurrences
    becomes their mean. (It used to raise NotImplementedError; embedding_bag ignored it silently.)"""
    idx = np.array([[0, 2, 0, 1], [2, 0, 3, 3]])
    weight = cr.randn(5, 3, dtype=cr.float64, requires_grad=True)
    g = np.random.default_rng(0).standard_normal((2, 4, 3))
    out = F.embedding(cr.tensor(idx), weight, scale_grad_by_freq=True)
    np.testing.assert_array_equal(out.detach().numpy(), weight.detach().numpy()[idx])   # the value is untouched
    out.backward(cr.tensor(g))
    for row in range(5):
        expected = g[idx == row].mean(0) if (idx == row).any() else np.zeros(3)
        np.testing.assert_allclose(weight.grad.numpy()[row], expected, rtol=1e-12)


def test_embedding_bag_scale_grad_by_freq():
    idx = np.array([[0, 1, 2], [3, 3, 4]])
    weight = cr.randn(6, 3, dtype=cr.float64, requires_grad=True)
    g = np.random.default_rng(1).standard_normal((2, 3))
    F.embedding_bag(cr.tensor(idx), weight, mode="sum", scale_grad_by_freq=True).backward(cr.tensor(g))
    # rows 0-2 occur once (bag 0), row 3 twice and row 4 once (bag 1): each row's gradient is its bag's, once
    np.testing.assert_allclose(weight.grad.numpy(), np.stack([g[0], g[0], g[0], g[1], g[1], np.zeros(3)]),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="embedding_bag: mode='max' does not support scale_grad_by_freq"):
        F.embedding_bag(cr.tensor(idx), weight, mode="max", scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError, match="embedding_bag: sparse gradients are not supported"):
        F.embedding_bag(cr.tensor(idx), weight, sparse=True)


def test_fold_and_unfold_take_one_unbatched_sample_and_fold_checks_the_block_count():
    x = cr.randn(2, 5, 5, dtype=cr.float64)
    cols = F.unfold(x, 3)
    assert tuple(cols.shape) == (18, 9)
    np.testing.assert_allclose(cols.numpy(), F.unfold(x.unsqueeze(0), 3).squeeze(0).numpy())
    assert tuple(F.fold(cols, (5, 5), 3).shape) == (2, 5, 5)
    # 3×3 blocks fit a 5×5 output with a 3×3 kernel: L = 8 is refused (it used to run, reading blocks that do not
    # exist); so is a geometry with no block at all
    with pytest.raises(ShapeError, match=r"fold: output_size \(5, 5\) .* holds 3×3 sliding blocks, but the input "
                                         r"has L = 8"):
        F.fold(cr.randn(1, 18, 8), (5, 5), 3)
    with pytest.raises(ShapeError, match=r"holds 2×-1 sliding blocks"):
        F.fold(cr.randn(2, 6, 2), (6, 3), (2, 3), dilation=2, stride=(2, 1))
