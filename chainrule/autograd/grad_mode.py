"""no_grad / enable_grad / set_grad_enabled: context managers and decorators, as in PyTorch.

The flag lives on one small object that every op reads, so checking it costs one attribute lookup.
"""
import functools
import weakref


class _State:
    __slots__ = ("grad_enabled", "anomaly", "observers", "module_path", "epoch", "in_backward", "backward_run",
                 "final_callbacks", "views_written", "accumulating")

    def __init__(self):
        self.grad_enabled = True
        self.anomaly = None      # an AnomalyMode while detect_anomaly() is active
        self.observers = ()      # objects with on_forward(node, out) / on_backward(node, grads_out, grads_in)
        self.module_path = []    # names pushed by nn.Module.__call__, for error messages
        self.in_backward = 0     # > 0 while the engine runs backward formulas
        self.epoch = 0           # counts in-place changes; a tensor's _version is the epoch of its last change
        self.backward_run = 0    # numbers the backward passes (a hook tells passes apart by it)
        self.final_callbacks = None   # run by the engine when the current backward pass has finished
        self.views_written = False    # an in-place op with grad wrote through a view: ops refresh stale views
        self.accumulating = False     # the backward pass running accumulates into .grad (not autograd.grad's)


def bump_version():
    """A tensor is about to change in place: it gets a version newer than every node recorded so far."""
    STATE.epoch += 1
    return STATE.epoch


# In-place writes into memory, by the array that owns it: id(owner) -> (epoch of the last write, a weak reference
# to the owner). Tensors that share memory (views, .detach(), .data, a saved array) are different objects with
# versions of their own, so a write through one is found by the memory it changed (PyTorch shares one version
# counter among views instead). Dead owners are pruned as the table grows.
_WRITES = {}
_PRUNE_AT = [256]


def memory_owner(arr):
    """The object whose memory arr uses: NumPy's .base chain followed to its end (as_strided adds a link)."""
    while True:
        base = getattr(arr, "base", None)
        if base is None:
            return arr
        arr = base


def note_write(arr):
    """arr's memory is about to be (or was just) written in place: returns the new version, and remembers the write
    so that a node which saved any array sharing that memory refuses to backward (see written_since)."""
    STATE.epoch += 1
    owner = memory_owner(arr)
    try:
        ref = weakref.ref(owner)
    except TypeError:   # (bytes and other buffers): kept by id alone; an epoch check can't be fooled by id reuse
        ref = None
    _WRITES[id(owner)] = (STATE.epoch, ref)
    if len(_WRITES) > _PRUNE_AT[0]:
        for key in [k for k, (_, r) in _WRITES.items() if r is not None and r() is None]:
            del _WRITES[key]
        _PRUNE_AT[0] = max(256, 2 * len(_WRITES))
    return STATE.epoch


def written_since(arr, epoch):
    """Whether arr's memory was written in place after `epoch` (through arr or any array sharing its memory). An
    array saved at `epoch` was alive at every later write, so a matching id with a newer epoch is that write."""
    if not _WRITES:
        return False
    owner = memory_owner(arr)
    hit = _WRITES.get(id(owner))
    return hit is not None and hit[0] > epoch and (hit[1] is None or hit[1]() is owner)


STATE = _State()


def is_grad_enabled():
    return STATE.grad_enabled


class set_grad_enabled:
    """Enable or disable gradient recording; usable as a call, a context manager or a decorator."""

    def __init__(self, mode=True):
        self.prev = STATE.grad_enabled
        self.mode = bool(mode)
        STATE.grad_enabled = self.mode

    def __enter__(self):
        STATE.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self.prev

    def __call__(self, fn):
        if type(self) is set_grad_enabled:
            STATE.grad_enabled = self.prev   # used as a decorator: construction must not flip the mode
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(self.mode) if type(self) is set_grad_enabled else type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """Ops inside record no graph: the results do not require grad (inference, parameter updates)."""

    def __init__(self):
        self.prev = STATE.grad_enabled
        self.mode = False

    def __enter__(self):
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = False
        return self


_INFERENCE = [False]


class inference_mode(set_grad_enabled):
    """torch.inference_mode(mode=True): no graph is recorded inside (no_grad), and is_inference_mode_enabled()
    says so; inference_mode(False) leaves recording as it is. Also a decorator, with or without parentheses."""

    def __new__(cls, mode=True):
        if callable(mode):   # @inference_mode on a function
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.inference = bool(mode)
        self.prev = STATE.grad_enabled

    def __enter__(self):
        self.prev, self.prev_inference = STATE.grad_enabled, _INFERENCE[0]
        if self.inference:
            STATE.grad_enabled = False
            _INFERENCE[0] = True
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled, _INFERENCE[0] = self.prev, self.prev_inference

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self.inference):
                return fn(*args, **kwargs)
        return wrapper


def is_inference_mode_enabled():
    return _INFERENCE[0]


class enable_grad(set_grad_enabled):
    """Re-enable recording inside a no_grad block."""

    def __init__(self):
        self.prev = STATE.grad_enabled
        self.mode = True

    def __enter__(self):
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = True
        return self


_MULTITHREADING = [True]


def is_multithreading_enabled():
    """torch's flag for running backward on several threads; chainrule's sweep is one thread either way."""
    return _MULTITHREADING[0]


class set_multithreading_enabled:
    """Context manager / decorator setting is_multithreading_enabled() (torch's switch; chainrule's backward is
    single-threaded whatever it says)."""

    def __init__(self, mode):
        self.prev, self.mode = _MULTITHREADING[0], bool(mode)
        _MULTITHREADING[0] = self.mode

    def __enter__(self):
        _MULTITHREADING[0] = self.mode
        return self

    def __exit__(self, *exc):
        _MULTITHREADING[0] = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with set_multithreading_enabled(self.mode):
                return fn(*args, **kwargs)
        _MULTITHREADING[0] = self.prev   # as a decorator, construction must not change the flag
        return wrapped
