"""Text 004, "Automatic Differentiation (How PyTorch Does It)": nn.Sequential(Linear(784, 128), ReLU,
Linear(128, 10)), Adam(1e-3), CrossEntropyLoss, the standard loop — on scikit-learn's 8×8 digits scaled up to
28×28 = 784 pixels (nearest-neighbour upsampling), or on synthetic 784-pixel prototypes without scikit-learn."""
import numpy as np

import chainrule as torch
import chainrule.nn as nn


def load_digits_784(seed=0):
    try:
        from sklearn.datasets import load_digits
        d = load_digits()
        img = d.images / 16.0
        big = np.pad(np.kron(img, np.ones((1, 3, 3))), ((0, 0), (2, 2), (2, 2)))   # 8×8 → 24×24 → 28×28
        X, y, source = big.reshape(len(big), 784).astype(np.float32), d.target, "scikit-learn digits, 28×28"
    except ImportError:
        rng = np.random.default_rng(seed)
        protos = rng.random((10, 784)) > 0.7
        y = rng.integers(0, 10, 2000)
        X = (protos[y] ^ (rng.random((2000, 784)) > 0.92)).astype(np.float32)
        source = "synthetic 784-pixel prototypes"
    perm = np.random.default_rng(seed).permutation(len(y))
    return X[perm], y[perm], source


def main(epochs=8):
    X, y, source = load_digits_784()
    n_test = len(y) // 5
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    dataloader = torch.data.DataLoader(torch.data.TensorDataset(torch.tensor(X[n_test:]), torch.tensor(y[n_test:])),
                                       batch_size=32, shuffle=True)
    for _ in range(epochs):
        for X_b, y_b in dataloader:
            optimizer.zero_grad()              # clear previous gradients
            logits = model(X_b)                # forward pass
            loss = criterion(logits, y_b)      # compute loss
            loss.backward()                    # backpropagation (computes all gradients)
            optimizer.step()                   # update weights using computed gradients
    with torch.no_grad():
        acc = float((model(torch.tensor(X[:n_test])).argmax(1).numpy() == y[:n_test]).mean())
    print(f"{source}: test accuracy {acc:.1%} after {epochs} epochs")
    return {"accuracy": acc, "source": source}


if __name__ == "__main__":
    main()
