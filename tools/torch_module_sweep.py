"""Development probe, not a test: run torch's own ModuleInfo samples (torch.testing._internal's module_db, float64,
CPU, in train and eval mode) through chainrule's nn module of the same name, with torch's parameters and buffers
copied in through load_state_dict, and report: modules missing here, state_dict keys that differ, outputs that
differ, buffers that differ after the call (running statistics), and gradients (input and parameters, the same
random cotangent in both) that differ. Needs torch==2.13.0 and expecttest; takes about a minute.

    python tools/torch_module_sweep.py                 # every module
    python tools/torch_module_sweep.py LSTM GRU        # modules whose name starts with these

Expect noise to read past: modules that draw random numbers in training (dropout inside Transformer layers,
FractionalMaxPool, RReLU) and samples that pass torch-only objects as arguments.
"""
import collections
import sys
import warnings

import torch
from torch.testing._internal.common_modules import module_db

import chainrule as cr
from torch_opinfo_sweep import counterpart, difference, flat, gradient_difference, to_chainrule


def state_of(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def compare_gradients(out_t, out_c, pairs, mod_t, mod_c, seed):
    """The input and parameter gradients of both modules, for the same random cotangent."""
    params_t, params_c = dict(mod_t.named_parameters()), dict(mod_c.named_parameters())
    names = [n for n in params_t if params_t[n].requires_grad]
    if set(names) - set(params_c):
        return f"parameters missing here: {sorted(set(names) - set(params_c))}"
    leaves = list(pairs) + [(params_t[n], params_c[n]) for n in names]
    return gradient_difference(out_t, out_c, leaves, seed, [f"input {i}" for i in range(len(pairs))] + names)


def sweep(prefixes):
    report = collections.defaultdict(list)
    for info in module_db:
        name = info.module_cls.__name__
        ours_cls = None if name.startswith("Lazy") else counterpart(name, cr.nn, prefixes, report)
        if ours_cls is None:
            continue
        for training in (True, False):
            try:
                samples = info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True,
                                                  training=training)
            except Exception as e:   # noqa: BLE001
                report["no samples"].append(f"{name}: {e}")
                continue
            for i, s in enumerate(samples[:12]):
                c, f = s.constructor_input, s.forward_input
                if f is None:
                    continue
                where = (f"{name}[{i}] {'train' if training else 'eval'} ctor {str(c.args)[:60]} "
                         f"{str(c.kwargs)[:80]} fwd {[tuple(getattr(a, 'shape', ())) for a in f.args]} "
                         f"{str(f.kwargs)[:60]}")
                try:
                    torch.manual_seed(0)
                    mod_t = info.module_cls(*c.args, **c.kwargs).to(torch.float64).train(training)
                    out_t = mod_t(*f.args, **f.kwargs)
                except Exception:   # noqa: BLE001  torch refuses: nothing to compare
                    continue
                pairs = []
                try:
                    torch.manual_seed(0)
                    mod_t = info.module_cls(*c.args, **c.kwargs).to(torch.float64).train(training)
                    before = state_of(mod_t)
                    args, kwargs = to_chainrule(c.args), to_chainrule(c.kwargs)
                    mod_c = ours_cls(*args, **kwargs).to(cr.float64).train(training)
                    keys_t, keys_c = set(before), set(mod_c.state_dict())
                    if keys_t != keys_c:
                        report["state_dict keys differ"].append(
                            f"{where} | torch only {sorted(keys_t - keys_c)}, chainrule only {sorted(keys_c - keys_t)}")
                        continue
                    mod_c.load_state_dict({k: cr.tensor(v) for k, v in before.items()})
                    fargs, fkwargs = to_chainrule(f.args, pairs), to_chainrule(f.kwargs, pairs)
                    out_t = mod_t(*f.args, **f.kwargs)
                    out_c = mod_c(*fargs, **fkwargs)
                except LookupError:
                    continue
                except Exception as e:   # noqa: BLE001
                    report["chainrule raises"].append(f"{where} | {type(e).__name__}: {str(e)[:150]}")
                    continue
                d = difference(flat(out_t), flat(out_c))
                if d:
                    report["output differs"].append(f"{where} | {d}")
                    continue
                after_t, after_c = state_of(mod_t), {k: v.detach().numpy() for k, v in mod_c.state_dict().items()}
                d = next((f"{k}: {difference(after_t[k], after_c[k])}" for k in after_t
                          if difference(after_t[k], after_c[k])), None)
                if d:
                    report["state after the call differs"].append(f"{where} | {d}")
                try:
                    d = compare_gradients(out_t, out_c, [(p[0], p[1]) for p in pairs], mod_t, mod_c, seed=i)
                except Exception as e:   # noqa: BLE001
                    d = f"raises {type(e).__name__}: {str(e)[:150]}"
                if d:
                    report["gradient differs"].append(f"{where} | {d}")
    return report


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    for kind, lines in sweep(sys.argv[1:]).items():
        print(f"===== {kind}: {len(lines)}")
        for line in lines:
            print("  ", line.replace("\n", " "))
