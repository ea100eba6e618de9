"""Window pooling with torch's full signatures (ceil_mode, return_indices, count_include_pad, divisor_override),
max_unpool and LP pooling: outputs, indices and input gradients equal torch's in float64."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from helpers import assert_matches_torch, torch_or_skip

R = np.random.default_rng(0)
MAX_CASES = [((2, 3, 7, 6), dict(kernel_size=2)), ((1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
             ((1, 2, 7, 6), dict(kernel_size=2, stride=2, ceil_mode=True)),
             ((1, 1, 8, 9), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), ceil_mode=True)),
             ((2, 6, 6), dict(kernel_size=3, stride=1, padding=1, dilation=2)),
             ((1, 1, 5, 5), dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True))]
AVG_CASES = [((2, 3, 6, 6), dict(kernel_size=2)), ((1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
             ((1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
             ((1, 1, 7, 6), dict(kernel_size=2, stride=2, ceil_mode=True)),
             ((1, 1, 8, 9), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True,
                                 count_include_pad=False)),
             ((1, 1, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
             ((2, 5, 5), dict(kernel_size=2, stride=1, divisor_override=3))]


@pytest.mark.parametrize("shape,kw", MAX_CASES)
def test_max_pool2d_and_indices_match_torch(shape, kw):
    torch = torch_or_skip()
    x = R.standard_normal(shape)
    assert_matches_torch(lambda t: F.max_pool2d(t, **kw), lambda t: torch.nn.functional.max_pool2d(t, **kw), [x])
    _, ia = F.max_pool2d(cr.tensor(x), **kw, return_indices=True)
    _, ib = torch.nn.functional.max_pool2d(torch.tensor(x), **kw, return_indices=True)
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())


@pytest.mark.parametrize("shape,kw", AVG_CASES)
def test_avg_pool2d_matches_torch(shape, kw):
    torch = torch_or_skip()
    assert_matches_torch(lambda t: F.avg_pool2d(t, **kw), lambda t: torch.nn.functional.avg_pool2d(t, **kw),
                         [R.standard_normal(shape)], rtol=1e-13)


def test_1d_pools_and_modules_match_torch():
    torch = torch_or_skip()
    x = R.standard_normal((2, 3, 11))
    for kw in [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)]:
        assert_matches_torch(lambda t: F.max_pool1d(t, **kw), lambda t: torch.nn.functional.max_pool1d(t, **kw), [x])
        assert_matches_torch(lambda t: F.avg_pool1d(t, **kw, count_include_pad=False),
                             lambda t: torch.nn.functional.avg_pool1d(t, **kw, count_include_pad=False), [x], rtol=1e-13)
    _, ia = F.max_pool1d(cr.tensor(x), 3, 2, 1, return_indices=True)
    _, ib = torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    img = R.standard_normal((1, 2, 7, 7))
    pairs = [(nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
             (nn.AvgPool2d(3, 1, 1, count_include_pad=False), torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False)),
             (nn.LPPool2d(2, 3, 2), torch.nn.LPPool2d(2, 3, 2))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(cr.tensor(img)).numpy(), theirs(torch.tensor(img)).numpy(), rtol=1e-13)


def test_max_unpool_inverts_max_pool_like_torch():
    torch = torch_or_skip()
    for shape, size in (((2, 3, 6, 6), None), ((2, 3, 6, 7), (6, 7))):   # a 7-wide input needs its size back
        x = R.standard_normal(shape)
        pooled, idx = nn.MaxPool2d(2, 2, return_indices=True)(cr.tensor(x))
        tp, ti = torch.nn.MaxPool2d(2, 2, return_indices=True)(torch.tensor(x))
        assert_matches_torch(lambda t: nn.MaxUnpool2d(2, 2)(t, idx, size),
                             lambda t: torch.nn.MaxUnpool2d(2, 2)(t, ti, size), [pooled.numpy()])
    with pytest.raises(IndexError, match=r"max_unpool2d: an index \(0 … 40\) falls outside the output size \(6, 6\)"):
        F.max_unpool2d(pooled, idx, 2)
    s = R.standard_normal((2, 3, 9))
    p1, i1 = F.max_pool1d(cr.tensor(s), 3, return_indices=True)
    tp1, ti1 = torch.nn.functional.max_pool1d(torch.tensor(s), 3, return_indices=True)
    assert_matches_torch(lambda t: F.max_unpool1d(t, i1, 3), lambda t: torch.nn.functional.max_unpool1d(t, ti1, 3),
                         [p1.numpy()])
    with pytest.raises(cr.ShapeError, match="max_unpool2d: input .* and indices .* must have the same shape"):
        F.max_unpool2d(pooled, idx[..., :1], 2)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.5])
def test_lp_pool_matches_torch(p):
    torch = torch_or_skip()
    x = R.uniform(0.1, 2.0, (1, 2, 6, 7))
    assert_matches_torch(lambda t: F.lp_pool2d(t, p, 2), lambda t: torch.nn.functional.lp_pool2d(t, p, 2), [x],
                         rtol=1e-12)
    assert_matches_torch(lambda t: F.lp_pool2d(t, p, 3, 2, ceil_mode=True),
                         lambda t: torch.nn.functional.lp_pool2d(t, p, 3, 2, ceil_mode=True), [x], rtol=1e-12)
    assert_matches_torch(lambda t: F.lp_pool1d(t, p, 3), lambda t: torch.nn.functional.lp_pool1d(t, p, 3),
                         [x[0]], rtol=1e-12)


def test_pooling_names_its_errors():
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) should be at most half of the kernel size"):
        F.max_pool2d(cr.zeros(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(cr.ShapeError, match="avg_pool2d: input .* is too small for kernel"):
        F.avg_pool2d(cr.zeros(1, 1, 2, 2), 3)
    with pytest.raises(cr.ShapeError, match=r"max_pool2d: expected input \(N, C, H, W\) or \(C, H, W\)"):
        F.max_pool2d(cr.zeros(4, 4), 2)
