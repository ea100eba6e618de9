"""Text 003, Exercises §C2: the gradient check on a 3-layer network [5, 4, 3, 1] — with chainrule: gradients from
backward against central differences, per parameter. The text's check passes below 1e-5; with ε = 1e-6 (at 1e-7
float64 rounding already costs ~1e-7 on the smallest gradients) every relative difference here is below 1e-7."""
import numpy as np

import chainrule as cr
import chainrule.nn as nn
from chainrule.autograd.gradcheck import numerical_jacobians
from textbook_numpy import relative_difference


def main():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid()).double()
    rng = np.random.default_rng(7)
    X, Y = cr.tensor(rng.standard_normal((10, 5))), cr.tensor((rng.random((10, 1)) > 0.5).astype(np.float64))
    loss_fn = nn.BCELoss()
    loss_fn(model(X), Y).backward()
    named = list(model.named_parameters())
    numerical = numerical_jacobians(lambda *ps: loss_fn(model(X), Y), [p for _, p in named], eps=1e-6)
    diffs = {n: relative_difference(p.grad.numpy().ravel(), num[:, 0]) for (n, p), num in zip(named, numerical)}
    for n, d in diffs.items():
        print(f"{n:10s}: relative diff = {d:.2e} {'PASS' if d < 1e-7 else 'FAIL'}")
    return diffs


if __name__ == "__main__":
    main()
