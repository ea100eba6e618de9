"""Autograd semantics: accumulation, retain_graph, create_graph, hooks, no_grad, custom Functions, in-place
checks, functional APIs, and the reference texts' worked examples."""
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr


def t64(x, grad=True):
    return cr.tensor(np.asarray(x, dtype=np.float64), requires_grad=grad)


# ---- the reference texts' worked examples (003, Examples 1 and 2) ----------------------------------------------
def test_example1_x_plus_y_times_z():
    x, y, z = t64(-2.0), t64(5.0), t64(-4.0)
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


def test_example2_sigmoid_neuron_and_one_sgd_step():
    x = t64([2.0, 3.0], grad=False)
    w = t64([0.5, -0.3])
    b = t64(0.1)
    y = 1.0
    z = (w * x).sum() + b
    a = cr.sigmoid(z)
    L = -(y * cr.log(a) + (1 - y) * cr.log(1 - a))
    L.backward()
    assert round(z.item(), 4) == 0.2
    assert round(a.item(), 4) == 0.5498
    assert round(L.item(), 4) == 0.5981
    np.testing.assert_allclose(np.round(w.grad.numpy(), 4), [-0.9003, -1.3505])
    assert round(b.grad.item(), 4) == -0.4502
    with cr.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
    w1, w2 = w.detach().numpy()
    assert round(w1, 4) == 0.5900
    # The text rounds dw2 to -1.3505 before the update and prints -0.3 + 0.1351 = -0.1649; unrounded, the step
    # gives -0.164950 (exactly on the rounding half), so the 4-digit value agrees to within one unit.
    assert abs(w2 - (-0.1649)) <= 1e-4 and round(w2, 6) == -0.16495
    assert round(b.item(), 4) == 0.1450


def test_inplace_after_use_by_a_non_saving_op_keeps_the_route_it_had():
    x = t64([1.0, 2.0])
    h = x * 2
    z = h + 1          # Add keeps the edge to h's producer as it was when Add ran
    h += x             # rebinding h afterwards must not re-route z's gradient
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


