"""Text 003, §17.2 "Implement Backprop for Softmax + Cross-Entropy": dz = softmax(z) − y ("the beautiful
simplification"), columns as samples — next to chainrule's CrossEntropyLoss gradient (one fused node)."""
import numpy as np

import chainrule as cr
from textbook_numpy import relative_difference


def softmax(z):
    exp_z = np.exp(z - np.max(z, axis=0, keepdims=True))
    return exp_z / np.sum(exp_z, axis=0, keepdims=True)


def softmax_cross_entropy_backward(z, y_onehot):
    m = z.shape[1]
    return (softmax(z) - y_onehot) / m


def main():
    rng = np.random.default_rng(4)
    C, m = 4, 6
    z = rng.standard_normal((C, m)) * 3
    labels = rng.integers(0, C, m)
    dz_text = softmax_cross_entropy_backward(z, np.eye(C)[labels].T)
    zt = cr.tensor(z.T.copy(), requires_grad=True)          # chainrule (like PyTorch) takes rows as samples
    cr.nn.CrossEntropyLoss()(zt, cr.tensor(labels)).backward()
    diff = relative_difference(zt.grad.numpy().T, dz_text)
    print(f"dz from the text vs chainrule: relative difference {diff:.1e}")
    return {"relative_difference": diff}


if __name__ == "__main__":
    main()
