"""Every registered op in float32 and float16 against torch: the output has torch's dtype, its values and the
gradient are torch's within the dtype's tolerance, and each input's gradient has that input's dtype.
- The reference is torch in the same dtype. Where torch has no float16 kernel (the special functions, linalg,
  some pools and losses) or is less accurate than chainrule (LESS_ACCURATE_IN_TORCH), it is torch in float64 on
  the same rounded inputs, so chainrule's low-precision answer is still checked.
- LAPACK has no float16: those ops raise the DTypeError that names them and says what to do, and so must torch."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import DTypeError
from chainrule.ops.registry import OPS

pytest.importorskip("torch", reason="torch is the oracle these ops are compared against")
import torch  # noqa: E402
from test_torch_registry import CASES, GRADIENT_DIFFERS, _prepared, _torch_call  # noqa: E402

# (output rtol and atol, gradient rtol and atol) per dtype: a few roundings of the dtype's epsilon, summed over
# the samples' small reductions
TOLERANCE = {np.float32: ((2e-3, 2e-4), (2e-3, 2e-3)), np.float16: ((2e-2, 2e-2), (3e-2, 3e-2))}

LESS_ACCURATE_IN_TORCH = {
    "matrix_exp": "torch's float16 matrix_exp overflows to ±inf for a 3×3 standard-normal matrix (exp(A) has "
                  "entries near 1); chainrule's agrees with float64",
    "logcumsumexp": "torch's float16 gradient is off by 0.2 at entries ±1000 apart; chainrule's agrees with "
                    "float64",
}


def _rounded_to(dtype, back=False):
    """The sample's float64 arrays in dtype (the op's input), or rounded to it and back (back: the float64
    reference on the same values)."""
    def factory(arr, grad):
        if arr.dtype == np.float64:
            finite = np.abs(arr[np.isfinite(arr)])
            if finite.size and finite.max() > np.finfo(dtype).max:
                pytest.skip(f"the sample holds {finite.max():g}, beyond {np.dtype(dtype).name}'s range")
            arr = arr.astype(dtype).astype(np.float64) if back else arr.astype(dtype)
        return cr.tensor(arr).requires_grad_(grad)
    return factory


def _in(reference, dtype):
    """A torch result rounded to chainrule's dtype (beyond its range, ±inf), as float64 for the comparison."""
    with np.errstate(over="ignore"):
        return reference.detach().numpy().astype(dtype).astype(np.float64)


def _run(name, i, factory):
    flat, call, torch_args = _prepared(name, OPS[name].samples[i], 1000 + i, factory)
    return flat, call(*flat), torch_args


def _torch_out_and_gradients(name, out, torch_args, cotangent, with_gradients):
    args, kwargs, leaves = torch_args()
    t_out = _torch_call(name, args, kwargs)
    if isinstance(t_out, tuple) and not isinstance(out, tuple):
        t_out = t_out[0]
    grads = None
    if with_gradients and leaves and t_out.requires_grad:
        grads = torch.autograd.grad(t_out, leaves, torch.from_numpy(cotangent).to(t_out.dtype),
                                    allow_unused=True)
    return t_out, grads


LOW_CASES = [(name, i, dtype) for name, i in CASES for dtype in (np.float32, np.float16)]


