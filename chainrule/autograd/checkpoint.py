"""Gradient checkpointing: trade compute for memory.

checkpoint(fn, *args) runs fn without recording a graph and keeps only its inputs; in backward it runs fn again
with recording on and backpropagates through that fresh graph. Only segment boundaries stay in memory, so for L
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
from .grad_mode import enable_grad

Tensor = None


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx, run_function, options, *args):
        ctx.run_function, ctx.options = run_function, options
        ctx.rng_state = _random._global[0].bit_generator.state if options["preserve_rng_state"] else None
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        ctx.args = args
        ctx.consumes_grads = True   # the engine calls backward_consuming
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        return _replay(ctx, list(grads))

    @staticmethod
    def backward_consuming(ctx, grads):
        return _replay(ctx, grads)


def _replay(ctx, grads):
    """Recompute the segment with recording on and backpropagate `grads` (a list, emptied here) through it.

    Nothing in this frame keeps the incoming gradient or the recomputed output once the inner sweep has started
    (it is handed over with consume=True, and the engine hands it here the same way through backward_consuming):
    with nested checkpoints, a stale reference per level would otherwise hold two activations each."""
    saved = iter(ctx.saved_tensors)
    inputs = []
    for a in ctx.args:
        if isinstance(a, Tensor):
            t = next(saved)
            inputs.append(Tensor._wrap(t._data).requires_grad_(t.requires_grad) if t._data.dtype.kind == "f"
                          else Tensor._wrap(t._data))
        else:
            inputs.append(a)
    saved = t = None
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
        if o.requires_grad and g is not None:
            roots.append(o)
            seeds.append(g)
    grads.clear()
    outputs = outs = o = g = None
    if roots:   # accumulates into the parameters used inside run_function, and into the fresh inputs
        engine.run_backward(roots, seeds, retain_graph=False, create_graph=False, consume=True)
    return (None, None) + tuple(t.grad if isinstance(t, Tensor) and t.requires_grad else None for t in inputs)


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
    no gradient, autograd.grad, nesting), so use_reentrant may be anything; debug and early_stop change nothing."""
    if determinism_check not in ("default", "none"):
        raise ValueError(f"checkpoint: determinism_check must be 'default' or 'none', got {determinism_check!r}")
    fn = (lambda *a: function(*a, **kwargs)) if kwargs else function
    forward_context, recompute_context = context_fn() if context_fn is not None else (nullcontext(), nullcontext())
    options = {"preserve_rng_state": preserve_rng_state, "recompute_context": recompute_context,
               "determinism_check": determinism_check}
    with forward_context:
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            # the data batch does not require grad, but the parameters inside fn do: an anchor input that requires
            # grad makes sure the segment is recorded (PyTorch's reentrant checkpoint silently drops it instead)
            anchor = Tensor._wrap(np.zeros((), np.float32)).requires_grad_(True)
            return _Checkpoint.apply(lambda _, *a: fn(*a), options, anchor, *args)
        return _Checkpoint.apply(fn, options, *args)


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
