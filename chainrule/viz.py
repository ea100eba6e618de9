"""Figures with matplotlib (the optional 'cli' extra): loss/accuracy curves and decision boundaries."""
import numpy as np


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'chainrule[cli]'") from None
    return plt


def plot_loss_curve(history, path, title="Training"):
    """Loss (left axis) and training accuracy (right axis) per epoch."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], color="tab:blue", label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss", color="tab:blue")
    ax.set_yscale("log" if min(history["loss"]) > 0 else "linear")
    if history.get("accuracy"):
        ax2 = ax.twinx()
        ax2.plot(epochs, history["accuracy"], color="tab:orange", label="train accuracy")
        ax2.set_ylabel("accuracy", color="tab:orange")
        ax2.set_ylim(0, 1.02)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_decision_boundary(predict, X, y, path, title="Decision boundary", resolution=200):
    """Colour the plane by predict(points) for 2-D data and scatter the samples on top."""
    plt = _plt()
    X = np.asarray(X)
    if X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: needs 2-D inputs, got {X.shape[1]} features")
    pad = 0.5
    x0, x1 = X[:, 0].min() - pad, X[:, 0].max() + pad
    y0, y1 = X[:, 1].min() - pad, X[:, 1].max() + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    zz = np.asarray(predict(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(gx, gy, zz, alpha=0.3, cmap="coolwarm", levels=np.arange(zz.max() + 2) - 0.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=10, edgecolors="k", linewidths=0.2)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
