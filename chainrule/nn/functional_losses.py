"""Losses beyond regression and classification, with PyTorch's names, arguments and defaults: ranking and margin
losses, embedding (metric-learning) losses, and the Poisson and Gaussian negative log-likelihoods.

Each is composed from registered ops (so its gradient is the chain rule through them); hinges max(0, ·) have
gradient 0 at the kink, as in torch. Targets of ±1 are checked: a 0/1 target silently halves a margin loss.
"""
import math

import numpy as np

from ..amp import computed_in_float32
from ..errors import ShapeError
from ..ops.activation import logsigmoid, softplus
from ..ops.elementwise import where
from ..ops.linalg import linear
from ..ops.linear_cross_entropy import LinearCrossEntropyOptions, fused_linear_cross_entropy
from ..tensor import Tensor
from ._loss_common import as_float_target as _as_float_target, legacy_reduction as _legacy, reduce_loss as _reduce
from ..ops._util import as_array

_wrap = Tensor._wrap


def _signs(target, name):
    """The ±1 labels of a margin loss, as an array; anything else is a named error."""
    y = as_array(target)
    if y.size and not np.isin(y, (-1, 1)).all():
        bad = np.unique(y[~np.isin(y, (-1, 1))])[:5]
        raise ValueError(f"{name}: target must hold 1 (similar / ranked first) or -1 (dissimilar / ranked second), "
                         f"got {bad.tolist()}. Map 0/1 labels with 2 * y - 1")
    return y


def _broadcastable(shapes, name):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{name}: shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast together; "
                         f"pass inputs of one shape (or with size-1 dims where one is shared)") from None


@computed_in_float32(float32_under_autocast=True)
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """ℓ = max(0, -y·(x₁ - x₂) + margin): x₁ should rank above x₂ by the margin where y = 1, below where y = -1."""
    reduction = _legacy(size_average, reduce, reduction)
    y = _signs(target, "margin_ranking_loss")
    if not len(input1.shape) == len(input2.shape) == len(y.shape):
        # as torch: a (N, 1) score against a (N,) target would otherwise broadcast to an (N, N) loss
        raise ShapeError(f"margin_ranking_loss: input1, input2 and target must have the same number of dims; got "
                         f"shapes {tuple(input1.shape)}, {tuple(input2.shape)}, {tuple(y.shape)}; reshape the "
                         f"target to the inputs' shape")
    _broadcastable([input1.shape, input2.shape, y.shape], "margin_ranking_loss")
    y = _as_float_target(y, input1, promote=True)
    return _reduce((-y * (input1 - input2) + margin).clamp(min=0.0), reduction, "margin_ranking_loss")


@computed_in_float32(float32_under_autocast=True)
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """ℓ = x where y = 1, max(0, margin - x) where y = -1 (x is usually a distance between two embeddings)."""
    reduction = _legacy(size_average, reduce, reduction)
    y = _signs(target, "hinge_embedding_loss")
    _broadcastable([input.shape, y.shape], "hinge_embedding_loss")
    loss = where(_wrap(y != 1), (margin - input).clamp(min=0.0), 0.0) + where(_wrap(y != -1), input, 0.0)
    return _reduce(loss, reduction, "hinge_embedding_loss")


