"""More of torch's top-level functions, each compared with torch where it is importable (values and gradients in
float64): integration and finite differences, the scatter-into-a-view ops, as_strided, index helpers, norms,
legacy tensor types and inference_mode. The registry gradchecks the differentiable ones (tests/test_ops.py)."""
import numpy as np
import pytest

import chainrule as cr


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _both(torch, arr, grad=True):
    return cr.tensor(arr, requires_grad=grad), torch.tensor(arr, requires_grad=grad)


def _forward_and_backward_match(torch, fn, arrays, seed):
    """fn(module, *tensors) on chainrule and on torch: the same values, and the same gradients for a random
    upstream gradient, for every input array (those in `arrays` are all differentiated)."""
    pairs = [_both(torch, a) for a in arrays]
    a, b = fn(cr, *(p[0] for p in pairs)), fn(torch, *(p[1] for p in pairs))
    _same(a, b)
    g = np.random.default_rng(seed).standard_normal(a.shape)
    a.backward(cr.tensor(g))
    b.backward(torch.tensor(g))
    for ours, theirs in pairs:
        _same(ours.grad, theirs.grad)


def _same(a, b, rtol=1e-10):
    a = a.detach().numpy() if isinstance(a, cr.Tensor) else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


CALCULUS = [
    ("trapezoid", lambda m, y, x: m.trapezoid(y)),
    ("trapezoid_x", lambda m, y, x: m.trapezoid(y, x, dim=0)),
    ("trapezoid_dx", lambda m, y, x: m.trapezoid(y, dx=0.3, dim=1)),
    ("trapz", lambda m, y, x: m.trapz(y, x, dim=0)),
    ("cumulative_trapezoid", lambda m, y, x: m.cumulative_trapezoid(y, x, dim=0)),
    ("gradient", lambda m, y, x: m.cat([g.reshape(-1) for g in m.gradient(y)])),
    ("gradient_spacing", lambda m, y, x: m.gradient(y, spacing=[0.5], dim=1)[0]),
    ("gradient_coords", lambda m, y, x: m.gradient(y, spacing=(x,), dim=0, edge_order=2)[0]),
]


@pytest.mark.parametrize("name, fn", CALCULUS, ids=[c[0] for c in CALCULUS])
def test_integration_and_finite_differences_match_torch(name, fn):
    torch = _torch()
    rng = np.random.default_rng(0)
    y, x = rng.standard_normal((5, 4)), np.cumsum(rng.random(5) + 0.1)
    xa, xb = _both(torch, x, grad=False)   # sample points are constants
    _forward_and_backward_match(torch, lambda m, t: fn(m, t, xa if m is cr else xb), [y], seed=1)


SCATTERS = [   # x is (4, 5); src has the shape of the view it fills
    ("select_scatter", lambda m, x, s: m.select_scatter(x, s, 1, 2), (4,)),
    ("slice_scatter", lambda m, x, s: m.slice_scatter(x, s, 1, 1, 5, 2), (4, 2)),
    ("diagonal_scatter", lambda m, x, s: m.diagonal_scatter(x, s, 0), (4,)),
    ("diagonal_scatter_offset", lambda m, x, s: m.diagonal_scatter(x, s, 1), (4,)),
    ("diagonal_scatter_below", lambda m, x, s: m.diagonal_scatter(x, s, -2), (2,)),
    ("as_strided", lambda m, x, s: m.as_strided(x, (3, 3), (2, 1), 1) + s.sum(), (1,)),
]


@pytest.mark.parametrize("name, fn, src_shape", SCATTERS, ids=[c[0] for c in SCATTERS])
def test_view_scatters_and_as_strided_match_torch(name, fn, src_shape):
    rng = np.random.default_rng(1)
    _forward_and_backward_match(_torch(), fn, [rng.standard_normal((4, 5)), rng.standard_normal(src_shape)], seed=2)


