"""Text 003, §12 "NumPy (From Scratch)" and §12.2 "Numerical Gradient Checking": the 2-layer ReLU/sigmoid network
trained on XOR (n_h = 4, lr = 1.0, 10,000 epochs) and its gradient check — with chainrule computing the same
gradients from the same parameters at every check, and the text's gradient_check relative differences.

The text's gradient check, run as printed (initialize_parameters(2, 3, 1) on the XOR inputs), FAILS for b1
(relative difference ≈ 0.24): biases start at 0 and the sample (0, 0) gives Z1 = W1·0 + 0 = 0 exactly, ReLU's
kink, where the two-sided difference averages the left and right slopes. chainrule's explain_gradcheck names it a
kink (not a wrong gradient); moving b1 off 0 by 1e-3 makes every entry pass."""
import numpy as np

import chainrule as cr
import textbook_numpy as T


def chainrule_grads(X, Y, params):
    P = {k: cr.tensor(v, requires_grad=True) for k, v in params.items()}
    A2 = cr.sigmoid(P["W2"] @ cr.relu(P["W1"] @ cr.tensor(X) + P["b1"]) + P["b2"])
    cr.nn.functional.binary_cross_entropy(A2, cr.tensor(Y)).backward()
    return {"d" + k: p.grad.numpy() for k, p in P.items()}


def main(epochs=10000):
    X = np.array([[0, 0, 1, 1], [0, 1, 0, 1]], dtype=np.float64)
    Y = np.array([[0, 1, 1, 0]], dtype=np.float64)
    params = T.initialize_parameters(2, 4, 1)
    worst = 0.0
    for i in range(epochs):
        A2, cache = T.forward_pass(X, params)
        grads = T.backward_pass(X, Y, params, cache)
        if i % 1000 == 0:
            ours = chainrule_grads(X, Y, params)
            worst = max(worst, max(T.relative_difference(ours[k], grads[k]) for k in grads))
            print(f"Epoch {i:5d} | Cost: {T.compute_cost(A2, Y):.6f} | chainrule vs hand: {worst:.1e}")
        params = T.update_parameters(params, grads, 1.0)
    A2, _ = T.forward_pass(X, params)
    print(f"Predictions: {np.round(A2, 3)}")
    check = T.gradient_check(X, Y, T.initialize_parameters(2, 3, 1))
    print("Gradient Check (as in the text):", {k: f"{v:.2e}" for k, v in check.items()})
    p0 = T.initialize_parameters(2, 3, 1)
    names = ["W1", "b1", "W2", "b2"]
    P = [cr.tensor(p0[k], requires_grad=True) for k in names]

    def cost(W1, b1, W2, b2):
        A2 = cr.sigmoid(W2 @ cr.relu(W1 @ cr.tensor(X) + b1) + b2)
        return cr.nn.functional.binary_cross_entropy(A2, cr.tensor(Y))
    report = cr.autograd.explain_gradcheck(cost, P, names=names)
    print(report)
    p1 = T.initialize_parameters(2, 3, 1)
    p1["b1"] += 1e-3
    shifted = T.gradient_check(X, Y, p1)
    print("Gradient Check with b1 = 1e-3:", {k: f"{v:.2e}" for k, v in shifted.items()})
    return {"predictions": A2.ravel().tolist(), "worst_vs_chainrule": worst, "gradient_check": check,
            "kinks": report.kinks, "explain_ok": report.ok, "shifted_check": shifted}


if __name__ == "__main__":
    main()
