"""nn.Module: parameters, buffers and submodules registered by attribute, as in PyTorch."""
import functools
import inspect
from collections import OrderedDict
from weakref import ref as _weakref

from .. import devices, dtypes
from ..autograd.grad_mode import STATE
from ..autograd.forward_errors import not_a_tensor
from ..tensor import Tensor
from ..utils.hooks import add_hook, hook_store
from . import backward_hooks, global_hooks
from .global_hooks import FORWARD, FORWARD_PRE, WithKwargs, call_forward_hook, registered
from .parameter import Buffer, Parameter
from .state_dict import StateDict


def _with_factory_kwargs(init):
    """torch's layers take device= and dtype= (`nn.Linear(3, 4, device=dev, dtype=torch.float64)`): an __init__
    that names neither gets both here. The device must be the CPU; the dtype casts the floating parameters and
    buffers once the layer is built. Inits taking **kwargs (activations, pools, lazy layers) pass them on."""
    params = inspect.signature(init).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()) or ("device" in params and "dtype" in params):
        return init
    takes_dtype = "dtype" in params

    @functools.wraps(init)
    def __init__(self, *args, device=None, **kwargs):
        dtype = None if takes_dtype else kwargs.pop("dtype", None)
        if device is not None:
            devices.check_cpu(device, type(self).__name__)
        init(self, *args, **kwargs)
        if dtype is not None:
            self.to(dtype)
    return __init__


_MISSING = object()


def _registered(d, name):
    """The parameter, buffer or submodule `name` from a module's __dict__ d, or _MISSING. Written out rather than
    looped: every layer's forward reads its weights through here."""
    store = d.get("_parameters")
    if store is None:   # before Module.__init__ ran
        return _MISSING
    if name in store:
        return store[name]
    store = d.get("_buffers", ())
    if name in store:
        return store[name]
    store = d.get("_modules", ())
    if name in store:
        return store[name]
    return _MISSING


