"""torch's top-level names (toplevel.py) and tensor printing: functional ops and in-place functions at the top,
the settings scripts set in their first lines, and repr/set_printoptions formatted as torch formats them."""
import inspect

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import toplevel
from helpers import torch_or_skip

REPR_CASES = [[[1.5, -20.25], [3, 4]], [1e-5, 1.0], [1e9, 1.0], [float("nan"), 1.5, float("inf")], [0.0, 0.0], 2.5,
              [-0.0, 1.0], [1.0, 2.0, 3.0], [-np.inf, 2.0], [1e-10, 0.0], [-1e-5, 3e5], [[1e20]], [0.1, -0.0],
              np.random.default_rng(0).standard_normal((3, 4)),
              np.random.default_rng(1).standard_normal((2, 3, 4)) * 100,
              # summarized: the format is chosen on the printed edges, ' ...' is an entry of its own
              np.arange(2000.0), np.arange(2000.0).reshape(40, 50), np.arange(8000.0).reshape(20, 20, 20) / 7,
              np.linspace(-1e5, 1e5, 1500), np.random.default_rng(3).standard_normal(1100),
              np.random.default_rng(4).standard_normal((5, 40)),
              np.random.default_rng(5).standard_normal((2, 3, 4)) * 1000]


@pytest.fixture
def default_printing():
    yield
    cr.set_printoptions(profile="default")


def test_repr_formats_like_torch_without_torch():
    assert repr(cr.tensor([1.5, -20.25, 3.0])) == "tensor([  1.5000, -20.2500,   3.0000])"
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor([1e-5, 1.0])) == "tensor([1.0000e-05, 1.0000e+00])"
    assert repr(cr.tensor([float("nan"), 1.5])) == "tensor([   nan, 1.5000])"
    assert repr(cr.tensor(2.5, dtype=cr.float64)) == "tensor(2.5000, dtype=chainrule.float64)"


@pytest.mark.parametrize("case", range(len(REPR_CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repr_matches_torch(case, dtype):
    torch = torch_or_skip()
    a = np.asarray(REPR_CASES[case], dtype)
    assert repr(cr.tensor(a)) == repr(torch.tensor(a)).replace("torch.", "chainrule.")


def test_set_printoptions(default_printing):
    x = cr.tensor([1.23456, 2.0])
    cr.set_printoptions(precision=2)
    assert repr(x) == "tensor([1.23, 2.00])"
    cr.set_printoptions(precision=3, sci_mode=True)
    assert repr(x) == "tensor([1.235e+00, 2.000e+00])"
    cr.set_printoptions(profile="default")
    assert repr(x) == "tensor([1.2346, 2.0000])"
    cr.set_printoptions(threshold=5, edgeitems=1)
    assert repr(cr.arange(10)) == "tensor([0,  ..., 9])"   # torch's ' ...' entry
    cr.set_printoptions(profile="full")
    assert "..." not in repr(cr.arange(2000))
    cr.set_printoptions(profile="short")
    assert repr(x) == "tensor([1.23, 2.00])"
    with pytest.raises(ValueError, match="set_printoptions: unknown profile 'tiny'"):
        cr.set_printoptions(profile="tiny")


def test_set_printoptions_matches_torch(default_printing):
    torch = torch_or_skip()
    a = np.random.default_rng(2).standard_normal((4, 30)).astype(np.float32)
    try:
        for kwargs in [dict(precision=2), dict(precision=6, linewidth=120), dict(sci_mode=True),
                       dict(sci_mode=False, precision=3), dict(profile="short")]:
            cr.set_printoptions(**kwargs)
            torch.set_printoptions(**kwargs)
            assert repr(cr.tensor(a[:2, :6])) == repr(torch.tensor(a[:2, :6]))
    finally:
        torch.set_printoptions(profile="default")


@pytest.mark.parametrize("name", sorted(toplevel.FUNCTIONAL))
def test_functional_names_at_the_top_are_nn_functional(name):
    top = getattr(cr, name)   # (or that function behind the registry's check for NumPy arrays given as Tensors)
    assert top is toplevel.FUNCTIONAL[name] or getattr(top, "__wrapped__", None) is toplevel.FUNCTIONAL[name]
    if name.endswith("dropout"):   # torch.dropout(input, p, train): F's function under torch's top-level keyword
        assert list(inspect.signature(getattr(cr, name)).parameters) == ["input", "p", "train"]
        assert getattr(cr, name).__doc__ == getattr(F, name).__doc__
        return
    assert getattr(cr, name) is getattr(F, name.replace("native_", ""))


def test_top_level_conv_and_dropout_compute():
    rng = np.random.default_rng(0)
    x, w = cr.tensor(rng.standard_normal((1, 2, 5, 5))), cr.tensor(rng.standard_normal((3, 2, 3, 3)))
    np.testing.assert_allclose(cr.conv2d(x, w, None, 1, 1).numpy(), F.conv2d(x, w, padding=1).numpy())
    ones = cr.ones(100)
    assert cr.dropout(ones, 0.5, False) is ones or np.array_equal(cr.dropout(ones, 0.5, False).numpy(), ones.numpy())
    assert cr.cosine_similarity(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 0.0]])).item() == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(toplevel.INPLACE))
