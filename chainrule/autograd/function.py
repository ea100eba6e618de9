"""Graph nodes. An op is a `Op` subclass with forward and backward side by side (Chainer's FunctionNode):

    forward(self, *arrays, **params) -> ndarray      NumPy in, NumPy out; stash on `self` what backward needs
    backward(self, grad) -> grad per input           Tensors in, Tensors out, so that the backward pass is
                                                      itself differentiable (create_graph=True)

The engine owns what every op shares: summing a gradient back over broadcast axes, dtype casts, accumulation,
version checks. So an op's backward is its textbook formula and nothing else.

`Function` is PyTorch's user-facing autograd.Function (static forward(ctx, ...)/backward(ctx, ...) on Tensors).
"""
import functools
import inspect
from itertools import count

import numpy as np
from numpy import asarray, ndarray

from ..errors import InplaceError
from . import views
from .forward_errors import _explain_forward_error, not_a_tensor
from .grad_mode import STATE, no_grad, note_write, written_since

Tensor = None  # set by chainrule.tensor to break the import cycle
_new = object.__new__
_next_seq = count().__next__   # creation order of nodes: the backward sweep runs newest first
_ZERO_BYTES = bytes(16)   # read-only backing for edges' placeholder arrays


class Node:
    """One recorded operation: the grad_fn of its outputs."""
    __slots__ = ("inputs", "needs_input_grad", "epoch", "seq", "out_hooks", "__dict__", "__weakref__")
    n_outputs = 1
    saves_inputs = True   # False for ops whose backward never reads input values (add, reshape ...)
    # positions of inputs whose values only the other inputs' gradients read (z = a·b: dz/da = b, so a serves
    # dz/db alone; z = a/b: a serves dz/db alone), or ALL_INPUTS; such an input is kept as a graph edge when no
    # other input needs a gradient
    read_for_others = ()
    # True for an op whose backward is NumPy on saved values (its partials are constants to autograd): with
    # create_graph=True the engine runs it unrecorded and links its results so that differentiating them raises,
    # naming the op, instead of giving a silently wrong (zero) second derivative. As torch's @once_differentiable.
    once_differentiable = False
    # True for a node whose backward_consuming(grads) takes the engine's list of output gradients and empties it
    # (gradient checkpointing): a nested backward then holds no stale reference to the gradient it started from
    consumes_grads = False

    def name(self):
        return type(self).__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    def register_hook(self, hook):
        """hook(grad_inputs, grad_outputs) -> None or new grad_inputs, after this node's backward (torch's
        Node.register_hook)."""
        return self._add_node_hook("post", hook)

    def register_prehook(self, hook):
        """hook(grad_outputs) -> None or new grad_outputs, before this node's backward."""
        return self._add_node_hook("pre", hook)

    def _add_node_hook(self, kind, hook):
        from ..tensor import _HookHandle
        if self.out_hooks is None:
            self.out_hooks = {}
        hooks = self.out_hooks.setdefault(kind, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    @property
    def next_functions(self):
        if self.inputs is None:
            return ()
        return tuple((t.grad_fn, 0) if t.grad_fn is not None else (None, 0) for t in self.inputs)

    def check_versions(self):
        """An input changed in place after this node's forward: its gradient would be silently wrong.
        Versions are epochs of a global in-place counter, so the common case (nothing changed since) is O(1)."""
        if STATE.epoch == self.epoch or self.epoch is None:
            return
        for i, t in enumerate(self.inputs):
            # an op that never reads its inputs only cares when an in-place op re-routed the graph
            if t._version > self.epoch and (self.saves_inputs or t.grad_fn is not None):
                raise InplaceError(
                    f"{self.name()}: input {i} (shape {t.shape}) was modified by an in-place operation after "
                    f"the forward pass (its version {t._version} is newer than the {self.epoch} {self.name()} "
                    f"recorded), so its gradient would be wrong. Use an out-of-place op (x = x + 1 instead of "
                    f"x += 1) or .clone() the tensor before changing it.")
            if self.saves_inputs and written_since(t._data, self.epoch):
                raise InplaceError(
                    f"{self.name()}: the memory of input {i} (shape {t.shape}) was changed in place after the "
                    f"forward pass, through a tensor that shares it (a view such as x[:2] or x.diagonal(), "
                    f".detach(), .data, or an optimizer step), so its gradient would be wrong. Change a .clone(), "
                    f"or call backward before the change.")
        out = self.__dict__.get("out")
        if type(out) is ndarray and written_since(out, self.epoch):
            raise InplaceError(
                f"{self.name()}: its output (shape {out.shape}), which its backward reads, was changed in place "
                f"after the forward pass, so the gradient would be wrong. Change a .clone() of the output instead.")

    def saved_output(self):
        """The forward result as a Tensor whose grad_fn is this node, so create_graph differentiates through it."""
        if STATE.grad_enabled:
            return Tensor._wrap(self.out, True, self)
        return Tensor._wrap(self.out)


class Op(Node):
    """Base of the built-in ops. Subclasses implement forward on arrays and backward on Tensors."""

    @classmethod
    def apply(cls, *inputs, **params):
        node = _new(cls)
        try:
            n = len(inputs)
            if params:
                data = node.forward(*[t._data for t in inputs], **params)
            elif n == 2:
                data = node.forward(inputs[0]._data, inputs[1]._data)
            elif n == 1:
                data = node.forward(inputs[0]._data)
            else:
                data = node.forward(*[t._data for t in inputs])
        except (ValueError, IndexError, TypeError) as exc:
            raise _explain_forward_error(cls, inputs, exc) from None
        except AttributeError as exc:
            error = not_a_tensor(getattr(cls, "op_name", cls.__name__.lower()), exc, inputs)
            if error is None:
                raise   # not a non-Tensor argument: a real fault, shown as it is
            raise error from None
        if type(data) is not ndarray:
            data = asarray(data)   # NumPy returns scalars for 0-d results; a tensor always holds an array
        out = _new(Tensor)
        out._data = data
        out._grad = out._hooks = None
        out._out_idx = out._version = 0
        out.requires_grad = False
        out.grad_fn = None
        if STATE.grad_enabled:
            if STATE.views_written:   # an in-place op wrote through a view: rebind inputs whose base moved on
                views.refresh_all(inputs)
            if data.base is not None:   # maybe a view of an input (reshape, slicing, transpose …): link it
                views.link_view(out, inputs)
            if n == 1:
                t = inputs[0]
                if t.requires_grad:
                    if t.grad_fn is not None and not cls.saves_inputs:
                        t = _edge(t)
                    node.inputs = (t,)
                    node.needs_input_grad = _ONE_NEEDED
                    _record(node, out)
            elif n == 2:
                a, b = inputs
                if a.requires_grad or b.requires_grad:
                    if not cls.saves_inputs:
                        if a.grad_fn is not None:
                            a = _edge(a)
                        if b.grad_fn is not None:
                            b = _edge(b)
                    elif cls.read_for_others:   # x * c, x / c, x @ W with W frozen: x's values serve no gradient
                        # (_unread_as_edges for two inputs, written out: mul and matmul pass here at every op)
                        if not b.requires_grad:
                            if a.grad_fn is not None and a._data.nbytes >= _KEEP_BELOW and 0 in cls.read_for_others:
                                a = _edge(a)
                        elif not a.requires_grad and b.grad_fn is not None and b._data.nbytes >= _KEEP_BELOW \
                                and 1 in cls.read_for_others:
                            b = _edge(b)
                    node.inputs = (a, b)
                    node.needs_input_grad = (a.requires_grad, b.requires_grad)
                    _record(node, out)
            else:
                for t in inputs:
                    if t.requires_grad:
                        if not cls.saves_inputs:
                            inputs = tuple([_edge(x) if x.grad_fn is not None else x for x in inputs])
                        elif cls.read_for_others:
                            inputs = _unread_as_edges(inputs, cls.read_for_others)
                        node.inputs = inputs
                        node.needs_input_grad = tuple([x.requires_grad for x in inputs])
                        _record(node, out)
                        break
        elif data.base is not None and not STATE.in_backward:   # maybe a view taken under no_grad: mark it
            views.mark_no_grad_view(out, inputs)
        if STATE.observers:
            for obs in STATE.observers:
                obs.on_forward(node, (out,), inputs)
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


_ONE_NEEDED = (True,)
# an input no gradient reads is still kept when it is smaller than this: the edge object that would replace it
# costs more time than the memory it frees is worth
_KEEP_BELOW = 1 << 16
ALL_INPUTS = range(1 << 30)   # read_for_others of ops with any number of operands (einsum)


def _unread_as_edges(inputs, read_for_others):
    """Input k's values are read only for the other inputs' gradients: when none of them needs one, the node keeps
    input k as a graph edge, so its activation can be freed (as torch saves `self` of x * c only if c requires
    grad)."""
    only = None
    for k, x in enumerate(inputs):
        if x.requires_grad:
            if only is not None:   # two need gradients: each one's values serve the other's
                return inputs
            only = k
    x = inputs[only]
    if x.grad_fn is None or only not in read_for_others or x._data.nbytes < _KEEP_BELOW:
        return inputs
    return inputs[:only] + (_edge(x),) + inputs[only + 1:]


def _record(node, out):
    """Make node the grad_fn of out (its inputs and needs_input_grad are set by the caller)."""
    node.epoch = STATE.epoch
    node.seq = _next_seq()
    node.out_hooks = None
    out.requires_grad = True
    out.grad_fn = node


_PLACEHOLDERS = {}   # (shape, dtype) -> a zero-stride view of one shared zero, reused by every edge of that kind


def _edge(t):
    """What a node keeps of an input whose values its backward never reads: the graph edge (producer node,
    output index) plus shape and dtype, over a zero-memory placeholder array. The activation itself can be freed,
    and the edge still points at the producer it had when this op ran, even if the tensor is later changed in
    place."""
    e = _new(Tensor)
    d = t._data
    key = (d.shape, d.dtype)
    placeholder = _PLACEHOLDERS.get(key)
    if placeholder is None:
        if len(_PLACEHOLDERS) > 4096:   # shapes that vary without end (sequence lengths) must not grow this forever
            _PLACEHOLDERS.clear()
        # shape and dtype without memory (10× cheaper than np.broadcast_to); read-only, as it is shared
        placeholder = _PLACEHOLDERS[key] = ndarray(d.shape, d.dtype, _ZERO_BYTES, 0, (0,) * d.ndim)
    e._data = placeholder
    e.requires_grad, e.grad_fn, e._out_idx, e._version = True, t.grad_fn, t._out_idx, t._version
    e._grad = e._hooks = None
    return e


class FunctionCtx(Node):
    """The ctx a user Function sees: save_for_backward, saved_tensors, needs_input_grad, mark_non_differentiable."""

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._saved_versions = tuple(t._version if t is not None else None for t in tensors)
        self._saved_epoch = STATE.epoch

    @property
    def saved_tensors(self):
        saved = self.__dict__.get("_saved", ())
        for i, (t, v) in enumerate(zip(saved, self._saved_versions)):
            if t is not None and (t._version != v or written_since(t._data, self.__dict__.get("_saved_epoch", v))):
                raise InplaceError(
                    f"{self.name()}: saved tensor {i} (shape {t.shape}) was modified in place after forward "
                    f"(version {t._version}, saved at {v}); clone it before changing it.")
        return saved

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        """Declare inputs that forward changed in place (and returns): apply() rebinds each to this node and
        bumps its version, as torch does."""
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    def name(self):
        return self._fn.__name__ + "Backward"

    def backward(self, *grads):
        if self.__dict__.get("_materialize", True):
            grads = tuple(g if g is not None else _zeros_like_output(self, i) for i, g in enumerate(grads))
        per_tensor = self.needs_input_grad
        self.needs_input_grad = self._needs_per_arg   # what the user's backward sees: one flag per argument
        try:
            result = self._fn.backward(self, *grads)
        finally:
            self.needs_input_grad = per_tensor          # what the engine reads: one flag per tensor input
        return self.per_tensor_grads(result)

    def backward_consuming(self, grads):
        """The Function's backward_consuming(ctx, grads), which empties the list grads (Node.consumes_grads)."""
        return self.per_tensor_grads(self._fn.backward_consuming(self, grads))

    def per_tensor_grads(self, result):
        """The user's backward result (one gradient per forward argument) as the engine wants it: one per tensor
        input."""
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != self._n_args:
            raise RuntimeError(f"{self._fn.__name__}.backward returned {len(result)} gradients but forward took "
                               f"{self._n_args} arguments; return one per argument (None for non-tensors).")
        picked = []
        for pos in self._tensor_positions:
            g = result[pos]
            if g is not None and not isinstance(g, Tensor):
                g = Tensor._wrap(asarray(g))
            picked.append(g)
        return tuple(picked)


def _zeros_like_output(ctx, i):
    shape, dtype = ctx._out_meta[i]
    return Tensor._wrap(np.zeros(shape, dtype))


def _rebase_dirty(ctx, cls, tensors, dirty):
    """Inputs changed in place by a Function's forward (ctx.mark_dirty): the node takes a stand-in carrying each
    one's old history as its input, the tensor itself gets a new version (so nodes that saved it refuse to
    backward) and is rebound to this node by apply(). A leaf that requires grad cannot be changed in place."""
    inputs = []
    for t in tensors:
        if id(t) in dirty:
            if STATE.grad_enabled and t.requires_grad and t.grad_fn is None:
                raise InplaceError(f"{cls.__name__}: forward changed a leaf tensor that requires grad in place "
                                   f"(ctx.mark_dirty); clone it first, or run it under no_grad()")
            inputs.append(t._stand_in(t._data))
            t._version = note_write(t._data)
        else:
            inputs.append(t)
    saved = ctx.__dict__.get("_saved")
    if saved:   # a dirty tensor saved in forward is saved as changed: its new version is the expected one
        ctx._saved_versions = tuple(t._version if t is not None else None for t in saved)
    return tuple(inputs)


def once_differentiable(backward):
    """Decorator for a Function's backward written with NumPy or otherwise not differentiable: it runs without
    recording, and a gradient of it (create_graph=True, then backward again) raises instead of being wrong."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        return run_once_differentiable(lambda *gs: backward(ctx, *gs), grads)
    return wrapper


class Function:
    """Define an op with a hand-written backward, as torch.autograd.Function:

        class Exp(cr.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp(); ctx.save_for_backward(y); return y
            @staticmethod
            def backward(ctx, g):
                y, = ctx.saved_tensors; return g * y      # d/dx e^x = e^x

        y = Exp.apply(x)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("Function subclasses implement backward(ctx, *grads)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """torch 2's other style: forward(*args) without ctx, and setup_context(ctx, inputs, output) to save what
        backward needs (inputs: forward's arguments, defaults filled in). Override it to use that style."""
        raise NotImplementedError("setup_context is not overridden: forward takes ctx")

    @classmethod
    def vjp(cls, ctx, *grads):
        """torch's alias of backward."""
        return cls.backward(ctx, *grads)

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx.__new__(FunctionCtx)
        ctx._fn = cls
        separate_setup = cls.setup_context is not Function.setup_context
        if separate_setup:   # as torch: the defaults of forward's signature are bound, so inputs has every argument
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = tuple(args[i] for i in positions)
        if STATE.views_written:
            views.refresh_all(tensors)
        ctx.needs_input_grad = ctx._needs_per_arg = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            if separate_setup:
                result = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, tuple(args), result)
            else:
                result = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(result, tuple)
        outs = (result,) if single else result
        record = STATE.grad_enabled and any(t.requires_grad for t in tensors)
        non_diff = ctx.__dict__.get("_non_diff", set())
        dirty = ctx.__dict__.get("_dirty")
        if dirty:
            tensors = _rebase_dirty(ctx, cls, tensors, dirty)
        wrapped = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                continue
            w = o if dirty and id(o) in dirty else Tensor._wrap(o._data)
            if record and id(o) not in non_diff and o._data.dtype.kind == "f":
                w.requires_grad, w.grad_fn, w._out_idx = True, ctx, i
            wrapped.append(w)
        if record:
            # graph edges only: the node reads its inputs' values through ctx.saved_tensors, so an input it did not
            # save can be freed once the caller lets go of it (as in torch)
            ctx.inputs = tuple([_edge(t) if t.grad_fn is not None else t for t in tensors])
            ctx.needs_input_grad = tuple(t.requires_grad for t in tensors)
            ctx.epoch = None
            ctx.seq = _next_seq()
            ctx.out_hooks = None
            ctx._n_args = len(args)
            ctx._tensor_positions = positions
            ctx._out_meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else ((), None) for o in outs]
            ctx.n_outputs = len(outs)
        if STATE.observers:
            for obs in STATE.observers:
                obs.on_forward(ctx, tuple(w for w in wrapped if isinstance(w, Tensor)), tensors)
        return wrapped[0] if single else tuple(wrapped)


class _DelayedError(Function):
    """Passes once_differentiable's results through, linked to the incoming gradients; differentiating them
    raises (naming the op when one is given)."""

    @staticmethod
    def forward(ctx, n, op_name, *tensors):
        ctx.op_name = op_name
        outs = tuple(Tensor._wrap(t._data) for t in tensors[:n])
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        if ctx.op_name:
            raise NotImplementedError(f"{ctx.op_name}: second derivatives (create_graph=True, then backward through "
                                      f"the gradient) are not implemented; its first derivative is")
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def run_once_differentiable(backward, grads, op_name=None, inputs=()):
    """backward(*grads) run unrecorded; under create_graph its results are linked, through _DelayedError, to what
    they depend on (the tracked grads, and an op's inputs), so that a second derivative raises instead of being
    silently wrong."""
    with no_grad():
        result = backward(*grads)
    tracked = [t for t in (*grads, *inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not (STATE.grad_enabled and tracked):
        return result
    outs = result if isinstance(result, tuple) else (result,)
    present = [o for o in outs if isinstance(o, Tensor)]
    linked = _DelayedError.apply(len(present), op_name, *present, *tracked) if present else ()
    delayed = iter((linked,) if isinstance(linked, Tensor) else linked)
    outs = tuple(next(delayed) if isinstance(o, Tensor) else o for o in outs)
    return outs if isinstance(result, tuple) else outs[0]
