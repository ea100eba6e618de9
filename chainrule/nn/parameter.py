"""Parameter: a leaf tensor that a Module registers as learnable."""
import numpy as np

from ..tensor import Tensor, _to_array


def _hold(t, data, what):
    """Make t a leaf over data's array (shared, not copied; an empty float32 array when data is None)."""
    if data is None:
        data = np.zeros(0, np.float32)
    arr = data._data if isinstance(data, Tensor) else _to_array(data, None, what)
    Tensor.__init__(t, arr)
    t._data = arr


class Parameter(Tensor):
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        _hold(self, data, "Parameter")
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __deepcopy__(self, memo):
        """A new Parameter with a copy of the data (and of .grad), as torch's: how layers are cloned
        (nn.TransformerEncoder copies its layer num_layers times)."""
        if id(self) in memo:
            return memo[id(self)]
        new = type(self)(Tensor._wrap(self._data.copy()), self.requires_grad)
        if self.grad is not None:
            new.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = new
        return new

    def __reduce__(self):
        raise TypeError("chainrule parameters are not pickled; use chainrule.save(module.state_dict(), path)")


class Buffer(Tensor):
    """nn.Buffer(data, persistent=True): assigned to a module attribute, it is registered as a buffer (torch ≥ 2.5),
    as register_buffer(name, data, persistent) would; the module keeps a plain tensor."""
    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        _hold(self, data, "Buffer")
        self.persistent = persistent
