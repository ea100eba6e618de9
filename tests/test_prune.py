"""nn.utils.prune: masks equal to torch's for magnitude and structured pruning, alone and applied in turn, global
pruning across layers, the state_dict layout, gradients masked through weight_orig, remove(), and named errors."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.utils.prune as P


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


STEPS = {
    "l1_fraction": [("l1_unstructured", ("weight", 0.3))],
    "l1_twice": [("l1_unstructured", ("weight", 5)), ("l1_unstructured", ("weight", 0.5))],
    "ln_rows": [("ln_structured", ("weight", 0.5, 2, 0))],
    "ln_then_l1": [("ln_structured", ("weight", 1, 1, 1)), ("l1_unstructured", ("weight", 3))],
    "l1_then_ln": [("l1_unstructured", ("weight", 3)), ("ln_structured", ("weight", 2, 2, 0))],
    "bias": [("l1_unstructured", ("bias", 2))],
}


@pytest.mark.parametrize("case", sorted(STEPS))
def test_masks_outputs_and_gradients_match_torch(case):
    torch = _torch()
    import torch.nn.utils.prune as tp
    rng = np.random.default_rng(0)
    ours, theirs = cr.nn.Linear(6, 4).double(), torch.nn.Linear(6, 4).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    for fn, args in STEPS[case]:
        getattr(P, fn)(ours, *args)
        getattr(tp, fn)(theirs, *args)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    name = STEPS[case][0][1][0]
    np.testing.assert_array_equal(getattr(ours, name + "_mask").numpy(), getattr(theirs, name + "_mask").numpy())
    x = rng.standard_normal((3, 6))
    ya, yb = ours(cr.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-12)
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_allclose(getattr(ours, name + "_orig").grad.numpy(), getattr(theirs, name + "_orig").grad.numpy(),
                               rtol=1e-12)
    P.remove(ours, name)
    tp.remove(theirs, name)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and not P.is_pruned(ours)
    np.testing.assert_allclose(getattr(ours, name).detach().numpy(), getattr(theirs, name).detach().numpy())


def test_global_pruning_matches_torch():
    torch = _torch()
    import torch.nn.utils.prune as tp
    ours = [cr.nn.Linear(6, 4).double(), cr.nn.Linear(4, 2).double()]
    theirs = [torch.nn.Linear(6, 4).double(), torch.nn.Linear(4, 2).double()]
    for a, b in zip(ours, theirs):
        a.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in b.state_dict().items()})
    P.global_unstructured([(m, "weight") for m in ours], P.L1Unstructured, amount=0.4)
    tp.global_unstructured([(m, "weight") for m in theirs], tp.L1Unstructured, amount=0.4)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.weight_mask.numpy(), b.weight_mask.numpy())
    assert sum(int((m.weight_mask.numpy() == 0).sum()) for m in ours) == round(0.4 * 32)


def test_pruned_weights_stay_zero_while_training():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 1))
    P.l1_unstructured(model[0], "weight", 0.5)
    P.random_structured(model[2], "weight", 0.25, dim=1)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    x, y = cr.randn(32, 4), cr.randn(32, 1)
    for _ in range(5):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    mask = model[0].weight_mask.numpy()
    assert (model[0].weight.detach().numpy()[mask == 0] == 0).all() and (mask == 0).sum() == 16
    assert (model[2].weight_mask.numpy() == 0).sum() == 2 and P.is_pruned(model)
    P.custom_from_mask(model[0], "bias", cr.tensor([1.0, 0.0] * 4))
    assert (model[0].bias.detach().numpy()[1::2] == 0).all()


def test_pruning_errors_are_named():
    with pytest.raises(ValueError, match="has no parameter 'kernel'"):
        P.l1_unstructured(cr.nn.Linear(2, 2), "kernel", 1)
    with pytest.raises(ValueError, match="amount must be a non-negative int or a float"):
        P.l1_unstructured(cr.nn.Linear(2, 2), "weight", -1)
    with pytest.raises(ValueError, match="cannot prune 9 units out of 4"):
        P.l1_unstructured(cr.nn.Linear(2, 2), "weight", 9)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        P.remove(cr.nn.Linear(2, 2), "weight")
