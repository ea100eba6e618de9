"""Reused memory for large arrays: a small caching allocator at the Python level (PyTorch keeps one for CUDA).

Why: glibc gives freed blocks above its mmap threshold straight back to the operating system, so the megabytes
of activations and gradients a training step allocates are fresh pages again at the next step, and touching
each 4 KiB page costs a fault (~1 µs). Measured on the conv2d benchmark (batch 32, 3→16, 32×32): 1,856 faults
per forward+backward, a third of its time; on the LSTM benchmark 3,100.

How: `empty(shape, dtype)` hands out an array of at least MIN_BYTES from a pool kept per (shape, dtype). A pooled
array is handed out again only when the pool holds the last reference to it (sys.getrefcount): no tensor, view,
saved value or user variable can still see it, so reuse never aliases live data. Contents are garbage, as with
np.empty: callers overwrite every element.

    chainrule.autograd.buffers.empty_cache()   # hand the pooled memory back (torch.cuda.empty_cache's name)
"""
import sys
import threading

import numpy as np


MIN_BYTES = 1 << 18        # 256 KiB: below this, malloc's free lists already reuse memory without faults
MAX_PER_SHAPE = 6          # live arrays of one (shape, dtype) tracked at once; beyond, plain np.empty
MAX_POOLED_BYTES = 1 << 29   # 512 MiB held at most; past it, arrays nobody holds are dropped first
_pool = {}                 # (shape, dtype) -> [arrays]
_state = {"bytes": 0, "enabled": True}
_lock = threading.Lock()
_refcount = sys.getrefcount


def _probe_refcount():
    """The reference count a free pooled array shows inside empty(): the list, the loop variable, the call's
    argument. Measured once, so an interpreter that counts differently simply turns the pool off."""
    probe = {"k": [np.empty(1)]}
    for buf in probe["k"]:
        free = _refcount(buf)
    view = probe["k"][0][:]
    for buf in probe["k"]:
        busy = _refcount(buf)
    del view
    return free if busy > free else None


_FREE_REFS = _probe_refcount()


def empty(shape, dtype):
    """An uninitialised array like np.empty(shape, dtype), reusing a pooled one nobody references any more."""
    dtype = np.dtype(dtype)
    size = 1
    for n in shape:
        size *= n
    if size * dtype.itemsize < MIN_BYTES or _FREE_REFS is None or not _state["enabled"]:
        return np.empty(shape, dtype)
    key = (tuple(shape), dtype)
    with _lock:
        bufs = _pool.get(key)
        if bufs is None:
            bufs = _pool[key] = []
        for buf in bufs:
            if _refcount(buf) == _FREE_REFS:
                return buf
        buf = np.empty(shape, dtype)
        if len(bufs) < MAX_PER_SHAPE:
            if _state["bytes"] + buf.nbytes > MAX_POOLED_BYTES:
                _evict_free()   # shapes change (a new batch size, a longer sequence): drop what nobody holds
                bufs = _pool.setdefault(key, bufs)
            if _state["bytes"] + buf.nbytes <= MAX_POOLED_BYTES:
                bufs.append(buf)
                _state["bytes"] += buf.nbytes
        return buf


def _evict_free():
    """Forget every pooled array that nobody else references (called with the lock held)."""
    for key in list(_pool):
        kept = []
        for buf in _pool[key]:
            if _refcount(buf) == _FREE_REFS:
                _state["bytes"] -= buf.nbytes
            else:
                kept.append(buf)
        if kept:
            _pool[key] = kept
        else:
            del _pool[key]


def zeros(shape, dtype):
    out = empty(shape, dtype)
    out.fill(0)
    return out


def copy_of(view):
    """A C-contiguous copy of any array (np.ascontiguousarray for strided views), in pooled memory."""
    out = empty(view.shape, view.dtype)
    np.copyto(out, view)
    return out


def out_like(a):
    """A pooled array shaped and typed like the floating-point array a, to pass as a ufunc's out=; None (NumPy
    allocates as usual) when a is small or not floating point."""
    if a.nbytes < MIN_BYTES or a.dtype.kind != "f":
        return None
    return empty(a.shape, a.dtype)


def dense(a):
    """a itself, or a pooled copy when a is a broadcast view (a zero stride, as the gradient of a sum or mean):
    BLAS needs real strides, and NumPy's fallback loop for such operands is slower than the copy."""
    return copy_of(a) if 0 in a.strides and a.size > 1 else a


def binary(ufunc, a, b):
    """ufunc(a, b) into pooled memory when the result is large and keeps a's (or b's) shape and dtype."""
    big = a if a.nbytes >= b.nbytes else b
    if big.nbytes < MIN_BYTES:
        return ufunc(a, b)
    if a.dtype != b.dtype or np.broadcast_shapes(a.shape, b.shape) != big.shape:
        return ufunc(a, b)
    return ufunc(a, b, out=empty(big.shape, big.dtype))


def matmul(a, b):
    """a @ b into pooled memory when the result is large (small products go straight to NumPy: every check
    costs more than the page faults it could save)."""
    if a.dtype == HALF and b.dtype == HALF:
        return half_product(np.matmul, a, b)
    if a.ndim == 2 and b.ndim == 2:
        rows, cols = a.shape[0], b.shape[1]
        if rows * cols * a.itemsize < MIN_BYTES or a.dtype != b.dtype:
            return a @ b
        shape = (rows, cols)
    elif a.ndim < 2 or b.ndim < 2 or a.dtype != b.dtype:
        return np.matmul(a, b)
    else:
        shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
        size = a.itemsize
        for n in shape:
            size *= n
        if size < MIN_BYTES:
            return np.matmul(a, b)
    return np.matmul(dense(a), dense(b), out=empty(shape, a.dtype))


HALF = np.dtype(np.float16)


def half_product(product, *operands, **options):
    """A product of float16 arrays accumulated in float32 and rounded once, as torch's CPU kernels do: NumPy's
    float16 loop keeps float16 partial sums, which overflow (inf - inf = nan) where the sum does not, and is
    ~100× slower than float32 BLAS."""
    out = product(*(x.astype(np.float32) if getattr(x, "dtype", None) == HALF else x for x in operands),
                  **options)
    with np.errstate(over="ignore"):   # past float16's range is ±inf, quietly, as torch
        return out.astype(np.float16)


def empty_cache():
    """Drop every pooled array (those still in use stay alive with their owners)."""
    with _lock:
        _pool.clear()
        _state["bytes"] = 0


def set_enabled(flag):
    """Turn the pool on or off (off: every request is a plain np.empty)."""
    _state["enabled"] = bool(flag)
    if not flag:
        empty_cache()


def pooled_bytes():
    return _state["bytes"]