# ---- accumulation and graph lifetime ----------------------------------------------------------------------------
def test_grad_accumulates_across_backward_calls():
    x = t64([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_value_used_twice_accumulates():
    x = t64(3.0)
    y = x * x + x   # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 7.0


def test_square_of_one_tensor_gets_both_terms():
    # x * x takes a one-edge fast path (2·g·x); it must agree with the two-edge rule, with finite differences and
    # with create_graph (which uses the two-edge rule)
    x = t64(np.linspace(-2, 2, 12).reshape(3, 4))
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())
    assert cr.autograd.gradcheck(lambda a: a * a, (t64(np.random.default_rng(0).standard_normal((3, 4))),))
    z = t64(1.5)
    (g,) = cr.autograd.grad(z * z, z, create_graph=True)
    assert g.item() == 3.0 and cr.autograd.grad(g, z)[0].item() == 2.0


def test_broadcast_gradient_sums_back_to_input_shape():
    a = t64(np.ones((3, 4)))
    b = t64(np.ones((4,)))
    c = t64(np.ones((3, 1)))
    ((a * b) + c).sum().backward()
    assert b.grad.shape == (4,) and np.all(b.grad.numpy() == 3)
    assert c.grad.shape == (3, 1) and np.all(c.grad.numpy() == 4)


def test_second_backward_through_freed_graph_raises():
    x = t64(2.0)
    y = x.exp() * x
    y.backward()
    with pytest.raises(cr.BackwardError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = t64(2.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_deep_chain_does_not_recurse():
    x = t64(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad.item() == 1.0


def test_leaf_grads_do_not_alias():
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.mul_(10) if not a.grad.requires_grad else None
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_non_scalar_backward_with_gradient():
    x = t64([1.0, 2.0, 3.0])
    y = x * 2
    y.backward(gradient=cr.tensor([1.0, 0.5, 0.0], dtype=cr.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0, 0.0])


# ---- higher order -----------------------------------------------------------------------------------------------
def test_second_and_third_derivatives():
    x = t64(2.0)
    y = x ** 4
    (g1,) = cr.autograd.grad(y, x, create_graph=True)
    (g2,) = cr.autograd.grad(g1, x, create_graph=True)
    (g3,) = cr.autograd.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (32.0, 48.0, 48.0)


def test_create_graph_backward_then_grad_of_grad():
    x = t64([0.5, -1.0])
    y = (cr.sigmoid(x) * x).sum()
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.requires_grad
    (h,) = cr.autograd.grad(gx.sum(), x)
    s = 1 / (1 + np.exp(-x.detach().numpy()))
    expected = 2 * s * (1 - s) + x.detach().numpy() * s * (1 - s) * (1 - 2 * s)
    np.testing.assert_allclose(h.numpy(), expected)


def test_autograd_grad_allow_unused():
    x, y = t64(1.0), t64(2.0)
    z = x * 3
    with pytest.raises(cr.BackwardError, match="not used"):
        cr.autograd.grad(z, [x, y], retain_graph=True)
    gx, gy = cr.grad(z, [x, y], allow_unused=True)
    assert gx.item() == 3.0 and gy is None
    assert x.grad is None   # autograd.grad does not accumulate


def test_autograd_grad_wrt_non_leaf():
    x = t64([1.0, 2.0])
    h = x * x
    out = (h * 3).sum()
    (gh,) = cr.autograd.grad(out, h)
    np.testing.assert_allclose(gh.numpy(), [3.0, 3.0])


def test_jacobian_and_hessian():
    x = t64([1.0, 2.0])
    J = cr.autograd.functional.jacobian(lambda v: v ** 2, x)
    np.testing.assert_allclose(J.numpy(), np.diag([2.0, 4.0]))
    H = cr.autograd.functional.hessian(lambda v: (v ** 3).sum(), x)
    np.testing.assert_allclose(H.numpy(), np.diag([6.0, 12.0]))


def test_func_grad_and_value_and_grad():
    f = lambda x: (x ** 3).sum()   # noqa: E731
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(cr.func.grad(f)(x).numpy(), 3 * x ** 2)
    v, g = cr.func.value_and_grad(f)(x)
    assert v.item() == 9.0
    np.testing.assert_allclose(cr.func.grad(cr.func.grad(lambda x: x ** 3))(cr.tensor(2.0, dtype=cr.float64)).item(), 12.0)
    g0, g1 = cr.func.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(g0.numpy(), [3, 4])
    np.testing.assert_allclose(g1.numpy(), [1, 2])


# ---- grad mode ----------------------------------------------------------------------------------------------------
def test_no_grad_context_and_decorator():
    x = t64(1.0)
    with cr.no_grad():
        y = x * 2
        with cr.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad

    @cr.no_grad()
    def f(v):
        return v * 2
    assert not f(x).requires_grad
    assert cr.is_grad_enabled()
    with cr.set_grad_enabled(False):
        assert not (x * 1).requires_grad
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    assert not cr.is_grad_enabled()
    cr.set_grad_enabled(True)


# ---- hooks --------------------------------------------------------------------------------------------------------
def test_tensor_hooks_on_leaf_and_non_leaf():
    x = t64([1.0, 2.0])
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * h.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), 10 * 2 * 2 * h.detach().numpy())
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1])


def test_retain_grad():
    x = t64([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    (h ** 2).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())
    assert h.retains_grad


# ---- custom Functions --------------------------------------------------------------------------------------------
class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * 3 * x ** 2 * ctx.scale, None


class SplitTwo(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        return ga * 2 + gb * 3


def test_custom_function_gradcheck_and_higher_order():
    x = t64([0.5, -1.2, 2.0])
    assert cr.autograd.gradcheck(lambda v: Cube.apply(v, 2.0), [x])
    assert cr.autograd.gradgradcheck(lambda v: Cube.apply(v, 2.0), [x])
    y = Cube.apply(x, 1.0)
    assert y.grad_fn.name() == "CubeBackward"


def test_custom_function_multiple_outputs():
    x = t64([1.0, 2.0])
    a, b = SplitTwo.apply(x)
    (a.sum() + b.sum() * 2).backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 8.0])
    x.grad = None
    a, b = SplitTwo.apply(x)
    a.sum().backward()   # b unused: its gradient is materialised as zeros
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_custom_function_saved_tensor_modified_in_place():
    x = t64([1.0, 2.0])
    h = x * 1
    y = Cube.apply(h, 1.0)
    h.add_(1.0)
    with pytest.raises(cr.InplaceError, match="CubeBackward"):
        y.sum().backward()


