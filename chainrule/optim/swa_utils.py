"""Weight averaging (torch.optim.swa_utils): AveragedModel keeps a running average of a model's parameters,
either the equal-weight average of stochastic weight averaging (SWA, Izmailov et al. 2018) or an exponential
moving average (EMA); SWALR anneals the learning rate to a constant for the SWA phase; update_bn recomputes
BatchNorm statistics for the averaged weights.

    SWA:  W̄ₙ₊₁ = W̄ₙ + (W - W̄ₙ)/(n + 1)          EMA:  W̄ₙ₊₁ = decay·W̄ₙ + (1 - decay)·W
"""
import copy
import math


from .. import creation, dtypes
from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..nn.norm import _BatchNorm
from .lr_scheduler import LRScheduler, _per_group


def get_swa_avg_fn():
    """The equal-weight running mean: avg + (current - avg)/(n + 1)."""
    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The exponential moving average: decay·avg + (1 - decay)·current."""
    _check_decay(decay)

    def ema_update(ema, current, num_averaged):
        return decay * ema + (1 - decay) * current
    return ema_update


def get_swa_multi_avg_fn():
    one = get_swa_avg_fn()

    def swa_update(averaged_list, current_list, num_averaged):
        for a, c in zip(averaged_list, current_list):
            a.copy_(one(a, c, num_averaged))
    return swa_update


def get_ema_multi_avg_fn(decay=0.999):
    """The EMA over lists of parameters, updated in place (torch's foreach form)."""
    _check_decay(decay)

    def ema_update(ema_list, current_list, num_averaged):
        for e, c in zip(ema_list, current_list):
            e.copy_(e * decay + c * (1 - decay))
    return ema_update


def _check_decay(decay):
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


class AveragedModel(Module):
    """A copy of `model` whose parameters (and buffers, with use_buffers=True) are the running average of the
    model's over the update_parameters() calls; calling it runs the copy. The first update copies the weights."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", creation.tensor(0, dtype=dtypes.int64))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model):
        return list(model.parameters()) + (list(model.buffers()) if self.use_buffers else [])

    def update_parameters(self, model):
        mine = self._tensors(self.module)
        theirs = [t.detach() for t in self._tensors(model)]
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for a, c in zip(mine, theirs):
                    a.copy_(c)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(mine, theirs, self.n_averaged)
            else:
                avg_fn = self.avg_fn or get_swa_avg_fn()
                for a, c in zip(mine, theirs):
                    if a.dtype.kind == "f":
                        a.copy_(avg_fn(a.detach(), c, self.n_averaged))
                    else:   # integer buffers (num_batches_tracked) follow the model
                        a.copy_(c)
            if not self.use_buffers:   # the buffers are not averaged: keep them in sync with the model
                for a, c in zip(self.module.buffers(), model.buffers()):
                    a.copy_(c.detach())
        self.n_averaged._data += 1


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute the BatchNorm running statistics of `model` with one pass over `loader` (batches, or (input,
    ...) tuples whose first item is the input): the averaged weights need their own statistics. momentum=None
    makes each running statistic the equal-weight mean over the pass."""
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms:
        return
    momenta = {}
    for m in norms:
        m.reset_running_stats()
        momenta[m] = m.momentum
        m.momentum = None
    was_training = model.training
    model.train()
    for batch in loader:
        model(batch[0] if isinstance(batch, (list, tuple)) else batch)
    for m in norms:
        m.momentum = momenta[m]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate from its current value to swa_lr over anneal_epochs steps ('cos':
    α = (1 - cos πt)/2, 'linear': α = t, t = step/anneal_epochs), then hold it: η = α·swa_lr + (1 - α)·η₀."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for lr, group in zip(_per_group(swa_lr, optimizer), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_strategy, self.anneal_epochs = anneal_strategy, anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t):
        return (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t

    def get_lr(self):
        step = self.last_epoch
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [g["swa_lr"] if prev_alpha == 1 else (g["lr"] - prev_alpha * g["swa_lr"]) / (1 - prev_alpha)
                    for g in self.optimizer.param_groups]
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, prev_lrs)]