def test_scatter_shape_errors_are_named():
    with pytest.raises(cr.ShapeError, match="select_scatter: src must have the shape"):
        cr.select_scatter(cr.zeros(3, 4), cr.zeros(4), 1, 0)
    with pytest.raises(cr.ShapeError, match="diagonal_scatter"):
        cr.diagonal_scatter(cr.zeros(3, 3), cr.zeros(2))
    with pytest.raises(cr.ShapeError, match="as_strided: .* reach element"):
        cr.zeros(4).as_strided((3,), (2,))
    with pytest.raises(ValueError, match="edge_order=2 needs at least 3"):
        cr.gradient(cr.zeros(2), edge_order=2)


@pytest.mark.filterwarnings("ignore:at..nuclear_norm is deprecated")   # torch's own deprecation of its name
def test_index_helpers_and_norms_match_torch():
    torch = _torch()
    idx = np.array([0, 5, 11, -1])
    for a, b in zip(cr.unravel_index(cr.tensor(idx), (3, 4)), torch.unravel_index(torch.tensor(idx), (3, 4))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    m = np.array([[0, 1, 0], [2, 0, 3]])
    for size in (2, 3, 5):
        np.testing.assert_array_equal(cr.nonzero_static(cr.tensor(m), size=size).numpy(),
                                      torch.nonzero_static(torch.tensor(m), size=size).numpy())
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    for acc in (False, True):
        (xa, xb), (sa, sb) = _both(torch, x), _both(torch, np.array([1.0, 2.0, 3.0]))
        ia, ib = cr.tensor([0, 5, 5 if acc else 7]), torch.tensor([0, 5, 5 if acc else 7])
        a, b = cr.put(xa, ia, sa, accumulate=acc), torch.put(xb, ib, sb, accumulate=acc)
        _same(a, b)
        a.sum().backward()
        b.sum().backward()
        _same(xa.grad, xb.grad)
        _same(sa.grad, sb.grad)
    _same(cr.nuclear_norm(cr.tensor(x)), torch.nuclear_norm(torch.tensor(x)))
    _same(cr.frobenius_norm(cr.tensor(x)), torch.norm(torch.tensor(x)))
    _same(cr.norm_except_dim(cr.tensor(x), 2, 1), torch.norm_except_dim(torch.tensor(x), 2, 1))
    a = rng.standard_normal((3, 3))
    L = np.linalg.cholesky(a @ a.T + 3 * np.eye(3))
    for upper in (False, True):
        factor = L.T if upper else L
        _same(cr.cholesky_inverse(cr.tensor(factor), upper), torch.cholesky_inverse(torch.tensor(factor), upper),
              rtol=1e-9)
    _same(cr.mvlgamma(cr.tensor(x.__abs__() + 2), 3), torch.mvlgamma(torch.tensor(x.__abs__() + 2), 3))
    _same(cr.ger(cr.tensor(x[0]), cr.tensor(x[1])), torch.ger(torch.tensor(x[0]), torch.tensor(x[1])))
    _same(cr.clamp_min(cr.tensor(x), 0.1), torch.clamp_min(torch.tensor(x), 0.1))


def test_sampling_frombuffer_and_queries():
    cr.manual_seed(0)
    draws = cr.poisson(cr.full((20000,), 3.0))
    assert abs(draws.numpy().mean() - 3.0) < 0.05 and draws.dtype == cr.float32
    b = cr.binomial(cr.full((20000,), 10.0), cr.full((20000,), 0.3))
    assert abs(b.numpy().mean() - 3.0) < 0.05
    with pytest.raises(ValueError, match="rates must be non-negative"):
        cr.poisson(cr.tensor([-1.0]))
    buf = bytearray(np.arange(4, dtype=np.float32).tobytes())
    t = cr.frombuffer(buf, dtype=cr.float32, count=3, offset=4)
    assert t.tolist() == [1.0, 2.0, 3.0]
    assert cr.empty_strided((2, 3), (3, 1)).shape == (2, 3) and cr.get_device(t) == -1
    assert not cr.is_autocast_enabled()
    with cr.amp.autocast():
        assert cr.is_autocast_enabled() and cr.get_autocast_dtype("cpu") == cr.float16


def test_legacy_tensor_types_variable_and_inference_mode():
    x = cr.FloatTensor([1, 2])
    assert x.dtype == cr.float32 and isinstance(x, cr.FloatTensor) and not isinstance(x, cr.LongTensor)
    assert cr.LongTensor(2, 3).shape == (2, 3) and cr.LongTensor(2, 3).dtype == cr.int64
    assert x.type(cr.LongTensor).dtype == cr.int64 and x.type("torch.DoubleTensor").dtype == cr.float64
    assert isinstance(cr.float64, cr.dtype) and cr.strided == "strided" and cr.channels_last is not None
    v = cr.autograd.Variable(cr.ones(2), requires_grad=True)
    assert v.requires_grad and v.is_leaf
    w = cr.ones(2, requires_grad=True)
    with cr.inference_mode():
        assert not (w * 2).requires_grad and cr.is_inference_mode_enabled()
    assert not cr.is_inference_mode_enabled() and (w * 2).requires_grad

    @cr.inference_mode
    def predict():
        return (w * 2).requires_grad
    assert predict() is False
    with cr.inference_mode(False):
        assert (w * 2).requires_grad
    before = cr.get_default_dtype()
    try:
        cr.set_default_tensor_type(cr.DoubleTensor)
        assert cr.zeros(1).dtype == cr.float64
    finally:
        cr.set_default_dtype(before)
    with pytest.raises(TypeError, match="floating tensor type"):
        cr.set_default_tensor_type(cr.LongTensor)


@pytest.mark.filterwarnings("ignore:index_reduce.. is in beta")   # torch's own note
def test_tensor_surface_extras_match_torch():
    torch = _torch()
    rng = np.random.default_rng(5)
    src, base = rng.standard_normal((4, 2)), rng.random((3, 2)) + 0.5
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            a = cr.tensor(base).index_reduce(0, cr.tensor([0, 2, 0, 1]), cr.tensor(src), reduce,
                                             include_self=include_self)
            b = torch.tensor(base).index_reduce(0, torch.tensor([0, 2, 0, 1]), torch.tensor(src), reduce,
                                                include_self=include_self)
            _same(a, b)
    x = cr.arange(6.0)
    assert x.resize_(2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]] and x.resize_(5).shape == (5,)
    with pytest.raises(RuntimeError, match="resize_: cannot resize a tensor that requires grad"):
        cr.ones(2, requires_grad=True).resize_(3)
    t = cr.zeros(2, 3)
    assert not t.is_sparse and not t.is_quantized and not t.is_meta and t.layout == "strided"
    assert t.dim_order() == (0, 1) and t.T.dim_order() == (1, 0) and t.new([1, 2]).dtype == cr.float32
    y = cr.zeros(1)
    assert y.set_(t).shape == (2, 3) and y.is_set_to(t)
    with pytest.raises(cr.DTypeError, match="bfloat16"):
        t.bfloat16()
    cr.manual_seed(0)
    draws = cr.full((10000,), 0.3).bernoulli()
    assert abs(draws.numpy().mean() - 0.3) < 0.02
    assert cr.tensor([0.0, 1.0, 0.0]).multinomial(2, replacement=True).tolist() == [1, 1]
    v = cr.tensor([1.0, 2.0])
    assert v.less_(cr.tensor([2.0, 2.0])) is v and v.tolist() == [1.0, 0.0]


