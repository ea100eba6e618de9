"""nn.functional: activations, linear, dropout and losses as functions (PyTorch's names and signatures)."""
import numpy as np

from ..amp import computed_in_float32
from ..errors import DTypeError, ShapeError
from ..ops.activation import (celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh,  # noqa: F401
                              leaky_relu, logsigmoid, rrelu, softmin, softshrink, tanhshrink,
                              mish, prelu, relu, relu6, selu, silu, softplus, softsign, threshold)
from ..ops.elementwise import sigmoid, tanh, where  # noqa: F401
from ..ops.linalg import bilinear, linear  # noqa: F401
from ..ops.arrange import channel_shuffle, pixel_shuffle, pixel_unshuffle  # noqa: F401
from ..ops.arrange import channel_shuffle as native_channel_shuffle  # noqa: F401  (torch's other name)
from ..ops.loss import softmax_cross_entropy
from ..ops.reduce import log_softmax as _log_softmax, softmax as _softmax
from ..ops.shape import pad  # noqa: F401
from ..ops.ctc import ctc_loss  # noqa: F401
from ..ops.grid_sample import affine_grid, grid_sample  # noqa: F401
from ..ops.resample import adaptive_avg_pool3d, interpolate, upsample, upsample_bilinear, upsample_nearest  # noqa: F401
from ..ops.conv import (adaptive_avg_pool1d, adaptive_avg_pool2d, conv1d, conv2d,  # noqa: F401
                        conv_transpose1d, conv_transpose2d, fold, unfold)
from ..ops.pooling import (avg_pool1d, avg_pool2d, lp_pool1d, lp_pool2d, max_pool1d, max_pool2d,  # noqa: F401
                           max_unpool1d, max_unpool2d, max_unpool3d)
from ..ops.fractional_pool import fractional_max_pool2d, fractional_max_pool3d  # noqa: F401
from ..ops.volume import (adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,  # noqa: F401
                          avg_pool3d, conv3d, conv_transpose3d, lp_pool3d, max_pool3d)
from ._loss_common import (as_float_target as _as_float_target, legacy_reduction as _legacy,
                           mean_over_weights as _mean_over_weights, reduce_loss as _reduce, same_shape as _same_shape)
from .embedding import embedding, embedding_bag  # noqa: F401
from .norm import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, rms_norm  # noqa: F401
from .functional_losses import (cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss,  # noqa: F401
                                linear_cross_entropy,
                                margin_ranking_loss, multi_margin_loss, multilabel_margin_loss,
                                multilabel_soft_margin_loss, pairwise_distance, pdist, poisson_nll_loss,
                                soft_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss)
from ..random import _gen
from ..tensor import Tensor

_wrap = Tensor._wrap


