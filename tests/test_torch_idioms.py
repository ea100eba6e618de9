"""PyTorch idioms beyond the issues' lists: a training script should run by changing the import. Values and
gradients are compared with torch (float64, 1e-10) where it is importable; behaviour and errors are tested
without it. The registry gradchecks every new differentiable op on its own (tests/test_ops.py)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _pair(shape, rng, low=-3.0, high=3.0):
    torch = _torch()
    x = rng.uniform(low, high, shape)
    return cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


ACTIVATIONS = ["silu", "mish", "selu", "celu", "hardtanh", "relu6", "softsign", "logsigmoid", "hardsigmoid",
               "hardswish"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_torch(name):
    torch = _torch()
    a, b = _pair((4, 5), np.random.default_rng(0), -8, 8)
    ya, yb = getattr(F, name)(a), getattr(torch.nn.functional, name)(b)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10, atol=1e-12)
    ga = np.random.default_rng(1).standard_normal((4, 5))
    ya.backward(cr.tensor(ga))
    yb.backward(torch.tensor(ga))
    rtol = 1e-7 if name == "hardsigmoid" else 1e-10   # torch's hardsigmoid backward uses 1/6 as a float32 constant
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=1e-12)


KINKS = np.array([-1000.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 1000.0])   # every bound used below


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "selu", "celu", "hardtanh", "relu6", "hardsigmoid",
                                  "hardswish", "hardshrink", "softshrink", "threshold", "clamp"])
def test_gradient_at_the_kinks_follows_torch(name):
    """At a bound the derivative is a convention; chainrule takes torch's, so that a model trained on both sees the
    same gradients: relu6/hardtanh/hardsigmoid pass none at their bounds, clamp passes it, hardswish takes the
    outer side at ±3."""
    torch = _torch()
    call = {"threshold": lambda L, x: L.nn.functional.threshold(x, 0.5, -2.0),
            "clamp": lambda L, x: L.clamp(x, -1.0, 1.0)}.get(name, lambda L, x: getattr(L.nn.functional, name)(x))
    a, b = cr.tensor(KINKS, requires_grad=True), torch.tensor(KINKS, requires_grad=True)
    call(cr, a).sum().backward()
    call(torch, b).sum().backward()
    rtol = 1e-7 if name == "hardsigmoid" else 1e-12   # torch's float32 1/6, as above
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, err_msg=f"{name} at {KINKS}")


def test_activation_modules_and_prelu_match_torch():
    torch = _torch()
    a, b = _pair((3, 4, 2), np.random.default_rng(2))
    for cm, tm in [(nn.SiLU(), torch.nn.SiLU()), (nn.Threshold(0.5, -2.0), torch.nn.Threshold(0.5, -2.0)),
                   (nn.CELU(0.7), torch.nn.CELU(0.7)), (nn.Hardtanh(-2, 1.5), torch.nn.Hardtanh(-2, 1.5))]:
        np.testing.assert_allclose(cm(a).detach().numpy(), tm(b).detach().numpy(), rtol=1e-12)
    cp, tp = nn.PReLU(4).double(), torch.nn.PReLU(4).double()
    with torch.no_grad():
        tp.weight.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64))
    cp.load_state_dict({"weight": cr.tensor([0.1, 0.2, 0.3, 0.4], dtype=cr.float64)})
    cp(a).sum().backward()
    tp(b).sum().backward()
    np.testing.assert_allclose(cp.weight.grad.numpy(), tp.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")   # torch's advice to prefer 'batchmean'
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    torch = _torch()
    rng = np.random.default_rng(3)
    logq = np.log(rng.dirichlet(np.ones(5), size=4))
    p = rng.dirichlet(np.ones(5), size=4)
    p[0, 1] = 0.0   # 0·log 0 counts as 0
    target = np.log(p + 1e-300) if log_target else p
    a, b = cr.tensor(logq, requires_grad=True), torch.tensor(logq, requires_grad=True)
    ya, yb = cr.tensor(target, requires_grad=True), torch.tensor(target, requires_grad=True)
    la = F.kl_div(a, ya, reduction=reduction, log_target=log_target)
    lb = torch.nn.functional.kl_div(b, yb, reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=1e-10)
    la.sum().backward()
    lb.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)
    positive = p > 0   # the target's gradient, log y + 1 - x, where y > 0 (torch's is NaN at y = 0)
    np.testing.assert_allclose(ya.grad.numpy()[positive], yb.grad.numpy()[positive], rtol=1e-10)


@pytest.mark.parametrize("beta", [1.0, 0.3, 0.0])
def test_smooth_l1_normalize_cosine_match_torch(beta):
    torch = _torch()
    rng = np.random.default_rng(4)
    (a, b), (c, d) = _pair((6, 3), rng), _pair((6, 3), rng)
    for fa, fb in [(lambda x, y: F.smooth_l1_loss(x, y, beta=beta),
                    lambda x, y: torch.nn.functional.smooth_l1_loss(x, y, beta=beta)),
                   (lambda x, y: F.normalize(x, dim=1) * y, lambda x, y: torch.nn.functional.normalize(x, dim=1) * y),
                   (lambda x, y: F.normalize(x, p=3.0, dim=0) * y,
                    lambda x, y: torch.nn.functional.normalize(x, p=3.0, dim=0) * y),
                   (lambda x, y: F.cosine_similarity(x, y), lambda x, y: torch.nn.functional.cosine_similarity(x, y))]:
        for t in (a, b, c, d):
            t.grad = None
        ya, yb = fa(a, c), fb(b, d)
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10, atol=1e-12)
        ya.sum().backward()
        yb.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(c.grad.numpy(), d.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_sort_topk_argsort_match_torch():
    torch = _torch()
    rng = np.random.default_rng(5)
    a, b = _pair((4, 6), rng)
    for dim, desc in [(-1, False), (0, True)]:
        va, ia = cr.sort(a, dim=dim, descending=desc)
        vb, ib = torch.sort(b, dim=dim, descending=desc)
        np.testing.assert_array_equal(ia.numpy(), ib.numpy())
        np.testing.assert_array_equal(va.detach().numpy(), vb.detach().numpy())
        np.testing.assert_array_equal(a.argsort(dim=dim, descending=desc).numpy(),
                                      b.argsort(dim=dim, descending=desc).numpy())
    (va, ia), (vb, ib) = a.topk(3, dim=1), b.topk(3, dim=1)
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    w = rng.standard_normal((4, 3))
    (va * cr.tensor(w)).sum().backward()
    (vb * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())
    _, ia = cr.tensor([1.0, 3.0, 2.0]).topk(2, largest=False)
    assert ia.tolist() == [0, 2]
    _, ia = cr.tensor([2.0, 1.0, 2.0, 1.0]).sort(stable=True, descending=True)
    assert ia.tolist() == [0, 2, 1, 3]   # equal values keep their order


def test_repeat_interleave_roll_match_torch():
    torch = _torch()
    a, b = _pair((2, 3), np.random.default_rng(6))
    cases = [(lambda x: x.repeat(2, 1, 2), None), (lambda x: x.repeat_interleave(2, dim=1), None),
             (lambda x: x.repeat_interleave(cr.tensor([1, 0, 3]), dim=1),
              lambda x: x.repeat_interleave(torch.tensor([1, 0, 3]), dim=1)),
             (lambda x: x.repeat_interleave(2), None), (lambda x: x.roll(1), None),
             (lambda x: x.roll((1, -1), (0, 1)), None), (lambda x: x.unflatten(1, (3, 1)), None)]
    w = np.random.default_rng(7)
    for fa, fb in cases:
        a.grad, b.grad = None, None
        ya, yb = fa(a), (fb or fa)(b)
        np.testing.assert_array_equal(ya.detach().numpy(), yb.detach().numpy())
        g = w.standard_normal(tuple(ya.shape))
        ya.backward(cr.tensor(g))
        yb.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_rounding_values_and_zero_gradient():
    x = cr.tensor([0.5, 1.5, 2.5, -0.5, -1.7, 1.26], requires_grad=True)
    assert x.round().tolist() == [0.0, 2.0, 2.0, -0.0, -2.0, 1.0]   # half to even, as torch
    assert cr.round(x, decimals=1).tolist()[-1] == pytest.approx(1.3)
    assert x.floor().tolist() == [0.0, 1.0, 2.0, -1.0, -2.0, 1.0]
    assert x.ceil().tolist() == [1.0, 2.0, 3.0, -0.0, -1.0, 2.0]
    assert x.trunc().tolist() == [0.0, 1.0, 2.0, -0.0, -1.0, 1.0]
    (x.floor() * 3 + x).sum().backward()
    assert x.grad.tolist() == [1.0] * 6
    ints = cr.tensor([1, 2])
    assert cr.floor(ints) is ints


def test_comparisons_logic_and_tests_as_functions():
    a, b = cr.tensor([1.0, 2.0, float("nan")]), cr.tensor([1.0, 3.0, 0.0])
    assert cr.eq(a, b).tolist() == [True, False, False]
    assert cr.gt(b, 1.5).tolist() == [False, True, False]
    assert cr.isnan(a).tolist() == [False, False, True]
    assert cr.isfinite(a).tolist() == [True, True, False]
    assert cr.logical_and(cr.isfinite(a), b > 0).tolist() == [True, True, False]
    assert bool(cr.any(cr.isnan(a))) and not bool(cr.all(cr.isfinite(a)))
    assert cr.all(b > 0, dim=0).tolist() is False
    assert cr.allclose(b, b + 1e-9) and not cr.allclose(a, a) and cr.allclose(a, a, equal_nan=True)
    assert cr.equal(b, cr.tensor([1.0, 3.0, 0.0])) and not cr.equal(b, b[:2])
    with pytest.raises(cr.ShapeError, match=r"gt: cannot broadcast shapes \(3,\) and \(2,\)"):
        cr.gt(a, cr.ones(2))


def test_creation_helpers_and_sampling():
    x = cr.ones(2, dtype=cr.float64)
    assert x.new_zeros(3).dtype == cr.float64 and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_full((2,), 7.0).tolist() == [7.0, 7.0] and x.new_tensor([1, 2]).dtype == cr.float64
    cr.manual_seed(0)
    draws = cr.multinomial(cr.tensor([0.0, 1.0, 3.0]), 4000, replacement=True)
    counts = np.bincount(draws.numpy(), minlength=3)
    assert counts[0] == 0 and 0.70 < counts[2] / 4000 < 0.80
    rows = cr.multinomial(cr.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]), 2)
    assert rows.shape == (2, 2) and sorted(rows[0].tolist()) == [0, 1] and sorted(rows[1].tolist()) == [1, 2]
    with pytest.raises(ValueError, match="without replacement"):
        cr.multinomial(cr.tensor([1.0, 0.0]), 2)
    with pytest.raises(ValueError, match="non-negative"):
        cr.multinomial(cr.tensor([1.0, -1.0]), 1)
    z = cr.normal(2.0, 0.5, (20000,))
    assert abs(z.mean().item() - 2.0) < 0.02 and abs(z.std().item() - 0.5) < 0.02
    assert set(np.unique(cr.bernoulli(cr.full((100,), 0.5)).numpy())) <= {0.0, 1.0}
    with pytest.raises(ValueError, match=r"bernoulli: probabilities must be in \[0, 1\]"):
        cr.bernoulli(cr.tensor([1.5]))


def test_one_hot_and_its_errors():
    assert F.one_hot(cr.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert F.one_hot(cr.tensor([[1]]), num_classes=3).shape == (1, 1, 3)
    with pytest.raises(cr.DTypeError, match="one_hot: class labels must be integers"):
        F.one_hot(cr.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        F.one_hot(cr.tensor([0, 2]), num_classes=2)


def test_shape_and_order_errors_name_the_op():
    x = cr.ones(2, 3)
    with pytest.raises(cr.ShapeError, match="repeat: got 1 repeat counts for a tensor of shape"):
        x.repeat(2)
    with pytest.raises(cr.ShapeError, match="topk: k = 4 is out of range for dim -1 of size 3"):
        x.topk(4)
    with pytest.raises(cr.ShapeError, match="repeat_interleave: repeats must be one non-negative int or 3"):
        x.repeat_interleave(cr.tensor([1, 2]), dim=1)
    with pytest.raises(cr.ShapeError, match="roll: got 2 shifts for 1 dims"):
        x.roll((1, 2), 0)
    with pytest.raises(ValueError, match="kl_div: target probabilities must be ≥ 0"):
        F.kl_div(x.log(), -x)


def test_parameter_containers_register_their_parameters():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([cr.ones(2), cr.zeros(3)])
            self.named = nn.ParameterDict({"scale": cr.ones(1)})

        def forward(self, x):
            return (x * self.ws[0]).sum() * self.named["scale"]

    net = Net()
    assert list(net.state_dict()) == ["ws.0", "ws.1", "named.scale"]
    assert len(list(net.parameters())) == 3 and len(net.ws) == 2 and "scale" in net.named
    net(cr.ones(2)).backward()
    assert net.named["scale"].grad.tolist() == [2.0]
    opt = cr.optim.SGD(net.parameters(), lr=0.5)
    opt.step()
    assert net.ws[0].tolist() == [0.5, 0.5]


def test_utils_data_is_the_data_package():
    from chainrule.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(cr.arange(10.0)), batch_size=4)
    assert [len(b[0]) for b in loader] == [4, 4, 2]
    assert DataLoader is cr.data.DataLoader


def test_init_trunc_normal_and_eye():
    w = cr.empty(400, 100)
    cr.manual_seed(0)
    nn.init.trunc_normal_(w, std=1.0)
    a = w.numpy()
    assert a.min() >= -2 and a.max() <= 2 and abs(a.std() - 0.8796) < 0.01   # std of N(0,1) cut at ±2
    nn.init.trunc_normal_(w, mean=1.0, std=0.02, a=0.99, b=1.5)
    assert w.numpy().min() >= 0.99
    with pytest.raises(ValueError, match="holds only"):
        nn.init.trunc_normal_(w, a=10.0, b=11.0)
    e = cr.empty(2, 3)
    nn.init.eye_(e)
    assert e.tolist() == [[1, 0, 0], [0, 1, 0]]


SCHEDULERS = {
    "constant": lambda L, o: L.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4),
    "polynomial": lambda L, o: L.optim.lr_scheduler.PolynomialLR(o, total_iters=10, power=2.0),
    "multiplicative": lambda L, o: L.optim.lr_scheduler.MultiplicativeLR(o, lambda e: 0.9),
    "warm_restarts": lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.01),
    "warm_restarts_mult": lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "warmup_then_cosine": lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.LinearLR(o, 0.1, total_iters=5), L.optim.lr_scheduler.CosineAnnealingLR(o, 20)],
        milestones=[5]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_more_schedulers_match_torch(name):
    torch = _torch()
    import warnings

    def lrs(lib):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        sched = SCHEDULERS[name](lib, opt)
        out = []
        for _ in range(30):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns about the order of optimizer and scheduler steps
        np.testing.assert_allclose(lrs(cr), lrs(torch), rtol=1e-12, atol=1e-15)


def test_sequential_lr_checks_its_milestones():
    opt = cr.optim.SGD([nn.Parameter(cr.zeros(1))], lr=0.1)
    s = cr.optim.lr_scheduler.ConstantLR(opt)
    with pytest.raises(ValueError, match="expected 1 milestones for 2 schedulers"):
        cr.optim.lr_scheduler.SequentialLR(opt, [s, s], milestones=[])


@pytest.mark.parametrize("groups,shape,affine", [(2, (3, 4, 5), True), (4, (2, 8, 3, 3), False), (1, (2, 3), True)])
def test_group_norm_matches_torch(groups, shape, affine):
    torch = _torch()
    a, b = _pair(shape, np.random.default_rng(8))
    cm = nn.GroupNorm(groups, shape[1], affine=affine).double()
    tm = torch.nn.GroupNorm(groups, shape[1], affine=affine).double()
    if affine:
        w = np.random.default_rng(9).standard_normal((2, shape[1]))
        cm.load_state_dict({"weight": cr.tensor(w[0]), "bias": cr.tensor(w[1])})
        tm.load_state_dict({"weight": torch.tensor(w[0]), "bias": torch.tensor(w[1])})
    ya, yb = cm(a), tm(b)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(10).standard_normal(shape)
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    if affine:
        np.testing.assert_allclose(cm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-9)
    with pytest.raises(ValueError, match="must be divisible by num_groups"):
        nn.GroupNorm(3, 4)


def test_device_idiom_runs_on_the_cpu():
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    assert device == "cpu" and repr(device) == "device(type='cpu')" and cr.device("cpu:0").index == 0
    model = nn.Linear(2, 1).to(device)
    x = cr.ones(3, 2).to(device)
    assert x.device == cr.device("cpu") and str(x.device) == "cpu" and not x.is_cuda
    assert x.to(device, cr.float64).dtype == cr.float64 and x.to(cr.zeros(1, dtype=cr.float64)).dtype == cr.float64
    assert model.to(device, dtype=cr.float64).weight.dtype == cr.float64
    with pytest.raises(RuntimeError, match="Tensor.to: chainrule computes on the CPU with NumPy and cannot move "
                                           "tensors to 'cuda'"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="Linear.cuda: chainrule computes on the CPU"):
        model.cuda()


def test_subsets_splits_concat_and_worker_options():
    from chainrule.utils.data import ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, random_split

    class Squares(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return {"x": cr.tensor([float(i)]), "y": i * i}

    parts = random_split(Squares(), [0.7, 0.3], generator=cr.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    seen = sorted(int(p[i]["x"].item()) for p in parts for i in range(len(p)))
    assert seen == list(range(10))   # disjoint and complete
    batch = next(iter(DataLoader(parts[0], batch_size=4, num_workers=2, pin_memory=True)))
    assert batch["x"].shape == (4, 1) and batch["y"].dtype == cr.int64
    assert (batch["x"][:, 0] ** 2).tolist() == batch["y"].tolist()
    both = ConcatDataset([TensorDataset(cr.arange(3)), TensorDataset(cr.arange(10, 12))])
    assert len(both) == 5 and both[3][0].item() == 10 and both[-1][0].item() == 11
    assert Subset(both, [4, 0])[0][0].item() == 11
    with pytest.raises(ValueError, match="lengths \\[3, 3\\] sum to 6 but the dataset has 10 samples"):
        random_split(Squares(), [3, 3])


def test_set_detect_anomaly_as_switch_and_as_context():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.autograd.set_detect_anomaly(True):
        assert cr.autograd.is_anomaly_enabled()
        with pytest.raises(cr.AnomalyError, match="Log"):
            x.log().sum().backward()
        with cr.autograd.set_detect_anomaly(False):
            assert not cr.autograd.is_anomaly_enabled()
            x.log().sum()   # -inf passes unremarked with the mode off
        assert cr.autograd.is_anomaly_enabled()
    assert not cr.autograd.is_anomaly_enabled()
    cr.autograd.set_detect_anomaly(True)   # the script-top form stays on ...
    try:
        assert cr.autograd.is_anomaly_enabled()
    finally:
        cr.autograd.set_detect_anomaly(False)   # ... until switched off
    assert not cr.autograd.is_anomaly_enabled()


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=(3, 7)), dict(size=5), dict(scale_factor=(1.5, 0.5))])
def test_interpolate_nearest_matches_torch(kwargs):
    torch = _torch()
    a, b = _pair((2, 3, 4, 6), np.random.default_rng(11))
    ya, yb = F.interpolate(a, **kwargs), torch.nn.functional.interpolate(b, mode="nearest", **kwargs)
    np.testing.assert_array_equal(ya.detach().numpy(), yb.detach().numpy())
    g = np.random.default_rng(12).standard_normal(tuple(ya.shape))
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="unknown mode 'bilinearr'"):
        F.interpolate(a, scale_factor=2, mode="bilinearr")


def test_1d_pools_upsample_and_pad_sequence_match_torch():
    torch = _torch()
    a, b = _pair((2, 3, 9), np.random.default_rng(13))
    for cm, tm in [(nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1)), (nn.AvgPool1d(2), torch.nn.AvgPool1d(2)),
                   (nn.AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4)), (nn.Upsample(scale_factor=2),
                                                                              torch.nn.Upsample(scale_factor=2))]:
        a.grad, b.grad = None, None
        ya, yb = cm(a), tm(b)
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-12)
        (ya * ya).sum().backward()
        (yb * yb).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    from chainrule.nn.utils.rnn import pad_sequence
    rng = np.random.default_rng(14)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    for kw in [dict(), dict(batch_first=True, padding_value=-1.0), dict(batch_first=True, padding_side="left")]:
        ours = pad_sequence([cr.tensor(s) for s in seqs], **kw)
        theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], **kw)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="pad_sequence: every sequence must be a tensor"):
        pad_sequence([cr.ones(2, 3), cr.ones(2, 4)])


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")   # torch notes the first layer's case we test
def test_full_backward_hooks_match_torch_and_can_replace_grad_input():
    torch = _torch()
    rng = np.random.default_rng(15)
    sizes = [(3, 4), (4, 2)]
    cm = nn.Sequential(nn.Linear(*sizes[0]), nn.Tanh(), nn.Linear(*sizes[1])).double()
    tm = torch.nn.Sequential(torch.nn.Linear(*sizes[0]), torch.nn.Tanh(), torch.nn.Linear(*sizes[1])).double()
    for (_, p), (_, q) in zip(cm.named_parameters(), tm.named_parameters()):
        w = rng.standard_normal(tuple(p.shape))
        with cr.no_grad():
            p.copy_(cr.tensor(w))
        with torch.no_grad():
            q.copy_(torch.tensor(w))
    seen = {"cr": {}, "torch": {}}

    def recorder(lib, name, scale=None):
        def hook(module, grad_input, grad_output):
            seen[lib][name] = ([None if g is None else g.detach().numpy().copy() for g in grad_input],
                               [g.detach().numpy().copy() for g in grad_output])
            if scale is not None:
                return tuple(None if g is None else g * scale for g in grad_input)
        return hook
    for lib, m in (("cr", cm), ("torch", tm)):
        m[0].register_full_backward_hook(recorder(lib, "first"))
        m[2].register_full_backward_hook(recorder(lib, "last", scale=0.5))   # halves what reaches earlier layers
    x = rng.standard_normal((5, 3))
    cm(cr.tensor(x)).pow(2).sum().backward()
    tm(torch.tensor(x)).pow(2).sum().backward()
    for name in ("first", "last"):
        (gi_c, go_c), (gi_t, go_t) = seen["cr"][name], seen["torch"][name]
        assert [g is None for g in gi_c] == [g is None for g in gi_t]
        for a, b in zip(gi_c + go_c, gi_t + go_t):
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12)
    assert seen["cr"]["first"][0] == [None]   # the data input needs no gradient
    for p, q in zip(cm.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
    handle = cm[0].register_full_backward_hook(lambda *a: None)
    handle.remove()
    assert len(cm[0]._backward_hooks) == 1


def _tied_model(lib):
    """A small language-model head in either library: BatchNorm buffers between parameters, a weight tied to the
    embedding, and a causal-mask buffer registered as non-persistent."""
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(7, 4)
            self.block = lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.BatchNorm1d(4))
            self.head = lib.nn.Linear(4, 7, bias=False)
            self.head.weight = self.embed.weight
            self.register_buffer("mask", lib.ones(3, 3).tril(), persistent=False)
            self.register_buffer("scale", lib.ones(1))
    return Tied()


def test_state_dict_keys_order_ties_and_non_persistent_buffers_match_torch():
    torch = _torch()
    cm, tm = _tied_model(cr), _tied_model(torch)
    assert list(cm.state_dict()) == list(tm.state_dict())   # own entries first, buffers after params, ties twice
    assert "mask" not in cm.state_dict() and "head.weight" in cm.state_dict()
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]   # ties once here
    # a checkpoint written by torch loads strictly, the tied weight stays tied, and values arrive
    sd = {k: cr.tensor(v.detach().numpy().astype(np.float32)) for k, v in tm.state_dict().items()}
    assert cm.load_state_dict(sd).missing_keys == []
    assert cm.head.weight is cm.embed.weight
    np.testing.assert_array_equal(cm.embed.weight.detach().numpy(), tm.embed.weight.detach().numpy())
    np.testing.assert_array_equal(cm.block[1].running_var.numpy(), tm.block[1].running_var.numpy())
    assert list(cm.state_dict(prefix="model.", keep_vars=True))[:2] == ["model.scale", "model.embed.weight"]
    assert cm.state_dict(keep_vars=True)["embed.weight"] is cm.embed.weight


def test_register_buffer_rejects_bad_names_and_values():
    m = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("weight", cr.zeros(2))
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("a.b", cr.zeros(2))
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("stats", np.zeros(2))
    m.register_buffer("stats", None)
    assert "stats" not in m.state_dict()
    m.register_buffer("stats", cr.zeros(2), persistent=False)
    assert "stats" not in m.state_dict()
    m.register_buffer("stats", cr.zeros(2))          # registering again as persistent puts it back
    assert "stats" in m.state_dict()


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_counts_batches_and_averages_cumulatively_like_torch(momentum):
    torch = _torch()
    rng = np.random.default_rng(16)
    cm, tm = nn.BatchNorm1d(3, momentum=momentum).double(), torch.nn.BatchNorm1d(3, momentum=momentum).double()
    for _ in range(4):
        x = rng.standard_normal((6, 3)) * 2 + 1
        cm(cr.tensor(x))
        tm(torch.tensor(x))
    assert int(cm.num_batches_tracked.item()) == int(tm.num_batches_tracked) == 4
    np.testing.assert_allclose(cm.running_mean.numpy(), tm.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(cm.running_var.numpy(), tm.running_var.numpy(), rtol=1e-12)
    cm.eval()
    cm(cr.tensor(rng.standard_normal((6, 3))))
    assert int(cm.num_batches_tracked.item()) == 4     # eval does not count
    assert cm.num_batches_tracked.dtype == cr.int64 and cm.double().num_batches_tracked.dtype == cr.int64


def test_checkpoint_without_num_batches_tracked_still_loads_strictly():
    bn = nn.BatchNorm2d(2)
    old = {k: v for k, v in bn.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert bn.load_state_dict(old).missing_keys == []
    with pytest.raises(Exception, match="missing keys"):
        bn.load_state_dict({k: v for k, v in old.items() if k != "running_var"})


def test_index_tests_clamp_by_tensors_and_linalg_norms_match_torch():
    torch = _torch()
    rng = np.random.default_rng(17)
    m = rng.integers(0, 3, (3, 4)) * (rng.random((3, 4)) > 0.4)
    cm, tm = cr.tensor(m), torch.tensor(m)
    for a, b in zip(cr.where(cm > 0), torch.where(tm > 0)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(cm.nonzero().numpy(), tm.nonzero().numpy())
    assert int(cr.count_nonzero(cm)) == int(torch.count_nonzero(tm))
    np.testing.assert_array_equal(cr.count_nonzero(cm, dim=1).numpy(), torch.count_nonzero(tm, dim=1).numpy())
    np.testing.assert_array_equal(cr.isclose(cr.tensor([1.0, 1.1]), cr.tensor([1.0 + 1e-9, 1.0])).numpy(), [True, False])
    with pytest.raises(TypeError, match="both input and other"):
        cr.where(cm > 0, cm)
    # clamp with tensor bounds: values and gradients of x and both bounds
    x, tx = _pair((3, 4), rng)
    lo, tlo = _pair((4,), rng, -1.0, 0.0)
    hi, thi = _pair((3, 1), rng, 0.0, 1.0)
    (cr.clamp(x, lo, hi) * cr.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
    (torch.clamp(tx, tlo, thi) * torch.arange(12.0, dtype=torch.float64).reshape(3, 4)).sum().backward()
    for a, b in ((x, tx), (lo, tlo), (hi, thi)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    # linalg norms and the composed matrix helpers
    A, tA = _pair((3, 4), rng)
    for args in [dict(), dict(ord=1, dim=1), dict(ord=float("inf"), dim=0), dict(ord="fro"), dict(dim=1, keepdim=True)]:
        np.testing.assert_allclose(cr.linalg.norm(A, **args).detach().numpy(),
                                   torch.linalg.norm(tA, **args).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(cr.linalg.vector_norm(A, 3).detach().numpy(),
                               torch.linalg.vector_norm(tA, 3).detach().numpy(), rtol=1e-12)
    B, tB = _pair((4, 2), rng)
    C, tC = _pair((3, 2), rng)
    cr.addmm(C, A, B, beta=0.5, alpha=2).sum().backward()
    torch.addmm(tC, tA, tB, beta=0.5, alpha=2).sum().backward()
    for a, b in ((A, tA), (B, tB), (C, tC)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    v = cr.tensor([1.0, 2.0, 3.0])
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(cr.diag(v, k).numpy(), torch.diag(torch.tensor([1.0, 2.0, 3.0]), k).numpy())
        np.testing.assert_array_equal(cr.diag(A, k).detach().numpy(), torch.diag(tA, k).detach().numpy())
    assert float(cr.trace(A).detach()) == pytest.approx(float(torch.trace(tA).detach()))
    np.testing.assert_allclose(cr.lerp(A, cr.ones(3, 4), 0.25).detach().numpy(),
                               torch.lerp(tA, torch.ones(3, 4, dtype=torch.float64), 0.25).detach().numpy())


def test_top_level_autocast_and_submodule_lookup():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Linear(4, 2)))
    with cr.autocast(device_type="cpu", dtype=cr.float16):
        assert model(cr.randn(2, 3)).dtype == cr.float16
    with pytest.warns(UserWarning, match="runs on the CPU"):
        ctx = cr.autocast("cuda")
    with ctx:
        assert model(cr.randn(2, 3)).dtype == cr.float32
    with pytest.raises(TypeError, match="floating-point"):
        cr.autocast("cpu", dtype=cr.int64)
    assert model.get_submodule("1.1") is model[1][1] and model.get_submodule("") is model
    assert model.get_parameter("1.1.weight") is model[1][1].weight
    with pytest.raises(AttributeError, match="no submodule '2'"):
        model.get_submodule("1.2")
    with pytest.raises(AttributeError, match="no parameter 'scale'"):
        model.get_parameter("0.scale")
    bn = nn.BatchNorm1d(2)
    assert bn.get_buffer("running_mean") is bn.running_mean


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(stride=2, padding=1, output_padding=1),
                                dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
                                dict(stride=3, padding=2, bias=False)])
def test_conv_transpose2d_matches_torch(kw):
    torch = _torch()
    rng = np.random.default_rng(18)
    kw = dict(kw)
    bias = kw.pop("bias", True)
    cm = nn.ConvTranspose2d(4, 6, 3, bias=bias, **kw).double()
    tm = torch.nn.ConvTranspose2d(4, 6, 3, bias=bias, **kw).double()
    assert cm.weight.shape == tuple(tm.weight.shape)
    for p, q in zip(cm.parameters(), tm.parameters()):
        with cr.no_grad():
            p.copy_(cr.tensor(q.detach().numpy()))
    x, tx = _pair((2, 4, 5, 4), rng)
    out, tout = cm(x), tm(tx)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(cr.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for p, q in zip(cm.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv_transpose1d_matches_torch_and_checks_arguments():
    torch = _torch()
    rng = np.random.default_rng(19)
    cm, tm = nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1).double(), torch.nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1).double()
    for p, q in zip(cm.parameters(), tm.parameters()):
        with cr.no_grad():
            p.copy_(cr.tensor(q.detach().numpy()))
    x = rng.standard_normal((2, 3, 6))
    np.testing.assert_allclose(cm(cr.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    # default init draws from torch's bounds: |w| ≤ 1/√(fan_in) with fan_in = (out/groups)·k
    w = nn.ConvTranspose2d(8, 16, 3).weight.detach().numpy()
    assert np.abs(w).max() <= 1 / np.sqrt(16 * 9) + 1e-7 and np.abs(w).max() > 0.8 / np.sqrt(16 * 9)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(cr.randn(1, 2, 3, 3), cr.randn(2, 1, 3, 3), stride=1, output_padding=1)
    with pytest.raises(cr.ShapeError, match="expects 3"):
        F.conv_transpose2d(cr.randn(1, 2, 3, 3), cr.randn(3, 1, 3, 3))


def test_scatter_add_scatter_and_index_add_match_torch():
    torch = _torch()
    rng = np.random.default_rng(20)
    x, tx = _pair((3, 5), rng)
    src, tsrc = _pair((4, 5), rng)
    idx = np.array([[0, 1, 2, 0, 1], [2, 2, 0, 0, 1]])          # repeats, and smaller than src
    cases = [
        (lambda: cr.scatter_add(x, 0, cr.tensor(idx), src[:2]),           # (torch's backward rejects a larger src)
         lambda: torch.scatter_add(tx, 0, torch.tensor(idx), tsrc[:2])),
        (lambda: x.index_add(1, cr.tensor([4, 0, 4]), src[:3, :3], alpha=0.5),
         lambda: tx.index_add(1, torch.tensor([4, 0, 4]), tsrc[:3, :3], alpha=0.5)),
        (lambda: x.scatter(1, cr.tensor([[3, 0], [1, 2], [4, 1]]), src[:3, :2]),
         lambda: tx.scatter(1, torch.tensor([[3, 0], [1, 2], [4, 1]]), tsrc[:3, :2])),
        (lambda: cr.scatter(x, 0, cr.tensor([[2, 0, 1, 1, 0]]), value=-1.0),
         lambda: torch.scatter(tx, 0, torch.tensor([[2, 0, 1, 1, 0]]), value=-1.0)),
    ]
    for ours, theirs in cases:
        for t in (x, src, tx, tsrc):
            t.grad = None
        a, b = ours(), theirs()
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        w = rng.standard_normal(a.shape)
        (a * cr.tensor(w)).sum().backward()
        (b * torch.tensor(w)).sum().backward()
        for c, t in ((x, tx), (src, tsrc)):
            assert (c.grad is None) == (t.grad is None)
            if c.grad is not None:
                np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    with pytest.raises(IndexError, match=r"in \[0, 3\)"):
        cr.scatter_add(x, 0, cr.tensor([[3]]), src)
    with pytest.raises(cr.ShapeError, match="one entry per index"):
        x.index_add(0, cr.tensor([0, 1]), src)
    with pytest.raises(TypeError, match="exactly one"):
        cr.scatter(x, 0, cr.tensor([[0]]))


def test_linalg_helpers_name_their_bad_inputs():
    with pytest.raises(ValueError, match="diag: expected a 1-d or 2-d input"):
        cr.diag(cr.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="trace: expected a 2-d input"):
        cr.trace(cr.zeros(3))
    with pytest.raises(ValueError, match="matrix_norm: ord must be"):
        cr.linalg.matrix_norm(cr.zeros(2, 2), ord=3)
    with pytest.raises(TypeError, match="index must be an integer tensor"):
        cr.scatter_add(cr.zeros(2, 2), 0, cr.tensor([[0.5, 1.0]]), cr.zeros(2, 2))


def test_bincount_and_determinism_switch():
    np.testing.assert_array_equal(cr.bincount(cr.tensor([1, 2, 2, 5])).numpy(), [0, 1, 2, 0, 0, 1])
    np.testing.assert_array_equal(cr.tensor([0, 0, 1]).bincount(minlength=4).numpy(), [2, 1, 0, 0])
    w = cr.bincount(cr.tensor([0, 1, 1]), weights=cr.tensor([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(w.numpy(), [0.5, 3.0])
    with pytest.raises(ValueError, match="bincount: expected a 1-d tensor of non-negative integers"):
        cr.bincount(cr.tensor([1, -1]))
    cr.use_deterministic_algorithms(True)
    try:
        assert cr.are_deterministic_algorithms_enabled()
    finally:
        cr.use_deterministic_algorithms(False)
    assert not cr.are_deterministic_algorithms_enabled()
