"""Figures with matplotlib (the optional 'cli' extra): loss/accuracy curves and decision boundaries."""
import numpy as np


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install chainrule (it is a dependency)") from None
    return plt


def _save(plt, fig, path):
    """Lay out, write as PNG, close (so figures do not pile up in long runs); returns path."""
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


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
    return _save(plt, fig, path)


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
    return _save(plt, fig, path)


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
    return _save(plt, fig, path)


def to_dot(output, names=None, max_values=16, model=None):
    """The recorded graph behind `output` in Graphviz DOT: op nodes with their names and shapes, leaves with
    names, values for small tensors and gradients where .grad is set. Needs no Graphviz binary to produce."""
    names = {id(t): n for n, t in (names or {}).items()}
    if model is not None:
        names.update({id(p): n for n, p in model.named_parameters()})
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


def _graph(output, names, model):
    """Nodes, edges and per-edge gradient norms of the graph behind `output` (runs a capturing backward)."""
    from .autograd import engine
    from .autograd.grad_mode import STATE
    from .tensor import Tensor
    if output.grad_fn is None:
        raise ValueError("plot_graph: the output has no recorded graph")
    if output.grad_fn.inputs is None:
        raise ValueError("plot_graph: the graph was freed by backward; call backward(retain_graph=True) first, "
                         "or draw before backward")
    names = {id(t): n for n, t in (names or {}).items()}
    owner = {}
    if model is not None:
        for mname, m in model.named_modules():
            for pname, p in m._parameters.items():
                if p is not None:
                    names.setdefault(id(p), f"{mname}.{pname}" if mname else pname)
                    owner[id(p)] = mname or type(m).__name__
    grad_of = {}

    class Rec:
        def on_forward(self, *a):
            pass

        def on_backward(self, node, gout, gin):
            for t, g in zip(node.inputs, gin):
                if g is not None:
                    grad_of[(id(node), id(t))] = float(np.sqrt(np.sum(np.square(g._data.astype(np.float64)))))
    prev = STATE.observers
    STATE.observers = prev + (Rec(),)
    try:
        with np.errstate(all="ignore"):
            engine.run_backward([output], [Tensor._wrap(np.ones_like(output._data))], True, False, capture={})
    finally:
        STATE.observers = prev
    nodes, edges, seen, stack = {}, [], set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        group = None
        for t in node.inputs:
            if t.grad_fn is None and id(t) in owner:
                group = owner[id(t)]
        nodes[id(node)] = {"label": type(node).__name__, "kind": "op", "group": group,
                           "shape": None}
        for t in node.inputs:
            src = id(t.grad_fn) if t.grad_fn is not None else id(t)
            if t.grad_fn is None:
                label = names.get(id(t), "const" if not t.requires_grad else "leaf")
                nodes[id(t)] = {"label": label, "kind": "leaf", "group": owner.get(id(t)),
                                "shape": tuple(t.shape), "value": t._data if t.numel() == 1 else None}
            else:
                stack.append(t.grad_fn)
            edges.append((src, id(node), grad_of.get((id(node), id(t))), tuple(t.shape)))
    nodes["out"] = {"label": "output", "kind": "out", "group": None, "shape": tuple(output.shape)}
    edges.append((id(output.grad_fn), "out", 1.0, tuple(output.shape)))
    return nodes, edges


