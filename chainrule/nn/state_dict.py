"""A module's state as torch keeps it: state_dict() and load_state_dict() by dotted name, with torch's hooks around
both (to rename keys of old checkpoints, or to post-process what was loaded) and extra state (a module's
non-tensor settings, through get_extra_state / set_extra_state, under the key `_extra_state`)."""
from collections import OrderedDict

import numpy as np

from ..autograd.grad_mode import bump_version, no_grad, note_write
from ..errors import ShapeError
from ..utils.hooks import add_hook, hook_store
from ..ops._util import as_array

EXTRA_STATE_KEY = "_extra_state"


class _IncompatibleKeys:
    def __init__(self, missing_keys, unexpected_keys):
        self.missing_keys, self.unexpected_keys = missing_keys, unexpected_keys

    def __iter__(self):   # torch's is a named tuple: `missing, unexpected = model.load_state_dict(sd, strict=False)`
        return iter((self.missing_keys, self.unexpected_keys))

    def __repr__(self):
        return "<All keys matched successfully>" if not (self.missing_keys or self.unexpected_keys) else \
            f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


class StateDict:
    """Module's state methods (a base class of nn.Module)."""
    # state entries a checkpoint may lack (older files): loading leaves them as they are, as torch does for
    # BatchNorm's num_batches_tracked
    _optional_state = ()

    def register_state_dict_pre_hook(self, hook):
        """hook(module, prefix, keep_vars), before this module's entries are collected."""
        return add_hook(hook_store(self, "_state_dict_pre_hooks"), hook)

    def register_state_dict_post_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata), after this module's entries (its children's
        included) are in state_dict; it may change state_dict in place."""
        return add_hook(hook_store(self, "_state_dict_post_hooks"), hook)

    def register_load_state_dict_pre_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs),
        before anything is loaded; it may rename or convert entries of state_dict in place (old checkpoints)."""
        return add_hook(hook_store(self, "_load_state_dict_pre_hooks"), hook)

    def register_load_state_dict_post_hook(self, hook):
        """hook(module, incompatible_keys), after loading; it may remove entries from incompatible_keys'
        missing_keys / unexpected_keys before strict=True judges them."""
        return add_hook(hook_store(self, "_load_state_dict_post_hooks"), hook)

    def get_extra_state(self):
        """Override (with set_extra_state) to keep a non-tensor value in the state dict, under `_extra_state`."""
        raise RuntimeError(f"{type(self).__name__}: reached Module.get_extra_state; override it together with "
                           f"set_extra_state to keep extra state")

    def set_extra_state(self, state):
        raise RuntimeError(f"{type(self).__name__}: the state dict has extra state, but set_extra_state is not "
                           f"overridden to take it")

    def _has_extra_state(self):
        return type(self).get_extra_state is not StateDict.get_extra_state

    def _own_entries(self, prefix):
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p, False
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield prefix + name, b, name in self._optional_state

    def _state_entries(self, prefix=""):
        """(key, tensor, optional) in PyTorch's state_dict order: each module's parameters, then its persistent
        buffers, then its children's, depth first. A tensor shared by two modules (tied weights) appears under
        both keys."""
        for module_prefix, m in self._modules_with_prefix(prefix):
            yield from m._own_entries(module_prefix)

    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """The parameters and persistent buffers by dotted name (detached unless keep_vars), in PyTorch's order,
        with each module's extra state after its own tensors."""
        out = OrderedDict() if destination is None else destination
        for hook in hook_store(self, "_state_dict_pre_hooks").values():
            hook(self, prefix, keep_vars)
        for name, t, _ in self._own_entries(prefix):
            out[name] = t if keep_vars else t.detach()
        if self._has_extra_state():
            out[prefix + EXTRA_STATE_KEY] = self.get_extra_state()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=out, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in hook_store(self, "_state_dict_post_hooks").values():
            hook(self, out, prefix, {})
        return out

    def _modules_with_prefix(self, prefix=""):
        """(key prefix, module) for every module path, depth first; a module shared by two paths comes under
        both, as its state entries do."""
        for path, m in self.named_modules(remove_duplicate=False):
            yield (f"{prefix}{path}." if path else prefix), m

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the checkpoint's tensors into this module's (in place), as torch. A shape mismatch is an error
        before anything is loaded; with strict=True, keys missing or unexpected (after the post hooks) are one
        after loading. assign=True makes the checkpoint's tensors the module's own (no copy)."""
        state_dict = OrderedDict(state_dict)
        modules = list(self._modules_with_prefix())
        missing, unexpected, error_msgs = [], [], []
        for prefix, m in modules:
            for hook in hook_store(m, "_load_state_dict_pre_hooks").values():
                hook(m, state_dict, prefix, {}, strict, missing, unexpected, error_msgs)
        entries = list(self._state_entries())
        own = {k: t for k, t, _ in entries}
        extra = {prefix + EXTRA_STATE_KEY: m for prefix, m in modules if m._has_extra_state()}
        missing += [k for k, _, optional in entries if k not in state_dict and not optional]
        missing += [k for k in extra if k not in state_dict]
        unexpected += [k for k in state_dict if k not in own and k not in extra]
        mismatched = [f"{k}: checkpoint {as_array(v).shape} vs model {own[k].shape}" for k, v in state_dict.items()
                      if k in own and as_array(v).shape != own[k].shape]
        if mismatched or error_msgs:
            raise ShapeError(f"load_state_dict for {type(self).__name__}: "
                             + "; ".join([f"shape mismatches [{'; '.join(mismatched)}]"] * bool(mismatched)
                                         + error_msgs)
                             + ". Build the model with the same layer sizes as the saved one")
        if strict and (missing or unexpected) and \
                not any(hook_store(m, "_load_state_dict_post_hooks") for _, m in modules):
            _raise_incompatible(self, missing, unexpected)   # nothing could excuse them: refuse before loading
        with no_grad():
            for k, v in state_dict.items():
                if k in own:
                    if assign:
                        own[k]._data = np.asarray(as_array(v), dtype=own[k].dtype)   # shared; a copy only to cast
                    else:
                        own[k]._data[...] = as_array(v).astype(own[k].dtype, copy=False)
                    own[k]._version = bump_version() if assign else note_write(own[k]._data)
                elif k in extra:
                    extra[k].set_extra_state(v)
        result = _IncompatibleKeys(missing, unexpected)
        for _, m in modules:
            for hook in hook_store(m, "_load_state_dict_post_hooks").values():
                hook(m, result)
        if strict and (result.missing_keys or result.unexpected_keys):
            _raise_incompatible(self, result.missing_keys, result.unexpected_keys)
        return result


def _raise_incompatible(module, missing, unexpected):
    parts = [f"missing keys {missing}"] * bool(missing) + [f"unexpected keys {unexpected}"] * bool(unexpected)
    raise ShapeError(f"load_state_dict for {type(module).__name__}: " + ", ".join(parts) +
                     ". Build the model with the same layer sizes as the saved one, or pass strict=False to skip "
                     "missing/unexpected keys")
