"""Connectionist temporal classification (Graves et al. 2006), torch's F.ctc_loss.

The target l is padded with blanks, l' = (b, l₁, b, l₂, …, b), and every path through l' that moves 0, 1 or 2
places per frame (2 only past a blank between two different labels) is an alignment. With emissions
y_t(k) = exp(log_probs[t, k]), the forward and backward variables, kept in log space:

    α_t(s) = y_t(l'_s) · (α_{t-1}(s) + α_{t-1}(s-1) + [l'_s ≠ b, l'_s ≠ l'_{s-2}] α_{t-1}(s-2))
    β_t(s) = y_t(l'_s) · (β_{t+1}(s) + β_{t+1}(s+1) + [l'_s ≠ b, l'_s ≠ l'_{s+2}] β_{t+1}(s+2))
    p(l | x) = α_{T-1}(|l'|-1) + α_{T-1}(|l'|-2),      loss = -log p

    ∂loss/∂log_probs[t, k] = -Σ_{s: l'_s = k} α_t(s) β_t(s) / (y_t(k) · p)      (the occupation of k at t)

This is the gradient with respect to log_probs as free inputs, so it passes gradcheck. torch's adds exp(log_probs)
(the gradient it would have if log_probs were logits through log_softmax); after a log_softmax both give the same
gradient of the logits, which is how the tests compare them.
"""
import numpy as np

from ..amp import computed_in_float32
from ..autograd.function import Op
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import quiet_logaddexp
from .registry import T, register, sample

_wrap = Tensor._wrap
_NEG_INF = -np.inf


def _logsumexp3(a, b, c):
    m = np.maximum(np.maximum(a, b), c)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(a - safe) + np.exp(b - safe) + np.exp(c - safe))


def _shift(x, k):
    """x moved k places right along the last axis, -inf shifted in."""
    out = np.full_like(x, _NEG_INF)
    out[..., k:] = x[..., :x.shape[-1] - k]
    return out


def _unshift(x, k):
    out = np.full_like(x, _NEG_INF)
    out[..., :x.shape[-1] - k] = x[..., k:]
    return out


class CTC(Op):
    """Per-sample -log p(l | x) of log_probs (T, N, C); backward: the occupation formula of the module docstring."""
    once_differentiable = True   # the occupations are NumPy arrays of the saved log_probs (torch has no 2nd either)

    def forward(self, log_probs, ext, skip, valid, input_lengths, last, zero_infinity):
        t_max, n = log_probs.shape[:2]
        lp = log_probs.astype(np.float64)
        emit = np.take_along_axis(lp, np.broadcast_to(ext, (t_max,) + ext.shape), 2)   # (T, N, S') = log y_t(l'_s)
        emit = np.where(valid, emit, _NEG_INF)
        alpha = np.full(emit.shape, _NEG_INF)
        alpha[0, :, :2] = emit[0, :, :2]
        for t in range(1, t_max):
            prev = alpha[t - 1]
            alpha[t] = _logsumexp3(prev, _shift(prev, 1), np.where(skip, _shift(prev, 2), _NEG_INF)) + emit[t]
        rows = np.arange(n)
        end = alpha[input_lengths - 1, rows]                                             # (N, S') at each T_n - 1
        log_p = quiet_logaddexp(end[rows, last], np.where(last > 0, end[rows, np.maximum(last - 1, 0)], _NEG_INF))
        nll = -log_p
        self.saved = (lp, ext, skip, emit, alpha, input_lengths, last, nll, zero_infinity)
        if zero_infinity:
            nll = np.where(np.isinf(nll), 0.0, nll)
        return nll.astype(log_probs.dtype)

    def backward(self, g):
        lp, ext, skip, emit, alpha, input_lengths, last, nll, zero_infinity = self.saved
        t_max, n, c = lp.shape
        rows = np.arange(n)
        beta = np.full(emit.shape, _NEG_INF)
        skip_back = _unshift(skip, 2)        # s → s + 2 allowed where s + 2 may skip back to s
        start = np.full((n, emit.shape[2]), _NEG_INF)
        start[rows, last] = 0.0                      # a path ends on the last label or the blank after it
        start[rows[last > 0], last[last > 0] - 1] = 0.0
        for t in range(t_max - 1, -1, -1):
            nxt = beta[t + 1] if t + 1 < t_max else np.full(start.shape, _NEG_INF)
            step = _logsumexp3(nxt, _unshift(nxt, 1), np.where(skip_back, _unshift(nxt, 2), _NEG_INF))
            here = np.where((t == input_lengths - 1)[:, None], start, np.where((t < input_lengths - 1)[:, None],
                                                                                 step, _NEG_INF))
            beta[t] = here + emit[t]
        finite = np.isfinite(nll)
        with np.errstate(invalid="ignore"):
            occupation = np.exp(alpha + beta - emit + np.where(finite, nll, 0.0)[None, :, None])
        occupation = np.where(np.isfinite(occupation) & finite[None, :, None], occupation, 0.0)
        grad = np.zeros((t_max, n * c))
        np.add.at(grad, (slice(None), (rows[:, None] * c + ext).reshape(-1)), -occupation.reshape(t_max, -1))
        weight = g._data.astype(np.float64) * finite   # an impossible alignment: loss inf (or 0), gradient 0
        return _wrap((grad.reshape(t_max, n, c) * weight[None, :, None]).astype(g.dtype))


