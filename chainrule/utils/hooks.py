"""Hook stores as torch.utils.hooks keeps them: an ordered dict per kind of hook on its owner, and the handle
whose remove() takes one hook out again. Modules, their state-dict methods and optimizers all register here."""
from collections import OrderedDict


class RemovableHandle:
    """What register_*_hook returns: remove() unregisters the hook (a second remove() does nothing)."""

    def __init__(self, store, key):
        self.store, self.key = store, key

    def remove(self):
        self.store.pop(self.key, None)


def add_hook(store, hook, prepend=False):
    """hook into the ordered store, last (or first, with prepend); -> its handle."""
    key = object()
    store[key] = hook
    if prepend:
        store.move_to_end(key, last=False)
    return RemovableHandle(store, key)


def hook_store(owner, kind):
    """owner's ordered dict of hooks of this kind, made on first use (object.__setattr__: a Module's own
    __setattr__ would file a dict elsewhere)."""
    store = owner.__dict__.get(kind)
    if store is None:
        store = OrderedDict()
        object.__setattr__(owner, kind, store)
    return store
