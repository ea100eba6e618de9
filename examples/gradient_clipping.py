"""Text 001, "Problem: Exploding Gradients" (gradient = np.clip(gradient, -1, 1)) and text 004, "Exploding
Gradients" (torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)) — both with chainrule:
clip_grad_value_ clips each entry, clip_grad_norm_ rescales all gradients together and returns the norm before."""
import numpy as np

import chainrule as cr
import chainrule.nn as nn


def main():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    with cr.no_grad():
        model[0].weight.mul_(20.0)                      # too-large weights: large gradients
    (model(cr.randn(16, 4)) * 100).pow(2).mean().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    hand_clipped = [np.clip(g, -1, 1) for g in grads]   # text 001
    nn.utils.clip_grad_value_(model.parameters(), 1.0)
    value_ok = all(np.array_equal(p.grad.numpy(), h) for p, h in zip(model.parameters(), hand_clipped))
    for p, g in zip(model.parameters(), grads):
        p.grad = cr.tensor(g)
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # text 004
    after = float(np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum() for p in model.parameters())))
    print(f"clip_grad_value_ matches np.clip: {value_ok}; total norm before {total.item():.4g}, after {after:.6f}")
    return {"value_clip_matches_numpy": value_ok, "norm_before": total.item(), "norm_after": after}


if __name__ == "__main__":
    main()
