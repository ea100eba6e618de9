"""Tensor.grad_dtype (torch 2.13): the dtype backward casts a leaf's gradient to. By default the leaf's own; set it
to keep float32 gradients for float16 weights, or to None to keep whatever dtype arrives."""
import gc

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import engine
from chainrule.errors import DTypeError


def test_float16_weights_get_float32_gradients_before_their_hooks_and_across_accumulation():
    x = cr.tensor([0.1, 0.2, 3.0], dtype=cr.float16, requires_grad=True)
    assert x.grad_dtype == cr.float16
    x.grad_dtype = cr.float32
    assert x.grad_dtype == cr.float32
    seen = []
    x.register_hook(lambda g: seen.append(g.dtype))
    (x * x).sum().backward()
    assert seen == [cr.float32] and x.grad.dtype == cr.float32
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy().astype(np.float32), rtol=1e-3)
    (x * x).sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.detach().numpy().astype(np.float32), rtol=1e-3)
    g, = cr.autograd.grad((3 * x).sum(), x)   # autograd.grad returns it in the grad_dtype too, as torch
    assert g.dtype == cr.float32


class _GradientInFloat64(cr.autograd.Function):
    """The identity whose backward hands back a float64 gradient whatever the input's dtype."""
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g.double()


def test_none_keeps_the_incoming_dtype_and_the_default_casts_it():
    a = cr.ones(2, requires_grad=True)
    _GradientInFloat64.apply(a).sum().backward()
    assert a.grad.dtype == cr.float32
    b = cr.ones(2, requires_grad=True)
    b.grad_dtype = None
    assert b.grad_dtype is None
    _GradientInFloat64.apply(b).sum().backward()
    assert b.grad.dtype == cr.float64


def test_assigned_grad_must_match_the_grad_dtype():
    z = cr.ones(2, dtype=cr.float16, requires_grad=True)
    with pytest.raises(DTypeError, match="grad_dtype"):
        z.grad = cr.ones(2)
    z.grad_dtype = cr.float32
    z.grad = cr.ones(2)
    with pytest.raises(DTypeError, match=r"gradients are float32 \(its grad_dtype"):
        z.grad = cr.ones(2, dtype=cr.float16)
    z.grad_dtype = None
    z.grad = cr.ones(2, dtype=cr.float64)


def test_only_leaves_have_one_and_it_must_be_a_dtype():
    x = cr.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="only be accessed on leaf tensors"):
        y.grad_dtype
    with pytest.raises(RuntimeError, match="only be set on leaf tensors"):
        y.grad_dtype = cr.float64
    with pytest.raises(TypeError, match="must be a dtype .* or None, but got str"):
        x.grad_dtype = "float32"
    with pytest.raises(DTypeError, match="bfloat16"):
        x.grad_dtype = cr.bfloat16
    x.grad_dtype = np.float64   # a NumPy scalar type is a dtype too
    assert x.grad_dtype == cr.float64
    assert x.detach().grad_dtype == cr.float32   # a new leaf: its own dtype, as torch's detach
    assert cr.ones(2, dtype=cr.int64).grad_dtype == cr.int64


def test_the_setting_goes_with_the_tensor():
    before = len(engine.GRAD_DTYPES)
    x = cr.ones(2, requires_grad=True)
    x.grad_dtype = cr.float64
    assert len(engine.GRAD_DTYPES) == before + 1
    x.grad_dtype = cr.float32   # back to its own dtype: nothing to remember
    assert len(engine.GRAD_DTYPES) == before
    x.grad_dtype = None
    del x
    gc.collect()
    assert len(engine.GRAD_DTYPES) == before


def test_a_float16_model_trains_with_float32_gradients():
    cr.manual_seed(0)
    model = cr.nn.Linear(4, 1).half()
    for p in model.parameters():
        p.grad_dtype = cr.float32
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    x = cr.randn(64, 4).half()
    y = (x.float() @ cr.tensor([[1.0], [-2.0], [0.5], [3.0]])).half()
    first = None
    for _ in range(50):
        opt.zero_grad()
        loss = cr.nn.functional.mse_loss(model(x).float(), y.float())
        loss.backward()
        assert all(p.grad.dtype == cr.float32 for p in model.parameters())
        opt.step()
        first = first if first is not None else loss.item()
    assert model.weight.dtype == cr.float16 and loss.item() < 0.01 * first


def test_as_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle for grad_dtype's semantics")
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 4)).astype(np.float16), rng.standard_normal((5, 4)).astype(np.float16)
    ours = cr.tensor(w, requires_grad=True)
    theirs = torch.tensor(w, requires_grad=True)
    ours.grad_dtype, theirs.grad_dtype = cr.float32, torch.float32
    (cr.tensor(x) @ ours.T).tanh().sum().backward()
    (torch.tensor(x) @ theirs.T).tanh().sum().backward()
    assert theirs.grad.dtype == torch.float32 and ours.grad.dtype == cr.float32
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=2e-3, atol=2e-3)