def test_in_place_functions_change_their_argument(name):
    x = cr.tensor([0.25, 0.5, 0.75], dtype=cr.float64)
    if name in ("gcd_", "lcm_"):
        x = cr.tensor([4, 6, 8])
    elif name in ("acosh_", "arccosh_"):
        x = x + 1
    args = {"clamp_": (0.3, 0.6), "clip_": (0.3, 0.6), "clamp_max_": (0.5,), "clamp_min_": (0.5,), "fill_": (2.0,),
            "xlogy_": (cr.tensor([2.0, 2.0, 2.0], dtype=cr.float64),), "gcd_": (cr.tensor([6, 4, 12]),),
            "lcm_": (cr.tensor([6, 4, 12]),), "threshold_": (0.4, -1.0),
            "index_put_": ((cr.tensor([1]),), cr.tensor([9.0], dtype=cr.float64)),
            "dropout_": (0.5, False), "alpha_dropout_": (0.5, False), "feature_alpha_dropout_": (0.5, False),
            "rrelu_": (0.1, 0.3, False)}.get(name, ())
    before = x.clone()
    expected = (getattr(before, name.rstrip("_"))(*args) if hasattr(before, name.rstrip("_")) else None)
    out = getattr(cr, name)(x, *args)
    assert out is x
    if expected is not None and name not in ("detach_", "zero_", "fill_", "index_put_"):
        np.testing.assert_allclose(x.numpy(), expected.numpy())


def test_in_place_function_errors_name_themselves():
    with pytest.raises(TypeError, match="exp_: expected a Tensor"):
        cr.exp_([1.0, 2.0])


def test_selu_celu_threshold_in_place_match_torch():
    torch = torch_or_skip()
    a = np.array([-2.0, -0.5, 0.1, 0.7, 3.0])
    for name, args in [("selu_", ()), ("celu_", (0.5,)), ("threshold_", (0.5, -7.0)), ("relu_", ()),
                       ("sigmoid_", ()), ("rsqrt_", ())]:
        x, t = cr.tensor(np.abs(a) if name == "rsqrt_" else a), torch.tensor(np.abs(a) if name == "rsqrt_" else a)
        getattr(cr, name)(x, *args)
        getattr(torch, name)(t, *args)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-12, err_msg=name)


def test_fill_rsub_detach_fix():
    x = cr.tensor([1.5, -2.5], requires_grad=True)
    filled = cr.fill(x, 7.0)
    # torch keeps fill in the graph: the result requires grad and the input's gradient is zero
    assert filled.tolist() == [7.0, 7.0] and x.tolist() == [1.5, -2.5] and filled.requires_grad
    filled.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(cr.rsub(x, 10.0, alpha=2).detach().numpy(), [7.0, 15.0])
    assert cr.detach(x).requires_grad is False
    assert cr.fix(cr.tensor([-1.7, 1.7])).tolist() == [-1.0, 1.0]
    y = cr.tensor([-1.7, 1.7])
    y.fix_()
    z = cr.tensor([-1.7, 1.7])
    z.clip_(-1.0, 1.0)
    assert y.tolist() == [-1.0, 1.0] and z.tolist() == [-1.0, 1.0]


