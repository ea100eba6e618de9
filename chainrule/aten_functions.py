"""torch's top-level names that keep ATen's native signatures, which reference code calls directly:
torch.embedding(weight, indices), torch.batch_norm(..., cudnn_enabled), torch.kl_div(input, target, reduction=1),
torch.lstm_cell(input, (h, c), w_ih, w_hh), torch.native_layer_norm(...) -> (out, mean, rstd), the *_copy forms of
the view ops, and torch.cond / torch.while_loop run eagerly.

Reductions arrive as ATen's ints (0 'none', 1 'mean', 2 'sum'), grid_sampler's modes as ints. Each function
forwards to the nn.functional function (or Tensor method) that computes it, so gradients are those of that op.
"""
import numpy as np

from . import creation
from .errors import ShapeError
from .nn import functional as F
from .nn.embedding import _renorm_rows
from .nn.rnn import _cell
from .tensor import Tensor
from .toplevel import _in_place_function, _method, _through_functional

_REDUCTIONS = ("none", "mean", "sum")   # ATen's Reduction enum: 0, 1, 2


def _reduction(value, op):
    if isinstance(value, str) and value in _REDUCTIONS:
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value <= 2:
        return _REDUCTIONS[value]
    raise ValueError(f"torch.{op}: reduction must be ATen's 0 ('none'), 1 ('mean') or 2 ('sum'), got {value!r}")


# ---- losses with an int reduction -------------------------------------------------------------------------------------
def kl_div(input, target, reduction=1, *, log_target=False):
    return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"), log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction, "margin_ranking_loss"))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction, "hinge_embedding_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction, "poisson_nll_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=1):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1, zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      reduction=_reduction(reduction, "ctc_loss"), zero_infinity=zero_infinity)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return F.binary_cross_entropy_with_logits(input, target, weight,
                                              reduction=_reduction(reduction, "binary_cross_entropy_with_logits"),
                                              pos_weight=pos_weight)


# ---- layers' native forms -------------------------------------------------------------------------------------------
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """weight[indices]; ATen's padding_idx -1 means none (nn.functional maps a negative index before calling)."""
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rows of input looked up by indices, scaled in place to norm ≤ max_norm (input[i] *= max_norm/(‖input[i]‖ +
    1e-7)); returns input."""
    _renorm_rows(input, np.asarray(indices._data if isinstance(indices, Tensor) else indices).reshape(-1),
                 max_norm, norm_type)
    return input


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(layer_norm(input), mean, 1/√(var + eps)) with the statistics over the normalised dims kept as size 1."""
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(dims, keepdim=True)
    rstd = (input.var(dims, unbiased=False, keepdim=True) + eps).rsqrt()
    return F.layer_norm(input, normalized_shape, weight, bias, eps), mean, rstd


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(batch_norm(input), batch mean, 1/√(batch var + eps)) per channel when training; in evaluation the two
    statistics are empty, as torch's CPU kernel returns them."""
    out = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = creation.empty(0, dtype=input.dtype)
        return out, empty, empty.clone()
    dims = (0,) + tuple(range(2, input.ndim))
    return out, input.mean(dims), (input.var(dims, unbiased=False) + eps).rsqrt()


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(group_norm(input), mean, 1/√(var + eps)), the statistics of shape (N, group)."""
    per_group = input.reshape(N, group, C // group * HxW)   # sized, not -1: an empty batch has nothing to infer from
    mean = per_group.mean(-1)
    rstd = (per_group.var(-1, unbiased=False) + eps).rsqrt()
    return F.group_norm(input, group, weight, bias, eps), mean, rstd


def native_dropout(input, p, train):
    """(dropout(input), the mask of kept entries as bool); train=False (None means True) keeps everything."""
    if not 0 <= p <= 1:
        raise ValueError(f"torch.native_dropout: probability must be in [0, 1], got {p}")
    if train is False:
        return input.clone(), Tensor._wrap(np.ones(input.shape, bool))
    out, keep = F.dropout_with_mask(input, p)
    return out, Tensor._wrap(keep)


def feature_dropout(input, p, train):
    """Dropout of whole features: entry (n, c) of an (N, C, *) input is kept or zeroed as one."""
    return F.channel_dropout(input, p, train, input.ndim - 2, "feature_dropout")


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, tuple(pad), mode="constant", value=value)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """(max_pool1d(input), the flat positions of the maxima); an empty stride means stride = kernel_size."""
    stride = None if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
    return F.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True)


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """conv{1,2,3}d, or conv_transpose{1,2,3}d when transposed, picked by the weight's number of dims."""
    spatial = weight.ndim - 2
    if spatial not in (1, 2, 3):
        raise ShapeError(f"torch.convolution: expected a weight of 3 to 5 dims (C_out, C_in/groups, *kernel), got "
                         f"shape {tuple(weight.shape)}")
    if transposed:
        conv = getattr(F, f"conv_transpose{spatial}d")
        return conv(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return getattr(F, f"conv{spatial}d")(input, weight, bias, stride, padding, dilation, groups)


def conv_tbc(input, weight, bias, pad=0):
    """A 1-d convolution over time of a (time, batch, channels) input, weight (kernel, C_in, C_out)."""
    out = F.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step from the raw weights: (h', c') from input and hx = (h, c)."""
    h, c = hx
    return _cell("LSTM", input, h, c, w_ih, w_hh, b_ih, b_hh)


def _one_state_cell(mode, name):
    def cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        return _cell(mode, input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]
    cell.__name__ = name
    cell.__doc__ = f"One {mode} step from the raw weights: h' from input and hx."
    return cell


gru_cell = _one_state_cell("GRU", "gru_cell")
rnn_tanh_cell = _one_state_cell("RNN_TANH", "rnn_tanh_cell")
rnn_relu_cell = _one_state_cell("RNN_RELU", "rnn_relu_cell")


def affine_grid_generator(theta, size, align_corners):
    return F.affine_grid(theta, list(size), align_corners=align_corners)


_INTERPOLATION = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """grid_sample with ATen's int modes: interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros,
    1 border, 2 reflection."""
    for value, names, what in ((interpolation_mode, _INTERPOLATION, "interpolation_mode"),
                               (padding_mode, _PADDING, "padding_mode")):
        if value not in range(len(names)):
            raise ValueError(f"torch.grid_sampler: {what} must be one of "
                             f"{', '.join(f'{i} ({n})' for i, n in enumerate(names))}, got {value!r}")
    return F.grid_sample(input, grid, _INTERPOLATION[interpolation_mode], _PADDING[padding_mode], align_corners)


# ---- real tensors: conjugation is the identity --------------------------------------------------------------------
def conj(input):
    """The complex conjugate: input itself, since chainrule's tensors are real (torch returns the same view)."""
    return input


def is_conj(input):
    return False


def is_neg(input):
    return False


def adjoint(input):
    """The conjugate transpose of the last two dims: the transpose, for a real tensor."""
    return input.transpose(-2, -1)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised tensor of `size`; physical_layout (how torch orders the dims in memory) must be a
    permutation of the dims and is otherwise a layout detail here."""
    if sorted(physical_layout) != list(range(len(size))):
        raise ValueError(f"empty_permuted: physical_layout {tuple(physical_layout)} is not a permutation of the "
                         f"{len(size)} dims of size {tuple(size)}")
    return creation.empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


# ---- control flow, run eagerly ----------------------------------------------------------------------------------------
def cond(pred, true_fn, false_fn, operands=()):
    """true_fn(*operands) if pred else false_fn(*operands); pred is a bool or a one-element tensor. Gradients flow
    through the branch taken."""
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise ShapeError(f"torch.cond: pred must be a bool or a one-element tensor, got shape {tuple(pred.shape)}")
        pred = bool(pred.item())
    if not isinstance(operands, (tuple, list)):
        raise TypeError(f"torch.cond: operands must be a tuple or list, got {type(operands).__name__}")
    return (true_fn if pred else false_fn)(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """carried = body_fn(*carried) while cond_fn(*carried); returns the final carried values as a tuple."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise TypeError(f"torch.while_loop: carried_inputs must be a tuple or list, got "
                        f"{type(carried_inputs).__name__}")
    carried = tuple(carried_inputs)
    while bool(cond_fn(*carried)):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(carried) != len(carried_inputs):
            raise ValueError(f"torch.while_loop: body_fn returned {len(carried)} values for {len(carried_inputs)} "
                             f"carried inputs; it must return one per carried input")
    return carried


