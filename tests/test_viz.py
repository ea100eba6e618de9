"""Pictures from real data: files written, non-empty, the right content drawn."""
import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="figures need matplotlib (pip install -e '.[test]')")
import chainrule as cr  # noqa: E402
from chainrule import training as T, viz  # noqa: E402


def _png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    return data


def test_graph_small_with_values(tmp_path):
    x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    viz.plot_graph(f, tmp_path / "g.png", names={"x": x, "y": y, "z": z})
    _png(tmp_path / "g.png")
    nodes, edges = viz._graph(f, {"x": x, "y": y, "z": z}, None)
    labels = {v["label"] for v in nodes.values()}
    assert {"x", "y", "z", "Add", "Mul", "output"} <= labels
    grads = sorted(g for _, _, g, _ in edges if g is not None)
    assert grads == [1.0, 3.0, 4.0, 4.0, 4.0]   # out, |df/dz|, |df/dq|, |df/dx|, |df/dy| along their edges


def test_graph_collapsed_by_module_and_vanished_edges(tmp_path):
    cr.manual_seed(0)
    model = T.build_mlp([2] + [16] * 10 + [1], "sigmoid")
    out = model(cr.randn(8, 2)).sum()
    nodes, edges = viz._graph(out, None, model)
    viz.plot_graph(out, tmp_path / "deep.png", model=model, collapse_modules=True)
    _png(tmp_path / "deep.png")
    finite = [g for _, _, g, _ in edges if g]
    assert min(finite) < 1e-6 * max(finite) or max(finite) / min(finite) > 1e3   # a vanishing path exists to draw


def test_graph_marks_nan_edges(tmp_path):
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    y = cr.where(x > 0, x.sqrt(), cr.zeros_like(x)).sum()
    nodes, edges = viz._graph(y, {"x": x}, None)
    assert any(g is not None and not np.isfinite(g) for _, _, g, _ in edges)
    viz.plot_graph(y, tmp_path / "nan.png", names={"x": x})
    _png(tmp_path / "nan.png")


def test_gradient_flow_and_histograms_from_a_monitor(tmp_path):
    cr.manual_seed(0)
    model = T.build_mlp([2, 8, 8, 1])
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    mon = cr.diagnose.GradientMonitor(model, interval=2)
    for _ in range(10):
        opt.zero_grad()
        loss = (model(cr.randn(16, 2)) ** 2).mean()
        loss.backward()
        opt.step()
        mon.step(loss)
    viz.plot_gradient_flow(mon.history, tmp_path / "flow.png")
    viz.plot_gradient_histograms(mon.history, tmp_path / "hist.png")
    _png(tmp_path / "flow.png")
    _png(tmp_path / "hist.png")
    assert len(mon.history["grad_hist"]["model.0"]) == 5


def test_train_writes_all_pictures(tmp_path):
    from chainrule.cli import main
    assert main(["train", "--diagnose", "--epochs", "3", "--out", str(tmp_path), "--name", "p", "--quiet"]) == 0
    for name in ("loss_curve.png", "decision_boundary.png", "gradient_flow.png", "gradient_histograms.png",
                 "graph.png"):
        _png(tmp_path / "p" / name)
    assert (tmp_path / "p" / "graph.dot").read_text().startswith("digraph")


def test_every_figure_has_labelled_axes(tmp_path, monkeypatch):
    """Capture each figure as it is saved and check that its plotting axes carry labels."""
    import matplotlib.figure
    saved = []
    real = matplotlib.figure.Figure.savefig

    def spy(fig, path, *a, **k):
        saved.append((str(path), [(ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) for ax in fig.axes
                                  if ax.get_label() != "<colorbar>"]))
        return real(fig, path, *a, **k)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    from chainrule.cli import main
    assert main(["train", "--diagnose", "--epochs", "3", "--out", str(tmp_path), "--name", "ax", "--quiet"]) == 0
    names = {p.rsplit("/", 1)[-1] for p, _ in saved}
    assert {"loss_curve.png", "decision_boundary.png", "gradient_flow.png", "gradient_histograms.png",
            "graph.png"} <= names
    for path, axes in saved:
        assert axes, path
        for xlabel, ylabel, title in axes:
            assert xlabel or ylabel or title, f"{path}: an axis without any label"
        assert any(x and (y or "graph" in path) for x, y, _ in axes), f"{path}: no labelled x and y axes"
