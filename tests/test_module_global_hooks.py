"""Hooks for every module (nn.modules.module.register_module_*_hook), forward hooks with always_call, backward
hooks with prepend, modules(remove_duplicate): the order and arguments of the calls as torch's."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.modules import module as module_paths


def _scenario(L):
    """Every kind of global hook logging one line per call while a small net is built, run and differentiated,
    then removed (the last call logs nothing)."""
    M = L.nn.modules.module
    log = []
    handles = [
        M.register_module_forward_pre_hook(lambda m, a: log.append(("pre", type(m).__name__))),
        M.register_module_forward_hook(lambda m, a, o: log.append(("forward", type(m).__name__, tuple(o.shape)))),
        M.register_module_forward_hook(lambda m, a, k, o: log.append(("forward_kwargs", type(m).__name__, sorted(k))),
                                       with_kwargs=True),
        M.register_module_full_backward_pre_hook(lambda m, go: log.append(("backward_pre", type(m).__name__))),
        M.register_module_full_backward_hook(lambda m, gi, go: log.append(
            ("backward", type(m).__name__, [None if g is None else tuple(g.shape) for g in gi]))),
        M.register_module_parameter_registration_hook(lambda m, n, p: log.append(("parameter", type(m).__name__, n))),
        M.register_module_buffer_registration_hook(lambda m, n, b: log.append(("buffer", type(m).__name__, n))),
        M.register_module_module_registration_hook(lambda m, n, s: log.append(("module", type(m).__name__, n))),
    ]
    net = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.BatchNorm1d(4), L.nn.ReLU())
    net[0].register_forward_hook(lambda m, a, o: log.append(("own hook", type(m).__name__)))
    x = L.ones(2, 3, requires_grad=True)
    net(x).sum().backward()
    for h in handles:
        h.remove()
    net(x)
    return log


def test_global_hooks_run_in_torchs_order():
    torch = pytest.importorskip("torch", reason="torch is the oracle for the order of hook calls")
    assert _scenario(cr) == _scenario(torch)


def test_global_hooks_without_torch():
    log = _scenario(cr)
    kinds = [entry[0] for entry in log]
    assert kinds.count("pre") == 4 and kinds.count("backward") == 4 and kinds.count("own hook") == 2
    assert ("parameter", "Linear", "weight") in log and ("buffer", "BatchNorm1d", "running_mean") in log
    assert ("module", "Sequential", "0") in log
    assert log.index(("forward", "Linear", (2, 4))) < log.index(("own hook", "Linear"))   # global hooks first


def test_registration_hooks_may_replace_what_is_registered():
    frozen = cr.nn.Parameter(cr.zeros(2))
    handle = module_paths.register_module_parameter_registration_hook(
        lambda m, name, p: frozen if name == "bias" else None)
    try:
        layer = cr.nn.Module()
        layer.bias = cr.nn.Parameter(cr.ones(2))
        layer.weight = cr.nn.Parameter(cr.ones(2))
    finally:
        handle.remove()
    assert layer.bias is frozen and np.all(layer.weight.detach().numpy() == 1)


@pytest.mark.parametrize("where", ["module", "global"])
def test_always_call_forward_hooks_run_when_forward_raises(where):
    log = []

    class Broken(cr.nn.Module):
        def forward(self, x):
            raise ValueError("forward failed")
    m = Broken()
    register = m.register_forward_hook if where == "module" else module_paths.register_module_forward_hook
    handles = [register(lambda mod, a, out: log.append(("always", out)), always_call=True),
               register(lambda mod, a, out: log.append(("normal", out)))]
    try:
        with pytest.raises(ValueError, match="forward failed"):
            m(cr.ones(1))
    finally:
        for h in handles:
            h.remove()
    assert log == [("always", None)]


def test_backward_hooks_prepend_and_modules_remove_duplicate():
    log = []
    lin = cr.nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: log.append("first registered"))
    lin.register_full_backward_hook(lambda m, gi, go: log.append("prepended"), prepend=True)
    lin.register_full_backward_pre_hook(lambda m, go: log.append("pre, first registered"))
    lin.register_full_backward_pre_hook(lambda m, go: log.append("pre, prepended"), prepend=True)
    lin(cr.ones(1, 2, requires_grad=True)).sum().backward()
    assert log == ["pre, prepended", "pre, first registered", "prepended", "first registered"]
    shared = cr.nn.ReLU()
    net = cr.nn.Sequential(shared, shared)
    assert len(list(net.modules())) == 2 and len(list(net.modules(remove_duplicate=False))) == 3
