"""DLPack exchange (torch.from_dlpack / torch.utils.dlpack's names): the same memory on both sides."""
import numpy as np
import pytest

import chainrule as cr


def test_numpy_round_trip_shares_memory():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.from_dlpack(x)
    assert np.shares_memory(a, x.numpy())
    y = cr.from_dlpack(a)
    y[0, 0] = 10.0
    assert x[0, 0].item() == 10.0 and not y.requires_grad and y.dtype == cr.float32
    z = cr.from_dlpack(cr.to_dlpack(cr.tensor([5, 6])))      # a bare capsule, as torch.utils.dlpack hands out
    assert z.tolist() == [5, 6] and z.dtype == cr.int64
    assert cr.utils.dlpack.from_dlpack is cr.from_dlpack


def test_a_tensor_that_requires_grad_is_not_exported_and_a_non_array_is_named():
    with pytest.raises(RuntimeError, match=r"__dlpack__: can't export a tensor that requires grad.*detach\(\)"):
        np.from_dlpack(cr.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="from_dlpack: expected an array with __dlpack__ .* got list"):
        cr.from_dlpack([1.0, 2.0])


def test_torch_both_ways():
    torch = pytest.importorskip("torch", reason="torch is the other library here")
    t = torch.arange(6.0).reshape(2, 3)
    c = cr.from_dlpack(t)
    c[1, 2] = -1.0
    assert t[1, 2].item() == -1.0 and c.shape == (2, 3)
    np.testing.assert_array_equal(cr.from_dlpack(torch.utils.dlpack.to_dlpack(t)).numpy(), t.numpy())
    back = torch.from_dlpack(cr.tensor([1.5, 2.5], dtype=cr.float64))
    assert back.dtype == torch.float64 and back.tolist() == [1.5, 2.5]
    back_capsule = torch.utils.dlpack.from_dlpack(cr.to_dlpack(cr.tensor([7, 8])))
    assert back_capsule.tolist() == [7, 8]
