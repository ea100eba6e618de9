"""Forward-mode AD with torch.autograd.forward_ad's interface: dual tensors carry a tangent v, and unpack_dual
returns the output's tangent J·v (a Jacobian-vector product).

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)

chainrule computes J·v from its reverse mode by the double-vjp identity: with u a dummy cotangent,
g(u) = Jᵀu is linear in u, so ∂⟨g(u), v⟩/∂u = Jv. The forward pass is recorded as usual and unpack_dual runs two
backward sweeps (so every op on the path must be twice differentiable, as the registry's gradgrad tests check).
"""
import contextlib
from collections import namedtuple

from .functional import grad as _grad
from .grad_mode import enable_grad

Tensor = None   # set on import of chainrule
_LEVELS = []    # each: {id(dual tensor): (dual tensor, tangent)}
UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


@contextlib.contextmanager
def dual_level():
    """A scope for dual tensors; their tangents are forgotten when it ends."""
    _LEVELS.append({})
    try:
        yield len(_LEVELS) - 1
    finally:
        _LEVELS.pop()


def enter_dual_level():
    _LEVELS.append({})
    return len(_LEVELS) - 1


def exit_dual_level(*, level=None):
    _LEVELS.pop()


def make_dual(tensor, tangent, *, level=None):
    """A tensor equal to `tensor` whose tangent is `tangent` (same shape); results computed from it carry J·v."""
    if not _LEVELS:
        raise RuntimeError("make_dual: no dual level is active; use `with forward_ad.dual_level():`")
    if tangent.shape != tensor.shape:
        raise ValueError(f"make_dual: the tangent's shape {tangent.shape} must equal the primal's {tensor.shape}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"make_dual: forward-mode AD needs a floating primal, got {tensor.dtype}")
    dual = tensor.detach().requires_grad_(True)
    _LEVELS[-1 if level is None else level][id(dual)] = (dual, tangent.detach())
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the tensor's value and J·v with respect to the dual inputs of the level (None when it
    does not depend on any)."""
    duals = list(_LEVELS[-1 if level is None else level].values()) if _LEVELS else []
    own = [d for d in duals if d[0] is tensor]
    if own:
        return UnpackedDualTensor(tensor.detach(), own[0][1])
    if not duals or not tensor.requires_grad:
        return UnpackedDualTensor(tensor.detach(), None)
    with enable_grad():
        u = Tensor._wrap(tensor.detach().numpy() * 0).requires_grad_(True)   # the dummy cotangent
        vjps = _grad(tensor, [d for d, _ in duals], grad_outputs=u, retain_graph=True, create_graph=True,
                     allow_unused=True)
        total = sum((g * v).sum() for g, (_, v) in zip(vjps, duals) if g is not None)
        if not isinstance(total, Tensor) or not total.requires_grad:
            return UnpackedDualTensor(tensor.detach(), Tensor._wrap(tensor.detach().numpy() * 0))   # J·v = 0
        # retain: other outputs of the same forward pass share this graph and may be unpacked after this one
        (jvp,) = _grad(total, [u], retain_graph=True, allow_unused=True, materialize_grads=True)
    return UnpackedDualTensor(tensor.detach(), jvp.detach())