# ---- in place and versions --------------------------------------------------------------------------------------
def test_inplace_on_saved_input_raises_naming_the_op():
    w = t64([1.0, 2.0])
    x = cr.tensor([3.0, 4.0], dtype=cr.float64)
    y = w * x
    x += 1
    with pytest.raises(cr.InplaceError, match="MulBackward.*modified by an in-place"):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    w = t64([1.0, 2.0])
    with pytest.raises(cr.InplaceError, match="leaf tensor that requires grad"):
        w += 1
    with cr.no_grad():
        w += 1
    np.testing.assert_allclose(w.detach().numpy(), [2.0, 3.0])


def test_inplace_on_non_leaf_is_recorded():
    x = t64([1.0, 2.0])
    h = x * 2
    h += x     # h = 3x
    h *= 2     # h = 6x
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_setitem_with_grad():
    x = t64([1.0, 2.0, 3.0])
    v = t64(5.0)
    h = x * 1
    h[1] = v * 2
    (h * cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 3.0])
    assert v.grad.item() == 4.0


# ---- tensor basics --------------------------------------------------------------------------------------------------
def test_dtypes_and_promotion():
    assert cr.tensor([1.0]).dtype == cr.float32
    assert cr.tensor([1]).dtype == cr.int64
    assert cr.tensor([True]).dtype == cr.bool
    assert cr.tensor(np.zeros(2)).dtype == cr.float64
    h = cr.ones(2, dtype=cr.float16)
    assert (h * 2.5).dtype == cr.float16          # Python scalars do not upcast
    assert (cr.tensor([1, 2]) * 2.5).dtype == cr.float32
    assert (cr.tensor([1, 2]) + cr.ones(2)).dtype == cr.float32    # float beats int (PyTorch's rule)
    assert (cr.ones(2) + cr.ones(2, dtype=cr.float64)).dtype == cr.float64
    assert (cr.tensor([1, 2]) * 2).dtype == cr.int64


def test_gradient_dtype_matches_input_dtype():
    a = cr.ones(3, requires_grad=True)            # float32
    b = cr.ones(3, dtype=cr.float64)
    (a * b).sum().backward()
    assert a.grad.dtype == cr.float32


