"""Conv3d, MaxPool3d, AvgPool3d, BatchNorm3d-sized inputs and adaptive max pooling against torch with the same
weights (float64, outputs and all gradients), over strides, paddings, dilations and groups."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from helpers import assert_layer_matches_torch, assert_matches_torch, torch_or_skip


_torch = torch_or_skip
_compare = assert_matches_torch


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1), ((1, 2, 1), (1, 0, 2), 1, 2),
                                                            (1, "same", (2, 1, 1), 1), (1, 1, 2, 4)])
def test_conv3d_matches_torch(stride, padding, dilation, groups):
    torch = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 5, 7))
    w = rng.standard_normal((4, 4 // groups, 3, 2, 3))
    b = rng.standard_normal(4)
    _compare(lambda x, w, b: F.conv3d(x, w, b, stride, padding, dilation, groups),
             lambda x, w, b: torch.nn.functional.conv3d(x, w, b, stride, padding, dilation, groups), [x, w, b])


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), ((3, 2, 2), (2, 1, 2), (1, 0, 1)), (3, 1, 1)])
def test_pool3d_matches_torch(kernel, stride, padding):
    torch = _torch()
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 5, 7))
    _compare(lambda x: F.max_pool3d(x, kernel, stride, padding),
             lambda x: torch.nn.functional.max_pool3d(x, kernel, stride, padding), [x])
    _compare(lambda x: F.avg_pool3d(x, kernel, stride, padding),
             lambda x: torch.nn.functional.avg_pool3d(x, kernel, stride, padding), [x])


@pytest.mark.parametrize("size", [(2, 3), 4, (3, None), 1])
def test_adaptive_max_pool_matches_torch_with_indices(size):
    torch = _torch()
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 9))
    _compare(lambda x: F.adaptive_max_pool2d(x, size), lambda x: torch.nn.functional.adaptive_max_pool2d(x, size), [x])
    _, ia = F.adaptive_max_pool2d(cr.tensor(x), size, return_indices=True)
    _, ib = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    if isinstance(size, int):
        x1 = x[:, :, 0]
        _compare(lambda x: F.adaptive_max_pool1d(x, size), lambda x: torch.nn.functional.adaptive_max_pool1d(x, size), [x1])
        _, ia = nn.AdaptiveMaxPool1d(size, return_indices=True)(cr.tensor(x1))
        _, ib = torch.nn.AdaptiveMaxPool1d(size, return_indices=True)(torch.tensor(x1))
        np.testing.assert_array_equal(ia.numpy(), ib.numpy())


def test_conv3d_module_matches_torch_and_trains():
    torch = _torch()
    cm, tm = nn.Conv3d(2, 3, (2, 3, 3), stride=(1, 2, 1), padding=1).double(), \
        torch.nn.Conv3d(2, 3, (2, 3, 3), stride=(1, 2, 1), padding=1).double()
    assert cm.weight.shape == tuple(tm.weight.shape)
    with torch.no_grad():
        tm.weight.copy_(torch.from_numpy(cm.weight.detach().numpy()))
        tm.bias.copy_(torch.from_numpy(cm.bias.detach().numpy()))
    x = np.random.default_rng(3).standard_normal((2, 2, 4, 5, 5))
    ya, yb = cm(cr.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10, atol=1e-12)
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_allclose(cm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-10)


def test_volume_shapes_and_errors():
    net = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU(), nn.MaxPool3d(2),
                        nn.AvgPool3d(2), nn.Flatten())
    assert net(cr.randn(2, 1, 8, 8, 8)).shape == (2, 4 * 2 * 2 * 2)
    with pytest.raises(cr.ShapeError, match=r"conv3d: expected input \(N, C, D, H, W\)"):
        F.conv3d(cr.randn(2, 3, 3), cr.randn(1, 2, 1, 1, 1))
    with pytest.raises(cr.ShapeError, match=r"conv3d: input has 1 channels but weight \(1, 2, 1, 1, 1\)"):
        F.conv3d(cr.randn(1, 2, 3, 3), cr.randn(1, 2, 1, 1, 1))   # unbatched (C, D, H, W) with C = 1
    with pytest.raises(cr.ShapeError, match="conv3d: the kernel .* larger than the padded input depth 2"):
        F.conv3d(cr.randn(1, 1, 2, 3, 3), cr.randn(1, 1, 3, 1, 1))
    with pytest.raises(cr.ShapeError, match="adaptive_max_pool2d: expected"):
        F.adaptive_max_pool2d(cr.randn(3, 4), 2)


@pytest.mark.parametrize("kw", [dict(), dict(stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 1),
                                             dilation=(1, 2, 1)),
                                dict(groups=2, stride=2, bias=False), dict(stride=3, padding=1, output_padding=2)],
                         ids=["plain", "strided-padded-dilated", "groups", "output-padding"])
def test_conv_transpose3d_matches_torch(kw):
    torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
    ours, theirs = cr.nn.ConvTranspose3d(4, 2, 3, **kw).double(), torch.nn.ConvTranspose3d(4, 2, 3, **kw).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    assert_layer_matches_torch(ours, theirs, np.random.default_rng(0).standard_normal((2, 4, 3, 4, 3)))


@pytest.mark.parametrize("make", ["LPPool3d(2, 2)", "LPPool3d(1.5, (2, 3, 2), (1, 2, 2))",
                                  "AdaptiveMaxPool3d((2, 3, 4))", "AdaptiveMaxPool3d((3, None, 2))",
                                  "AdaptiveMaxPool3d(1)"])
def test_lp_and_adaptive_max_pool3d_match_torch(make):
    torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
    x = np.random.default_rng(2).random((2, 3, 5, 6, 7)) + 0.1
    ours, theirs = eval("nn." + make), eval("torch.nn." + make)
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10)
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    values, indices = nn.AdaptiveMaxPool3d(2, return_indices=True)(cr.tensor(x))   # now supported, as torch
    assert values.shape == indices.shape
