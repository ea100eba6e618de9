"""Model files: safetensors round trips, atomic writes, clear errors for truncated, corrupt or foreign files."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("safetensors", reason="model files need safetensors: pip install -e '.[test]'")
import chainrule as cr  # noqa: E402


def _model():
    cr.manual_seed(0)
    return cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))


def test_module_round_trip(tmp_path):
    m = _model()
    cr.save(m.state_dict(), tmp_path / "m.safetensors")
    m2 = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))
    m2.load_state_dict(cr.load(tmp_path / "m.safetensors"))
    x = cr.randn(5, 3)
    np.testing.assert_array_equal(m(x).detach().numpy(), m2(x).detach().numpy())


def test_optimizer_round_trip(tmp_path):
    m = _model()
    opt = cr.optim.Adam(m.parameters(), lr=0.01, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        m(cr.randn(4, 3)).pow(2).mean().backward()
        opt.step()
    cr.save(opt.state_dict(), tmp_path / "o.safetensors")
    opt2 = cr.optim.Adam(m.parameters(), lr=0.5)
    opt2.load_state_dict(cr.load(tmp_path / "o.safetensors"))
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for p in m.parameters():
        for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_array_equal(opt.state[p][k], opt2.state[p][k])
        assert opt2.state[p]["step"] == 3


def test_truncated_file(tmp_path):
    path = tmp_path / "m.safetensors"
    cr.save(_model().state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[:-20])
    with pytest.raises(cr.ModelFileError, match="truncated"):
        cr.load(path)
    path.write_bytes(data[:5])
    with pytest.raises(cr.ModelFileError, match="truncated"):
        cr.load(path)


def test_corrupt_and_foreign_files(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((20).to_bytes(8, "little") + b"{not json at all!!!}" + b"\0" * 10)
    with pytest.raises(cr.ModelFileError, match="corrupt header"):
        cr.load(bad)
    pkl = tmp_path / "model.pt"
    pkl.write_bytes(b"\x80\x04\x95" + b"\0" * 64)
    with pytest.raises(cr.ModelFileError, match="pickle"):
        cr.load(pkl)
    with pytest.raises(cr.ModelFileError, match="does not exist"):
        cr.load(tmp_path / "missing.safetensors")


def test_no_pickle_ever():
    import pickle
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(cr.nn.Linear(2, 2).weight)


def test_load_state_dict_errors_list_keys_and_shapes():
    m = _model()
    sd = m.state_dict()
    sd.pop("2.bias")
    sd["extra"] = cr.zeros(1)
    with pytest.raises(cr.ShapeError, match=r"missing keys \['2.bias'\].*unexpected keys \['extra'\]"):
        m.load_state_dict(sd)
    sd = _model().state_dict()
    sd["0.weight"] = cr.zeros(5, 3)
    with pytest.raises(cr.ShapeError, match=r"0.weight: checkpoint \(5, 3\) vs model \(4, 3\)"):
        m.load_state_dict(sd)


def test_writer_killed_mid_save_leaves_old_file_intact(tmp_path):
    path = tmp_path / "big.safetensors"
    cr.save({"w": cr.ones(10)}, path)
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import os, sys, chainrule as cr, chainrule.io as io
        real_fsync = os.fsync
        def slow_fsync(fd):
            sys.stdout.write("writing\\n"); sys.stdout.flush()
            import time; time.sleep(30)
        os.fsync = slow_fsync
        cr.save({{"w": cr.zeros(2_000_000)}}, {str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"writing"   # the new data is in the temporary file, not yet renamed
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(cr.load(path)["w"].numpy(), np.ones(10, np.float32))
    leftovers = [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]
    assert len(leftovers) <= 1   # at most the dead writer's temporary file, never a half-written target


def test_training_checkpoint_round_trip_resumes_identically(tmp_path):
    """The PyTorch idiom save({"model": ..., "optimizer": ..., "epoch": ...}): nested state dicts and plain values
    come back with their types (int keys, tuples, None, floats), and training resumes on the same path."""
    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            cr.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    x, y = cr.randn(8, 3), cr.randn(8, 2)
    m, opt = _model(), None
    opt = cr.optim.Adam(m.parameters(), lr=0.01, betas=(0.8, 0.9))
    train(m, opt, 3)
    ckpt = {"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "best": 0.25, "note": "warm",
            "history": [1.5, 0.5], "shape": (2, 3), "nothing": None}
    cr.save(ckpt, tmp_path / "ckpt.safetensors")
    back = cr.load(tmp_path / "ckpt.safetensors")
    assert {k: back[k] for k in ("epoch", "best", "note", "history", "shape", "nothing")} == \
        {"epoch": 3, "best": 0.25, "note": "warm", "history": [1.5, 0.5], "shape": (2, 3), "nothing": None}
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.9) and 0 in back["optimizer"]["state"]
    m2 = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))
    m2.load_state_dict(back["model"])
    opt2 = cr.optim.Adam(m2.parameters(), lr=0.01)
    opt2.load_state_dict(back["optimizer"])
    train(m, opt, 2)
    train(m2, opt2, 2)
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.numpy() if not p.requires_grad else p.detach().numpy(), q.detach().numpy())


def test_saving_objects_instead_of_state_dicts_says_what_to_do(tmp_path):
    with pytest.raises(TypeError, match=r"got a Sequential\. chainrule saves state dicts, never pickled objects"):
        cr.save(_model(), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="save: model is a Sequential; save its .state_dict"):
        cr.save({"model": _model()}, tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="save: cb is a function; a saved dict holds tensors, numbers"):
        cr.save({"cb": lambda: 0}, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
