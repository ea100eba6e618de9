"""Gradient checkpointing: trade compute for memory.

checkpoint(fn, *args) runs fn without recording a graph and keeps only its inputs; in backward it runs fn again
with recording on and backpropagates through that fresh graph. The segment is one node whose inputs are its
arguments and the outside tensors it reads (the parameters of the modules inside), so its gradients reach them
through the engine as any node's do: accumulated by .backward(), returned by autograd.grad, and themselves
differentiable under create_graph. Only segment boundaries stay in memory, so for L
layers in √L segments activation memory falls from O(L) to O(√L) at the cost of one extra forward pass (the
texts' √L trade-off). checkpoint_binomial nests checkpoints to hold at most a given number of activations,
recomputing as little as that allows. The random state is saved and restored, so dropout draws the same mask
both times.
"""
from contextlib import nullcontext

import numpy as np

from .. import random as _random
from . import engine
from .function import Function
from .grad_mode import STATE, enable_grad, no_grad

Tensor = None


class _LeavesRead:
    """An engine observer while a segment first runs (unrecorded): every tensor its ops read that requires grad.
    Under no_grad nothing made inside the segment requires grad, so these are what the segment depends on from
    outside: its arguments, and what the function reaches by closure or attribute (a module's parameters)."""

    def __init__(self):
        self.found = {}

    def on_forward(self, node, outputs, inputs):
        for t in inputs:
            if isinstance(t, Tensor) and t.requires_grad:
                self.found.setdefault(id(t), t)

    def on_backward(self, node, grads_out, grads_in):
        pass


class _Checkpoint(Function):
    """A segment as one node. Its inputs are the segment's arguments and the outside tensors it read that require
    grad (parameters above all), so its backward returns their gradients to the engine: .backward() accumulates
    them, autograd.grad collects them (no .grad is touched), and hooks on them run as usual."""

    @staticmethod
    def forward(ctx, run_function, options, first_run, n_args, *tensors):
        ctx.run_function, ctx.options = run_function, options
        ctx.rng_state = first_run["rng_state"]
        ctx.save_for_backward(*[a for a in tensors if isinstance(a, Tensor)])
        ctx.args = tensors[:n_args]
        ctx.consumes_grads = True   # the engine calls backward_consuming
        return first_run.pop("outputs")

    @staticmethod
    def backward(ctx, *grads):
        return _replay(ctx, list(grads))

    @staticmethod
    def backward_consuming(ctx, grads):
        return _replay(ctx, grads)


def _replay(ctx, grads):
    """Recompute the segment with recording on and backpropagate `grads` (a list, emptied here) through it, to the
    fresh copies of its arguments and to the outside tensors it read (the sweep stops at those).

    Nothing in this frame keeps the incoming gradient or the recomputed output once the inner sweep has started
    (it is handed over with consume=True, and the engine hands it here the same way through backward_consuming):
    with nested checkpoints, a stale reference per level would otherwise hold two activations each.

    With create_graph the gradients are themselves graphs, over the fresh copies; _Reconnect puts them back on the
    real arguments, so that a second derivative reaches them."""
    saved = ctx.saved_tensors
    n_tensor_args = sum(isinstance(a, Tensor) for a in ctx.args)
    outside = saved[n_tensor_args:]
    inputs, fresh, real = [], [], []   # per tensor argument: its fresh copy, and the argument itself
    saved_args = iter(saved[:n_tensor_args])
    for a in ctx.args:
        if isinstance(a, Tensor):
            t = next(saved_args)
            f = Tensor._wrap(t._data).requires_grad_(t.requires_grad) if t._data.dtype.kind == "f" else \
                Tensor._wrap(t._data)
            inputs.append(f)
            fresh.append(f)
            real.append(t)
        else:
            inputs.append(a)
    saved = saved_args = t = f = None
    create_graph = STATE.grad_enabled   # the engine runs a create_graph sweep with grad mode on
    current = _random._global[0].bit_generator.state
    if ctx.rng_state is not None:
        _random._global[0].bit_generator.state = ctx.rng_state
    try:
        with enable_grad(), ctx.options["recompute_context"]:
            outputs = ctx.run_function(*inputs)
    finally:
        _random._global[0].bit_generator.state = current
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if ctx.options["determinism_check"] != "none":
        _check_recomputed(ctx, outs)
    roots, seeds = [], []
    for o, g in zip(outs, grads):
        if isinstance(o, Tensor) and o.requires_grad and g is not None:
            roots.append(o)
            seeds.append(g)
    grads.clear()
    # with create_graph the upstream gradients may depend on the arguments too (loss = x·f(x)): keep them
    tracked_seeds = [g for g in seeds if g.requires_grad] if create_graph else []
    outputs = outs = o = g = None
    wanted = [k for k, f in enumerate(fresh) if f.requires_grad]
    # under a plain .backward() the parameters' gradients go straight into their .grad here, in place, as the
    # sweep goes (handed up to the outer sweep instead, a nested segment would hold them once per level); any
    # leaf the first run did not see read is accumulated the same way. Under autograd.grad nothing is accumulated
    direct = STATE.accumulating and not create_graph
    kept = [t for t in outside if not (direct and t.grad_fn is None)]
    targets = [fresh[k] for k in wanted] + kept
    capture = {_key(t): None for t in targets}
    if roots:
        engine.run_backward(roots, seeds, retain_graph=create_graph, create_graph=create_graph, capture=capture,
                            consume=True, stop_at={t.grad_fn for t in outside if t.grad_fn is not None},
                            accumulate_others=direct)
    result = [capture[_key(t)] for t in targets]
    if create_graph and any(g is not None and g.requires_grad for g in result):
        # differentiated, the gradients lead through the inner graph to the fresh copies (stand-ins for the real
        # arguments), the outside tensors and the upstream gradients
        sources = [real[k] for k in wanted] + kept + tracked_seeds
        result = _Reconnect.apply(result, targets + tracked_seeds, *sources)
        result = list(result) if isinstance(result, tuple) else [result]
    grads_in = [None] * len(ctx.args)
    positions = [i for i, a in enumerate(ctx.args) if isinstance(a, Tensor)]   # of fresh[k] among the arguments
    for k, g in zip(wanted, result):
        grads_in[positions[k]] = g
    of_outside = dict(zip(map(id, kept), result[len(wanted):]))
    return (None, None, None, None) + tuple(grads_in) + tuple(of_outside.get(id(t)) for t in outside)


