"""Learning-rate schedules (torch.optim.lr_scheduler): call scheduler.step() once per epoch (OneCycleLR: per batch)."""
import bisect
import math


def _per_group(value, optimizer):
    """One value per parameter group: a list as given, or one value repeated."""
    return list(value) if isinstance(value, (list, tuple)) else [value] * len(optimizer.param_groups)


class LRScheduler:
    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = optimizer
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self):
        raise NotImplementedError

    def step(self, epoch=None):
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        for g, lr in zip(self.optimizer.param_groups, self.get_lr()):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self):
        return self._last_lr

    def state_dict(self):
        # functions (lambdas, the anneal rule) are rebuilt by the constructor, not saved
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas") and not callable(v)}

    def load_state_dict(self, state):
        self.__dict__.update(state)


class StepLR(LRScheduler):
    """η = η₀·γ^⌊epoch/step_size⌋."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """η = η₀·γ^(number of milestones passed)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        n = sum(1 for m in self.milestones if m <= self.last_epoch)
        return [b * self.gamma ** n for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """η = η₀·γ^epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """η = η_min + (η₀ - η_min)(1 + cos(π·epoch/T_max))/2."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for b in self.base_lrs]


class LinearLR(LRScheduler):
    """η = η₀·(start + (end - start)·min(epoch, total)/total)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        f = self.start_factor + (self.end_factor - self.start_factor) * min(self.last_epoch, self.total_iters) / \
            self.total_iters
        return [b * f for b in self.base_lrs]


class LambdaLR(LRScheduler):
    """η = η₀·λ(epoch)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _per_group(lr_lambda, optimizer)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * f(self.last_epoch) for b, f in zip(self.base_lrs, self.lr_lambdas)]


def _start_momentum_cycle(optimizer, name, base_momentum, max_momentum):
    """Record each group's base_momentum and max_momentum and start it at the max; -> set(group, m), which writes
    momentum where the group keeps it: SGD-like groups have 'momentum', Adam-like ones β₁."""
    if "betas" in optimizer.defaults:
        def set_momentum(g, m):
            g["betas"] = (m,) + tuple(g["betas"][1:])
    elif "momentum" in optimizer.defaults:
        def set_momentum(g, m):
            g["momentum"] = m
    else:
        raise ValueError(f"{name}: the optimizer ({type(optimizer).__name__}) has neither momentum nor betas; pass "
                         f"cycle_momentum=False")
    for g, lo, hi in zip(optimizer.param_groups, _per_group(base_momentum, optimizer),
                         _per_group(max_momentum, optimizer)):
        g.update(base_momentum=lo, max_momentum=hi)
        set_momentum(g, hi)
    return set_momentum


def _cos_anneal(start, end, pct):
    return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)


def _linear_anneal(start, end, pct):
    return start + (end - start) * pct


