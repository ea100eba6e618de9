"""Gradient checkpointing: gradients identical to the unchecked run, parameters inside segments trained, dropout
masks reproduced in the recomputation, and less activation memory."""
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.autograd import buffers
from chainrule.utils.checkpoint import binomial_plan, checkpoint, checkpoint_binomial, checkpoint_sequential


def _model(p=0.0):
    cr.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [nn.Linear(16, 16), nn.Tanh()] + ([nn.Dropout(p)] if p else [])
    return nn.Sequential(*layers).double()


def _grads(model, x, segments):
    model.zero_grad()
    cr.manual_seed(123)
    out = checkpoint_sequential(model, segments, x) if segments else model(x)
    (out ** 2).mean().backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


def test_gradients_identical_to_unchecked_run():
    model = _model()
    x = cr.randn(32, 16, dtype=cr.float64)
    plain = _grads(model, x, 0)
    for segments in (1, 2, 4, 8):
        for a, b in zip(plain, _grads(model, x, segments)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_dropout_mask_is_reproduced_on_recompute():
    model = _model(p=0.3)
    x = cr.randn(32, 16, dtype=cr.float64)
    plain = _grads(model, x, 0)
    for a, b in zip(plain, _grads(model, x, 4)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_input_gradient_and_kwargs():
    lin = nn.Linear(3, 3).double()
    x = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
    y = checkpoint(lambda v, scale: lin(v) * scale, x, scale=2.0)
    y.sum().backward()
    gx = x.grad.numpy().copy()
    x.grad = None
    (lin(x) * 2.0).sum().backward()
    np.testing.assert_allclose(gx, x.grad.numpy())


def test_less_activation_memory():
    cr.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(16) for m in (nn.Linear(128, 128), nn.Tanh())])
    x = cr.randn(2048, 128)

    def peak(segments):
        model.zero_grad()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        out = checkpoint_sequential(model, segments, x) if segments else model(x)
        out.mean().backward()
        p = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        return p
    peak(0)
    assert peak(4) < 0.75 * peak(0)


class _Step(nn.Module):
    """Linear + tanh as one step, noting every evaluation and keeping a weak reference to each output's memory."""

    def __init__(self, log):
        super().__init__()
        self.linear, self.log = nn.Linear(8, 8).double(), log

    def forward(self, x):
        import weakref
        out = self.linear(x).tanh()
        self.log.append(weakref.ref(out._data))
        return out


def _live_outputs_at_each_step(slots, n=12):
    """Runs n steps through checkpoint_binomial (slots=None: a plain run) and returns the gradients, the number of
    step evaluations, and at each evaluation the number of step outputs then alive."""
    cr.manual_seed(0)
    log, alive = [], []
    steps = [_Step(log) for _ in range(n)]
    for s in steps:
        inner = s.forward
        s.forward = lambda v, inner=inner: (alive.append(sum(r() is not None for r in log)), inner(v))[1]
    x = cr.randn(5, 8, dtype=cr.float64, requires_grad=True)
    out = checkpoint_binomial(steps, slots, x) if slots else nn.Sequential(*steps)(x)
    loss = out.pow(2).sum()
    del out
    loss.backward()
    grads = [x.grad.numpy()] + [p.grad.numpy() for s in steps for p in s.parameters()]
    return grads, len(log), max(alive)


@pytest.mark.parametrize("slots", [2, 3, 4, 6, 11, 12, 20])
def test_binomial_checkpointing_holds_at_most_slots_outputs(slots):
    """Gradients identical to the plain run; the evaluations are the plan's optimum; and no more than `slots`
    outputs are alive at any step (counted as each step starts, so the one it is about to make is not yet in)."""
    plain, evaluations, _ = _live_outputs_at_each_step(None)
    assert evaluations == 12
    grads, evaluations, most_alive = _live_outputs_at_each_step(slots)
    for a, b in zip(plain, grads):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    cost, _ = binomial_plan(12, min(slots, 12))
    assert evaluations == cost[12, min(slots, 12)]
    assert most_alive <= slots - 1   # with the output the step is making: at most slots


