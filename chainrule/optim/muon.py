"""Muon (Jordan et al., 2024), torch.optim.Muon: momentum SGD for weight matrices whose update is orthogonalised,
the momentum G replaced by ≈ U Vᵀ (with G = U S Vᵀ) through five Newton-Schulz steps

    X ← G / ‖G‖_F;  repeat: A = X Xᵀ, B = bA + cA², X ← aX + BX      (a, b, c = 3.4445, -4.775, 2.0315)

so that every direction of the update has about the same size. torch runs the iteration in bfloat16, which NumPy
lacks: chainrule runs it in the parameter's dtype (the same formula, more precise)."""
import math

import numpy as np

from .optimizer import Optimizer


def zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """The orthogonalised G (a 2-d array): ≈ U S' Vᵀ with S' near 1 (in (0.5, 1.5) rather than exactly 1, which
    the quintic's steep slope at zero trades for fewer steps)."""
    if ns_steps >= 100:
        raise ValueError("Muon: ns_steps must be below 100")
    a, b, c = ns_coefficients
    wide = grad.shape[0] <= grad.shape[1]
    x = grad if wide else grad.T
    x = x / max(float(np.linalg.norm(x)), eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x if wide else x.T


class Muon(Optimizer):
    """buf ← μ·buf + (1-μ)g;  u = lerp(g, buf, μ) (nesterov) or buf;  θ ← θ(1 - ηλ) - η'·NS(u), with
    η' = η·√max(1, rows/cols) ('original'), η·0.2·√max(rows, cols) ('match_rms_adamw'). Matrices only: use another
    optimizer for biases, norms and embeddings, as the Muon recipe does."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"Muon: momentum ({momentum}) and weight_decay ({weight_decay}) must be ≥ 0")
        if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"Muon: adjust_lr_fn must be None, 'original' or 'match_rms_adamw', got {adjust_lr_fn!r}")
        if len(ns_coefficients) != 3:
            raise ValueError(f"Muon: ns_coefficients must be three numbers (a, b, c), got {ns_coefficients}")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=tuple(ns_coefficients), eps=eps, ns_steps=ns_steps,
                                      adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{tuple(p.shape)}; give biases and other tensors to another optimizer "
                                     f"(e.g. a second param group of AdamW)")

    def _update(self, w, g, st, group):
        mu, lr = group["momentum"], group["lr"]
        if not st:
            st["momentum_buffer"] = np.zeros_like(w)
        buf = st["momentum_buffer"]
        buf += (1 - mu) * (g - buf)
        update = g + mu * (buf - g) if group["nesterov"] else buf
        update = zeropower_via_newtonschulz(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        rows, cols = w.shape
        fn = group["adjust_lr_fn"]
        ratio = 0.2 * math.sqrt(max(rows, cols)) if fn == "match_rms_adamw" else math.sqrt(max(1, rows / cols))
        w *= w.dtype.type(1 - lr * group["weight_decay"])
        w -= w.dtype.type(lr * ratio) * update.astype(w.dtype, copy=False)
