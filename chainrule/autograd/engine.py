"""The backward sweep: reverse topological order, upstream gradient x local gradient, accumulation.

    1. Seed each root with dL/dL (ones for a scalar) and put its node on a heap ordered newest first.
    2. Pop the newest node: all its consumers are newer, so its upstream gradient is complete. Call its
       backward with that summed gradient, sum each result back to its input's shape (broadcasting), and pass it
       on to the input's node (pushing that node the first time) or accumulate it into a leaf's .grad.

Iterative, never recursive: a 10,000-op chain does not touch Python's recursion limit.
"""
from heapq import heappop, heappush
from weakref import WeakSet, ref

import numpy as np

from ..errors import BackwardError, LinAlgError
from . import buffers, saved_tensors
from .grad_mode import STATE, bump_version

Tensor = None  # set by chainrule.tensor


class PerTensor(dict):
    """id(tensor) -> (weak ref to it, value): a setting kept beside a tensor. Keyed by id and checked against the
    weak ref, as a Tensor's == is elementwise (tensors cannot be dict keys by value) and an id can be reused after
    its tensor is gone; the entry goes when its tensor is garbage-collected."""

    def lookup(self, t, default=None):
        entry = self.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else default

    def put(self, t, value):
        key = id(t)
        self[key] = (ref(t, lambda _, k=key, d=self: d.pop(k, None)), value)

    def discard(self, t):
        entry = self.get(id(t))
        if entry is not None and entry[0]() is t:
            del self[id(t)]


POST_ACCUMULATE = PerTensor()   # leaf -> hooks called with it after its .grad is accumulated


# roots whose backward may overflow by design: a GradScaler-scaled loss, whose float16 gradients turning inf/NaN is
# the signal the scaler acts on (it skips the step and lowers the scale), so NumPy's warnings would only be noise
QUIET_ROOTS = WeakSet()


def post_accumulate_hooks(t):
    """The list of t's post-accumulate hooks, created on first use."""
    hooks = POST_ACCUMULATE.lookup(t)
    if hooks is None:
        hooks = []
        POST_ACCUMULATE.put(t, hooks)
    return hooks


# leaf -> the dtype its gradients are cast to, or None (keep theirs): torch 2.13's Tensor.grad_dtype where it was
# set to something other than the leaf's own dtype (float16 weights with float32 gradients). Empty in the usual
# case, so the sweep asks only `if GRAD_DTYPES`
GRAD_DTYPES = PerTensor()


def grad_dtype(t):
    """The dtype backward casts t's gradient to: its own unless t.grad_dtype was set (None: any dtype)."""
    return GRAD_DTYPES.lookup(t, t._data.dtype)


def set_grad_dtype(t, dtype):
    if dtype is not None and dtype == t._data.dtype:
        GRAD_DTYPES.discard(t)
    else:
        GRAD_DTYPES.put(t, dtype)


def _in_grad_dtype(t, g):
    """A leaf's incoming gradient in its grad_dtype (before its hooks see it, as torch's)."""
    want = grad_dtype(t)
    return g if want is None or g._data.dtype == want else g.to(want)