@computed_in_float32(float32_under_autocast=True)
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """ℓ = log(1 + exp(-y·x)) = softplus(-y·x) for y = ±1: a smooth hinge, stable at any x."""
    reduction = _legacy(size_average, reduce, reduction)
    y = _signs(target, "soft_margin_loss")
    if input.shape != y.shape:
        raise ShapeError(f"soft_margin_loss: input shape {input.shape} and target shape {y.shape} differ")
    return _reduce(softplus(-_as_float_target(y, input) * input), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, ℓ = -(1/C) Σ_c w_c [y_c log σ(x_c) + (1 - y_c) log σ(-x_c)] for (N, C) logits and 0/1 targets:
    binary cross-entropy with logits, averaged over classes."""
    reduction = _legacy(size_average, reduce, reduction)
    y = _as_float_target(target, input, promote=True)
    if input.shape != y.shape:
        raise ShapeError(f"multilabel_soft_margin_loss: input shape {input.shape} and target shape {y.shape} differ "
                         f"(targets are 0/1 per class, the same shape as the logits)")
    loss = -(y * logsigmoid(input) + (1.0 - y) * logsigmoid(-input))
    if weight is not None:
        loss = loss * _as_float_target(weight, input)
    return _reduce(loss.mean(dim=-1), reduction, "multilabel_soft_margin_loss")


def _cosine(x1, x2, dim):
    """cos = Σ x₁x₂ / √((Σ x₁² + ε)(Σ x₂² + ε)), ε = 1e-12 (torch's form: finite at a zero vector)."""
    return (x1 * x2).sum(dim=dim) / (((x1 * x1).sum(dim=dim) + 1e-12) * ((x2 * x2).sum(dim=dim) + 1e-12)).sqrt()


@computed_in_float32(float32_under_autocast=True)
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """ℓ = 1 - cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) - margin) where y = -1; inputs (N, D) or (D,)."""
    reduction = _legacy(size_average, reduce, reduction)
    y = _signs(target, "cosine_embedding_loss")
    if input1.shape != input2.shape or input1.ndim not in (1, 2) or y.shape != input1.shape[:-1]:
        raise ShapeError(f"cosine_embedding_loss: expected inputs of one shape (N, D) or (D,) and a target of shape "
                         f"(N,) or (), got {input1.shape}, {input2.shape} and target {y.shape}")
    cos = _cosine(input1, input2, -1)
    loss = where(_wrap(y == 1), 1.0 - cos, 0.0) + where(_wrap(y == -1), (cos - margin).clamp(min=0.0), 0.0)
    return _reduce(loss, reduction, "cosine_embedding_loss")


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x₁ - x₂ + ε‖_p over the last dim (ε keeps the norm differentiable where x₁ = x₂), as torch."""
    _broadcastable([x1.shape, x2.shape], "pairwise_distance")
    from ..linalg import vector_norm
    return vector_norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def pdist(input, p=2.0):
    """‖x_i - x_j‖_p for every pair of rows i < j of input (N, M), in row-major order: N(N-1)/2 distances."""
    if input.ndim != 2:
        raise ShapeError(f"pdist: expected a 2-D (N, M) input, got shape {input.shape}")
    i, j = np.triu_indices(input.shape[0], 1)
    from ..linalg import vector_norm
    return vector_norm(input[i] - input[j], p, dim=-1)


@computed_in_float32(float32_under_autocast=True)
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """ℓ = max(0, d(a, p) - d(a, n) + margin) with d the pairwise p-norm distance; swap uses min(d(a, n), d(p, n))
    as the negative distance (Balntas et al., 2016)."""
    reduction = _legacy(size_average, reduce, reduction)
    if not (anchor.ndim == positive.ndim == negative.ndim) or anchor.ndim not in (1, 2):
        raise ShapeError(f"triplet_margin_loss: anchor, positive and negative must all be (N, D) or (D,), got "
                         f"{anchor.shape}, {positive.shape} and {negative.shape}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0.0), reduction, "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """triplet_margin_loss with any distance d(x, y) -> (N,) (default: pairwise_distance)."""
    dist = distance_function or pairwise_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(dist(positive, negative))
    return _reduce((d_pos - d_neg + margin).clamp(min=0.0), reduction, "triplet_margin_with_distance_loss")


@computed_in_float32(float32_under_autocast=True)
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge: ℓ = (1/C) Σ_{i≠y} w_y · max(0, margin - x_y + x_i)^p for (N, C) scores and (N,) labels."""
    reduction = _legacy(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    x = input if input.ndim == 2 else input.reshape(1, -1)   # (C,) or a 0-d score of one class: one sample
    y = as_array(target)
    y = y.reshape(-1)
    n, c = x.shape
    if y.dtype.kind not in "iu" or y.shape != (n,) or (y.size and (y.min() < 0 or y.max() >= c)):
        raise ValueError(f"multi_margin_loss: target must be {n} integer class labels in [0, {c}), got dtype "
                         f"{y.dtype} and shape {y.shape}")
    rows = np.arange(n)
    picked = x[rows, y].unsqueeze(1)
    hinge = (margin - picked + x).clamp(min=0.0)
    if p == 2:
        hinge = hinge * hinge
    others = np.ones((n, c), bool)
    others[rows, y] = False
    if weight is not None:
        w = as_array(weight)
        hinge = hinge * _wrap(w[y].astype(x.dtype)[:, None])
    loss = where(_wrap(others), hinge, 0.0).sum(dim=1) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multi_margin_loss")


@computed_in_float32(float32_under_autocast=True)
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """ℓ = Σ_{j ∈ labels} Σ_{i ∉ labels} max(0, 1 - (x_j - x_i)) / C; each row of target lists its labels and ends
    at the first -1 (torch's layout). A label listed twice counts twice, as in torch's sum over the list."""
    reduction = _legacy(size_average, reduce, reduction)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = as_array(target)
    t = t.reshape(x.shape)
    n, c = x.shape
    listed = np.zeros((n, c), np.int64)   # how often each class is listed in the row's labels
    for r in range(n):
        for k in t[r]:
            if k < 0:
                break
            if k >= c:
                raise ValueError(f"multilabel_margin_loss: label {k} in row {r} is out of range for {c} classes")
            listed[r, k] += 1
    pairs = _wrap((listed[:, :, None] * (listed[:, None, :] == 0)).astype(x.dtype))   # (n, j, i)
    hinge = (1.0 - (x.unsqueeze(2) - x.unsqueeze(1))).clamp(min=0.0)
    loss = (hinge * pairs).sum(dim=(1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multilabel_margin_loss")


@computed_in_float32(float32_under_autocast=True)
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of target ~ Poisson(λ): ℓ = e^x - y·x with x = log λ (log_input), else
    ℓ = λ - y·log(λ + ε). full adds Stirling's y log y - y + ½ log(2πy) where y > 1."""
    reduction = _legacy(size_average, reduce, reduction)
    y = _as_float_target(target, input, promote=True)
    _broadcastable([input.shape, y.shape], "poisson_nll_loss")
    if log_input:
        loss = input.exp() - y * input
    else:
        loss = input - y * (input + eps).log()
    if full:   # Stirling's approximation of log y!, differentiable in y too (torch's target may need grad)
        big = _wrap(y._data > 1)
        safe = where(big, y, 2.0)
        loss = loss + where(big, safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log(), 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


@computed_in_float32
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of target ~ N(input, var): ℓ = ½(log max(var, ε) + (x - y)² / max(var, ε)) (+ ½ log 2π
    when full). var has the input's shape, or the last dim dropped, or size 1 in one dim that the input has
    (one variance shared along it: (4, 1, 32, 32) for (4, 3, 32, 32)); the clamp at ε passes gradient through
    unchanged, as torch's."""
    var = _as_float_target(var, input, promote=True)
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and sum(v for n, v in zip(input.shape, var.shape) if n != v) == 1):
            raise ShapeError(f"gaussian_nll_loss: var of shape {var.shape} does not fit input {input.shape}; give "
                             f"it the input's shape, the input's shape with the last dim dropped, or size 1 in one "
                             f"dim")
    if (var._data < 0).any():   # (NaN compares False, with no all-NaN warning from nanmin)
        raise ValueError(f"gaussian_nll_loss: var has negative entries (min {var._data[var._data < 0].min():.4g}); a "
                         f"variance must be ≥ 0 (predict log-variance and exponentiate, or apply softplus)")
    y = _as_float_target(target, input, promote=True)
    # + a constant: the value is clamped, the gradient not (0 where var ≥ ε: max(var, ε) - var would be ∞ - ∞ = nan)
    lifted = _wrap(np.where(var._data < eps, eps - var._data, 0).astype(var.dtype, copy=False))
    v = var + lifted
    loss = 0.5 * (v.log() + (input - y) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


@computed_in_float32(float32_under_autocast=True)
def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target, weight, ignore_index, reduction,
    label_smoothing); linear_weight (C, *out_features, F) gives K-dimensional logits (N, C, *out_features). With
    options and class indices (no out_features, no label smoothing), the chunked fused node."""
    from .functional import cross_entropy
    if input.ndim not in (1, 2):
        raise ShapeError(f"linear_cross_entropy: expected input of 1 or 2 dims (features last), got {input.shape}")
    if linear_weight.ndim < 2 or linear_weight.shape[-1] != input.shape[-1]:
        raise ShapeError(f"linear_cross_entropy: linear_weight {linear_weight.shape} must be (classes, …, "
                         f"{input.shape[-1]}) for input {input.shape}")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes,) + out_features:
        raise ShapeError(f"linear_cross_entropy: linear_bias has shape {tuple(linear_bias.shape)}, expected "
                         f"{(classes,) + out_features}")
    logits_shape = tuple(input.shape[:-1]) + (classes,) + out_features
    probabilities = tuple(target.shape) == logits_shape
    if probabilities and ignore_index is not None:
        raise ValueError("linear_cross_entropy: ignore_index cannot be given when the target holds probabilities")
    ignore = -100 if ignore_index is None else ignore_index
    fused = options is not None and not out_features and not label_smoothing and not probabilities and \
        reduction in ("mean", "sum", "none")
    if not fused:
        flat_w = linear_weight.reshape(-1, input.shape[-1])
        flat_b = linear_bias.reshape(-1) if linear_bias is not None else None
        logits = linear(input, flat_w, flat_b).reshape(logits_shape)
        return cross_entropy(logits, target, weight, ignore_index=ignore, reduction=reduction,
                             label_smoothing=label_smoothing)
    x, t = (input, target) if input.ndim == 2 else (input.unsqueeze(0), target.reshape(1))
    labels = as_array(t)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"linear_cross_entropy: class-index targets must be integers, got {labels.dtype}")
    bad = labels[(labels != ignore) & ((labels < 0) | (labels >= classes))]
    if bad.size:
        raise IndexError(f"linear_cross_entropy: target labels must be in [0, {classes}), got {bad[:5].tolist()}")
    chunk = options.batch_chunk_size or max(1, (8 << 20) // max(1, classes * x._data.itemsize))
    weights = None if weight is None else (as_array(weight))
    out = fused_linear_cross_entropy(x, linear_weight, linear_bias, labels.astype(np.int64),
                                     None if weights is None else weights.astype(x.dtype), ignore, reduction, chunk)
    return out.reshape(()) if input.ndim == 1 and reduction == "none" else out


def _register():
    """Gradchecked by tests/test_ops.py like every op (samples stay off the hinges' kinks)."""
    from ..ops.registry import T, register, sample
    ones = lambda n: np.where(np.arange(n) % 2, 1.0, -1.0)  # noqa: E731
    register("margin_ranking_loss", ref=lambda a, b, y, margin=0.0: np.maximum(0, -y * (a - b) + margin).mean(),
             samples=[sample(T((6,)), T((6,)), ones(6), margin=0.3)])(margin_ranking_loss)
    register("hinge_embedding_loss",
             ref=lambda x, y, margin=1.0: np.where(y == 1, x, np.maximum(0, margin - x)).mean(),
             samples=[sample(T((6,), 0, 2, away=1.0), ones(6))])(hinge_embedding_loss)
    register("soft_margin_loss", ref=lambda x, y: np.log1p(np.exp(-y * x)).mean(),
             samples=[sample(T((2, 3)), ones(6).reshape(2, 3))])(soft_margin_loss)
    register("multilabel_soft_margin_loss", ref=None,
             samples=[sample(T((3, 4)), (np.arange(12).reshape(3, 4) % 3 == 0).astype(float))])(
        multilabel_soft_margin_loss)
    register("pdist", ref=lambda x, p=2.0: np.array([np.linalg.norm(x[i] - x[j], p) for i, j in
                                                     zip(*np.triu_indices(len(x), 1))]),
             samples=[sample(T((4, 3))), sample(T((3, 5)), 1.5)])(pdist)
    register("cosine_embedding_loss", ref=None,
             samples=[sample(T((4, 3)), T((4, 3)), ones(4), margin=-1.0)])(cosine_embedding_loss)
    register("triplet_margin_loss", ref=None,
             samples=[sample(T((3, 4)), T((3, 4)), T((3, 4)), margin=5.0), sample(T((3, 4)), T((3, 4)), T((3, 4)),
                                                                               margin=5.0, p=3, swap=True)])(
        triplet_margin_loss)
    register("multi_margin_loss", ref=None,
             samples=[sample(T((3, 4)), np.array([0, 3, 1]), margin=5.0),
                      sample(T((3, 4)), np.array([2, 0, 1]), p=2, margin=5.0)])(multi_margin_loss)
    def np_poisson(x, y, log_input=True, full=False):
        loss = np.exp(x) - y * x if log_input else x - y * np.log(x + 1e-8)
        if full:
            s = np.where(y > 1, y, 2.0)
            loss = loss + np.where(y > 1, s * np.log(s) - s + 0.5 * np.log(2 * np.pi * s), 0.0)
        return loss.mean()

    def np_gaussian(x, y, v, full=False):
        v = v.reshape(v.shape + (1,) * (x.ndim - v.ndim))
        return (0.5 * (np.log(v) + (x - y) ** 2 / v) + (0.5 * np.log(2 * np.pi) if full else 0.0)).mean()
    register("multilabel_margin_loss", ref=None,
             samples=[sample(T((3, 4)), np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]])),
                      sample(T((4,)), np.array([2, -1, 0, 0]), reduction="sum")])(multilabel_margin_loss)
    register("pairwise_distance",
             ref=lambda a, b, p=2.0, eps=1e-6, keepdim=False: (np.abs(a - b + eps) ** p).sum(-1) ** (1 / p),
             samples=[sample(T((3, 4)), T((3, 4))), sample(T((2, 3)), T((3,)), 3.0)])(pairwise_distance)
    register("poisson_nll_loss", ref=np_poisson,
             samples=[sample(T((3, 4)), T((3, 4), 0, 3)), sample(T((5,), 0.5, 2), T((5,), 0, 3), log_input=False,
                                                                full=True)])(poisson_nll_loss)
    register("gaussian_nll_loss", ref=np_gaussian,
             samples=[sample(T((3, 4)), T((3, 4)), T((3, 4), 0.5, 2)), sample(T((3, 4)), T((3, 4)), T((3,), 0.5, 2),
                                                                             full=True)])(gaussian_nll_loss)
    options = LinearCrossEntropyOptions(batch_chunk_size=2)

    def with_bias(x, w, y, b=None, **kwargs):   # the bias as a positional argument, so that samples can vary it
        return linear_cross_entropy(x, w, y, linear_bias=b, **kwargs)
    register("linear_cross_entropy", ref=None, samples=[
        sample(T((5, 3)), T((4, 3)), np.array([0, 3, 1, 1, 2]), options=options),
        sample(T((5, 3)), T((4, 3)), np.array([0, 3, -100, 1, 2]), T((4,)), reduction="sum", options=options),
        sample(T((4, 3)), T((4, 3)), np.array([1, 3, 0, 2]), T((4,)), reduction="none", ignore_index=3,
               weight=np.array([1.0, 2.0, 0.5, 1.5]), options=options),
        sample(T((5, 3)), T((4, 3)), np.array([0, 3, 1, 1, 2]), T((4,)))])(with_bias)


_register()
