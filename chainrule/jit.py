"""torch.jit's decorators for scripts that use them: chainrule has no compiler, so script and trace return the
module or function unchanged (like cr.compile) and run eagerly, where every op is recorded and can be traced
through with cr.explain. Saving TorchScript is refused with the safetensors alternative."""
import functools


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """The module or function itself: it runs eagerly, op by op."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """The module or function itself (no graph is frozen: control flow stays data-dependent)."""
    return func


def trace_module(mod, inputs, *args, **kwargs):
    return mod


def ignore(drop=False, **kwargs):
    """@jit.ignore and @jit.ignore(drop=True): the function unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


def fork(func, *args, **kwargs):
    """Runs func now; wait() returns its result (torch's asynchronous fork, done eagerly)."""
    return _Future(func(*args, **kwargs))


def wait(future):
    return future.result


class _Future:
    def __init__(self, result):
        self.result = result


@functools.wraps(script)
def _refuse(*args, **kwargs):
    raise RuntimeError("chainrule.jit: TorchScript files are not supported; save weights with "
                       "cr.save(model.state_dict(), 'model.safetensors') and rebuild the model in Python")


save = load = _refuse
Final = object
