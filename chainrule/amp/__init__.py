"""Mixed precision: autocast runs the matrix products (linear, matmul, conv) in float16 while the parameters stay
float32 "master weights" (the cast is differentiable, so gradients arrive in float32); GradScaler multiplies the
loss by a large factor so small float16 gradients do not underflow to 0, unscales them before the step, skips the
step and lowers the scale when it finds inf/NaN, and raises it again after `growth_interval` good steps."""
import warnings

import numpy as np

from .. import dtypes

_ACTIVE = [None]


def autocast_dtype():
    return _ACTIVE[0]


class autocast:
    """with cr.amp.autocast(dtype=cr.float16): … — matmul-like ops compute in dtype; losses stay float32."""

    def __init__(self, device_type="cpu", dtype=dtypes.float16, enabled=True, cache_enabled=None):
        device_type = str(device_type)
        if device_type not in ("cpu", "cuda"):
            raise ValueError(f"autocast: device_type must be 'cpu' or 'cuda', got {device_type!r}")
        if device_type == "cuda" and enabled:   # torch warns and disables it where CUDA is missing; so do we
            warnings.warn("autocast: device_type 'cuda' but chainrule runs on the CPU; autocast is disabled. "
                          "Use device_type='cpu'", stacklevel=2)
            enabled = False
        if enabled and np.dtype(dtype).kind != "f":
            raise TypeError(f"autocast: dtype must be a floating-point dtype (float16), got {dtype}")
        self.dtype = np.dtype(dtype) if enabled else None

    def __enter__(self):
        self.prev = _ACTIVE[0]
        _ACTIVE[0] = self.dtype
        return self

    def __exit__(self, *exc):
        _ACTIVE[0] = self.prev


def cast_inputs(*tensors):
    """The autocast dtype applied to floating inputs of a matmul-like op (a no-op when autocast is off)."""
    d = _ACTIVE[0]
    if d is None:
        return tensors
    return tuple(t.to(d) if t is not None and t.dtype.kind == "f" and t.dtype != d else t for t in tensors)


class GradScaler:
    """Dynamic loss scaling, as torch.amp.GradScaler."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        self._scale, self.growth_factor, self.backoff_factor = float(init_scale), growth_factor, backoff_factor
        self.growth_interval, self.enabled = growth_interval, enabled
        self._good_steps = 0
        self._found_inf = False
        self._unscaled = set()

    def get_scale(self):
        return self._scale

    def scale(self, loss):
        return loss * self._scale if self.enabled else loss

    def unscale_(self, optimizer):
        if not self.enabled or id(optimizer) in self._unscaled:
            return
        inv = 1.0 / self._scale
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g = p.grad._data
                    if not np.isfinite(g).all():
                        self._found_inf = True
                    g *= g.dtype.type(inv)
        self._unscaled.add(id(optimizer))

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and step — unless a gradient is inf/NaN, in which case the step is skipped."""
        if not self.enabled:
            return optimizer.step(*args, **kwargs)
        self.unscale_(optimizer)
        if self._found_inf:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self):
        if not self.enabled:
            return
        if self._found_inf:
            self._scale *= self.backoff_factor
            self._good_steps = 0
        else:
            self._good_steps += 1
            if self._good_steps >= self.growth_interval:
                self._scale *= self.growth_factor
                self._good_steps = 0
        self._found_inf = False
        self._unscaled.clear()

    def state_dict(self):
        return {"scale": self._scale, "growth_factor": self.growth_factor, "backoff_factor": self.backoff_factor,
                "growth_interval": self.growth_interval, "_growth_tracker": self._good_steps}

    def load_state_dict(self, state):
        self._scale, self._good_steps = state["scale"], state.get("_growth_tracker", 0)
