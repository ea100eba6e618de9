"""autograd.graph.saved_tensors_hooks: pack/unpack of everything a node saves for backward, on every registered op
(gradients unchanged), with torch's call order, offloading that really frees the activations, compression,
create_graph, retain_graph, nesting, disabling, and the errors for a bad unpack hook or an in-place change."""
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.autograd import buffers
from chainrule.autograd.graph import disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks
from chainrule.errors import InplaceError, ShapeError
from helpers import square_with_backward, torch_or_skip
from chainrule.ops.registry import OPS
from test_ops import CASES, _build, _id


def _grad_outputs(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _grad_outputs(o)]
    return [out] if isinstance(out, cr.Tensor) and out.requires_grad else []


def _gradients(call, flat, hooks=None):
    for t in flat:
        t.grad = None
    if hooks is None:
        out = call(*flat)
    else:
        with saved_tensors_hooks(*hooks):
            out = call(*flat)
    outs = _grad_outputs(out)
    if not outs:
        return None
    rng = np.random.default_rng(0)
    cr.autograd.backward(outs, [cr.tensor(rng.standard_normal(o.shape)).to(o.dtype) for o in outs])
    return [None if t.grad is None else t.grad.numpy().copy() for t in flat]


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_every_op_gives_the_same_gradient_through_copying_hooks(case):
    """Each value a node saves goes out through pack_hook (here: a copy, so the node cannot be reading the original)
    and back through unpack_hook; the gradients are those of the plain run (up to the last bits of a reduction over
    a differently laid out copy)."""
    _, _, flat, call, _ = _build(*case)
    if not flat:
        pytest.skip("no differentiable input")
    plain = _gradients(call, flat)
    if plain is None:
        pytest.skip("no output requires grad")
    hooked = _gradients(call, flat, (lambda t: t.detach().clone(), lambda t: t))
    for a, b in zip(plain, hooked):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)


def test_pack_and_unpack_are_called_as_in_torch():
    calls = []
    pack = lambda t: (calls.append(("pack", t.tolist(), t.requires_grad)), t.detach())[1]   # noqa: E731
    unpack = lambda t: (calls.append(("unpack", t.tolist())), t)[1]                         # noqa: E731
    a = cr.ones(3, requires_grad=True)
    b = cr.ones(3, requires_grad=True) * 2
    with saved_tensors_hooks(pack, unpack):
        y = a * b
    assert calls == [("pack", [1.0] * 3, True), ("pack", [2.0] * 3, True)]
    y.sum().backward(retain_graph=True)
    y.sum().backward()                       # unpacked again for the second pass, as torch does
    assert [c[0] for c in calls] == ["pack", "pack", "unpack", "unpack", "unpack", "unpack"]
    np.testing.assert_array_equal(a.grad.numpy(), [4.0] * 3)
    with pytest.raises(cr.errors.BackwardError, match="second time"):
        y.sum().backward()
    torch = torch_or_skip()
    tcalls = []
    ta = torch.ones(3, requires_grad=True)
    tb = torch.ones(3, requires_grad=True) * 2
    with torch.autograd.graph.saved_tensors_hooks(lambda t: (tcalls.append("pack"), t.detach())[1],
                                                  lambda t: (tcalls.append("unpack"), t)[1]):
        ty = ta * tb
    ty.sum().backward(retain_graph=True)
    ty.sum().backward()
    assert tcalls == [c[0] for c in calls]


def test_custom_function_saved_tensors_go_through_the_hooks():
    Square = square_with_backward(lambda x, g: 2 * x * g)
    packed = []
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with saved_tensors_hooks(lambda t: (packed.append(t.tolist()), t.detach().numpy().copy())[1], cr.from_numpy):
        y = Square.apply(x)
    assert packed == [[1.0, 2.0]]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def _mlp():
    cr.manual_seed(0)
    layers = []
    for _ in range(6):
        layers += [nn.Linear(64, 64), nn.Tanh()]
    return nn.Sequential(*layers)