@pytest.mark.parametrize("case", LOW_CASES, ids=lambda c: f"{c[0]}[{c[1]}]-{np.dtype(c[2]).name}")
def test_low_precision_output_and_gradient_match_torch(case):
    name, i, dtype = case
    flat, call, torch_args = _prepared(name, OPS[name].samples[i], 1000 + i, _rounded_to(dtype))
    try:
        out = call(*flat)
    except DTypeError as exc:   # LAPACK: refused by name, with the fix, and torch refuses it too
        assert dtype == np.float16 and "float16" in str(exc) and ".float()" in str(exc), exc
        args, kwargs, _ = torch_args()
        with pytest.raises((RuntimeError, NotImplementedError)):
            _torch_call(name, args, kwargs)
        return
    cotangent = np.random.default_rng(7).standard_normal(out.shape)
    skip = GRADIENT_DIFFERS.get(name, ())
    with_gradients = bool(flat) and out.requires_grad and skip != "all" and i not in skip
    reference_dtype = dtype
    try:
        if name in LESS_ACCURATE_IN_TORCH and dtype == np.float16:
            raise NotImplementedError
        t_out, t_grads = _torch_out_and_gradients(name, out, torch_args, cotangent, with_gradients)
    except (RuntimeError, NotImplementedError):   # no kernel in this dtype: torch in float64 on the same values
        reference_dtype = np.float64
        _, out64, torch_args64 = _run(name, i, _rounded_to(dtype, back=True))
        t_out, t_grads = _torch_out_and_gradients(name, out64, torch_args64, cotangent, with_gradients)
    if reference_dtype == dtype:
        assert str(out.dtype).split(".")[-1] == str(t_out.dtype).split(".")[-1], \
            f"{name} sample {i}: {np.dtype(dtype).name} input gives {out.dtype}, torch {t_out.dtype}"
    elif out.dtype.kind == "f":
        assert out.dtype == dtype, f"{name} sample {i}: {np.dtype(dtype).name} input gives {out.dtype}"
    (rtol, atol), (g_rtol, g_atol) = TOLERANCE[dtype]
    ours = out.detach().numpy()
    np.testing.assert_allclose(ours.astype(np.float64), _in(t_out, ours.dtype), rtol=rtol,
                               atol=atol, err_msg=f"{name} sample {i} in {np.dtype(dtype).name}: output")
    if t_grads is None:
        return
    grads = cr.autograd.grad(out, flat, cr.tensor(cotangent.astype(ours.dtype)), allow_unused=True)
    for k, (g, h) in enumerate(zip(grads, t_grads)):
        if g is None or h is None:
            continue
        assert g.dtype == flat[k].dtype, f"{name} sample {i}: gradient {k} is {g.dtype} for a {flat[k].dtype} input"
        np.testing.assert_allclose(g.numpy().astype(np.float64), _in(h, g.dtype), rtol=g_rtol,
                                   atol=g_atol, err_msg=f"{name} sample {i} in {np.dtype(dtype).name}: gradient {k}")


# ---- large inputs: squares and running sums overflow long before the results do --------------------------------
# float16 ×300 (x² passes 65504 at 256), float32 ×1e18, float64 ×1e150
SCALES = {np.float16: 300.0, np.float32: 1e18, np.float64: 1e150}
NAN_AT_SCALE = {
    np.float16: {
        "gammainc": "the derivative in a (a numerical series) meets 0·∞ where P(a, x) has saturated at 0 or 1",
        "gammaincc": "as gammainc",
        "logcumsumexp": "exp(x - out) of the saved float16 output: the output's rounding (±0.25 at 400) leaves "
                        "exp(±0.25) factors, and where an entry is -∞ its gradient meets ∞ - ∞",
        "cholesky": "the scaled sample is no longer positive definite in float16"},
    np.float32: {
        "cosine_embedding_loss": "torch's formula, Σx² + 1e-12 under a square root: overflows at 1e19 as torch's",
        "lp_pool2d": "Σxᵖ overflows (as torch's, whose lp_pool is the same composition); the float64 answer is finite",
        "lp_pool3d": "as lp_pool2d"},
    np.float64: {
        "solve_triangular": "NumPy has no triangular solver: the LU solve of a 1e150-scaled triangle overflows",
        "cosine_embedding_loss": "torch's formula, Σx² + 1e-12 under a square root: overflows at 1e154 as torch's",
        "lp_pool2d": "Σxᵖ overflows (as torch's)", "lp_pool3d": "Σxᵖ overflows (as torch's)"},
}


def _scaled(dtype, back):
    def factory(arr, grad):
        if arr.dtype == np.float64:
            with np.errstate(over="ignore"):   # beyond the range is ∞, a fair input too
                arr = (arr * SCALES[dtype]).astype(dtype)
            if back:
                arr = arr.astype(np.float64)
        return cr.tensor(arr).requires_grad_(grad)
    return factory


