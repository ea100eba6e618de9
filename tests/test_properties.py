"""Property tests (hypothesis): broadcasting gradients and reductions over random dims."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install -e '.[test]')")
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import chainrule as cr  # noqa: E402


@st.composite
def broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    return shapes.input_shapes


@settings(max_examples=60, deadline=None)
@given(broadcastable_pair(), st.sampled_from(["add", "sub", "mul", "div", "maximum"]))
def test_broadcast_gradient_is_summed_back(shapes, op):
    rng = np.random.default_rng(0)
    sa, sb = shapes
    a = cr.tensor(rng.uniform(0.5, 2, sa), dtype=cr.float64, requires_grad=True)
    b = cr.tensor(rng.uniform(0.5, 2, sb), dtype=cr.float64, requires_grad=True)
    fn = getattr(cr, op)
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(sa, sb)
    out.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    assert cr.autograd.gradcheck(fn, [a.detach().requires_grad_(), b.detach().requires_grad_()])


@settings(max_examples=60, deadline=None)
@given(hnp.array_shapes(min_dims=1, max_dims=4, max_side=3), st.data(),
       st.sampled_from(["sum", "mean", "amax", "logsumexp", "var", "prod", "norm"]), st.booleans())
def test_reductions_over_random_dims(shape, data, op, keepdim):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim, unique_by=lambda d: d % ndim))
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.uniform(0.5, 1.5, shape), dtype=cr.float64, requires_grad=True)
    fn = getattr(cr, op)
    dim = tuple(dims)
    axes = tuple(d % ndim for d in dims)
    if op == "var" and np.prod([shape[a] for a in axes]) < 2:
        with pytest.warns(RuntimeWarning, match="degrees of freedom"):
            assert np.isnan(fn(x, dim=dim, keepdim=keepdim).detach().numpy()).all()
        return   # variance of one element is undefined (division by n - 1 = 0)
    out = fn(x, dim=dim, keepdim=keepdim)
    ref = {"sum": np.sum, "mean": np.mean, "amax": np.max, "prod": np.prod}.get(op)
    if ref is not None:
        np.testing.assert_allclose(out.detach().numpy(), ref(x.detach().numpy(), axis=axes, keepdims=keepdim))
    expected_shape = tuple(1 if i in axes else n for i, n in enumerate(shape)) if keepdim else \
        tuple(n for i, n in enumerate(shape) if i not in axes)
    assert out.shape == expected_shape
    assert cr.autograd.gradcheck(lambda v: fn(v, dim=dim, keepdim=keepdim), [x])
