"""Text 003, Starred Research Question 1 (Chen et al., 2016): checkpoint every √L layers of a 16-layer network and
measure the memory–compute trade-off. Peak memory by tracemalloc, time by the clock, gradients compared.

What it shows: activation memory falls (here by ~40 %) for ~1.2× the time — but not to a third, because the
√L scheme keeps √L boundaries plus one √L-layer segment, 2√L = 8 of 16 activations at best (a ratio of 0.5),
and chainrule already frees activations a backward pass does not need."""
import time
import tracemalloc

import numpy as np

import chainrule as cr
import chainrule.nn as nn
from chainrule.utils.checkpoint import checkpoint_sequential


def main(layers=16, width=128, batch=1024):
    cr.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width), nn.Tanh())])
    x = cr.randn(batch, width)
    k = int(round(np.sqrt(layers)))

    def run(segments):
        model.zero_grad()
        out = checkpoint_sequential(model, segments, x) if segments else model(x)
        out.pow(2).mean().backward()
        return [p.grad.numpy().copy() for p in model.parameters()]

    def measure(segments):
        run(segments)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        t = time.perf_counter()
        grads = run(segments)
        seconds = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        return peak, seconds, grads
    plain_mem, plain_t, g0 = measure(0)
    ck_mem, ck_t, g1 = measure(k)
    same = all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(g0, g1))
    print(f"{layers} layers, checkpoint every {layers // k} layers ({k} segments):")
    print(f"  memory {plain_mem / 2**20:.1f} MiB -> {ck_mem / 2**20:.1f} MiB (×{ck_mem / plain_mem:.2f}), "
          f"time {plain_t * 1e3:.0f} ms -> {ck_t * 1e3:.0f} ms (×{ck_t / plain_t:.2f}), gradients equal: {same}")
    return {"memory_ratio": ck_mem / plain_mem, "time_ratio": ck_t / plain_t, "gradients_equal": same}


if __name__ == "__main__":
    main()
