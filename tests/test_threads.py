"""BLAS thread control: torch's set/get_num_threads; small products (once run on one BLAS thread) are exact."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import buffers


def test_set_num_threads_round_trips_and_rejects_bad_values():
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
    finally:
        cr.set_num_threads(before)
    assert cr.get_num_threads() == before
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="set_num_threads"):
            cr.set_num_threads(bad)


@pytest.mark.parametrize("shape", [(64, 64, 128), (64, 128, 128), (128, 64, 64), (8, 512, 300)])
def test_small_products_through_the_pool_are_exact(shape):
    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((n, k)).T   # a transposed operand, as in x·Wᵀ
    np.testing.assert_allclose(buffers.matmul(a, b), a @ b, rtol=1e-12)
    x, w = cr.tensor(a, requires_grad=True), cr.tensor(b.T.copy(), requires_grad=True)
    cr.nn.functional.linear(x, w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((m, n)) @ b.T, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), np.ones((n, m)) @ a, rtol=1e-12)
