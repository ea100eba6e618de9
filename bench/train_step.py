"""The full training step — zero_grad, forward, cross-entropy, backward, Adam — for Linear-ReLU-Linear-ReLU-Linear,
against torch eager and a hand-written NumPy step (Adam in place per parameter), in the same process, float32,
2 threads. The smallest size uses 2 output classes (PERF.md's 2→16→16→2), as cross-entropy needs two.

Targets: ≤ 0.5× torch at the two small sizes, ≤ 1.0× at the two large ones, ≤ 1.1× hand-written NumPy at the
largest. Run: python bench/train_step.py [--quick]
"""
import sys

import numpy as np

from _common import interleaved_medians, ratio_range, table, try_torch

import chainrule as cr
import chainrule.nn as nn

SIZES = [(32, 2, 16, 2), (64, 64, 128, 10), (128, 784, 512, 10), (512, 784, 2048, 10)]


def init_params(n_in, hidden, n_out, rng):
    shapes = [(hidden, n_in), (hidden,), (hidden, hidden), (hidden,), (n_out, hidden), (n_out,)]
    return [(rng.standard_normal(s) * (1 / np.sqrt(s[-1] if len(s) > 1 else hidden))).astype(np.float32)
            for s in shapes]


class NumpyStep:
    """Forward, softmax-cross-entropy backward and Adam written by hand: the floor chainrule is measured against."""

    def __init__(self, params):
        self.P = [p.copy() for p in params]
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def __call__(self, x, y, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        W1, b1_, W2, b2_, W3, b3 = self.P
        z1 = x @ W1.T + b1_
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2.T + b2_
        h2 = np.maximum(z2, 0)
        z3 = h2 @ W3.T + b3
        e = np.exp(z3 - z3.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        n = len(y)
        loss = -np.log(p[np.arange(n), y]).mean()
        g = p
        g[np.arange(n), y] -= 1
        g /= n
        grads = [None] * 6
        grads[4], grads[5] = g.T @ h2, g.sum(0)
        g = (g @ W3) * (z2 > 0)
        grads[2], grads[3] = g.T @ h1, g.sum(0)
        g = (g @ W2) * (z1 > 0)
        grads[0], grads[1] = g.T @ x, g.sum(0)
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, np.sqrt(1 - b2 ** self.t)
        for w, gr, m, v in zip(self.P, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * gr
            v *= b2
            v += (1 - b2) * (gr * gr)
            denom = np.sqrt(v)
            denom /= np.float32(c2)
            denom += np.float32(eps)
            w -= np.float32(lr / c1) * (m / denom)
        return loss


def chainrule_model(params):
    model = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for lin, (w, b) in zip(linears, zip(params[::2], params[1::2])):
        lin.weight = nn.Parameter(w.copy())
        lin.bias = nn.Parameter(b.copy())
        lin.in_features, lin.out_features = w.shape[1], w.shape[0]
    return model


def training_step(model, opt, loss_fn, x, y):
    """The step both libraries run, written once (their APIs are the same)."""
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def main(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    rows, results = [], []
    sizes = SIZES[:3] if quick else SIZES
    for batch, n_in, hidden, n_out in sizes:
        params = init_params(n_in, hidden, n_out, rng)
        xn = rng.standard_normal((batch, n_in)).astype(np.float32)
        yn = rng.integers(0, n_out, batch)
        model = chainrule_model(params)
        opt = cr.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        x, y = cr.tensor(xn), cr.tensor(yn)

        cr_step = training_step(model, opt, loss_fn, x, y)
        np_step = NumpyStep(params)
        # the two implementations take the same first step
        l_cr, l_np = cr_step().item(), np_step(xn, yn)
        assert abs(l_cr - l_np) < 1e-4 * max(1, abs(l_np)), (l_cr, l_np)
        variants = {"chainrule": cr_step, "numpy": lambda: np_step(xn, yn)}
        if torch is not None:
            tm = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                                     torch.nn.ReLU(), torch.nn.Linear(hidden, n_out))
            with torch.no_grad():
                for q, p in zip(tm.parameters(), params):
                    q.copy_(torch.from_numpy(p))
            topt = torch.optim.Adam(tm.parameters(), lr=1e-3)
            tloss = torch.nn.CrossEntropyLoss()
            variants["torch"] = training_step(tm, topt, tloss, torch.from_numpy(xn), torch.from_numpy(yn))
        big = hidden >= 2048
        # torch's largest step needs ~2 s of warm-up before its times settle (162 → 105 → 74 ms per step)
        timing = {"rounds": 5 if big else 7, "per_round": 3 if big else (10 if hidden >= 512 else 100),
                  "warmup": 1 if big else 3, "warmup_s": 2.5 if big else 0.3}
        t, by_round = interleaved_medians(variants, **timing)
        t_cr, t_np, t_t = t["chainrule"], t["numpy"], t.get("torch")
        row = {"size": f"{batch}, {n_in}→{hidden}→{hidden}→{n_out}", "chainrule_us": t_cr, "numpy_us": t_np}
        if t_t is not None:
            row["torch_us"] = t_t
            row["torch_rounds"] = ratio_range(by_round, "chainrule", "torch")
        results.append(row)
        rows.append((row["size"], f"{t_cr:,.0f}", f"{t_np:,.0f}", f"{t_cr / t_np:.2f}",
                     f"{t_t:,.0f}" if t_t else "-", f"{t_cr / t_t:.2f}" if t_t else "-",
                     "{:.2f}-{:.2f}".format(*row["torch_rounds"]) if t_t else "-"))
    table("training step (zero_grad, forward, cross-entropy, backward, Adam), median µs, float32, interleaved rounds",
          ["batch, sizes", "chainrule", "NumPy", "÷ NumPy", "torch", "÷ torch", "rounds"], rows)
    print("targets: ÷ torch ≤ 0.5 at the two small sizes, ≤ 1.0 at the two large; ÷ NumPy ≤ 1.1 at the largest")
    return results


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
