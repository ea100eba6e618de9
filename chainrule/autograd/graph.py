"""torch.autograd.graph's tools for working on the graph itself: the Node class of every grad_fn, gradient edges
(ask autograd.grad for the gradient flowing into a node's output without keeping the tensor), a hook over several
tensors at once, version bumps, and hooks on what the forward pass saves for backward."""
from collections import namedtuple

from . import engine
from .function import Node
from .grad_mode import STATE, note_write
from .saved_tensors import disable_saved_tensors_hooks, saved_tensors_hooks

__all__ = ["Node", "GradientEdge", "get_gradient_edge", "increment_version", "register_multi_grad_hook",
           "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]

GradientEdge = namedtuple("GradientEdge", ["node", "output_nr"])
GradientEdge.__doc__ = "An input of autograd.grad named by the node that produced it and which of its outputs."


def get_gradient_edge(tensor):
    """The edge (grad_fn, output index) of a tensor that requires grad; a leaf's edge is the leaf itself."""
    if not tensor.requires_grad:
        raise RuntimeError("get_gradient_edge: the tensor does not require grad, so it is on no gradient edge")
    if tensor.grad_fn is None:
        return GradientEdge(tensor, 0)
    return GradientEdge(tensor.grad_fn, tensor._out_idx)


def increment_version(tensor):
    """Mark tensor as changed in place (after a change autograd could not see): nodes that saved it will refuse to
    backward, as with any in-place change."""
    tensors = tensor if isinstance(tensor, (list, tuple)) else [tensor]
    for t in tensors:
        t._version = note_write(t._data)


class _Handles:
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """fn over the gradients of several tensors in one backward pass: mode 'all' calls fn(grads) (None for a
    tensor the pass does not reach) once the pass has finished; mode 'any' calls fn(grad) once, with the first of
    them computed."""
    if mode not in ("all", "any"):
        raise ValueError(f"register_multi_grad_hook: mode must be 'all' or 'any', got {mode!r}")
    tensors = list(tensors)
    state = {"run": None, "grads": None}

    def hook_for(i):
        def hook(grad):
            run = STATE.backward_run
            if mode == "any":
                if state["run"] != run:
                    state["run"] = run
                    fn(grad)
                return None
            if state["run"] != run:
                state["run"], state["grads"] = run, [None] * len(tensors)
                grads = state["grads"]
                engine.queue_callback(lambda: fn(tuple(grads)))
            state["grads"][i] = grad
            return None
        return hook
    return _Handles([t.register_hook(hook_for(i)) for i, t in enumerate(tensors) if t.requires_grad])


class save_on_cpu(saved_tensors_hooks):
    """torch moves what the forward pass saves to CPU memory and back for backward; chainrule's tensors live there
    already, so the hooks pass them through (and the context still counts as saved-tensor hooks: nesting,
    disable_saved_tensors_hooks)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        super().__init__(lambda t: t.detach(), lambda t: t)
