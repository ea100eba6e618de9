"""Text 003, "Hands-On Lab: Build a Modular Backpropagation Framework": Part 1 (layer functions), Part 3 (gradient
check of a [2, 5, 3, 1] network, every relative difference < 1e-7), Part 4 (moons, 1,000 samples, > 95 %
accuracy, decision-boundary plot) — with chainrule's modules."""
import os
import tempfile

import numpy as np

import chainrule as cr
import chainrule.nn as nn
from chainrule import training as T
from chainrule.autograd.gradcheck import numerical_jacobians
from chainrule.data import datasets
from textbook_numpy import linear_backward, linear_forward, relative_difference


def main(epochs=60, plot_path=None):
    # Part 1: the lab's linear_forward / linear_backward equal chainrule's linear op
    rng = np.random.default_rng(9)
    A_prev, W, b = rng.standard_normal((3, 8)), rng.standard_normal((2, 3)), rng.standard_normal((2, 1))
    Z, cache = linear_forward(A_prev, W, b)
    dZ = rng.standard_normal(Z.shape)
    dA_prev, dW, db = linear_backward(dZ, cache)
    a, w, bb = (cr.tensor(v, requires_grad=True) for v in (A_prev, W, b))
    (w @ a + bb).backward(gradient=cr.tensor(dZ / A_prev.shape[1]))
    part1 = max(relative_difference(w.grad.numpy(), dW), relative_difference(bb.grad.numpy(), db),
                relative_difference(a.grad.numpy() * A_prev.shape[1], dA_prev))
    # Part 3: gradient check of [2, 5, 3, 1]
    cr.manual_seed(1)
    net = T.build_mlp([2, 5, 3, 1], "tanh").double()
    X, y = datasets.moons(32, 0.2, seed=1)
    Xt, Yt = cr.tensor(X), cr.tensor(y.reshape(-1, 1).astype(np.float64))
    loss_fn = nn.BCEWithLogitsLoss()
    loss_fn(net(Xt), Yt).backward()
    named = list(net.named_parameters())
    nums = numerical_jacobians(lambda *ps: loss_fn(net(Xt), Yt), [p for _, p in named], eps=1e-7)
    part3 = {n: relative_difference(p.grad.numpy().ravel(), num[:, 0]) for (n, p), num in zip(named, nums)}
    # Part 4: moons, > 95 %
    X, y = datasets.moons(1000, 0.2, seed=0)
    Xtr, ytr, Xte, yte = datasets.train_test_split(X, y, 0.2, seed=0)
    Xtr, Xte, _, _ = datasets.standardize(Xtr, Xte)
    cr.manual_seed(0)
    model = T.build_mlp([2, 16, 16, 1], "relu")
    T.fit(model, nn.BCEWithLogitsLoss(), "bce", cr.optim.Adam(model.parameters(), lr=0.01), Xtr, ytr, 2, epochs)
    acc = T.accuracy(model, Xte, yte, "bce")
    plot_path = plot_path or os.path.join(tempfile.gettempdir(), "chainrule_lab_boundary.png")
    try:
        from chainrule import viz
        viz.plot_decision_boundary(lambda P: T.predict_classes(model, P, "bce"), Xte, yte, plot_path,
                                   f"moons: test accuracy {acc:.1%}")
    except ImportError:
        plot_path = None
    print(f"Part 1: layer functions vs chainrule, worst relative difference {part1:.1e}")
    print("Part 3: gradient check [2, 5, 3, 1]:", {k: f"{v:.1e}" for k, v in part3.items()})
    print(f"Part 4: moons test accuracy {acc:.1%}; decision boundary -> {plot_path}")
    return {"part1": part1, "gradient_check": part3, "accuracy": acc, "plot": plot_path}


if __name__ == "__main__":
    main()