def test_repr_like_pytorch():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(cr.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(cr.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=chainrule.float64" in repr(cr.tensor([1.0], dtype=cr.float64))


def test_tensor_properties():
    x = cr.arange(6).reshape(2, 3)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.ndim == 2 and x.numel() == 6
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert cr.tensor(3.5).item() == 3.5
    w = cr.randn(2, requires_grad=True)
    assert w.is_leaf and not (w * 2).is_leaf
    assert not w.detach().requires_grad
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()


def test_creation_functions():
    cr.manual_seed(3)
    a = cr.randn(2, 3)
    cr.manual_seed(3)
    assert np.array_equal(a.numpy(), cr.randn(2, 3).numpy())
    assert cr.zeros(2, 3).shape == (2, 3) and cr.ones((2,)).dtype == cr.float32
    assert cr.full((2,), 7).dtype == cr.int64
    assert cr.eye(3).numpy().trace() == 3
    assert cr.arange(0, 1, 0.25).shape == (4,)
    assert cr.linspace(0, 1, 5).numpy()[-1] == 1
    r = cr.randint(0, 5, (100,))
    assert r.dtype == cr.int64 and r.numpy().min() >= 0 and r.numpy().max() < 5
    assert cr.rand(10).numpy().max() < 1
    assert cr.zeros_like(a).shape == a.shape and cr.ones_like(a).numpy().sum() == 6
    arr = np.zeros(3)
    t = cr.from_numpy(arr)
    arr[0] = 5
    assert t.numpy()[0] == 5
    assert cr.empty(2, 2).shape == (2, 2)


def test_max_with_dim_returns_values_and_indices():
    x = t64([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = cr.max(x, dim=1)
    assert indices.tolist() == [1, 0]
    values.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert not (x > 1).requires_grad and (x > 1).dtype == cr.bool


def test_split_chunk_stack_cat_roundtrip():
    x = t64(np.arange(12.0).reshape(4, 3))
    parts = x.split(2)
    assert [p.shape for p in parts] == [(2, 3), (2, 3)]
    y = cr.cat(x.chunk(3, dim=1), dim=1)
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
    s = cr.stack([x, x], dim=0)
    assert s.shape == (2, 4, 3)
    (s * 2).sum().backward()
    assert np.all(x.grad.numpy() == 4)


def test_repeated_indices_accumulate():
    x = t64([1.0, 2.0, 3.0])
    x[[0, 0, 2]].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 1.0])


def test_stable_at_extreme_inputs_without_warnings():
    x = cr.tensor([-1000.0, 0.0, 1000.0], dtype=cr.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (cr.sigmoid, cr.softplus, lambda v: cr.logsumexp(v, 0), lambda v: cr.log_softmax(v, 0),
                  lambda v: cr.softmax(v, 0), cr.tanh, cr.elu):
            x.grad = None
            y = f(x)
            y.sum().backward()
            assert np.all(np.isfinite(y.detach().numpy())), f
            assert np.all(np.isfinite(x.grad.numpy())), f
    assert cr.sigmoid(cr.tensor([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_node_reached_by_paths_of_different_lengths_gets_every_contribution_first():
    # a feeds c directly and through a 20-op detour; a's node must run once, after both contributions arrived
    x = cr.tensor([0.3, -0.7], dtype=cr.float64, requires_grad=True)
    a = x * 2
    b = a
    for _ in range(20):
        b = (b * 0.9).sin()
    c = (a.exp() + b + a * a).sum()
    assert cr.autograd.gradcheck(lambda v: ((v * 2).exp() + _detour(v * 2) + (v * 2) ** 2).sum(), [x])
    c.backward()
    xs = x.detach().numpy()
    eps = 1e-6
    numeric = [(_f(xs + eps * np.eye(2)[i]) - _f(xs - eps * np.eye(2)[i])) / (2 * eps) for i in range(2)]
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-6)


def _detour(b):
    for _ in range(20):
        b = (b * 0.9).sin()
    return b


def _f(v):
    a = 2 * v
    b = a
    for _ in range(20):
        b = np.sin(b * 0.9)
    return float((np.exp(a) + b + a * a).sum())


def test_function_with_separate_setup_context_as_torch_2():
    """torch 2's style: forward(*args) without ctx, setup_context(ctx, inputs, output) saves for backward; the
    defaults of forward are bound into inputs. Values and gradients = torch's."""
    def define(lib):
        class ScaledExp(lib.autograd.Function):
            @staticmethod
            def forward(x, scale=2.0):
                return (x * scale).exp()

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, scale = inputs
                ctx.scale = scale
                ctx.save_for_backward(output)

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y * ctx.scale, None
        return ScaledExp
    x = np.array([0.1, -0.5, 0.3])
    xc = cr.tensor(x, requires_grad=True)
    out = define(cr).apply(xc)
    out.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), 2 * np.exp(2 * x))
    assert cr.autograd.gradcheck(lambda v: define(cr).apply(v, 0.7), [cr.tensor(x, requires_grad=True)])
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    xt = torch.tensor(x, requires_grad=True)
    define(torch).apply(xt, 0.7).sum().backward()
    xc.grad = None
    define(cr).apply(xc, 0.7).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy())


def test_autograd_graph_tools_as_torch():
    """Gradient edges as autograd.grad inputs, register_multi_grad_hook in both modes, increment_version, Node for
    isinstance, and the multithreading switch."""
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    results = []
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * 2
        y = (h ** 2).sum()
        assert isinstance(h.grad_fn, lib.autograd.graph.Node)
        (g_edge,) = lib.autograd.grad(y, [lib.autograd.graph.get_gradient_edge(h)])
        seen_all, seen_any = [], []
        a, b, c = (lib.tensor(v, requires_grad=True) for v in ([1.0, 2.0], [3.0, 4.0], [5.0]))
        handle = lib.autograd.graph.register_multi_grad_hook(
            (a, b, c), lambda grads: seen_all.append([None if g is None else g.tolist() for g in grads]))
        (a * b).sum().backward()
        handle.remove()
        (a * b).sum().backward()
        lib.autograd.graph.register_multi_grad_hook((a, b), lambda g: seen_any.append(g.tolist()), mode="any")
        (a * b).sum().backward()
        results.append((g_edge.tolist(), seen_all, seen_any))
    assert results[0] == results[1]
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    z = (w * w).sum()
    cr.autograd.graph.increment_version(w)
    with pytest.raises(cr.InplaceError):
        z.backward()
    with cr.autograd.set_multithreading_enabled(False):
        assert not cr.autograd.is_multithreading_enabled()
    assert cr.autograd.is_multithreading_enabled()


def test_a_function_node_keeps_only_what_it_saved():
    """A custom Function holds its inputs as graph edges: an input it did not save is freed with its last other
    reference (as in torch), and the gradient still reaches it."""
    import gc
    import weakref

    class Double(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    alive = weakref.ref(h._data)
    y = Double.apply(h)
    del h
    gc.collect()
    assert alive() is None
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 6.0])


@pytest.mark.parametrize("name, product, other_shape, x_shape", [
    ("mul", lambda h, c: h * c, (3, 4), (3, 4)),
    ("mul by a broadcast constant", lambda h, c: h * c, (4,), (3, 4)),
    ("div by a constant", lambda h, c: h / (c.abs() + 1), (3, 4), (3, 4)),
    ("matmul", lambda h, c: h @ c, (4, 2), (3, 4)),
    ("matmul, constant on the left", lambda h, c: c @ h, (2, 3), (3, 4)),
    ("matmul of vectors", lambda h, c: h @ c, (4,), (4,)),
    ("batched matmul", lambda h, c: h @ c, (4, 2), (2, 3, 4)),
    ("linear with a frozen layer", lambda h, c: cr.nn.functional.linear(h, c, c[:, 0]), (5, 4), (2, 3, 4)),
    ("einsum of three operands", lambda h, c: cr.einsum("ij,jk,k->i", h, c, c[0]), (4, 4), (3, 4)),
])
def test_a_product_or_quotient_keeps_no_input_that_no_gradient_reads(monkeypatch, name, product, other_shape, x_shape):
    """Of x * c (c constant) the node keeps only c: x's values serve no gradient, so x, an activation, can be freed
    (as torch saves `self` only if the other factor requires grad). Gradients and second derivatives through the
    stripped node are checked in float64 (the size threshold is lowered so these small tensors are stripped)."""
    import chainrule.autograd.function as function
    monkeypatch.setattr(function, "_KEEP_BELOW", 0)
    rng = np.random.default_rng(5)
    c = cr.tensor(rng.standard_normal(other_shape))
    p = cr.tensor(rng.standard_normal(x_shape), requires_grad=True)
    out = product(p * 1.5, c)
    kept = [t for t in out.grad_fn.inputs if t.grad_fn is not None]
    assert kept and all(not any(t._data.strides) for t in kept), "the activation should be held as an edge only"
    f = lambda q: product(q * 1.5, c)   # noqa: E731
    assert cr.autograd.gradcheck(f, [p])
    assert cr.autograd.gradgradcheck(f, [p])


def test_scaling_an_activation_lets_it_be_freed():
    import gc
    import weakref
    w = cr.randn(256, 256, requires_grad=True)
    h = cr.randn(128, 256) @ w                 # 128 KiB: above the size below which keeping is cheaper
    alive = weakref.ref(h._data)
    y = (h * 0.5).sum()
    del h
    gc.collect()
    assert alive() is None
    y.backward()
    assert w.grad is not None and np.isfinite(w.grad.numpy()).all()
