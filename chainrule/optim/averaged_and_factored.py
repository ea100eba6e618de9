"""Two more of torch.optim's rules, each with torch's arguments and update order:

- ASGD, averaged SGD (Polyak & Juditsky, 1992): plain SGD on θ with a decaying step, plus a running average of the
  iterates (state 'ax'), which is the estimate to evaluate once averaging has started (after t0 steps);
- Adafactor (Shazeer & Stern, 2018): Adam-like steps whose second-moment estimate of a matrix is the outer product
  of a row and a column factor, so it costs O(n + m) memory instead of O(nm), with a relative step size.
"""
import math

import numpy as np

from .optimizer import Optimizer


class ASGD(Optimizer):
    """t ← t + 1;  θ ← θ(1 - λη) - η g;  ax ← ax + μ(θ - ax);  then η ← lr / (1 + λ·lr·t)^α and μ ← 1/max(1, t - t0)
    (the averaging weight: ax is the running mean of θ over the steps after t0)."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        if weight_decay < 0:
            raise ValueError(f"ASGD: weight_decay must be ≥ 0, got {weight_decay}")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize), foreach=foreach, differentiable=differentiable,
                         capturable=capturable)

    def _update(self, w, g, st, group):
        if not st:
            st.update(step=0, eta=float(group["lr"]), mu=1.0, ax=np.zeros_like(w))
        st["step"] += 1
        if group["weight_decay"]:
            g = g + w.dtype.type(group["weight_decay"]) * w
        eta = st["eta"]
        w *= w.dtype.type(1 - group["lambd"] * eta)
        w -= w.dtype.type(eta) * g
        ax = st["ax"]
        if st["mu"] != 1:
            ax += w.dtype.type(st["mu"]) * (w - ax)
        else:
            ax[...] = w
        t, lr = st["step"], group["lr"]
        st["eta"] = lr / (1 + group["lambd"] * lr * t) ** group["alpha"]
        st["mu"] = 1 / max(1, t - group["t0"])


class Adafactor(Optimizer):
    """Per step t, with β̂₂ = t^beta2_decay, ρ = min(lr, 1/√t) and α = max(ε₂, RMS(θ))·ρ:
    θ ← θ(1 - lr·λ);  for a matrix (… , n, m) gradient: r ← lerp(r, mean_m g², β̂₂), c ← lerp(c, mean_n g², β̂₂),
    v̂ = r c / mean(r), else v ← lerp(v, g², β̂₂), v̂ = v;  u = g / √max(v̂, ε₁²);  θ ← θ - α u / max(1, RMS(u)/d)."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Adafactor: learning rate must be ≥ 0, got {lr}")
        if not beta2_decay <= 0:
            raise ValueError(f"Adafactor: beta2_decay must be ≤ 0 (the second moment's weight decays as t^beta2_decay), "
                             f"got {beta2_decay}")
        if eps[0] is not None and eps[0] < 0 or eps[1] < 0:
            raise ValueError(f"Adafactor: epsilons must be ≥ 0, got {eps}")
        if d < 1:
            raise ValueError(f"Adafactor: the clipping threshold d must be ≥ 1, got {d}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay, maximize=maximize), foreach=foreach)

    def _update(self, w, g, st, group):
        lr, (eps1, eps2) = group["lr"], group["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(w.dtype).eps)
        if not st:
            st["step"] = 0
            if g.ndim > 1:
                st["row_var"] = np.zeros(g.shape[:-1] + (1,), w.dtype)
                st["col_var"] = np.zeros(g.shape[:-2] + (1,) + g.shape[-1:], w.dtype)
            else:
                st["variance"] = np.zeros_like(w)
        st["step"] += 1
        t = st["step"]
        weight = t ** group["beta2_decay"]            # β̂₂: 1 at the first step, then decaying
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, float(np.sqrt(np.mean(w * w)))) * rho
        if group["weight_decay"]:
            w *= w.dtype.type(1 - lr * group["weight_decay"])
        if g.ndim > 1:
            r, c = st["row_var"], st["col_var"]
            r += w.dtype.type(weight) * (np.mean(g * g, axis=-1, keepdims=True) - r)
            c += w.dtype.type(weight) * (np.mean(g * g, axis=-2, keepdims=True) - c)
            v = np.matmul(r, c) / np.maximum(np.mean(r, axis=-2, keepdims=True), eps1)
        else:
            v = st["variance"]
            v += w.dtype.type(weight) * (g * g - v)
        update = g / np.sqrt(np.maximum(v, eps1 * eps1))
        denom = max(1.0, float(np.sqrt(np.mean(update * update))) / group["d"])
        w -= w.dtype.type(alpha / denom) * update