def _implicit_dim(name, ndim):
    """torch's legacy choice when no dim is given (with its warning): dim 0 of a 0-, 1- or 3-d input, else 1."""
    import warnings
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  f"an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(x)ᵢ = e^(xᵢ - max x) / Σⱼ e^(xⱼ - max x) over dim (see cr.softmax)."""
    return _softmax(input, dim if dim is not None else _implicit_dim("softmax", input.ndim), dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log softmax(x) = x - logsumexp(x) over dim (see cr.log_softmax)."""
    return _log_softmax(input, dim if dim is not None else _implicit_dim("log_softmax", input.ndim), dtype)


def _without_mask(input, p, training, name):
    """Every dropout's shared cases: p outside [0, 1] is an error; in eval mode or with p = 0 the input passes
    unchanged, with p = 1 everything is dropped (zeros, not the 0/0 of rescaling by 1/(1-p)). None: draw a mask."""
    if not 0 <= p <= 1:
        raise ValueError(f"{name}: probability must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    return None


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p), so the expectation is unchanged."""
    done = _without_mask(input, p, training, "dropout")
    if done is not None:
        return done
    return dropout_with_mask(input, p)[0]


def dropout_with_mask(input, p):
    """(input with each entry zeroed with probability p and the rest scaled by 1/(1-p), the bool mask of the kept
    entries); p = 1 drops everything."""
    keep = _gen().random(input.shape) >= p
    return input * _wrap((keep * (0.0 if p == 1 else 1 / (1 - p))).astype(input.dtype)), keep


def channel_dropout(input, p, training, spatial, name):
    """Zero whole channels with probability p (scaling the rest by 1/(1-p)): dim 1 of (N, C, *spatial), or dim 0
    of an unbatched (C, *spatial) input."""
    if 0 <= p <= 1 and input.ndim not in (1 + spatial, 2 + spatial):
        raise ShapeError(f"{name}: expected a {2 + spatial}-D (N, C, ...) or {1 + spatial}-D (C, ...) input, got "
                         f"{input.shape}")
    done = _without_mask(input, p, training, name)
    if done is not None:
        return done
    lead = input.ndim - spatial
    keep = _gen().random(input.shape[:lead] + (1,) * spatial) >= p
    return input * _wrap((keep / (1 - p)).astype(input.dtype))


def dropout1d(input, p=0.5, training=True, inplace=False):
    return channel_dropout(input, p, training, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    return channel_dropout(input, p, training, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return channel_dropout(input, p, training, 3, "dropout3d")


_SELU_ALPHA = 1.6732632423543772 * 1.0507009873554805   # SELU's saturation value -λα: where dropped units go


def _alpha_dropout(input, p, training, name, feature):
    """Dropout that keeps SELU's self-normalisation: dropped units are set to -λα, then the affine map
    a·x + b with a = ((1-p)(1 + p·λ²α²))^(-1/2), b = a·λα·p restores mean 0 and variance 1."""
    done = _without_mask(input, p, training, name)
    if done is not None:
        return done
    if feature and input.ndim < 2:
        raise ShapeError(f"{name}: expected (N, C, ...) input to drop whole channels, got {input.shape}")
    shape = input.shape[:2] + (1,) * (input.ndim - 2) if feature else input.shape
    keep = (_gen().random(shape) >= p).astype(input.dtype)
    a = 1.0 / np.sqrt((_SELU_ALPHA ** 2 * p + 1) * (1 - p))
    return input * _wrap(keep * a) + _wrap(((keep - 1) * _SELU_ALPHA * a + _SELU_ALPHA * a * p).astype(input.dtype))


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, "alpha_dropout", False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, "feature_alpha_dropout", True)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A differentiable sample from the categorical distribution softmax(logits): softmax((logits + G)/τ) with
    Gumbel noise G = -log E, E ~ Exp(1). hard=True returns the one-hot argmax in the forward pass with the soft
    sample's gradient (straight-through)."""
    if tau <= 0:
        raise ValueError(f"gumbel_softmax: temperature tau must be positive, got {tau}")
    gumbels = -np.log(_gen().exponential(size=logits.shape)).astype(logits.dtype)
    soft = softmax((logits + _wrap(gumbels)) / tau, dim)
    if not hard:
        return soft
    index = np.expand_dims(soft._data.argmax(dim), dim)
    one_hot_sample = np.zeros(soft.shape, soft.dtype)
    np.put_along_axis(one_hot_sample, index, 1.0, dim)
    return _wrap(one_hot_sample) - soft.detach() + soft


@computed_in_float32(float32_under_autocast=True)
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """L = (ŷ - y)²;  dL/dŷ = 2(ŷ - y) (÷ n for the mean). With weight (the input's shape): w·(ŷ - y)², and the
    mean is Σ w·(ŷ - y)² / Σ w, as torch's."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _as_float_target(target, input, promote=True)
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _weighted_reduce(d * d, weight, reduction, "mse_loss")


@computed_in_float32(float32_under_autocast=True)
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """L = |ŷ - y| (w·|ŷ - y| with weight, the mean then Σ w·|ŷ - y| / Σ w)."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _as_float_target(target, input, promote=True)
    _same_shape(input, target, "l1_loss")
    return _weighted_reduce((input - target).abs(), weight, reduction, "l1_loss")


def _weighted_reduce(loss, weight, reduction, name, mean_over_weight=True):
    """torch's elementwise weights of mse/l1/huber: weight has the input's shape; 'mean' divides Σ w·ℓ by Σ w
    (huber: by the number of elements, as torch does)."""
    if weight is None:
        return _reduce(loss, reduction, name)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ShapeError(f"{name}: weight has shape {tuple(weight.shape)} but the input has shape {tuple(loss.shape)}; "
                         f"the weights must have the input's size (one per element)")
    loss = loss * _as_float_target(weight, loss)
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction, name)


@computed_in_float32(float32_under_autocast=True)
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """½d²/β where |d| < β, else |d| - ½β: Huber's loss divided by β (plain L1 at β = 0)."""
    reduction = _legacy(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be ≥ 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    return _huber(input, target, reduction, beta, None, "smooth_l1_loss") * (1.0 / beta)


@computed_in_float32(float32_under_autocast=True)
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """½d² where |d| ≤ δ, else δ(|d| - ½δ); times weight (the input's shape) when given."""
    return _huber(input, target, reduction, delta, weight, "huber_loss")


def _huber(input, target, reduction, delta, weight, name):
    """huber_loss, with errors and warnings naming `name` (smooth_l1_loss is Huber's divided by β)."""
    target = _as_float_target(target, input, promote=name == "smooth_l1_loss")
    _same_shape(input, target, name)
    d = input - target
    a = d.abs()
    quad = a.clamp(max=delta)
    return _weighted_reduce(0.5 * quad * quad + delta * (a - quad), weight, reduction, name, False)


@computed_in_float32(float32_under_autocast=True)
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """L = -[y log a + (1-y) log(1-a)], logs clipped at -100 as PyTorch does; dL/da = (a - y)/(a(1 - a))."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _as_float_target(target, input)
    _same_shape(input, target, "binary_cross_entropy")
    a = input._data
    if ((a < 0) | (a > 1)).any():   # NaN compares False: it propagates, and an all-NaN input makes no nanmin warning
        outside = a[(a < 0) | (a > 1)]
        raise ValueError(f"binary_cross_entropy: inputs must be probabilities in [0, 1], got {outside.size} outside "
                         f"(min {np.nanmin(a):.4g}, max {np.nanmax(a):.4g}). Apply sigmoid first, or use "
                         f"binary_cross_entropy_with_logits "
                         f"(BCEWithLogitsLoss) on the raw outputs, which is also more stable")
    log_a = input.log().clamp(min=-100.0)
    log_1ma = (1.0 - input).log().clamp(min=-100.0)
    loss = -(target * log_a + (1.0 - target) * log_1ma)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


@computed_in_float32(float32_under_autocast=True)
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """L = (1-y)·x + w·softplus(-x) with w = 1 + (p-1)y: stable for any x;  dL/dx = σ(x) - y when p = 1."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _as_float_target(target, input, promote=True)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    sp = softplus(-input)
    if pos_weight is not None:
        pw = _as_float_target(pos_weight, input)
        loss = (1.0 - target) * input + (1.0 + (pw - 1.0) * target) * sp
    else:
        loss = (1.0 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


@computed_in_float32(float32_under_autocast=True)
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target ‖ q) pointwise: y·(log y - x) with x = log q (input holds log-probabilities, as torch's), or
    eʸ·(y - x) when log_target; 0·log 0 counts as 0. reduction='batchmean' divides the sum by the batch size,
    which is the true KL divergence ('mean' divides by every element, as PyTorch does)."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _as_float_target(target, input, promote=True)
    _same_shape(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        t = target._data
        if (t < 0).any():   # (NaN compares False: an all-NaN target is no error, and nanmin would warn)
            raise ValueError(f"kl_div: target probabilities must be ≥ 0, got min {t[t < 0].min():.4g}; pass "
                             f"log_target=True if the target holds log-probabilities")
        # y·log y with 0·log 0 = 0, differentiable in y (log y + 1) where y ≠ 0 (a NaN y too: its gradient is
        # NaN, not the 0 - x of log 1), without evaluating log 0
        loss = target * (where(target != 0, target, 1.0).log() - input)
    if reduction == "batchmean":
        return _mean_over_weights(loss.sum(), input.shape[0] if input.ndim else 1, "kl_div")
    return _reduce(loss, reduction, "kl_div")


def one_hot(tensor, num_classes=-1):
    """Integer class labels (any shape) → int64 one-hot vectors in a new last dim of size num_classes (the
    largest label + 1 when -1)."""
    labels = tensor._data
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: class labels must be integers, got {labels.dtype}; use .long()")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}), got min {labels.min()}, max "
                         f"{labels.max()}")
    return _wrap((labels[..., None] == np.arange(num_classes)).astype(np.int64))


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(‖x‖_p, eps) along dim."""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)   # as torch; norm's subgradient 0 at 0


@computed_in_float32
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along dim (inputs broadcast together), as torch: each input divided
    by its clamped norm first, so neither Σx² nor the product of the norms can overflow (x = 1e20 in float32)."""
    x1, x2 = promote_pair(floating(x1), floating(x2))
    if x1.shape != x2.shape:
        from ..ops.stacking import broadcast_tensors
        x1, x2 = broadcast_tensors(x1, x2)
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim=dim)


def _check_class_target(input, target, name, ignore_index=-100):
    """-> (the targets as an int array, whether every label lies in [0, C)); raises on labels out of range that
    are not the ignore_index."""
    t = as_array(target)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{name}: class-index targets must be integers (int64), got {t.dtype}. Use target.long(), "
                         f"or pass class probabilities with the same shape as the input")
    shape = input._data.shape
    n_classes = shape[1] if len(shape) > 1 else shape[0]
    expected = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    if t.shape != expected:
        raise ShapeError(f"{name}: target shape {t.shape} does not match input shape {input.shape}; class indices "
                         f"should have shape {expected}")
    # every label in [0, C) in one reduction (this check runs on every training step): read as unsigned, a
    # negative label is larger than any class count
    if t.size and np.maximum.reduce(t.view(t.dtype.str.replace("i", "u")), axis=None) < n_classes:
        return t, True
    valid = t[t != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= n_classes):
        raise IndexError(f"{name}: target labels must be in [0, {n_classes}) for {n_classes} classes, got min "
                         f"{valid.min()}, max {valid.max()}. Check the number of output units or re-map labels")
    return t, False


def _classes_last(input):
    """(N, C, d1, ...) -> (N·d1·…, C)."""
    if input.ndim <= 2:
        return input
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)
    return input.permute(*perm).reshape(-1, input.shape[1])