# single samples whose torch reference is not the answer at that scale
SAMPLE_NAN_AT_SCALE = {
    (np.float32, "ormqr", 2): "torch's gradient in the last τ is -0 at these values; the float64 answer, -g[2]·(H₂H₁C)[2], "
                              "is -6.4e126, beyond float32, where chainrule's overflows (∞ - ∞)",
}
SCALED_CASES = [(name, i, dtype) for dtype in SCALES for name, i in CASES
                if name not in NAN_AT_SCALE[dtype] and (dtype, name, i) not in SAMPLE_NAN_AT_SCALE]


@pytest.mark.parametrize("case", SCALED_CASES, ids=lambda c: f"{c[0]}[{c[1]}]-{np.dtype(c[2]).name}")
def test_large_inputs_make_no_nan_and_no_warning_where_the_answer_is_finite(case):
    """The sample scaled up (SCALES) against torch in float64 on the same values, rounded to the dtype: where
    that answer is finite, chainrule's output and gradient are not NaN, and a finite result comes without a NumPy
    warning (an op whose x² or partial sums overflowed inside said so, or made ∞ - ∞)."""
    import warnings
    name, i, dtype = case
    flat, call, _ = _prepared(name, OPS[name].samples[i], 1000 + i, _scaled(dtype, False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call(*flat)
        except DTypeError:
            return
        if isinstance(out, tuple):
            return
        cotangent = np.random.default_rng(7).standard_normal(out.shape)
        skip = GRADIENT_DIFFERS.get(name, ())
        with_gradients = bool(flat) and out.requires_grad and skip != "all" and i not in skip
        grads = cr.autograd.grad(out, flat, cr.tensor(cotangent.astype(out.dtype)), allow_unused=True) \
            if with_gradients else ()
    with warnings.catch_warnings():   # the float64 run only supplies torch's arguments
        warnings.simplefilter("ignore")
        _, out64, torch_args64 = _run(name, i, _scaled(dtype, True))
        t_out, t_grads = _torch_out_and_gradients(name, out64, torch_args64, cotangent, with_gradients)
    truth = _in(t_out, dtype)
    ours = out.detach().numpy().astype(np.float64)
    if out.dtype == dtype:
        assert not (np.isnan(ours) & np.isfinite(truth)).any(), \
            f"{name} sample {i}: NaN at {np.argwhere(np.isnan(ours) & np.isfinite(truth))[:3].tolist()}"
    for k, (g, h) in enumerate(zip(grads, t_grads or ())):
        if g is not None and h is not None:
            bad = np.isnan(g.numpy()) & np.isfinite(_in(h, dtype))
            assert not bad.any(), f"{name} sample {i}: gradient {k} is NaN at {np.argwhere(bad)[:3].tolist()}"
    finite = np.isfinite(ours).all() and all(np.isfinite(g.numpy()).all() for g in grads if g is not None)
    assert not (finite and caught), f"{name} sample {i}: finite results, but NumPy warned: {caught[0].message}"


# ---- the rules behind the sweeps, one by one ------------------------------------------------------------------
def _pair(values, dtype, grad=True):
    return (cr.tensor(np.array(values, dtype=dtype), requires_grad=grad),
            torch.tensor(np.array(values, dtype=dtype), requires_grad=grad))


@pytest.mark.parametrize("name,call", [
    ("vector_norm", lambda m, x: m.linalg.vector_norm(x)), ("std", lambda m, x: x.std()),
    ("var", lambda m, x: x.var()), ("cosine_similarity", lambda m, x: m.nn.functional.cosine_similarity(x, x, dim=0)),
    ("normalize", lambda m, x: m.nn.functional.normalize(x, dim=0)), ("dist", lambda m, x: m.dist(x, x * 0)),
    ("cumsum", lambda m, x: (x * 100).cumsum(0)), ("matrix_norm", lambda m, x: m.linalg.matrix_norm(x.reshape(1, 3))),
    ("layer_norm", lambda m, x: m.nn.functional.layer_norm(x, (3,))), ("gelu", lambda m, x: m.nn.functional.gelu(x)),
    ("rms_norm", lambda m, x: m.nn.functional.rms_norm(x, (3,))), ("mse_loss", lambda m, x: m.nn.functional.mse_loss(x, x * 0)),
    ("matmul", lambda m, x: x.reshape(1, 3) @ (x.reshape(3, 1) * 0 + 200)),   # 60000 + 80000 - 100000
])
def test_float16_of_a_few_hundred_computes_as_torch(name, call):
    """x² for x = 500 is 250000, past float16's 65504: these compute in float32 and round once, as torch's
    kernels, instead of overflowing inside (a NumPy warning, and ∞ or NaN where the answer is finite)."""
    ours, theirs = _pair([300.0, 400.0, -500.0], np.float16)
    y, ty = call(cr, ours), call(torch, theirs)
    y.sum().backward()
    ty.sum().backward()
    assert y.dtype == cr.float16 and ours.grad.dtype == cr.float16
    np.testing.assert_allclose(y.detach().numpy().astype(float), ty.detach().numpy().astype(float), rtol=2e-3)
    np.testing.assert_allclose(ours.grad.numpy().astype(float), theirs.grad.numpy().astype(float), rtol=1e-2,
                               atol=1e-3)


def test_norms_of_float16_keep_their_gradient_finite():
    """group_norm with a zero weight: rsqrt(σ² + ε)³ overflows float16 in the backward, and 0·∞ was NaN."""
    x = cr.randn(3, 4).half().requires_grad_()
    y = cr.nn.functional.group_norm(x, 2, weight=cr.zeros(4).half())
    y.backward(cr.ones_like(y))
    assert np.isfinite(x.grad.numpy()).all() and x.grad.dtype == cr.float16


def test_python_numbers_beyond_float16_are_applied_in_float32():
    ours, theirs = _pair([1e-3, 2.0, -0.5], np.float16, grad=False)
    for f in (lambda x: x * 1e5, lambda x: 1e5 * x, lambda x: x / 1e5, lambda x: x * 1e-8, lambda x: x + 70000):
        np.testing.assert_array_equal(f(ours).numpy(), f(theirs).numpy())
        assert f(ours).dtype == cr.float16


def test_cross_entropy_of_float16_is_float16_and_float32_under_autocast():
    logits = cr.randn(4, 3).half()
    labels = cr.tensor(np.array([0, 1, 2, 1]))
    assert cr.nn.functional.cross_entropy(logits, labels).dtype == cr.float16
    assert cr.nn.functional.layer_norm(logits, (3,)).dtype == cr.float16
    with cr.amp.autocast():   # torch's CPU autocast runs the losses in float32 and keeps it; layer_norm stays
        assert cr.nn.functional.cross_entropy(logits, labels).dtype == cr.float32
        assert cr.nn.functional.layer_norm(logits, (3,)).dtype == cr.float16


def _autocast_cases(m):
    F = m.nn.functional
    rng = np.random.default_rng(0)
    x = m.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    h, w, y = x.half(), m.tensor(rng.standard_normal((5, 3)).astype(np.float32)), m.tensor(np.array([0, 1, 2, 1]))
    img = m.tensor(rng.standard_normal((1, 2, 4, 4)).astype(np.float32))
    k, b = m.tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32)), m.tensor(np.ones(3, np.float32))
    ones, signs = m.ones(4, 3).half(), m.tensor(np.array([1.0, -1, 1, 1]))
    return {
        "linear": lambda: F.linear(x, w), "matmul": lambda: x @ w.T, "conv2d+bias": lambda: F.conv2d(img, k, b, padding=1),
        "conv_transpose2d": lambda: F.conv_transpose2d(img, k.transpose(0, 1), b), "bmm": lambda: m.bmm(x[None], w.T[None]),
        "addmm": lambda: m.addmm(m.ones(4, 5), x, w.T), "bilinear": lambda: F.bilinear(x, x, m.ones(2, 3, 3)),
        "layer_norm": lambda: F.layer_norm(h, (3,)), "group_norm": lambda: F.group_norm(h, 1),
        "batch_norm": lambda: F.batch_norm(h, None, None, training=True), "rms_norm": lambda: F.rms_norm(h, (3,)),
        "softmax": lambda: F.softmax(h, 1), "log_softmax": lambda: F.log_softmax(h, 1), "gelu": lambda: F.gelu(h),
        "sum": lambda: h.sum(), "mean": lambda: h.mean(), "var": lambda: h.var(), "cumsum": lambda: h.cumsum(0),
        "norm": lambda: h.norm(), "cosine_similarity": lambda: F.cosine_similarity(h, h), "dist": lambda: m.dist(h, h * 0),
        "prod": lambda: h.prod(), "cumprod": lambda: h.cumprod(0), "cdist": lambda: m.cdist(h, h), "trace": lambda: m.trace(h),
        "grid_sample": lambda: F.grid_sample(img.half(), m.zeros(1, 2, 2, 2).half(), align_corners=False),
        "cross_entropy": lambda: F.cross_entropy(h, y), "nll_loss": lambda: F.nll_loss(h, y),
        "mse_loss": lambda: F.mse_loss(h, h * 0), "l1_loss": lambda: F.l1_loss(h, h * 0),
        "smooth_l1_loss": lambda: F.smooth_l1_loss(h, h * 0), "huber_loss": lambda: F.huber_loss(h, h * 0),
        "kl_div": lambda: F.kl_div(h, h.softmax(1), reduction="batchmean"), "poisson_nll_loss": lambda: F.poisson_nll_loss(h, h.abs()),
        "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(h, h.sigmoid()),
        "soft_margin_loss": lambda: F.soft_margin_loss(h, ones), "hinge_embedding_loss": lambda: F.hinge_embedding_loss(h, ones),
        "margin_ranking_loss": lambda: F.margin_ranking_loss(h[:, 0], h[:, 1], ones[:, 0]),
        "multi_margin_loss": lambda: F.multi_margin_loss(h, y), "cosine_embedding_loss": lambda: F.cosine_embedding_loss(h, h, signs),
        "gaussian_nll_loss": lambda: F.gaussian_nll_loss(h, h, h.abs() + 1),
    }


