"""Per-op overhead: a chain of 10 small elementwise ops (32×16 float32) + sum, forward and backward.

Reported per op, as a ratio to raw NumPy (forward + hand-written backward) and to torch eager with autograd, next
to a minimal closure tape (PERF.md's floor for any pure-Python engine over NumPy).
Target: chainrule ≤ 0.5× torch eager per op. Run: python bench/overhead.py
"""
import numpy as np

from _common import interleaved_medians, ratio_range, table, try_torch

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


class TapeValue:
    """PERF.md's "25-line closure tape": the least a Python reverse-mode engine can do (no dtype rules, hooks,
    version checks or broadcasting), measured here as the floor of per-op overhead in pure Python."""
    __slots__ = ("data", "grad", "parents", "backward_fn")

    def __init__(self, data, parents=(), backward_fn=None):
        self.data, self.grad, self.parents, self.backward_fn = data, None, parents, backward_fn

    def __add__(self, other):
        return TapeValue(self.data + other.data, (self, other), lambda g: (g, g))

    def __mul__(self, other):
        return TapeValue(self.data * other.data, (self, other), lambda g: (g * other.data, g * self.data))

    def sum(self):
        shape = self.data.shape
        return TapeValue(self.data.sum(), (self,), lambda g: (np.broadcast_to(g, shape),))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in v.parents)
        self.grad = np.ones_like(self.data)
        for v in reversed(order):
            if v.backward_fn is not None:
                for p, g in zip(v.parents, v.backward_fn(v.grad)):
                    p.grad = g if p.grad is None else p.grad + g


def tape_chain(an, bn):
    a, b = TapeValue(an), TapeValue(bn)
    x = a
    for i in range(N_OPS):
        x = x * b if i % 2 else x + b
    x.sum().backward()


def main():
    rng = np.random.default_rng(0)
    an, bn = rng.standard_normal((32, 16)).astype(np.float32), rng.standard_normal((32, 16)).astype(np.float32)
    a, b = cr.tensor(an, requires_grad=True), cr.tensor(bn)
    n = N_OPS + 1
    variants = {"chainrule": lambda: chainrule_chain(a, b), "numpy": lambda: numpy_chain(an, bn),
                "tape": lambda: tape_chain(an, bn)}
    torch = try_torch()
    if torch is not None:
        ta, tb = torch.tensor(an, requires_grad=True), torch.tensor(bn)

        def torch_chain():
            x = ta
            for i in range(N_OPS):
                x = x * tb if i % 2 else x + tb
            x.sum().backward()
        variants["torch"] = torch_chain
    t, by_round = interleaved_medians(variants, rounds=9, per_round=300)
    t_cr, t_np, t_tape = t["chainrule"], t["numpy"], t["tape"]
    rows = [("chainrule", f"{t_cr:.1f}", f"{t_cr / n:.2f}", "1.00"),
            ("NumPy by hand", f"{t_np:.1f}", f"{t_np / n:.2f}", f"{t_np / t_cr:.2f}"),
            ("minimal closure tape", f"{t_tape:.1f}", f"{t_tape / n:.2f}", f"{t_tape / t_cr:.2f}")]
    result = {"chainrule_us_per_op": t_cr / n, "numpy_us_per_op": t_np / n, "tape_us_per_op": t_tape / n}
    if torch is not None:
        t_t = t["torch"]
        rows.append(("torch eager", f"{t_t:.1f}", f"{t_t / n:.2f}", f"{t_t / t_cr:.2f}"))
        result["torch_us_per_op"] = t_t / n
        result["ratio_vs_torch"] = t_cr / t_t
        result["tape_vs_torch"] = t_tape / t_t
        result["ratio_vs_torch_rounds"] = ratio_range(by_round, "chainrule", "torch")
    table(f"chain of {N_OPS} elementwise ops + sum, forward+backward, (32, 16) float32",
          ["implementation", "µs/chain", "µs/op", "× chainrule"], rows)
    print(f"\nchainrule / NumPy = {t_cr / t_np:.2f}×" +
          (f";  chainrule / torch = {result['ratio_vs_torch']:.2f}× (rounds {result['ratio_vs_torch_rounds'][0]:.2f}-"
           f"{result['ratio_vs_torch_rounds'][1]:.2f}; target ≤ 0.5×; the minimal tape, with none "
           f"of the engine's checks, is {result['tape_vs_torch']:.2f}×)" if torch else
           ";  torch not installed (pip install torch==2.13.0) — no torch ratio"))
    return result


if __name__ == "__main__":
    main()
