"""Text 001, "Forward Pass Code", "Batch Gradient Descent" and "Complete Backpropagation": the sigmoid 2-layer
network's forward/backward/train_batch (rows are samples; dz2 = y_pred - y for cross-entropy + sigmoid) next to
chainrule's autograd — gradients equal to 1e-12 in float64, and the same loss after each train_batch step."""
import numpy as np

import chainrule as cr
from textbook_numpy import relative_difference, sigmoid


def forward_batch(X, W1, b1, W2, b2):
    z1 = X @ W1 + b1
    h1 = sigmoid(z1)
    z2 = h1 @ W2 + b2
    return sigmoid(z2), h1, z1, z2


def backward(X, y, y_pred, h1, z1, z2, W2):
    m = X.shape[0]
    dz2 = y_pred - y
    dW2 = (1 / m) * np.dot(h1.T, dz2)
    db2 = (1 / m) * np.sum(dz2, axis=0)
    dh1 = np.dot(dz2, W2.T)
    dz1 = dh1 * sigmoid(z1) * (1 - sigmoid(z1))
    dW1 = (1 / m) * np.dot(X.T, dz1)
    db1 = (1 / m) * np.sum(dz1, axis=0)
    return dW2, db2, dW1, db1


def main(steps=5, lr=0.5):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((16, 3)), (rng.random((16, 1)) > 0.5).astype(np.float64)
    W1, b1, W2, b2 = rng.standard_normal((3, 4)), np.zeros(4), rng.standard_normal((4, 1)), np.zeros(1)
    P = [cr.tensor(p.copy(), requires_grad=True) for p in (W1, b1, W2, b2)]
    opt = cr.optim.SGD(P, lr=lr)
    worst = 0.0
    for step in range(steps):
        y_pred, h1, z1, z2 = forward_batch(X, W1, b1, W2, b2)
        hand = dict(zip(["W2", "b2", "W1", "b1"], backward(X, y, y_pred, h1, z1, z2, W2)))
        opt.zero_grad()
        pred = cr.sigmoid(cr.sigmoid(cr.tensor(X) @ P[0] + P[1]) @ P[2] + P[3])
        loss = cr.nn.functional.binary_cross_entropy(pred, cr.tensor(y))
        loss.backward()
        for name, p in zip(["W1", "b1", "W2", "b2"], P):
            worst = max(worst, relative_difference(p.grad.numpy(), hand[name]))
        opt.step()
        W2, b2, W1, b1 = W2 - lr * hand["W2"], b2 - lr * hand["b2"], W1 - lr * hand["W1"], b1 - lr * hand["b1"]
        print(f"step {step}: loss {loss.item():.6f}, worst relative gradient difference so far {worst:.1e}")
    return {"worst_relative_difference": worst}


if __name__ == "__main__":
    main()
