"""Tiling and rolling: repeat, repeat_interleave, roll and unflatten, compositions of reshape, expand and
index_select, so their gradients are those ops'."""
import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from ._util import as_array, copied, one_dim
from .registry import T, register, sample
from .shape import _shape_arg, expand, reshape

_wrap = Tensor._wrap


def repeat(input, *sizes, repeats=None):
    """torch's Tensor.repeat (NumPy's tile): sizes[i] copies along dim i. Built as reshape → expand → reshape, so
    dL/dx = g summed over the copies."""
    sizes = _shape_arg(sizes, repeats, "repeat")
    if len(sizes) < input.ndim:
        raise ShapeError(f"repeat: got {len(sizes)} repeat counts for a tensor of shape {input.shape}; give one per "
                         f"dim (extra leading counts add new dims)")
    x = reshape(input, (1,) * (len(sizes) - input.ndim) + input.shape)
    spread = tuple(v for n in x.shape for v in (1, n))
    tiled = tuple(v for r, n in zip(sizes, x.shape) for v in (r, n))
    # the reshapes are views where they can be (all counts 1, or copies only along new leading dims)
    return copied(reshape(expand(reshape(x, spread), tiled), tuple(r * n for r, n in zip(sizes, x.shape))), input)


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Each element repeated `repeats` times in place along dim (the flattened tensor when dim is None):
    [a, b] → [a, a, b, b]. repeats is an int or one count per element; dL/dx sums g over each element's copies.
    output_size, torch's hint of the total length, is checked against it."""
    if dim is None:
        input, dim = reshape(input, -1), 0
    _refuse_0d(input, dim, "repeat_interleave")
    d = one_dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d]
    counts = as_array(repeats)
    if counts.ndim == 0:
        counts = np.full(n, int(counts))
    if counts.shape != (n,) or (counts < 0).any():
        raise ShapeError(f"repeat_interleave: repeats must be one non-negative int or {n} of them (the size of dim "
                         f"{d}), got {counts.tolist()}")
    if output_size is not None and int(counts.sum()) != output_size:
        raise ValueError(f"repeat_interleave: output_size={output_size} but the repeats add up to {int(counts.sum())}")
    from .index import index_select
    return index_select(input, d, _wrap(np.repeat(np.arange(n), counts)))


def roll(input, shifts, dims=None):
    """Elements shifted along dims, wrapping around (those of the flattened tensor when dims is None); as an
    index_select, dL/dx is g rolled back."""
    if dims is None:
        return reshape(roll(reshape(input, -1), shifts, 0), input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: got {len(shifts)} shifts for {len(dims)} dims; give one shift per dim")
    from .index import index_select
    out = input
    for dim in dims:
        _refuse_0d(input, dim, "roll")
    for s, dim in zip(shifts, dims):
        d = one_dim(dim, input.ndim, "roll")
        n = input.shape[d]
        if n and s % n:
            out = index_select(out, d, _wrap((np.arange(n) - s) % n))
    return copied(out, input)   # every shift a multiple of its dim's size: nothing moved


def _refuse_0d(input, dim, name):
    if input.ndim == 0:   # as torch: a 0-d tensor has no dim to run along (dim=None flattens it first)
        raise IndexError(f"{name}: dim {dim} is out of range for a 0-d tensor; pass dim=None (the flattened tensor) "
                         f"or reshape it to (1,)")


def unflatten(input, dim, sizes):
    """dim split into `sizes` (one may be -1): the inverse of flatten."""
    d = one_dim(dim, input.ndim, "unflatten")
    return reshape(input, input.shape[:d] + tuple(sizes) + input.shape[d + 1:])


repeat = register("repeat", method="repeat", ref=lambda x, *s: np.tile(x, _shape_arg(s)),
         samples=[sample(T((2, 3)), 2, 1), sample(T((3,)), (2, 2)), sample(T((2, 1, 3)), 1, 3, 2)])(repeat)
repeat_interleave = register("repeat_interleave", method="repeat_interleave",
         ref=lambda x, r, dim=None: np.repeat(x, r, axis=dim),
         samples=[sample(T((2, 3)), 2), sample(T((2, 3)), 3, 1), sample(T((3, 2)), [1, 0, 2], 0)])(repeat_interleave)
roll = register("roll", method="roll", ref=lambda x, s, dims=None: np.roll(x, s, axis=dims),
         samples=[sample(T((3, 4)), 1), sample(T((3, 4)), -1, 1), sample(T((2, 3, 4)), (1, 2), (0, 2))])(roll)
unflatten = register("unflatten", method="unflatten", ref=lambda x, d, s: x.reshape(x.shape[:d % x.ndim] + tuple(s) + x.shape[d % x.ndim + 1:]),
         samples=[sample(T((2, 6)), 1, (2, 3)), sample(T((6, 2)), 0, (3, -1))])(unflatten)
