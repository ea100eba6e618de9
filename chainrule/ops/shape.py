"""Shape ops: they move values around without changing them, so each backward moves g back the same way."""
import math

import numpy as np

from .. import dtypes
from ..errors import ShapeError
from ..tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ._util import copied, lift, norm_dim, one_dim
from .registry import T, register, sample, tensor_method

_wrap = Tensor._wrap


def _shape_arg(shape, keyword=None, op=None):
    """Sizes as torch takes them: varargs (2, 3), one sequence ((2, 3)), or by keyword (x.view(size=(2, 3)),
    handed in here as `keyword`)."""
    if keyword is not None:
        if shape:
            raise TypeError(f"{op}: give the sizes positionally or by keyword, not both (got {shape} and {keyword})")
        shape = (keyword,)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


class Reshape(Op):
    """y = x viewed with a new shape;  dL/dx = g reshaped back."""
    saves_inputs = False

    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into "
                             f"{tuple(shape)}; the number of elements must stay the same (use -1 for one dim "
                             f"to be inferred)") from None

    def backward(self, g):
        if not STATE.grad_enabled:
            return _wrap(g._data.reshape(self.shape))
        return g.reshape(self.shape)


def reshape(input, *sizes, shape=None):
    return Reshape.apply(input, shape=_shape_arg(sizes, shape, "reshape"))


@tensor_method("view")
def view(input, *sizes, size=None, dtype=None):
    """x.view(sizes) is reshape; x.view(dtype) reinterprets the bytes, as torch's: the same shape for a dtype of
    the same item size, else the last dim scaled by the ratio of the sizes (it must be contiguous). The bytes of
    another dtype are not a function of x's values, so that view has no gradient."""
    if dtype is None and len(sizes) == 1 and dtypes.is_dtype(sizes[0]):
        dtype, sizes = sizes[0], ()
    if dtype is None:
        return reshape(input, *sizes, shape=size)
    if sizes or size is not None:
        raise TypeError("view: give sizes or a dtype, not both")
    target = dtypes.canonical(dtype)
    if target == input.dtype:
        return _alias(input)
    source = input._data
    if target.itemsize != source.dtype.itemsize:
        if source.ndim == 0 or (source.strides[-1] != source.dtype.itemsize and source.shape[-1] != 1):
            raise ShapeError(f"view: a tensor of shape {input.shape} viewed as {target} (another item size) needs a "
                             f"contiguous last dim; call .contiguous() first")
        if (source.shape[-1] * source.dtype.itemsize) % target.itemsize:
            raise ShapeError(f"view: the last dim {source.shape[-1]} of {source.dtype} does not make a whole number "
                             f"of {target} items")
    return _wrap(source.view(target))


def _alias(input):
    """A new tensor over input's memory, where NumPy would hand back the same array: torch returns a new view
    even when nothing moves (x.view(x.shape), x.permute(0, 1), x.expand(x.shape)), so a hook, requires_grad_ or
    an in-place op on the result is the result's own."""
    return Reshape.apply(input, shape=input.shape)


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    s = start_dim % input.ndim
    e = end_dim % input.ndim
    if s == e:
        return input   # torch's flatten returns the tensor itself here
    shape = input.shape[:s] + (math.prod(input.shape[s:e + 1]),) + input.shape[e + 1:]   # not -1: (0, -1) is
    return reshape(input, shape)                                                        # ambiguous for 0 elements


def squeeze(input, dim=None):
    if dim is None:
        shape = tuple(n for n in input.shape if n != 1)
    else:
        axes = norm_dim(dim, input.ndim, "squeeze")
        shape = tuple(n for i, n in enumerate(input.shape) if not (i in axes and n == 1))
    return reshape(input, shape)


def unsqueeze(input, dim):
    nd = input.ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"unsqueeze: dim {dim} is out of range for a result with {nd} dims")
    d = dim % nd
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


reshape = register("reshape", method="reshape", ref=lambda x, *s: np.reshape(x, _shape_arg(s)),
         samples=[sample(T((3, 4)), 4, 3), sample(T((2, 3, 4)), (6, -1)), sample(T((6,)), (1, 2, 3))])(reshape)
flatten = register("flatten", method="flatten", ref=lambda x, s=0, e=-1: x.reshape(x.shape[:s % x.ndim] + (-1,) + x.shape[e % x.ndim + 1:]),
         samples=[sample(T((2, 3, 4))), sample(T((2, 3, 4)), 1)])(flatten)
squeeze = register("squeeze", method="squeeze", ref=lambda x, dim=None: np.squeeze(x, axis=dim),
         samples=[sample(T((3, 1, 4, 1))), sample(T((3, 1, 4)), 1), sample(T((3, 1, 4)), -2)])(squeeze)
