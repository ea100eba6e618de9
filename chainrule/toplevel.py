"""torch's top-level names for what chainrule keeps elsewhere, so that a script written against `torch` runs after
changing its import:

- functional ops torch also exposes at the top (torch.conv2d, torch.dropout, torch.cosine_similarity …): the
  nn.functional function of the same name;
- in-place functions (torch.relu_(x), torch.exp_(x) …): the Tensor method of the same name;
- process-wide settings that training scripts set in their first lines (set_printoptions,
  set_float32_matmul_precision, set_default_device, compile …).

Nothing here computes; every name forwards to the one place that does.
"""
import math

import numpy as np

from . import devices
from .autograd import anomaly
from .nn import functional as F
from .ops.elementwise import where
from .random import _DETERMINISTIC
from .tensor import PRINT_OPTIONS, Tensor

# ---- functional ops under their top-level names (same signatures as nn.functional) ---------------------------------
_FUNCTIONAL = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "avg_pool1d",
               "max_pool1d", "max_pool2d", "max_pool3d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "dropout",
               "alpha_dropout", "feature_alpha_dropout", "cosine_similarity", "pairwise_distance", "pdist",
               "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "bilinear", "threshold", "hardshrink", "rrelu", "layer_norm",
               "group_norm", "rms_norm")
FUNCTIONAL = {name: getattr(F, name) for name in _FUNCTIONAL}
FUNCTIONAL["native_channel_shuffle"] = F.channel_shuffle


def _top_level_dropout(fn):
    """torch.dropout(input, p, train): nn.functional's with the flag named `train` (F's is `training`)."""
    def top(input, p, train):
        return fn(input, p, train)
    top.__name__, top.__doc__ = fn.__name__, fn.__doc__
    return top


for _name in ("dropout", "alpha_dropout", "feature_alpha_dropout"):
    FUNCTIONAL[_name] = _top_level_dropout(FUNCTIONAL[_name])


# ---- in-place functions: torch.name_(x, …) is x.name_(…) -----------------------------------------------------------
_INPLACE = ("abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
            "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
            "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_",
            "gcd_", "i0_", "index_put_", "lcm_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
            "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_",
            "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_")


def _in_place_function(name, change):
    """torch.name(input, …) that changes input through change(input, …)."""
    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor to change in place, got {type(input).__name__}")
        return change(input, *args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = f"torch.{name}(input, …): input changed in place."
    return fn


def _method(name):
    """torch.name(input, …) = input.name(…)."""
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = name
    function.__doc__ = f"torch.{name}(input, …) = input.{name}(…)."
    return function


def _through_functional(fn, name):
    return lambda input, *args, **kwargs: input._inplace(name, lambda s: fn(s, *args, **kwargs))


INPLACE = {name: _in_place_function(name, _method(name)) for name in _INPLACE}
for _name, _fn in (("selu_", F.selu), ("celu_", F.celu), ("threshold_", F.threshold), ("rrelu_", F.rrelu),
                   ("dropout_", F.dropout), ("alpha_dropout_", F.alpha_dropout),
                   ("feature_alpha_dropout_", F.feature_alpha_dropout)):
    INPLACE[_name] = _in_place_function(_name, _through_functional(_fn, _name))
for _name, _fn in (("elu_", F.elu), ("leaky_relu_", F.leaky_relu), ("hardtanh_", F.hardtanh)):
    INPLACE[_name] = _in_place_function(_name, _through_functional(_fn, _name))
# nn.functional's in-place activations (F.relu_(x), F.elu_(x, alpha) …) are these same functions
for _name in ("relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "celu_", "selu_", "rrelu_"):
    setattr(F, _name, INPLACE[_name])


def detach(input):
    return input.detach()


def fill(input, value):
    """A new tensor shaped and typed like input, every entry `value` (torch.fill; fill_ changes input). As in
    torch the result stays in the graph: input gets a zero gradient, a 0-d tensor value the sum of g."""
    if not input.requires_grad and not (isinstance(value, Tensor) and value.requires_grad):
        return input.detach().clone().fill_(value)
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    value = value.to(input.dtype) if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value, input.dtype))
    return where(Tensor._wrap(np.ones(input.shape, bool)), value, input)


def rsub(input, other, alpha=1):
    """other - alpha·input (torch.rsub: subtraction with the operands reversed)."""
    return other - (input * alpha if alpha != 1 else input)


# ---- settings -----------------------------------------------------------------------------------------------------
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print (torch.set_printoptions): digits after the point, how many entries before a summary
    '...', how many at each edge of it, the line width, a profile ('default', 'short', 'full'), and sci_mode
    (True: always scientific, False: never, None: NumPy decides)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; use one of {sorted(_PROFILES)}")
        PRINT_OPTIONS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[key] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode


