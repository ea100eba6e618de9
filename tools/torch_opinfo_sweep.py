"""Development probe, not a test: run torch's own OpInfo samples (torch.testing._internal's op_db, float64, CPU)
through chainrule's op of the same name and report, by kind: ops missing here, results that differ (values, shape
or dtype), and samples that chainrule refuses while torch computes them. Needs torch==2.13.0 and expecttest
(pip install expecttest); takes about 5 minutes.

    python tools/torch_opinfo_sweep.py                            # every op
    python tools/torch_opinfo_sweep.py nn.functional.pad cumsum   # ops whose name starts with these
    python tools/torch_opinfo_sweep.py --grad                     # also compare gradients (samples that agree)
    python tools/torch_opinfo_sweep.py --grad --all               # every sample, not the first 12 of each op

With --grad, each sample whose results agree is differentiated in both libraries with the same random cotangent
(a vector-Jacobian product), and the gradients of every input that requires grad are compared; a gradient torch
leaves unconnected (None) counts as zero.

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

LIMIT = 12   # samples per op (--all: every sample)
SKIPPED_PREFIXES = ("fft.", "_", "sparse", "masked.", "signal", "nn.functional.scaled_dot")


def resolve(name):
    """chainrule's function for an OpInfo name ('linalg.svd', 'nn.functional.pad'), or None."""
    obj = cr
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def to_chainrule(x, pairs=None):
    """A sample's argument with torch's tensors, dtypes and sizes swapped for chainrule's (LookupError: skip it).
    With a list `pairs`, tensors that require grad are created requiring grad, and (torch's, chainrule's) go in it."""
    if isinstance(x, torch.Tensor):
        if x.is_complex() or x.layout != torch.strided or x.dtype == torch.bfloat16:
            raise LookupError("no complex, sparse or bfloat16 here")
        ours = cr.tensor(x.detach().numpy().copy())
        if pairs is not None and x.requires_grad:
            ours.requires_grad_(True)
            pairs.append((x, ours))
        return ours
    if isinstance(x, (list, tuple)):
        items = [to_chainrule(i, pairs) for i in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    if isinstance(x, dict):
        return {k: to_chainrule(v, pairs) for k, v in x.items()}
    if isinstance(x, torch.dtype):
        return getattr(cr, str(x).split(".")[-1])
    if callable(x) and not isinstance(x, type) and getattr(x, "__module__", "") in ("torch._C._nn", "torch.nn.functional",
                                                                                   "torch", "torch._C._VariableFunctions"):
        ours = getattr(cr.nn.functional, x.__name__, None) or getattr(cr, x.__name__, None)
        if ours is None:
            raise LookupError(f"no chainrule function {x.__name__}")
        return ours   # an activation passed as an argument (TransformerEncoderLayer(activation=F.gelu))
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


def float_outputs(result):
    """The floating-point tensors of a result, in order."""
    if isinstance(result, (list, tuple)):
        return [t for r in result for t in float_outputs(r)]
    if isinstance(result, (torch.Tensor, cr.Tensor)) and result.dtype in (torch.float64, torch.float32, cr.float64,
                                                                           cr.float32):
        return [result]
    return []


def gradient_difference(theirs, mine, leaves, seed, labels=None):
    """None where both libraries' vector-Jacobian products with the same random cotangent agree at every leaf (a
    (torch tensor, chainrule tensor) pair), else what differs; a gradient left unconnected (None) counts as 0."""
    outs_t, outs_c = float_outputs(theirs), float_outputs(mine)
    keep = [k for k, t in enumerate(outs_t) if t.requires_grad]
    if not keep or len(outs_t) != len(outs_c):
        return None
    rng = np.random.default_rng(seed)
    cots = [rng.standard_normal(tuple(outs_t[k].shape)) for k in keep]
    g_t = torch.autograd.grad([outs_t[k] for k in keep], [leaf[0] for leaf in leaves],
                              [torch.from_numpy(c).to(outs_t[k].dtype) for k, c in zip(keep, cots)],
                              allow_unused=True)
    connected = [k for k in keep if outs_c[k].requires_grad]
    if not connected:
        return "chainrule's result does not require grad"
    g_c = cr.autograd.grad([outs_c[k] for k in connected], [leaf[1] for leaf in leaves],
                           [cr.tensor(cots[keep.index(k)]).to(outs_c[k].dtype) for k in connected],
                           allow_unused=True)
    labels = labels or [f"input {i}" for i in range(len(leaves))]
    for label, (leaf, _), a, b in zip(labels, leaves, g_t, g_c):
        a = np.zeros(tuple(leaf.shape)) if a is None else a.detach().numpy()
        b = np.zeros(tuple(leaf.shape)) if b is None else b.detach().numpy()
        d = difference(a, b)
        if d:
            return f"gradient of {label}: {d}"
    return None


def counterpart(name, namespace, prefixes, report):
    """chainrule's class of this name in namespace (cr.nn, cr.optim), or None: filtered out by the name prefixes
    asked for, or missing (then reported)."""
    if prefixes and not name.startswith(tuple(prefixes)):
        return None
    ours = getattr(namespace, name, None)
    if ours is None:
        report["missing"].append(name)
    return ours


def _timeout(signum, frame):
    raise TimeoutError


def sweep(prefixes, grad=False):
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
        grad_here = grad and op.supports_autograd
        for i, s in enumerate(list(op.sample_inputs("cpu", torch.float64, requires_grad=grad_here))[:LIMIT]):
            pairs = [] if grad_here else None
            try:
                x, args, kwargs = (to_chainrule(s.input, pairs), to_chainrule(s.args, pairs),
                                   to_chainrule(s.kwargs, pairs))
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
            elif pairs:
                signal.alarm(10)
                try:
                    d = gradient_difference(theirs, mine, pairs, seed=i)
                except TimeoutError:
                    d = "timeout"
                except Exception as e:
                    d = f"raises {type(e).__name__}: {str(e)[:150]}"
                finally:
                    signal.alarm(0)
                if d:
                    report["gradient differs"].append(f"{where} | {d}")
    return report


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    names = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--all" in sys.argv:
        LIMIT = None
    for kind, lines in sweep(names, grad="--grad" in sys.argv).items():
        print(f"===== {kind}: {len(lines)}")
        for line in lines:
            print("  ", line.replace("\n", " "))
