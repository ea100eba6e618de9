"""Text 004, "Forward Pass", "Backward Pass" and "Full Two-Layer Network Example": its Linear (x @ W + b, W of
shape (in, out)) and TwoLayerNet (ReLU, softmax + cross-entropy, SGD) next to chainrule's nn.Linear (W of shape
(out, in), as PyTorch) loaded with the same weights: same loss and same gradients, step after step."""
import numpy as np

import chainrule as cr
import chainrule.nn as nn
from textbook_numpy import relative_difference


class Linear:
    def __init__(self, in_dim, out_dim, rng):
        self.W = rng.standard_normal((in_dim, out_dim)) * np.sqrt(2.0 / in_dim)
        self.b = np.zeros(out_dim)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, d_out):
        self.dW = self.x.T @ d_out
        self.db = d_out.sum(axis=0)
        return d_out @ self.W.T


class TwoLayerNet:
    def __init__(self, input_dim, hidden_dim, output_dim, lr=0.01, seed=0):
        rng = np.random.default_rng(seed)
        self.fc1, self.fc2, self.lr = Linear(input_dim, hidden_dim, rng), Linear(hidden_dim, output_dim, rng), lr

    def forward(self, X, y):
        self.z1 = self.fc1.forward(X)
        a1 = np.maximum(0, self.z1)
        z2 = self.fc2.forward(a1)
        e = np.exp(z2 - z2.max(axis=1, keepdims=True))
        self.probs = e / e.sum(axis=1, keepdims=True)
        return -np.sum(y * np.log(self.probs + 1e-8)) / y.shape[0]

    def backward(self, y):
        d_z2 = (self.probs - y) / y.shape[0]
        d_a1 = self.fc2.backward(d_z2)
        self.fc1.backward(d_a1 * (self.z1 > 0))

    def update(self):
        for layer in (self.fc1, self.fc2):
            layer.W -= self.lr * layer.dW
            layer.b -= self.lr * layer.db


def main(steps=5):
    rng = np.random.default_rng(10)
    X, labels = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    Y = np.eye(3)[labels]
    net = TwoLayerNet(6, 5, 3, lr=0.1)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).double()
    with cr.no_grad():
        for ours, theirs in ((model[0], net.fc1), (model[2], net.fc2)):
            ours.weight.copy_(theirs.W.T)
            ours.bias.copy_(theirs.b)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    worst_loss, worst_grad = 0.0, 0.0
    for _ in range(steps):
        loss_text = net.forward(X, Y)
        net.backward(Y)
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(cr.tensor(X)), cr.tensor(labels))
        loss.backward()
        worst_loss = max(worst_loss, abs(loss.item() - loss_text))
        worst_grad = max(worst_grad, relative_difference(model[0].weight.grad.numpy().T, net.fc1.dW),
                         relative_difference(model[2].weight.grad.numpy().T, net.fc2.dW))
        net.update()
        opt.step()
        print(f"loss text {loss_text:.6f}  chainrule {loss.item():.6f}")
    return {"max_loss_difference": worst_loss, "worst_gradient_difference": worst_grad}


if __name__ == "__main__":
    main()