@pytest.mark.parametrize("name", sorted(_autocast_cases(cr)))
def test_autocast_gives_each_op_torchs_cpu_dtype(name):
    """torch's CPU autocast lists: the products (and convolutions with their bias) run in float16; the losses,
    prod, cdist, trace and grid_sample in float32; everything else in its input's dtype."""
    dtypes = []
    for m in (cr, torch):
        with m.autocast("cpu", dtype=m.float16):
            dtypes.append(str(_autocast_cases(m)[name]().dtype).split(".")[-1])
    assert dtypes[0] == dtypes[1]


def test_autocast_training_step_matches_torchs():
    """A conv + batch norm + linear + layer norm network under autocast: every layer's output dtype, the loss and
    each parameter's float32 gradient as torch's CPU autocast, float16 rounding apart (the conv has no bias:
    before a batch norm its gradient is 0 up to that rounding)."""
    def build(m):
        nn = m.nn
        return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                             nn.Linear(100, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 3))
    theirs = build(torch)
    ours = build(cr)
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 2, 5, 5)).astype(np.float32)
    results = []
    for m, model in ((cr, ours), (torch, theirs)):
        dtypes = []
        for layer in model:
            layer.register_forward_hook(lambda mod, i, o, d=dtypes: d.append(str(o.dtype).split(".")[-1]))
        with m.autocast("cpu", dtype=m.float16):
            loss = m.nn.functional.cross_entropy(model(m.tensor(x)), m.tensor(np.array([0, 1, 2, 0, 1, 2])))
        loss.backward()
        results.append((dtypes, str(loss.dtype).split(".")[-1], float(loss.detach()),
                        {n: p.grad.numpy() for n, p in model.named_parameters()}))
    assert results[0][:2] == results[1][:2]
    assert results[0][2] == pytest.approx(results[1][2], rel=1e-3)
    for n, g in results[1][3].items():
        assert results[0][3][n].dtype == np.float32
        np.testing.assert_allclose(results[0][3][n], g, rtol=0, atol=3e-3 * np.abs(g).max() + 1e-6, err_msg=n)