def _key(t):
    """The capture key of t in engine.run_backward: a leaf by identity, a non-leaf by its place in the graph."""
    return id(t) if t.grad_fn is None else (t.grad_fn, t._out_idx)


class _Reconnect(Function):
    """create_graph through a segment: the inner sweep's gradients are graphs over fresh copies of the arguments,
    the outside tensors (parameters) and the upstream gradients. This node passes their values on and,
    differentiated, backpropagates through those graphs to those targets, no further, handing each result to the
    matching real tensor (the argument a copy stands for; an outside tensor or upstream gradient itself)."""

    @staticmethod
    def forward(ctx, grads, targets, *real):
        ctx.grads, ctx.targets = grads, targets
        outs = tuple(Tensor._wrap(g._data) if g is not None else None for g in grads)
        for o, g in zip(outs, grads):
            if o is not None and not g.requires_grad:
                ctx.mark_non_differentiable(o)
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *upstream):
        pairs = [(g, u) for g, u in zip(ctx.grads, upstream) if g is not None and g.requires_grad and u is not None]
        if not pairs:
            return (None, None) + (None,) * len(ctx.targets)
        capture = {_key(t): None for t in ctx.targets}
        engine.run_backward([g for g, _ in pairs], [u for _, u in pairs], retain_graph=True,
                            create_graph=STATE.grad_enabled, capture=capture,
                            stop_at={t.grad_fn for t in ctx.targets if t.grad_fn is not None})
        return (None, None) + tuple(capture[_key(t)] for t in ctx.targets)


