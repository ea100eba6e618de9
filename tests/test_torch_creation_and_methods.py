"""Constructors with torch's placement keywords (device=, layout=, pin_memory=), windows, triangle indices and the
other torch names added with them; Tensor methods and in-place forms that torch code calls. Equal to torch where
it is importable."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import InplaceError
from helpers import torch_or_skip

CONSTRUCTORS = [("zeros", (2, 3)), ("ones", (2,)), ("empty", (2,)), ("full", ((2,), 1.5)), ("eye", (3,)),
                ("arange", (4,)), ("linspace", (0, 1, 5)), ("logspace", (0, 2, 3)), ("rand", (2,)), ("randn", (2,)),
                ("randint", (0, 5, (3,))), ("randperm", (4,)), ("tensor", ([1.0, 2.0],)), ("as_tensor", ([1.0],)),
                ("asarray", ([1.0],)), ("scalar_tensor", (3,)), ("hann_window", (4,)), ("tril_indices", (3, 3)),
                ("triu_indices", (3, 3)), ("range", (0, 3))]
LIKE = ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"]


@pytest.mark.parametrize("name,args", CONSTRUCTORS)
def test_constructors_take_torchs_placement_keywords(name, args):
    fn = getattr(cr, name)
    out = fn(*args, device="cpu", layout=cr.strided, pin_memory=False)
    assert isinstance(out, cr.Tensor)
    fn(*args, device=cr.device("cpu"))
    with pytest.raises(RuntimeError, match=f"{name}: chainrule computes on the CPU"):
        fn(*args, device="cuda:0")
    with pytest.raises(ValueError, match=f"{name}: only the strided layout"):
        fn(*args, layout="sparse_coo")


@pytest.mark.parametrize("name", LIKE)
def test_like_constructors_and_new_methods_take_device(name):
    x = cr.ones(2, 3, dtype=cr.float64)
    out = getattr(cr, name)(x, device=x.device)
    assert out.shape == (2, 3) and out.dtype == cr.float64
    assert x.new_zeros(4, device=x.device).dtype == cr.float64 and x.new_tensor([1], device="cpu").dtype == cr.float64
    assert x.new_full((2,), 3.0, device="cpu").tolist() == [3.0, 3.0]


def test_randint_like_and_randperm_dtype():
    cr.manual_seed(0)
    x = cr.zeros(50, dtype=cr.int32)
    r = cr.randint_like(x, 3)
    assert r.dtype == cr.int32 and r.shape == (50,) and 0 <= r.min().item() and r.max().item() < 3
    r = cr.randint_like(x, 5, 7)
    assert set(r.tolist()) <= {5, 6}
    assert cr.randperm(5, dtype=cr.int32).dtype == cr.int32


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
@pytest.mark.parametrize("length", [0, 1, 2, 5, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(name, length, periodic):
    torch = torch_or_skip()
    ours = getattr(cr, name)(length, periodic, dtype=cr.float64)
    theirs = getattr(torch, name)(length, periodic, dtype=torch.float64)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    assert getattr(cr, name)(length).dtype == cr.float32


def test_windows_without_torch():
    np.testing.assert_allclose(cr.hann_window(4, dtype=cr.float64).numpy(), [0.0, 0.5, 1.0, 0.5], atol=1e-15)
    np.testing.assert_allclose(cr.hann_window(5, periodic=False, dtype=cr.float64).numpy(),
                               np.hanning(5), atol=1e-15)
    np.testing.assert_allclose(cr.kaiser_window(6, False, beta=5.0, dtype=cr.float64).numpy(), np.kaiser(6, 5.0))
    with pytest.raises(ValueError, match="hann_window: window_length must be ≥ 0"):
        cr.hann_window(-1)


@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (3, 4, 1), (4, 3, -1), (0, 3, 0), (5, 2, 2)])
def test_triangle_indices(row, col, offset):
    lower, upper = cr.tril_indices(row, col, offset), cr.triu_indices(row, col, offset)
    m = np.arange(row * col).reshape(row, col)
    np.testing.assert_array_equal(m[tuple(lower.numpy())], m[np.tril_indices(row, offset, col)])
    assert lower.shape[0] == 2 and lower.dtype == cr.int64 and upper.shape[0] == 2
    try:
        import torch
    except ImportError:
        return
    assert lower.tolist() == torch.tril_indices(row, col, offset).tolist()
    assert upper.tolist() == torch.triu_indices(row, col, offset).tolist()


def test_range_logspace_scalar_tensor_asarray():
    assert cr.range(1, 4).tolist() == [1.0, 2.0, 3.0, 4.0] and cr.range(1, 4).dtype == cr.float32
    np.testing.assert_allclose(cr.range(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(cr.logspace(0, 3, 4, base=2.0).numpy(), [1, 2, 4, 8])
    s = cr.scalar_tensor(3)
    assert s.shape == () and s.dtype == cr.float32 and s.item() == 3.0
    a = np.arange(3.0)
    shared = cr.asarray(a)
    a[0] = 7.0
    assert shared[0].item() == 7.0 and cr.asarray(a, copy=True) is not None
    with pytest.raises(ValueError, match="asarray: copy=False"):
        cr.asarray(a, dtype=cr.float32, copy=False)
    assert cr.asarray([1.0, 2.0], requires_grad=True).requires_grad


def test_method_forms():
    rng = np.random.default_rng(0)
    a, b, c = (cr.tensor(rng.standard_normal((2, 2))) for _ in range(3))
    np.testing.assert_allclose(a.addmm(b, c, beta=0.5).numpy(), 0.5 * a.numpy() + b.numpy() @ c.numpy())
    bat = cr.tensor(rng.standard_normal((3, 2, 2)))
    np.testing.assert_allclose(a.baddbmm(bat, bat).numpy(), a.numpy() + bat.numpy() @ bat.numpy())
    np.testing.assert_allclose(a.matrix_power(3).numpy(), np.linalg.matrix_power(a.numpy(), 3), rtol=1e-12)
    assert cr.tensor([-1.0, 0.2, 2.0]).hardshrink().tolist() == [-1.0, 0.0, 2.0]
    a2 = a.clone()
    a2.addmm_(b, c)
    np.testing.assert_allclose(a2.numpy(), a.numpy() + b.numpy() @ c.numpy())


def test_comparison_and_logical_in_place_write_ones_and_zeros():
    x = cr.tensor([1.0, 5.0, 3.0])
    x.lt_(cr.tensor([2.0, 2.0, 4.0]))
    assert x.tolist() == [1.0, 0.0, 1.0] and x.dtype == cr.float32
    y = cr.tensor([1, 0, 2])
    y.logical_and_(cr.tensor([1, 1, 0]))
    assert y.tolist() == [1, 0, 0]
    z = cr.tensor([3.0, 4.0])
    z.ge_(3.5)
    assert z.tolist() == [0.0, 1.0]


def test_view_changing_in_place_forms():
    y = cr.ones(3, 1)
    y.squeeze_()
    assert y.shape == (3,)
    y.unsqueeze_(0)
    assert y.shape == (1, 3)
    z = cr.ones(2, 3)
    z.t_()
    assert z.shape == (3, 2)
    z.transpose_(0, 1)
    assert z.shape == (2, 3)
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    v = w * 1
    v.unsqueeze_(0)
    (v * cr.tensor([[3.0, 4.0]])).sum().backward()
    assert w.grad.tolist() == [3.0, 4.0]
    with pytest.raises(InplaceError, match="unsqueeze_"):
        w.unsqueeze_(0)


def test_view_change_of_a_saved_input_is_caught_at_backward():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = w * x
    x.unsqueeze_(0)
    with pytest.raises(InplaceError, match="MulBackward"):
        y.sum().backward()


def test_new_elementwise_names_match_torch():
    torch = torch_or_skip()
    a = np.array([-2.5, -0.0, 0.0, 0.3, 8.0, np.inf, -np.inf, np.nan])
    t = torch.tensor(a)
    x = cr.tensor(a)
    for ours, theirs in [(cr.isposinf(x), torch.isposinf(t)), (cr.isneginf(x), torch.isneginf(t)),
                         (cr.isreal(x), torch.isreal(t)), (cr.angle(x), torch.angle(t)),
                         (cr.frexp(x)[0], torch.frexp(t)[0]), (cr.frexp(x)[1], torch.frexp(t)[1]),
                         (cr.nextafter(x, cr.tensor(1.0, dtype=cr.float64)),
                          torch.nextafter(t, torch.tensor(1.0, dtype=torch.float64))),
                         (cr.logaddexp2(x[:-1], cr.tensor(1.0, dtype=cr.float64)),   # NaN: NumPy warns
                          torch.logaddexp2(t[:-1], torch.tensor(1.0, dtype=torch.float64))),
                         (cr.ldexp(x, cr.tensor([1, 2, 3, 4, 5, 6, 7, 8])), torch.ldexp(t, torch.arange(1, 9)))]:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert cr.is_signed(cr.tensor([1])) and not cr.is_signed(cr.tensor([1], dtype=cr.uint8))
    assert cr.is_signed(cr.tensor([1.0])) == torch.is_signed(torch.tensor([1.0]))


def test_logaddexp2_and_ldexp_gradients():
    a = cr.tensor([0.5, -1.0, 3.0], dtype=cr.float64, requires_grad=True)
    b = cr.tensor([1.0, 2.0, -3.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(cr.logaddexp2, (a, b))
    assert cr.autograd.gradcheck(cr.ldexp, (a, b))
    big = cr.logaddexp2(cr.tensor([1000.0, -1000.0]), cr.tensor([1000.0, 3.0]))
    np.testing.assert_allclose(big.numpy(), [1001.0, 3.0], rtol=1e-6)