@pytest.mark.parametrize("call", [
    lambda m, a: m.linalg.eigvalsh(a), lambda m, a: m.linalg.svdvals(a), lambda m, a: m.linalg.slogdet(a),
    lambda m, a: m.linalg.qr(a), lambda m, a: m.linalg.inv(a), lambda m, a: m.linalg.lu_factor(a),
    lambda m, a: m.linalg.lstsq(a, a), lambda m, a: m.linalg.solve_triangular(a, a, upper=True),
    lambda m, a: m.cholesky_solve(a, a), lambda m, a: m.linalg.pinv(a)])
def test_lapack_refuses_float16_by_name_as_torch_does(call):
    a = np.eye(3, dtype=np.float16) * 2
    with pytest.raises(DTypeError, match=r"LAPACK has no float16.*\.float\(\)"):
        call(cr, cr.tensor(a))
    with pytest.raises((RuntimeError, NotImplementedError)):
        call(torch, torch.tensor(a))


LOSSES = {
    "mse_loss": lambda F, x, t, s: F.mse_loss(x, t), "l1_loss": lambda F, x, t, s: F.l1_loss(x, t),
    "smooth_l1_loss": lambda F, x, t, s: F.smooth_l1_loss(x, t), "huber_loss": lambda F, x, t, s: F.huber_loss(x, t),
    "binary_cross_entropy_with_logits": lambda F, x, t, s: F.binary_cross_entropy_with_logits(x, t),
    "soft_margin_loss": lambda F, x, t, s: F.soft_margin_loss(x, s[:3].reshape(1, 3).expand(4, 3)),
    "multilabel_soft_margin_loss": lambda F, x, t, s: F.multilabel_soft_margin_loss(x, t),
    "kl_div": lambda F, x, t, s: F.kl_div(x, t, reduction="batchmean"),
    "poisson_nll_loss": lambda F, x, t, s: F.poisson_nll_loss(x, t),
    "gaussian_nll_loss": lambda F, x, t, s: F.gaussian_nll_loss(x, t, t + 1),
    "cross_entropy": lambda F, x, t, s: F.cross_entropy(x, t),
    "margin_ranking_loss": lambda F, x, t, s: F.margin_ranking_loss(x[:, 0], x[:, 1], s),
    "hinge_embedding_loss": lambda F, x, t, s: F.hinge_embedding_loss(x[:, 0], s),
    "cosine_embedding_loss": lambda F, x, t, s: F.cosine_embedding_loss(x, x * 2, s),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_float32_input_with_float64_target_gives_torchs_loss_dtype(name):
    """torch promotes to float64 in some losses and keeps float32 in others; a float32 model with NumPy's
    float64 targets then gets the same loss dtype and value."""
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 3)).astype(np.float32), rng.random((4, 3))
    signs = np.array([1.0, -1.0, 1.0, -1.0])
    results = [LOSSES[name](m.nn.functional, m.tensor(x), m.tensor(t), m.tensor(signs)) for m in (cr, torch)]
    assert str(results[0].dtype).split(".")[-1] == str(results[1].dtype).split(".")[-1]
    np.testing.assert_allclose(float(results[0]), float(results[1]), rtol=1e-5)