@computed_in_float32(float32_under_autocast=True)
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """L = -w[y]·logp[y], averaged over Σ w[y] for 'mean'."""
    return _nll(input, target, weight, ignore_index, _legacy(size_average, reduce, reduction), "nll_loss")


def _nll(input, target, weight, ignore_index, reduction, name):
    """nll_loss, with errors and warnings under `name` (cross_entropy's when it calls this)."""
    t, _ = _check_class_target(input, target, name, ignore_index)
    logp = _classes_last(input)
    out_shape = t.shape   # () for an unbatched (C,) input
    if logp.ndim == 1:
        logp, t = logp.unsqueeze(0), t.reshape(1)
    flat_t = t.reshape(-1)
    keep = flat_t != ignore_index
    safe_t = np.where(keep, flat_t, 0)
    picked = -logp.gather(1, _wrap(safe_t[:, None])).squeeze(1)
    w = np.ones(len(flat_t), logp.dtype) if weight is None else \
        (as_array(weight))[safe_t].astype(logp.dtype)
    w = w * keep
    loss = picked * _wrap(w)
    if reduction == "mean":
        return _mean_over_weights(loss.sum(), w.sum(), name)
    if reduction == "none":
        return loss.reshape(out_shape)
    return _reduce(loss, reduction, name)


