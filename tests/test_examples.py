"""Every example in examples/ runs and its numbers are asserted against the texts' values or the hand-written
NumPy twin it sits next to (each well under 20 s)."""
import importlib
import os
import sys
import time

import numpy as np
import pytest

import chainrule.cli as cli

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
sys.path.insert(0, EXAMPLES)


def run(name, **kw):
    mod = importlib.import_module(name)
    t = time.perf_counter()
    out = mod.main(**kw)
    assert time.perf_counter() - t < 20, f"{name} took too long"
    return out


def test_every_example_is_tested_here_and_cites_its_text():
    with open(__file__) as f:
        me = f.read()
    for name, doc in cli.list_examples():
        assert f'"{name}"' in me, f"examples/{name}.py has no test"
        assert doc.startswith("Text 00"), f"examples/{name}.py must start by citing its text"


def test_example1_chain_rule():
    assert run("example1_chain_rule") == {"f": -12.0, "dx": -4.0, "dy": -4.0, "dz": 3.0}


def test_example2_sigmoid_neuron():
    r = run("example2_sigmoid_neuron")
    assert (round(r["z"], 4), round(r["a"], 4), round(r["L"], 4), round(r["dz"], 4)) == (0.2, 0.5498, 0.5981, -0.4502)
    assert [round(v, 4) for v in r["dw"]] == [-0.9003, -1.3505] and round(r["db"], 4) == -0.4502
    assert round(r["w_new"][0], 4) == 0.59 and round(r["b_new"], 4) == 0.145
    assert abs(r["w_new"][1] - (-0.1649)) <= 1e-4 and round(r["w_new"][1], 6) == -0.16495


def test_tf_gradient_tape():
    r = run("tf_gradient_tape")
    assert r["losses"][-1] < r["losses"][0]
    assert r["grad_shapes"] == {"0.weight": (5, 10), "0.bias": (5,), "2.weight": (1, 5), "2.bias": (1,)}


def test_numpy_walkthrough_outer_products():
    assert max(run("numpy_walkthrough_outer_products").values()) < 1e-12


def test_sigmoid_two_layer_train_batch():
    assert run("sigmoid_two_layer_train_batch")["worst_relative_difference"] < 1e-12


def test_mse_backprop_pseudocode():
    assert max(run("mse_backprop_pseudocode").values()) < 1e-12


def test_gradient_clipping():
    r = run("gradient_clipping")
    assert r["value_clip_matches_numpy"] and r["norm_before"] > 1 and abs(r["norm_after"] - 1.0) < 1e-5


def test_fraud_detection_network():
    r = run("fraud_detection_network")
    assert r["accuracy"] > 1 - r["base_rate"] + 0.03   # beats always answering "not fraud"
    assert r["recall"] > 0.5


def test_numpy_xor_from_scratch():
    r = run("numpy_xor_from_scratch")
    assert np.array_equal(np.round(r["predictions"]), [0, 1, 1, 0])
    assert r["worst_vs_chainrule"] < 1e-12
    assert r["gradient_check"]["W1"] < 1e-7 and r["gradient_check"]["b1"] > 1e-2   # the text's check trips on a kink
    assert r["explain_ok"] and {k[0] for k in r["kinks"]} == {"b1"}
    assert max(r["shifted_check"].values()) < 1e-7


def test_pytorch_twolayernet_xor():
    r = run("pytorch_twolayernet_xor", epochs=3000)
    assert np.array_equal(np.round(r["predictions"]), [0, 1, 1, 0])
    assert all(p == g for p, g in r["shapes"].values())
    stuck = run("pytorch_twolayernet_xor", epochs=3000, seed=3)
    assert not np.array_equal(np.round(stuck["predictions"]), [0, 1, 1, 0])   # the documented dead-ReLU seed


def test_softmax_cross_entropy_backward():
    assert run("softmax_cross_entropy_backward")["relative_difference"] < 1e-12


def test_exercise_leaky_relu_backward():
    r = run("exercise_leaky_relu_backward")
    assert r["max_abs_difference"] == 0 and r["gradcheck"]


def test_exercise_gradient_check_5_4_3_1():
    assert max(run("exercise_gradient_check_5_4_3_1").values()) < 1e-7


def test_exercise_l_layer_network():
    assert max(run("exercise_l_layer_network").values()) < 1e-12
    assert max(run("exercise_l_layer_network", layer_dims=(3, 2, 1)).values()) < 1e-12


def test_exercise_check_shapes():
    assert "d0.weight has shape (3, 4) but 0.weight has shape (4, 3)" in run("exercise_check_shapes")["caught"]


def test_debug_this_three_bugs_caught():
    r = run("debug_this")
    assert r["none"] == "passes"
    assert "Jacobian mismatch for W1" in r["wrong m"]
    assert "Jacobian mismatch for W2" in r["missing transpose"]
    assert "db1 has shape (1, 4) but b1 has shape (4, 1)" in r["wrong sum axis"]


def test_lab_modular_moons(tmp_path):
    r = run("lab_modular_moons", plot_path=str(tmp_path / "b.png"))
    assert r["part1"] < 1e-12 and max(r["gradient_check"].values()) < 1e-7 and r["accuracy"] >= 0.95
    if r["plot"]:
        assert os.path.getsize(r["plot"]) > 5000


def test_research_gradient_checkpointing():
    r = run("research_gradient_checkpointing")
    # the time ratio is printed, not asserted: one timing under a loaded machine says nothing (bench/checkpoint.py
    # measures it, repeated, against its target)
    assert r["gradients_equal"] and r["memory_ratio"] < 0.8 and r["time_ratio"] > 0
    assert r["binomial_gradients_equal"] and r["binomial_memory_ratio"] < min(0.4, r["memory_ratio"])


def test_linear_twolayernet_layers():
    r = run("linear_twolayernet_layers")
    assert r["max_loss_difference"] < 1e-6 and r["worst_gradient_difference"] < 1e-6   # the text adds 1e-8 in its log


def test_pytorch_training_loop_digits():
    r = run("pytorch_training_loop_digits")
    assert r["accuracy"] > 0.9


def test_sigmoid_gradient_saturation():
    r = run("sigmoid_gradient_saturation")
    assert round(r["g5"], 4) == 0.0066 and abs(r["g10"] - 4.5e-5) < 1e-6
    assert abs(r["p007"] - 2.82e-22) < 1e-24 and abs(r["chain10"] - r["g5_pow10"]) < 1e-30


def test_examples_cli(capsys):
    assert cli.main(["examples"]) == 0
    assert "21 examples" in capsys.readouterr().out
    assert cli.main(["examples", "example1_chain_rule"]) == 0
    assert "df/dx = -4" in capsys.readouterr().out
    assert cli.main(["examples", "nope"]) == 2
