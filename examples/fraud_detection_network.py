"""Text 003, Example 3 (Paytm fraud detection): 15 features → 8 ReLU → 1 sigmoid, trained by backprop on a
synthetic, imbalanced transaction data set (the real data is not public). Prints the forward/backward quantities
the example names (dZ² = a − y for a fraud sample) and the accuracy and recall reached."""
import numpy as np

import chainrule as cr
import chainrule.nn as nn


def make_transactions(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 15))
    # fraud is likelier with a high amount, a late hour and a new merchant (features 0, 1, 2)
    score = 1.8 * X[:, 0] + 1.4 * X[:, 1] + 1.2 * X[:, 2] + 0.3 * X[:, 3:6].sum(1) - 3.0
    y = (rng.random(n) < 1 / (1 + np.exp(-score))).astype(np.float32)
    return X.astype(np.float32), y.reshape(-1, 1)


def main(epochs=40):
    X, y = make_transactions()
    Xtr, ytr, Xte, yte = X[:3200], y[:3200], X[3200:], y[3200:]
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(15, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.BCELoss()
    loader = cr.data.DataLoader(cr.data.TensorDataset(cr.tensor(Xtr), cr.tensor(ytr)), batch_size=64, shuffle=True)
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    with cr.no_grad():
        p = model(cr.tensor(Xte)).numpy()
    pred = p > 0.5
    acc = float((pred == (yte > 0.5)).mean())
    recall = float(pred[yte > 0.5].mean())
    fraud = Xte[(yte > 0.5)[:, 0]][:1]
    a = model(cr.tensor(fraud))
    print(f"one fraud sample: a = {a.item():.3f}, dZ2 = a - y = {a.item() - 1:.3f} (pushes the prediction up)")
    print(f"test accuracy {acc:.1%}, fraud recall {recall:.1%}, fraud rate {float(yte.mean()):.1%}")
    return {"accuracy": acc, "recall": recall, "base_rate": float(yte.mean())}


if __name__ == "__main__":
    main()
