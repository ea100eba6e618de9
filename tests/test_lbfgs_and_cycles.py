"""L-BFGS (plain and with the strong-Wolfe line search), CyclicLR and OneCycleLR's momentum cycling: the same
iterates as torch in float64 where it is importable, and convergence on a known problem without it."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_minimises_rosenbrock(line_search):
    x = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
    opt = cr.optim.LBFGS([x], lr=1 if line_search else 0.1, max_iter=200 if line_search else 50,
                         line_search_fn=line_search, tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss
    for _ in range(1 if line_search else 40):
        opt.step(closure)
    if line_search:
        np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-6)
    else:
        assert _rosenbrock(x).item() < _rosenbrock(cr.tensor([-1.5, 2.0])).item() * 1e-2


@pytest.mark.parametrize("line_search,history", [(None, 100), ("strong_wolfe", 100), ("strong_wolfe", 3)])
def test_lbfgs_matches_torch_on_a_network(line_search, history):
    torch = _torch()
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((32, 3)), rng.standard_normal((32, 1))
    cnet = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    with torch.no_grad():
        for p, q in zip(cnet.parameters(), tnet.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    copt = cr.optim.LBFGS(cnet.parameters(), lr=0.5, max_iter=10, history_size=history, line_search_fn=line_search)
    topt = torch.optim.LBFGS(tnet.parameters(), lr=0.5, max_iter=10, history_size=history,
                             line_search_fn=line_search)

    def closure(net, opt, lib, x, y):
        def run():
            opt.zero_grad()
            loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            return loss
        return run
    cx, cy, tx, ty = cr.tensor(X), cr.tensor(Y), torch.tensor(X), torch.tensor(Y)
    for _ in range(5):
        a = copt.step(closure(cnet, copt, cr, cx, cy)).item()
        b = topt.step(closure(tnet, topt, torch, tx, ty)).item()
        assert a == pytest.approx(b, rel=1e-8)
    for p, q in zip(cnet.parameters(), tnet.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-7, atol=1e-10)
    assert copt.state[next(iter(cnet.parameters()))]["func_evals"] == topt.state[next(iter(tnet.parameters()))]["func_evals"]


def test_lbfgs_errors():
    p = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS.step needs a closure"):
        cr.optim.LBFGS([p]).step()
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        cr.optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups are not supported"):
        cr.optim.LBFGS([{"params": [p]}, {"params": [cr.zeros(1, requires_grad=True)]}])


def _momentum(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("kind,kw", [
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, mode="exp_range", gamma=0.9)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=20)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=20, three_phase=True, anneal_strategy="linear")),
])
def test_cycles_match_torch_lr_and_momentum(opt_name, kind, kw):
    torch = _torch()
    p, q = cr.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    extra = {"momentum": 0.9} if opt_name == "SGD" else {}
    co, to = getattr(cr.optim, opt_name)([p], lr=0.1, **extra), getattr(torch.optim, opt_name)([q], lr=0.1, **extra)
    cs, ts = getattr(cr.optim.lr_scheduler, kind)(co, **kw), getattr(torch.optim.lr_scheduler, kind)(to, **kw)
    for _ in range(19):
        assert cs.get_last_lr()[0] == pytest.approx(ts.get_last_lr()[0], rel=1e-12)
        assert _momentum(co.param_groups[0]) == pytest.approx(_momentum(to.param_groups[0]), rel=1e-12)
        co.step()
        to.step()
        cs.step()
        ts.step()


def test_cyclic_lr_needs_momentum_to_cycle_it():
    p = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="CyclicLR: the optimizer \\(Adagrad\\) has neither momentum nor betas"):
        cr.optim.lr_scheduler.CyclicLR(cr.optim.Adagrad([p]), 0.01, 0.1)
    s = cr.optim.lr_scheduler.CyclicLR(cr.optim.Adagrad([p]), 0.01, 0.1, step_size_up=2, cycle_momentum=False)
    lrs = []
    for _ in range(5):
        lrs.append(s.get_last_lr()[0])
        s.step()
    np.testing.assert_allclose(lrs, [0.01, 0.055, 0.1, 0.055, 0.01])
    assert "scale_fn" not in s.state_dict()