def test_linalg_extras_match_torch():
    torch = _torch()
    rng = np.random.default_rng(6)
    A, T, B, Ti = (rng.standard_normal(s) for s in ((3, 3), (2, 3, 6), (2, 3), (4, 6, 8, 3)))
    S = A @ A.T + np.eye(3)
    for p in (None, 2, -2, "fro", "nuc", 1, float("inf")):
        _same(cr.linalg.cond(cr.tensor(A), p), torch.linalg.cond(torch.tensor(A), p), rtol=1e-9)
    _same(cr.linalg.tensorsolve(cr.tensor(T), cr.tensor(B)), torch.linalg.tensorsolve(torch.tensor(T), torch.tensor(B)),
          rtol=1e-9)
    _same(cr.linalg.tensorinv(cr.tensor(Ti)), torch.linalg.tensorinv(torch.tensor(Ti)), rtol=1e-8)
    for fn in ("cholesky_ex", "inv_ex"):
        ours, theirs = getattr(cr.linalg, fn)(cr.tensor(S)), getattr(torch.linalg, fn)(torch.tensor(S))
        field = "inverse" if fn == "inv_ex" else "L"
        _same(getattr(ours, field), getattr(theirs, field), rtol=1e-9)
        assert ours.info.item() == theirs.info.item() == 0
    assert cr.linalg.cholesky_ex(cr.tensor(-S)).info.item() == 1
    with pytest.raises(cr.linalg.LinAlgError, match="cholesky.*not positive definite"):
        cr.linalg.cholesky_ex(cr.tensor(-S), check_errors=True)
    with pytest.raises(cr.linalg.LinAlgError, match="inv: Singular matrix"):
        cr.linalg.inv(cr.zeros(2, 2))
    solved = cr.linalg.solve_ex(cr.tensor(S), cr.tensor(B[0]))
    _same(solved.result, np.linalg.solve(S, B[0]), rtol=1e-9)


