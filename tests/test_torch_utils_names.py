"""The remaining torch names from nn.utils, nn.init, optim.lr_scheduler and utils.data: get_total_norm,
clip_grads_with_norm_, dirac_, sparse_, ChainedScheduler, default_collate, default_convert, get_worker_info,
StackDataset, ChainDataset. Equal to torch where it is importable."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.utils import data
from helpers import torch_or_skip


def _params_with_grads(rng):
    ps = [cr.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 4), (4,), (2,)]]
    for p in ps:
        p.grad = cr.tensor(rng.standard_normal(p.shape))
    return ps


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, float("inf")])
def test_get_total_norm_and_clip_grads_with_norm_equal_clip_grad_norm_(norm_type):
    rng = np.random.default_rng(0)
    a, b = _params_with_grads(rng), _params_with_grads(np.random.default_rng(0))
    flat = np.concatenate([p.grad.numpy().ravel() for p in a])
    total = nn.utils.get_total_norm([p.grad for p in a], norm_type)
    np.testing.assert_allclose(total.item(), np.linalg.norm(flat, norm_type), rtol=1e-12)
    nn.utils.clip_grads_with_norm_(a, 0.5, total)
    returned = nn.utils.clip_grad_norm_(b, 0.5, norm_type)
    assert returned.item() == pytest.approx(total.item())
    for p, q in zip(a, b):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy())
    assert nn.utils.get_total_norm([p.grad for p in a], norm_type).item() == pytest.approx(0.5, rel=1e-5)


def test_get_total_norm_nonfinite_error():
    g = cr.tensor([1.0, float("nan")])
    with pytest.raises(RuntimeError, match="total norm"):
        nn.utils.get_total_norm([g], error_if_nonfinite=True)
    assert nn.utils.get_total_norm([]).item() == 0.0


@pytest.mark.parametrize("p", [1.0, 2.0, float("inf"), -float("inf"), 0, 0.5, 3, -1.0, "inf"])
def test_get_total_norm_matches_torch(p):
    """The norm of the per-tensor norms, for every order torch's vector_norm takes (-∞: the smallest |g|, 0: the
    count of tensors with a nonzero entry); a zero entry with a negative order gives 0 without a warning."""
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(5), np.array([0.0, 2.0])]
    ours = nn.utils.get_total_norm([cr.tensor(a) for a in arrays], p)
    theirs = torch.nn.utils.get_total_norm([torch.tensor(a) for a in arrays], p)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


def test_clip_grad_norm_of_an_infinite_gradient_as_torch():
    """Total norm ∞ scales every gradient by 0, so the infinite entry becomes NaN (as torch's); no NumPy warning."""
    torch = torch_or_skip()
    grads = [np.array([np.inf, 1.0, -2.0]), np.array([3.0, 0.0])]
    results = []
    for lib in (cr, torch):
        ps = [lib.tensor(np.zeros_like(g), requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = lib.tensor(g)
        total = lib.nn.utils.clip_grad_norm_(ps, 1.0)
        results.append([total.item()] + [p.grad.numpy().copy() for p in ps])
    assert results[0][0] == results[1][0] == np.inf
    for ours, theirs in zip(results[0][1:], results[1][1:]):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("shape,groups", [((4, 2, 3, 3), 2), ((6, 3, 5), 1), ((2, 4, 3, 3, 3), 1), ((3, 3, 1, 1), 3)])
def test_dirac_is_an_identity_convolution(shape, groups):
    w = nn.init.dirac_(cr.empty(*shape), groups=groups)
    if len(shape) == 4 and groups == 1 and shape[0] == shape[1]:
        x = cr.randn(1, shape[1], 5, 5)
        np.testing.assert_allclose(nn.functional.conv2d(x, w, padding=shape[2] // 2).numpy(), x.numpy())
    try:
        import torch
    except ImportError:
        return
    tw = torch.empty(*shape)
    torch.nn.init.dirac_(tw, groups=groups)
    np.testing.assert_array_equal(w.numpy(), tw.numpy())


def test_dirac_and_sparse_errors_and_statistics():
    with pytest.raises(ValueError, match="dirac_: needs a 3-, 4- or 5-d"):
        nn.init.dirac_(cr.empty(3, 3))
    with pytest.raises(ValueError, match="do not split into 2 groups"):
        nn.init.dirac_(cr.empty(3, 3, 3), groups=2)
    cr.manual_seed(0)
    w = nn.init.sparse_(cr.empty(200, 50), sparsity=0.25, std=0.02)
    zeros = (w.numpy() == 0).sum(0)
    assert (zeros == 50).all()
    assert np.std(w.numpy()[w.numpy() != 0]) == pytest.approx(0.02, rel=0.05)
    with pytest.raises(ValueError, match="sparse_: needs a 2-d"):
        nn.init.sparse_(cr.empty(3), 0.1)


def test_chained_scheduler_multiplies_the_factors():
    p = nn.Parameter(cr.zeros(1))
    opt = cr.optim.SGD([p], lr=1.0)
    sched = cr.optim.lr_scheduler.ChainedScheduler([cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
                                                    cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)])
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [0.9 ** k * 0.5 ** (k // 2) for k in range(5)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert sched.get_last_lr()[0] == pytest.approx(0.9 ** 5 * 0.5 ** 2)
    state = sched.state_dict()
    sched.load_state_dict(state)
    with pytest.raises(ValueError, match="ChainedScheduler: needs at least one"):
        cr.optim.lr_scheduler.ChainedScheduler([])


def test_chained_scheduler_matches_torch():
    torch = torch_or_skip()
    p, tp = nn.Parameter(cr.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt, topt = cr.optim.SGD([p], lr=0.5), torch.optim.SGD([tp], lr=0.5)
    ours = cr.optim.lr_scheduler.ChainedScheduler([cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8),
                                                   cr.optim.lr_scheduler.MultiStepLR(opt, [2, 4], gamma=0.1)])
    theirs = torch.optim.lr_scheduler.ChainedScheduler([torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.8),
                                                        torch.optim.lr_scheduler.MultiStepLR(topt, [2, 4], gamma=0.1)])
    for _ in range(6):
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
        opt.step()
        topt.step()
        ours.step()
        theirs.step()


def test_default_collate_and_convert():
    batch = data.default_collate([(np.array([1.0, 2.0]), 3, "a"), (np.array([3.0, 4.0]), 5, "b")])
    assert batch[0].shape == (2, 2) and batch[1].tolist() == [3, 5] and batch[2] == ["a", "b"]
    d = data.default_collate([{"x": cr.tensor([1.0]), "y": 0.5}, {"x": cr.tensor([2.0]), "y": 1.5}])
    assert d["x"].shape == (2, 1) and d["y"].tolist() == [0.5, 1.5]
    with pytest.raises(ValueError, match="default_collate: every sample must have 2 fields"):
        data.default_collate([(1, 2), (1,)])
    converted = data.default_convert({"a": np.zeros(2), "b": [np.ones(1), "s"]})
    assert isinstance(converted["a"], cr.Tensor) and isinstance(converted["b"][0], cr.Tensor)
    assert converted["b"][1] == "s"
    assert data.get_worker_info() is None


def test_stack_and_chain_datasets_in_a_loader():
    x, y = cr.arange(6).float().reshape(6, 1), cr.arange(6)
    stacked = data.StackDataset(data.TensorDataset(x), data.TensorDataset(y))
    assert len(stacked) == 6 and stacked[2][0][0].tolist() == [2.0]
    named = data.StackDataset(inputs=x, labels=y)
    batch = next(iter(data.DataLoader(named, batch_size=4)))
    assert batch["inputs"].shape == (4, 1) and batch["labels"].tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="different lengths"):
        data.StackDataset(x, cr.arange(5))

    class Stream(data.IterableDataset):
        def __init__(self, lo, hi):
            self.lo, self.hi = lo, hi

        def __iter__(self):
            return iter(range(self.lo, self.hi))
    assert list(data.ChainDataset([Stream(0, 2), Stream(5, 7)])) == [0, 1, 5, 6]


def test_clip_grad_norm_the_deprecated_name_warns_and_clips():
    p = cr.nn.Parameter(cr.ones(3))
    p.grad = cr.full((3,), 10.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated in favor of .*clip_grad_norm_"):
        total = cr.nn.utils.clip_grad_norm([p], 1.0)
    np.testing.assert_allclose(total.item(), np.sqrt(300.0), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(p.grad.numpy()), 1.0, rtol=1e-5)


def test_convert_conv_weight_memory_format_returns_the_module():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    before = model[0].weight.detach().numpy().copy()
    assert nn.utils.convert_conv2d_weight_memory_format(model, cr.channels_last) is model
    assert nn.utils.convert_conv3d_weight_memory_format(model, cr.channels_last_3d) is model
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), before)
