"""Saved-tensor hooks (torch.autograd.graph.saved_tensors_hooks): everything the forward pass keeps for backward
goes through pack_hook when it is saved and through unpack_hook when backward needs it, so a user decides how
activations are stored between the passes — compressed to float16 (the texts' "activation compression"), written
to disk, or logged.

    with cr.autograd.graph.saved_tensors_hooks(lambda t: t.half(), lambda t: t.float()):
        loss = model(x).pow(2).mean()      # every saved activation is kept as float16
    loss.backward()                        # ... and unpacked to float32 node by node

What a node saves: the inputs of an op whose backward reads them (the textbook's cached forward values), the
tensors of ctx.save_for_backward, and the arrays an op stashes on itself in forward (its output, a mask, the
indices of a max pool). Each is packed once, right after the node is recorded; the node then keeps only the
packed object (and, for an input, its graph edge), so the original array can be freed. Only the innermost pair of
hooks applies (as in torch). The hooks run under no_grad; an unpacked tensor must have the saved shape (else a
ShapeError names the node) and is cast back to the saved dtype.
"""
import contextlib
import weakref

import numpy as np

from ..errors import InplaceError, ShapeError
from . import function
from .function import Function, FunctionCtx, _edge
from .grad_mode import STATE, no_grad

_ACTIVE = []          # saved_tensors_hooks contexts entered, innermost last
_DISABLED = [None]    # the error message while disable_saved_tensors_hooks is in force


class saved_tensors_hooks:
    """Context manager: pack_hook(tensor) -> anything, called when an op saves a tensor for backward;
    unpack_hook(packed) -> Tensor, called when backward reads it. unpack_hook(pack_hook(t)) should equal t."""

    def __init__(self, pack_hook, unpack_hook):
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError(f"saved_tensors_hooks: pack_hook and unpack_hook must be callables, got "
                            f"{type(pack_hook).__name__} and {type(unpack_hook).__name__}")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _DISABLED[0] is not None:
            raise RuntimeError(_DISABLED[0])
        _ACTIVE.append(self)
        self._prev_observers = STATE.observers
        STATE.observers = STATE.observers + (self,)   # the engine tells observers about every node it records
        return self

    def __exit__(self, *exc):
        STATE.observers = self._prev_observers
        _ACTIVE.remove(self)
        return False

    # ---- the observer interface of the engine -------------------------------------------------------------------
    def on_forward(self, node, outputs, inputs):
        if not _ACTIVE or _ACTIVE[-1] is not self or not any(o.grad_fn is node for o in outputs):
            return   # an outer pair, or an op that recorded nothing (no_grad, no input requiring grad)
        if _DISABLED[0] is not None:
            raise RuntimeError(_DISABLED[0])
        _pack_node(node, outputs, self.pack_hook, self.unpack_hook)

    def on_backward(self, node, grads_out, grads_in):
        pass


class disable_saved_tensors_hooks:
    """Context manager: inside, entering saved_tensors_hooks, or recording an op while hooks are active, raises
    RuntimeError(error_message) — for features that cannot work with them."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self._prev = _DISABLED[0]
        _DISABLED[0] = self.error_message

    def __exit__(self, *exc):
        _DISABLED[0] = self._prev
        return False


def _has_data(array):
    """False for the zero-stride placeholders of graph edges and broadcast scalars: nothing to store."""
    return array.size > 0 and (array.ndim == 0 or any(array.strides))


class _Saved:
    """One packed tensor and what restores it: where it lives on the node, and the original's metadata."""
    __slots__ = ("kind", "key", "index", "packed", "shape", "dtype", "requires_grad", "grad_fn", "out_idx",
                 "version", "original", "stripped")

    def __init__(self, kind, key, index, tensor, packed):
        self.kind, self.key, self.index, self.packed = kind, key, index, packed
        self.shape, self.dtype = tensor._data.shape, tensor._data.dtype
        # the graph place only for tensors the node holds as tensors (an op's own stashed output would point back
        # at the node: a reference cycle that keeps the packed values alive until the garbage collector runs)
        graph = kind in ("input", "saved")
        self.requires_grad, self.grad_fn = (tensor.requires_grad, tensor.grad_fn) if graph else (False, None)
        self.out_idx, self.version = tensor._out_idx, tensor._version
        self.original = weakref.ref(tensor)
        self.stripped = None   # what the node holds in the value's place between backward passes (an input's edge)


