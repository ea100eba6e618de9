"""A 3-layer MLP (Linear-ReLU-Linear-ReLU-Linear, MSE) forward+backward from raw ops (linear, relu, sub, mul, mean),
against the same network written by hand in NumPy, in the same process.

Targets: ≤ 1.1× hand-written NumPy at the largest size, ≤ 2.5× at the smallest, backward ≤ 2.2× forward.
Run: python bench/mlp_engine.py
"""
import numpy as np

from _common import interleaved_medians, table

import chainrule as cr

SIZES = [(32, 2, 16, 1), (64, 64, 128, 10), (128, 784, 512, 10)]


def make(batch, n_in, hidden, n_out, rng):
    shapes = [(hidden, n_in), (hidden,), (hidden, hidden), (hidden,), (n_out, hidden), (n_out,)]
    params = [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in shapes]
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    y = rng.standard_normal((batch, n_out)).astype(np.float32)
    return params, x, y


def cr_forward(P, x, y):
    W1, b1, W2, b2, W3, b3 = P
    h1 = cr.linear(x, W1, b1).relu()     # linear is one registered op: x Wᵀ + b (PERF.md: coarse nodes pay)
    h2 = cr.linear(h1, W2, b2).relu()
    out = cr.linear(h2, W3, b3)
    d = out - y
    return (d * d).mean()


def numpy_step(P, x, y):
    W1, b1, W2, b2, W3, b3 = P
    z1 = x @ W1.T + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ W2.T + b2
    h2 = np.maximum(z2, 0)
    out = h2 @ W3.T + b3
    d = out - y
    loss = (d * d).mean()
    g = d * (2.0 / d.size)
    gW3, gb3 = g.T @ h2, g.sum(0)
    g = (g @ W3) * (z2 > 0)
    gW2, gb2 = g.T @ h1, g.sum(0)
    g = (g @ W2) * (z1 > 0)
    gW1, gb1 = g.T @ x, g.sum(0)
    return loss, (gW1, gb1, gW2, gb2, gW3, gb3)


def main():
    rng = np.random.default_rng(0)
    rows, results = [], []
    for batch, n_in, hidden, n_out in SIZES:
        params, xn, yn = make(batch, n_in, hidden, n_out, rng)
        P = [cr.tensor(p, requires_grad=True) for p in params]
        x, y = cr.tensor(xn), cr.tensor(yn)

        def step():
            for p in P:
                p.grad = None
            cr_forward(P, x, y).backward()

        def fwd():
            with cr.no_grad():
                cr_forward(P, x, y)

        def fwd_graph():
            cr_forward(P, x, y)
        # sanity: same gradients as the hand-written network
        step()
        _, ref = numpy_step(params, xn, yn)
        for p, r in zip(P, ref):
            np.testing.assert_allclose(p.grad.numpy(), r, rtol=2e-4, atol=1e-5)
        t, _ = interleaved_medians({"chainrule": step, "numpy": lambda: numpy_step(params, xn, yn),
                                    "forward": fwd_graph}, rounds=7, per_round=100 if hidden < 500 else 15)
        t_cr, t_np, t_f = t["chainrule"], t["numpy"], t["forward"]
        t_bwd = t_cr - t_f
        ratio = t_cr / t_np
        results.append({"size": (batch, n_in, hidden, n_out), "chainrule_us": t_cr, "numpy_us": t_np,
                        "ratio": ratio, "backward_over_forward": t_bwd / t_f})
        rows.append((f"{batch}, {n_in}→{hidden}→{hidden}→{n_out}", f"{t_cr:,.0f}", f"{t_np:,.0f}", f"{ratio:.2f}",
                     f"{t_f:,.0f}", f"{t_bwd:,.0f}", f"{t_bwd / t_f:.2f}"))
    table("3-layer MLP forward+backward from raw ops vs hand-written NumPy (median µs, float32, 7 interleaved rounds)",
          ["batch, sizes", "chainrule", "NumPy", "ratio", "fwd", "bwd", "bwd/fwd"], rows)
    print("targets: ratio ≤ 2.5 at the smallest size, ≤ 1.1 at the largest; bwd/fwd ≤ 2.2")
    return results


if __name__ == "__main__":
    main()