def test_fusing_batchnorm_into_conv_and_linear_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(7)
    for transpose in (False, True):
        tconv = (torch.nn.ConvTranspose2d(3, 4, 3) if transpose else torch.nn.Conv2d(3, 4, 3)).double()
        tbn = torch.nn.BatchNorm2d(4).double()
        with torch.no_grad():
            tbn.running_mean.copy_(torch.tensor(rng.standard_normal(4)))
            tbn.running_var.copy_(torch.tensor(rng.random(4) + 0.5))
            tbn.weight.copy_(torch.tensor(rng.standard_normal(4)))
        conv = (cr.nn.ConvTranspose2d(3, 4, 3) if transpose else cr.nn.Conv2d(3, 4, 3)).double()
        bn = cr.nn.BatchNorm2d(4).double()
        conv.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tconv.state_dict().items()})
        bn.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tbn.state_dict().items()})
        conv.eval(), bn.eval(), tconv.eval(), tbn.eval()
        fused = cr.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
        tfused = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn, transpose=transpose)
        x = rng.standard_normal((2, 3, 6, 6))
        _same(fused(cr.tensor(x)), tfused(torch.tensor(x)), rtol=1e-10)
        _same(fused(cr.tensor(x)), bn(conv(cr.tensor(x))), rtol=1e-10)
    lin, bn1 = cr.nn.Linear(3, 4).double().eval(), cr.nn.BatchNorm1d(4).double().eval()
    bn1.running_var.data.fill_(2.0)
    x = cr.tensor(rng.standard_normal((5, 3)))
    _same(cr.nn.utils.fuse_linear_bn_eval(lin, bn1)(x), bn1(lin(x)), rtol=1e-12)
    with pytest.raises(ValueError, match="call .eval"):
        cr.nn.utils.fuse_linear_bn_eval(cr.nn.Linear(3, 4), cr.nn.BatchNorm1d(4))
    with pytest.warns(FutureWarning, match="nn.init.normal_"):
        cr.nn.init.normal(cr.zeros(3))
    model = cr.nn.Linear(2, 1)
    params = {"weight": cr.ones(1, 2), "bias": cr.zeros(1)}
    assert cr.nn.utils.stateless.functional_call(model, params, (cr.tensor([[1.0, 2.0]]),)).item() == 3.0
    assert isinstance(cr.nn.utils.skip_init(cr.nn.Linear, 2, 3), cr.nn.Linear)


def test_dtypes_numpy_lacks_exist_as_names_and_fail_when_used():
    table = {"float32": cr.float32, "bfloat16": cr.bfloat16, "float16": cr.float16}   # nanoGPT's dtype table
    assert table["float16"] == cr.float16 and repr(cr.bfloat16) == "chainrule.bfloat16"
    assert not cr.cuda.is_bf16_supported() and cr.cfloat is cr.complex64
    for make in (lambda: cr.zeros(2, dtype=cr.bfloat16), lambda: cr.ones(2).to(cr.bfloat16),
                 lambda: cr.nn.Linear(2, 2, dtype=cr.bfloat16), lambda: cr.nn.Linear(2, 2).to(cr.complex64),
                 lambda: cr.amp.autocast("cpu", dtype=cr.bfloat16), lambda: cr.set_default_dtype(cr.bfloat16)):
        with pytest.raises(cr.DTypeError, match="chainrule has no (bfloat16|complex64).*use float16, float32"):
            make()
