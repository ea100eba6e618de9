"""nn.utils.parametrize and nn.utils.parametrizations (weight_norm, spectral_norm, orthogonal): the parametrized
weight, its gradient with respect to the stored original, the state_dict layout and repr equal to torch's;
assignment through right_inverse, caching, removal, and the named errors."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import parametrizations as PZ
from chainrule.nn.utils import parametrize as P


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


def _torch_symmetric(torch):
    class TorchSymmetric(torch.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

        def right_inverse(self, A):
            return A.triu()
    return TorchSymmetric()


def _compare(ours, theirs, torch, in_features, train=True):
    """Same state → same output and the same gradients for every parameter."""
    theirs.double()
    ours.double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.train(train), theirs.train(train)
    x = np.random.default_rng(0).standard_normal((4, in_features))
    ya, yb = ours(cr.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10, atol=1e-12)
    (ya ** 2).sum().backward()
    (yb ** 2).sum().backward()
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    theirs_state = theirs.state_dict()
    for k, v in ours.state_dict().items():   # spectral_norm's power iteration updates _u, _v alike
        np.testing.assert_allclose(v.numpy(), theirs_state[k].detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_custom_parametrization_matches_torch():
    torch = _torch()
    ours, theirs = nn.Linear(3, 3), torch.nn.Linear(3, 3)
    P.register_parametrization(ours, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _torch_symmetric(torch))
    assert repr(ours) == repr(theirs).replace("TorchSymmetric", "Symmetric")
    _compare(ours, theirs, torch, 3)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization_matches_torch(dim):
    torch = _torch()
    ours, theirs = nn.Linear(3, 4), torch.nn.Linear(3, 4)
    PZ.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    _compare(ours, theirs, torch, 3)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("make", ["linear", "conv", "conv_transpose"])
def test_spectral_norm_parametrization_matches_torch(train, make):
    torch = _torch()
    if make == "linear":
        ours, theirs, shape = nn.Linear(3, 5), torch.nn.Linear(3, 5), (4, 3)
    elif make == "conv":
        ours, theirs, shape = nn.Conv1d(2, 3, 2), torch.nn.Conv1d(2, 3, 2), (4, 2, 5)
    else:
        ours, theirs, shape = nn.ConvTranspose1d(2, 3, 2), torch.nn.ConvTranspose1d(2, 3, 2), (4, 2, 5)
    PZ.spectral_norm(ours)
    torch.nn.utils.parametrizations.spectral_norm(theirs)
    theirs.double()
    ours.double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    ours.train(train), theirs.train(train)
    x = np.random.default_rng(0).standard_normal(shape)
    for _ in range(2):   # two calls: the power iteration moves u and v in training mode
        ya, yb = ours(cr.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-9, atol=1e-12)
    ya.sum().backward()
    yb.sum().backward()
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("shape, orthogonal_map", [((4, 4), None), ((5, 3), None), ((3, 5), None),
                                                   ((4, 4), "cayley"), ((5, 3), "cayley"), ((5, 3), "matrix_exp")])
def test_orthogonal_matches_torch_and_stays_orthogonal(shape, orthogonal_map):
    torch = _torch()
    ours, theirs = nn.Linear(shape[1], shape[0]), torch.nn.Linear(shape[1], shape[0])
    PZ.orthogonal(ours, orthogonal_map=orthogonal_map)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map)
    _compare(ours, theirs, torch, shape[1])
    opt = cr.optim.SGD(ours.parameters(), lr=0.5)
    opt.step()
    W = ours.weight.detach().numpy()
    gram = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-6)   # base was made orthogonal in float32


def test_assignment_caching_and_removal():
    model = nn.Linear(3, 3, dtype=cr.float64)
    original = model.weight
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    P.register_parametrization(model, "weight", Symmetric())
    assert type(model).__name__ == "ParametrizedLinear" and P.type_before_parametrizations(model) is nn.Linear
    assert model.parametrizations.weight.original is original and P.is_parametrized(model, "weight")
    target = cr.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]], dtype=cr.float64)
    model.weight = target                                  # right_inverse stores the upper triangle
    np.testing.assert_array_equal(model.weight.detach().numpy(), target.numpy())
    model(cr.ones(2, 3, dtype=cr.float64)).sum().backward()
    opt.step()                                             # the optimizer still holds the original Parameter
    W = model.weight.detach().numpy()
    np.testing.assert_array_equal(W, W.T)
    with P.cached():
        assert model.weight is model.weight
    assert model.weight is not model.weight
    P.register_parametrization(model, "weight", nn.Identity())   # a second one chains after the first
    assert len(model.parametrizations.weight) == 2
    P.remove_parametrizations(model, "weight")
    assert type(model) is nn.Linear and model.weight is original and "parametrizations" not in model._modules
    np.testing.assert_array_equal(model.weight.detach().numpy(), W)


def test_parametrization_errors_are_named():
    with pytest.raises(ValueError, match="must keep weight's shape"):
        P.register_parametrization(nn.Linear(3, 4), "weight", nn.Flatten(0))
    with pytest.raises(ValueError, match="has no parameter or buffer 'kernel'"):
        P.register_parametrization(nn.Linear(3, 4), "kernel", Symmetric())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(nn.Linear(3, 4), "weight")
    with pytest.raises(ValueError, match="orthogonal_map"):
        PZ.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        model = P.register_parametrization(nn.Linear(2, 2), "weight", nn.Tanh())
        model.weight = cr.zeros(2, 2)


def test_householder_product_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(3)
    A, tau, g = rng.standard_normal((2, 5, 3)), rng.random((2, 3)), rng.standard_normal((2, 5, 3))
    a, t = cr.tensor(A, requires_grad=True), cr.tensor(tau, requires_grad=True)
    ta, tt = torch.tensor(A, requires_grad=True), torch.tensor(tau, requires_grad=True)
    q, tq = cr.linalg.householder_product(a, t), torch.linalg.householder_product(ta, tt)
    np.testing.assert_allclose(q.detach().numpy(), tq.detach().numpy(), atol=1e-13)
    q.backward(cr.tensor(g))
    tq.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), atol=1e-12)
