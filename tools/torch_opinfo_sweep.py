"""Development probe, not a test: run torch's own OpInfo samples (torch.testing._internal's op_db, float64, CPU)
through chainrule's op of the same name and report, by kind: ops missing here, results that differ (values, shape
or dtype), and samples that chainrule refuses while torch computes them. Needs torch==2.13.0 and expecttest
(pip install expecttest); takes about 5 minutes.

    python tools/torch_opinfo_sweep.py                            # every op
    python tools/torch_opinfo_sweep.py nn.functional.pad cumsum   # ops whose name starts with these

Expect noise to read past: random ops (dropout, randn, normal, …), samples whose OpInfo `op` is a lambda with
another argument order (polygamma, where, embedding), properties called as functions (T, mT), and torch modules
passed as arguments (distance_function=PairwiseDistance()). Session 23 fixed what was left after that.
"""
import collections
import signal
import sys
import warnings

import numpy as np
import torch
from torch.testing._internal.common_methods_invocations import op_db

import chainrule as cr

SKIPPED_PREFIXES = ("fft.", "_", "sparse", "masked.", "signal", "nn.functional.scaled_dot")


def resolve(name):
    """chainrule's function for an OpInfo name ('linalg.svd', 'nn.functional.pad'), or None."""
    obj = cr
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def to_chainrule(x):
    """A sample's argument with torch's tensors, dtypes and sizes swapped for chainrule's (LookupError: skip it)."""
    if isinstance(x, torch.Tensor):
        if x.is_complex() or x.layout != torch.strided or x.dtype == torch.bfloat16:
            raise LookupError("no complex, sparse or bfloat16 here")
        return cr.tensor(x.detach().numpy().copy())
    if isinstance(x, (list, tuple)):
        items = [to_chainrule(i) for i in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    if isinstance(x, dict):
        return {k: to_chainrule(v) for k, v in x.items()}
    if isinstance(x, torch.dtype):
        return getattr(cr, str(x).split(".")[-1])
    if isinstance(x, torch.device):
        return "cpu"
    if isinstance(x, torch.memory_format):
        raise LookupError("memory formats are not compared")
    return tuple(x) if isinstance(x, torch.Size) else x


def flat(x):
    """Results as NumPy arrays and plain values, nested as they came."""
    if isinstance(x, (torch.Tensor, cr.Tensor)):
        return x.detach().numpy()
    return [flat(i) for i in x] if isinstance(x, (list, tuple)) else x


def difference(a, b):
    """None where torch's result a and chainrule's b agree, else what differs."""
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)):
            return "structure"
        return next((d for d in map(difference, a, b) if d), None)
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.dtype != b.dtype and a.dtype.kind != b.dtype.kind:
        return f"dtype {a.dtype} vs {b.dtype}"
    try:
        same = np.allclose(a.astype(float), b.astype(float), rtol=1e-6, atol=1e-8, equal_nan=True)
    except (TypeError, ValueError):
        same = bool(np.all(a == b))
    return None if same else "values"


def _timeout(signum, frame):
    raise TimeoutError


def sweep(prefixes):
    report = collections.defaultdict(list)
    signal.signal(signal.SIGALRM, _timeout)
    for op in op_db:
        name = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
        if op.name.startswith(SKIPPED_PREFIXES) or (prefixes and not name.startswith(tuple(prefixes))):
            continue
        ours = resolve(op.name)
        if ours is None and not hasattr(cr.Tensor, op.name):
            report["missing"].append(name)
            continue
        if torch.float64 not in op.dtypes:
            continue
        for i, s in enumerate(list(op.sample_inputs("cpu", torch.float64))[:12]):
            try:
                x, args, kwargs = to_chainrule(s.input), to_chainrule(s.args), to_chainrule(s.kwargs)
            except LookupError:
                continue
            where = f"{name}[{i}] input {tuple(getattr(s.input, 'shape', ()))} args {str(s.args)[:80]} " \
                    f"kwargs {str(s.kwargs)[:80]}"
            signal.alarm(10)
            try:
                theirs = op.op(s.input, *s.args, **s.kwargs)
            except Exception:
                signal.alarm(0)
                continue
            try:
                mine = ours(x, *args, **kwargs) if ours is not None else getattr(x, op.name)(*args, **kwargs)
            except TimeoutError:
                report["timeout"].append(where)
                continue
            except Exception as e:
                report["chainrule raises"].append(f"{where} | {type(e).__name__}: {str(e)[:150]}")
                continue
            finally:
                signal.alarm(0)
            d = difference(flat(theirs), flat(mine))
            if d:
                report["differs"].append(f"{where} | {d}")
    return report


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    for kind, lines in sweep(sys.argv[1:]).items():
        print(f"===== {kind}: {len(lines)}")
        for line in lines:
            print("  ", line.replace("\n", " "))
