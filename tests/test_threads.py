"""BLAS thread control: torch's set/get_num_threads, and small products on one BLAS thread."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import buffers, threads

needs_openblas = pytest.mark.skipif(threads._BLAS is None,
                                    reason="NumPy does not use its bundled OpenBLAS here: its thread count is left alone")


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


@needs_openblas
def test_serial_blas_runs_on_one_thread_and_restores_the_count():
    before = cr.get_num_threads()
    cr.set_num_threads(2)
    seen = []

    def product(a, b):
        seen.append(threads._blas_get())
        return a @ b
    try:
        a, b = np.ones((3, 4), np.float32), np.ones((4, 5), np.float32)
        np.testing.assert_array_equal(threads.serial_blas(product, a, b), a @ b)
        assert seen == [1] and cr.get_num_threads() == 2

        def failing(a, b):
            raise RuntimeError("boom")
        with pytest.raises(RuntimeError):
            threads.serial_blas(failing, a, b)
        assert cr.get_num_threads() == 2     # restored on error too
    finally:
        cr.set_num_threads(before)


@pytest.mark.parametrize("shape", [(64, 64, 128), (64, 128, 128), (128, 64, 64), (8, 512, 300)])
def test_products_in_the_one_thread_range_are_exact(shape):
    m, k, n = shape
    assert threads.SERIAL_MIN < m * k * n < threads.SERIAL_MACS
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((n, k)).T   # a transposed operand, as in x·Wᵀ
    np.testing.assert_allclose(buffers.matmul(a, b), a @ b, rtol=1e-12)
    x, w = cr.tensor(a, requires_grad=True), cr.tensor(b.T.copy(), requires_grad=True)
    cr.nn.functional.linear(x, w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((m, n)) @ b.T, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), np.ones((n, m)) @ a, rtol=1e-12)
