"""chainrule: backpropagation that shows its work. A reverse-mode autodiff engine on NumPy with PyTorch's names."""
__version__ = "0.1.0"

from . import dtypes
from .dtypes import (bool_ as bool, double, finfo, float, float16, float32, float64, get_default_dtype, half, iinfo,
                     int8, int16, int32, int64, long, set_default_dtype, uint8)
from .dtypes import int32 as int, int16 as short  # noqa: E402  (torch.int, torch.short)
from .dtypes import bfloat16, cdouble, cfloat, chalf, complex32, complex64, complex128  # noqa: E402,F401
from .tensor import Size, Tensor
from .devices import backends, cuda, device
from . import autograd
import importlib as _importlib
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.threads import get_num_threads, set_num_threads
from .errors import (AnomalyError, BackwardError, DTypeError, GradcheckError, InplaceError, IntegerDivisionError,
                     ShapeError)

for _m in ("chainrule.autograd.functional", "chainrule.autograd.gradcheck", "chainrule.autograd.gradcheck_explain",
           "chainrule.autograd.checkpoint", "chainrule.autograd.forward_ad"):
    _importlib.import_module(_m).Tensor = Tensor

from . import ops  # noqa: E402  (fills the op registry and Tensor's methods)
from .ops.activation import (celu, clamp, elu, gelu, hardtanh, leaky_relu, logsigmoid, mish, prelu, relu, relu6,
                             selu, silu, softplus, softsign)
from .ops.discrete import (all, allclose, any, ceil, eq, equal, floor, ge, greater, greater_equal, gt, isfinite,
                           isinf, isnan, le, less, less_equal, logical_and, logical_not, logical_or, logical_xor, lt,
                           ne, not_equal, round, trunc, isclose, nonzero, count_nonzero, bincount)
from .ops.discrete import frexp, is_signed, isneginf, isposinf, isreal, nextafter  # noqa: E402
from .ops.sorting import argsort, sort, topk, unique
from .ops.bitwise import (bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,  # noqa: E402
                         bitwise_right_shift, bitwise_xor, gcd, lcm)
from .ops.trig import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh, atan,
                       atan2, atanh, cosh, hypot, sinh, tan)
from .ops.elementwise import (abs, add, cos, div, erf, exp, log, log1p, maximum, minimum, mul, neg, rsqrt,
                              sigmoid, sign, sin, sqrt, sub, tanh, where)
from .ops.power import pow
from .ops.reduce import (amax, amin, argmax, argmin, cumsum, log_softmax, logsumexp, max, mean, min, norm, prod,
                         softmax, std, sum, var)
from .ops.shape import (broadcast_to, cat, chunk, expand, flatten, flip, pad, permute, reshape, split, squeeze, stack,
                        transpose, tril, triu, unbind, unsqueeze)
from .ops.tiling import repeat_interleave, roll, unflatten
from .ops.index import gather, index_add, index_select, masked_fill, scatter, scatter_add
from .ops.arith import (addcdiv, addcmul, divide, exp2, expm1, float_power, floor_divide, fmod, frac, lerp, log2,
                        log10, logaddexp, multiply, nan_to_num, reciprocal, remainder, subtract, true_divide, xlogy)
from .ops.arith import _div as div  # noqa: E402,F811  (torch.div takes rounding_mode)
from .ops.arrange import (block_diag, cartesian_prod, diag_embed, diagonal, diff, kron, masked_select, meshgrid,
                          movedim, narrow, ravel, rot90, select, take_along_dim, tile)
from .ops.arrange import movedim as moveaxis  # noqa: E402
from .ops.special import (copysign, deg2rad, digamma, erfc, erfinv, fmax, fmin, heaviside, lgamma, logit,  # noqa: E402
                          polygamma, rad2deg, signbit, sinc)
from .ops.special import angle, ldexp, logaddexp2  # noqa: E402
from .ops.incomplete_gamma import gammainc as igamma, gammaincc as igammac  # noqa: E402
from .ops.stacking import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors,  # noqa: E402
                           column_stack, combinations, diagflat, dsplit, dstack, fliplr, flipud, hsplit, hstack,
                           row_stack, split_with_sizes, t, take, tensor_split, vander, vsplit, vstack)
from .ops.shape import concatenate, swapaxes, swapdims  # noqa: E402
from .ops.matfun import (addbmm, addmv, addr, chain_matmul, cholesky_solve, matrix_exp, pinverse, svd,  # noqa: E402
                         triangular_solve)
from .ops.matfun import _legacy_qr as qr  # noqa: E402
from .ops.lu import legacy_lu as lu, legacy_lu_solve as lu_solve, lu_unpack  # noqa: E402
from .ops.decomp import cholesky  # noqa: E402
from .ops.householder import geqrf, orgqr, ormqr  # noqa: E402
from .ops.index_write import index_copy, index_fill, index_put, masked_scatter, scatter_reduce  # noqa: E402
from .ops.statistics import (argwhere, bucketize, corrcoef, cov, dist, histc, histogram, histogramdd,  # noqa: E402
                             isin, renorm, searchsorted, unique_consecutive)
