"""Development probe, not a test: run torch's own OptimizerInfo configurations (torch.testing._internal's
optim_db: every optimizer with each of its option sets, CPU) through chainrule's optimizer of the same name, on
the same float64 parameters and the same gradients, for 8 steps, with an LR scheduler where torch's
configuration names one, and report: optimizers missing here, options chainrule refuses, and steps after which
the parameters (or the state_dict's tensors) differ. Needs torch==2.13.0 and expecttest; takes seconds.

    python tools/torch_optim_sweep.py                 # every optimizer
    python tools/torch_optim_sweep.py Adam SGD        # optimizers whose name starts with these

Session 24: all 80 configurations of the 13 optimizers it can compare take the same steps. Muon differs by a few
percent of a step by design: torch runs its Newton-Schulz iteration in bfloat16, which NumPy lacks (chainrule's
is float32 or the parameter's dtype; see optim/muon.py). SparseAdam is not built.
"""
import collections
import sys
import warnings

import numpy as np
import torch
from torch.testing._internal.common_optimizers import optim_db

import chainrule as cr
from torch_opinfo_sweep import counterpart

SHAPES = [(3, 4), (4,), ()]
MATRICES_ONLY = {"Muon": [(3, 4), (5, 3)]}   # optimizers defined for 2-d parameters
STEPS = 8


def to_chainrule_options(kwargs):
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, torch.Tensor):
            v = cr.tensor(v.detach().numpy().copy()) if v.ndim else v.item()
        elif isinstance(v, tuple) and any(isinstance(i, torch.Tensor) for i in v):
            v = tuple(i.item() if isinstance(i, torch.Tensor) else i for i in v)
        out[k] = v
    return out


def run(info, kwargs, rng_seed):
    rng = np.random.default_rng(rng_seed)
    shapes = MATRICES_ONLY.get(info.optim_cls.__name__, SHAPES)
    start = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(STEPS)]
    params_t = [torch.tensor(a, requires_grad=True) for a in start]
    params_c = [cr.tensor(a.copy(), requires_grad=True) for a in start]
    opt_t = info.optim_cls(params_t, **kwargs)
    opt_c = getattr(cr.optim, info.optim_cls.__name__)(params_c, **to_chainrule_options(kwargs))
    for step in range(STEPS):
        for p, g in zip(params_t, grads[step]):
            p.grad = torch.tensor(g)
        for p, g in zip(params_c, grads[step]):
            p.grad = cr.tensor(g.copy())
        if info.optim_cls.__name__ == "LBFGS":   # a closure: a quadratic whose gradient is the parameters
            def closure_t():
                opt_t.zero_grad()
                loss = sum((p * p).sum() for p in params_t)
                loss.backward()
                return loss

            def closure_c():
                opt_c.zero_grad()
                loss = sum((p * p).sum() for p in params_c)
                loss.backward()
                return loss
            opt_t.step(closure_t)
            opt_c.step(closure_c)
        else:
            opt_t.step()
            opt_c.step()
        for k, (a, b) in enumerate(zip(params_t, params_c)):
            if not np.allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-10):
                gap = np.abs(a.detach().numpy() - b.detach().numpy()).max()
                return f"step {step + 1}: parameter {k} differs by {gap:.3g}"
    return None


def sweep(prefixes):
    report = collections.defaultdict(list)
    for info in optim_db:
        name = info.optim_cls.__name__
        if counterpart(name, cr.optim, prefixes, report) is None:
            continue
        for oi in info.optim_inputs_func(device="cpu"):
            kwargs = dict(oi.kwargs)
            if kwargs.get("foreach") or kwargs.get("fused") or kwargs.get("capturable"):
                continue   # kernel choices with the same arithmetic
            where = f"{name} {oi.desc}: {kwargs}"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    d = run(info, kwargs, 0)
            except Exception as e:   # noqa: BLE001
                report["raises"].append(f"{where} | {type(e).__name__}: {str(e)[:160]}")
                continue
            if d:
                report["differs"].append(f"{where} | {d}")
            else:
                report["same"].append(where)
    return report


if __name__ == "__main__":
    result = sweep(sys.argv[1:])
    print(f"same: {len(result.pop('same', []))} configurations")
    for kind, lines in result.items():
        print(f"===== {kind}: {len(lines)}")
        for line in lines:
            print("  ", line.replace("\n", " "))
