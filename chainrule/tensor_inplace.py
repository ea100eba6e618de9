"""In-place ops on a Tensor (x.add_(y), x += y, x[i] = v, fill_, copy_, zero_ …), mixed into Tensor. Without grad
they write into the array (its version noted, so a saved copy of the old values is caught in backward); with grad
they record the new value as a node and rebind the tensor to it, as torch's in-place ops do."""
import numpy as np

from .autograd import views
from .autograd.grad_mode import STATE, bump_version, no_grad, note_write
from .errors import DTypeError, InplaceError, ShapeError


def _everywhere(t):
    """The condition of where(True, values, old), which overwrites with a record (made once)."""
    global _ALL
    if _ALL is None:
        _ALL = t._wrap(np.array(True))
    return _ALL


_ALL = None


class InPlaceMethods:
    __slots__ = ()   # Tensor's slots stay the only storage
    def _check_inplace(self, opname, other_requires_grad=False):
        if not self._data.flags.writeable:
            if 0 in self._data.strides and self._data.size > 1:
                raise InplaceError(f"{opname}: more than one element of this tensor (shape {self.shape}) refers to "
                                   f"a single memory location (it was expanded or broadcast), so it cannot be "
                                   f"changed in place; .clone() it first, as in torch")
            raise InplaceError(f"{opname}: this tensor's memory (shape {self.shape}) is read-only (it wraps a "
                               f"read-only NumPy array); .clone() it first")
        if self.grad_fn is None and self.requires_grad and STATE.grad_enabled:
            raise InplaceError(
                f"{opname}: a leaf tensor that requires grad (shape {self.shape}) cannot be changed in place, "
                f"because its gradient would refer to values that no longer exist. Do it under "
                f"`with chainrule.no_grad():` (as optimizers do) or use an out-of-place op.")
        if STATE.grad_enabled:
            views.refuse_no_grad_view(self, opname, other_requires_grad)

    def _stand_in(self, data):
        """This tensor's history (grad_fn, output index, version) over `data`: its old value as the input of the
        node that is about to change it in place."""
        t = self._wrap(data, self.requires_grad, self.grad_fn)
        t._out_idx, t._version = self._out_idx, self._version
        return t

    def _replaced_by(self, out):
        """out, the result of an in-place op with grad on this (stand-in) tensor, as the tensor's new value: it keeps
        the dtype, and stays differentiable as in torch (a result with no gradient, y.eq_(z) or y.logical_not_(),
        becomes where(True, result, old), so the old values get gradient 0)."""
        if out.dtype != self.dtype:
            out = out.to(self.dtype)
        if self.requires_grad and not out.requires_grad:
            from .ops.elementwise import where
            out = where(_everywhere(self), out, self)
        return out

    def _check_result_shape(self, opname, shape):
        if shape != self._data.shape:
            raise ShapeError(f"{opname}: the result has shape {shape} but the tensor being changed in place has "
                             f"shape {self.shape}; in-place ops cannot change a tensor's shape")

    def _inplace(self, opname, result_fn, other=None):
        """x op= y. Without grad it writes into the array; with grad it rebinds x to the new result's node."""
        other_rg = isinstance(other, InPlaceMethods) and other.requires_grad
        self._check_inplace(opname, other_rg)
        if STATE.grad_enabled and (self.requires_grad or other_rg):
            if views.is_shared(self):   # a view, or a base with views: write through the memory (CopySlices)
                return views.inplace_shared(self, opname, result_fn)
            old = self._stand_in(self._data)
            out = old._replaced_by(result_fn(old))
            self._check_result_shape(opname, out.shape)
            self._data, self.grad_fn, self.requires_grad, self._out_idx = (
                out._data, out.grad_fn, out.requires_grad, out._out_idx)
        else:
            with no_grad():
                out = result_fn(self)
            res = out._data
            self._check_result_shape(opname, res.shape)
            if res.dtype != self._data.dtype and not np.can_cast(res.dtype, self._data.dtype, "same_kind"):
                raise DTypeError(f"{opname}: result dtype {res.dtype} can't be cast to the tensor's dtype "
                                 f"{self._data.dtype} in place")
            np.copyto(self._data, res, casting="unsafe")
            self._version = note_write(self._data)
            return self
        self._version = bump_version()
        return self

    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda s: s + (other * alpha if alpha != 1 else other), other)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda s: s - (other * alpha if alpha != 1 else other), other)

    def mul_(self, other):
        return self._inplace("mul_", lambda s: s * other, other)

    def div_(self, other, *, rounding_mode=None):
        if rounding_mode is not None:
            return self._inplace("div_", lambda s: s.div(other, rounding_mode=rounding_mode), other)
        return self._inplace("div_", lambda s: s / other, other)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda s: s ** exponent, exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda s: s.clamp(min, max))

    def __iadd__(self, other):
        return self._inplace("+=", lambda s: s + other, other)

    def __isub__(self, other):
        return self._inplace("-=", lambda s: s - other, other)

    def __imul__(self, other):
        return self._inplace("*=", lambda s: s * other, other)

    def __itruediv__(self, other):
        return self._inplace("/=", lambda s: s / other, other)

    def __ipow__(self, other):
        return self._inplace("**=", lambda s: s ** other, other)

    def __imatmul__(self, other):
        return self._inplace("@=", lambda s: s @ other, other)

    def zero_(self):
        return self._write("zero_", 0)

    def fill_(self, value):
        """Every entry becomes value (a number or a 0-dim tensor). With grad the old values get gradient 0 and a
        tensor value gets the sum of the gradient."""
        if isinstance(value, InPlaceMethods) and value.ndim:
            raise ShapeError(f"fill_: the value must be a number or a 0-dim tensor, got a tensor of shape "
                             f"{value.shape}; use copy_ to copy a tensor")
        return self._write("fill_", value)

    def copy_(self, src, non_blocking=False):
        """The entries of src (broadcast to this tensor's shape, cast to its dtype). With grad the old values get
        gradient 0 and src gets the gradient, summed over broadcast axes."""
        return self._write("copy_", src)

    def _write(self, opname, values, on=None):
        """Overwrite the entries where the bool array `on` holds (every entry when None): recorded as
        where(on, values, old) when grad is on and anything requires it."""
        if STATE.grad_enabled and (self.requires_grad or (isinstance(values, InPlaceMethods) and values.requires_grad)):
            from .ops.elementwise import where
            condition = _everywhere(self) if on is None else self._wrap(on)
            return self._inplace(opname, lambda old: where(condition, values, old), values)
        self._check_inplace(opname)
        arr = values._data if isinstance(values, InPlaceMethods) else np.asarray(values)
        try:
            arr = np.broadcast_to(arr, self._data.shape)
        except ValueError:
            raise ShapeError(f"{opname}: values of shape {tuple(arr.shape)} cannot be broadcast to the tensor's "
                             f"shape {self.shape}") from None
        np.copyto(self._data, arr, casting="unsafe", where=True if on is None else on)
        self._version = note_write(self._data)
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        from .random import _gen
        return self.copy_(_gen(generator).uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        from .random import _gen
        return self.copy_(_gen(generator).normal(mean, std, self.shape))

    def __setitem__(self, index, value):
        from .ops.index import index_put
        self._inplace("__setitem__", lambda s: index_put(s, index, value), value)