def test_offloading_to_disk_frees_the_activations(tmp_path):
    """A pack hook that writes each saved tensor to a file and returns the path: after the forward pass the graph
    holds paths, not arrays (traced memory), and backward reads them back into the same gradients."""
    model, x = _mlp(), cr.randn(2048, 64)
    files = []

    def to_disk(t):
        path = tmp_path / f"{len(files)}.npy"
        np.save(path, t.detach().numpy())
        files.append(path)
        return path

    def from_disk(path):
        return cr.from_numpy(np.load(path))

    def forward(hooks):
        model.zero_grad()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        if hooks:
            with saved_tensors_hooks(to_disk, from_disk):
                loss = model(x).pow(2).mean()
        else:
            loss = model(x).pow(2).mean()
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        loss.backward()
        return held, [p.grad.numpy().copy() for p in model.parameters()]
    buffers.set_enabled(False)     # the pool would keep freed arrays alive (and count them)
    try:
        plain_bytes, plain_grads = forward(False)
        disk_bytes, disk_grads = forward(True)
    finally:
        buffers.set_enabled(True)
    activation = 2048 * 64 * 4
    assert plain_bytes > 6 * activation                    # the plain graph keeps every layer's activation
    assert disk_bytes < 0.5 * activation, (disk_bytes, plain_bytes)
    assert len(files) >= 12
    for a, b in zip(plain_grads, disk_grads):
        np.testing.assert_array_equal(a, b)


def test_float16_compression_trains_the_same_network_to_three_digits():
    """The texts' "activation compression": saved values kept as float16 and cast back for backward."""
    model, x = _mlp(), cr.randn(256, 64)
    model(x).pow(2).mean().backward()
    exact = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    dtypes = []

    def pack(t):
        dtypes.append(t.dtype)
        return t.half() if t.is_floating_point() else t
    with saved_tensors_hooks(pack, lambda t: t.float()):
        loss = model(x).pow(2).mean()
    loss.backward()
    assert set(dtypes) == {cr.float32}
    for p, e in zip(model.parameters(), exact):
        assert p.grad.dtype == cr.float32
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=2e-2, atol=2e-3 * np.abs(e).max())


def test_create_graph_differentiates_through_unpacked_values():
    x = cr.tensor([0.3, -1.2, 2.0], dtype=cr.float64, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        y = (x.sin() * x).sum()
    g, = cr.autograd.grad(y, x, create_graph=True)
    h, = cr.autograd.grad(g.sum(), x)
    v = x.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), np.cos(v) * v + np.sin(v), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), 2 * np.cos(v) - v * np.sin(v), rtol=1e-12)


def test_lstm_and_conv_layers_pack_their_saved_state():
    cr.manual_seed(1)
    lstm, conv = nn.LSTM(4, 5, batch_first=True), nn.Conv2d(2, 3, 3)
    seq, img = cr.randn(2, 6, 4), cr.randn(2, 2, 5, 5)
    packs = []

    def run(layer, x, hooks):
        layer.zero_grad()
        if hooks:
            with saved_tensors_hooks(lambda t: (packs.append(tuple(t.shape)), t.detach().clone())[1], lambda t: t):
                out = layer(x)
        else:
            out = layer(x)
        (out[0] if isinstance(out, tuple) else out).pow(2).sum().backward()
        return [p.grad.numpy().copy() for p in layer.parameters()]
    for layer, x in ((lstm, seq), (conv, img)):
        packs.clear()
        for a, b in zip(run(layer, x, False), run(layer, x, True)):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
        assert len(packs) >= 2, packs


def test_only_the_innermost_pair_applies_and_outer_ones_resume():
    outer, inner = [], []
    x = cr.ones(2, requires_grad=True)
    with saved_tensors_hooks(lambda t: (outer.append(1), t.detach())[1], lambda t: t):
        with saved_tensors_hooks(lambda t: (inner.append(1), t.detach())[1], lambda t: t):
            y = x * x
        z = x.exp()
    assert len(inner) == 2 and len(outer) == 1
    (y.sum() + z.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + np.e)
    w = x * x                                      # outside every context: nothing packed
    assert w.grad_fn.out_hooks is None