def test_settings_scripts_set_first():
    assert cr.get_float32_matmul_precision() == "highest"
    cr.set_float32_matmul_precision("high")
    assert cr.get_float32_matmul_precision() == "high"
    cr.set_float32_matmul_precision("highest")
    with pytest.raises(ValueError, match="set_float32_matmul_precision: expected"):
        cr.set_float32_matmul_precision("fast")
    cr.set_default_device("cpu")
    cr.set_default_device(None)
    assert cr.get_default_device() == "cpu"
    with pytest.raises(RuntimeError, match="set_default_device: chainrule computes on the CPU"):
        cr.set_default_device("cuda")
    cr.set_num_interop_threads(2)
    assert cr.get_num_interop_threads() == 2
    with pytest.raises(ValueError, match="set_num_interop_threads"):
        cr.set_num_interop_threads(0)
    cr.set_deterministic_debug_mode("warn")
    assert cr.get_deterministic_debug_mode() == 1
    cr.set_deterministic_debug_mode(0)
    assert cr.set_flush_denormal(True) is False
    assert cr.typename(cr.tensor([1.0])) == "chainrule.FloatTensor" and cr.typename(3) == "int"
    assert cr.is_storage(cr.tensor([1.0])) is False


def test_compile_returns_the_model_or_function():
    model = cr.nn.Linear(2, 2)
    assert cr.compile(model) is model and cr.compile(model, mode="max-autotune") is model

    @cr.compile(fullgraph=True)
    def f(x):
        return x * 2

    @cr.compile
    def g(x):
        return x + 1
    assert f(cr.tensor([1.0])).item() == 2.0 and g(cr.tensor([1.0])).item() == 2.0


def test_anomaly_switches():
    assert not cr.is_anomaly_enabled()
    cr.set_anomaly_enabled(True, check_nan=False)
    try:
        assert cr.is_anomaly_enabled() and not cr.is_anomaly_check_nan_enabled()
    finally:
        cr.set_anomaly_enabled(False)
    assert not cr.is_anomaly_enabled() and not cr.is_anomaly_check_nan_enabled()


def test_vmap_at_the_top_gives_per_sample_gradients():
    w = cr.tensor([1.0, -2.0, 0.5], dtype=cr.float64)
    xs = cr.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    per_sample = cr.vmap(cr.func.grad(lambda x: (x * w).sum() ** 2))(xs)
    expected = 2 * (xs.numpy() @ w.numpy())[:, None] * w.numpy()
    np.testing.assert_allclose(per_sample.numpy(), expected, rtol=1e-12)


def test_products_and_joins_take_torchs_keywords_and_shapes():
    """torch.mm / bmm take mat2 and refuse what matmul would broadcast; concatenate takes axis, swapaxes
    axis0/axis1, dot tensor; gather takes sparse_grad and repeat_interleave output_size."""
    rng = np.random.default_rng(0)
    a, b, c = cr.tensor(rng.standard_normal((2, 3))), cr.tensor(rng.standard_normal((3, 4))), cr.tensor(rng.standard_normal(3))
    np.testing.assert_allclose(cr.mm(a, mat2=b).numpy(), a.numpy() @ b.numpy())
    np.testing.assert_allclose(a.mm(b).numpy(), a.numpy() @ b.numpy())
    with pytest.raises(cr.ShapeError, match="mm: both arguments must be matrices"):
        cr.mm(a, c)
    batch = cr.tensor(rng.standard_normal((5, 2, 3)))
    np.testing.assert_allclose(cr.bmm(batch, mat2=cr.tensor(rng.standard_normal((5, 3, 4)))).shape, (5, 2, 4))
    with pytest.raises(cr.ShapeError, match="same batch size"):
        batch.bmm(cr.tensor(rng.standard_normal((4, 3, 4))))
    assert cr.concatenate([a, a], axis=1).shape == (2, 6)
    assert cr.swapaxes(batch, axis0=0, axis1=2).shape == (3, 2, 5)
    assert cr.dot(c, tensor=c).item() == pytest.approx(float(c.numpy() @ c.numpy()))
    idx = cr.tensor([[0, 2], [1, 1]])
    np.testing.assert_array_equal(cr.gather(a, 1, idx, sparse_grad=True).numpy(), cr.gather(a, 1, idx).numpy())
    assert cr.repeat_interleave(c, 2, output_size=6).shape == (6,)
    with pytest.raises(ValueError, match="output_size=5"):
        cr.repeat_interleave(c, 2, output_size=5)


def test_reductions_take_dtype_and_numpy_takes_force():
    x = cr.tensor([[1, 2], [3, 4]])
    for name in ("cumsum", "prod", "sum"):
        assert getattr(x, name)(0, dtype=cr.float64).dtype == cr.float64
    for name in ("nansum", "nanmean"):
        assert getattr(x.float(), name)(0, dtype=cr.float64).dtype == cr.float64
    y = cr.tensor([1.0, 2.0], requires_grad=True)
    copy = y.numpy(force=True)
    copy[0] = 5.0   # a copy: the tensor is untouched
    assert y.detach().numpy()[0] == 1.0
