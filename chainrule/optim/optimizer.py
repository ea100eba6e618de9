"""Optimizer base: param groups, per-parameter state, zero_grad, state_dict, as in torch.optim."""
import copy
from collections import defaultdict

import numpy as np

from ..autograd.grad_mode import note_write
from ..tensor import Tensor
from .hooks import OptimizerHooks, with_load_state_dict_hooks, with_state_dict_hooks, with_step_hooks
from .hooks import register_optimizer_step_post_hook, register_optimizer_step_pre_hook  # noqa: F401  (torch's place)

FLUSH_EVERY = 32   # steps between two sweeps of the optimizer state for subnormal values (see _flush_subnormals)


# torch's switches that pick a kernel (multi-tensor, fused, CUDA-graph capturable) and change no number
_KERNEL_SWITCHES = ("foreach", "fused", "capturable")


class Optimizer(OptimizerHooks):
    def __init__(self, params, defaults, **impl):
        for k, v in impl.items():
            if k == "differentiable":
                if v:
                    raise NotImplementedError(f"{type(self).__name__}: differentiable=True (a graph through the "
                                              f"update) is not supported; the update is done in place outside the graph")
            elif k not in _KERNEL_SWITCHES:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {k!r}")
        for k in ("lr",):
            if k in defaults and (isinstance(defaults[k], bool) or not isinstance(defaults[k], (int, float))) \
                    and not hasattr(defaults[k], "item"):
                raise TypeError(f"{type(self).__name__}: lr must be a number, got {type(defaults[k]).__name__} "
                                f"{defaults[k]!r}")
            if k in defaults and defaults[k] < 0:
                raise ValueError(f"{type(self).__name__}: invalid learning rate {defaults[k]}; it must be ≥ 0 "
                                 f"(typical values are 1e-4 to 1e-1)")
        self.defaults = defaults
        params = list(params) if not isinstance(params, Tensor) else [params]
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list. Pass model.parameters() of a model "
                             f"that has parameters (is the generator already consumed?)")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self.state = defaultdict(dict)   # torch's: a custom step() may write self.state[p]["buf"] directly
        self._steps_taken = 0   # counts step() calls, for the periodic subnormal flush
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group):
        group = dict(group)
        ps = group["params"]
        group["params"] = [ps] if isinstance(ps, Tensor) else list(ps)
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: can only optimize tensors that require grad, got "
                                 f"{type(p).__name__}")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        if group.get("lr", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']}; it must be ≥ 0")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data[...] = 0

    def _params_with_grad(self, group):
        for p in group["params"]:
            if p.grad is not None:
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = {}
                yield p, p._data, p.grad._data, st

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            if self._step_group(group):
                continue
            flip = group.get("maximize", False)
            for p, w, g, st in self._params_with_grad(group):
                g = g.astype(w.dtype, copy=False)
                self._update(w, -g if flip else g, st, group)
                p._version = note_write(p._data)
        self._steps_taken += 1
        if self._steps_taken % FLUSH_EVERY == 0:
            self._flush_subnormals()
        return loss

    def _flush_subnormals(self):
        """Set state entries below the smallest normal float (|x| < 1.2e-38 in float32) to zero.

        Why: a unit that stops receiving gradient (a dead ReLU) has its moments multiplied by β < 1 at every
        step; after ~650 steps they reach the subnormal range and stay there for ~150 more, and arithmetic on
        subnormals runs in microcode: Adam took 161 µs per step instead of 44 on the 64→128→128→10 model of
        bench/train_step.py while its dead units' moments decayed. Values that small change no update by a
        representable amount (ε alone is 1e-8), so zero is as good and fast (torch.set_flush_denormal's idea,
        applied to the optimizer's state only, every FLUSH_EVERY steps)."""
        for st in self.state.values():
            for value in st.values():
                if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
                    np.copyto(value, 0, where=np.abs(value) < np.finfo(value.dtype).tiny)

    def _step_group(self, group):
        """A rule may update a whole group at once (Adam's flat buffer); True means done, else per parameter."""
        return False

    def _update(self, w, g, state, group):
        raise NotImplementedError

    def _scratch(self, w):
        """A work buffer shaped like w, kept between steps (not part of the state dict)."""
        cache = self.__dict__.setdefault("_scratch_buffers", {})
        buf = cache.get(id(w))
        if buf is None or buf.shape != w.shape or buf.dtype != w.dtype:
            buf = cache[id(w)] = np.empty_like(w)
        return buf

    # ---- state ---------------------------------------------------------------------------------------------
    def state_dict(self):
        index = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (Tensor._wrap(v.copy()) if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(len(a["params"]) != len(b["params"])
                                                       for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved state has "
                             f"{[len(g['params']) for g in groups]} parameters per group but this optimizer has "
                             f"{[len(g['params']) for g in self.param_groups]}")
        by_id = {}
        for saved, mine in zip(groups, self.param_groups):
            for i, p in zip(saved["params"], mine["params"]):
                by_id[int(i)] = p
            for k, v in saved.items():
                if k != "params":
                    mine[k] = copy.deepcopy(v)
        self.state = defaultdict(dict)
        # chainrule's own update rules keep NumPy arrays; a user's step() (a custom Optimizer) gets Tensors back
        arrays = getattr(type(self).step, "__module__", "").startswith("chainrule.")
        for i, st in state_dict["state"].items():
            p = by_id[int(i)]
            self.state[p] = {k: ((np.array(v._data if isinstance(v, Tensor) else v, copy=True) if arrays else
                                  Tensor._wrap(np.array(v._data if isinstance(v, Tensor) else v, copy=True)))
                                 if isinstance(v, (Tensor, np.ndarray)) else v) for k, v in st.items()}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k, v in sorted(g.items()):
                if k != "params":
                    lines.append(f"    {k}: {v}")
        return "\n".join(lines + [")"])


Optimizer.step = with_step_hooks(Optimizer.step)
Optimizer.state_dict = with_state_dict_hooks(Optimizer.state_dict)
Optimizer.load_state_dict = with_load_state_dict_hooks(Optimizer.load_state_dict)
