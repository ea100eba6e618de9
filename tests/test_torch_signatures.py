"""Every layer, loss, optimizer, scheduler, data class and nn.functional function that chainrule shares with torch
takes torch's parameters in torch's order with torch's defaults, so positional calls written for torch bind the
same way (a loss called as F.cross_entropy(x, y, w, None, 0) sets ignore_index, not reduction)."""
import importlib
import inspect
import numbers

import pytest

torch = pytest.importorskip("torch", reason="torch is the oracle for its own signatures")

NAMESPACES = [("torch.nn", "chainrule.nn"), ("torch.optim", "chainrule.optim"),
              ("torch.optim.lr_scheduler", "chainrule.optim.lr_scheduler"), ("torch.utils.data", "chainrule.data")]
FUNCTION_NAMESPACES = [("torch.nn.functional", "chainrule.nn.functional", "F"),
                       ("torch.autograd", "chainrule.autograd", "autograd"),
                       ("torch.autograd.functional", "chainrule.autograd.functional", "autograd.functional"),
                       ("torch.func", "chainrule.func", "func"), ("torch.nn.init", "chainrule.nn.init", "init"),
                       ("torch.nn.utils", "chainrule.nn.utils", "nn.utils"),
                       ("torch.utils.checkpoint", "chainrule.utils.checkpoint", "checkpoint")]
# torch parameters chainrule leaves out on purpose
NOT_TAKEN = {"normalize": {"out"},          # no out= tensors in chainrule
             "softmin": {"_stacklevel"},    # a private argument of torch's deprecation machinery
             "jacrev": {"_preallocate_and_copy"}}   # private to torch's vmap implementation


def _params(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    ps = [p for p in sig.parameters.values() if p.name not in ("self", "device", "dtype")]
    if any(p.kind == p.VAR_POSITIONAL for p in ps) or all(p.kind == p.VAR_KEYWORD for p in ps):
        return None   # a (*args, **kwargs) wrapper says nothing about the order
    return ps


def _pairs():
    for tname, cname in NAMESPACES:
        tmod, cmod = importlib.import_module(tname), importlib.import_module(cname)
        for name in dir(tmod):
            t, c = getattr(tmod, name), getattr(cmod, name, None)
            if name.startswith("_") or c is None or not inspect.isclass(t) or not inspect.isclass(c):
                continue
            yield f"{cname}.{name}", t.__init__, c.__init__
    for tname, cname, label in FUNCTION_NAMESPACES:
        tmod, cmod = importlib.import_module(tname), importlib.import_module(cname)
        for name in dir(tmod):
            t, c = getattr(tmod, name), getattr(cmod, name, None)
            if not name.startswith("_") and inspect.isfunction(t) and callable(c) and not inspect.isclass(c):
                yield f"{label}.{name}", t, c


CASES = [(label, t, c) for label, t, c in _pairs() if _params(t) is not None and _params(c) is not None]


def _literal(v):
    return v is None or isinstance(v, (numbers.Number, str))


@pytest.mark.parametrize("label,t,c", CASES, ids=[c[0] for c in CASES])
def test_parameters_follow_torch(label, t, c):
    tp, cp = _params(t), _params(c)
    skip = NOT_TAKEN.get(label.split(".")[-1], set())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    t_pos = [p.name for p in tp if p.kind in positional and p.name not in skip]
    c_pos = [p.name for p in cp if p.kind in positional]
    assert c_pos[:len(t_pos)] == t_pos, f"{label}: positional parameters {c_pos}, torch has {t_pos}"
    cd = {p.name: p for p in cp}
    takes_any_keyword = any(p.kind == p.VAR_KEYWORD for p in cp)   # an optimizer's foreach=, fused= ...
    for p in tp:
        if p.name in skip or p.kind == p.VAR_KEYWORD or p.name not in cd and takes_any_keyword:
            continue
        assert p.name in cd, f"{label}: torch's parameter {p.name!r} is missing"
        if p.default is not inspect.Parameter.empty and _literal(p.default) and _literal(cd[p.name].default):
            assert cd[p.name].default == p.default, \
                f"{label}: {p.name} defaults to {cd[p.name].default!r}, torch's to {p.default!r}"


def test_the_sweep_covers_the_layers_and_losses():
    labels = {c[0] for c in CASES}
    for name in ("chainrule.nn.CrossEntropyLoss", "chainrule.nn.MultiheadAttention", "chainrule.nn.Conv2d",
                 "chainrule.optim.Adam", "chainrule.data.DataLoader", "F.cross_entropy", "F.mse_loss"):
        assert name in labels
    assert len(CASES) > 200
