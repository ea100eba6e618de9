"""Hooks that run for every module, as torch.nn.modules.module.register_module_*_hook: a forward hook that logs
every layer's output, a backward hook that watches every layer's gradients, a registration hook that sees every
parameter as it is created. Each call to a Module runs these before the module's own hooks of the same kind.

    handle = register_module_forward_hook(lambda m, args, out: print(type(m).__name__, out.shape))
    model(x)          # prints one line per layer called
    handle.remove()
"""
from collections import OrderedDict

from ..utils.hooks import add_hook

FORWARD_PRE = OrderedDict()     # hook(module, args) -> None or new args
FORWARD = OrderedDict()         # hook(module, args, output) -> None or new output (with_kwargs: + kwargs)
BACKWARD_PRE = OrderedDict()    # hook(module, grad_output) -> None or new grad_output
BACKWARD = OrderedDict()        # hook(module, grad_input, grad_output) -> None or new grad_input
PARAMETER_REGISTRATION = OrderedDict()   # hook(module, name, param) -> None or the parameter to register instead
BUFFER_REGISTRATION = OrderedDict()      # hook(module, name, buffer) -> None or the buffer to register instead
MODULE_REGISTRATION = OrderedDict()      # hook(module, name, submodule) -> None or the module to register instead


class WithKwargs:
    """A forward (pre-)hook registered with with_kwargs=True: it also receives the call's keyword arguments."""
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


class AlwaysCalled(WithKwargs):
    """A forward hook registered with always_call=True: it runs even when forward raises (with output None)."""
    __slots__ = ("with_kwargs",)

    def __init__(self, fn, with_kwargs):
        super().__init__(fn)
        self.with_kwargs = with_kwargs


def forward_hook_entry(hook, with_kwargs, always_call):
    """How a forward hook is stored: as it is, or wrapped to say it takes kwargs / must always run."""
    if always_call:
        return AlwaysCalled(hook, with_kwargs)
    return WithKwargs(hook) if with_kwargs else hook


def call_forward_hook(hook, module, args, kwargs, output):
    if isinstance(hook, AlwaysCalled):
        return hook.fn(module, args, kwargs, output) if hook.with_kwargs else hook.fn(module, args, output)
    if isinstance(hook, WithKwargs):
        return hook.fn(module, args, kwargs, output)
    return hook(module, args, output)


def register_module_forward_pre_hook(hook):
    """hook(module, args) before every module's forward; it may return new args."""
    return add_hook(FORWARD_PRE, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """hook(module, args, output) after every module's forward (hook(module, args, kwargs, output) with
    with_kwargs); it may return a new output. always_call runs it even when forward raises."""
    return add_hook(FORWARD, forward_hook_entry(hook, with_kwargs, always_call))


def register_module_full_backward_pre_hook(hook):
    """hook(module, grad_output) before the gradient flows into any module; it may return a new grad_output."""
    return add_hook(BACKWARD_PRE, hook)


def register_module_full_backward_hook(hook):
    """hook(module, grad_input, grad_output) once every module's input gradients are computed; it may return a
    new grad_input."""
    return add_hook(BACKWARD, hook)


register_module_backward_hook = register_module_full_backward_hook   # torch's older name


def register_module_parameter_registration_hook(hook):
    """hook(module, name, param) whenever a module registers a parameter; it may return one to use instead."""
    return add_hook(PARAMETER_REGISTRATION, hook)


def register_module_buffer_registration_hook(hook):
    """hook(module, name, buffer) whenever a module registers a buffer; it may return one to use instead."""
    return add_hook(BUFFER_REGISTRATION, hook)


def register_module_module_registration_hook(hook):
    """hook(module, name, submodule) whenever a module registers a submodule; it may return one to use instead."""
    return add_hook(MODULE_REGISTRATION, hook)


def registered(store, module, name, value):
    """value after every registration hook of the store has seen it (each may replace it)."""
    for hook in list(store.values()):
        new = hook(module, name, value)
        if new is not None:
            value = new
    return value
