"""Gradient checkpointing: trade compute for memory.

checkpoint(fn, *args) runs fn without recording a graph and keeps only its inputs; in backward it runs fn again
with recording on and backpropagates through that fresh graph. Only segment boundaries stay in memory, so for L
layers in √L segments activation memory falls from O(L) to O(√L) at the cost of one extra forward pass (the
texts' √L trade-off). The random state is saved and restored, so dropout draws the same mask both times.
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
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        saved = iter(ctx.saved_tensors)
        inputs = []
        for a in ctx.args:
            if isinstance(a, Tensor):
                t = next(saved)
                inputs.append(Tensor._wrap(t._data).requires_grad_(t.requires_grad) if t._data.dtype.kind == "f"
                              else Tensor._wrap(t._data))
            else:
                inputs.append(a)
        current = _random._global[0].bit_generator.state
        if ctx.rng_state is not None:
            _random._global[0].bit_generator.state = ctx.rng_state
        try:
            with enable_grad(), ctx.options["recompute_context"]:
                outputs = ctx.run_function(*inputs)
        finally:
            _random._global[0].bit_generator.state = current
        outs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
        if ctx.options["determinism_check"] != "none":
            _check_recomputed(ctx, outs)
        pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad and g is not None]
        if pairs:   # accumulates into the parameters used inside run_function, and into the fresh inputs
            engine.run_backward([o for o, _ in pairs], [g for _, g in pairs], retain_graph=False, create_graph=False)
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
