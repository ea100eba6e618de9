"""Tensor.untyped_storage() / storage(): views report their base's memory, as torch's do (the lesson that views
share storage)."""
import numpy as np
import pytest

import chainrule as cr


def views(lib):
    x = lib.arange(12.0)
    return x, [x[3:], x.view(3, 4).T, x.reshape(2, 6)[1], x[::2]]


def test_views_share_one_storage_and_copies_do_not():
    x, vs = views(cr)
    ptr = x.untyped_storage().data_ptr()
    assert all(v.untyped_storage().data_ptr() == ptr for v in vs)
    assert x.clone().untyped_storage().data_ptr() != ptr and (x + 0).untyped_storage().data_ptr() != ptr
    s = vs[0].storage()
    assert s.size() == len(s) == 12 and s.element_size() == 4 and s.dtype == cr.float32
    assert s.tolist() == list(range(12)) and s[5] == 5.0
    u = vs[0].untyped_storage()
    assert u.nbytes() == len(u) == 48 and u.element_size() == 1 and len(u.tolist()) == 48


def test_as_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    for lib in (cr, torch):
        x, vs = views(lib)
        same = [v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr() for v in vs]
        sizes = [v.untyped_storage().nbytes() for v in vs]
        if lib is cr:
            ours = (same, sizes)
        else:
            assert ours == (same, sizes)
    np.testing.assert_array_equal(cr.arange(5.0)[1:].storage().tolist(), torch.arange(5.0)[1:].storage().tolist())
