"""How many threads NumPy's BLAS uses for chainrule: torch's `set_num_threads` / `get_num_threads`.

    import chainrule as cr
    cr.set_num_threads(1)     # every BLAS product on the calling thread
    cr.get_num_threads()      # the threads NumPy's BLAS uses now

NumPy's BLAS is reached through ctypes where it is the OpenBLAS that NumPy's wheels bundle; with any other BLAS
its thread count is left alone (set it with that library's own variable, e.g. MKL_NUM_THREADS).

Tried and dropped, measured on 2 cores: running products of 64³ to 1.5 M multiply-adds on one OpenBLAS thread.
With an older OpenBLAS it took the 64→128→128→10 training step from 338 to 290 µs; with NumPy 2.4's OpenBLAS
0.3.31 two threads win at every such size ((64, 128)·(128, 128): 21 µs against 28 µs on one thread) and the step
is 5 % faster without it (499 → 476 µs). Also not paying: spreading large elementwise work (Adam over 5.8 M
parameters) over Python threads; OpenBLAS's idle threads spin on the other core after each product, and the step
got slower (3.79 ms against 3.62 at 128, 784→512→512→10).
"""
import ctypes
import glob
import os

import numpy as np


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _find_openblas():
    """(get, set) for the thread count of the OpenBLAS that NumPy loaded, or None when NumPy uses another BLAS.
    ctypes opens the very file NumPy opened, so the calls reach NumPy's instance, not a second copy."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    candidates = glob.glob(os.path.join(root, "numpy.libs", "*openblas*")) + \
        glob.glob(os.path.join(os.path.dirname(np.__file__), ".dylibs", "*openblas*"))
    for path in sorted(candidates):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                    return get, put
    return None


_BLAS = _find_openblas()
_blas_get, _blas_set = _BLAS if _BLAS is not None else (None, None)
_state = {"threads": _blas_get() if _BLAS is not None else _usable_cores()}


def get_num_threads():
    """The number of threads NumPy's OpenBLAS uses (as last set, or the usable cores, when it cannot be read)."""
    return _blas_get() if _BLAS is not None else _state["threads"]


def set_num_threads(n):
    """Use n threads for BLAS products (torch.set_num_threads). With a BLAS other than NumPy's bundled
    OpenBLAS the number is recorded but the BLAS is left alone (use its own variable, e.g. MKL_NUM_THREADS)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _state["threads"] = n
    if _BLAS is not None:
        _blas_set(n)

