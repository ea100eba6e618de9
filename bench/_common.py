"""Shared timing helpers: median of repeated runs, in the same process as the reference."""
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")


def _warm_allocator():
    """Free one 24 MiB block first. glibc then raises its mmap threshold (dynamically, up to 32 MiB), as it does in
    any long-running process after its first large free: afterwards allocations below it come from the heap
    instead of fresh pages. Without this the reference (torch, hand-written NumPy) is timed in whatever allocator
    state the code before it left behind, which moved torch's conv2d time between 1.4 and 3.4 ms."""
    import numpy as np
    block = np.ones(24 << 18, np.float32)
    del block


_warm_allocator()


def median_us(fn, repeat=200, warmup=20, min_time=0.0, warmup_s=0.3):
    """Median wall time of fn in µs, after at least `warmup` calls and `warmup_s` seconds of warm-up: torch's
    largest training step needs about 20 steps (2 s) before its times settle (162 → 105 → 74 ms per step over the
    first three groups of seven), and a count alone would time it before that."""
    start = time.perf_counter()
    done = 0
    while done < warmup or time.perf_counter() - start < warmup_s:
        fn()
        done += 1
    times = []
    start = time.perf_counter()
    while len(times) < repeat or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e6


def block_mean_us(fn, n):
    """Mean µs per call over n consecutive calls: the right statistic when some calls are periodically dearer
    (a monitor that samples every 10th step), which a median would leave out."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def interleaved_block_means(variants, rounds=9, n=60):
    """{name: median over `rounds` of the mean µs per call in a block of n calls}, the variants' blocks
    alternating round by round, so slow drift of the machine falls on all of them alike. Each variant is a
    callable that runs one block given n and returns its mean µs (so it can set up and tear down around it)."""
    per_round = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run_block in variants.items():
            per_round[name].append(run_block(n))
    return {name: sorted(ts)[len(ts) // 2] for name, ts in per_round.items()}


def interleaved_medians(variants, rounds=7, per_round=30, warmup=3, warmup_s=0.3):
    """({name: median µs per call}, {name: [per-round medians]}). Every round times each variant in turn: `warmup`
    untimed calls (the first calls after another library ran are slower: its caches and allocator state are
    cold), then the median of `per_round` calls. The order rotates round by round and the result is the median
    over rounds. This machine switches between a fast and a slow mode for seconds at a time; timing one variant to
    the end and then the next can compare a fast phase with a slow one (the same LSTM ratio came out 1.22 and 1.62
    that way), where interleaved rounds put the drift on all variants alike."""
    for fn in variants.values():
        median_us(fn, repeat=1, warmup=warmup, warmup_s=warmup_s)
    names = list(variants)
    by_round = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = variants[name]
            for _ in range(warmup):
                fn()
            times = []
            for _ in range(per_round):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            by_round[name].append(sorted(times)[len(times) // 2] * 1e6)
    return {name: sorted(ts)[len(ts) // 2] for name, ts in by_round.items()}, by_round


def ratio_range(by_round, name, reference):
    """The lowest and highest per-round ratio name ÷ reference: how far one round can stray from the median."""
    ratios = [a / b for a, b in zip(by_round[name], by_round[reference])]
    return min(ratios), max(ratios)


def try_torch():
    try:
        import torch
        torch.set_num_threads(2)
        return torch
    except ImportError:
        return None


def table(title, header, rows):
    print(f"\n{title}")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(r, widths)))
