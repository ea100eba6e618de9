"""Update rules. Each writes into the parameter's array in place (no per-step reallocation of weights);
g is the gradient, η the learning rate, t the step count. Formulas follow torch.optim exactly."""
import math

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """g ← g + λθ;  with momentum μ: b ← μb + (1-τ)g (b₁ = g), g ← g + μb (Nesterov) or b;  θ ← θ - ηg."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False):
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) must be ≥ 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _update(self, w, g, st, group):
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        mu = group["momentum"]
        if mu:
            buf = st.get("momentum_buffer")
            if buf is None:
                buf = st["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        w -= w.dtype.type(group["lr"]) * g


class Adam(Optimizer):
    """m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  θ ← θ - η·(m/(1-β₁ᵗ)) / (√v/√(1-β₂ᵗ) + ε)
    (amsgrad: v replaced by its running max; weight_decay adds λθ to g — AdamW decays θ directly instead)."""
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False):
        if not 0 <= betas[0] < 1 or not 0 <= betas[1] < 1:
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: eps ({eps}) and weight_decay ({weight_decay}) must be ≥ 0")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _update(self, w, g, st, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if not st:
            st["step"] = 0
            st["exp_avg"] = np.zeros_like(w)
            st["exp_avg_sq"] = np.zeros_like(w)
            if group["amsgrad"]:
                st["max_exp_avg_sq"] = np.zeros_like(w)
        st["step"] += 1
        t = st["step"]
        if wd:
            if self.decoupled:
                w *= w.dtype.type(1 - lr * wd)
            else:
                g = g + wd * w
        m, v = st["exp_avg"], st["exp_avg_sq"]
        tmp = self._scratch(w)   # one reused buffer: Adam is memory-bound, temporaries cost whole passes
        np.multiply(g, 1 - b1, out=tmp)
        m *= b1
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v *= b2
        v += tmp
        if group["amsgrad"]:
            np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
            v = st["max_exp_avg_sq"]
        np.sqrt(v, out=tmp)
        tmp *= w.dtype.type(1 / math.sqrt(1 - b2 ** t))
        tmp += w.dtype.type(eps)
        np.divide(m, tmp, out=tmp)
        tmp *= w.dtype.type(lr / (1 - b1 ** t))
        w -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 - ηλ) before the Adam step (default λ = 0.01)."""
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class RMSprop(Optimizer):
    """s ← αs + (1-α)g²;  centered: ḡ ← αḡ + (1-α)g, d = √(s - ḡ²) + ε, else d = √s + ε;
    with momentum μ: b ← μb + g/d, θ ← θ - ηb;  else θ ← θ - η g/d."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        if alpha < 0 or eps < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("RMSprop: alpha, eps, momentum and weight_decay must be ≥ 0")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _update(self, w, g, st, group):
        a = group["alpha"]
        if not st:
            st["step"] = 0
            st["square_avg"] = np.zeros_like(w)
            if group["momentum"]:
                st["momentum_buffer"] = np.zeros_like(w)
            if group["centered"]:
                st["grad_avg"] = np.zeros_like(w)
        st["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        s = st["square_avg"]
        s *= a
        s += (1 - a) * (g * g)
        if group["centered"]:
            ga = st["grad_avg"]
            ga *= a
            ga += (1 - a) * g
            d = np.sqrt(s - ga * ga) + group["eps"]
        else:
            d = np.sqrt(s) + group["eps"]
        if group["momentum"]:
            b = st["momentum_buffer"]
            b *= group["momentum"]
            b += g / d
            w -= w.dtype.type(group["lr"]) * b
        else:
            w -= w.dtype.type(group["lr"]) * (g / d)


class Adagrad(Optimizer):
    """S ← S + g²;  θ ← θ - η/(1 + (t-1)·decay) · g/(√S + ε)."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        if lr_decay < 0 or weight_decay < 0 or initial_accumulator_value < 0 or eps < 0:
            raise ValueError("Adagrad: lr_decay, weight_decay, initial_accumulator_value and eps must be ≥ 0")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                                      initial_accumulator_value=initial_accumulator_value))

    def _update(self, w, g, st, group):
        if not st:
            st["step"] = 0
            st["sum"] = np.full_like(w, group["initial_accumulator_value"])
        st["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
        st["sum"] += g * g
        w -= w.dtype.type(clr) * (g / (np.sqrt(st["sum"]) + group["eps"]))