def _as_lengths(v, n, what):
    arr = np.asarray(v.numpy() if isinstance(v, Tensor) else v)
    if arr.dtype.kind not in "iu" or arr.shape not in ((n,), ()) or (arr.ndim == 0 and n != 1):
        raise ShapeError(f"ctc_loss: {what} must be {n} integers (one per sequence), got {arr.dtype} {arr.shape}")
    return arr.reshape(n).astype(np.int64)


@computed_in_float32(float32_under_autocast=True)
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """torch.nn.functional.ctc_loss: log_probs (T, N, C) (or (T, C) for one sequence), targets (N, S) padded or 1-d
    concatenated, lengths per sequence. reduction 'mean' divides each loss by its target length, then averages."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"ctc_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    if log_probs.ndim != 3:
        raise ShapeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape {tuple(log_probs.shape)}")
    t_max, n, c = log_probs.shape
    if not 0 <= blank < c:
        raise ValueError(f"ctc_loss: blank {blank} is not a class index of log_probs with {c} classes")
    tgt = np.asarray(targets.numpy() if isinstance(targets, Tensor) else targets)
    if tgt.dtype.kind not in "iu":
        raise ShapeError(f"ctc_loss: targets must be integer class indices, got {tgt.dtype}")
    in_len = _as_lengths(input_lengths, n, "input_lengths")
    tg_len = _as_lengths(target_lengths, n, "target_lengths")
    if (in_len < 1).any() or (in_len > t_max).any():
        raise ShapeError(f"ctc_loss: input_lengths {in_len.tolist()} must lie in [1, T = {t_max}]")
    if (tg_len < 0).any():
        raise ShapeError(f"ctc_loss: target_lengths {tg_len.tolist()} must not be negative")
    if tgt.ndim == 1 and not unbatched:   # concatenated targets
        if tgt.size != tg_len.sum():
            raise ShapeError(f"ctc_loss: 1-d targets hold {tgt.size} labels but target_lengths sum to {tg_len.sum()}")
        offsets = np.concatenate([[0], np.cumsum(tg_len)])
        padded = np.full((n, max(int(tg_len.max()), 1)), blank, np.int64)
        for i in range(n):
            padded[i, :tg_len[i]] = tgt[offsets[i]:offsets[i + 1]]
        tgt = padded
    tgt = tgt.reshape(n, -1) if tgt.ndim == 1 else tgt
    if tgt.shape[0] != n or (tg_len > tgt.shape[1]).any():
        raise ShapeError(f"ctc_loss: targets {tgt.shape} do not hold target_lengths {tg_len.tolist()} for {n} "
                         f"sequences; pad them to (N, max length) or concatenate them in 1-d")
    used = np.arange(tgt.shape[1]) < tg_len[:, None]
    labels = tgt[used]
    if labels.size and (labels.min() < 0 or labels.max() >= c or (labels == blank).any()):
        raise ValueError(f"ctc_loss: target labels must be classes in [0, {c}) other than the blank {blank}; got "
                         f"{sorted(set(labels.tolist()))}")
    width = 2 * tgt.shape[1] + 1
    ext = np.full((n, width), blank, np.int64)
    ext[:, 1::2] = np.where(used, tgt, blank)
    prev2 = np.concatenate([np.full((n, 2), -1), ext[:, :-2]], 1)
    skip = (ext != blank) & (ext != prev2)
    last = 2 * tg_len
    valid = np.arange(width) <= last[:, None]
    nll = CTC.apply(log_probs, ext=ext, skip=skip, valid=valid, input_lengths=in_len, last=last,
                    zero_infinity=bool(zero_infinity))
    if reduction == "none":
        return nll.squeeze(0) if unbatched else nll
    if reduction == "sum":
        return nll.sum()
    return (nll / _wrap(np.maximum(tg_len, 1).astype(nll.dtype))).mean()


ctc_loss = register("ctc_loss", gradgrad=False, samples=[
    sample(T((6, 2, 4)), np.array([[1, 2, 2], [3, 1, 0]]), [6, 5], [3, 2]),
    sample(T((5, 3, 3)), np.array([1, 2, 1, 1, 2]), [5, 4, 5], [2, 1, 2], reduction="sum"),
    sample(T((4, 2, 5)), np.array([[2, 4], [1, 1]]), [4, 4], [2, 2], blank=3, reduction="none"),
    sample(T((5, 4)), np.array([1, 3, 1]), [5], [3])])(ctc_loss)