unsqueeze = register("unsqueeze", method="unsqueeze", ref=lambda x, dim: np.expand_dims(x, dim),
         samples=[sample(T((3, 4)), 0), sample(T((3, 4)), -1), sample(T((3, 4)), 1)])(unsqueeze)
tensor_method("view_as", "reshape_as")(lambda self, other: reshape(self, other.shape))


class Permute(Op):
    """y = x with its dims reordered;  dL/dx = g with the inverse order."""
    saves_inputs = False

    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return Permute.apply(g, dims=tuple(inverse))


def permute(input, *order, dims=None):
    dims = _shape_arg(order, dims, "permute")
    if sorted(d % max(input.ndim, 1) for d in dims) != list(range(input.ndim)):
        raise ShapeError(f"permute: dims {dims} are not a permutation of the {input.ndim} dims of shape "
                         f"{input.shape}")
    dims = tuple(d % input.ndim for d in dims)
    if dims == tuple(range(input.ndim)):
        return _alias(input)
    return Permute.apply(input, dims=dims)


def transpose(input, dim0, dim1):
    nd = input.ndim
    if nd < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return _alias(input)
    if nd == 2 and dim0 != dim1 and -2 <= dim0 < 2 and -2 <= dim1 < 2:
        return Permute.apply(input, dims=(1, 0))   # the common case, without validating a permutation
    order = list(range(input.ndim))
    a, b = one_dim(dim0, input.ndim, "transpose"), one_dim(dim1, input.ndim, "transpose")
    order[a], order[b] = order[b], order[a]
    return permute(input, *order)


permute = register("permute", method="permute", ref=lambda x, *d: np.transpose(x, _shape_arg(d)),
         samples=[sample(T((2, 3, 4)), 2, 0, 1), sample(T((2, 3, 4)), (1, 2, 0))])(permute)
transpose = register("transpose", method="transpose", ref=lambda x, a, b: np.swapaxes(x, a, b),
         samples=[sample(T((3, 4)), 0, 1), sample(T((2, 3, 4)), -1, -3)])(transpose)
def _T(self):
    nd = self._data.ndim
    if nd == 2:
        return Permute.apply(self, dims=(1, 0))
    return permute(self, *reversed(range(nd))) if nd > 1 else _alias(self)


def _mT(self):
    nd = self._data.ndim
    if nd < 2:
        raise ShapeError(f"mT: needs a tensor with at least 2 dims, got shape {self.shape}")
    return Permute.apply(self, dims=tuple(range(nd - 2)) + (nd - 1, nd - 2))


Tensor.T = property(_T)
Tensor.mT = property(_mT)


class Expand(Op):
    """y = x broadcast to a larger shape (no copy);  dL/dx = g summed over the broadcast dims (by the engine)."""
    saves_inputs = False

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, g):
        return g


def expand(input, *sizes, size=None, implicit=False):
    shape = _shape_arg(sizes, size, "expand")
    lead = len(shape) - input.ndim
    if lead < 0:
        raise ShapeError(f"expand: target shape {shape} has fewer dims than the tensor's shape {input.shape}")
    full = tuple(input.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(shape))
    if full == input.shape:
        return _alias(input)
    try:
        np.broadcast_shapes(input.shape, full)
    except ValueError:
        raise ShapeError(f"expand: cannot expand shape {input.shape} to {shape}: only dims of size 1 can grow "
                         f"(dims are matched from the right)") from None
    return Expand.apply(input, shape=full)


def _np_expand(x, *shape):
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    return np.broadcast_to(x, [x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape)])


expand = register("expand", method=("expand", "broadcast_to"), ref=_np_expand,
         samples=[sample(T((3, 1)), 3, 4), sample(T((4,)), (2, 3, 4)), sample(T((2, 1, 3)), -1, 5, -1)])(expand)
broadcast_to = expand
tensor_method("expand_as")(lambda self, other: expand(self, other.shape))


class Flip(Op):
    """y = x reversed along dims;  dL/dx = g reversed along the same dims."""
    saves_inputs = False

    def forward(self, x, axes):
        self.axes = axes
        return np.flip(x, axes).copy()   # np.flip is a view: writing into the result must not change x (torch copies)

    def backward(self, g):
        return g.flip(self.axes)


def flip(input, dims):
    return Flip.apply(input, axes=norm_dim(dims, input.ndim, "flip"))


flip = register("flip", method="flip", ref=lambda x, d: np.flip(x, d),
         samples=[sample(T((3, 4)), 0), sample(T((2, 3, 4)), (0, 2))])(flip)


class Cat(Op):
    """y = [x₁; x₂; …] along dim;  dL/dxₖ = the slice of g that xₖ filled."""
    saves_inputs = False

    def forward(self, *xs, axis):
        self.axis = axis
        self.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return np.concatenate(xs, axis=axis)

    def backward(self, g):
        idx = [slice(None)] * g.ndim
        out = []
        for lo, hi in zip(self.bounds[:-1], self.bounds[1:]):
            idx[self.axis] = slice(int(lo), int(hi))
            out.append(g[tuple(idx)])
        return tuple(out)