def _pack_node(node, outputs, pack_hook, unpack_hook):
    Tensor = function.Tensor
    by_array = {id(o._data): o for o in outputs}   # an op's stashed output is passed as the output tensor itself
    records = []

    def pack(kind, key, index, tensor):
        with no_grad():   # a hook like t.half() must not record nodes (nor pack their inputs again)
            records.append(_Saved(kind, key, index, tensor, pack_hook(tensor)))

    def pack_array(kind, key, index, array):
        tensor = by_array.get(id(array))
        pack(kind, key, index, tensor if tensor is not None else Tensor._wrap(array))

    if not isinstance(node, FunctionCtx) and node.saves_inputs and node.inputs:
        kept = list(node.inputs)
        for i, t in enumerate(kept):
            if _has_data(t._data):
                pack("input", None, i, t)
                kept[i] = records[-1].stripped = _stripped(t)
        node.inputs = tuple(kept)
    attrs = node.__dict__
    for key, value in list(attrs.items()):
        if key == "_saved":                                   # ctx.save_for_backward(...)
            items = list(value)
            for j, t in enumerate(items):
                if t is not None and _has_data(t._data):
                    pack("saved", key, j, t)
                    items[j] = None
            attrs[key] = tuple(items)
        elif isinstance(value, np.ndarray):
            if _has_data(value):
                pack_array("attr", key, None, value)
                attrs[key] = None
        elif isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value):
            items = list(value)
            for j, v in enumerate(items):
                if isinstance(v, np.ndarray) and _has_data(v):
                    pack_array("item", key, j, v)
                    items[j] = None
            attrs[key] = type(value)(items) if isinstance(value, list) else tuple(items)
    if records:
        if node.out_hooks is None:
            node.out_hooks = {}
        node.out_hooks["saved"] = (records, unpack_hook)


def unpack_node(node, records, unpack_hook):
    """Before node's backward: put every unpacked tensor back where the node reads it."""
    Tensor = function.Tensor
    inputs = list(node.inputs)
    attrs = node.__dict__
    for r in records:
        with no_grad():
            t = unpack_hook(r.packed)
        if not isinstance(t, Tensor):
            raise TypeError(f"{node.name()}: saved_tensors_hooks' unpack_hook must return a Tensor, got "
                            f"{type(t).__name__}")
        data = t._data
        if data.shape != r.shape:
            raise ShapeError(f"{node.name()}: unpack_hook returned shape {tuple(data.shape)} for a saved tensor of "
                             f"shape {tuple(r.shape)}; it must give back what pack_hook was given")
        original = r.original()
        if original is not None and original._version != r.version and np.may_share_memory(original._data, data):
            raise InplaceError(f"{node.name()}: a saved tensor (shape {tuple(r.shape)}) was modified in place after "
                               f"it was packed, and the packed value shares its memory, so its gradient would be "
                               f"wrong. Clone the tensor before changing it, or copy it in pack_hook.")
        if data.dtype != r.dtype:
            data = data.astype(r.dtype)
        if r.kind == "input" or r.kind == "saved":   # a tensor: with its place in the graph, for create_graph
            data = _in_graph(r, data, Tensor)
        _place(inputs, attrs, r, data)
    node.inputs = tuple(inputs)


def _place(inputs, attrs, r, value):
    """Put value where record r says the node reads it: an input, an attribute, or an item of one."""
    if r.kind == "input":
        inputs[r.index] = value
    elif r.kind == "attr":
        attrs[r.key] = value
    else:
        attrs[r.key] = _replace(attrs[r.key], r.index, value)


class _UnpackedLeaf(Function):
    """The unpacked value of a leaf that requires grad, as a node over the leaf: dL/dleaf = g. With create_graph
    the backward formulas build on the unpacked value, and their gradients must reach the leaf itself."""

    @staticmethod
    def forward(ctx, leaf, value):
        return value

    @staticmethod
    def backward(ctx, g):
        return g, None


def _in_graph(r, data, Tensor):
    """The unpacked array as a tensor at the saved tensor's place in the graph."""
    if r.grad_fn is None and r.requires_grad:
        leaf = r.original()
        if leaf is not None and STATE.grad_enabled:
            return _UnpackedLeaf.apply(leaf, Tensor._wrap(data))
    t = Tensor._wrap(data, r.requires_grad, r.grad_fn)
    t._out_idx, t._version = r.out_idx, r.version
    return t


@contextlib.contextmanager
def unpacked(node):
    """The node's saved values unpacked for a while (to call its backward outside a backward pass, as the chain-rule
    trace does), stripped again afterwards."""
    saved = node.out_hooks.get("saved") if node.out_hooks else None
    if saved is None:
        yield
        return
    unpack_node(node, *saved)
    try:
        yield
    finally:
        strip_node(node, saved[0])


def strip_node(node, records):
    """After node's backward with retain_graph=True: drop the unpacked values again, so only the packed ones stay."""
    inputs = list(node.inputs)
    attrs = node.__dict__
    for r in records:
        _place(inputs, attrs, r, r.stripped)
    node.inputs = tuple(inputs)


def _stripped(t):
    """What a node keeps of a packed input: its graph edge over a placeholder array. A leaf that requires grad
    stays itself: the engine accumulates its gradient by identity (and whoever made the leaf holds it anyway)."""
    return t if t.grad_fn is None and t.requires_grad else _edge(t)


def _replace(container, index, value):
    items = list(container)
    items[index] = value
    return items if isinstance(container, list) else tuple(items)
