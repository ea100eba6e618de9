"""Optimizer updates split across threads give exactly the single-thread result."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.optim import _threads


def _run(threads, big, amsgrad=False, opt_cls=cr.optim.Adam, steps=3):
    cr.set_num_threads(threads)
    rng = np.random.default_rng(0)
    # a 1-d and a 2-d parameter, each split into three uneven chunks on three threads
    shape = (3 * _threads.MIN_CHUNK + 5,) if big else (600, 700)
    w = cr.nn.Parameter(cr.tensor(rng.standard_normal(shape).astype(np.float32)))
    b = cr.nn.Parameter(cr.tensor(rng.standard_normal(7).astype(np.float32)))
    opt = opt_cls([w, b], lr=1e-2, amsgrad=amsgrad, weight_decay=0.1)
    for k in range(steps):
        w.grad = cr.tensor(rng.standard_normal(shape).astype(np.float32))
        b.grad = cr.tensor(rng.standard_normal(7).astype(np.float32))
        opt.step()
    return w.detach().numpy().copy(), b.detach().numpy().copy()


@pytest.mark.parametrize("big", [True, False])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("opt_cls", [cr.optim.Adam, cr.optim.AdamW])
def test_threaded_adam_matches_one_thread(big, amsgrad, opt_cls):
    try:
        one = _run(1, big, amsgrad, opt_cls)
        three = _run(3, big, amsgrad, opt_cls)
    finally:
        cr.set_num_threads(_threads._available_cores())
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)   # elementwise updates: the split changes nothing, bit for bit


def test_parallel_update_splits_large_contiguous_arrays_only():
    seen = []
    cr.set_num_threads(4)
    try:
        x = np.zeros(4 * _threads.MIN_CHUNK, np.float32)
        _threads.parallel_update(lambda a: seen.append(a.size) or a.__iadd__(1), (x,))
        assert sorted(seen) == [_threads.MIN_CHUNK] * 4 and (x == 1).all()
        seen.clear()
        strided = np.zeros((2, 4 * _threads.MIN_CHUNK), np.float32)[:, ::2]   # no flat view: one call
        _threads.parallel_update(lambda a: seen.append(a.size), (strided,))
        assert seen == [strided.size]
    finally:
        cr.set_num_threads(_threads._available_cores())


def test_set_num_threads_rejects_nonsense():
    with pytest.raises(ValueError, match="set_num_threads"):
        cr.set_num_threads(0)
    assert cr.get_num_threads() >= 1
