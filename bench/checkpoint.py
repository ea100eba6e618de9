"""Gradient checkpointing on a 16-layer MLP (the texts' research question): peak memory (tracemalloc) and time of
forward+backward, plain vs checkpoint_sequential with √16 = 4 segments, and vs checkpoint_binomial holding at most
3, 4 or 5 layer outputs (the rest of the trade-off curve). Targets: peak memory ≤ 1/3, time ≤ 1.5×.
Run: python bench/checkpoint.py
"""
import tracemalloc

import numpy as np

from _common import interleaved_medians, ratio_range
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


def step(model, x, segments=0, slots=0):
    """One forward+backward: plain, checkpoint_sequential(segments) or checkpoint_binomial(slots)."""
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
    return run


def peak_bytes(run):
    """Peak of live arrays during one run, by tracemalloc. The buffer pool keeps freed arrays for reuse, which
    tracemalloc would count as live (or hide, when they were pooled before the measurement): measured with it off."""
    run()   # warm up
    buffers.set_enabled(False)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    run()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    buffers.set_enabled(True)
    return peak


def main():
    model = build()
    x = cr.randn(BATCH, WIDTH)
    plans = {"plain": {}, "4 checkpoints": {"segments": 4}}
    plans.update({f"binomial, {s} slots": {"slots": s} for s in (5, 4, 3)})
    runs = {name: step(model, x, **kw) for name, kw in plans.items()}
    peaks = {}
    for name, run in runs.items():
        peaks[name] = peak_bytes(run)
        if name == "plain":
            grads = [p.grad.numpy().copy() for p in model.parameters()]
        else:
            check(model, grads)
    # times in interleaved rounds: this machine drifts between a fast and a slow mode for seconds at a time
    times, by_round = interleaved_medians(runs, rounds=5, per_round=3, warmup=1, warmup_s=0)
    print(f"16-layer MLP ({WIDTH} wide, batch {BATCH}, tanh), forward+backward; gradients identical to the plain "
          f"run in every plan. Targets: memory ratio ≤ 0.33 at time ratio ≤ 1.5")
    result = {}
    for name in runs:
        mem, t = peaks[name] / peaks["plain"], times[name] / times["plain"]
        low, high = ratio_range(by_round, name, "plain")
        result[name] = (mem, t)
        print(f"  {name + ':':20s} peak {peaks[name] / 2**20:6.1f} MiB, {times[name] / 1e3:6.1f} ms: memory ratio "
              f"{mem:.2f}, time ratio {t:.2f} (rounds {low:.2f}-{high:.2f})")
    return result


def check(model, grads):
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-5, atol=1e-7)


if __name__ == "__main__":
    main()