@pytest.mark.parametrize("dtype,big", [(np.float32, 1e20), (np.float64, 1e200)])
def test_derivatives_at_huge_inputs_do_not_overflow_inside(dtype, big):
    """atan' = 1/(1 + x²) and its kin at x = 1e20 in float32: x² overflows, the derivative is a plain number (or
    0). Written with hypot, a clamp, the scaled form or erfcx, they give it without a NumPy warning (and torch's
    float32 log_ndtr' is 2e-5 off at -40, NaN at -1e20: the reference is mpmath's)."""
    mpmath = pytest.importorskip("mpmath", reason="the exact derivatives come from mpmath")
    mpmath.mp.dps = 50
    cases = {
        "atan": (lambda x: x.atan(), lambda v: 1 / (1 + v * v)),
        "asinh": (lambda x: x.asinh(), lambda v: 1 / mpmath.sqrt(v * v + 1)),
        "acosh": (lambda x: (x.abs() + 1).acosh(), lambda v: mpmath.sign(v) / mpmath.sqrt((abs(v) + 1) ** 2 - 1)),
        "atan2": (lambda x: cr.atan2(x, 3.0 * cr.ones_like(x)), lambda v: 3 / (v * v + 9)),
        "erf": (lambda x: x.erf(), lambda v: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-v * v)),
        "erfc": (lambda x: x.erfc(), lambda v: -2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-v * v)),
        "log_ndtr": (lambda x: cr.special.log_ndtr(x),   # (mpmath's ncdf fails at -1e200; φ/Φ = -x - 1/x + …)
                     lambda v: -v - 1 / v if v < -1e8 else mpmath.npdf(v) / mpmath.ncdf(v)),
        "spherical_bessel_j0": (lambda x: cr.special.spherical_bessel_j0(x),
                                lambda v: (v * mpmath.cos(v) - mpmath.sin(v)) / (v * v)),
        "div": (lambda x: 1.0 / x, lambda v: -1 / (v * v)),
    }
    values = [-big, -40.0, -1.5, 0.5, 2.0, 40.0, big]
    for name, (f, derivative) in cases.items():
        x = cr.tensor(np.array(values, dtype=dtype), requires_grad=True)
        f(x).sum().backward()
        exact = np.array([float(derivative(mpmath.mpf(float(np.array(v, dtype=dtype))))) for v in values])
        with np.errstate(under="ignore"):
            exact = exact.astype(dtype)
        np.testing.assert_allclose(x.grad.numpy(), exact, rtol=2e-6 if dtype == np.float32 else 1e-12,
                                   atol=2 / big, err_msg=name)


