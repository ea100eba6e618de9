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


def plot_gradient_flow(history, path, title="Gradient flow per layer"):
    """Per-layer gradient norm (log scale) over training: the first-vs-last layer gap shows vanishing gradients."""
    plt = _plt()
    G = np.array(history["grad_norm"], dtype=np.float64)
    names = history["layers"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    with np.errstate(all="ignore"):
        med = np.nanmedian(np.where(np.isfinite(G), G, np.nan), axis=0)
    ax1.bar(range(len(names)), np.maximum(med, 1e-30), color="tab:blue")
    ax1.set_yscale("log")
    ax1.set_xticks(range(len(names)))
    ax1.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
    ax1.set_xlabel("layer (input → output)")
    ax1.set_ylabel("median ‖∂L/∂W‖")
    ax1.set_title(title)
    for j, n in enumerate(names):
        ax2.plot(np.maximum(G[:, j], 1e-30), label=n)
    ax2.set_yscale("log")
    ax2.set_xlabel("step")
    ax2.set_ylabel("‖∂L/∂W‖")
    ax2.set_title("gradient norm over steps")
    if len(names) <= 12:
        ax2.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def to_dot(output, names=None, max_values=16):
    """The recorded graph behind `output` in Graphviz DOT: op nodes with their names and shapes, leaves with
    names, values for small tensors and gradients where .grad is set. Needs no Graphviz binary to produce."""
    names = {id(t): n for n, t in (names or {}).items()}
    lines = ["digraph chainrule {", '  rankdir="LR"; node [fontname="monospace", fontsize=10];']
    seen, stack = set(), [output.grad_fn] if output.grad_fn is not None else []

    def leaf_label(t):
        n = names.get(id(t), "leaf")
        text = f"{n}\\n{tuple(t.shape)}"
        if t.numel() <= max_values:
            text += f"\\n{np.array2string(t._data, precision=3, separator=',')}"
        if t.grad is not None and t.grad.numel() <= max_values:
            text += f"\\ngrad {np.array2string(t.grad._data, precision=3, separator=',')}"
        return text
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        freed = "\\n(freed: use retain_graph=True)" if node.inputs is None else ""
        lines.append(f'  n{id(node)} [shape=box, label="{node.name()}{freed}"];')
        for t in node.inputs or ():
            if t.grad_fn is not None:
                lines.append(f"  n{id(t.grad_fn)} -> n{id(node)};")
                stack.append(t.grad_fn)
            else:
                lines.append(f'  t{id(t)} [shape=ellipse, label="{leaf_label(t)}"];')
                lines.append(f"  t{id(t)} -> n{id(node)};")
    lines.append(f'  out [shape=doublecircle, label="output\\n{tuple(output.shape)}"];')
    if output.grad_fn is not None:
        lines.append(f"  n{id(output.grad_fn)} -> out;")
    lines.append("}")
    return "\n".join(lines)