def test_binomial_plan_costs():
    cost, split = binomial_plan(16, 16)
    # two slots: one stored output, so step n is reached from the last stored one each time: n(n + 1)/2 - 1
    assert [cost[n, 2] for n in range(2, 17)] == [n * (n + 1) / 2 - 1 for n in range(2, 17)]
    assert [cost[16, m] for m in range(2, 17)] == [135, 56, 40, 33, 29, 27, 26, 24, 23, 22, 21, 20, 19, 18, 16]
    assert split[16, 16] == 0 and split[16, 4] > 0   # enough slots: record everything


def test_binomial_checkpointing_bad_slots():
    steps = [nn.Linear(2, 2), nn.Linear(2, 2)]
    with pytest.raises(ValueError, match=r"2 steps need at least 2 slots"):
        checkpoint_binomial(steps, 1, cr.randn(1, 2))
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="slots must be a positive int"):
            checkpoint_binomial(steps, bad, cr.randn(1, 2))


def test_binomial_checkpointing_uses_less_memory_than_segments():
    cr.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(16) for m in (nn.Linear(128, 128), nn.Tanh())])
    blocks = [model[i:i + 2] for i in range(0, 32, 2)]
    x = cr.randn(1024, 128)

    def peak(run):
        run()
        model.zero_grad(set_to_none=False)   # .grad allocated before: the peak is activations and their gradients
        buffers.set_enabled(False)   # else freed arrays wait in the pool, counted as live or (pooled before) hidden
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            run()
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
            buffers.set_enabled(True)

    def plain():
        model(x).pow(2).mean().backward()

    def segments():
        checkpoint_sequential(model, 4, x).pow(2).mean().backward()

    def binomial():
        checkpoint_binomial(blocks, 3, x).pow(2).mean().backward()
    # one activation is 0.5 MiB: plain holds 16, four segments 3 boundaries + 4, three slots 3 (each + gradients)
    activation = x.numel() * 4
    three_slots = peak(binomial)
    assert three_slots < 0.8 * peak(segments) < 0.8 * 0.75 * peak(plain)
    # three outputs, the pre-activation (or gradient) being made and the incoming gradient: a gradient kept
    # alive per level of nesting (by a stale loop variable in the engine, once) breaks this
    assert three_slots < 6 * activation   # measured: 5.55 (the rest: weight-gradient temporaries); 7.7 with it


def test_boundary_is_freed_once_its_segment_is_done():
    """A finished segment's boundary must not stay alive (say, in the engine's frame) while the segment before it
    recomputes: the recomputation's peak is the boundaries still needed plus one segment, not every boundary."""
    import weakref

    from chainrule.autograd import checkpoint as ck
    from chainrule.autograd.engine import STATE
    cr.manual_seed(0)
    boundaries, seen_in_backward = [], []
    real_checkpoint = ck.checkpoint

    def watching_checkpoint(fn, *args, **kwargs):
        out = real_checkpoint(fn, *args, **kwargs)
        boundaries.append(weakref.ref(out._data))
        return out

    def probe(v):   # first in each segment: runs in its forward and again in its recomputation
        if STATE.in_backward:
            seen_in_backward.append([b() is not None for b in boundaries])
        return v

    def two_layers():
        return [nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh()]
    ck.checkpoint = watching_checkpoint
    try:
        out = ck.checkpoint_sequential([probe, *two_layers(), probe, *two_layers(), probe, *two_layers()], 3,
                                       cr.randn(4, 8))
    finally:
        ck.checkpoint = real_checkpoint
    loss = out.pow(2).mean()
    del out
    loss.backward()
    # segment 2 recomputes after segment 3 (run normally) is done, so segment 2's output is gone; then segment 1
    # recomputes with both boundaries gone
    assert seen_in_backward == [[True, False], [False, False]]


