"""The diagnosing gradcheck: float32 cast with a warning, step-size sweep, kinks vs mismatches, worst pairs."""
import numpy as np
import pytest

import chainrule as cr
from helpers import BadSquare
from chainrule.cli import main


def test_kink_at_relu_zero_is_not_a_mismatch():
    x = cr.tensor([0.0, 1.0, -2.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.GradcheckError):
        cr.autograd.gradcheck(cr.relu, [x])          # plain gradcheck: a false mismatch at the kink
    report = cr.autograd.explain_gradcheck(cr.relu, [x])
    assert report.ok and len(report.kinks) == 1
    assert "left derivative 0, right 1" in str(report) and "valid subgradient" in str(report)


def test_tie_in_max_is_a_kink():
    x = cr.tensor([2.0, 2.0, 1.0], dtype=cr.float64, requires_grad=True)
    report = cr.autograd.explain_gradcheck(lambda v: cr.max(v, dim=0).values, [x])
    assert report.ok and report.kinks


def test_step_size_sweep_tells_truncation_from_rounding():
    x = cr.tensor([0.7, -1.3], dtype=cr.float64, requires_grad=True)
    report = cr.autograd.explain_gradcheck(lambda v: (v.exp() * v.sin()).sum(), [x])
    errs = dict(report.sweep)
    assert errs[1e-2] > errs[1e-6] < errs[1e-10]
    assert report.best_eps in (1e-6, 1e-4, 1e-8)
    assert "truncation" in str(report) and "rounding" in str(report)


def test_float32_cast_warning_and_real_mismatch_reported():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="not float64"):
        with pytest.raises(cr.GradcheckError, match=r"mismatch: d output\[1\] / d input 0\[1\]: analytical 2"):
            cr.autograd.gradcheck(BadSquare.apply, [x], explain=True)


def test_check_model_cli(tmp_path, capsys):
    f = tmp_path / "mymodel.py"
    f.write_text("import chainrule as cr, chainrule.nn as nn\ncr.manual_seed(0)\n"
                 "model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))\n"
                 "batch = (cr.randn(5, 3), cr.tensor([0, 1, 1, 0, 1]))\n")
    assert main(["check", "--model", str(f)]) == 0
    out = capsys.readouterr().out
    assert "4 parameter tensors, 26 entries" in out and "PASS" in out
    bad = tmp_path / "nomodel.py"
    bad.write_text("x = 1\n")
    assert main(["check", "--model", str(bad)]) == 2


def test_figures_and_dot(tmp_path):
    pytest.importorskip("matplotlib", reason="figures need matplotlib")
    from chainrule import viz
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([0.5, -1.0], requires_grad=True)
    y = (x * w).sum().sigmoid()
    y.backward(retain_graph=True)
    dot = viz.to_dot(y, {"x": x, "w": w})
    assert dot.startswith("digraph") and "MulBackward" in dot and "SigmoidBackward" in dot and "grad" in dot
    hist = {"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.7, 0.9]}
    viz.plot_loss_curve(hist, tmp_path / "loss.png")
    viz.plot_decision_boundary(lambda P: (P[:, 0] > 0).astype(int), np.random.default_rng(0).normal(size=(50, 2)),
                               np.arange(50) % 2, tmp_path / "db.png")
    for name in ("loss.png", "db.png"):
        assert (tmp_path / name).stat().st_size > 5000
