"""Tensor: a NumPy array plus what backprop needs (requires_grad, grad, grad_fn), with PyTorch's names.

Operators and most methods are attached by the op modules in chainrule/ops (one op = one place).
"""
import warnings

import numpy as np

from . import devices as _devices, dtypes
from .autograd import engine, forward_errors, function, views
from .autograd.grad_mode import STATE, bump_version
from .errors import BackwardError, DTypeError, ShapeError
from .tensor_inplace import InPlaceMethods


class Size(tuple):
    """torch.Size: a tensor's dims as a tuple (equal to the plain tuple) with numel(); what Tensor.size() returns."""
    __slots__ = ()

    def numel(self):
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __repr__(self):
        return f"chainrule.Size({list(self)})"


# PRINT_OPTIONS is imported for toplevel.set_printoptions, which changes it
from .printing import PRINT_OPTIONS, tensor_body, with_suffixes  # noqa: E402,F401


class Tensor(InPlaceMethods, dtypes.FloatCasts, dtypes.IntCasts):
    __slots__ = ("_data", "requires_grad", "_grad", "grad_fn", "_out_idx", "_version", "_hooks", "__weakref__",
                 "_base", "_base_seen", "_has_views", "_no_grad_base")   # the last four: set on views and bases only
    __array_ufunc__ = None   # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad=False, dtype=None):
        arr = _to_array(data, dtype, "Tensor")
        if dtype is None and isinstance(data, (list, tuple, int, float)) and arr.dtype.kind in "iub":
            arr = arr.astype(dtypes.get_default_dtype())   # torch.Tensor([1, 2]) is float
        self._data = arr
        self._grad = self.grad_fn = self._hooks = None
        self._out_idx = self._version = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(arr, requires_grad=False, grad_fn=None):
        t = _new(Tensor)
        t._data = arr
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._grad = t._hooks = None
        t._out_idx = t._version = 0
        return t

    @property
    def grad(self):
        """The gradient backward accumulated here (None until then), as torch's .grad. A non-leaf's stays None
        unless it retain_grad(): reading it then warns, as torch's does (a common slip when debugging)."""
        if self._grad is None and self.grad_fn is not None and not self.retains_grad:
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed: backward "
                          "does not fill it in. Call .retain_grad() on this tensor before backward if you want its "
                          "gradient, or read .grad of the leaf tensor (the parameter or input) instead.",
                          UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:   # as torch checks: a wrong shape would broadcast silently in an optimizer step
            if not isinstance(value, Tensor):
                raise TypeError(f".grad: assigned {type(value).__name__}; a gradient is a Tensor or None")
            if value._data.shape != self._data.shape:
                raise ShapeError(f".grad: assigned a gradient of shape {value.shape} to a tensor of shape "
                                 f"{self.shape}; they must match")
            want = self._data.dtype if not engine.GRAD_DTYPES else engine.grad_dtype(self)
            if want is not None and value._data.dtype != want:
                raise DTypeError(f".grad: assigned a gradient of dtype {value.dtype} to a tensor whose gradients are "
                                 f"{want} (its grad_dtype, by default its dtype); cast it first, e.g. "
                                 f"g.to({want}), or set the tensor's grad_dtype (None allows any dtype)")
        self._grad = value

    # ---- what a tensor is ------------------------------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return _devices.CPU

    @property
    def is_cuda(self):
        return False

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        """The values without history, sharing memory (as PyTorch's .data)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = _to_array(value._data if isinstance(value, Tensor) else value, None, "Tensor.data")
        self._version = bump_version()

    def size(self, dim=None):
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    def numel(self):
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a Python scalar, "
                             f"this one has shape {self.shape} ({self._data.size} elements)")
        return self._data.item()

    def numpy(self, *, force=False):
        """The array itself (shared memory); force=True returns a copy of a tensor that requires grad (torch's
        detach().clone() for conversion)."""
        if force:
            return self._data.copy()
        if self.requires_grad:
            raise RuntimeError("numpy(): can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __dlpack__(self, **options):
        """The array as a DLPack capsule (shared memory), for torch.from_dlpack, np.from_dlpack and their kin."""
        if self.requires_grad:
            raise RuntimeError("__dlpack__: can't export a tensor that requires grad (the other library would not "
                               "see its graph); export tensor.detach()")
        return self._data.__dlpack__(**options)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"bool(): a tensor with {self._data.size} elements is ambiguous; "
                               f"use .any() or .all()")
        return bool(self._data)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self):
        arr = self._data
        prefix = "tensor("
        if arr.size == 0:
            body = "[]" if arr.ndim == 1 else f"[], size={arr.shape}"
        else:
            body = tensor_body(arr)
        extras = []
        implied = (dtypes.get_default_dtype(),) if arr.size == 0 else (dtypes.get_default_dtype(), dtypes.int64,
                                                                       dtypes.bool_)   # no values to tell it by
        if arr.dtype not in implied:
            extras.append(f"dtype=chainrule.{arr.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return with_suffixes(prefix + body, extras)

    def __format__(self, spec):
        """f"{loss:.4f}" formats a 0-d tensor's value, as torch does; other tensors take no format spec."""
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    # ---- autograd ------------------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind != "f":
            raise DTypeError(f"requires_grad_: only floating-point tensors can require gradients; this one is "
                             f"{self._data.dtype}. Convert it first, e.g. x.float().requires_grad_()")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False): this tensor is not a leaf; use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        return Tensor._wrap(self._data)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        """Keep .grad on a non-leaf after backward (leaves always keep theirs)."""
        if self.grad_fn is None:
            return
        import weakref
        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                t.grad = grad if grad.requires_grad else Tensor._wrap(grad._data.copy())
        keep.retains_grad = True
        self.register_hook(keep)

    @property
    def retains_grad(self):
        hooks = self._node_hooks()
        return any(getattr(h, "retains_grad", False) for h in hooks)

    def _node_hooks(self):
        if self.grad_fn is None:
            return self._hooks or []
        hooks = self.grad_fn.out_hooks
        return hooks.get(self._out_idx, []) if hooks else []

    def register_hook(self, hook):
        """hook(grad) -> new grad or None, called with this tensor's gradient during backward."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node.out_hooks is None:
                node.out_hooks = {}
            hooks = node.out_hooks.setdefault(self._out_idx, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor), called on a leaf after backward has accumulated its .grad (torch ≥ 2.1): the place to step
        an optimizer per parameter during backward, or to log a gradient once it is complete."""
        if not self.requires_grad or self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors that require grad accumulate "
                               "a .grad; register a hook on a non-leaf with register_hook instead")
        from .autograd import engine
        hooks = engine.post_accumulate_hooks(self)
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagate from this tensor: accumulate d(self)/d(leaf) into every leaf's .grad."""
        if STATE.views_written:
            views.refresh_all((self,))
        if not self.requires_grad:
            raise BackwardError(
                f"backward: this tensor (shape {self.shape}) does not require grad and has no grad_fn, so there "
                f"is nothing to differentiate. Create the inputs with requires_grad=True (or call "
                f".requires_grad_()) and make sure the computation did not run under no_grad().")
        gradient = _root_gradient(self, gradient, "backward")
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            from .autograd.functional import grad as _grad
            ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            grads = _grad([self], ins, [gradient], retain_graph=retain_graph, create_graph=create_graph,
                          allow_unused=True)
            for t, g in zip(ins, grads):
                if g is not None:
                    engine._accumulate_into_leaf(t, g, create_graph, set())
            return
        if engine.QUIET_ROOTS and self in engine.QUIET_ROOTS:
            with np.errstate(over="ignore", invalid="ignore"):
                engine.run_backward([self], [gradient], retain_graph, create_graph)
            return
        engine.run_backward([self], [gradient], retain_graph, create_graph)

    # ---- conversions -----------------------------------------------------------------------------------------
    def to(self, *args, dtype=None, **kwargs):
        """to(dtype), to(device), to(device, dtype) or to(other tensor): a cast, or self when nothing changes
        (a copy even then with copy=True, torch's to(dtype, non_blocking, copy))."""
        dtype = _devices.dtype_of_to(args, kwargs, dtype, "Tensor.to")
        flags = [a for a in args if isinstance(a, bool)]
        copy = kwargs.get("copy", len(flags) > 1 and flags[1])
        from .ops.elementwise import cast
        out = self if dtype is None else cast(self, dtype)
        return out.clone() if copy and out is self else out

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        _devices.check_cpu("cuda", "Tensor.cuda")

    def bool(self):
        return self.to(dtypes.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def contiguous(self, memory_format=None):
        """self if its elements lie in row-major order, else a row-major copy (a differentiable clone). view and
        reshape work on any layout here, so this only matters for code that checks strides or data_ptr."""
        return self if self._data.flags.c_contiguous else self.clone()

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def type(self, dtype=None, non_blocking=False):
        """With no argument the type's name ('chainrule.FloatTensor', as torch's 'torch.FloatTensor'); with a
        dtype, a legacy type (LongTensor) or its name ('torch.LongTensor'), a cast to it."""
        from .legacy_types import legacy_dtype, type_name
        if dtype is None:
            return type_name(self._data.dtype)
        legacy = legacy_dtype(dtype)
        return self.to(legacy if legacy is not None else dtype)


_new = object.__new__


class _HookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _root_gradient(t, gradient, where):
    if gradient is None:
        if t._data.size != 1:
            raise BackwardError(
                f"{where}: grad can be implicitly created only for scalar outputs, but this output has shape "
                f"{t.shape}. Reduce it first (e.g. loss.sum() or loss.mean()), or pass gradient= (a tensor of "
                f"shape {t.shape}) to say how each element weighs.")
        d = t._data
        return Tensor._wrap(np.array(1, d.dtype).reshape(d.shape))   # dL/dL = 1 (np.ones_like costs 5× more)
    g = gradient if isinstance(gradient, Tensor) else Tensor._wrap(np.asarray(gradient, dtype=t._data.dtype))
    if g.shape != t.shape:
        from .errors import ShapeError
        raise ShapeError(f"{where}: gradient has shape {g.shape} but the output has shape {t.shape}; "
                         f"they must match")
    if not g.requires_grad:
        g = Tensor._wrap(np.array(g._data, dtype=t._data.dtype, copy=True))
    return g


def _to_array(data, dtype, where):
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = dtypes.canonical(dtype, where)
    try:
        if isinstance(data, np.ndarray):
            arr = data if dtype is None else data.astype(dtype, copy=False)
        else:
            arr = np.array(data, dtype=dtype)
            if dtype is None and arr.dtype == np.float64 and not _has_numpy(data):
                arr = arr.astype(dtypes.get_default_dtype())
    except (ValueError, TypeError) as exc:
        raise DTypeError(f"{where}: cannot make a tensor from {type(data).__name__}: {exc}") from None
    canon = dtypes.canonical(arr.dtype, where)
    if canon != arr.dtype:
        arr = arr.astype(canon)
    return arr


def _has_numpy(data):
    if isinstance(data, (np.ndarray, np.generic)):
        return True
    if isinstance(data, (list, tuple)) and data:
        return _has_numpy(data[0])
    return False


function.Tensor = Tensor
forward_errors.Tensor = Tensor
views.Tensor = Tensor
engine.Tensor = Tensor
