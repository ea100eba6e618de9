"""Numerical integration and differentiation of sampled functions, torch's names: trapezoid (trapz),
cumulative_trapezoid and gradient. All are compositions of registered ops (narrow, arithmetic, sum, cumsum, cat),
so their gradients with respect to the samples are those ops'; spacings and coordinates enter as constants.

    trapezoid:   ∫ y dx ≈ Σᵢ (xᵢ₊₁ - xᵢ)(yᵢ + yᵢ₊₁)/2
    gradient:    f'(xᵢ) ≈ (h₋²f(xᵢ+h₊) - h₊²f(xᵢ-h₋) + (h₊² - h₋²)f(xᵢ)) / (h₋h₊(h₋ + h₊)), which is
                 (f(xᵢ+h) - f(xᵢ-h))/2h on a uniform grid; one-sided differences of order 1 or 2 at the edges
"""
import numpy as np

from ..amp import computed_in_float32
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import one_dim
from .registry import T, register, sample
from .shape import cat

_wrap = Tensor._wrap


def _widths(y, x, dx, axis, name):
    """The interval widths along axis: dx (a number), or the differences of x (1-d along axis, or y's shape)."""
    if x is None:
        return 1.0 if dx is None else dx
    if not isinstance(x, Tensor):
        x = _wrap(np.asarray(x, dtype=y.dtype))
    if x.ndim == 1:
        if x.shape[0] != y.shape[axis]:
            raise ShapeError(f"{name}: x has {x.shape[0]} points but y has {y.shape[axis]} along dim {axis}")
        d = x[1:] - x[:-1]
        return d.reshape(*d.shape, *([1] * (y.ndim - 1 - axis)))
    # x of more dims broadcasts against y (torch's rule): aligned from the right, with y's points along dim
    x_axis = axis - (y.ndim - x.ndim)
    try:
        fits = np.broadcast_shapes(x.shape, y.shape) == y.shape and x_axis >= 0 and x.shape[x_axis] == y.shape[axis]
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{name}: x must be 1-d or broadcast to y's shape {y.shape} with its {y.shape[axis]} "
                         f"points along dim {axis}, got {x.shape}")
    n = x.shape[x_axis]
    return x.narrow(x_axis, 1, n - 1) - x.narrow(x_axis, 0, n - 1)


def _averages(y, axis):
    n = y.shape[axis]
    return (y.narrow(axis, 1, n - 1) + y.narrow(axis, 0, n - 1)) * 0.5


@computed_in_float32
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """∫ y along dim by the trapezoidal rule, with sample points x (1-d, or broadcasting to y) or a uniform spacing dx."""
    axis = one_dim(dim, y.ndim, "trapezoid")
    if y.shape[axis] == 0:
        return y.sum(axis)
    return (_averages(y, axis) * _widths(y, x, dx, axis, "trapezoid")).sum(axis)