from .ops.scan import cummax, cummin, cumprod, logcumsumexp
from .ops.order_stats import (aminmax, kthvalue, median, mode, msort, nanmean, nanmedian, nanquantile, nansum,
                              quantile, std_mean, var_mean)
from .ops.linalg import (addmm, baddbmm, bmm, cdist, cross, diag, dot, einsum, inner, linear, matmul, mm, mv,
                         outer, tensordot, trace, vdot)
from .ops.decomp import det, inv as inverse, logdet, slogdet, matrix_power  # noqa: E402
from .creation import (asarray, bartlett_window, blackman_window, hamming_window, hann_window,  # noqa: E402
                       kaiser_window, logspace, randint_like, scalar_tensor, strided, tril_indices, triu_indices)
from .creation import float_range as range  # noqa: E402,A004  (torch.range, inclusive of end)
from .creation import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full, full_like, linspace, multinomial,
                       normal, ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros,
                       zeros_like)
from .random import (Generator, are_deterministic_algorithms_enabled, get_rng_state, initial_seed,  # noqa: E402
                     manual_seed, seed, set_rng_state, use_deterministic_algorithms)
from . import tensor_attrs  # noqa: E402,F401  (Tensor's layout queries, dtype predicates, random fills)
from .tensor_attrs import (can_cast, is_complex, is_floating_point, is_nonzero, is_same_size,  # noqa: E402
                           promote_types, result_type)
import math as _math  # noqa: E402
pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan
from .autograd.functional import grad
from . import func

clip = clamp
clone = lambda input: input.clone()  # noqa: E731
view = reshape
concat = cat
square = lambda input: input * input  # noqa: E731
negative = neg
positive = lambda input: input  # noqa: E731
absolute = abs
is_tensor = lambda obj: isinstance(obj, Tensor)  # noqa: E731
numel = lambda input: input.numel()  # noqa: E731
from .autograd.grad_mode import inference_mode, is_inference_mode_enabled  # noqa: E402
from . import nn
from . import optim
from . import linalg
from .amp import autocast   # torch.autocast(device_type, dtype)
from . import data
from .io import ModelFileError, load, save
from . import diagnose
from . import explain
from . import utils
from .utils.dlpack import from_dlpack, to_dlpack  # noqa: E402
from . import amp
from . import jit
from . import profiler
from . import testing
from .import_paths import install as _install_import_paths, namespace as _namespace  # noqa: E402
_namespace("chainrule.cuda.amp", autocast=amp._cuda_autocast, GradScaler=amp._cuda_grad_scaler)
cpu = _namespace("chainrule.cpu")
distributed = _namespace("chainrule.distributed", "torch.distributed's probes: chainrule trains in one process, "
                         "with no process group", is_available=lambda: False, is_initialized=lambda: False)
_namespace("chainrule.cpu.amp", autocast=amp._cpu_autocast)   # torch.cpu.amp.autocast
from . import special
from . import distributions
sgn = sign
fix = trunc
vmap = func.vmap
from .legacy_types import (LEGACY as _LEGACY, channels_last, channels_last_3d, contiguous_format,  # noqa: E402
                           dtype, layout, memory_format, preserve_format, set_default_tensor_type, strided)
globals().update(_LEGACY)            # FloatTensor, LongTensor …: constructors, isinstance checks, .type() targets
autograd.Variable = legacy_types.Variable
from .toplevel import EXPORTS as _TORCH_TOPLEVEL  # noqa: E402
globals().update(_TORCH_TOPLEVEL)   # torch.conv2d, torch.relu_(x), torch.set_printoptions …: see toplevel.py
from .torch_functions import EXPORTS as _TORCH_FUNCTIONS  # noqa: E402
globals().update(_TORCH_FUNCTIONS)   # torch.unravel_index, torch.poisson …: see torch_functions.py
from .lowrank import EXPORTS as _LOWRANK  # noqa: E402
globals().update(_LOWRANK)   # torch.svd_lowrank, torch.pca_lowrank
from .aten_functions import EXPORTS as _ATEN_FUNCTIONS  # noqa: E402
globals().update(_ATEN_FUNCTIONS)   # torch.embedding(weight, indices), torch.kl_div(…, reduction=1) …: see there

def _name_non_tensors_at_top_level():
    """torch-style top-level twins of registered ops (cr.max(x, dim) with its namedtuple, cr.sort …) name a NumPy
    array given for a Tensor too, as the registered functions do (ops/registry.py)."""
    import types
    from .ops.registry import OPS, _naming_non_tensors
    for name in OPS:
        fn = globals().get(name)
        if type(fn) is types.FunctionType and not getattr(fn, "names_non_tensors", False):
            globals()[name] = _naming_non_tensors(name, fn)
            for module in (nn.functional, linalg, special):   # the same function under torch's other names
                if getattr(module, name, None) is fn:
                    setattr(module, name, globals()[name])


_name_non_tensors_at_top_level()
_install_import_paths()   # torch.nn.modules.loss, torch.distributions.normal …: see import_paths.py
