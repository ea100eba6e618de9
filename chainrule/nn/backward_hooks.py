"""Module backward hooks (torch's register_full_backward_hook): hook(module, grad_input, grad_output) runs once the
gradients with respect to the module's tensor inputs are computed, and may return replacements for grad_input.

How: the call's tensor inputs pass through one identity node on the way in and its tensor outputs through one on
the way out. The outer node's backward sees grad_output; the inner one, created before anything inside the module
and so run after all of it, sees grad_input complete and calls the hooks. A call whose inputs need no gradient
(a first layer fed data) calls the hooks from the outer node, with grad_input all None, as torch does.
"""
from ..autograd.function import Function
from ..tensor import Tensor
from . import global_hooks


class _Call:
    def __init__(self, module, n_args):
        self.module, self.n_args = module, n_args
        self.n_inputs, self.grad_output, self.fired = 0, None, False

    def fire(self, grad_input):
        self.fired = True
        for hook in list(global_hooks.BACKWARD.values()) + list(self.module._backward_hooks.values()):
            new = hook(self.module, grad_input, self.grad_output)
            if new is not None:
                grad_input = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        return grad_input


class _Boundary(Function):
    """Identity on the module's tensor inputs ("in") or outputs ("out"); its backward is where the hooks run."""

    @staticmethod
    def forward(ctx, call, side, *xs):
        ctx.call, ctx.side = call, side
        return xs

    @staticmethod
    def backward(ctx, *grads):
        call = ctx.call
        if ctx.side == "in":
            return (None, None) + tuple(call.fire(grads))
        for hook in list(global_hooks.BACKWARD_PRE.values()) + \
                list(call.module.__dict__.get("_backward_pre_hooks", {}).values()):   # each may replace grad_output
            new = hook(call.module, grads)
            if new is not None:
                grads = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        call.grad_output = grads
        if call.n_inputs == 0 and not call.fired:
            call.fire((None,) * call.n_args)
        return (None, None) + grads


def _through(call, side, items):
    """(items with the tensors that need grad passed through one boundary node, how many there were)."""
    positions = [i for i, x in enumerate(items) if isinstance(x, Tensor) and x.requires_grad]
    if not positions:
        return tuple(items), 0
    passed = _Boundary.apply(call, side, *[items[i] for i in positions])
    items = list(items)
    for i, t in zip(positions, passed if isinstance(passed, tuple) else (passed,)):
        items[i] = t
    return tuple(items), len(positions)


def enter(module, args):
    """(args with the tensors needing grad passed through the inner node, the call's bookkeeping)."""
    call = _Call(module, sum(isinstance(a, Tensor) for a in args))
    args, call.n_inputs = _through(call, "in", args)
    return args, call


def leave(call, out):
    """out with its tensors passed through the outer node (a tensor, or a tuple whose tensors are)."""
    if isinstance(out, Tensor):
        return _through(call, "out", (out,))[0][0]
    return _through(call, "out", out)[0] if isinstance(out, tuple) else out
