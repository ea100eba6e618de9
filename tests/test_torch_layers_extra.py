"""Layers and activations beyond the issues' lists (shrinkage, GLU, Bilinear, pixel shuffle, instance and RMS norm,
BatchNorm3d, Embedding's max_norm and from_pretrained, EmbeddingBag) against torch with the same weights: outputs,
input gradients, weight gradients and running statistics to 1e-10 in float64. Errors are tested without torch."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _same(ours, theirs, rtol=1e-10):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=1e-12)


def _copy_params(cm, tm):
    torch = _torch()
    with torch.no_grad():
        for (name, p), (tname, q) in zip(sorted(cm.named_parameters()), sorted(tm.named_parameters())):
            assert name == tname and p.shape == tuple(q.shape), (name, tname)
            q.copy_(torch.from_numpy(p.detach().numpy()))


def _check_module(cm, tm, *shapes, rng=None):
    """Same weights, same inputs: outputs, input gradients and weight gradients agree."""
    torch = _torch()
    rng = rng or np.random.default_rng(0)
    cm, tm = cm.double(), tm.double()
    _copy_params(cm, tm)
    arrays = [rng.uniform(-2, 2, s) for s in shapes]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ya, yb = cm(*xs), tm(*ts)
    _same(ya, yb)
    g = rng.standard_normal(tuple(yb.shape))
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        _same(x.grad, t.grad)
    for (name, p), (_, q) in zip(sorted(cm.named_parameters()), sorted(tm.named_parameters())):
        _same(p.grad, q.grad)


@pytest.mark.parametrize("name,kw", [("softshrink", {}), ("softshrink", {"lambd": 1.2}), ("hardshrink", {}),
                                     ("tanhshrink", {}), ("glu", {}), ("glu", {"dim": 0}), ("softmin", {"dim": 1}),
                                     ("rrelu", {})])
def test_activation_matches_torch(name, kw):
    torch = _torch()
    x = np.random.default_rng(1).uniform(-3, 3, (4, 6))
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = getattr(F, name)(a, **kw), getattr(torch.nn.functional, name)(b, **kw)
    _same(ya, yb)
    ya.sum().backward()
    yb.sum().backward()
    _same(a.grad, b.grad)


def test_activation_modules_match_torch():
    torch = _torch()
    for cm, tm in [(nn.Softshrink(0.3), torch.nn.Softshrink(0.3)), (nn.Hardshrink(), torch.nn.Hardshrink()),
                   (nn.Tanhshrink(), torch.nn.Tanhshrink()), (nn.GLU(1), torch.nn.GLU(1)),
                   (nn.Softmin(dim=0), torch.nn.Softmin(dim=0)), (nn.RReLU().eval(), torch.nn.RReLU().eval())]:
        _check_module(cm, tm, (3, 4))


def test_rrelu_trains_with_random_slopes_in_range():
    x = cr.tensor(-np.ones((200, 50)), requires_grad=True)
    y = nn.RReLU(0.1, 0.3)(x)
    slopes = -y.detach().numpy()
    assert 0.1 <= slopes.min() < 0.12 and 0.28 < slopes.max() <= 0.3 and slopes.std() > 0.04
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)      # the gradient is the slope that was drawn


def test_bilinear_and_pixel_shuffle_match_torch():
    torch = _torch()
    cr.manual_seed(0)
    _check_module(nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5), (6, 3), (6, 4))
    _check_module(nn.Bilinear(3, 2, 2, bias=False), torch.nn.Bilinear(3, 2, 2, bias=False), (2, 4, 3), (2, 4, 2))
    _check_module(nn.PixelShuffle(2), torch.nn.PixelShuffle(2), (2, 8, 3, 5))
    _check_module(nn.PixelUnshuffle(3), torch.nn.PixelUnshuffle(3), (2, 2, 6, 9))
    _check_module(nn.PixelShuffle(2), torch.nn.PixelShuffle(2), (4, 3, 2))          # unbatched


def test_bilinear_default_init_is_torchs():
    cr.manual_seed(0)
    m = nn.Bilinear(16, 3, 4)
    bound = 1 / 4
    w = m.weight.detach().numpy()
    assert w.shape == (4, 16, 3) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound


@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (3, 4, 7)), ("InstanceNorm2d", (2, 4, 3, 5)),
                                       ("InstanceNorm3d", (2, 4, 2, 3, 3)), ("InstanceNorm1d", (4, 6))])
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (True, True)])
def test_instance_norm_matches_torch_in_train_and_eval(cls, shape, affine, track):
    torch = _torch()
    cm = getattr(nn, cls)(4, affine=affine, track_running_stats=track)
    tm = getattr(torch.nn, cls)(4, affine=affine, track_running_stats=track)
    if affine:
        rng = np.random.default_rng(2)
        with cr.no_grad():
            cm.weight.copy_(cr.tensor(rng.uniform(0.5, 2, 4)))
            cm.bias.copy_(cr.tensor(rng.uniform(-1, 1, 4)))
    for _ in range(2):
        _check_module(cm, tm, shape)
    if track:
        _same(cm.running_mean, tm.running_mean)
        _same(cm.running_var, tm.running_var)
    cm.eval()
    tm.eval()
    _check_module(cm, tm, shape, rng=np.random.default_rng(7))


def test_rms_norm_and_batchnorm3d_match_torch():
    torch = _torch()
    _check_module(nn.RMSNorm(5), torch.nn.RMSNorm(5), (3, 5))
    _check_module(nn.RMSNorm((2, 3), eps=1e-3, elementwise_affine=False),
                  torch.nn.RMSNorm((2, 3), eps=1e-3, elementwise_affine=False), (4, 2, 3))
    cm, tm = nn.BatchNorm3d(3), torch.nn.BatchNorm3d(3)
    _check_module(cm, tm, (2, 3, 2, 3, 4))
    _same(cm.running_var, tm.running_var)
    cm.eval()
    tm.eval()
    _check_module(cm, tm, (2, 3, 2, 3, 4))


def test_embedding_max_norm_and_from_pretrained_match_torch():
    torch = _torch()
    table = np.random.default_rng(3).uniform(-2, 2, (6, 4))
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    ce = nn.Embedding.from_pretrained(cr.tensor(table), freeze=False, max_norm=1.5)
    te = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=False, max_norm=1.5)
    ya, yb = ce(cr.tensor(idx)), te(torch.tensor(idx))
    _same(ya, yb)
    _same(ce.weight, te.weight)       # the looked-up rows were renormalised in place, the others left alone
    (ya * ya).sum().backward()
    (yb * yb).sum().backward()
    _same(ce.weight.grad, te.weight.grad)
    frozen = nn.Embedding.from_pretrained(cr.tensor(table))
    assert not frozen.weight.requires_grad and frozen(cr.tensor([1])).shape == (1, 4)
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode):
    torch = _torch()
    table = np.random.default_rng(4).uniform(-2, 2, (7, 3))
    cases = [dict(input=np.array([[0, 2, 2, 6], [5, 1, 0, 3]])),
             dict(input=np.array([1, 2, 4, 5, 4, 3, 2, 0]), offsets=np.array([0, 2, 2, 5])),      # an empty bag
             dict(input=np.array([1, 2, 4, 5, 4, 3]), offsets=np.array([0, 3, 6]), include_last_offset=True),
             dict(input=np.array([[1, 0, 4], [0, 0, 0], [3, 2, 0]]), padding_idx=0)]
    if mode == "sum":
        cases.append(dict(input=np.array([1, 2, 4, 5]), offsets=np.array([0, 1]),
                          per_sample_weights=np.array([0.5, -1.0, 2.0, 3.0])))
    for case in cases:
        kw = dict(mode=mode, include_last_offset=case.get("include_last_offset", False),
                  padding_idx=case.get("padding_idx"))
        ce = nn.EmbeddingBag(7, 3, _weight=cr.tensor(table), **kw)
        te = torch.nn.EmbeddingBag(7, 3, _weight=torch.tensor(table), **kw)
        args = {k: case[k] for k in ("offsets", "per_sample_weights") if k in case}
        ya = ce(cr.tensor(case["input"]), **{k: cr.tensor(v) for k, v in args.items()})
        yb = te(torch.tensor(case["input"]), **{k: torch.tensor(v) for k, v in args.items()})
        _same(ya, yb)
        g = np.random.default_rng(5).standard_normal(tuple(yb.shape))
        ya.backward(cr.tensor(g))
        yb.backward(torch.tensor(g))
        _same(ce.weight.grad, te.weight.grad)


def test_named_errors():
    with pytest.raises(ValueError, match=r"glu: dim -1 of input \(2, 3\) has odd size 3"):
        F.glu(cr.randn(2, 3))
    with pytest.raises(cr.ShapeError, match=r"pixel_shuffle: .*divisible by r² = 4"):
        F.pixel_shuffle(cr.randn(1, 6, 2, 2), 2)
    with pytest.raises(cr.ShapeError, match="bilinear: inputs"):
        nn.Bilinear(3, 4, 5)(cr.randn(2, 3), cr.randn(2, 3))
    with pytest.raises(cr.ShapeError, match="InstanceNorm2d: expected a 4-D"):
        nn.InstanceNorm2d(3)(cr.randn(2, 3))
    with pytest.raises(cr.ShapeError, match="rms_norm: input shape"):
        nn.RMSNorm(4)(cr.randn(2, 3))
    with pytest.raises(ValueError, match="embedding_bag: a 1-D input needs offsets"):
        nn.EmbeddingBag(5, 2)(cr.tensor([0, 1]))
    with pytest.raises(ValueError, match="per_sample_weights need mode='sum'"):
        nn.EmbeddingBag(5, 2)(cr.tensor([[0, 1]]), per_sample_weights=cr.ones(2))
    with pytest.raises(ValueError, match="offsets must start at 0"):
        nn.EmbeddingBag(5, 2)(cr.tensor([0, 1, 2]), cr.tensor([1, 2]))
    with pytest.raises(IndexError, match=r"embedding_bag: indices must be in \[0, 5\)"):
        nn.EmbeddingBag(5, 2)(cr.tensor([[0, 7]]))
    with pytest.raises(ValueError, match="Embedding: padding_idx 9 is out of range"):
        nn.Embedding(5, 2, padding_idx=9)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize("shape,padding", [((2, 3, 5), (2, 1)), ((2, 3, 4, 5), (1, 2, 3, 0)),
                                           ((1, 2, 3, 4, 4), (1, 1, 2, 0, 1, 2)),
                                           ((2, 3, 5), (-1, 2)), ((2, 3, 5), (2, -2)), ((2, 3, 5), (-2, 3)),
                                           ((2, 3, 4, 5), (2, -1, -1, 2))])   # a negative width crops
def test_pad_modes_match_torch(mode, shape, padding):
    torch = _torch()
    x = np.random.default_rng(0).standard_normal(shape)
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = F.pad(a, padding, mode), torch.nn.functional.pad(b, padding, mode)
    _same(ya, yb)
    g = np.random.default_rng(1).standard_normal(tuple(yb.shape))
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    _same(a.grad, b.grad)        # every copy of an edge entry sends its gradient back to it


def test_pad_refuses_crops_beyond_the_dim_and_circular_wraps_beyond_what_is_left():
    x = cr.ones(1, 2, 5)
    with pytest.raises(ValueError, match=r"pad: padding \(-6, 0\) of dim 2 \(size 5\) crops more than the whole"):
        F.pad(x, (-6, 0))
    with pytest.raises(ValueError, match=r"circular padding \(-2, 4\) does not fit dim 2 of size 5"):
        F.pad(x, (-2, 4), mode="circular")   # 3 left after cropping: a wrap of 4 would repeat an entry


def test_padding_modules_shuffle_and_fold_match_torch():
    torch = _torch()
    for name, args in [("ReflectionPad2d", (2,)), ("ReplicationPad1d", ((1, 3),)), ("CircularPad2d", (1,)),
                       ("ZeroPad2d", ((1, 0, 2, 1),)), ("ConstantPad2d", (1, -2.5)), ("ReflectionPad3d", (1,))]:
        shape = (2, 3, 4, 4, 4) if name.endswith("3d") else (2, 3, 5) if name.endswith("1d") else (2, 3, 4, 5)
        _check_module(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), shape)
    _check_module(nn.ChannelShuffle(3), torch.nn.ChannelShuffle(3), (2, 6, 2, 3))
    _check_module(nn.Softmax2d(), torch.nn.Softmax2d(), (2, 3, 2, 2))
    _check_module(nn.Unfold(2, padding=1, stride=2), torch.nn.Unfold(2, padding=1, stride=2), (2, 3, 5, 4))
    _check_module(nn.Fold((4, 5), 2), torch.nn.Fold((4, 5), 2), (2, 12, 12))


def test_channel_dropout_variants():
    cr.manual_seed(0)
    x = cr.ones(4, 50, 3, 3, 3)
    y = F.dropout3d(x, 0.4).numpy()
    per_channel = y.reshape(4, 50, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))                # whole channels kept or zeroed
    assert np.allclose(np.unique(y), [0.0, 1 / 0.6]) and 0.25 < (y == 0).mean() < 0.55
    assert nn.Dropout3d(0.4).eval()(x) is x
    assert F.dropout2d(cr.ones(3, 4, 4), 0.5).shape == (3, 4, 4)             # unbatched (C, H, W)
    with pytest.raises(cr.ShapeError, match=r"dropout1d: expected a 3-D \(N, C, ...\) or 2-D"):
        F.dropout1d(cr.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"pad: reflect padding \(5, 5\) does not fit dim 1 of size 4"):
        F.pad(cr.ones(2, 4), (5, 5), "reflect")
    with pytest.raises(ValueError, match="pad: mode must be"):
        F.pad(cr.ones(2, 4), (1, 1), "mirror")
