"""JAX-style function transforms: grad(f, argnums) returns a function that computes df/dx."""
import numpy as np

from .autograd.functional import grad as _autograd_grad
from .autograd.grad_mode import enable_grad
from .tensor import Tensor


def _prepare(args, argnums):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    args = list(args)
    for i in nums:
        a = args[i]
        if isinstance(a, Tensor) and a.requires_grad:
            continue   # an outer transform differentiates through this one: keep the graph
        data = a._data if isinstance(a, Tensor) else np.asarray(a, dtype=np.float64 if isinstance(a, float) else None)
        if data.dtype.kind != "f":
            data = data.astype(np.float32)
        args[i] = Tensor._wrap(data).requires_grad_(True)
    return args, nums


def value_and_grad(f, argnums=0, has_aux=False):
    """g = value_and_grad(f); (value, df/dx) = g(x, ...). argnums picks the differentiated arguments."""
    def wrapped(*args, **kwargs):
        xs, nums = _prepare(args, argnums)
        with enable_grad():
            out = f(*xs, **kwargs)
        value, aux = (out[0], out[1]) if has_aux else (out, None)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(f"func.grad: f must return a scalar tensor, got {getattr(value, 'shape', type(value))}")
        nested = any(isinstance(args[i], Tensor) and args[i].requires_grad for i in nums)
        gs = _autograd_grad(value, [xs[i] for i in nums], allow_unused=True, materialize_grads=True,
                            create_graph=nested)
        gs = gs[0] if isinstance(argnums, int) else gs
        result = (value if nested else value.detach(), gs)
        return (result, aux) if has_aux else result
    return wrapped


def grad(f, argnums=0, has_aux=False):
    """df/dx as a function: grad(lambda x: (x ** 3).sum())(x) == 3x²; composable: grad(grad(f))."""
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args, **kwargs):
        out = vg(*args, **kwargs)
        return (out[0][1], out[1]) if has_aux else out[1]
    return wrapped
