"""Weight reparameterisations as torch.nn.utils has them: weight_norm and spectral_norm. Each replaces a module's
weight by parameters it is computed from, recomputed by a forward pre-hook before every call, so gradients flow to
those parameters through ordinary ops.

    weight_norm:    w = g · v / ‖v‖, the norm over every dim but `dim` (Salimans & Kingma, 2016);
    spectral_norm:  w = W / σ(W), σ estimated by power iteration on W viewed as a matrix, u and v kept as buffers
                    and updated (without gradient) once per training call (Miyato et al., 2018).
"""
import numpy as np

from ...autograd.grad_mode import no_grad
from ...random import _gen
from ...tensor import Tensor
from ..parameter import Parameter


def _norm_except(v, dim):
    """‖v‖ over every dim but `dim` (keeping dims), or over all of them when dim is None."""
    if dim is None:
        return (v * v).sum().sqrt()
    dims = tuple(i for i in range(v.ndim) if i != dim % v.ndim)
    return (v * v).sum(dim=dims, keepdim=True).sqrt()


def _parameter(module, name, kind):
    w = module._parameters.get(name)
    if not isinstance(w, Parameter):
        raise ValueError(f"{kind}: {type(module).__name__} has no parameter {name!r} (it has "
                         f"{sorted(k for k, v in module._parameters.items() if v is not None)})")
    return w


def weight_norm(module, name="weight", dim=0):
    """Replace module.<name> by <name>_g (its norm, per slice along dim) and <name>_v (its direction), with
    w = g · v / ‖v‖ recomputed before each forward. dim=None normalises the whole tensor."""
    w = _parameter(module, name, "weight_norm")
    with no_grad():
        g = _norm_except(w.detach(), dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(Tensor._wrap(g._data.copy())))
    module.register_parameter(name + "_v", Parameter(Tensor._wrap(w._data.copy())))

    def compute(mod, _inputs):
        v = getattr(mod, name + "_v")
        object.__setattr__(mod, name, v * (getattr(mod, name + "_g") / _norm_except(v, dim)))
    compute(module, None)
    return _install(module, name, "weight_norm", compute)


def remove_weight_norm(module, name="weight"):
    """Fold g · v / ‖v‖ back into a plain parameter <name>."""
    return _fold_back(module, name, "weight_norm", parameters=("_g", "_v"))


def _install(module, name, kind, compute):
    """Recompute module.<name> with compute(module, inputs) before every forward; remembered for remove_<kind>."""
    handle = module.register_forward_pre_hook(compute)
    module.__dict__.setdefault("_reparams", {})[name] = (kind, handle)
    return module


def _fold_back(module, name, kind, parameters=(), buffers=()):
    """Undo _install: drop the hook and the <name><suffix> parameters and buffers, and make the last computed
    <name> a plain parameter again."""
    reparams = module.__dict__.get("_reparams", {})
    if reparams.get(name, (None,))[0] != kind:
        raise ValueError(f"remove_{kind}: {kind} of {name!r} not found in {type(module).__name__}")
    reparams.pop(name)[1].remove()
    w = getattr(module, name).detach()
    module.__dict__.pop(name, None)
    for suffix in parameters:
        del module._parameters[name + suffix]
    for suffix in buffers:
        del module._buffers[name + suffix]
    module.register_parameter(name, Parameter(Tensor._wrap(w._data.copy())))
    return module


def _normalize(a, eps):
    return a / max(float(np.sqrt(a @ a)), eps)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Replace module.<name> by <name>_orig / σ, σ ≈ the largest singular value of <name>_orig as a
    (size along dim, rest) matrix (dim = 1 for transposed convolutions, else 0). u and v are buffers <name>_u,
    <name>_v; each call in training mode first does n_power_iterations steps v ← Wᵀu/‖Wᵀu‖, u ← Wv/‖Wv‖."""
    w = _parameter(module, name, "spectral_norm")
    if n_power_iterations < 0:
        raise ValueError(f"spectral_norm: n_power_iterations must be ≥ 0, got {n_power_iterations}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0

    def matrix(t):
        if dim != 0:
            t = t.movedim(dim, 0)
        return t.reshape(t.shape[0], -1)
    h, rest = matrix(w.detach()).shape
    rng = _gen()
    u0 = _normalize(rng.standard_normal(h), eps).astype(w._data.dtype)
    v0 = _normalize(rng.standard_normal(rest), eps).astype(w._data.dtype)
    del module._parameters[name]
    module.register_parameter(name + "_orig", Parameter(Tensor._wrap(w._data.copy())))
    module.register_buffer(name + "_u", Tensor._wrap(u0))
    module.register_buffer(name + "_v", Tensor._wrap(v0))

    def compute(mod, _inputs):
        orig = getattr(mod, name + "_orig")
        u, v = getattr(mod, name + "_u")._data, getattr(mod, name + "_v")._data
        if mod.training:
            m = matrix(orig.detach())._data
            for _ in range(n_power_iterations):
                v[...] = _normalize(m.T @ u, eps)
                u[...] = _normalize(m @ v, eps)
        uc, vc = Tensor._wrap(u.copy()), Tensor._wrap(v.copy())
        sigma = (uc * (matrix(orig) @ vc)).sum()
        object.__setattr__(mod, name, orig / sigma)
    with no_grad():
        compute(module, None)
    return _install(module, name, "spectral_norm", compute)


def remove_spectral_norm(module, name="weight"):
    """Fold W / σ back into a plain parameter <name> (the σ of the last forward call)."""
    return _fold_back(module, name, "spectral_norm", parameters=("_orig",), buffers=("_u", "_v"))
