"""torch's state-dict hooks and extra state on nn.Module, compared with torch where it is importable: the keys a
module with extra state writes, hooks that rename old checkpoint keys, post hooks that excuse keys for
strict loading, assign=True, and the (missing, unexpected) pair load_state_dict returns."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn


def _scaled(lib):
    class Scaled(lib.nn.Module):
        """A Linear with a non-tensor setting kept in the state dict."""

        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 2)
            self.scale = 1.0

        def forward(self, x):
            return self.lin(x) * self.scale

        def get_extra_state(self):
            return {"scale": self.scale}

        def set_extra_state(self, state):
            self.scale = state["scale"]
    return Scaled


def test_extra_state_round_trips_under_torchs_key():
    model = nn.Sequential(_scaled(cr)(), nn.ReLU())
    model[0].scale = 3.0
    state = model.state_dict()
    keys = list(state)
    assert keys == ["0._extra_state", "0.lin.weight", "0.lin.bias"]   # own entries, then the children's
    fresh = nn.Sequential(_scaled(cr)(), nn.ReLU())
    fresh.load_state_dict(state)
    assert fresh[0].scale == 3.0
    np.testing.assert_array_equal(fresh[0].lin.weight.detach().numpy(), model[0].lin.weight.detach().numpy())
    del state["0._extra_state"]
    with pytest.raises(cr.ShapeError, match=r"missing keys \['0._extra_state'\]"):
        fresh.load_state_dict(state)
    torch = pytest.importorskip("torch", reason="torch is the oracle for the key layout")
    assert list(torch.nn.Sequential(_scaled(torch)(), torch.nn.ReLU()).state_dict()) == keys


def test_a_load_pre_hook_renames_the_keys_of_an_old_checkpoint():
    model = nn.Sequential(nn.Linear(2, 2))
    old = {"0.W": cr.ones(2, 2), "0.b": cr.zeros(2)}

    def rename(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        for before, after in (("W", "weight"), ("b", "bias")):
            if prefix + before in state_dict:
                state_dict[prefix + after] = state_dict.pop(prefix + before)
    model[0].register_load_state_dict_pre_hook(rename)
    model.load_state_dict(old)
    assert np.all(model[0].weight.detach().numpy() == 1)
    assert "0.W" in old   # the caller's dict is left as it was


def test_hooks_around_state_dict_and_the_post_hook_that_excuses_keys():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    calls = []
    model[1].register_state_dict_pre_hook(lambda m, prefix, keep_vars: calls.append(("pre", prefix)))
    handle = model.register_state_dict_post_hook(
        lambda m, sd, prefix, meta: sd.__setitem__("version", cr.tensor(2)))
    state = model.state_dict()
    assert calls == [("pre", "1.")] and "version" in state
    handle.remove()
    assert "version" not in model.state_dict()
    with pytest.raises(cr.ShapeError, match="unexpected keys"):
        model.load_state_dict(state)

    def excuse(module, incompatible):
        incompatible.unexpected_keys.remove("version")
    model.register_load_state_dict_post_hook(excuse)
    missing, unexpected = model.load_state_dict(state)
    assert missing == [] and unexpected == []


def test_assign_makes_the_checkpoint_tensors_the_modules():
    model = nn.Linear(2, 2)
    weight = np.full((2, 2), 5.0, np.float32)
    model.load_state_dict({"weight": cr.from_numpy(weight), "bias": cr.zeros(2)}, assign=True)
    weight[0, 0] = 7.0
    assert model.weight.detach().numpy()[0, 0] == 7.0   # shared, not copied
    result = model.load_state_dict({"weight": cr.ones(2, 2)}, strict=False)
    assert result.missing_keys == ["bias"] and repr(result).startswith("_IncompatibleKeys")


def test_assign_casts_a_checkpoint_of_another_dtype_to_the_modules():
    model = nn.Linear(2, 2)
    model.load_state_dict({"weight": np.full((2, 2), 3.0), "bias": np.zeros(2)}, assign=True)   # float64 arrays
    assert model.weight.dtype == cr.float32 and model.weight.detach().numpy()[1, 1] == 3.0
