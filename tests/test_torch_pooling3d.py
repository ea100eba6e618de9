"""3-d pooling with torch's every option — ceil_mode, return_indices, count_include_pad, divisor_override,
dilation, unbatched (C, D, H, W) inputs — and max_unpool3d, against torch in float64: values, indices and
gradients, including inputs full of ties (ReLU zeros), where the gradient must go to the first maximum."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
TF = torch.nn.functional

MAX = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2),
       ceil_mode=True), dict(kernel_size=2, dilation=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)]
AVG = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, padding=1,
       count_include_pad=False), dict(kernel_size=(2, 3, 2), stride=2, ceil_mode=True),
       dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
       dict(kernel_size=2, divisor_override=3)]
SHAPES = [(2, 3, 5, 6, 7), (3, 5, 6, 7)]


def _pair(shape, ties, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    if ties:
        a = np.maximum(a, 0) * (np.random.default_rng(seed + 1).random(shape) < 0.3)   # mostly zeros
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check_grads(out_c, out_t, xc, xt):
    w = np.random.default_rng(9).standard_normal(tuple(out_t.shape))
    (out_c * cr.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES, ids=["batched", "unbatched"])
@pytest.mark.parametrize("kwargs", MAX, ids=[str(k) for k in MAX])
@pytest.mark.parametrize("ties", [False, True], ids=["random", "ties"])
def test_max_pool3d_matches_torch(shape, kwargs, ties):
    xc, xt = _pair(shape, ties)
    out_c, idx_c = F.max_pool3d(xc, return_indices=True, **kwargs)
    out_t, idx_t = TF.max_pool3d(xt, return_indices=True, **kwargs)
    np.testing.assert_array_equal(out_c.detach().numpy(), out_t.detach().numpy())
    np.testing.assert_array_equal(idx_c.numpy(), idx_t.numpy())
    _check_grads(out_c, out_t, xc, xt)
    module = cr.nn.MaxPool3d(return_indices=True, **kwargs)
    np.testing.assert_array_equal(module(xc)[1].numpy(), idx_t.numpy())


@pytest.mark.parametrize("shape", SHAPES, ids=["batched", "unbatched"])
@pytest.mark.parametrize("kwargs", AVG, ids=[str(k) for k in AVG])
def test_avg_pool3d_matches_torch(shape, kwargs):
    xc, xt = _pair(shape, False)
    out_c, out_t = F.avg_pool3d(xc, **kwargs), TF.avg_pool3d(xt, **kwargs)
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    _check_grads(out_c, out_t, xc, xt)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_lp_pool3d_ceil_mode_matches_torch(ceil_mode):
    xc, xt = _pair((1, 2, 5, 5, 4), False)
    out_c = F.lp_pool3d(xc.abs() + 0.1, 2.0, 2, ceil_mode=ceil_mode)
    out_t = TF.lp_pool3d(xt.abs() + 0.1, 2.0, 2, ceil_mode=ceil_mode)
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
    _check_grads(out_c, out_t, xc, xt)


@pytest.mark.parametrize("ties", [False, True], ids=["random", "ties"])
@pytest.mark.parametrize("size", [(2, 3, 4), 3, (None, 2, 5)])
def test_adaptive_max_pool3d_indices_match_torch(ties, size):
    xc, xt = _pair((2, 3, 5, 6, 7), ties)
    out_c, idx_c = F.adaptive_max_pool3d(xc, size, return_indices=True)
    out_t, idx_t = TF.adaptive_max_pool3d(xt, size, return_indices=True)
    np.testing.assert_array_equal(out_c.detach().numpy(), out_t.detach().numpy())
    np.testing.assert_array_equal(idx_c.numpy(), idx_t.numpy())
    _check_grads(out_c, out_t, xc, xt)


def test_max_unpool3d_inverts_max_pool3d_as_torch():
    xc, xt = _pair((2, 3, 4, 6, 4), False)
    pooled_c, idx_c = F.max_pool3d(xc, 2, return_indices=True)
    pooled_t, idx_t = TF.max_pool3d(xt, 2, return_indices=True)
    un_c, un_t = cr.nn.MaxUnpool3d(2)(pooled_c, idx_c), torch.nn.MaxUnpool3d(2)(pooled_t, idx_t)
    np.testing.assert_array_equal(un_c.detach().numpy(), un_t.detach().numpy())
    _check_grads(un_c, un_t, xc, xt)
    assert repr(cr.nn.MaxUnpool3d(2)) == repr(torch.nn.MaxUnpool3d(2))
    with pytest.raises(IndexError, match="outside the output size"):
        F.max_unpool3d(pooled_c, cr.tensor(idx_c.numpy() + 1000), 2)


@pytest.mark.parametrize("name,shape,args", [("max_pool1d", (2, 3, 9), (3, 2)), ("max_pool2d", (2, 3, 6, 7), (2,)),
                                             ("max_pool3d", (2, 3, 4, 6, 5), (2,)),
                                             ("adaptive_max_pool1d", (2, 3, 9), (4,)),
                                             ("adaptive_max_pool2d", (2, 3, 6, 7), ((2, 3),)),
                                             ("adaptive_max_pool3d", (2, 3, 4, 6, 5), (2,))])
def test_with_indices_variants_match_torch(name, shape, args):
    xc, xt = _pair(shape, False)
    (out_c, idx_c), (out_t, idx_t) = (getattr(F, name + "_with_indices")(xc, *args),
                                      getattr(TF, name + "_with_indices")(xt, *args))
    np.testing.assert_array_equal(out_c.detach().numpy(), out_t.detach().numpy())
    np.testing.assert_array_equal(idx_c.numpy(), idx_t.numpy())


FRACTIONAL = [((2, 3, 9, 7), 2, (5, 4), None), ((2, 3, 9, 7), (3, 2), None, (0.6, 0.7)), ((3, 8, 8), 3, (4, 4), None),
              ((1, 2, 10, 10), 2, (1, 1), None), ((2, 2, 7, 8, 6), 2, (4, 5, 3), None),
              ((2, 6, 7, 5), (2, 3, 2), (3, 3, 2), None)]


@pytest.mark.parametrize("shape,kernel,size,ratio", FRACTIONAL, ids=[str(c[0]) for c in FRACTIONAL])
@pytest.mark.parametrize("ties", [False, True], ids=["random", "ties"])
def test_fractional_max_pool_matches_torch_for_the_same_samples(shape, kernel, size, ratio, ties):
    dims = 3 if len(size or ratio) == 3 else 2
    n = shape[0] if len(shape) == dims + 2 else 1
    samples = np.random.default_rng(3).random((n, shape[-dims - 1], dims))
    xc, xt = _pair(shape, ties)
    name = f"fractional_max_pool{dims}d"
    out_c, idx_c = getattr(F, name)(xc, kernel, size, ratio, True, _random_samples=cr.tensor(samples))
    out_t, idx_t = getattr(TF, name)(xt, kernel, size, ratio, True, _random_samples=torch.tensor(samples))
    np.testing.assert_array_equal(out_c.detach().numpy(), out_t.detach().numpy())
    np.testing.assert_array_equal(idx_c.numpy(), idx_t.numpy())
    _check_grads(out_c, out_t, xc, xt)
    module = getattr(cr.nn, f"FractionalMaxPool{dims}d")(kernel, size, ratio, _random_samples=cr.tensor(samples))
    np.testing.assert_array_equal(module(xc).detach().numpy(), out_t.detach().numpy())


def test_fractional_max_pool_draws_its_windows_and_names_bad_arguments():
    cr.manual_seed(0)
    x = cr.randn(2, 3, 9, 9)
    a, b = F.fractional_max_pool2d(x, 2, output_ratio=0.5), F.fractional_max_pool2d(x, 2, output_ratio=0.5)
    assert a.shape == b.shape == (2, 3, 4, 4) and not np.array_equal(a.numpy(), b.numpy())   # new windows each call
    with pytest.raises(ValueError, match="exactly one of output_size and output_ratio"):
        cr.nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        cr.nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(cr.ShapeError, match="does not fit"):
        F.fractional_max_pool2d(x, 3, output_size=8)