class OneCycleLR(LRScheduler):
    """Warm up from max_lr/div_factor to max_lr over pct_start of the steps, then anneal (cosine or linear) to
    max_lr/(div_factor·final_div_factor); three_phase comes back down to the start before the final anneal. With
    cycle_momentum, momentum (β₁ for Adam) moves the opposite way, max_momentum → base_momentum → max_momentum
    (Smith & Topin, 2018). Step it once per batch."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if total_steps <= 0 or not 0 <= pct_start <= 1 or anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: need total_steps > 0 (got {total_steps}), pct_start in [0, 1] (got "
                             f"{pct_start}) and anneal_strategy 'cos' or 'linear' (got {anneal_strategy!r})")
        self.total_steps = total_steps
        self.anneal = _cos_anneal if anneal_strategy == "cos" else _linear_anneal
        up = float(pct_start * total_steps) - 1
        # (end step, lr from, lr to, momentum from, momentum to), names of per-group values
        self.phases = ([(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                        (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                         "max_momentum"),
                        (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")] if three_phase else
                       [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                        (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")])
        self.cycle_momentum = cycle_momentum
        self._set_momentum = _start_momentum_cycle(optimizer, "OneCycleLR", base_momentum, max_momentum) \
            if cycle_momentum else None
        for g, hi in zip(optimizer.param_groups, _per_group(max_lr, optimizer)):
            g.update(initial_lr=hi / div_factor, max_lr=hi, min_lr=hi / div_factor / final_div_factor)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times but total_steps is {self.total_steps}")
        out = []
        for g in self.optimizer.param_groups:
            begin = 0.0
            for i, (end, lr0, lr1, m0, m1) in enumerate(self.phases):
                if t <= end or i == len(self.phases) - 1:
                    pct = (t - begin) / (end - begin) if end != begin else 1.0
                    out.append(self.anneal(g[lr0], g[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(g, self.anneal(g[m0], g[m1], pct))
                    break
                begin = end
        return out


class CyclicLR(LRScheduler):
    """The learning rate cycles between base_lr and max_lr (Smith, 2017): up for step_size_up steps, down for
    step_size_down; 'triangular' keeps the amplitude, 'triangular2' halves it each cycle, 'exp_range' scales it by
    γ^step. Momentum, with cycle_momentum, cycles the opposite way between max_momentum and base_momentum. Step it
    once per batch."""

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range', got {mode!r}")
        down = step_size_down if step_size_down is not None else step_size_up
        self.total_size = float(step_size_up + down)
        self.step_ratio = step_size_up / self.total_size
        if scale_fn is None:
            self.scale_fn, self.scale_mode = {
                "triangular": (lambda x: 1.0, "cycle"), "triangular2": (lambda x: 1 / (2.0 ** (x - 1)), "cycle"),
                "exp_range": (lambda x: gamma ** x, "iterations")}[mode]
        else:
            self.scale_fn, self.scale_mode = scale_fn, scale_mode
        self.cycle_momentum = cycle_momentum
        self._set_momentum = _start_momentum_cycle(optimizer, "CyclicLR", base_momentum, max_momentum) \
            if cycle_momentum else None
        self.max_lrs = _per_group(max_lr, optimizer)
        if last_epoch == -1:
            for g, lo in zip(optimizer.param_groups, _per_group(base_lr, optimizer)):
                g["lr"] = g["initial_lr"] = lo
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        amplitude = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        out = []
        for g, lo, hi in zip(self.optimizer.param_groups, self.base_lrs, self.max_lrs):
            out.append(lo + (hi - lo) * scale * amplitude)
            if self.cycle_momentum:
                self._set_momentum(g, g["max_momentum"] - (g["max_momentum"] - g["base_momentum"]) * scale * amplitude)
        return out


class ConstantLR(LRScheduler):
    """η = η₀·factor for the first total_iters epochs, then η₀ (a warm-up at a fixed fraction)."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 < factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in (0, 1], got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * (self.factor if self.last_epoch < self.total_iters else 1.0) for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    """η = η₀·(1 - min(epoch, total)/total)^power."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        f = (1.0 - min(self.last_epoch, self.total_iters) / self.total_iters) ** self.power
        return [b * f for b in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    """η ← η·λ(epoch) at every step after the first."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _per_group(lr_lambda, optimizer)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch <= 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * f(self.last_epoch) for g, f in zip(groups, self.lr_lambdas)]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: cosine annealing from η₀ to η_min over T_i epochs, then a restart at η₀; T_i = T_0·T_mult^i."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int) or T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive int and T_mult an int ≥ 1, got "
                             f"T_0={T_0}, T_mult={T_mult}")
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        super().__init__(optimizer, last_epoch)

    def _position(self):
        """(epochs into the current cycle, length of the current cycle)."""
        e = max(self.last_epoch, 0)
        if self.T_mult == 1:
            return e % self.T_0, self.T_0
        n = int(math.log(e / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        start = self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
        return e - start, self.T_0 * self.T_mult ** n

    def get_lr(self):
        t, period = self._position()
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * t / period)) / 2 for b in self.base_lrs]


class _Composite:
    """What schedulers made of other schedulers share: one optimizer for all, the last rates, and the state of
    each part."""

    def __init__(self, optimizer, schedulers):
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError(f"{type(self).__name__}: every scheduler must drive the same optimizer")
        self.optimizer, self._schedulers = optimizer, list(schedulers)

    def get_last_lr(self):
        return self._last_lr

    def state_dict(self):
        return {"_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state):
        for s, st in zip(self._schedulers, state["_schedulers"]):
            s.load_state_dict(st)


class SequentialLR(_Composite):
    """schedulers[i] drives the learning rate from milestones[i-1] on, counting its epochs from 0 there:
    SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, T_max=95)], milestones=[5])."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones for {len(schedulers)} "
                             f"schedulers, got {len(milestones)}")
        super().__init__(optimizer, schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch
        self.step()

    def step(self):
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        self._schedulers[i].step(self.last_epoch - (self._milestones[i - 1] if i else 0))
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        return {"last_epoch": self.last_epoch, **super().state_dict()}

    def load_state_dict(self, state):
        self.last_epoch = state["last_epoch"]
        super().load_state_dict(state)


class ReduceLROnPlateau:
    """Multiply η by `factor` once the monitored metric has not improved for `patience` epochs."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8):
        if factor >= 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.eps = threshold, threshold_mode, cooldown, eps
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * len(optimizer.param_groups)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def _better(self, a):
        if self.mode == "min":
            ref = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return a < ref
        ref = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return a > ref

    def step(self, metrics):
        value = float(metrics)
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, lo in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(g["lr"] * self.factor, lo)
                if g["lr"] - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self):
        return self._last_lr


class ChainedScheduler(_Composite):
    """Several schedulers stepped together, their factors multiplied (torch's ChainedScheduler):
    ChainedScheduler([ConstantLR(opt, factor=0.1, total_iters=2), ExponentialLR(opt, gamma=0.9)]).

    η = η₀ · Π_i (η_i / η₀), where η_i is the rate scheduler i alone would set. Every schedule here is a closed
    form of the epoch, so this equals torch's chained (step-by-step multiplied) rates for the multiplicative
    schedules (Step, MultiStep, Exponential, Constant, Linear, Lambda); cosine and cyclic ones chained with others
    follow the product, where torch's recursive forms drift from it."""

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler: needs at least one scheduler")
        super().__init__(optimizer or schedulers[0].optimizer, schedulers)
        self._combine()

    def _combine(self):
        for i, g in enumerate(self.optimizer.param_groups):
            base = lr = self._schedulers[0].base_lrs[i]
            if base:
                for s in self._schedulers:
                    lr *= s.get_last_lr()[i] / base
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def step(self):
        for s in self._schedulers:
            s.step()
        self._combine()
