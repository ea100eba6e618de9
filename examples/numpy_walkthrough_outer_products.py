"""Text 000, "Numerical Example (Pseudo-code)": one sample through x → W1,b1 → f → W2,b2 → g, with the backward
pass written with outer products (dL/dW2 = δ_out ⊗ h, dL/dW1 = δ_hidden ⊗ x), next to chainrule's gradients.
Here f = tanh, g = sigmoid and L = ½‖ŷ − y‖², so dL/dŷ = ŷ − y."""
import numpy as np

import chainrule as cr
from textbook_numpy import relative_difference


def main():
    rng = np.random.default_rng(0)
    n, m, k = 4, 3, 2
    x, y_true = rng.standard_normal(n), rng.random(k)
    W1, b1, W2, b2 = rng.standard_normal((m, n)), rng.standard_normal(m), rng.standard_normal((k, m)), rng.standard_normal(k)
    # ===== the text's forward and backward, by hand =====
    z1 = W1 @ x + b1
    h = np.tanh(z1)
    z2 = W2 @ h + b2
    y_pred = 1 / (1 + np.exp(-z2))
    delta_output = (y_pred - y_true) * y_pred * (1 - y_pred)
    hand = {"W2": np.outer(delta_output, h), "b2": delta_output}
    delta_hidden = (W2.T @ delta_output) * (1 - h ** 2)
    hand.update({"W1": np.outer(delta_hidden, x), "b1": delta_hidden})
    # ===== chainrule =====
    P = {k_: cr.tensor(v, requires_grad=True) for k_, v in {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()}
    y = cr.sigmoid(P["W2"] @ cr.tanh(P["W1"] @ cr.tensor(x) + P["b1"]) + P["b2"])
    (0.5 * ((y - cr.tensor(y_true)) ** 2).sum()).backward()
    diffs = {k_: relative_difference(P[k_].grad.numpy(), hand[k_]) for k_ in hand}
    for k_, d in diffs.items():
        print(f"dL/d{k_}: hand-derived vs chainrule, relative difference {d:.1e}")
    return diffs


if __name__ == "__main__":
    main()