def sum_to_shape(grad, shape):
    """Undo broadcasting: sum over the axes NumPy added or stretched, so grad gets its input's shape."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1)
    if axes:
        grad = grad.sum(dim=axes, keepdim=True)
    if lead or grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


def _freed_error(node):
    return BackwardError(
        f"{node.name()}: trying to backward through the graph a second time, but its saved values were freed "
        f"after the first backward. Pass retain_graph=True to the first .backward() (or autograd.grad) if you "
        f"need to backward twice, or recompute the forward pass.")


def _apply_hooks(hooks, grad):
    for hook in hooks:
        new = hook(grad)
        if new is not None:
            grad = new
    return grad


def run_backward(roots, root_grads, retain_graph, create_graph, capture=None, consume=False, stop_at=None,
                 accumulate_others=False):
    """Backpropagate from roots. Accumulates into leaves' .grad unless `capture` is given, in which case it is a
    dict {key: None} of leaves (by id) and (node, output index) pairs whose gradient is recorded and returned
    (with accumulate_others, leaves not in it are still accumulated). The sweep does not go past the nodes in
    stop_at (a checkpointed segment's outside inputs: their gradients are captured and handed back instead).
    consume=True empties the lists roots and root_grads once they are read, so that the sweep alone holds them
    (a checkpointed segment's recomputed output and its gradient are freed as soon as the sweep is past them).

    Nodes are processed newest first (by their creation number `seq`, as PyTorch's sequence_nr): every consumer of
    a tensor was created after its producer, so when a node is popped all gradients flowing into it are in."""
    accumulate = capture is None
    leaf_grads = {}
    pending = {}
    heap = []
    for t, g in zip(roots, root_grads):
        node = t.grad_fn
        if node is None:
            _add_leaf(leaf_grads, t, _in_grad_dtype(t, g) if GRAD_DTYPES else g, create_graph)
            continue
        slots = pending.get(node)
        if slots is None:
            slots = pending[node] = [None] * node.n_outputs
            heappush(heap, (-node.seq, node))
        i = t._out_idx
        slots[i] = g if slots[i] is None else _sum_grads(slots[i], g, create_graph)
    t = g = slots = None
    if consume:
        roots.clear()
        root_grads.clear()
    observers = STATE.observers
    for obs in observers:   # a profiler times each node from the previous one's end: give it the start
        start = getattr(obs, "on_backward_start", None)
        if start is not None:
            start()
    prev_mode, outer_callbacks, outer_accumulating = STATE.grad_enabled, STATE.final_callbacks, STATE.accumulating
    STATE.grad_enabled = create_graph
    STATE.accumulating = accumulate or accumulate_others
    STATE.in_backward += 1
    STATE.backward_run += 1
    STATE.final_callbacks = callbacks = []
    try:
        while heap:
            node = heappop(heap)[1]
            grads = pending.pop(node)
            inputs = node.inputs
            if inputs is None:
                raise _freed_error(node)
            hooked = node.out_hooks is not None
            if hooked:
                grads = _before_node(node, grads)
            if capture:
                for i in range(len(grads)):   # no loop variable may keep a gradient alive into backward_consuming
                    if (node, i) in capture:
                        capture[(node, i)] = grads[i]
                if stop_at and node in stop_at:
                    continue
            if node.epoch != STATE.epoch:   # read live: a hook may change a tensor in place mid-sweep
                node.check_versions()
            try:
                if create_graph and node.once_differentiable:
                    from .function import run_once_differentiable
                    grads_in = run_once_differentiable(node.backward, grads, node.name(), inputs)
                elif node.consumes_grads and not (observers or hooked or create_graph):
                    grads_in = node.backward_consuming(grads)   # it empties grads: nothing here keeps them alive
                else:
                    grads_in = node.backward(*grads)
            except np.linalg.LinAlgError as exc:   # a singular matrix met in a backward formula: name the op
                raise LinAlgError.from_numpy(f"{node.name()} (in backward: the gradient formula solves with a "
                                             f"matrix the forward produced)", [g._data for g in grads if g is not None],
                                             exc) from exc
            if type(grads_in) is not tuple:
                grads_in = (grads_in,)
            if hooked and "post" in node.out_hooks:
                grads_in = _after_node(node, grads_in, grads)
            if observers:
                for obs in observers:
                    obs.on_backward(node, grads, grads_in)
            if hooked and "saved" in node.out_hooks:   # saved_tensors_hooks: only the packed values stay
                if retain_graph:
                    saved_tensors.strip_node(node, node.out_hooks["saved"][0])
                else:
                    del node.out_hooks["saved"]
            for t, g, needed in zip(inputs, grads_in, node.needs_input_grad):
                if g is None or not needed:
                    continue
                data, want = g._data, t._data
                if data.shape != want.shape:
                    g = sum_to_shape(g, want.shape)
                fn = t.grad_fn
                if fn is None and GRAD_DTYPES:
                    g = _in_grad_dtype(t, g)
                elif data.dtype != want.dtype:
                    g = g.to(want.dtype)
                if fn is None:   # _add_leaf, inlined (once per edge: the hot path)
                    key = id(t)
                    prev = leaf_grads.get(key)
                    leaf_grads[key] = (t, g) if prev is None else (t, _sum_grads(prev[1], g, create_graph))
                    continue
                slots = pending.get(fn)
                if slots is None:
                    pending[fn] = [g] if fn.n_outputs == 1 else _slots(fn, t._out_idx, g)
                    heappush(heap, (-fn.seq, fn))
                else:
                    j = t._out_idx
                    slots[j] = g if slots[j] is None else _sum_grads(slots[j], g, create_graph)
            if not retain_graph:
                # free what backward needed; a second backward through this node finds inputs None and raises
                node.inputs = None
                node.__dict__.clear()
            # drop this node's inputs and gradients from the frame before the next node runs: a stale reference
            # here would keep an activation alive (a pre-activation nobody else saved, or a checkpoint boundary)
            inputs = grads_in = t = g = data = want = None
        owned = set()
        for t, g in leaf_grads.values():
            hooks = t._hooks
            if hooks:
                g = _apply_hooks(hooks, g)
            if accumulate or accumulate_others and id(t) not in capture:
                _accumulate_into_leaf(t, g, create_graph, owned)
                if POST_ACCUMULATE:
                    for hook in list(POST_ACCUMULATE.lookup(t, ())):
                        hook(t)
            elif id(t) in capture:
                capture[id(t)] = g
        for callback in callbacks:   # queued during this pass (autograd.graph.register_multi_grad_hook)
            callback()
    finally:
        STATE.grad_enabled = prev_mode
        STATE.accumulating = outer_accumulating
        STATE.in_backward -= 1
        STATE.final_callbacks = outer_callbacks
    return capture


def queue_callback(callback):
    """Run callback() when the backward pass now running has finished (torch's engine.queue_callback)."""
    if STATE.final_callbacks is None:
        raise RuntimeError("queue_callback: no backward pass is running")
    STATE.final_callbacks.append(callback)


def _before_node(node, grads):
    """The hooks on this node's outputs: tensor hooks (x.register_hook) per output, then the node's pre-hooks
    (grad_fn.register_prehook), which see and may replace all output gradients. First, what saved_tensors_hooks
    packed is unpacked into the node."""
    saved = node.out_hooks.get("saved")
    if saved is not None:
        saved_tensors.unpack_node(node, *saved)
    for i, hooks in node.out_hooks.items():
        if type(i) is int and grads[i] is not None:
            grads[i] = _apply_hooks(hooks, grads[i])
    for hook in node.out_hooks.get("pre", ()):
        new = hook(tuple(grads))
        if new is not None:
            grads = list(new)
    return grads


def _after_node(node, grads_in, grads_out):
    """grad_fn.register_hook(hook): hook(grad_inputs, grad_outputs) may replace the gradients w.r.t. the inputs."""
    for hook in node.out_hooks["post"]:
        new = hook(grads_in, tuple(grads_out))
        if new is not None:
            grads_in = tuple(new)
    return grads_in


def _sum_grads(a, b, create_graph):
    """Two gradient contributions to the same tensor (it fed two consumers): dL/dx = Σ over consumers."""
    if create_graph:
        return a + b
    total = a._data + b._data
    return Tensor._wrap(total if type(total) is np.ndarray else np.asarray(total))   # 0-d sums come back as scalars


def _slots(fn, idx, g):
    slots = [None] * fn.n_outputs
    slots[idx] = g
    return slots


def _add_leaf(leaf_grads, t, g, create_graph):
    key = id(t)
    prev = leaf_grads.get(key)
    leaf_grads[key] = (t, g) if prev is None else (t, _sum_grads(prev[1], g, STATE.grad_enabled))


def _accumulate_into_leaf(t, g, create_graph, owned):
    if create_graph:
        t._grad = g if t._grad is None else t._grad + g
        return
    data = g._data
    held = t._grad   # (the field, not the .grad property: once per leaf per backward)
    if held is None:
        # the leaf must own its .grad: clip_grad_norm_ and accumulation write into it in place
        if data.base is not None or not data.flags.writeable or id(data) in owned:
            g = Tensor._wrap(buffers.copy_of(data))
        elif g.requires_grad or g._hooks is not None or type(g) is not Tensor:
            g = Tensor._wrap(data)   # a plain tensor of its own; otherwise the fresh gradient tensor itself
        owned.add(id(g._data))
        t._grad = g
    elif held.requires_grad:
        t._grad = Tensor._wrap(held._data + data)
    else:
        np.add(held._data, data, out=held._data)
        held._version = bump_version()