def plot_graph(output, path, names=None, model=None, collapse_modules=False, max_nodes=120):
    """Draw the computation graph with matplotlib (no Graphviz needed): op and leaf nodes with names and shapes,
    edges coloured by the size of the gradient flowing back along them (log scale), edges where the gradient
    vanished (< 1e-6 of the largest) drawn dashed red and NaN/Inf edges thick magenta. collapse_modules=True
    merges the ops that use a module's parameters into one box per module, so a real network stays readable."""
    plt = _plt()
    from matplotlib import cm, colors
    nodes, edges = _graph(output, names, model)
    if collapse_modules:
        rep = {k: f"module:{v['group']}" if v["group"] else k for k, v in nodes.items()}
        merged = {}
        for k, v in nodes.items():
            r = rep[k]
            if r not in merged:
                merged[r] = dict(v) if not v["group"] else {"label": v["group"], "kind": "module", "group": v["group"],
                                                           "shape": None}
        new_edges = {}
        for a, b, g, shp in edges:
            ra, rb = rep[a], rep[b]
            if ra != rb:
                new_edges[(ra, rb)] = (g if g is not None else 0.0, shp)
        nodes, edges = merged, [(a, b, g, s) for (a, b), (g, s) in new_edges.items()]
    if len(nodes) > max_nodes:
        raise ValueError(f"plot_graph: {len(nodes)} nodes is too many to draw; pass collapse_modules=True and "
                         f"model=... or export with to_dot()")
    depth = {k: 0 for k in nodes}
    for _ in range(len(nodes)):
        changed = False
        for a, b, _, _ in edges:
            if depth[b] < depth[a] + 1:
                depth[b] = depth[a] + 1
                changed = True
        if not changed:
            break
    cols = {}
    for k, d in sorted(depth.items(), key=lambda kv: kv[1]):
        cols.setdefault(d, []).append(k)
    pos = {k: (d, i - (len(ks) - 1) / 2) for d, ks in cols.items() for i, k in enumerate(ks)}
    finite = [g for _, _, g, _ in edges if g is not None and np.isfinite(g) and g > 0]
    gmax = max(finite, default=1.0)
    norm = colors.LogNorm(vmin=max(min(finite, default=1e-8), gmax * 1e-8), vmax=gmax)
    cmap = cm.viridis
    width = max(6, 1.6 * (max(depth.values()) + 1))
    height = max(3, 0.9 * max(len(v) for v in cols.values()))
    fig, ax = plt.subplots(figsize=(width, height))
    for a, b, g, shp in edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        if g is None:
            style = dict(color="lightgray", lw=1)
        elif not np.isfinite(g):
            style = dict(color="magenta", lw=3)
        elif g < gmax * 1e-6:
            style = dict(color="red", lw=1.5, ls="--")
        else:
            style = dict(color=cmap(norm(g)), lw=2)
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="->", shrinkA=14, shrinkB=14,
                                                                       **style))
    face = {"op": "#dde7f7", "leaf": "#e8f5e1", "out": "#fbe3c8", "module": "#f1e0f7"}
    for k, (x, y) in pos.items():
        v = nodes[k]
        text = v["label"]
        if v.get("shape") is not None and v["kind"] != "op":
            text += f"\n{v['shape']}"
        if v.get("value") is not None:
            text += f"\n= {float(np.asarray(v['value']).reshape(())):.4g}"
        ax.text(x, y, text, ha="center", va="center", fontsize=7,
                bbox=dict(boxstyle="round", fc=face.get(v["kind"], "white"), ec="gray"))
    sm = cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="‖gradient‖ flowing back along the edge")
    ax.set_xlim(-0.7, max(depth.values()) + 0.7)
    ax.set_ylim(min(p[1] for p in pos.values()) - 0.8, max(p[1] for p in pos.values()) + 0.8)
    ax.set_xlabel("forward →   (red dashed: vanished gradient, magenta: NaN/Inf)")
    ax.set_yticks([])
    ax.set_title("computation graph")
    return _save(plt, fig, path)


def plot_gradient_histograms(history, path, title="Gradient histograms over time"):
    """log₁₀|g| histograms per layer at the monitor's sampled steps (history['grad_hist'])."""
    plt = _plt()
    hists = history.get("grad_hist") or {}
    if not hists:
        raise ValueError("plot_gradient_histograms: the monitor recorded no histograms")
    names = list(hists)
    fig, axes = plt.subplots(1, len(names), figsize=(3 * len(names), 3), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], names):
        steps = [s for s, _ in hists[name]]
        mat = np.array([h for _, h in hists[name]])
        ax.imshow(mat.T, aspect="auto", origin="lower", extent=[steps[0], steps[-1] + 1, -12, 2], cmap="magma")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("step")
    axes[0][0].set_ylabel("log₁₀ |∂L/∂w|")
    fig.suptitle(title)
    return _save(plt, fig, path)
