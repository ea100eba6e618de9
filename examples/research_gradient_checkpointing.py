"""Text 003, Starred Research Question 1 (Chen et al., 2016): checkpoint every √L layers of a 16-layer network and
measure the memory–compute trade-off. Peak memory by tracemalloc, time by the clock, gradients compared.

What it shows: activation memory falls by about half for ~1.25× the time — but not to a third, because the
√L scheme keeps √L boundaries plus one √L-layer segment, 2√L = 8 of 16 activations at best (a ratio of 0.5),
and chainrule already frees activations a backward pass does not need. Nested checkpoints (binomial
checkpointing, Griewank & Walther) go further: holding at most 3 layer outputs reaches a third of the memory, but
each layer is then evaluated 3.5 times on average (56 evaluations for 16 layers), about 2× the time."""
import time
import tracemalloc

import numpy as np

import chainrule as cr
import chainrule.nn as nn
from chainrule.utils.checkpoint import checkpoint_binomial, checkpoint_sequential


def main(layers=16, width=128, batch=1024):
    cr.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width), nn.Tanh())])
    x = cr.randn(batch, width)
    k = int(round(np.sqrt(layers)))

    blocks = [model[i:i + 2] for i in range(0, len(model), 2)]   # Linear + Tanh: one stored output each

    def run(segments, slots=0):
        model.zero_grad()
        if slots:
            out = checkpoint_binomial(blocks, slots, x)
        else:
            out = checkpoint_sequential(model, segments, x) if segments else model(x)
        out.pow(2).mean().backward()
        return [p.grad.numpy().copy() for p in model.parameters()]

    def measure(segments, slots=0):
        run(segments, slots)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        t = time.perf_counter()
        grads = run(segments, slots)
        seconds = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        return peak, seconds, grads
    plain_mem, plain_t, g0 = measure(0)
    ck_mem, ck_t, g1 = measure(k)
    bi_mem, bi_t, g2 = measure(0, slots=3)
    same = all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(g0, g1))
    same_binomial = all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(g0, g2))
    print(f"{layers} layers, checkpoint every {layers // k} layers ({k} segments):")
    print(f"  memory {plain_mem / 2**20:.1f} MiB -> {ck_mem / 2**20:.1f} MiB (×{ck_mem / plain_mem:.2f}), "
          f"time {plain_t * 1e3:.0f} ms -> {ck_t * 1e3:.0f} ms (×{ck_t / plain_t:.2f}), gradients equal: {same}")
    print("binomial checkpointing, at most 3 layer outputs held:")
    print(f"  memory {plain_mem / 2**20:.1f} MiB -> {bi_mem / 2**20:.1f} MiB (×{bi_mem / plain_mem:.2f}), "
          f"time {plain_t * 1e3:.0f} ms -> {bi_t * 1e3:.0f} ms (×{bi_t / plain_t:.2f}), gradients equal: "
          f"{same_binomial}")
    return {"memory_ratio": ck_mem / plain_mem, "time_ratio": ck_t / plain_t, "gradients_equal": same,
            "binomial_memory_ratio": bi_mem / plain_mem, "binomial_time_ratio": bi_t / plain_t,
            "binomial_gradients_equal": same_binomial}


if __name__ == "__main__":
    main()