@pytest.mark.parametrize("values,expected", [([1e20, 1e20], 1.4142135e20), ([1e-30, 1e-30], 1.4142135e-30),
                                             ([3.0, 4.0], 5.0), ([0.0, 0.0], 0.0)])
def test_two_norm_of_float32_rescales_where_the_squares_overflow_or_underflow(values, expected):
    """As hypot: ‖(1e20, 1e20)‖ is 1.41e20 (torch: ∞) and ‖(1e-30, 1e-30)‖ is 1.41e-30 (torch: 0)."""
    x = cr.tensor(np.array(values, dtype=np.float32), requires_grad=True)
    n = cr.linalg.vector_norm(x)
    n.backward()
    np.testing.assert_allclose(n.item(), expected, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [0.6, 0.8] if values[0] == 3 else
                               [0.0, 0.0] if expected == 0 else [2 ** -0.5] * 2, rtol=1e-6)
    m = max(abs(v) for v in values) or 1.0
    cube_norm = m * sum(abs(v / m) ** 3 for v in values) ** (1 / 3)
    np.testing.assert_allclose(cr.linalg.vector_norm(x, 3).item(), cube_norm, rtol=1e-6)


def test_cosine_similarity_clamps_each_norm_as_torch():
    """x1·x2 / (max(‖x1‖, ε)·max(‖x2‖, ε)): with norms of 1e-5 the cosine is 0.995 (it was 0.01, the product of
    the norms clamped at ε² instead), and at 1e20 in float32 it is 1 (it was NaN; torch's is 0)."""
    F = cr.nn.functional
    a, b = cr.tensor([1e-5, 0.0]), cr.tensor([1e-5, 1e-6])
    assert F.cosine_similarity(a, b, dim=0).item() == pytest.approx(
        torch.nn.functional.cosine_similarity(torch.tensor([1e-5, 0.0]), torch.tensor([1e-5, 1e-6]), dim=0).item())
    a, b = cr.tensor([1e-9, 0.0]), cr.tensor([1e-9, 1e-10])
    assert F.cosine_similarity(a, b, dim=0).item() == pytest.approx(0.01)
    big = cr.tensor(np.array([1e20, 1e20], dtype=np.float32))
    assert F.cosine_similarity(big, big, dim=0).item() == pytest.approx(1.0, rel=1e-6)
    assert F.cosine_similarity(cr.ones(2, 3), cr.ones(3), dim=-1).shape == (2,)