# ---- the *_copy forms: the view op's result, copied ------------------------------------------------------------------
_VIEW_OPS = ("alias", "as_strided", "detach", "diagonal", "expand", "narrow", "permute", "select", "split",
             "split_with_sizes", "squeeze", "t", "transpose", "unbind", "unfold", "unsqueeze", "view")


def _copied(result):
    return [r.clone() for r in result] if isinstance(result, (tuple, list)) else result.clone()


def _copy_form(name):
    method = {"alias": lambda x: x.view_as(x), "split_with_sizes": lambda x, sizes, dim=0: x.split(list(sizes), dim)
              }.get(name) or _method(name)

    def copy(input, *args, **kwargs):
        return _copied(method(input, *args, **kwargs))
    copy.__name__ = f"{name}_copy"
    copy.__doc__ = f"input.{name}(…) as a new tensor that shares no memory with input (torch.{name}_copy)."
    return copy


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """input[start:end:step] along dim, copied."""
    index = [slice(None)] * input.ndim
    index[dim] = slice(start, end, step)
    return input[tuple(index)].clone()


EXPORTS = {name: globals()[name] for name in (
    "kl_div", "margin_ranking_loss", "cosine_embedding_loss", "hinge_embedding_loss", "poisson_nll_loss",
    "triplet_margin_loss", "ctc_loss", "binary_cross_entropy_with_logits", "embedding", "embedding_renorm_",
    "batch_norm", "instance_norm", "native_layer_norm", "native_batch_norm", "native_group_norm", "native_dropout",
    "feature_dropout", "constant_pad_nd", "max_pool1d_with_indices", "convolution", "conv_tbc",
    "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "affine_grid_generator", "grid_sampler", "conj",
    "is_conj", "is_neg", "adjoint", "empty_permuted", "cond", "while_loop", "slice_copy")}
EXPORTS.update({"conj_physical": conj, "resolve_conj": conj, "resolve_neg": conj, "real": conj})
EXPORTS.update({f"{name}_copy": _copy_form(name) for name in _VIEW_OPS})
EXPORTS.update({name: _method(name) for name in ("i0", "is_inference")})
EXPORTS["feature_dropout_"] = _in_place_function("feature_dropout_", _through_functional(feature_dropout,
                                                                                          "feature_dropout_"))
