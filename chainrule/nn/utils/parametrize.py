"""torch.nn.utils.parametrize: a module's tensor computed from unconstrained parameters, w = f(original), so that
gradient steps on `original` keep w in the set f maps onto (symmetric, positive, unit-norm ...). The chain rule
does the rest: ∂L/∂original = (∂f/∂original)ᵀ ∂L/∂w, through the ops f is written in.

register_parametrization(module, "weight", f) moves the weight to module.parametrizations.weight.original (the
same Parameter object, so an optimizer built before keeps updating it) and makes module.weight a property that
evaluates f; assigning module.weight = X stores f.right_inverse(X) when f has one. The module's class becomes
Parametrized<Class>, its state_dict holds parametrizations.weight.original, as in torch.
"""
import contextlib

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

_CACHE = {}
_CACHE_DEPTH = [0]


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the tensor(s) they start from: `original`, or
    original0, original1, ... when the first one's right_inverse returns several."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        first = modules[0]
        with no_grad():
            new = first.right_inverse(original) if hasattr(first, "right_inverse") else original
        self.is_tensor = isinstance(new, Tensor)
        if self.is_tensor:
            if not unsafe and (new.shape != original.shape or new.dtype != original.dtype):
                raise ValueError(f"register_parametrization: right_inverse must return a tensor of the original's "
                                 f"shape {original.shape} and dtype {original.dtype}, got {new.shape} and {new.dtype}"
                                 f" (pass unsafe=True to allow it)")
            if new is not original:   # torch keeps the Parameter object (optimizers hold it) and sets its data
                original._data = new.detach()._data.astype(original.dtype, copy=True)
            self._store("original", original, original)
        else:
            self.ntensors = len(new)
            for i, t in enumerate(new):
                self._store(f"original{i}", original, t)

    def _store(self, name, original, value):
        """A parameter stays a parameter (the same object when the value is the original), a buffer a buffer."""
        if isinstance(original, Parameter):
            if value is original:
                self.register_parameter(name, original)
            else:
                self.register_parameter(name, Parameter(value.detach(), requires_grad=original.requires_grad))
        else:
            self.register_buffer(name, value.detach())

    def right_inverse(self, value):
        """Store value by inverting the chain back to the original(s): x = f₁⁻¹(f₂⁻¹(... fₙ⁻¹(value)))."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse, "
                                       f"so the parametrized tensor cannot be assigned")
                value = module.right_inverse(value)
            if self.is_tensor:
                if value.shape != self.original.shape:
                    raise ValueError(f"right_inverse returned shape {value.shape}, the original has "
                                     f"{self.original.shape}")
                self.original.copy_(value)
            else:
                for i, t in enumerate(value):
                    getattr(self, f"original{i}").copy_(t)

    def forward(self):
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


def _parametrized_class(module):
    """Swap the module's class for a subclass that can carry properties (torch's Parametrized<Class>)."""
    cls = type(module)
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})


def _add_property(module, name):
    def get(self):
        plist = self.parametrizations[name]
        if _CACHE_DEPTH[0]:
            key = (id(self), name)
            if key not in _CACHE:
                _CACHE[key] = plist()
            return _CACHE[key]
        return plist()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)
    setattr(type(module), name, property(get, set_))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make module.<tensor_name> = parametrization(original); a second call on the same name appends to the
    chain. Unless unsafe, the parametrized tensor must keep the original's shape and dtype."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be an nn.Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            before = getattr(module, tensor_name)
            after = parametrization(before)
            _check_same(before, after, tensor_name, type(parametrization).__name__)
        plist.append(parametrization)
        return module
    original = module._parameters.get(tensor_name, module._buffers.get(tensor_name))
    if not isinstance(original, Tensor):
        raise ValueError(f"register_parametrization: {type(module).__name__} has no parameter or buffer "
                         f"{tensor_name!r}")
    plist = ParametrizationList([parametrization], original, unsafe)
    if not unsafe:
        with no_grad():
            _check_same(original, plist(), tensor_name, type(parametrization).__name__)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _parametrized_class(module)
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = plist
    _add_property(module, tensor_name)
    return module


def _check_same(before, after, name, what):
    if not isinstance(after, Tensor) or after.shape != before.shape or after.dtype != before.dtype:
        got = f"{after.shape} and {after.dtype}" if isinstance(after, Tensor) else type(after).__name__
        raise ValueError(f"register_parametrization: {what} must keep {name}'s shape {before.shape} and dtype "
                         f"{before.dtype}, got {got} (pass unsafe=True to allow it)")


def is_parametrized(module, tensor_name=None):
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Turn module.<tensor_name> back into a plain parameter: its current value (leave_parametrized=True, kept in
    the original Parameter object, so optimizers still hold it) or the stored original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {type(module).__name__} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            original._data = value._data.astype(original.dtype, copy=True)
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: leave_parametrized=False needs a parametrization of one "
                             "tensor; this one has several originals")
        with no_grad():
            value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if plist.original0.requires_grad else value.detach()
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module):
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


@contextlib.contextmanager
def cached():
    """Evaluate each parametrized tensor once inside the block (an RNN's recurrent weight used at every step)."""
    _CACHE_DEPTH[0] += 1
    try:
        yield
    finally:
        _CACHE_DEPTH[0] -= 1
        if not _CACHE_DEPTH[0]:
            _CACHE.clear()
