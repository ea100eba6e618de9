"""Lazy modules (torch's LazyLinear, LazyConv2d, LazyBatchNorm1d …): the input size is read from the first batch.

Until then the parameters are UninitializedParameter placeholders. The first forward builds the real layer with
the inferred size (so the initialisation is the real layer's), moves its tensors into the placeholders — the same
Parameter objects, so an optimizer made before the first batch updates them — and the module becomes that layer
(`cls_to_become`), as in torch.
"""
import numpy as np

from .. import dtypes
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .layers import Linear
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .parameter import Parameter
from ..tensor import Tensor


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet; a lazy module fills it in at its first forward."""
    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(np.zeros(0, dtype or dtypes.get_default_dtype()), requires_grad)

    def __repr__(self):
        return "<UninitializedParameter>"

    def materialize(self, shape, device=None, dtype=None):
        """Become a Parameter of this shape (uninitialised values, the placeholder's dtype unless given), as
        torch's; chainrule's lazy layers pass the initialised array itself."""
        if isinstance(shape, np.ndarray):
            self._data = shape
        else:
            self._data = np.empty(tuple(shape) if not isinstance(shape, int) else (shape,),
                                  dtype or self._data.dtype)
        self.__class__ = self.cls_to_become


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (torch's, for lazy modules' running statistics)."""
    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None):
        Tensor.__init__(self, np.zeros(0, dtype or dtypes.get_default_dtype()))

    def __repr__(self):
        return "<UninitializedBuffer>"

    materialize = UninitializedParameter.materialize


def is_lazy(value):
    return isinstance(value, (UninitializedParameter, UninitializedBuffer))


class LazyModuleMixin:
    """torch's mixin for modules whose parameters take their shape from the first input: declare them as
    UninitializedParameter() and implement initialize_parameters(*input), which materializes them
    (p.materialize(shape)) and initialises their values; it runs once, just before the first forward, and then
    the module becomes cls_to_become when that is set. Loading a state dict into a module not yet run takes the
    shapes from the checkpoint."""
    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self.register_load_state_dict_pre_hook(LazyModuleMixin._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self):
        return any(is_lazy(p) for p in list(self._parameters.values()) + list(self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}: a LazyModuleMixin module implements "
                                  f"initialize_parameters(*input) to materialize its parameters")

    def _infer_parameters(self, args, kwargs=None):
        self.initialize_parameters(*args, **(kwargs or {}))
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {type(self).__name__} has not been fully initialized: "
                               f"initialize_parameters left an UninitializedParameter")
        self._finish_lazy()

    def _finish_lazy(self):
        for name in ("_initialize_hook", "_load_hook"):
            handle = self.__dict__.pop(name, None)
            if handle is not None:
                handle.remove()
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        for name, value in list(self._parameters.items()) + list(self._buffers.items()):
            key = prefix + name
            if key in state_dict and is_lazy(value) and not is_lazy(state_dict[key]):
                value.materialize(tuple(state_dict[key].shape))


class _LazyModule(LazyModuleMixin, Module):
    cls_to_become = None
    feature_dim = 1            # where the input holds the size to infer (in_features / channels)
    unbatched_ndim = None      # the ndim of an unbatched input, whose feature dim is 0
    affine_default = None      # norms: whether weight and bias exist without an `affine` argument

    def __init__(self, *args, **kwargs):
        super().__init__()
        self._lazy_args = (args, kwargs)
        if self.affine_default is None:   # Linear and conv: a weight always, a bias unless bias=False
            weight, bias = True, kwargs.get("bias", True)
        else:
            weight = bias = kwargs.get("affine", self.affine_default)
        self.weight = UninitializedParameter() if weight else None
        self.bias = UninitializedParameter() if bias else None

    def initialize_parameters(self, input):
        """Build the real layer for this input's size and take its attributes; the placeholders receive its
        initialised values (those already given values by load_state_dict keep them)."""
        dim = 0 if input.ndim == self.unbatched_ndim else self.feature_dim
        args, kwargs = self._lazy_args
        real = self.cls_to_become(input.shape[dim], *args, **kwargs)
        for name, p in real._parameters.items():
            mine = self._parameters.get(name)
            if is_lazy(mine) and p is not None:
                mine.materialize(p._data)
                mine.requires_grad_(p.requires_grad)
            if mine is not None:
                real._parameters[name] = mine
        training = self.training
        for key, value in real.__dict__.items():
            if key in ("_parameters", "_buffers", "_modules") or not key.startswith("_"):
                self.__dict__[key] = value
        del self.__dict__["_lazy_args"]
        self.train(training)

    def forward(self, input):   # reached only when called as .forward(x), without the pre-hook
        self._infer_parameters((input,))
        return self.forward(input)

    def extra_repr(self):
        """torch's: the real layer's repr with the size still to infer shown as 0."""
        args, kwargs = self._lazy_args
        return self.cls_to_become(0, *args, **kwargs).extra_repr()


def _lazy(name, target, feature_dim, unbatched_ndim, affine_default=None):
    doc = f"{target.__name__} whose input size is inferred from the first batch (torch's {name})."
    return type(name, (_LazyModule,), {"cls_to_become": target, "feature_dim": feature_dim, "__doc__": doc,
                                       "unbatched_ndim": unbatched_ndim, "affine_default": affine_default})


LazyLinear = _lazy("LazyLinear", Linear, -1, None)
LazyConv1d = _lazy("LazyConv1d", Conv1d, 1, 2)
LazyConv2d = _lazy("LazyConv2d", Conv2d, 1, 3)
LazyConv3d = _lazy("LazyConv3d", Conv3d, 1, 4)
LazyConvTranspose1d = _lazy("LazyConvTranspose1d", ConvTranspose1d, 1, 2)
LazyConvTranspose2d = _lazy("LazyConvTranspose2d", ConvTranspose2d, 1, 3)
LazyConvTranspose3d = _lazy("LazyConvTranspose3d", ConvTranspose3d, 1, 4)
LazyBatchNorm1d = _lazy("LazyBatchNorm1d", BatchNorm1d, 1, None, True)
LazyBatchNorm2d = _lazy("LazyBatchNorm2d", BatchNorm2d, 1, None, True)
LazyBatchNorm3d = _lazy("LazyBatchNorm3d", BatchNorm3d, 1, None, True)
LazyInstanceNorm1d = _lazy("LazyInstanceNorm1d", InstanceNorm1d, 1, 2, False)
LazyInstanceNorm2d = _lazy("LazyInstanceNorm2d", InstanceNorm2d, 1, 3, False)
LazyInstanceNorm3d = _lazy("LazyInstanceNorm3d", InstanceNorm3d, 1, 4, False)
