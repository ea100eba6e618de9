"""The command line: the main job on its default, flags, one-line errors, evaluate and predict."""
import json
import os
import subprocess
import sys

import pytest

from chainrule.cli import main

pytest.importorskip("safetensors", reason="chainrule train writes safetensors files: pip install -e '.[test]'")


def test_train_default_main_job(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--name", "lab", "--quiet"]) == 0
    run = tmp_path / "lab"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.95 and metrics["sizes"] == [2, 16, 16, 1] and metrics["data"] == "moons"
    assert metrics["seconds"] < 60
    assert (run / "model.safetensors").stat().st_size > 0
    for png in ("loss_curve.png", "decision_boundary.png"):
        if (run / png).exists():
            assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "test accuracy" in out
    assert main(["evaluate", str(run)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert main(["predict", str(run), "--input", "0,0.5", "--input", "1.5,-0.5"]) == 0
    assert capsys.readouterr().out.count("-> class") == 2


@pytest.mark.parametrize("variant", ["batch", "sgd"])
def test_training_variants_run(tmp_path, variant):
    assert main(["train", "--data", "xor", "--variant", variant, "--epochs", "3", "--out", str(tmp_path),
                 "--name", variant, "--quiet", "--no-plots"]) == 0


def test_online_learning_is_one_pass_over_the_stream(tmp_path):
    """Each sample seen once: one epoch of len(train) one-sample updates, and --epochs > 1 a one-line error."""
    import json
    assert main(["train", "--data", "moons", "--variant", "online", "--out", str(tmp_path), "--name", "o",
                 "--quiet", "--no-plots"]) == 0
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["test_accuracy"] > 0.8   # 800 updates, each on a new sample
    r = subprocess.run([sys.executable, "-m", "chainrule", "train", "--variant", "online", "--epochs", "3"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "online sees each sample once" in r.stderr and "--variant sgd" in r.stderr


def test_multiclass_and_options(tmp_path):
    assert main(["train", "--data", "spirals", "--hidden", "32,32", "--optimizer", "momentum", "--lr", "0.05",
                 "--schedule", "cosine", "--clip", "1.0", "--activation", "tanh", "--epochs", "5",
                 "--out", str(tmp_path), "--name", "s", "--quiet", "--no-plots"]) == 0


def test_bad_flags_one_line_error():
    r = subprocess.run([sys.executable, "-m", "chainrule", "train", "--optimizer", "lbfgs"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "invalid choice" in r.stderr
    assert "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "chainrule", "train", "--lr", "-1"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip() == "chainrule train: error: --lr must be positive, got -1.0"


def test_help_documents_flags():
    r = subprocess.run([sys.executable, "-m", "chainrule", "train", "--help"], capture_output=True, text=True)
    for flag in ("--data", "--hidden", "--activation", "--loss", "--optimizer", "--lr", "--schedule", "--epochs",
                 "--variant", "--batch-size", "--clip", "--seed", "--out"):
        assert flag in r.stdout


def test_bad_csv_files(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,x,1\n")
    assert main(["train", "--data", str(bad), "--quiet", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "row 3, column 'b': 'x' is not a number" in err and len(err.strip().splitlines()) == 1
    nolabel = tmp_path / "nolabel.csv"
    nolabel.write_text("a,b\n1,2\n3,4\n")
    assert main(["train", "--data", str(nolabel), "--quiet", "--out", str(tmp_path)]) == 2
    assert "no label column 'label'" in capsys.readouterr().err


def test_good_csv(tmp_path):
    import numpy as np
    from chainrule.data import datasets
    X, y = datasets.moons(200, 0.1, seed=0)
    path = tmp_path / "moons.csv"
    path.write_text("x1,x2,label\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, y)))
    assert main(["train", "--data", str(path), "--epochs", "20", "--out", str(tmp_path), "--name", "csv",
                 "--quiet", "--no-plots"]) == 0
    assert json.loads((tmp_path / "csv" / "metrics.json").read_text())["test_accuracy"] > 0.9


def test_check_command(capsys):
    assert main(["check", "add", "matmul"]) == 0
    assert "2 ops" in capsys.readouterr().out


def test_version():
    r = subprocess.run([sys.executable, "-m", "chainrule", "--version"], capture_output=True, text=True)
    assert r.stdout.strip().startswith("chainrule ")


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
def test_sklearn_datasets(tmp_path, name):
    pytest.importorskip("sklearn", reason="scikit-learn data sets need the 'datasets' extra")
    assert main(["train", "--data", name, "--epochs", "15", "--out", str(tmp_path), "--name", name,
                 "--quiet", "--no-plots"]) == 0
    acc = json.loads((tmp_path / name / "metrics.json").read_text())["test_accuracy"]
    assert acc > 0.85, f"{name}: {acc}"


@pytest.mark.parametrize("model,minimum", [("cnn", 0.9), ("lstm", 0.9), ("transformer", 0.9)])
def test_train_other_model_kinds(tmp_path, model, minimum):
    if model == "cnn":
        pytest.importorskip("sklearn", reason="the digits data set needs scikit-learn")
    assert main(["train", "--model", model, "--epochs", "6", "--lr", "0.003", "--out", str(tmp_path), "--name", model,
                 "--quiet", "--no-plots"]) == 0
    metrics = json.loads((tmp_path / model / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= minimum and (tmp_path / model / "model.safetensors").exists()


def test_train_profile_writes_the_per_op_table(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--profile", "--out", str(tmp_path), "--name", "p", "--no-plots"]) == 0
    table = (tmp_path / "p" / "profile.txt").read_text()
    assert "Self CPU %" in table and "LinearBackward" in table and "Linear " in table
    top = json.loads((tmp_path / "p" / "metrics.json").read_text())["profile"]
    assert len(top) == 10 and {"op", "calls", "self_ms", "total_ms"} <= set(top[0])
    assert top == sorted(top, key=lambda r: r["self_ms"], reverse=True)
    assert "LinearBackward" in capsys.readouterr().out


def test_a_diverging_run_stops_at_the_first_non_finite_loss_and_says_what_to_do(tmp_path, capsys):
    """lr 50 with plain SGD on MSE blows up within a few steps: training stops at the first inf/nan loss (no NumPy
    overflow warning escapes: they are errors in this suite), metrics.json records where, and stderr says what to
    try."""
    import numpy as np
    before = np.geterr()
    assert main(["train", "--lr", "50", "--optimizer", "sgd", "--loss", "mse", "--epochs", "20", "--out",
                 str(tmp_path), "--name", "boom", "--quiet", "--no-plots"]) == 0
    assert np.geterr() == before   # the quiet evaluation of the diverged model ends with the command
    err = capsys.readouterr().err
    assert "training diverged: the loss became" in err and "Lower --lr" in err and "--detect-anomaly" in err
    metrics = json.loads((tmp_path / "boom" / "metrics.json").read_text())
    diverged = metrics["history"]["diverged"]
    assert diverged["epoch"] == 1 and diverged["step"] >= 1 and diverged["lr"] == 50
    assert metrics["epochs"] == 1   # it stopped there, not after 20 epochs of nan


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "momentum", "adam"])
def test_onecycle_schedule_with_every_kind_of_optimizer(tmp_path, optimizer):
    """OneCycleLR cycles the momentum only where the optimizer has one: Adagrad (none) used to be refused, and
    plain SGD would have become momentum SGD."""
    assert main(["train", "--data", "xor", "--schedule", "onecycle", "--optimizer", optimizer, "--epochs", "3",
                 "--out", str(tmp_path), "--name", optimizer, "--quiet", "--no-plots"]) == 0
