"""Text 002, "6. Pseudocode for Backpropagation": backprop(X, y, weights, biases) with a sigmoid hidden layer and a
linear output, next to chainrule. The pseudocode's "MSE" gradient dL/dy = y_pred - y (no 1/m, no 2) is the
gradient of L = ½·Σ(ŷ − y)², so that is the loss chainrule differentiates; gradients agree to 1e-12."""
import numpy as np

import chainrule as cr
from textbook_numpy import relative_difference, sigmoid


def backprop(X, y, weights, biases):
    z1 = X @ weights["w1"] + biases["b1"]
    a1 = sigmoid(z1)
    z2 = a1 @ weights["w2"] + biases["b2"]
    y_pred = z2
    dL_dy = y_pred - y
    dL_dw2 = a1.T @ dL_dy
    dL_db2 = np.sum(dL_dy, axis=0)
    dL_da1 = dL_dy @ weights["w2"].T
    dL_dz1 = dL_da1 * sigmoid(z1) * (1 - sigmoid(z1))
    return {"w1": X.T @ dL_dz1, "b1": np.sum(dL_dz1, axis=0), "w2": dL_dw2, "b2": dL_db2}


def main():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    weights = {"w1": rng.standard_normal((3, 5)), "w2": rng.standard_normal((5, 2))}
    biases = {"b1": rng.standard_normal(5), "b2": rng.standard_normal(2)}
    hand = backprop(X, y, weights, biases)
    P = {k: cr.tensor(v, requires_grad=True) for k, v in {**weights, **biases}.items()}
    y_pred = cr.sigmoid(cr.tensor(X) @ P["w1"] + P["b1"]) @ P["w2"] + P["b2"]
    (0.5 * ((y_pred - cr.tensor(y)) ** 2).sum()).backward()
    diffs = {k: relative_difference(P[k].grad.numpy(), hand[k]) for k in hand}
    print({k: f"{v:.1e}" for k, v in diffs.items()})
    return diffs


if __name__ == "__main__":
    main()