@computed_in_float32
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along dim: one fewer entry than y there."""
    axis = one_dim(dim, y.ndim, "cumulative_trapezoid")
    if y.shape[axis] == 0:
        return y
    return (_averages(y, axis) * _widths(y, x, dx, axis, "cumulative_trapezoid")).cumsum(axis)


def _coefficients(h, n, edge_order):
    """Weights (a, b, c) of f[i-1], f[i], f[i+1] for the n points with widths h (n - 1 of them), as NumPy's
    np.gradient: interior second-order central differences, edges of order 1 or 2."""
    h = np.broadcast_to(np.asarray(h, np.float64), (n - 1,))
    h1, h2 = (h[:-1], h[1:]) if (h != h[0]).any() else (h[0], h[0])   # uniform: scalar weights, the middle one 0
    interior = (-h2 / (h1 * (h1 + h2)), (h2 - h1) / (h1 * h2), h1 / (h2 * (h1 + h2)))
    if edge_order == 1:
        left, right = (-1 / h[0], 1 / h[0], 0.0), (0.0, -1 / h[-1], 1 / h[-1])
    else:
        a1, a2 = h[0], h[1]
        left = (-(2 * a1 + a2) / (a1 * (a1 + a2)), (a1 + a2) / (a1 * a2), -a1 / (a2 * (a1 + a2)))
        b1, b2 = h[-2], h[-1]
        right = (b2 / (b1 * (b1 + b2)), -(b1 + b2) / (b1 * b2), (2 * b2 + b1) / (b2 * (b1 + b2)))
    return interior, left, right


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """∂input/∂xₖ estimated by finite differences along each dim in `dim` (all by default): a tuple of tensors
    shaped like input. spacing: one number for every dim, one per dim, or one coordinate tensor per dim."""
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order}")
    spacing = 1 if spacing is None else spacing   # torch's signature spells the default None
    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [one_dim(d, input.ndim, "gradient") for d in dims]
    spacings = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(spacings) != len(dims):
        raise ValueError(f"gradient: {len(spacings)} spacings for {len(dims)} dims; give one per dim or one number")
    out = []
    for axis, s in zip(dims, spacings):
        n = input.shape[axis]
        if n < edge_order + 1:
            raise ValueError(f"gradient: dim {axis} has {n} points; edge_order={edge_order} needs at least "
                             f"{edge_order + 1}")
        if isinstance(s, Tensor) or np.ndim(s):
            coords = np.asarray(s.detach().numpy() if isinstance(s, Tensor) else s, np.float64)
            if coords.shape != (n,):
                raise ShapeError(f"gradient: the coordinates for dim {axis} must be 1-d with {n} points, got "
                                 f"{coords.shape}")
            h = np.diff(coords)
        else:
            h = float(s)
        out.append(_along(input, axis, _coefficients(h, n, edge_order), edge_order))
    return tuple(out)


def _along(f, axis, coefficients, edge_order):
    (a, b, c), left, right = coefficients
    n, shape = f.shape[axis], [1] * f.ndim
    shape[axis] = n - 2
    weights = [_wrap(np.asarray(w, f.dtype).reshape(shape)) if np.ndim(w) else w for w in (a, b, c)]
    # a zero weight (f[i] in a uniform central difference) is left out, not multiplied: NaN·0 would spread a NaN
    middle = sum(f.narrow(axis, i, n - 2) * w for i, w in enumerate(weights) if np.ndim(w) or w != 0)
    k = 3 if edge_order == 2 else 2
    first = sum(f.narrow(axis, i, 1) * float(w) for i, w in enumerate(left[:k]))
    last = sum(f.narrow(axis, n - k + i, 1) * float(w) for i, w in enumerate(right[3 - k:]))
    return cat([first, middle, last], axis)


def _np_cumulative_trapezoid(y, x=None, dx=None, dim=-1):
    y = np.moveaxis(y, dim, -1)
    w = 1.0 if dx is None else dx
    if x is not None:
        w = np.diff(x) if x.ndim == 1 else np.moveaxis(np.diff(x, axis=dim), dim, -1)
    return np.moveaxis(np.cumsum((y[..., 1:] + y[..., :-1]) / 2 * w, -1), -1, dim)


trapezoid = register("trapezoid", ref=lambda y, x=None, dx=None, dim=-1: np.trapezoid(y, x, 1.0 if dx is None else dx, dim),
         samples=[sample(T((3, 5))), sample(T((4, 3)), T((4,), grad=False), dim=0), sample(T((2, 4)), dx=0.5),
                  sample(T((2, 3, 4)), T((2, 3, 4), grad=False), dim=1)])(trapezoid)
cumulative_trapezoid = register("cumulative_trapezoid", ref=_np_cumulative_trapezoid,
         samples=[sample(T((3, 5))), sample(T((4, 3)), T((4,), grad=False), dim=0), sample(T((2, 4)), dx=0.5)])(
    cumulative_trapezoid)
def _np_gradient(f, spacing=1, dim=None, edge_order=1):
    dims = range(f.ndim) if dim is None else [dim]
    spacings = spacing if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    return np.concatenate([np.gradient(f, np.asarray(h), axis=d, edge_order=edge_order).reshape(-1)
                           for d, h in zip(dims, spacings)])


register("gradient", ref=_np_gradient,
         samples=[sample(T((6,))), sample(T((4, 5)), spacing=0.5), sample(T((4, 5)), dim=1, edge_order=2),
                  sample(T((5, 3)), spacing=[[0.0, 0.5, 1.5, 1.7, 3.0]], dim=0),
                  sample(T((5, 3)), spacing=[[0.0, 0.5, 1.5, 1.7, 3.0]], dim=0, edge_order=2)])(
    lambda f, **kw: cat([g.reshape(-1) for g in gradient(f, **kw)]))
