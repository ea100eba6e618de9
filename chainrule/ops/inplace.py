"""In-place variants x.op_(…) of out-of-place ops, as PyTorch's trailing underscore. Each one is Tensor._inplace
around the op: without grad it writes into the tensor's array; with grad the tensor is rebound to the op's node,
and the version counter catches a saved value changed after use."""
from ..autograd.grad_mode import bump_version
from ..tensor import Tensor

_NAMES = ("abs", "neg", "exp", "log", "log1p", "expm1", "exp2", "log2", "log10", "sqrt", "rsqrt", "sigmoid", "tanh",
          "relu", "floor", "ceil", "round", "trunc", "frac", "sign", "sin", "cos", "tan", "asin", "acos", "atan",
          "sinh", "cosh", "erf", "reciprocal", "square", "clamp_min", "clamp_max", "remainder", "fmod", "lerp",
          "addcmul", "addcdiv", "scatter", "scatter_add", "index_add", "masked_scatter", "nan_to_num", "hypot",
          "atan2", "logaddexp", "cumsum", "cumprod", "tril", "triu", "maximum", "minimum", "float_power", "asinh",
          "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2", "lgamma",
          "digamma", "polygamma", "erfc", "erfinv", "logit", "sinc", "deg2rad", "rad2deg", "copysign", "sgn", "xlogy",
          "heaviside", "index_copy", "index_fill", "scatter_reduce", "negative", "absolute", "multiply", "subtract", "divide", "true_divide",
          "floor_divide", "addmm", "baddbmm", "addbmm", "addmv", "addr", "renorm", "ldexp", "logaddexp2", "hardshrink",
          "logical_and", "logical_or", "logical_xor", "logical_not", "eq", "ne", "lt", "le", "gt", "ge", "greater",
          "greater_equal", "less", "less_equal", "not_equal", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
          "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm", "clip", "fix", "i0", "igamma", "igammac")


def _variant(name):
    def method(self, *args, **kwargs):
        grad_input = next((a for a in (*args, *kwargs.values()) if isinstance(a, Tensor) and a.requires_grad), None)
        return self._inplace(name + "_", lambda s: getattr(s, name)(*args, **kwargs), grad_input)
    method.__name__ = name + "_"
    method.__doc__ = f"In place: x.{name}_(…) makes x equal to x.{name}(…)."
    return method


for _name in _NAMES:
    if hasattr(Tensor, _name) and not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", _variant(_name))


def _view_variant(name):
    """x.squeeze_(…), x.t_() …: x itself becomes the view (its shape changes, unlike the value-changing ops)."""
    def method(self, *args, **kwargs):
        self._check_inplace(name + "_")
        out = getattr(self, name)(*args, **kwargs)
        self._data, self.grad_fn, self.requires_grad, self._out_idx = (
            out._data, out.grad_fn, out.requires_grad, out._out_idx)
        self._version = bump_version()   # a node that saved x would now read the reshaped x: backward refuses
        return self
    method.__name__ = name + "_"
    method.__doc__ = f"In place: x.{name}_(…) makes x its own {name}(…) view."
    return method


for _name in ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims", "as_strided"):
    if hasattr(Tensor, _name) and not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", _view_variant(_name))