class Module(StateDict, dtypes.FloatCasts):
    """Base class of all layers. Assigning a Parameter, Module or registered buffer to an attribute registers it."""
    call_super_init = False   # torch's flags: whether Module.__init__ passes arguments on, and the state version
    dump_patches = False

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_path", "")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("chainrule.") and "__init__" in cls.__dict__:
            cls.__init__ = _with_factory_kwargs(cls.__dict__["__init__"])

    # ---- registration ------------------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if isinstance(value, Buffer):
            d["_parameters"].pop(name, None)
            d["_modules"].pop(name, None)
            d.pop(name, None)
            self.register_buffer(name, Tensor._wrap(value._data), value.persistent)
        elif isinstance(value, Parameter):
            d["_modules"].pop(name, None)
            d.pop(name, None)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            d["_parameters"].pop(name, None)
            d.pop(name, None)
            self.add_module(name, value)
        elif name in d["_parameters"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter {name!r} of "
                                f"{type(self).__name__}: wrap it in nn.Parameter, or assign None")
            d["_parameters"][name] = None
        elif name in d["_buffers"]:
            if global_hooks.BUFFER_REGISTRATION and value is not None:
                value = registered(global_hooks.BUFFER_REGISTRATION, self, name, value)
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # reached only after the usual lookup failed: parameters, buffers and submodules live in their own dicts
        # (as torch's)
        value = _registered(self.__dict__, name)
        if value is _MISSING:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return value

    def _own(self, name):
        """self.<name> for a parameter, buffer or submodule, as the usual lookup finds it, without the failed
        instance lookup CPython makes before __getattr__ (~1.3 µs of a Linear call's ~11: layers read their weights
        on every call).
        An instance attribute still shadows it (func.functional_call), and anything else (a parametrization's
        property, a pruned weight's plain attribute) goes through getattr."""
        d = self.__dict__
        if name not in d:
            value = _registered(d, name)
            if value is not _MISSING:
                return value
        return getattr(self, name)

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is None:
            self._parameters[name] = None
            return
        param = param if isinstance(param, Parameter) else Parameter(param)
        if global_hooks.PARAMETER_REGISTRATION:
            param = registered(global_hooks.PARAMETER_REGISTRATION, self, name, param)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that belongs to the module's state but is not trained (running statistics, masks).
        persistent=False keeps it out of state_dict(), as in PyTorch (a causal mask rebuilt from the config)."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: the name must be a non-empty string without '.', got {name!r}")
        if name not in self._buffers and (name in self._parameters or name in self._modules
                                          or name in self.__dict__):
            raise KeyError(f"register_buffer: attribute {name!r} already exists on {type(self).__name__}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: cannot assign {type(tensor).__name__} to buffer {name!r} (a Tensor "
                            f"or None is required)")
        if global_hooks.BUFFER_REGISTRATION and tensor is not None:
            tensor = registered(global_hooks.BUFFER_REGISTRATION, self, name, tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        if global_hooks.MODULE_REGISTRATION and module is not None:
            module = registered(global_hooks.MODULE_REGISTRATION, self, name, module)
        self._modules[name] = module

    register_module = add_module

    # ---- traversal --------------------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted path, module) for this module and every submodule; a module reached twice is listed once
        unless remove_duplicate=False."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def get_submodule(self, target):
        """The submodule at a dotted path ("encoder.layers.0"); "" is the module itself."""
        m = self
        for i, name in enumerate(target.split(".") if target else []):
            child = m._modules.get(name)
            if child is None:
                raise AttributeError(f"get_submodule: {type(m).__name__} at {'.'.join(target.split('.')[:i]) or '(root)'!r} "
                                     f"has no submodule {name!r} (it has {list(m._modules)})")
            m = child
        return m

    def get_parameter(self, target):
        """The parameter at a dotted path ("encoder.layers.0.weight")."""
        return self._get_entry(target, "_parameters", "get_parameter", "parameter")

    def get_buffer(self, target):
        """The buffer at a dotted path ("bn.running_mean")."""
        return self._get_entry(target, "_buffers", "get_buffer", "buffer")

    def _get_entry(self, target, store, name_of_call, kind):
        path, _, name = target.rpartition(".")
        owner = self.get_submodule(path)
        entries = getattr(owner, store)
        if name not in entries:
            raise AttributeError(f"{name_of_call}: {type(owner).__name__} has no {kind} {name!r} (it has "
                                 f"{list(entries)})")
        return entries[name]

    def modules(self, remove_duplicate=True):
        for _, m in self.named_modules(remove_duplicate=remove_duplicate):
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        """(dotted name, value) of the store's entries here and below; a value reached twice (a shared layer, tied
        weights) once unless remove_duplicate is false, as torch."""
        seen = set()
        mods = self.named_modules(remove_duplicate=remove_duplicate) if recurse else [("", self)]
        for mp, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or remove_duplicate and id(v) in seen:
                    continue
                seen.add(id(v))
                yield ".".join(x for x in (prefix, mp, name) if x), v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes, grads, dtype -----------------------------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._data[...] = 0

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, **kwargs):
        """to(dtype), to(device) or to(device, dtype): parameters and buffers cast in place; the CPU is the only
        device."""
        dtype = devices.dtype_of_to(args, kwargs, dtype, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        dtype = dtypes.canonical(dtype, f"{type(self).__name__}.to")
        for m in self.modules():
            for name, p in m._parameters.items():
                if p is not None and p.dtype.kind == "f":
                    p._data = p._data.astype(dtype)
                    if p.grad is not None:
                        p.grad = Tensor._wrap(p.grad._data.astype(dtype))
            for name, b in m._buffers.items():
                if b is not None and b.dtype.kind == "f":
                    b._data = b._data.astype(dtype)
        return self

    def cpu(self):
        return self

    def share_memory(self):
        """A no-op: chainrule trains in one process (torch moves the tensors to shared memory for workers)."""
        return self

    def to_empty(self, *, device=None, recurse=True):
        """Parameters and buffers on `device` with uninitialised values (torch's materialisation of meta
        modules); on the CPU they are already there, so the module is returned as it is."""
        if device is not None:
            devices.check_cpu(device, f"{type(self).__name__}.to_empty")
        return self

    def cuda(self, device=None):
        devices.check_cpu("cuda", f"{type(self).__name__}.cuda")

    def xpu(self, device=None):
        devices.check_cpu("xpu", f"{type(self).__name__}.xpu")

    def ipu(self, device=None):
        devices.check_cpu("ipu", f"{type(self).__name__}.ipu")

    def mtia(self, device=None):
        devices.check_cpu("mtia", f"{type(self).__name__}.mtia")

    def bfloat16(self):
        return self.to(dtypes.bfloat16)   # a DTypeError naming float16 as what to use

    def type(self, dst_type):
        """Every parameter and buffer cast to dst_type (a dtype), as torch's Module.type."""
        return self.to(dst_type)

    def compile(self, *args, **kwargs):
        """torch's in-place torch.compile: chainrule runs eagerly, so the module stays as it is."""
        return None

    def set_submodule(self, target, module, strict=False):
        """Put `module` at the dotted path `target` ("encoder.layers.0"), replacing what is there; with
        strict=True the path must already hold a module."""
        if not target:
            raise ValueError("set_submodule: target must name a submodule, got ''")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not isinstance(parent._modules.get(name), Module):
            raise AttributeError(f"set_submodule: {type(parent).__name__} has no submodule {name!r} to replace "
                                 f"(strict=True)")
        if not isinstance(module, Module):
            raise TypeError(f"set_submodule: {module!r} is not a Module")
        parent.add_module(name, module)

    # ---- calling -------------------------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args; with_kwargs: hook(module, args, kwargs) -> None or
        (args, kwargs). prepend runs it before the hooks already registered."""
        return add_hook(self._forward_pre_hooks, WithKwargs(hook) if with_kwargs else hook, prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) -> None or a new output; with_kwargs: hook(module, args, kwargs, output).
        always_call runs it even when forward raises (with output None), before the error propagates."""
        return add_hook(self._forward_hooks, global_hooks.forward_hook_entry(hook, with_kwargs, always_call), prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) -> new grad_input or None, once the gradients with respect to
        this call's tensor inputs are computed (see nn/backward_hooks.py)."""
        return add_hook(self._backward_hooks, hook, prepend)

    register_backward_hook = register_full_backward_hook

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) -> new grad_output or None, before the gradient flows into the module."""
        return add_hook(hook_store(self, "_backward_pre_hooks"), hook, prepend)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        if FORWARD_PRE or self._forward_pre_hooks:
            args, kwargs = self._run_forward_pre_hooks(args, kwargs)
        call = None
        if (self._backward_hooks or self.__dict__.get("_backward_pre_hooks") or global_hooks.BACKWARD
                or global_hooks.BACKWARD_PRE) and STATE.grad_enabled:
            args, call = backward_hooks.enter(self, args)
        forward_hooks = list(FORWARD.values()) + list(self._forward_hooks.values()) \
            if FORWARD or self._forward_hooks else ()
        try:
            if STATE.observers:   # only while anomaly detection / tracing listens: keep the module path for messages
                STATE.module_path.append(self)
                try:
                    out = self.forward(*args, **kwargs)
                finally:
                    STATE.module_path.pop()
            else:
                out = self.forward(*args, **kwargs)
        except Exception as exc:
            for hook in forward_hooks:
                if isinstance(hook, global_hooks.AlwaysCalled):
                    call_forward_hook(hook, self, args, kwargs, None)
            if isinstance(exc, (AttributeError, TypeError, ValueError)):   # model(a NumPy array): name the module
                error = not_a_tensor(type(self).__name__, exc, args, kwargs)
                if error is not None:
                    raise error from None
            raise
        for hook in forward_hooks:
            new = call_forward_hook(hook, self, args, kwargs, out)
            if new is not None:
                out = new
        if call is not None:
            out = backward_hooks.leave(call, out)
        node = out.grad_fn if isinstance(out, Tensor) else None
        # for diagnose.missing_grads: was grad on, and which node did this call produce (weakly held)
        self.__dict__["_last_call"] = (STATE.grad_enabled, _weakref(node) if node is not None else None)
        return out

    def _run_forward_pre_hooks(self, args, kwargs):
        """The global pre-hooks, then the module's: each may replace args (or args and kwargs, with_kwargs)."""
        for hook in list(FORWARD_PRE.values()) + list(self._forward_pre_hooks.values()):
            if isinstance(hook, WithKwargs):
                new = hook.fn(self, args, kwargs)
                if new is not None:
                    if not (isinstance(new, tuple) and len(new) == 2):
                        raise RuntimeError(f"forward pre-hook {hook.fn!r} registered with_kwargs=True must "
                                           f"return None or an (args, kwargs) tuple, got {type(new).__name__}")
                    args, kwargs = new
                continue
            new = hook(self, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        return args, kwargs

    # ---- repr ----------------------------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        """torch's layout: a one-line extra_repr inside the parentheses; otherwise its lines, then one line per
        submodule, each indented."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        return _layout(type(self).__name__, extra_lines, child_lines)

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules) + list(self._buffers)


def _layout(name, extra_lines, child_lines):
    lines = extra_lines + child_lines
    if not lines:
        return name + "()"
    if len(extra_lines) == 1 and not child_lines:
        return f"{name}({extra_lines[0]})"
    return name + "(\n  " + "\n  ".join(lines) + "\n)"


def module_paths(root, prefix="model"):
    """Give every submodule its dotted path (model.3.linear) for error messages."""
    for name, m in root.named_modules():
        object.__setattr__(m, "_path", f"{prefix}.{name}" if name else prefix)