def concatenate(tensors, axis=0, *, dim=None):
    """torch.concatenate: cat with NumPy's keyword, axis (torch's dim works too)."""
    return cat(tensors, axis if dim is None else dim)


@tensor_method("swapaxes")
def swapaxes(input, axis0, axis1):
    """torch.swapaxes: transpose with NumPy's keywords."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    return transpose(input, dim0, dim1)


def cat(tensors, dim=0):
    tensors = [lift(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    if any(t.shape == (0,) for t in tensors) and any(t.ndim != 1 for t in tensors):
        # torch's legacy rule: an empty (0,) tensor joins anything and is left out (torch.cat([empty, x]))
        tensors = [t for t in tensors if t.shape != (0,)]
    nd = tensors[0].ndim
    d = one_dim(dim, nd, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != nd or t.shape[:d] + t.shape[d + 1:] != tensors[0].shape[:d] + tensors[0].shape[d + 1:]:
            raise ShapeError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape {tensors[0].shape}; "
                             f"all dims except dim {d} must match")
    dt = tensors[0].dtype
    if any(t.dtype != dt for t in tensors):
        from .. import dtypes
        for t in tensors[1:]:
            dt = dtypes.promote(dt, t.dtype)
        tensors = [t.to(dt) for t in tensors]
    return Cat.apply(*tensors, axis=d)


def stack(tensors, dim=0):
    tensors = [lift(t) for t in tensors]
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ShapeError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    """Pieces of split_size_or_sections entries along dim (the last one shorter), or of the listed sizes;
    Tensor.split's keyword for it is split_size, as torch's."""
    if (split_size_or_sections is None) == (split_size is None):
        raise TypeError("split: give the piece size (or sizes) once, positionally or as split_size=")
    split_size_or_sections = split_size if split_size is not None else split_size_or_sections
    d = one_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0 or (size == 0 and n > 0):
            raise ValueError(f"split: split_size must be positive (0 only for an empty dim), got {size} for dim {d} "
                             f"of size {n}")
        if n == 0:
            sizes = [0]          # an empty dim: one empty piece, as torch
        else:
            sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ShapeError(f"split: sections {sizes} sum to {sum(sizes)} but dim {d} has size {n}")
    out, lo = [], 0
    idx = [slice(None)] * tensor.ndim
    for s in sizes:
        idx[d] = slice(lo, lo + s)
        out.append(tensor[tuple(idx)])
        lo += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = input.shape[one_dim(dim, input.ndim, "chunk")]
    if n == 0:   # as torch: `chunks` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, -(-n // chunks), dim)


def unbind(input, dim=0):
    if input.shape[one_dim(dim, input.ndim, "unbind")] == 0:
        return ()
    return tuple(squeeze(p, dim) for p in split(input, 1, dim))


cat = register("cat", ref=lambda xs, dim=0: np.concatenate(xs, axis=dim),
         samples=[sample([T((2, 3)), T((4, 3))]), sample([T((2, 3)), T((2, 1)), T((2, 2))], 1),
                  sample([T((2, 3)), T((2, 3), grad=False)], -1)])(cat)
stack = register("stack", ref=lambda xs, dim=0: np.stack(xs, axis=dim),
         samples=[sample([T((2, 3)), T((2, 3))]), sample([T((2, 3)), T((2, 3)), T((2, 3))], -1)])(stack)
register("split", method="split", ref=lambda x, s, dim=0: np.concatenate(
    [p.ravel() for p in np.split(x, list(range(s, x.shape[dim], s)) if isinstance(s, int) else np.cumsum(s)[:-1], axis=dim)]),
    samples=[sample(T((5, 3)), 2), sample(T((4, 6)), [1, 2, 3], 1)])(
    lambda tensor, s, dim=0: cat([p.reshape(-1) for p in split(tensor, s, dim)]))
Tensor.split = split
tensor_method("chunk")(chunk)
tensor_method("unbind")(unbind)


class Pad(Op):
    """y = x with constant borders;  dL/dx = the interior slice of g."""
    saves_inputs = False

    def forward(self, x, widths, value):
        self.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, constant_values=value)

    def backward(self, g):
        return g[self.inner]


def _pad_by_index(input, pad, mode):
    from .index import index_select
    if len(pad) % 2 or len(pad) // 2 > input.ndim - 1:
        raise ValueError(f"pad: {mode} padding {pad} must have an even length covering at most the last "
                         f"{input.ndim - 1} dims of shape {input.shape} (the first dim is the batch)")
    out = input
    for i in range(len(pad) // 2):
        dim, lo, hi = input.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])
        n = input.shape[dim]
        kept = n - max(-lo, 0) - max(-hi, 0)   # circular wraps what is left after cropping, as torch
        if (mode == "reflect" and max(lo, hi) >= n) or (mode == "circular" and max(lo, hi) > kept) or kept < 0:
            raise ValueError(f"pad: {mode} padding ({lo}, {hi}) does not fit dim {dim} of size {n} (reflect needs "
                             f"padding < size, circular ≤ the size left after cropping; negative padding crops, at "
                             f"most the whole dim)")
        if lo == hi == 0:
            continue
        j = np.arange(-lo, n + hi)   # a negative lo or hi starts or ends inside: it crops
        if mode == "reflect":
            j = np.abs(j)
            j = np.where(j >= n, 2 * (n - 1) - j, j)
        elif mode == "replicate":
            j = np.clip(j, 0, n - 1)
        else:
            start = max(-lo, 0)
            j = start + (np.arange(-max(lo, 0), kept + max(hi, 0)) % max(kept, 1))
        out = index_select(out, dim, Tensor._wrap(j.astype(np.int64)))
    return copied(out, input)


def pad(input, pad, mode="constant", value=None):
    """PyTorch's F.pad: `pad` lists (left, right) pairs starting from the last dim. mode 'constant' fills with
    value (None = 0); 'reflect' mirrors without repeating the edge, 'replicate' repeats it, 'circular' wraps around; those
    three gather the padded positions with index_select, whose backward sums the gradient of every copy back.
    A negative width crops that side instead, as in torch."""
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if mode != "constant":
        return _pad_by_index(input, pad, mode)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding {pad} must have an even length of at most 2×{input.ndim}")
    widths, crop = [(0, 0)] * input.ndim, [slice(None)] * input.ndim
    for i in range(len(pad) // 2):
        dim, lo, hi = input.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])
        if input.shape[dim] + lo + hi < 0:
            raise ValueError(f"pad: padding ({lo}, {hi}) of dim {dim} (size {input.shape[dim]}) crops more than the "
                             f"whole dim")
        widths[dim] = (max(lo, 0), max(hi, 0))
        crop[dim] = slice(max(-lo, 0), input.shape[dim] - max(-hi, 0))
    cropped = input[tuple(crop)] if any(s != slice(None) for s in crop) else input
    return Pad.apply(cropped, widths=tuple(widths), value=0.0 if value is None else value)


def _np_pad(x, p, mode="constant", value=0.0):
    """The reference: np.pad, after cropping the negative widths (torch's order for constant and circular)."""
    w = [(0, 0)] * x.ndim
    for i in range(len(p) // 2):
        d, lo, hi = x.ndim - 1 - i, p[2 * i], p[2 * i + 1]
        x = np.take(x, np.arange(max(-lo, 0), x.shape[d] - max(-hi, 0)), axis=d)
        w[d] = (max(lo, 0), max(hi, 0))
    if mode == "constant":
        return np.pad(x, w, constant_values=value)
    return np.pad(x, w, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])


pad = register("pad", ref=_np_pad, samples=[sample(T((3, 4)), (1, 2)), sample(T((2, 3, 4)), (1, 0, 0, 2), value=1.5),
                                      sample(T((2, 3, 4)), (2, 1, 1, 2), "reflect"),
                                      sample(T((1, 3, 4)), (3, 1), "replicate"),
                                      sample(T((2, 2, 3)), (3, 2, 0, 1), "circular"),
                                      sample(T((2, 3, 5)), (-1, 2, 1, -2), value=0.5),
                                      sample(T((2, 2, 5)), (-2, 3), "circular")])(pad)


class Tri(Op):
    """tril/triu keep one triangle;  dL/dx = the same triangle of g."""
    saves_inputs = False

    def forward(self, x, k, fn):
        self.k, self.fn = k, fn
        return fn(x, k)

    def backward(self, g):
        return Tri.apply(g, k=self.k, fn=self.fn)


def _matrices(input, name):
    if input.ndim < 2:   # NumPy would turn a vector into a matrix; torch refuses it
        raise ShapeError(f"{name}: needs a matrix or a batch of them (at least 2 dims), got shape {input.shape}")
    return input


def tril(input, diagonal=0):
    return Tri.apply(_matrices(input, "tril"), k=diagonal, fn=np.tril)


def triu(input, diagonal=0):
    return Tri.apply(_matrices(input, "triu"), k=diagonal, fn=np.triu)


tril = register("tril", method="tril", ref=lambda x, k=0: np.tril(x, k), samples=[sample(T((4, 4))), sample(T((2, 3, 4)), -1)])(tril)
triu = register("triu", method="triu", ref=lambda x, k=0: np.triu(x, k), samples=[sample(T((4, 4))), sample(T((3, 5)), 1)])(triu)
