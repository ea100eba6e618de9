"""The training loop behind `chainrule train`, usable from Python: build an MLP, fit it with any of the texts'
training variants, and measure it."""
import contextlib
import json
import math
import os
import time

import numpy as np

from . import nn, optim
from .autograd.grad_mode import no_grad
from .data import TensorDataset, make_loader
from .tensor import Tensor

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU, "sigmoid": nn.Sigmoid,
               "tanh": nn.Tanh}
_OPTIMIZERS = {"sgd": optim.SGD, "momentum": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
               "adam": optim.Adam, "adamw": optim.AdamW, "nadam": optim.NAdam, "radam": optim.RAdam,
               "adamax": optim.Adamax, "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
OPTIMIZERS = tuple(_OPTIMIZERS)
SCHEDULES = ("none", "step", "exponential", "cosine", "onecycle", "plateau")
LOSSES = ("auto", "bce", "ce", "mse")


def build_mlp(sizes, activation="relu", init=None):
    """Linear layers of the given sizes with `activation` between them: [2, 16, 16, 1] -> 3 Linear layers."""
    if len(sizes) < 2:
        raise ValueError(f"build_mlp: need at least input and output sizes, got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        if init == "he":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
        elif init == "xavier":
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def make_optimizer(name, params, lr):
    if lr <= 0 or not math.isfinite(lr):
        raise ValueError(f"learning rate must be a positive number, got {lr}")
    if name in _OPTIMIZERS:
        return _OPTIMIZERS[name](params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def make_schedule(name, opt, epochs, steps_per_epoch):
    s = optim.lr_scheduler
    if name == "none":
        return None
    if name == "step":
        return s.StepLR(opt, step_size=max(epochs // 3, 1), gamma=0.3)
    if name == "exponential":
        return s.ExponentialLR(opt, gamma=0.01 ** (1 / max(epochs, 1)))
    if name == "cosine":
        return s.CosineAnnealingLR(opt, T_max=epochs)
    if name == "onecycle":
        # the momentum (or β₁) is cycled against the learning rate only where the optimizer has one in use: plain SGD
        # would otherwise become momentum SGD, and Adagrad (which has neither) would be refused
        group = opt.param_groups[0]
        cycle = "betas" in group or group.get("momentum", 0) > 0
        return s.OneCycleLR(opt, max_lr=group["lr"], total_steps=epochs * steps_per_epoch, cycle_momentum=cycle)
    if name == "plateau":
        return s.ReduceLROnPlateau(opt, patience=5, factor=0.5)
    raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")


def loss_for(name, n_classes):
    if name == "auto":
        name = "bce" if n_classes == 2 else "ce"
    if name == "bce":
        if n_classes != 2:
            raise ValueError(f"loss 'bce' needs 2 classes, the data has {n_classes}; use --loss ce")
        return name, nn.BCEWithLogitsLoss(), 1
    if name == "ce":
        return name, nn.CrossEntropyLoss(), n_classes
    if name == "mse":
        return name, nn.MSELoss(), n_classes
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")


def targets_for(loss_name, y, n_classes, dtype=np.float32):
    if loss_name == "bce":
        return Tensor._wrap(y.astype(dtype).reshape(-1, 1))
    if loss_name == "mse":
        return Tensor._wrap(np.eye(n_classes, dtype=dtype)[y])
    return Tensor._wrap(y.astype(np.int64))


def _inputs(X):
    X = np.asarray(X)
    return X if X.dtype.kind in "iu" else X.astype(np.float32)   # token ids stay integers (embeddings)


def predict_classes(model, X, loss_name):
    with no_grad():
        out = model(Tensor._wrap(_inputs(X)))._data
    return (out[:, 0] > 0).astype(np.int64) if loss_name == "bce" else out.argmax(1)


def accuracy(model, X, y, loss_name):
    return float((predict_classes(model, X, loss_name) == y).mean()) if len(y) else float("nan")


def fit(model, loss_fn, loss_name, opt, X, y, n_classes, epochs=100, variant="minibatch", batch_size=32,
        schedule=None, clip=None, callbacks=(), seed=0, on_step=None):
    """Train and return the history {loss, accuracy, lr} per epoch. callbacks get (epoch, logs) after each;
    on_step(loss) is called after every optimizer step (a GradientMonitor fits there). The online variant sees
    each sample once, so it takes epochs=1 (a second pass over the same stream would be sgd)."""
    if variant == "online" and epochs != 1:
        raise ValueError(f"fit: the online variant sees each sample once, so epochs must be 1, got {epochs}; use "
                         f"variant='sgd' for several passes of one-sample updates")
    from .random import Generator
    gen = Generator().manual_seed(seed)
    ds = TensorDataset(Tensor._wrap(_inputs(X)), targets_for(loss_name, y, n_classes))
    history = {"loss": [], "accuracy": [], "lr": []}
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for step, (xb, yb) in enumerate(make_loader(ds, variant, batch_size, gen)):
            opt.zero_grad()
            # a diverging run overflows somewhere on its way to an inf or nan loss: that loss is caught below and
            # reported with its step and learning rate, instead of NumPy's warnings from deep inside
            with np.errstate(over="ignore", invalid="ignore"):
                loss = loss_fn(model(xb), yb)
                value = loss.item()
                if not math.isfinite(value):
                    history["diverged"] = {"epoch": epoch + 1, "step": step + 1, "loss": value,
                                           "lr": opt.param_groups[0]["lr"]}
                    total, count = value, 1
                    break
                loss.backward()
                if clip:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
            if isinstance(schedule, optim.lr_scheduler.OneCycleLR):
                schedule.step()
            if on_step is not None:
                on_step(loss)
            total += value * xb.shape[0]
            count += xb.shape[0]
        epoch_loss = total / max(count, 1)
        if schedule is not None and not isinstance(schedule, optim.lr_scheduler.OneCycleLR):
            schedule.step(epoch_loss) if isinstance(schedule, optim.lr_scheduler.ReduceLROnPlateau) else schedule.step()
        model.eval()
        with np.errstate(over="ignore", invalid="ignore") if "diverged" in history else contextlib.nullcontext():
            acc = accuracy(model, X, y, loss_name)   # (non-finite weights overflow: the divergence is reported)
        history["loss"].append(epoch_loss)
        history["accuracy"].append(acc)
        history["lr"].append(opt.param_groups[0]["lr"])
        logs = {"loss": epoch_loss, "accuracy": acc}
        for cb in callbacks:
            cb(epoch, logs)
        if not math.isfinite(epoch_loss):
            break
    return history


def divergence_advice(diverged):
    """One line on a run whose loss became inf or nan (fit's history["diverged"]), and what to try."""
    return (f"training diverged: the loss became {diverged['loss']} at epoch {diverged['epoch']}, step "
            f"{diverged['step']} (learning rate {diverged['lr']:g}); training stopped there. Lower --lr (÷3 to ÷10), "
            f"add --clip 1.0, or rerun with --diagnose (what went wrong) or --detect-anomaly (the first op to give "
            f"inf or nan)")


def write_json(path, obj):
    """Atomic JSON write (temporary file, fsync, rename)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def run_name():
    return time.strftime("%Y%m%d-%H%M%S")


# ---- the other built-in model kinds (chainrule train --model ...) ---------------------------------------------
def sequence_sum_data(n=2000, length=20, seed=0):
    """Sequences of noisy ±1 steps; the label says whether their sum is positive (an LSTM task)."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([-1.0, 1.0], (n, length)) + rng.normal(0, 0.3, (n, length))
    return steps[:, :, None].astype(np.float32), (steps.sum(1) > 0).astype(np.int64)


def reverse_data(n=4000, length=6, vocab=8, seed=0):
    """Integer sequences and their reversals (a Transformer task); targets are per-position classes."""
    x = np.random.default_rng(seed).integers(0, vocab, (n, length))
    return x, x[:, ::-1].copy()


class SequenceClassifier(nn.Module):
    """LSTM over the sequence, a linear head on the last hidden state."""

    def __init__(self, n_in, hidden, n_classes):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class Reverser(nn.Module):
    """Token + position embeddings, a 2-layer Transformer encoder, per-position logits as (N, vocab, length)."""

    def __init__(self, vocab, length, d_model=32, heads=4, layers=2):
        super().__init__()
        self.length = length
        self.emb, self.pos = nn.Embedding(vocab, d_model), nn.Embedding(length, d_model)
        self.enc = nn.TransformerEncoder(lambda: nn.TransformerEncoderLayer(d_model, heads, 2 * d_model,
                                                                            dropout=0.0, batch_first=True), layers)
        self.out = nn.Linear(d_model, vocab)

    def forward(self, x):
        from .creation import arange
        h = self.emb(x) + self.pos(arange(self.length))
        return self.out(self.enc(h)).transpose(1, 2)


def small_cnn(n_classes):
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(128, n_classes))
