"""The buffer pool hands an array out again only when nothing else references it."""
import numpy as np

import chainrule as cr
from chainrule.autograd import buffers

BIG = (256, 1024)   # 1 MiB of float32: pooled


def test_small_arrays_are_never_pooled():
    a = buffers.empty((4, 4), np.float32)
    b = buffers.empty((4, 4), np.float32)
    assert a is not b and not np.shares_memory(a, b)


def test_live_array_or_view_is_not_reused_and_freed_one_is():
    buffers.empty_cache()
    a = buffers.empty(BIG, np.float32)
    b = buffers.empty(BIG, np.float32)
    assert not np.shares_memory(a, b)            # a is still referenced
    addr = a.__array_interface__["data"][0]
    view = a[3:]
    del a
    c = buffers.empty(BIG, np.float32)
    assert c.__array_interface__["data"][0] != addr   # a view keeps its base alive: not reused
    del view
    d = buffers.empty(BIG, np.float32)
    assert d.__array_interface__["data"][0] == addr   # now nobody sees it: reused


def test_tensors_from_pooled_ops_never_alias():
    buffers.empty_cache()
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal(BIG).astype(np.float32))
    kept = [x + 1.0 * k for k in range(4)]    # four live results of the same shape
    for k, t in enumerate(kept):
        np.testing.assert_allclose(t.numpy(), x.numpy() + k)
    datas = [t.numpy() for t in kept]
    assert not any(np.shares_memory(p, q) for i, p in enumerate(datas) for q in datas[i + 1:])


def test_gradients_stay_correct_across_steps_with_reuse():
    rng = np.random.default_rng(1)
    w = cr.tensor(rng.standard_normal((512, 512)).astype(np.float32), requires_grad=True)
    x = cr.tensor(rng.standard_normal((256, 512)).astype(np.float32))
    grads = []
    for _ in range(3):                          # same step thrice: freed buffers come back, results must not change
        w.grad = None
        ((x @ w).tanh() * 2.0).relu().sum().backward()
        grads.append(w.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], grads[2])


def test_pool_can_be_turned_off_and_emptied():
    buffers.set_enabled(False)
    try:
        assert buffers.pooled_bytes() == 0
        a = buffers.empty(BIG, np.float32)
        del a
        assert buffers.pooled_bytes() == 0
    finally:
        buffers.set_enabled(True)


def test_free_arrays_are_evicted_when_the_cap_is_reached(monkeypatch):
    buffers.empty_cache()
    monkeypatch.setattr(buffers, "MAX_POOLED_BYTES", 3 << 20)    # room for three 1 MiB arrays
    held = [buffers.empty(BIG, np.float32) for _ in range(3)]
    assert buffers.pooled_bytes() == 3 << 20
    del held
    other = buffers.empty((512, 512), np.float32)                 # a new shape: the three free ones make room
    assert buffers.pooled_bytes() == 1 << 20 and other.shape == (512, 512)
    again = buffers.empty((512, 512), np.float32)
    assert again is not other and buffers.pooled_bytes() == 2 << 20   # both of that shape are tracked
    addr = other.__array_interface__["data"][0]
    del other
    assert buffers.empty((512, 512), np.float32).__array_interface__["data"][0] == addr   # and reused
    buffers.empty_cache()