@computed_in_float32(float32_under_autocast=True)
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Softmax + negative log-likelihood. Class indices or class probabilities as targets;
    the plain case is one fused node whose gradient is softmax(z) - onehot(y). float16 logits are computed in
    float32 (amp.computed_in_float32), so the loss never over- or underflows; the loss is float16 again, or
    float32 under autocast (as PyTorch's)."""
    reduction = _legacy(size_average, reduce, reduction)
    if isinstance(target, Tensor) and target.dtype.kind == "f" or \
            (not isinstance(target, Tensor) and np.asarray(target).dtype.kind == "f"):
        target = _as_float_target(target, input, promote=True)
        if input.ndim > 1 and tuple(target.shape) == (input.shape[0],) + tuple(input.shape[2:]):
            raise DTypeError(f"cross_entropy: target of shape {target.shape} and dtype {target.dtype} looks like class "
                             f"indices for input {input.shape}, but indices must be integers: pass target.long(). "
                             f"(A float target is read as class probabilities, of the input's shape.)")
        _same_shape(input, target, "cross_entropy")
        logp = log_softmax(input, 1 if input.ndim > 1 else 0)
        y = target
        if label_smoothing:
            y = y * (1 - label_smoothing) + label_smoothing / input.shape[1 if input.ndim > 1 else 0]
        per = logp * y if weight is None else logp * y * _class_weight_shape(weight, input)
        loss = -per.sum(dim=1 if input.ndim > 1 else 0)
        return _reduce(loss, reduction, "cross_entropy")
    t, in_range = _check_class_target(input, target, "cross_entropy", ignore_index)
    if (weight is None and not label_smoothing and input.ndim == 2 and reduction in ("mean", "sum", "none")
            and not _has_label(t, ignore_index, in_range, input.shape[1])):
        return softmax_cross_entropy(input, t, reduction)
    logp = log_softmax(input, 1 if input.ndim > 1 else 0)
    nll = _nll(logp, target, weight, ignore_index, reduction, "cross_entropy")
    if not label_smoothing:
        return nll
    n_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    flat = _classes_last(logp) if logp.ndim > 1 else logp.unsqueeze(0)
    keep = (t.reshape(-1) != ignore_index)
    w = np.ones(n_classes, flat.dtype) if weight is None else np.asarray(weight._data if isinstance(weight, Tensor) else weight, flat.dtype)
    smooth = -(flat * _wrap(w)).sum(dim=1) * _wrap(keep.astype(flat.dtype)) / n_classes
    if reduction == "mean":
        denom = keep.sum() if weight is None else float((w[np.where(keep, t.reshape(-1), 0)] * keep).sum())
        smooth = _mean_over_weights(smooth.sum(), denom, "cross_entropy")
    elif reduction == "sum":
        smooth = smooth.sum()
    else:
        smooth = smooth.reshape(t.shape)
    return (1 - label_smoothing) * nll + label_smoothing * smooth


def _has_label(t, label, in_range, n_classes):
    """Whether the integer targets t contain `label` (the ignore_index). When every label is known to lie in
    [0, C), the usual -100 cannot be among them: no search."""
    if not t.size or in_range and not 0 <= label < n_classes:
        return False
    return bool(np.logical_or.reduce(t == label, axis=None))


def _class_weight_shape(weight, input):
    w = weight if isinstance(weight, Tensor) else Tensor(weight)
    return w.reshape((1, -1) + (1,) * (input.ndim - 2)) if input.ndim > 1 else w


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(QKᵀ/√d + mask)·V (see chainrule.nn.attention)."""
    from .attention import scaled_dot_product_attention as sdpa
    return sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


def _with_indices(pool):
    """torch's F.<pool>_with_indices: the pool with return_indices=True."""
    def pooled(*args, **kwargs):
        kwargs.pop("return_indices", None)
        return pool(*args, return_indices=True, **kwargs)
    pooled.__name__ = pool.__name__ + "_with_indices"
    return pooled


max_pool1d_with_indices, max_pool2d_with_indices, max_pool3d_with_indices = (
    _with_indices(max_pool1d), _with_indices(max_pool2d), _with_indices(max_pool3d))
adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices, adaptive_max_pool3d_with_indices = (
    _with_indices(adaptive_max_pool1d), _with_indices(adaptive_max_pool2d), _with_indices(adaptive_max_pool3d))
fractional_max_pool2d_with_indices, fractional_max_pool3d_with_indices = (
    _with_indices(fractional_max_pool2d), _with_indices(fractional_max_pool3d))


def _register():
    """The differentiable functions composed here that are not losses the engine issue already covers: gradchecked
    by tests/test_ops.py like every op."""
    from ..ops.registry import T, register, sample

    def np_huber(d, beta):
        a = np.abs(d)
        return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)

    def np_normalize(x, p=2.0, dim=1, eps=1e-12):
        return x / np.maximum((np.abs(x) ** p).sum(dim, keepdims=True) ** (1 / p), eps)

    def np_cosine(a, b, dim=1, eps=1e-8):
        return (a * b).sum(dim) / np.maximum(np.sqrt((a * a).sum(dim) * (b * b).sum(dim)), eps)
    register("smooth_l1_loss", ref=lambda x, y, reduction="mean", beta=1.0: np_huber(x - y, beta).mean(),
             samples=[sample(T((3, 4)), T((3, 4), grad=False)), sample(T((5,)), T((5,)), beta=0.5)])(smooth_l1_loss)
    register("kl_div", ref=lambda x, y, reduction="mean", log_target=False: (y * (np.log(y) - x)).mean(),
             samples=[sample(T((2, 3), -3, -0.1), T((2, 3), 0.1, 1.0)), sample(T((4,), -2, -0.5), T((4,), 0.2, 0.9))])(
        kl_div)
    register("normalize", ref=np_normalize,
             samples=[sample(T((3, 4))), sample(T((3, 4)), 3.0, 0)])(normalize)
    register("cosine_similarity", ref=np_cosine, samples=[sample(T((3, 4)), T((3, 4))), sample(T((2, 5)), T((5,)), -1)])(
        cosine_similarity)


_register()
from .attention import multi_head_attention_forward  # noqa: E402,F401  (attention reads this module)
from ..ops._util import as_array, floating, promote_pair