_SETTINGS = {"matmul_precision": "highest", "interop_threads": 1, "warn_always": False, "debug_mode": 0}


def set_float32_matmul_precision(precision):
    """Recorded for get_float32_matmul_precision: 'highest', 'high' or 'medium'. NumPy's BLAS always multiplies
    float32 in full float32, i.e. 'highest', whatever is asked (as torch on most CPUs)."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got {precision!r}")
    _SETTINGS["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _SETTINGS["matmul_precision"]


def set_default_device(device):
    """Only the CPU exists here: None or 'cpu' are accepted, anything else is an error that says so."""
    if device is not None:
        devices.check_cpu(device, "set_default_device")


def get_default_device():
    return devices.CPU


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """torch.compile's signature, returning the model or function unchanged (also as a decorator, with or
    without arguments): chainrule runs eagerly, and a compiled torch model computes the same numbers."""
    if model is None:
        return lambda fn: fn
    return model


def get_num_interop_threads():
    return _SETTINGS["interop_threads"]


def set_num_interop_threads(n):
    """Recorded only: chainrule runs one op at a time, so there is no inter-op pool to size."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_interop_threads: expected a positive int, got {n!r}")
    _SETTINGS["interop_threads"] = n


def set_warn_always(b):
    _SETTINGS["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _SETTINGS["warn_always"]


def set_deterministic_debug_mode(debug_mode):
    """0 / 'default', 1 / 'warn', 2 / 'error'. chainrule's ops are all deterministic, so no mode ever fires."""
    names = {"default": 0, "warn": 1, "error": 2}
    mode = names.get(debug_mode, debug_mode)
    if mode not in (0, 1, 2):
        raise ValueError(f"set_deterministic_debug_mode: expected 0/1/2 or 'default'/'warn'/'error', got "
                         f"{debug_mode!r}")
    _SETTINGS["debug_mode"] = mode


def get_deterministic_debug_mode():
    return _SETTINGS["debug_mode"]


def is_deterministic_algorithms_warn_only_enabled():
    return _DETERMINISTIC["warn_only"]


def set_flush_denormal(mode):
    """False, as torch answers where it cannot: NumPy has no switch for the CPU's flush-to-zero mode."""
    return False


def set_anomaly_enabled(enabled, check_nan=True):
    anomaly.set_detect_anomaly(enabled, check_nan)


def is_anomaly_check_nan_enabled():
    mode = anomaly.STATE.anomaly
    return mode is not None and mode.check_nan


def typename(obj):
    """'chainrule.FloatTensor' for a float32 tensor (its .type()), else the object's qualified class name."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def is_storage(obj):
    return False   # chainrule tensors hold NumPy arrays; there is no separate storage object


def _aliases():
    """Names torch has twice, and ops chainrule keeps in one module that torch also lists at the top."""
    from .ops import arrange, calculus, index_write, linalg as linalg_ops, shape
    return {"clamp_min": lambda input, min: input.clamp_min(min), "clamp_max": lambda input, max: input.clamp_max(max),
            "ger": linalg_ops.outer, "unsafe_chunk": shape.chunk, "unsafe_split": shape.split,
            "trapezoid": calculus.trapezoid, "trapz": calculus.trapezoid,
            "cumulative_trapezoid": calculus.cumulative_trapezoid, "gradient": calculus.gradient,
            "select_scatter": index_write.select_scatter, "slice_scatter": index_write.slice_scatter,
            "diagonal_scatter": index_write.diagonal_scatter, "as_strided": arrange.as_strided,
            "as_strided_scatter": index_write.as_strided_scatter}


EXPORTS = {**FUNCTIONAL, **INPLACE, **_aliases(), "detach": detach, "fill": fill, "rsub": rsub,
           "set_printoptions": set_printoptions, "set_float32_matmul_precision": set_float32_matmul_precision,
           "get_float32_matmul_precision": get_float32_matmul_precision, "set_default_device": set_default_device,
           "get_default_device": get_default_device, "compile": compile,
           "get_num_interop_threads": get_num_interop_threads, "set_num_interop_threads": set_num_interop_threads,
           "set_warn_always": set_warn_always, "is_warn_always_enabled": is_warn_always_enabled,
           "set_deterministic_debug_mode": set_deterministic_debug_mode,
           "get_deterministic_debug_mode": get_deterministic_debug_mode,
           "is_deterministic_algorithms_warn_only_enabled": is_deterministic_algorithms_warn_only_enabled,
           "set_flush_denormal": set_flush_denormal, "set_anomaly_enabled": set_anomaly_enabled,
           "is_anomaly_enabled": anomaly.is_anomaly_enabled,
           "is_anomaly_check_nan_enabled": is_anomaly_check_nan_enabled, "typename": typename,
           "is_storage": is_storage}
