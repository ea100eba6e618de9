"""Pruning (torch.nn.utils.prune): zero part of a parameter through a mask, w = w_orig ⊙ mask.

Pruning `weight` moves the parameter to `weight_orig`, adds a buffer `weight_mask` and recomputes `weight` before
every forward call (a forward pre-hook), so the gradient reaching weight_orig is g ⊙ mask: pruned entries get
none and stay pruned while training. Pruning the same tensor again prunes among the entries still alive (torch's
PruningContainer). remove() makes it permanent: `weight` becomes a parameter again, holding w_orig ⊙ mask.
"""
import numpy as np

from ...autograd.grad_mode import no_grad
from ...random import _gen
from ...tensor import Tensor
from ..parameter import Parameter
from ...ops._util import as_array

_wrap = Tensor._wrap


def _count(amount, n, name):
    """Units to prune: an int count, or a float fraction of n (rounded as torch rounds)."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
        raise ValueError(f"{name}: amount must be a non-negative int or a float in [0, 1], got {amount!r}")
    if isinstance(amount, float):
        if amount > 1:
            raise ValueError(f"{name}: a fractional amount must lie in [0, 1], got {amount}")
        return int(round(amount * n))
    if amount > n:
        raise ValueError(f"{name}: cannot prune {amount} units out of {n}")
    return amount


class BasePruningMethod:
    """A rule for a mask; compute_mask(importance, default_mask) returns the new mask (NumPy, 0/1)."""
    PRUNING_TYPE = "unstructured"

    def __call__(self, module, inputs):
        name = self._tensor_name
        with no_grad():
            mask = getattr(module, name + "_mask")
        # the product is recorded (weight_orig requires grad), so gradients reach weight_orig masked
        object.__setattr__(module, name, getattr(module, name + "_orig") * mask)

    def compute_mask(self, importance, default_mask):
        raise NotImplementedError

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        method = cls(*args, **kwargs)
        method._tensor_name = name
        previous = _pruning_hook(module, name)
        if previous is not None:
            key, old = previous
            del module._forward_pre_hooks[key]
            orig, mask = module._parameters[name + "_orig"], module._buffers[name + "_mask"]._data
        else:
            orig = module._parameters.get(name)
            if not isinstance(orig, Parameter):
                raise ValueError(f"prune: {type(module).__name__} has no parameter {name!r} (it has "
                                 f"{sorted(k for k, v in module._parameters.items() if v is not None)})")
            mask = np.ones(orig.shape, orig._data.dtype)
        scores = orig._data if importance_scores is None else np.asarray(
            importance_scores._data if isinstance(importance_scores, Tensor) else importance_scores)
        if scores.shape != orig.shape:
            raise ValueError(f"prune: importance_scores must have the parameter's shape {orig.shape}, got "
                             f"{scores.shape}")
        new_mask = method._combine(scores, mask) if previous is not None else method.compute_mask(scores, mask)
        if previous is None:
            del module._parameters[name]
            module.register_parameter(name + "_orig", orig)
            module.register_buffer(name + "_mask", _wrap(new_mask.astype(orig._data.dtype)))
        else:
            module._buffers[name + "_mask"]._data = new_mask.astype(orig._data.dtype)
        module.register_forward_pre_hook(method)
        method(module, None)
        return method

    def _combine(self, scores, mask):
        """Prune among the entries still alive: unstructured methods count the remaining entries, structured
        ones the remaining channels."""
        alive = mask != 0
        if self.PRUNING_TYPE == "global":   # a mask given whole: it applies on top of the old one
            return self.compute_mask(scores, mask)
        if self.PRUNING_TYPE == "unstructured":
            partial = self.compute_mask(scores[alive], np.ones(int(alive.sum()), mask.dtype))
            out = np.zeros_like(mask)
            out[alive] = partial
            return out
        dim = self.dim % mask.ndim
        other = tuple(d for d in range(mask.ndim) if d != dim)
        channels = alive.any(axis=other) if other else alive
        sub = np.compress(channels, scores, axis=dim)
        partial = self.compute_mask(sub, np.ones(sub.shape, mask.dtype))
        out = np.zeros_like(mask)
        index = [slice(None)] * mask.ndim
        index[dim] = np.flatnonzero(channels)
        out[tuple(index)] = partial
        return out * mask

    def remove(self, module):
        name = self._tensor_name
        with no_grad():
            weight = getattr(module, name + "_orig") * getattr(module, name + "_mask")
        orig = module._parameters.pop(name + "_orig")
        del module._buffers[name + "_mask"]
        module.__dict__.pop(name, None)
        orig._data = weight._data
        module.register_parameter(name, orig)


def _pruning_hook(module, name):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            return key, hook
    return None


class Identity(BasePruningMethod):
    def compute_mask(self, importance, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    def __init__(self, amount):
        self.amount = amount

    def compute_mask(self, importance, default_mask):
        k = _count(self.amount, importance.size, "random_unstructured")
        mask = default_mask.copy().reshape(-1)
        mask[_gen(None).permutation(importance.size)[:k]] = 0
        return mask.reshape(default_mask.shape)


class L1Unstructured(BasePruningMethod):
    """Zero the `amount` entries of smallest magnitude."""

    def __init__(self, amount, importance_scores=None):
        self.amount = amount

    def compute_mask(self, importance, default_mask):
        k = _count(self.amount, importance.size, "l1_unstructured")
        mask = default_mask.copy().reshape(-1)
        mask[np.argsort(np.abs(importance).reshape(-1), kind="stable")[:k]] = 0
        return mask.reshape(default_mask.shape)


class LnStructured(BasePruningMethod):
    """Zero the `amount` slices along dim with the smallest Lₙ norm (n = 1, 2, inf, …)."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, importance, default_mask):
        dim = self.dim % importance.ndim
        k = _count(self.amount, importance.shape[dim], "ln_structured")
        flat = np.moveaxis(importance, dim, 0).reshape(importance.shape[dim], -1)
        norms = np.linalg.norm(flat, ord=self.n if self.n != "fro" else 2, axis=1)
        drop = np.argsort(norms, kind="stable")[:k]
        keep = np.ones(importance.shape[dim], default_mask.dtype)
        keep[drop] = 0
        shape = [1] * importance.ndim
        shape[dim] = -1
        return default_mask * keep.reshape(shape)


