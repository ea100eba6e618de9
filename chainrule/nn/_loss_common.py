"""What every loss function shares: the reduction, lifting a target to the input's float dtype, the shape check."""
import warnings

from ..errors import ShapeError, warn
from ..ops._util import floating
from ..ops.reduce import Mean
from ..tensor import Tensor


def reduce_loss(loss, reduction, name):
    if reduction == "mean":   # named, so that a mean over an empty batch warns as this loss
        return Mean.apply(loss, axes=tuple(range(loss.ndim)), keepdim=False, name=name)
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def mean_over_weights(total, weight_sum, name):
    """Σ wᵢℓᵢ / Σ wᵢ, torch's 'mean' for class weights and ignore_index. No weight at all (an empty batch, every
    target ignored) gives nan as torch, with a warning that names the loss."""
    if float(weight_sum) == 0:
        warn(f"{name}: the mean is over no samples (an empty batch, or every target equal to ignore_index), which "
             f"gives nan; check the batch or the ignore_index")
        return total * 0.0 + float("nan")   # the value nan, the gradient 0 (torch's: no sample to learn from)
    return total / float(weight_sum)


def legacy_reduction(size_average, reduce, reduction):
    """torch's deprecated flags, kept so that old scripts run: size_average and reduce (each None = True) give
    reduction 'mean' (both true), 'sum' (reduce only) or 'none' (reduce false), with torch's warning. When both
    are None, `reduction` stands."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
                  stacklevel=3)
    return reduction


def same_shape(input, target, name):
    if input.shape != target.shape:
        raise ShapeError(f"{name}: input shape {input.shape} and target shape {target.shape} differ; they must "
                         f"match (e.g. reshape a (N,) target to (N, 1) with target.unsqueeze(1), or squeeze the "
                         f"output)")


def as_float_target(target, input, promote=False):
    """target as a Tensor of the input's dtype (an array or list is wrapped first). With promote, a float target
    of a wider dtype keeps it, so the loss is computed and returned in that dtype: the losses torch promotes
    (mse, l1, smooth_l1, kl_div, the nll and probability losses; a float32 model with float64 targets gives a
    float64 loss there, a float32 one from huber, hinge or soft_margin)."""
    t = target if isinstance(target, Tensor) else Tensor(target)
    if input.dtype.kind != "f":   # integer predictions: the loss is float (the target's, or the default dtype);
        return floating(t)   # (casting the target to the input's int dtype truncated it)
    if t.dtype == input.dtype or promote and t.dtype.kind == "f" and t.dtype.itemsize > input.dtype.itemsize:
        return t
    return t.to(input.dtype)