def test_no_grad_records_nothing_and_packs_nothing():
    packed = []
    x = cr.ones(2, requires_grad=True)
    with saved_tensors_hooks(lambda t: (packed.append(1), t)[1], lambda t: t), cr.no_grad():
        (x * x).exp()
    assert packed == []


def test_a_bad_unpack_hook_is_named():
    x = cr.ones(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach(), lambda t: t[:2]):
        y = (x * 2).exp()
    with pytest.raises(ShapeError, match=r"ExpBackward: unpack_hook returned shape \(2,\) for a saved tensor of "
                                         r"shape \(3,\)"):
        y.sum().backward()
    with saved_tensors_hooks(lambda t: t.detach(), lambda t: t.numpy()):
        y = (x * 2).exp()
    with pytest.raises(TypeError, match="unpack_hook must return a Tensor, got ndarray"):
        y.sum().backward()
    with pytest.raises(TypeError, match="must be callables"):
        saved_tensors_hooks(None, lambda t: t)


def test_an_unpacked_dtype_is_cast_back_as_torch_does():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach().half(), lambda t: t):   # forgot to cast back
        y = (x * 3).exp()
    y.sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp(3 * np.array([0.5, 1.5])), rtol=2e-3)


def test_an_in_place_change_seen_by_the_packed_value_is_refused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    with saved_tensors_hooks(lambda t: t.detach(), lambda t: t):   # shares memory with h
        y = (h * h).sum()
    with cr.no_grad():
        h.add_(1)
    with pytest.raises(InplaceError, match="MulBackward: a saved tensor .* was modified in place after it was packed"):
        y.backward()
    h = x * 1
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):   # a copy: the change cannot reach it
        y = (h * h).sum()
    with cr.no_grad():
        h.add_(1)
    x.grad = None
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_disable_saved_tensors_hooks_refuses_them_with_its_message():
    with disable_saved_tensors_hooks("no hooks in here"):
        with pytest.raises(RuntimeError, match="no hooks in here"):
            with save_on_cpu():
                pass
    x = cr.ones(2, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
        with disable_saved_tensors_hooks("not with saved-tensor hooks"):
            with pytest.raises(RuntimeError, match="not with saved-tensor hooks"):
                x * x
        y = x * x                                   # allowed again
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_save_on_cpu_is_a_saved_tensors_hooks_pair():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    with save_on_cpu(pin_memory=True):
        y = (x * x).sum()
    assert isinstance(save_on_cpu(), saved_tensors_hooks)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])


GG_FIRST = [c for c in CASES if c[1] == 0 and OPS[c[0]].gradgrad and OPS[c[0]].samples[0].gradgrad]


@pytest.mark.parametrize("case", GG_FIRST, ids=[_id(c) for c in GG_FIRST])
def test_second_derivatives_of_every_op_through_copying_hooks(case):
    """create_graph through unpacked values (and hooks active while the backward graph is recorded, so its own
    saved values are packed too): gradgradcheck of each twice-differentiable op's first sample."""
    _, s, flat, call, _ = _build(*case)
    if not flat:
        pytest.skip("no differentiable input")
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        assert cr.autograd.gradgradcheck(call, flat, **s.check)


def test_the_chain_rule_trace_reads_packed_nodes():
    """The trace calls each node's backward once more on its own (the local gradients): it unpacks for that."""
    x, y, z = (cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        f = (x + y) * z
    text = str(cr.explain.trace(f, {"x": x, "y": y, "z": z}))
    plain = str(cr.explain.trace((x + y) * z, {"x": x, "y": y, "z": z}))
    assert text == plain and "-4" in text


def test_anomaly_messages_see_the_unpacked_input_values():
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    with cr.autograd.detect_anomaly(), saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        y = (x * 1).acos().sum()     # d acos/dx = -1/√(1-x²): infinite at x = 1
        with pytest.raises(cr.errors.AnomalyError, match="at input value 1"):
            y.backward(retain_graph=True)