def _check_recomputed(ctx, outs):
    """torch's determinism_check='default': the recomputed outputs must have the shapes and dtypes of the first run
    (else the gradient would belong to a different computation)."""
    for i, (o, (shape, dtype)) in enumerate(zip(outs, ctx._out_meta)):
        if isinstance(o, Tensor) and (tuple(o.shape) != tuple(shape) or o.dtype != dtype):
            raise RuntimeError(f"checkpoint: recomputing the segment in backward gave output {i} of shape "
                               f"{tuple(o.shape)} and dtype {o.dtype}, but the forward pass gave {tuple(shape)} and "
                               f"{dtype}. The function must compute the same thing both times (draw random numbers "
                               f"from chainrule's generator, which is restored, and do not depend on outside state)")


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               early_stop=True, preserve_rng_state=True, **kwargs):
    """function(*args, **kwargs) whose intermediate activations are recomputed in backward instead of stored.

    torch's options: preserve_rng_state restores the random state for the recomputation (so dropout draws the
    same mask); context_fn() returns two context managers, entered around the forward run and the recomputation;
    determinism_check='default' checks that the recomputation gives outputs of the same shapes and dtypes ('none'
    skips it). chainrule has one implementation, which supports what both of torch's variants do (inputs that need
    no gradient, autograd.grad with respect to arguments or parameters, create_graph, nesting), so use_reentrant
    may be anything; debug and early_stop change nothing."""
    if determinism_check not in ("default", "none"):
        raise ValueError(f"checkpoint: determinism_check must be 'default' or 'none', got {determinism_check!r}")
    fn = (lambda *a: function(*a, **kwargs)) if kwargs else function
    forward_context, recompute_context = context_fn() if context_fn is not None else (nullcontext(), nullcontext())
    options = {"preserve_rng_state": preserve_rng_state, "recompute_context": recompute_context,
               "determinism_check": determinism_check}
    first_run = {"rng_state": _random._global[0].bit_generator.state if preserve_rng_state else None}
    reader = _LeavesRead()
    prev_observers = STATE.observers
    STATE.observers = prev_observers + (reader,)
    try:
        with forward_context, no_grad():
            first_run["outputs"] = fn(*args)
    finally:
        STATE.observers = prev_observers
    passed = {id(a) for a in args if isinstance(a, Tensor)}
    outside = [t for key, t in reader.found.items() if key not in passed]
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args) and not outside:
        return first_run["outputs"]   # nothing in the segment needs a gradient: nothing to record
    return _Checkpoint.apply(fn, options, first_run, len(args), *args, *outside)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a Sequential (or list of modules) in `segments` checkpointed chunks; the last chunk runs normally."""
    mods = list(functions) if not isinstance(functions, (list, tuple)) else list(functions)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be ≥ 1, got {segments}")
    size = int(np.ceil(len(mods) / segments))

    def run(chunk):
        def f(x):
            for m in chunk:
                x = m(x)
            return x
        return f
    x = input
    chunks = [mods[i:i + size] for i in range(0, len(mods), size)]
    for chunk in chunks[:-1]:
        x = checkpoint(run(chunk), x, use_reentrant=use_reentrant, **kwargs)
    return run(chunks[-1])(x)


def binomial_plan(steps, slots):
    """cost[n][m] for n ≤ steps, m ≤ slots: the fewest step evaluations (the first forward pass included) that
    backpropagate through n steps holding at most m step outputs at once (Griewank & Walther's binomial
    checkpointing, whose optimum is C(m + r, m) steps for r recomputations), and split[n][m], the number of steps
    to run unrecorded before storing one output (0: record all n).

        cost(n, m) = n                                          if n ≤ m (record every output)
                   = min_k  k + cost(n - k, m - 1) + cost(k, m)  otherwise: advance k steps and store the output,
                                                                 backpropagate the rest with one slot less, then
                                                                 the first k steps again with all m"""
    cost = np.full((steps + 1, slots + 1), np.inf)
    split = np.zeros((steps + 1, slots + 1), dtype=np.int64)
    cost[0, :] = 0
    for m in range(1, slots + 1):
        cost[1:m + 1, m] = np.arange(1, min(m, steps) + 1)[:steps]
        for n in range(m + 1, steps + 1):
            k = np.arange(1, n)
            total = k + cost[n - k, m - 1] + cost[k, m]
            best = int(np.argmin(total))
            cost[n, m], split[n, m] = total[best], k[best]
    return cost, split


def checkpoint_binomial(functions, slots, input, **kwargs):
    """Run a chain of steps (a Sequential or list of modules, each one step whose output is one activation) so that
    backward holds at most `slots` step outputs at once besides the input, recomputing as few steps as that allows:
    binomial checkpointing (see binomial_plan), built from nested checkpoint() calls. slots ≥ len(functions) is a
    plain run; each slot fewer costs recomputation: 16 steps take 16 evaluations with 16 slots, 26 with 8, 33 with
    5, 40 with 4, 56 with 3 (checkpoint_sequential with 4 segments: 28, holding 7). Group the modules so that one
    step is one stored activation (e.g. Linear and its activation function as one Sequential). kwargs go to
    checkpoint (preserve_rng_state, context_fn, determinism_check)."""
    steps = list(functions)
    if not isinstance(slots, (int, np.integer)) or isinstance(slots, bool) or slots < 1:
        raise ValueError(f"checkpoint_binomial: slots must be a positive int, got {slots!r}")
    if slots == 1 and len(steps) > 1:
        raise ValueError(f"checkpoint_binomial: {len(steps)} steps need at least 2 slots (one stored output and "
                         f"one step being backpropagated); got slots=1")
    _, split = binomial_plan(len(steps), min(slots, len(steps)))

    def run(chain, m, x):
        k = int(split[len(chain), min(m, len(chain))]) if chain else 0
        if k == 0:
            for step in chain:
                x = step(x)
            return x
        first = chain[:k]
        x = checkpoint(lambda v: run(first, m, v), x, **kwargs)
        return run(chain[k:], m - 1, x)
    return run(steps, slots, input)
