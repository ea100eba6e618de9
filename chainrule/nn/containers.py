"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from collections import OrderedDict

from ..tensor import Tensor
from .module import Module, _layout
from .parameter import Parameter


class Sequential(Module):
    """Modules applied in order: Sequential(Linear(2, 16), ReLU(), Linear(16, 1))."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for k, m in args[0].items():
                self.add_module(k, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(*mods[idx])
        return mods[idx]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class _ListOfStore:
    """The list methods of ModuleList and ParameterList: items named "0", "1", ... in the Module store named by
    _STORE, added through _add (add_module or register_parameter)."""

    def __init__(self, values=None):
        Module.__init__(self)
        for v in values or []:
            self.append(v)

    def append(self, value):
        self._add(str(len(self)), value)
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, idx):
        items = list(getattr(self, self._STORE).values())
        return type(self)(items[idx]) if isinstance(idx, slice) else items[idx]

    def __len__(self):
        return len(getattr(self, self._STORE))

    def __iter__(self):
        return iter(getattr(self, self._STORE).values())


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

    def __setitem__(self, idx, value):
        self.register_parameter(str(idx % len(self)), value)

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
