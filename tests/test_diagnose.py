"""Proof by construction: each pathology is reported with its layer and numbers, a healthy run raises no false
alarm, and applying the advised fix makes the finding go away."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule import training as T
from chainrule.data import datasets

X, Y = datasets.moons(512, 0.2, seed=0)
X = (X - X.mean(0)) / X.std(0)


def run(model, lr=0.01, opt="adam", steps=60, clip=None):
    o = T.make_optimizer(opt, model.parameters(), lr)
    xb, yb = cr.tensor(X.astype(np.float32)), cr.tensor(Y.reshape(-1, 1).astype(np.float32))
    loss_fn = nn.BCEWithLogitsLoss()
    with cr.diagnose.GradientMonitor(model) as mon, np.errstate(all="ignore"):
        for i in range(steps):
            idx = np.random.default_rng(i).choice(len(Y), 64)
            o.zero_grad()
            loss = loss_fn(model(xb[idx]), yb[idx])
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            o.step()
            mon.step(loss)
    return mon.report()


def test_healthy_moons_run_has_no_findings():
    cr.manual_seed(0)
    report = run(T.build_mlp([2, 16, 16, 1]))
    assert not report.findings, str(report)
    assert "healthy" in str(report)


def test_vanishing_gradients_named_at_first_layer_and_fixed_by_relu_he():
    cr.manual_seed(0)
    report = run(T.build_mlp([2] + [32] * 10 + [1], "sigmoid", init="xavier"))
    f = [f for f in report.findings if f.kind == "vanishing"]
    assert f and f[0].layer == "model.0" and "ReLU" in f[0].advice and "He" in f[0].advice
    cr.manual_seed(0)
    assert "vanishing" not in run(T.build_mlp([2] + [32] * 10 + [1], "relu", init="he")).kinds()


def test_exploding_gradients_with_large_lr_and_fixed_by_clipping():
    cr.manual_seed(0)
    report = run(T.build_mlp([2] + [64] * 8 + [1], "relu", init="he"), lr=1.0, opt="sgd")
    assert {"exploding", "non_finite"} <= report.kinds()
    assert "clip" in next(f for f in report.findings if f.kind == "exploding").advice
    cr.manual_seed(0)
    fixed = run(T.build_mlp([2] + [64] * 8 + [1], "relu", init="he"), lr=0.01, opt="sgd", clip=1.0)
    assert not fixed.kinds() & {"exploding", "non_finite"}


def test_dead_relus_from_negative_bias_and_fixed_by_zero_bias():
    cr.manual_seed(0)
    m = T.build_mlp([2, 16, 16, 1])
    with cr.no_grad():
        for layer in m:
            if isinstance(layer, nn.Linear) and layer.out_features == 16:
                layer.bias.fill_(-10.0)
    report = run(m)
    dead = [f for f in report.findings if f.kind == "dead_relu"]
    assert dead and dead[0].layer == "model.1" and "100%" in dead[0].evidence and "LeakyReLU" in dead[0].advice
    cr.manual_seed(0)
    assert "dead_relu" not in run(T.build_mlp([2, 16, 16, 1])).kinds()


def test_learning_rate_too_low():
    cr.manual_seed(0)
    report = run(T.build_mlp([2, 16, 16, 1]), lr=1e-7, opt="sgd")
    assert "lr_too_low" in report.kinds()
    cr.manual_seed(0)
    assert "lr_too_low" not in run(T.build_mlp([2, 16, 16, 1]), lr=0.01).kinds()


def test_saturated_sigmoid_units():
    cr.manual_seed(0)
    m = T.build_mlp([2, 16, 16, 1], "sigmoid")
    with cr.no_grad():
        m[0].weight.mul_(60.0)
    assert "saturated" in run(m, lr=1e-4).kinds()


def test_report_renders_text_dict_and_figure(tmp_path):
    pytest.importorskip("matplotlib", reason="figures need matplotlib")
    cr.manual_seed(0)
    report = run(T.build_mlp([2] + [32] * 6 + [1], "sigmoid"), steps=20)
    d = report.as_dict()
    assert d["findings"] and {"kind", "layer", "evidence", "advice"} <= set(d["findings"][0])
    path = report.figure(tmp_path / "flow.png")
    assert (tmp_path / "flow.png").stat().st_size > 5000


def test_monitor_samples_cover_every_column_and_histograms_match_numpy():
    from chainrule.diagnose import monitor as mon
    w = np.arange(512 * 784, dtype=np.float64).reshape(512, 784)
    s = mon._sample(w)
    assert 0.5 * mon.SAMPLE <= s.size <= mon.SAMPLE and np.shares_memory(s, w)   # a view, about SAMPLE entries
    assert len(np.unique(s.astype(np.int64) % 784)) == 784   # every input column is represented
    rng = np.random.default_rng(0)
    layers = [np.abs(rng.standard_normal(300) * 10.0 ** rng.uniform(-15, 5, 300)),
              np.array([np.nan, 1e-12, 100.0, 1e5, 0.0, np.inf, 10 ** 1.99]), np.abs(rng.standard_normal(5))]
    with np.errstate(all="ignore"):
        got = mon._log_histograms([a.copy() for a in layers])
        for a, h in zip(layers, got):
            lg = np.log10(a + 1e-30)
            want = np.histogram(np.clip(lg[~np.isnan(lg)], -12, 2), 28, (-12, 2))[0]
            np.testing.assert_array_equal(h, want)


def test_monitor_records_activations_only_on_sampled_steps_and_detaches():
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    x = cr.randn(16, 3)
    monitor = cr.diagnose.GradientMonitor(model, interval=4)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(9):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        monitor.step(loss)
    assert [s["step"] for s in monitor.history["activations"]["1"]] == [0, 4, 8]
    wn = np.array(monitor.history["weight_norm"], dtype=float)
    assert np.isfinite(wn[[0, 4, 8]]).all() and np.isnan(np.delete(wn, [0, 4, 8], 0)).all()
    ur = np.array(monitor.history["update_ratio"], dtype=float)
    assert np.isfinite(ur[[4, 8]]).all() and (ur[[4, 8]] > 0).all()
    monitor.remove()
    assert not model[1]._forward_hooks
