"""The training loop behind `chainrule train`, usable from Python: build an MLP, fit it with any of the texts'
training variants, and measure it."""
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
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")
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
    if name == "sgd":
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "adamw":
        return optim.AdamW(params, lr=lr)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr)
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
        return s.OneCycleLR(opt, max_lr=opt.param_groups[0]["lr"], total_steps=epochs * steps_per_epoch)
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


def predict_classes(model, X, loss_name):
    with no_grad():
        out = model(Tensor._wrap(np.asarray(X, np.float32)))._data
    return (out[:, 0] > 0).astype(np.int64) if loss_name == "bce" else out.argmax(1)


def accuracy(model, X, y, loss_name):
    return float((predict_classes(model, X, loss_name) == y).mean()) if len(y) else float("nan")


def fit(model, loss_fn, loss_name, opt, X, y, n_classes, epochs=100, variant="minibatch", batch_size=32,
        schedule=None, clip=None, callbacks=(), seed=0, on_step=None):
    """Train and return the history {loss, accuracy, lr} per epoch. callbacks get (epoch, logs) after each;
    on_step(loss) is called after every optimizer step (a GradientMonitor fits there)."""
    from .random import Generator
    gen = Generator().manual_seed(seed)
    ds = TensorDataset(Tensor._wrap(np.asarray(X, np.float32)), targets_for(loss_name, y, n_classes))
    history = {"loss": [], "accuracy": [], "lr": []}
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for xb, yb in make_loader(ds, variant, batch_size, gen):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            if isinstance(schedule, optim.lr_scheduler.OneCycleLR):
                schedule.step()
            if on_step is not None:
                on_step(loss)
            total += loss.item() * xb.shape[0]
            count += xb.shape[0]
        epoch_loss = total / max(count, 1)
        if schedule is not None and not isinstance(schedule, optim.lr_scheduler.OneCycleLR):
            schedule.step(epoch_loss) if isinstance(schedule, optim.lr_scheduler.ReduceLROnPlateau) else schedule.step()
        model.eval()
        acc = accuracy(model, X, y, loss_name)
        history["loss"].append(epoch_loss)
        history["accuracy"].append(acc)
        history["lr"].append(opt.param_groups[0]["lr"])
        logs = {"loss": epoch_loss, "accuracy": acc}
        for cb in callbacks:
            cb(epoch, logs)
        if not math.isfinite(epoch_loss):
            break
    return history


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
