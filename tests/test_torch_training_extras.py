"""More of torch's training-script names: optim.swa_utils (SWA and EMA weight averaging, SWALR, update_bn), the
cuda/cpu amp aliases, jit's pass-through decorators, testing.assert_close and Size. Compared with torch where it
is importable."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.optim import swa_utils


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _twin_models(torch):
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("kind", ["swa", "ema", "ema_single", "ema_buffers"])
def test_averaged_model_matches_torch(kind):
    torch = _torch()
    ours, theirs = _twin_models(torch)
    u = torch.optim.swa_utils
    make = {"swa": lambda m, s: s.AveragedModel(m),
            "ema": lambda m, s: s.AveragedModel(m, multi_avg_fn=s.get_ema_multi_avg_fn(0.9)),
            "ema_single": lambda m, s: s.AveragedModel(m, avg_fn=s.get_ema_avg_fn(0.8)),
            "ema_buffers": lambda m, s: s.AveragedModel(m, multi_avg_fn=s.get_ema_multi_avg_fn(0.7),
                                                        use_buffers=True)}[kind]
    avg_ours, avg_theirs = make(ours, swa_utils), make(theirs, u)
    rng = np.random.default_rng(0)
    for step in range(5):
        x = rng.standard_normal((8, 3))
        ours(cr.tensor(x)), theirs(torch.tensor(x))      # training mode: moves the BatchNorm statistics
        with torch.no_grad():
            for (_, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
                delta = rng.standard_normal(a.shape)
                a.data.add_(cr.tensor(delta))
                b.add_(torch.tensor(delta))
        avg_ours.update_parameters(ours)
        avg_theirs.update_parameters(theirs)
    assert int(avg_ours.n_averaged.item()) == int(avg_theirs.n_averaged.item()) == 5
    theirs_state = avg_theirs.state_dict()
    for k, v in avg_ours.state_dict().items():
        np.testing.assert_allclose(v.numpy(), theirs_state[k].detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=k)
    x = rng.standard_normal((4, 3))
    avg_ours.eval(), avg_theirs.eval()
    np.testing.assert_allclose(avg_ours(cr.tensor(x)).detach().numpy(), avg_theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


def test_update_bn_matches_torch():
    torch = _torch()
    ours, theirs = _twin_models(torch)
    data = np.random.default_rng(1).standard_normal((40, 3)) * 3 + 1
    loader_ours = cr.data.DataLoader(cr.data.TensorDataset(cr.tensor(data)), batch_size=10)
    loader_theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(data)), batch_size=10)
    ours.eval()
    swa_utils.update_bn(loader_ours, ours)
    torch.optim.swa_utils.update_bn(loader_theirs, theirs)
    assert not ours.training and ours[1].momentum == 0.1
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours[1], name).numpy(), getattr(theirs[1], name).numpy(), rtol=1e-12)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_schedule_matches_torch(strategy, anneal_epochs):
    torch = _torch()
    p_ours, p_theirs = cr.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt_ours, opt_theirs = cr.optim.SGD([p_ours], lr=0.5), torch.optim.SGD([p_theirs], lr=0.5)
    s_ours = swa_utils.SWALR(opt_ours, swa_lr=0.05, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s_theirs = torch.optim.swa_utils.SWALR(opt_theirs, swa_lr=0.05, anneal_epochs=anneal_epochs,
                                               anneal_strategy=strategy)
        lrs_ours, lrs_theirs = [], []
        for _ in range(7):
            opt_ours.step(), opt_theirs.step()
            s_ours.step(), s_theirs.step()
            lrs_ours.append(s_ours.get_last_lr()[0])
            lrs_theirs.append(s_theirs.get_last_lr()[0])
    np.testing.assert_allclose(lrs_ours, lrs_theirs, rtol=1e-12)
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(opt_ours, 0.1, anneal_strategy="step")


def test_ema_tracks_and_bad_decay_is_named():
    model = nn.Linear(1, 1, bias=False)
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5))
    for value in (2.0, 4.0, 8.0):
        model.weight.data.fill_(value)
        ema.update_parameters(model)
    assert ema.module.weight.item() == 0.5 * (0.5 * 2.0 + 0.5 * 4.0) + 0.5 * 8.0   # the first update copies
    assert ema.module.weight is not model.weight
    with pytest.raises(ValueError, match="decay value 1.5"):
        swa_utils.get_ema_multi_avg_fn(1.5)


def test_cuda_amp_aliases_switch_off_with_a_warning_as_torch_does_without_cuda():
    with pytest.warns(UserWarning, match="disabled"):
        scaler = cr.cuda.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    loss = cr.tensor(2.0, requires_grad=True)
    assert scaler.scale(loss) is loss
    with pytest.warns(UserWarning, match="autocast is disabled"):
        with cr.cuda.amp.autocast():
            assert cr.amp.autocast_dtype() is None
    with cr.cpu.amp.autocast():
        assert cr.amp.autocast_dtype() == cr.float16
    scaler = cr.amp.GradScaler("cpu", init_scale=4.0)
    assert [t.item() for t in scaler.scale([cr.tensor(1.0), cr.tensor(2.0)])] == [4.0, 8.0]
    scaler.update(new_scale=16.0)
    assert scaler.get_scale() == 16.0
    with pytest.raises(ValueError, match="growth_factor"):
        cr.amp.GradScaler(growth_factor=0.5)


def test_jit_decorators_pass_through_and_saving_is_refused():
    model = nn.Linear(2, 3)
    assert cr.jit.script(model) is model and cr.jit.trace(model, cr.zeros(1, 2)) is model

    @cr.jit.ignore
    def helper(x):
        return x + 1

    @cr.jit.unused
    def other(x):
        return x
    assert helper(1) == 2 and other(3) == 3 and not cr.jit.is_scripting()
    assert cr.jit.wait(cr.jit.fork(lambda a: a * 2, 21)) == 42
    with pytest.raises(RuntimeError, match="safetensors"):
        cr.jit.save(model, "model.pt")


def test_assert_close_defaults_and_messages():
    cr.testing.assert_close(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.000001]))        # float32: rtol 1.3e-6
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 2 \(50.0%\)"):
        cr.testing.assert_close(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.1]))
    with pytest.raises(AssertionError, match="dtypes do not match"):
        cr.testing.assert_close(cr.tensor([1.0]), cr.tensor([1.0], dtype=cr.float64))
    with pytest.raises(AssertionError, match="shapes do not match"):
        cr.testing.assert_close(cr.zeros(2), cr.zeros(3))
    cr.testing.assert_close({"a": [cr.ones(2)]}, {"a": [cr.ones(2)]})
    cr.testing.assert_close(cr.tensor([1.0, float("nan")]), cr.tensor([1.0, float("nan")]), equal_nan=True)
    with pytest.raises(ValueError, match="both rtol and atol"):
        cr.testing.assert_close(cr.zeros(1), cr.zeros(1), rtol=1e-3)


def test_size_is_a_tuple_with_numel():
    x = cr.zeros(2, 3, 4)
    s = x.size()
    assert isinstance(s, cr.Size) and s == (2, 3, 4) and s.numel() == 24 and isinstance(s[1:], cr.Size)
    assert repr(s) == "chainrule.Size([2, 3, 4])" and x.size(-1) == 4 and cr.Size([2, 3]) == (2, 3)


class _Momentum(cr.optim.Optimizer):
    """A user's optimizer written as torch's docs write one: state in self.state[p], updates under no_grad."""

    def __init__(self, params, lr=0.1, beta=0.9):
        super().__init__(params, dict(lr=lr, beta=beta))

    @cr.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["buf"] = cr.zeros_like(p)
                state["buf"].mul_(group["beta"]).add_(p.grad)
                p.add_(state["buf"], alpha=-group["lr"])


def test_custom_optimizer_matches_sgd_momentum_and_round_trips_its_state(tmp_path):
    cr.manual_seed(0)
    model = nn.Linear(3, 1)
    twin = nn.Linear(3, 1)
    twin.load_state_dict(model.state_dict())
    ours, ref = _Momentum(model.parameters()), cr.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    x = cr.randn(8, 3)
    for _ in range(3):
        for m, opt in ((model, ours), (twin, ref)):
            opt.zero_grad()
            m(x).pow(2).mean().backward()
            opt.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), twin.weight.detach().numpy(), rtol=1e-6)
    cr.save(ours.state_dict(), tmp_path / "opt.safetensors")
    fresh = _Momentum(model.parameters())
    fresh.load_state_dict(cr.load(tmp_path / "opt.safetensors"))
    buf = fresh.state[model.weight]["buf"]
    assert isinstance(buf, cr.Tensor)           # a user's step() gets Tensors back, not NumPy arrays
    np.testing.assert_array_equal(buf.numpy(), ours.state[model.weight]["buf"].numpy())
    model(x).sum().backward()
    fresh.step()


def test_function_mark_dirty_and_once_differentiable():
    class Double(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    out = Double.apply(b)
    assert out is b and out.grad_fn is not None
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 6.0])
    with pytest.raises(cr.InplaceError, match="Double: forward changed a leaf"):
        Double.apply(cr.tensor([1.0], requires_grad=True))

    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @cr.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return cr.tensor(3 * x.detach().numpy() ** 2) * g

    x, w = cr.tensor([2.0], requires_grad=True), cr.tensor([1.0], requires_grad=True)
    (gx,) = cr.autograd.grad(Cube.apply(x) * w, x, create_graph=True)   # the incoming gradient w is tracked
    assert gx.item() == 12.0 and gx.requires_grad
    with pytest.raises(RuntimeError, match="differentiate twice"):
        gx.backward()


def test_forward_hooks_with_kwargs_and_prepend():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m, calls = Scale(), []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "factor": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(("second", kwargs["factor"])),
                            with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: calls.append(("first", None)), prepend=True)
    assert m(cr.tensor([2.0]), factor=5.0).item() == 6.0
    assert calls == [("first", None), ("second", 3.0)]
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, shared)
    assert len(list(twice.named_modules())) == 2 and len(list(twice.named_modules(remove_duplicate=False))) == 3


def test_fill_diagonal_and_functional_in_place_activations_match_torch():
    torch = _torch()
    for shape in [(3, 3), (5, 3), (3, 5), (7, 3), (2, 2, 2)]:
        for wrap in (False, True):
            np.testing.assert_array_equal(cr.zeros(*shape).fill_diagonal_(2.0, wrap=wrap).numpy(),
                                          torch.zeros(*shape).fill_diagonal_(2.0, wrap=wrap).numpy())
    x = np.random.default_rng(0).standard_normal(6)
    for name, args in [("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.5)),
                       ("celu_", (1.5,)), ("selu_", ()), ("threshold_", (0.1, -1.0))]:
        a, b = cr.tensor(x), torch.tensor(x)
        assert getattr(cr.nn.functional, name)(a, *args) is a
        getattr(torch.nn.functional, name)(b, *args)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, err_msg=name)
    t = cr.zeros(2)
    assert t.pin_memory() is t and not t.is_pinned() and t.share_memory_() is t
    m = nn.Linear(2, 2)
    assert m.share_memory() is m and m.to_empty(device="cpu") is m


def test_profiler_times_forward_and_backward_ops():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = cr.randn(4, 8), cr.randint(0, 3, (4,))
    with cr.autograd.profiler.profile(record_shapes=True) as prof:
        with cr.autograd.profiler.record_function("step"):
            cr.nn.functional.cross_entropy(model(x), y).backward()
    rows = {e.key: e for e in prof.key_averages()}
    assert rows["Linear"].count == 2 and rows["LinearBackward"].count == 2 and rows["ReLUBackward"].count == 1
    step = rows["step"]   # self times add up to the range's total: nothing is counted twice
    assert abs(sum(r.self_cpu_time_total for r in rows.values()) - step.cpu_time_total) < 1e-6 * step.cpu_time_total
    table = prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=5)
    assert "Self CPU %" in table and "Input Shapes" in table and "[(4, 8), (16, 8), (16,)]" in table
    assert cr.autograd.function.Op.__dict__["apply"].__func__.__name__ == "apply"   # unwrapped again


def test_profiler_chrome_trace_and_torch_profiler_names(tmp_path):
    import json
    calls = []
    with cr.profiler.profile(activities=[cr.profiler.ProfilerActivity.CPU],
                             schedule=cr.profiler.schedule(wait=0, warmup=0, active=1),
                             on_trace_ready=calls.append) as prof:
        (cr.randn(3, requires_grad=True) * 2).sum().backward()
        prof.step()
    assert calls == [prof]
    prof.export_chrome_trace(tmp_path / "trace.json")
    events = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert {e["cat"] for e in events} >= {"forward", "backward"} and all(e["ph"] == "X" for e in events)


def test_node_hooks_match_torch():
    torch = _torch()
    results = []
    for m in (cr, torch):
        w, b = m.tensor([1.0, 2.0], requires_grad=True), m.tensor([3.0, 4.0], requires_grad=True)
        y, seen = w * b, []
        y.grad_fn.register_prehook(lambda go, seen=seen: seen.append("pre") or (go[0] * 2,))
        handle = y.grad_fn.register_hook(
            lambda gi, go, seen=seen: seen.append(("post", len(gi), len(go))) or tuple(g * 10 for g in gi))
        y.sum().backward(retain_graph=True)
        handle.remove()
        y.sum().backward()
        results.append((seen, w.grad.tolist(), b.grad.tolist()))
    assert results[0] == results[1]


def test_batched_grads_and_grad_and_value_match_torch():
    torch = _torch()
    out = []
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        (jac,) = m.autograd.grad(x ** 3, x, m.eye(3, dtype=m.float64), is_grads_batched=True)
        g, v = m.func.grad_and_value(lambda t: (t.sin() ** 2).sum())(x.detach())
        out.append((jac.detach().numpy(), g.numpy(), v.item()))
    np.testing.assert_allclose(out[0][0], out[1][0])
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12)
    assert abs(out[0][2] - out[1][2]) < 1e-12


@pytest.mark.filterwarnings("ignore:.torch.jit.script. is deprecated:DeprecationWarning")   # inside torch's forward_ad
def test_forward_mode_jvp_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(4)
    x0, v0, w0, v1 = (rng.standard_normal(s) for s in ((4,), (4,), (3, 4), (3, 4)))

    def f(x, w):
        return (w @ x.sin()).tanh() * x[:3].exp()
    results = []
    for m in (cr, torch):
        fwd = m.autograd.forward_ad
        with fwd.dual_level():
            x = fwd.make_dual(m.tensor(x0), m.tensor(v0))
            w = fwd.make_dual(m.tensor(w0), m.tensor(v1))
            out = fwd.unpack_dual(f(x, w))
            results.append((out.primal.detach().numpy(), out.tangent.detach().numpy(),
                            fwd.unpack_dual(x).tangent.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    with pytest.raises(RuntimeError, match="no dual level"):
        cr.autograd.forward_ad.make_dual(cr.zeros(2), cr.zeros(2))
    with cr.autograd.forward_ad.dual_level():
        with pytest.raises(ValueError, match="tangent's shape"):
            cr.autograd.forward_ad.make_dual(cr.zeros(2), cr.zeros(3))


@pytest.mark.filterwarnings("ignore:.torch.jit.script. is deprecated:DeprecationWarning")   # inside torch.func
@pytest.mark.filterwarnings("ignore:Attempted to insert a get_attr Node")   # torch.func.linearize's own fx warning
def test_autograd_backward_unpad_linearize_and_model_ensembling_match_torch():
    torch = _torch()
    results = []
    tmodels = [torch.nn.Linear(3, 2).double() for _ in range(4)]
    cmodels = [nn.Linear(3, 2).double() for _ in range(4)]
    for a, b in zip(cmodels, tmodels):
        a.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in b.state_dict().items()})
    for m, models in ((cr, cmodels), (torch, tmodels)):
        w, b = m.tensor([1.0, 2.0], requires_grad=True), m.tensor([3.0], requires_grad=True)
        m.autograd.backward([(w * 2).sum(), (w * b).sum()], [None, m.tensor(2.0)])
        padded = m.nn.utils.rnn.pad_sequence([m.ones(3, 2), m.ones(1, 2) * 2], batch_first=True)
        pieces = m.nn.utils.rnn.unpad_sequence(padded, m.tensor([3, 1]), batch_first=True)
        out, jvp_fn = m.func.linearize(lambda x: x.sin() * 2, m.tensor([0.5, 1.0], dtype=m.float64))
        params, buffers = m.func.stack_module_state(models)
        x = m.tensor(np.arange(15.0).reshape(5, 3) / 10)
        ensemble = m.func.vmap(lambda p, bf, v: m.func.functional_call(models[0], (p, bf), (v,)),
                               in_dims=(0, 0, None))(params, buffers, x)
        ensemble.sum().backward()
        results.append([w.grad.numpy(), b.grad.numpy(), [tuple(p.shape) for p in pieces], out.detach().numpy(),
                        jvp_fn(m.tensor([1.0, 1.0], dtype=m.float64)).detach().numpy(), ensemble.detach().numpy(),
                        params["weight"].grad.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)
    with pytest.raises(cr.BackwardError, match="2 tensors but 1 grad_tensors"):
        cr.autograd.backward([cr.ones(1, requires_grad=True), cr.ones(1, requires_grad=True)], [None])
