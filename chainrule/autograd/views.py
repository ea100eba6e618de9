"""In-place ops through views while gradients are recorded (PyTorch's CopySlices).

A view (x[:2], x.T, x.reshape(…), x.diagonal(), …) shares its base's memory, so `v.mul_(2)` must change x as well,
and x's gradient must then route through the mul. An op run with grad enabled whose output shares memory with an
input links the output to the root base (`_base`, with the base's version seen then). A view taken under no_grad
is not linked but marked (`_no_grad_base`): changing it in place with grad would change its base unrecorded, so
that is refused, as torch refuses it. An in-place op with grad on a view, or on a base that has views, then:

    new_base = base with the view's entries replaced by the op's result      (index_put: differentiable)
    the new values are written into the shared memory                        (every view sees them)
    base and view are rebound to new_base's graph                            (view = new_base.flat[positions])

Another view of the same base is refreshed the next time an op reads it: its base's version moved on, so it is
rebound to a gather from the base's current graph. Positions are found from the arrays' byte offsets, so any
strided view works. The refresh check costs one flag test per op until the first such write.
"""
import numpy as np

from ..errors import InplaceError
from .grad_mode import STATE, memory_owner, note_write

Tensor = None   # set by chainrule.tensor


def link_view(out, inputs):
    """out's array shares memory with an input's: make out a view of that input's root base."""
    owner = memory_owner(out._data)
    for t in inputs:
        if memory_owner(t._data) is owner:
            no_grad_base = getattr(t, "_no_grad_base", None)
            if no_grad_base is not None:   # a view of a view taken under no_grad is one too
                out._no_grad_base = no_grad_base
                return
            root = getattr(t, "_base", None)
            root = t if root is None else root
            out._base, out._base_seen = root, root._version
            root._has_views = True
            return


def mark_no_grad_view(out, inputs):
    """out, made under no_grad, shares memory with an input: remember that input's root (see refuse_no_grad_view)."""
    owner = memory_owner(out._data)
    for t in inputs:
        if memory_owner(t._data) is owner:
            root = getattr(t, "_no_grad_base", None)
            if root is None:
                root = getattr(t, "_base", None)
                root = t if root is None else root
            out._no_grad_base = root
            root._has_views = True   # an in-place op on root with grad then writes into the shared memory
            return


def refuse_no_grad_view(t, opname, other_requires_grad):
    """An in-place op with grad on a view taken under no_grad: it would change the base without a record."""
    root = getattr(t, "_no_grad_base", None)
    if root is not None and (root.requires_grad or other_requires_grad):
        raise InplaceError(
            f"{opname}: this tensor (shape {t.shape}) is a view of a tensor of shape {root.shape} taken under no_grad, "
            f"and is being changed in place with grad enabled: the change would reach its base without being "
            f"recorded, so the base's gradient would be wrong. This is ambiguous and refused, as in torch. Put the "
            f"view and the in-place op both inside the no_grad block (the change is not tracked) or both outside "
            f"(it is tracked), or change a .clone().")


def is_shared(t):
    return getattr(t, "_base", None) is not None or getattr(t, "_has_views", False)


def _byte_offsets(a):
    off = np.full(a.shape, a.__array_interface__["data"][0], np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        off += (np.arange(n, dtype=np.int64) * stride).reshape((1,) * axis + (n,) + (1,) * (a.ndim - axis - 1))
    return off


def _positions(view, root):
    """For each element of view, its index in root flattened (row-major), from where both lie in memory."""
    r_off, v_off = _byte_offsets(root).reshape(-1), _byte_offsets(view).reshape(-1)
    order = np.argsort(r_off, kind="stable")
    found = np.searchsorted(r_off[order], v_off)
    ok = found < r_off.size
    idx = order[np.where(ok, found, 0)]
    if not (ok.all() and (r_off[idx] == v_off).all()):
        return None
    return idx


def refresh(t):
    """t is a view whose base changed after t was taken: rebind t to a gather from the base's current graph."""
    root = t._base
    if root._version <= t._base_seen:
        return
    t._base_seen = root._version
    if not (root.requires_grad or t.requires_grad) or memory_owner(t._data) is not memory_owner(root._data):
        return   # nothing to route, or the base was replaced by a new array (t kept the old memory)
    pos = _positions(t._data, root._data)
    if pos is not None:
        _rebind(t, root, pos)


def _rebind(t, root, pos):
    """t's history becomes a gather of its positions from root's current graph (its values are root's memory)."""
    fresh = root.reshape(-1)[Tensor._wrap(pos)].reshape(t.shape)
    t.grad_fn, t.requires_grad, t._out_idx = fresh.grad_fn, fresh.requires_grad, fresh._out_idx
    t._version = t._base_seen = root._version   # nodes that read t before were wired to its old graph: they refuse


def refresh_all(tensors):
    for t in tensors:
        if getattr(t, "_base", None) is not None:
            refresh(t)


def inplace_shared(t, opname, result_fn):
    """t op= … with grad, where t is a view or has views: see the module docstring."""
    root = getattr(t, "_base", None)
    root = t if root is None else root
    if root is not t:
        if root.grad_fn is None and root.requires_grad:
            raise InplaceError(
                f"{opname}: this tensor is a view of a leaf tensor that requires grad (shape {root.shape}), which cannot be "
                f"changed in place: its gradient would refer to values that no longer exist. Do it under "
                f"`with chainrule.no_grad():` or change a .clone().")
        refresh(t)
    old = t._stand_in(t._data.copy())   # a copy of the old values: the memory is overwritten below
    out = old._replaced_by(result_fn(old))
    t._check_result_shape(opname, out.shape)
    if root is t:
        new = out
    else:
        pos = _positions(t._data, root._data)
        if pos is None:
            raise InplaceError(f"{opname}: this view no longer lies in its base's memory (the base was replaced); "
                               f"take the view again before changing it")
        old = root._stand_in(root._data.copy())
        new = old.reshape(-1).index_put((Tensor._wrap(pos),), out.reshape(-1)).reshape(root.shape)
    np.copyto(root._data, new._data, casting="unsafe")
    root.grad_fn, root.requires_grad, root._out_idx = new.grad_fn, new.requires_grad, new._out_idx
    root._version = note_write(root._data)
    STATE.views_written = True
    if root is not t:
        _rebind(t, root, pos)
    return t
