"""Mixed precision: autocast runs the matrix products (linear, matmul, conv) in float16 while the parameters stay
float32 "master weights" (the cast is differentiable, so gradients arrive in float32); GradScaler multiplies the
loss by a large factor so small float16 gradients do not underflow to 0, unscales them before the step, skips the
step and lowers the scale when it finds inf/NaN, and raises it again after `growth_interval` good steps."""
import functools
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
        if isinstance(dtype, dtypes.UnsupportedDtype):
            raise dtypes.unsupported(dtype, "autocast")
        if enabled and np.dtype(dtype).kind != "f":
            raise TypeError(f"autocast: dtype must be a floating-point dtype (float16), got {dtype}")
        self.dtype = np.dtype(dtype) if enabled else None

    def __enter__(self):
        self.prev = _ACTIVE[0]
        _ACTIVE[0] = self.dtype
        # float16 products overflow to inf by design in mixed precision (the scaler handles it): no warning
        self._errstate = np.errstate(over="ignore") if self.dtype is not None else None
        if self._errstate is not None:
            self._errstate.__enter__()
        return self

    def __exit__(self, *exc):
        _ACTIVE[0] = self.prev
        if self._errstate is not None:
            self._errstate.__exit__(*exc)


def in_float32(input, float32_under_autocast=False):
    """torch's "opmath" for a float16 input: (the input taken to float32, a function that takes the result back).
    Statistics and log-sum-exps computed in float16 overflow in their backward (rsqrt(σ² + ε)³ is 3e7 for σ² ≈
    1e-5, past float16's 65504), so these ops compute in float32 and return float16. Under autocast, the ops that
    torch's CPU autocast runs in float32 (float32_under_autocast: the losses, prod, cdist, trace, grid_sample) keep
    the float32 result. The casts are differentiable, so the input's gradient arrives in float16."""
    if input.dtype != np.float16:
        return input, _unchanged
    if float32_under_autocast and _ACTIVE[0] is not None:
        return input.float(), _unchanged
    return input.float(), _to_half


def computed_in_float32(fn=None, *, float32_under_autocast=False):
    """Decorator: fn's first argument taken through in_float32, and its other float16 tensor arguments to float32
    (norms, variances, cumulative sums, similarities, losses: their squares and running sums overflow float16 long
    before the result does)."""
    if fn is None:
        return functools.partial(computed_in_float32, float32_under_autocast=float32_under_autocast)

    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        if getattr(input, "dtype", None) != np.float16:
            return fn(input, *args, **kwargs)
        input, finish = in_float32(input, float32_under_autocast)
        args = [_float32(a) for a in args]
        kwargs = {k: _float32(v) for k, v in kwargs.items()}
        return finish(fn(input, *args, **kwargs))
    return wrapper


def autocast_to_lower_precision(fn):
    """Decorator: under autocast, fn's floating tensor arguments (input, weight and bias alike) in the autocast
    dtype, as torch's autocast runs convolutions; outside autocast, fn unchanged."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _ACTIVE[0] is None:
            return fn(*args, **kwargs)
        return fn(*[_lower(a) for a in args], **{k: _lower(v) for k, v in kwargs.items()})
    return wrapper


def _lower(arg):
    d = _ACTIVE[0]
    is_float_tensor = hasattr(arg, "requires_grad") and getattr(arg, "dtype", None) is not None and \
        arg.dtype.kind == "f"
    return arg.to(d) if is_float_tensor and arg.dtype != d else arg


def _float32(arg):
    return arg.float() if getattr(arg, "dtype", None) == np.float16 and hasattr(arg, "float") else arg


def _unchanged(out):
    return out


def _to_half(out):
    """The float32 result back to float16; one a float64 argument promoted stays float64, as torch's."""
    if isinstance(out, tuple):
        items = [_to_half(o) for o in out]
        return type(out)(*items) if hasattr(out, "_fields") else tuple(items)
    return out.half() if getattr(out, "dtype", None) == np.float32 else out


def cast_inputs(*tensors):
    """The autocast dtype applied to floating inputs of a matmul-like op (a no-op when autocast is off)."""
    return tensors if _ACTIVE[0] is None else tuple(_lower(t) for t in tensors)


class GradScaler:
    """Dynamic loss scaling, as torch.amp.GradScaler(device, init_scale, ...). device 'cuda' is accepted and, as
    torch does where CUDA is missing, disables the scaler with a warning (the matching autocast is off too)."""

    def __init__(self, device="cpu", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        device = str(device).partition(":")[0]
        if device not in ("cpu", "cuda"):
            raise ValueError(f"GradScaler: device must be 'cpu' or 'cuda', got {device!r}")
        if device == "cuda" and enabled:
            warnings.warn("GradScaler: device 'cuda' but chainrule runs on the CPU; the scaler is disabled. Use "
                          "GradScaler('cpu') with cr.amp.autocast('cpu') for float16 training", stacklevel=2)
            enabled = False
        if growth_factor <= 1.0 or not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1 and backoff_factor in (0, 1), got "
                             f"{growth_factor} and {backoff_factor}")
        self._scale, self.growth_factor, self.backoff_factor = float(init_scale), growth_factor, backoff_factor
        self.growth_interval, self.enabled = growth_interval, enabled
        self._good_steps = 0
        self._found_inf = False
        self._unscaled = set()

    def get_scale(self):
        return self._scale if self.enabled else 1.0

    def is_enabled(self):
        return self.enabled

    def get_growth_factor(self):
        return self.growth_factor

    def set_growth_factor(self, new_factor):
        self.growth_factor = new_factor

    def get_backoff_factor(self):
        return self.backoff_factor

    def set_backoff_factor(self, new_factor):
        self.backoff_factor = new_factor

    def get_growth_interval(self):
        return self.growth_interval

    def set_growth_interval(self, new_interval):
        self.growth_interval = new_interval

    def scale(self, outputs):
        """outputs × scale: a loss, or a list/tuple of them (torch scales every tensor of an iterable)."""
        if not self.enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        from ..autograd import engine
        scaled = outputs * self._scale
        engine.QUIET_ROOTS.add(scaled)   # its backward may overflow in float16: the scaler detects and skips that
        return scaled

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

    def update(self, new_scale=None):
        """Grow or back off the scale after a step; new_scale (a number or a 1-element tensor) sets it instead."""
        if not self.enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
            self._found_inf = False
            self._unscaled.clear()
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
        if not self.enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self.growth_factor, "backoff_factor": self.backoff_factor,
                "growth_interval": self.growth_interval, "_growth_tracker": self._good_steps}

    def load_state_dict(self, state):
        self._scale, self._good_steps = state["scale"], state.get("_growth_tracker", 0)


def _cuda_autocast(enabled=True, dtype=dtypes.float16, cache_enabled=True):
    """torch.cuda.amp.autocast: autocast('cuda', ...), which warns and stays off on the CPU."""
    return autocast("cuda", dtype, enabled, cache_enabled)


def _cuda_grad_scaler(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                      enabled=True):
    """torch.cuda.amp.GradScaler: GradScaler('cuda', ...), which warns and stays off on the CPU."""
    return GradScaler("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


def _cpu_autocast(enabled=True, dtype=dtypes.float16, cache_enabled=True):
    """torch.cpu.amp.autocast: autocast('cpu', ...); its default dtype is float16 here (torch's bfloat16 is not a
    NumPy dtype)."""
    return autocast("cpu", dtype, enabled, cache_enabled)
