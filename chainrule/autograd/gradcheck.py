"""Verification as a library function: compare backprop's gradient with two-sided finite differences,

    ∂f/∂θᵢ ≈ (f(θ + εeᵢ) - f(θ - εeᵢ)) / 2ε,

in float64, entry by entry, and on failure name the input, the worst entry, both values and their difference.
"""
import warnings

import numpy as np

from ..errors import GradcheckError
from .functional import grad as autograd_grad
from .grad_mode import enable_grad, no_grad

Tensor = None  # set on import of chainrule


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _to_float64(inputs, where):
    out = []
    cast = False
    for x in inputs:
        if isinstance(x, Tensor) and x._data.dtype.kind == "f" and x._data.dtype != np.float64:
            cast = True
            x = Tensor._wrap(x._data.astype(np.float64)).requires_grad_(x.requires_grad)
        out.append(x)
    if cast:
        warnings.warn(f"{where}: inputs were not float64; casting them, because finite differences in float32 "
                      f"have ~1e-3 error and would report false mismatches", stacklevel=3)
    return out


def numerical_jacobians(fn, inputs, eps):
    """Per differentiable input, a (n_in, n_out) matrix of central differences."""
    with no_grad():
        outs = _tuple(fn(*inputs))
    n_out = sum(o.numel() for o in outs)
    jacs = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            jacs.append(None)
            continue
        flat = x._data.reshape(-1)   # a view: writing it perturbs x in place
        J = np.zeros((flat.size, n_out))
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            with no_grad():
                plus = np.concatenate([o._data.reshape(-1).astype(np.float64) for o in _tuple(fn(*inputs))])
            flat[i] = orig - eps
            with no_grad():
                minus = np.concatenate([o._data.reshape(-1).astype(np.float64) for o in _tuple(fn(*inputs))])
            flat[i] = orig
            J[i] = (plus - minus) / (2 * eps)
        jacs.append(J)
    return jacs


def analytical_jacobians(fn, inputs):
    """Per differentiable input, (n_in, n_out): one backward per output element (a one-hot grad_output)."""
    with enable_grad():
        outs = _tuple(fn(*inputs))
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    n_out = sum(o.numel() for o in outs)
    jacs = [np.zeros((x.numel(), n_out)) for x in diff]
    col = 0
    for o in outs:
        if not o.requires_grad:
            col += o.numel()
            continue
        for k in range(o.numel()):
            onehot = np.zeros(o.numel(), o.dtype)
            onehot[k] = 1
            gs = autograd_grad([o], diff, [Tensor._wrap(onehot.reshape(o.shape))], retain_graph=True,
                               allow_unused=True)
            for J, g in zip(jacs, gs):
                if g is not None:
                    J[:, col] = g._data.reshape(-1)
            col += 1
    it = iter(jacs)
    return [next(it) if isinstance(x, Tensor) and x.requires_grad else None for x in inputs]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, explain=False, names=None):
    """True when every entry satisfies |analytical - numerical| ≤ atol + rtol·|numerical|.

    On failure raises GradcheckError naming the input, the worst (input, output) entry, both values and their
    relative difference. explain=True runs the diagnosing check (chainrule.autograd.explain_gradcheck).
    """
    inputs = _to_float64(_tuple(inputs), "gradcheck")
    if explain:
        from .gradcheck_explain import explain_gradcheck
        report = explain_gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol, names=names)
        if not report.ok and raise_exception:
            raise GradcheckError(str(report))
        return report.ok
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check; "
                         "pass tensors created with requires_grad=True")
    num = numerical_jacobians(fn, inputs, eps)
    ana = analytical_jacobians(fn, inputs)
    for i, (n, a) in enumerate(zip(num, ana)):
        if n is None:
            continue
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if bad.any() or not np.isfinite(a).all():
            if not raise_exception:
                return False
            raise GradcheckError(_mismatch_message(i, inputs[i], a, n, names, int(bad.sum())))
    return True


def relative_difference(a, n):
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)


def _mismatch_message(i, x, a, n, names=None, nbad=None):
    diff = np.abs(a - n)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    flat = int(np.argmax(diff))
    r, c = np.unravel_index(flat, a.shape)
    idx = [int(k) for k in np.unravel_index(r, x.shape)] if x.ndim else []
    label = names[i] if names else f"input {i}"
    rel = relative_difference(a[r, c], n[r, c])
    nbad = int((diff > 0).sum()) if nbad is None else nbad
    return (f"gradcheck: Jacobian mismatch for {label} (shape {tuple(x.shape)}): worst entry d output[{c}] / "
            f"d {label}{idx}: analytical {a[r, c]:.10g}, numerical {n[r, c]:.10g}, relative difference "
            f"{rel:.3g}. The backward formula for this input is wrong (or the function is not differentiable "
            f"there); {nbad} of {a.size} entries differ.")


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of the backward pass itself: checks second derivatives (create_graph=True)."""
    inputs = _to_float64(_tuple(inputs), "gradgradcheck")
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outs = _tuple(fn(*inputs))
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = [Tensor._wrap(rng.standard_normal(o.shape)).requires_grad_(True) for o in outs]
    else:
        grad_outputs = [g.detach().double().requires_grad_(True) for g in _tuple(grad_outputs)]
    n_in = len(inputs)

    def first_derivative(*args):
        xs, gos = list(args[:n_in]), args[n_in:]
        with enable_grad():
            o = _tuple(fn(*xs))
            pairs = [(oo, g) for oo, g in zip(o, gos) if oo.requires_grad]
            gs = autograd_grad([p[0] for p in pairs], [xs[i] for i in diff_idx], [p[1] for p in pairs],
                               create_graph=True, allow_unused=True, materialize_grads=True)
        return gs

    return gradcheck(first_derivative, list(inputs) + list(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
