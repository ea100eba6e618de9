"""Per-op overhead: a chain of 10 small elementwise ops (32×16 float32) + sum, forward and backward.

Reported per op, as a ratio to raw NumPy (forward + hand-written backward) and to torch eager with autograd.
Target: chainrule ≤ 0.5× torch eager per op. Run: python bench/overhead.py
"""
import numpy as np

from _common import median_us, table, try_torch

import chainrule as cr

N_OPS = 10


def chainrule_chain(a, b):
    x = a
    for i in range(N_OPS):
        x = x * b if i % 2 else x + b
    x.sum().backward()


def numpy_chain(a, b):
    xs = [a]
    for i in range(N_OPS):
        xs.append(xs[-1] * b if i % 2 else xs[-1] + b)
    xs[-1].sum()
    g = np.ones_like(a)
    for i in reversed(range(N_OPS)):
        g = g * b if i % 2 else g      # d(x*b)/dx = b, d(x+b)/dx = 1
    return g


def main():
    rng = np.random.default_rng(0)
    an, bn = rng.standard_normal((32, 16)).astype(np.float32), rng.standard_normal((32, 16)).astype(np.float32)
    a, b = cr.tensor(an, requires_grad=True), cr.tensor(bn)
    n = N_OPS + 1
    rows = []
    t_cr = median_us(lambda: chainrule_chain(a, b), repeat=2000)
    t_np = median_us(lambda: numpy_chain(an, bn), repeat=2000)
    rows.append(("chainrule", f"{t_cr:.1f}", f"{t_cr / n:.2f}", "1.00"))
    rows.append(("NumPy by hand", f"{t_np:.1f}", f"{t_np / n:.2f}", f"{t_np / t_cr:.2f}"))
    torch = try_torch()
    result = {"chainrule_us_per_op": t_cr / n, "numpy_us_per_op": t_np / n}
    if torch is not None:
        ta, tb = torch.tensor(an, requires_grad=True), torch.tensor(bn)

        def torch_chain():
            x = ta
            for i in range(N_OPS):
                x = x * tb if i % 2 else x + tb
            x.sum().backward()
        t_t = median_us(torch_chain, repeat=2000)
        rows.append(("torch eager", f"{t_t:.1f}", f"{t_t / n:.2f}", f"{t_t / t_cr:.2f}"))
        result["torch_us_per_op"] = t_t / n
        result["ratio_vs_torch"] = t_cr / t_t
    table(f"chain of {N_OPS} elementwise ops + sum, forward+backward, (32, 16) float32",
          ["implementation", "µs/chain", "µs/op", "× chainrule"], rows)
    print(f"\nchainrule / NumPy = {t_cr / t_np:.2f}×" +
          (f";  chainrule / torch = {result['ratio_vs_torch']:.2f}× (target ≤ 0.5×)" if torch else
           ";  torch not installed (pip install torch==2.13.0) — no torch ratio"))
    return result


if __name__ == "__main__":
    main()
