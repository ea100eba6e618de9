"""The reference texts' lab (003): gradient check of a [2, 5, 3, 1] network, moons ≥ 95 %, the XOR demo, and
the vanishing-gradient claim measured."""
import numpy as np

import chainrule as cr
import chainrule.nn as nn
from chainrule import training as T
from chainrule.autograd.gradcheck import numerical_jacobians
from chainrule.data import datasets


def test_gradient_check_2_5_3_1_every_relative_difference_below_1e7():
    cr.manual_seed(1)
    model = T.build_mlp([2, 5, 3, 1], "tanh").double()
    X, y = datasets.moons(16, 0.2, seed=1)
    X, Y = cr.tensor(X), cr.tensor(y.reshape(-1, 1).astype(np.float64))
    loss_fn = nn.BCEWithLogitsLoss()
    model.zero_grad()
    loss_fn(model(X), Y).backward()
    params = list(model.named_parameters())

    def loss_of(*ps):
        return loss_fn(model(X), Y)
    numerical = numerical_jacobians(loss_of, [p for _, p in params], eps=1e-7)
    for (name, p), num in zip(params, numerical):
        a, n = p.grad.numpy().ravel(), num[:, 0]
        diff = np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n) + 1e-8)   # the text's formula
        assert diff < 1e-7, f"{name}: relative difference {diff:.2e}"


def test_moons_lab_reaches_95_percent():
    X, y = datasets.moons(1000, 0.2, seed=0)
    Xtr, ytr, Xte, yte = datasets.train_test_split(X, y, 0.2, seed=0)
    Xtr, Xte, _, _ = datasets.standardize(Xtr, Xte)
    cr.manual_seed(0)
    model = T.build_mlp([2, 16, 16, 1], "relu")
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    T.fit(model, nn.BCEWithLogitsLoss(), "bce", opt, Xtr, ytr, 2, epochs=60)
    assert T.accuracy(model, Xte, yte, "bce") >= 0.95


def test_xor_2_4_1_sigmoid_bce_gets_all_four_right():
    X = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = cr.tensor([[0.0], [1.0], [1.0], [0.0]])
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    opt = cr.optim.SGD(model.parameters(), lr=1.0)
    loss_fn = nn.BCELoss()
    for _ in range(2000):
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
    with cr.no_grad():
        pred = (model(X) > 0.5).long().reshape(-1).tolist()
    assert pred == [0, 1, 1, 0]
    assert loss.item() < 0.05


def _first_layer_grad_ratio(activation, init):
    cr.manual_seed(0)
    model = T.build_mlp([2] + [32] * 10 + [1], activation, init=init)
    X, y = datasets.moons(256, 0.2, seed=0)
    loss = nn.BCEWithLogitsLoss()(model(cr.tensor(X.astype(np.float32))), cr.tensor(y.reshape(-1, 1).astype(np.float32)))
    loss.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return np.linalg.norm(linears[0].weight.grad.numpy()) / np.linalg.norm(linears[-1].weight.grad.numpy())


def test_vanishing_gradient_claim_measured():
    """10-layer sigmoid network: the first layer's gradient is orders of magnitude smaller than the last's;
    ReLU with He initialisation keeps them comparable (the texts' vanishing-gradient claim)."""
    sigmoid_ratio = _first_layer_grad_ratio("sigmoid", "xavier")
    relu_ratio = _first_layer_grad_ratio("relu", "he")
    assert sigmoid_ratio < 1e-3
    assert relu_ratio > 1e-1
    assert relu_ratio / sigmoid_ratio > 1e3