class RandomStructured(BasePruningMethod):
    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        self.amount, self.dim = amount, dim

    def compute_mask(self, importance, default_mask):
        dim = self.dim % importance.ndim
        k = _count(self.amount, importance.shape[dim], "random_structured")
        keep = np.ones(importance.shape[dim], default_mask.dtype)
        keep[_gen(None).permutation(importance.shape[dim])[:k]] = 0
        shape = [1] * importance.ndim
        shape[dim] = -1
        return default_mask * keep.reshape(shape)


class CustomFromMask(BasePruningMethod):
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = as_array(mask)

    def compute_mask(self, importance, default_mask):
        if self.mask.shape != default_mask.shape:
            raise ValueError(f"custom_from_mask: the mask has shape {self.mask.shape}, the tensor "
                             f"{default_mask.shape}")
        return default_mask * self.mask


def identity(module, name):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Zero the `amount` (a count, or a fraction) entries of module.<name> with the smallest |w|."""
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Zero the `amount` slices along dim (output channels for dim=0) with the smallest Lₙ norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune across several tensors at once: the `amount` smallest entries of all of them together, so layers
    lose different fractions. parameters: (module, name) pairs."""
    parameters = list(parameters)
    pieces = []
    for module, name in parameters:
        hooked = _pruning_hook(module, name)
        tensor = module._parameters[name + "_orig"] if hooked else module._parameters[name]
        mask = module._buffers[name + "_mask"]._data if hooked else np.ones(tensor.shape, tensor._data.dtype)
        scores = (importance_scores or {}).get((module, name), tensor)
        pieces.append((as_array(scores).reshape(-1),
                       mask.reshape(-1)))
    scores = np.concatenate([s for s, _ in pieces])
    alive = np.concatenate([m for _, m in pieces])
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError("global_unstructured: only unstructured methods (L1Unstructured, RandomUnstructured) apply")
    live = alive != 0
    combined = np.zeros_like(alive)
    combined[live] = method.compute_mask(scores[live], np.ones(int(live.sum()), alive.dtype))
    start = 0
    for (module, name), (s, _) in zip(parameters, pieces):
        piece = combined[start:start + s.size]
        start += s.size
        held = module._parameters.get(name + "_orig")
        shape = (held if held is not None else module._parameters[name]).shape
        custom_from_mask(module, name, piece.reshape(shape))


def remove(module, name):
    """Make the pruning of module.<name> permanent: a plain parameter w_orig ⊙ mask, no hook, no mask buffer."""
    found = _pruning_hook(module, name)
    if found is None:
        raise ValueError(f"Parameter '{name}' of module {type(module).__name__} has to be pruned before pruning "
                         f"can be removed")
    key, method = found
    method.remove(module)
    del module._forward_pre_hooks[key]
    return module


def is_pruned(module):
    return any(isinstance(h, BasePruningMethod) for m in module.modules() for h in m._forward_pre_hooks.values())