def test_torchs_checkpoint_options():
    """preserve_rng_state, context_fn, determinism_check and use_reentrant as torch takes them; torch's own keyword
    arguments never reach the checkpointed function, the function's own ones do."""
    import contextlib
    lin = nn.Linear(4, 4)
    events = []

    @contextlib.contextmanager
    def note(what):
        events.append(what)
        yield

    def f(v, scale=1.0):
        return nn.functional.dropout(lin(v), 0.5, True) * scale

    def grad_of(run, seed):
        cr.manual_seed(seed)
        x = cr.tensor(np.linspace(-1, 1, 24).reshape(6, 4), requires_grad=True)
        run(x).sum().backward()
        return x.grad.numpy()
    plain = grad_of(lambda x: f(x, scale=2.0), 3)
    for reentrant in (None, True, False):
        got = grad_of(lambda x: cr.utils.checkpoint.checkpoint(
            f, x, use_reentrant=reentrant, scale=2.0, debug=False, early_stop=True,
            context_fn=lambda: (note("forward"), note("recompute"))), 3)
        np.testing.assert_allclose(got, plain)   # the recomputation drew the same dropout mask
    assert events == ["forward", "recompute"] * 3
    fresh_mask = grad_of(lambda x: cr.utils.checkpoint.checkpoint(f, x, scale=2.0, preserve_rng_state=False), 3)
    assert not np.allclose(fresh_mask, plain)   # without the saved state, backward recomputes with another mask
    with pytest.raises(ValueError, match="determinism_check"):
        cr.utils.checkpoint.checkpoint(f, cr.randn(2, 4), determinism_check="strict")
    calls = [0]

    def changes(v):   # computes something of another shape the second time
        calls[0] += 1
        return lin(v) if calls[0] % 2 else cr.cat([lin(v), lin(v)])
    with pytest.raises(RuntimeError, match="recomputing the segment"):
        cr.utils.checkpoint.checkpoint(changes, cr.randn(2, 4, requires_grad=True)).sum().backward()


def _segment_model():
    cr.manual_seed(0)
    lin = nn.Linear(3, 3).double()
    x = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
    return lin, x, lambda v: (lin(v).sin() * v).tanh()


def test_autograd_grad_through_a_segment_reaches_its_parameters_and_touches_no_grad():
    lin, x, seg = _segment_model()
    gx, gw = cr.autograd.grad(checkpoint(seg, x).sum(), [x, lin.weight])
    assert lin.weight.grad is None and lin.bias.grad is None and x.grad is None   # returned, never accumulated
    rx, rw = cr.autograd.grad(seg(x).sum(), [x, lin.weight])
    np.testing.assert_allclose(gx.numpy(), rx.numpy(), rtol=1e-13)
    np.testing.assert_allclose(gw.numpy(), rw.numpy(), rtol=1e-13)


def test_second_derivative_through_a_segment_equals_the_plain_one():
    """create_graph=True: the gradient through the segment is itself a graph, over the arguments, the parameters
    and the upstream gradient (here x·f(x), whose upstream gradient x depends on the argument)."""
    lin, x, seg = _segment_model()
    results = []
    for run in (seg, lambda v: checkpoint(seg, v)):
        x.grad = None
        lin.zero_grad()
        y = run(x)
        g, = cr.autograd.grad((y * x).sum() + y.pow(2).sum(), x, create_graph=True)
        (g * g).sum().backward()
        results.append([x.grad.numpy().copy(), lin.weight.grad.numpy().copy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12)
    x.grad = None
    assert cr.autograd.gradgradcheck(lambda v: checkpoint(seg, v), [x])


def test_a_tensor_the_segment_reads_by_closure_gets_its_gradient_once():
    """An outside activation the function reads by closure (not an argument) is an input of the segment's node:
    the sweep inside stops there, and the outer sweep carries the gradient on, also from its other uses."""
    cr.manual_seed(1)
    w = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
    x = cr.randn(4, 3, dtype=cr.float64)
    grads = []
    for wrap in (lambda f, v: f(v), checkpoint):
        w.grad = None
        h = w.tanh()                                 # read inside the segment by closure, and outside it
        out = wrap(lambda v: (v * h).sin(), x) + h * 2
        out.sum().backward()
        grads.append(w.grad.numpy().copy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-13)
