"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
import operator
from collections import OrderedDict

from ..tensor import Tensor
from .module import Module, _layout
from .parameter import Parameter


class _Sequence:
    """The list methods torch's Sequential, ModuleList and ParameterList share, over the Module store named by
    _STORE: items are named "0", "1", ... and renumbered after a deletion or an insertion, as in torch."""

    def _entries(self):
        return getattr(self, self._STORE)

    def _key(self, idx, op):
        n = len(self._entries())
        i = operator.index(idx)
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}.{op}: index {i} is out of range for {n} entries")
        return list(self._entries())[i % n]

    def _renumber(self, values):
        store = self._entries()
        store.clear()
        store.update((str(i), v) for i, v in enumerate(values))

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries().values())

    def __setitem__(self, idx, value):
        self._add(self._key(idx, "__setitem__"), value)

    def __delitem__(self, idx):
        store = self._entries()
        keys = list(store)[idx] if isinstance(idx, slice) else [self._key(idx, "__delitem__")]
        for key in keys:
            del store[key]
        self._renumber(list(store.values()))

    def append(self, value):
        self._add(str(len(self)), value)
        return self

    def extend(self, values):
        for v in list(values):
            self.append(v)
        return self

    def insert(self, index, value):
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {index} is out of range for {n} entries")
        values = list(self._entries().values())
        values.insert(index % (n + 1) if index >= 0 else index + n, value)
        self._add(str(n), value)   # (registers and checks its type) then renumbers in the new order
        self._renumber(values)

    def pop(self, idx=-1):
        value = self[idx]
        del self[idx]
        return value

    def __iadd__(self, other):
        return self.extend(other)

    def __add__(self, other):
        return type(self)(list(self) + list(other))


class Sequential(_Sequence, Module):
    """Modules applied in order: Sequential(Linear(2, 16), ReLU(), Linear(16, 1))."""
    _STORE = "_modules"

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for k, m in args[0].items():
                self.add_module(k, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def _add(self, name, module):
        self.add_module(name, module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):   # keeps the names, as torch's
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx, "__getitem__")]

    def __add__(self, other):
        return Sequential(*self, *other)

    def __mul__(self, times):
        """The same modules repeated (shared, not copies), as torch's."""
        if not isinstance(times, int) or times <= 0:
            raise ValueError(f"Sequential * {times!r}: expects a positive int")
        return Sequential(*(list(self) * times))

    __rmul__ = __mul__

    def __imul__(self, times):
        repeated = (self * times)._modules
        self._renumber(list(repeated.values()))
        return self


class _ListOfStore(_Sequence):
    """ModuleList and ParameterList: built from an iterable, added through _add (add_module or
    register_parameter); a slice is a new list of the same kind, renumbered."""

    def __init__(self, values=None):
        Module.__init__(self)
        for v in values or []:
            self.append(v)

    def __getitem__(self, idx):
        items = list(self._entries().values())
        return type(self)(items[idx]) if isinstance(idx, slice) else self._entries()[self._key(idx, "__getitem__")]


class ModuleList(_ListOfStore, Module):
    _STORE = "_modules"

    def __init__(self, modules=None):
        _ListOfStore.__init__(self, modules)

    def _add(self, name, module):
        self.add_module(name, module)

    def __repr__(self):
        """torch's: a run of equal consecutive entries is one line, `(0-5): 6 x TransformerEncoderLayer(...)`."""
        runs = []   # [first index, last index, repr]
        for i, m in enumerate(self):
            r = repr(m)
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [(f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + r.replace("\n", "\n  ")
                 for a, b, r in runs]
        return _layout(type(self).__name__, [], lines)


class _DictOfStore:
    """The dict methods of ModuleDict and ParameterDict, over the Module store named by _STORE."""

    def __getitem__(self, key):
        return getattr(self, self._STORE)[key]

    def __len__(self):
        return len(getattr(self, self._STORE))

    def __iter__(self):
        return iter(getattr(self, self._STORE))

    def __contains__(self, key):
        return key in getattr(self, self._STORE)

    def keys(self):
        return getattr(self, self._STORE).keys()

    def values(self):
        return getattr(self, self._STORE).values()

    def items(self):
        return getattr(self, self._STORE).items()

    def __delitem__(self, key):
        del getattr(self, self._STORE)[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def clear(self):
        getattr(self, self._STORE).clear()

    def update(self, items):
        for k, v in (items.items() if hasattr(items, "items") else items):
            self[k] = v


class ModuleDict(_DictOfStore, Module):
    _STORE = "_modules"

    def __init__(self, modules=None):
        super().__init__()
        for k, m in (modules or {}).items():
            self.add_module(k, m)

    def __setitem__(self, key, module):
        self.add_module(key, module)


class ParameterList(_ListOfStore, Module):
    """Parameters in a list, registered as "0", "1", ... (so parameters() and state_dict() see them)."""
    _STORE = "_parameters"

    def _add(self, name, value):
        self.register_parameter(name, value)

    def extra_repr(self):
        return _parameter_lines(enumerate(self))


def _parameter_lines(items):
    """torch's extra_repr of ParameterList/Dict: `(k): Parameter containing: [torch.float32 of size 2x3]`."""
    lines = []
    for k, p in items:
        if isinstance(p, Tensor):
            size = "x".join(str(n) for n in p.shape)
            what = "Parameter" if isinstance(p, Parameter) else "Tensor"
            lines.append(f"  ({k}): {what} containing: [chainrule.{p.dtype} of size {size}]")
        else:
            lines.append(f"  ({k}): Object of type: {type(p).__name__}")
    return "\n".join(lines)


class ParameterDict(_DictOfStore, Module):
    """Parameters by name (so parameters() and state_dict() see them)."""
    _STORE = "_parameters"

    def __init__(self, parameters=None):
        super().__init__()
        for k, v in dict(parameters or {}).items():
            self[k] = v

    def __setitem__(self, key, value):
        self.register_parameter(key, value)

    def extra_repr(self):
        return _parameter_lines(self.items())
