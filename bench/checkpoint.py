"""Gradient checkpointing on a 16-layer MLP (the texts' research question): peak memory (tracemalloc) and time of
forward+backward, plain vs checkpoint_sequential with √16 = 4 segments, and vs checkpoint_binomial holding at most
3, 4 or 5 layer outputs (the rest of the trade-off curve). Targets: peak memory ≤ 1/3, time ≤ 1.5×.
Run: python bench/checkpoint.py
"""
import time
import tracemalloc

import numpy as np

import chainrule as cr
import chainrule.nn as nn
from chainrule.autograd import buffers
from chainrule.utils.checkpoint import checkpoint_binomial, checkpoint_sequential

LAYERS, WIDTH, BATCH = 16, 256, 4096


def build():
    cr.manual_seed(0)
    layers = []
    for _ in range(LAYERS):
        layers += [nn.Linear(WIDTH, WIDTH), nn.Tanh()]
    return nn.Sequential(*layers)


def measure(model, x, segments=0, slots=0):
    blocks = [model[i:i + 2] for i in range(0, len(model), 2)]   # Linear + Tanh: one stored output per block

    def run():
        model.zero_grad()
        if slots:
            out = checkpoint_binomial(blocks, slots, x)
        else:
            out = checkpoint_sequential(model, segments, x) if segments else model(x)
        loss = out.pow(2).mean()
        del out   # as in `loss = criterion(model(x), y)`: only the graph keeps the output alive
        loss.backward()
    run()   # warm up, and allocate .grad once so both runs measure activations, not gradient buffers
    # the buffer pool keeps freed arrays for reuse, which tracemalloc would count as live (or hide, when they were
    # pooled before the measurement): measure the true peak of live arrays with it off, time with it on
    buffers.set_enabled(False)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    t = time.perf_counter()
    run()
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    buffers.set_enabled(True)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return peak, float(np.median(times + [seconds]))


def main():
    model = build()
    x = cr.randn(BATCH, WIDTH)
    plain_mem, plain_t = measure(model, x, 0)
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    ck_mem, ck_t = measure(model, x, segments=4)
    check(model, grads)
    print(f"16-layer MLP ({WIDTH} wide, batch {BATCH}, tanh), forward+backward:")
    print(f"  plain:                 peak {plain_mem / 2**20:7.1f} MiB, {plain_t * 1e3:7.1f} ms")
    print(f"  4 checkpoints:         peak {ck_mem / 2**20:7.1f} MiB, {ck_t * 1e3:7.1f} ms")
    print(f"  memory ratio {ck_mem / plain_mem:.2f} (target ≤ 0.33), time ratio {ck_t / plain_t:.2f} (target ≤ 1.5); "
          f"gradients identical")
    binomial = {}
    for slots in (5, 4, 3):
        mem, t = measure(model, x, slots=slots)
        check(model, grads)
        binomial[slots] = (mem / plain_mem, t / plain_t)
        print(f"  binomial, {slots} slots:     peak {mem / 2**20:7.1f} MiB, {t * 1e3:7.1f} ms: memory ratio "
              f"{mem / plain_mem:.2f}, time ratio {t / plain_t:.2f}; gradients identical")
    return {"memory_ratio": ck_mem / plain_mem, "time_ratio": ck_t / plain_t, "plain_mib": plain_mem / 2**20,
            "checkpoint_mib": ck_mem / 2**20, "binomial": binomial}


def check(model, grads):
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-5, atol=1e-7)


if __name__ == "__main__":
    main()
