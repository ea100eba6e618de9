"""A small CNN learns scikit-learn's 8×8 digits to ≥ 97 % test accuracy (well under a minute)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

sklearn = pytest.importorskip("sklearn", reason="the digits data set needs scikit-learn")


def test_cnn_on_digits_reaches_97_percent():
    from sklearn.datasets import load_digits
    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target
    perm = np.random.default_rng(0).permutation(len(y))
    X, y = X[perm], y[perm]
    Xtr, ytr, Xte, yte = X[360:], y[360:], X[:360], y[:360]
    cr.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                          nn.Linear(128, 10))
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    loader = cr.data.DataLoader(cr.data.TensorDataset(cr.tensor(Xtr), cr.tensor(ytr)), batch_size=64, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(12):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    model.eval()
    with cr.no_grad():
        acc = float((model(cr.tensor(Xte)).argmax(1).numpy() == yte).mean())
    assert acc >= 0.97, acc
