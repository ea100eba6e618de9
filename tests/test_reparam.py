"""weight_norm and spectral_norm (torch.nn.utils): the same weights, outputs and gradients as torch in float64, the
power iteration's buffers included; removal folds the weight back."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def test_weight_norm_keeps_the_function_and_learns_g_and_v():
    cr.manual_seed(0)
    lin = nn.Linear(4, 3)
    x = cr.randn(5, 4)
    before = lin(x).detach().numpy()
    weight_norm(lin)
    assert set(dict(lin.named_parameters())) == {"bias", "weight_g", "weight_v"} and lin.weight_g.shape == (3, 1)
    np.testing.assert_allclose(lin(x).detach().numpy(), before, rtol=1e-5)
    lin(x).sum().backward()
    assert lin.weight_g.grad is not None and lin.weight_v.grad is not None
    remove_weight_norm(lin)
    assert set(dict(lin.named_parameters())) == {"bias", "weight"}
    np.testing.assert_allclose(lin(x).detach().numpy(), before, rtol=1e-5)
    with pytest.raises(ValueError, match="remove_weight_norm: weight_norm of 'weight' not found"):
        remove_weight_norm(lin)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    torch = _torch()
    cm, tm = nn.Conv2d(2, 3, 3).double(), torch.nn.Conv2d(2, 3, 3).double()
    with torch.no_grad():
        tm.weight.copy_(torch.from_numpy(cm.weight.detach().numpy()))
        tm.bias.copy_(torch.from_numpy(cm.bias.detach().numpy()))
    weight_norm(cm, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(tm, dim=dim)
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 5))
    ya, yb = cm(cr.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10)
    (ya ** 2).sum().backward()
    (yb ** 2).sum().backward()
    for n in ("weight_g", "weight_v"):
        np.testing.assert_allclose(getattr(cm, n).grad.numpy(), getattr(tm, n).grad.numpy(), rtol=1e-9)


def test_spectral_norm_matches_torch_over_training_steps():
    torch = _torch()
    cm, tm = nn.Linear(5, 4).double(), torch.nn.Linear(5, 4).double()
    with torch.no_grad():
        tm.weight.copy_(torch.from_numpy(cm.weight.detach().numpy()))
        tm.bias.copy_(torch.from_numpy(cm.bias.detach().numpy()))
    spectral_norm(cm, n_power_iterations=2)
    torch.nn.utils.spectral_norm(tm, n_power_iterations=2)
    with torch.no_grad():   # the random start of the power iteration: take ours
        tm.weight_u.copy_(torch.from_numpy(cm.weight_u.numpy()))
        tm.weight_v.copy_(torch.from_numpy(cm.weight_v.numpy()))
    co, to = cr.optim.SGD(cm.parameters(), lr=0.1), torch.optim.SGD(tm.parameters(), lr=0.1)
    x = np.random.default_rng(1).standard_normal((6, 5))
    for _ in range(4):
        co.zero_grad()
        to.zero_grad()
        ya, yb = cm(cr.tensor(x)), tm(torch.tensor(x))
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-9)
        (ya ** 2).sum().backward()
        (yb ** 2).sum().backward()
        np.testing.assert_allclose(cm.weight_orig.grad.numpy(), tm.weight_orig.grad.numpy(), rtol=1e-8)
        co.step()
        to.step()
    np.testing.assert_allclose(cm.weight_u.numpy(), tm.weight_u.numpy(), rtol=1e-9)


def test_spectral_norm_bounds_the_largest_singular_value():
    cr.manual_seed(0)
    lin = nn.Linear(8, 6)
    with cr.no_grad():
        lin.weight.mul_(10.0)
    spectral_norm(lin, n_power_iterations=30)
    lin(cr.randn(1, 8))
    assert abs(np.linalg.svd(lin.weight.detach().numpy(), compute_uv=False)[0] - 1.0) < 1e-4
    assert "weight_u" in lin.state_dict() and "weight_orig" in lin.state_dict()
    remove_spectral_norm(lin)
    assert set(lin.state_dict()) == {"weight", "bias"}
    with pytest.raises(ValueError, match="spectral_norm: Linear has no parameter 'kernel'"):
        spectral_norm(nn.Linear(2, 2), name="kernel")
