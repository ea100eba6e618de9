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


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, *, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None, explain=False, names=None):
    """True when every entry satisfies |analytical - numerical| ≤ atol + rtol·|numerical|.

    On failure raises GradcheckError naming the input, the worst (input, output) entry, both values and their
    relative difference (or returns False with raise_exception=False). torch's options:

    - check_backward_ad: backprop's Jacobian (one backward per output entry) against finite differences;
      with fast_mode, only vᵀJu for random u, v (one directional difference and one backward per input), for
      inputs too large for a whole Jacobian;
    - check_forward_ad: forward mode's J·u (chainrule.autograd.forward_ad) against the same differences;
    - nondet_tol: two backward passes with the same vector must agree to within it (a reentrant backward);
    - check_undefined_grad: zero output gradients must give zero input gradients (no NaN from 0·∞);
    - check_grad_dtypes: every gradient has its input's dtype and shape;
    - check_batched_grad: autograd.grad(is_grads_batched=True) gives the rows one backward per row gives;
    - check_batched_forward_grad: func.vmap over func.jvp gives the J·u that one jvp per tangent gives.

    explain=True runs the diagnosing check instead (chainrule.autograd.explain_gradcheck).
    """
    if masked:
        raise ValueError("gradcheck: masked=True checks sparse tensors by their stored entries; chainrule has no "
                         "sparse tensors, so leave masked unset")
    inputs = _to_float64(_tuple(inputs), "gradcheck")
    if explain:
        from .gradcheck_explain import explain_gradcheck
        report = explain_gradcheck(func, inputs, eps=eps, atol=atol, rtol=rtol, names=names)
        if not report.ok and raise_exception:
            raise GradcheckError(str(report))
        return report.ok
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check; "
                         "pass tensors created with requires_grad=True")
    # the finite-difference Jacobian is the costly part: both the backward and the forward check share one
    num = numerical_jacobians(func, inputs, eps) if not fast_mode and (check_backward_ad or check_forward_ad) else None
    try:
        if check_backward_ad:
            if fast_mode:
                _check_directional(func, inputs, eps, atol, rtol, names)
            else:
                _compare(inputs, analytical_jacobians(func, inputs), num, atol, rtol, names, "")
            _check_reentrant(func, inputs, nondet_tol)
            if check_undefined_grad:
                _check_zero_grad_outputs(func, inputs)
            if check_grad_dtypes:
                _check_grad_dtypes(func, inputs)
            if check_batched_grad:
                _check_batched(func, inputs, atol, rtol)
        if check_forward_ad:
            if fast_mode:
                _check_directional(func, inputs, eps, atol, rtol, names, forward=True)
            else:
                _compare(inputs, forward_jacobians(func, inputs), num, atol, rtol, names, " (forward mode)")
        if check_batched_forward_grad:
            _check_batched_forward(func, inputs, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _compare(inputs, analytical, numerical, atol, rtol, names, mode):
    for i, (n, a) in enumerate(zip(numerical, analytical)):
        if n is None:
            continue
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if bad.any() or not np.isfinite(a).all():
            raise GradcheckError(_mismatch_message(i, inputs[i], a, n, names, int(bad.sum())).replace(
                "Jacobian mismatch", "Jacobian mismatch" + mode))


def _differentiable(inputs):
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _vjp(fn, inputs, vs=None, zero=False):
    """(outputs, v per output: random, given, or zero, vᵀJ per differentiable input, zeros where unused)."""
    with enable_grad():
        outs = _tuple(fn(*inputs))
    if vs is None:
        rng = np.random.default_rng(0)
        vs = [np.zeros(o.shape) if zero else rng.standard_normal(o.shape) for o in outs]
    pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not pairs:
        return outs, vs, [np.zeros(inputs[i].shape) for i in _differentiable(inputs)]
    gs = autograd_grad([o for o, _ in pairs], [inputs[i] for i in _differentiable(inputs)],
                       [Tensor._wrap(np.asarray(v, o._data.dtype)) for o, v in pairs], allow_unused=True,
                       materialize_grads=True)
    return outs, vs, [g._data for g in gs]


def _label(i, names):
    return names[i] if names else f"input {i}"


def _check_directional(fn, inputs, eps, atol, rtol, names, forward=False):
    """fast_mode: per input i and random u_i, v: vᵀ(J u_i) from backprop (⟨vᵀJ, u_i⟩) or forward mode (⟨v, J u_i⟩)
    against ⟨v, (f(x_i + εu_i) - f(x_i - εu_i)) / 2ε⟩."""
    outs, vs, vjps = _vjp(fn, inputs)
    rng = np.random.default_rng(1)
    for k, i in enumerate(_differentiable(inputs)):
        x = inputs[i]
        u = rng.standard_normal(x.shape)
        flat = x._data
        orig = flat.copy()
        sides = []
        for sign in (1, -1):
            flat[...] = orig + sign * eps * u
            with no_grad():
                sides.append([o._data.astype(np.float64) for o in _tuple(fn(*inputs))])
        flat[...] = orig
        numerical = sum(float(np.sum(v * (p - m))) for v, p, m in zip(vs, *sides)) / (2 * eps)
        if forward:
            jvps = _forward_directional(fn, inputs, i, u)
            analytical = sum(float(np.sum(v * j)) for v, j in zip(vs, jvps))
        else:
            analytical = float(np.sum(vjps[k] * u))
        if not abs(analytical - numerical) <= atol + rtol * abs(numerical):
            raise GradcheckError(
                f"gradcheck (fast mode{', forward' if forward else ''}): for {_label(i, names)} (shape "
                f"{tuple(x.shape)}), vᵀJu along random u, v is {analytical:.10g} analytically and {numerical:.10g} "
                f"numerically (relative difference {relative_difference(analytical, numerical):.3g}). The "
                f"{'forward-mode' if forward else 'backward'} formula for this input is wrong; run gradcheck without "
                f"fast_mode (or with explain=True) to find the entry.")


def _forward_directional(fn, inputs, i, u):
    """J_i u by forward-mode AD: the tangent of every output when input i carries tangent u."""
    from . import forward_ad
    with forward_ad.dual_level():
        args = list(inputs)
        args[i] = forward_ad.make_dual(inputs[i], Tensor._wrap(np.asarray(u, inputs[i]._data.dtype)))
        outs = _tuple(fn(*args))
        tangents = [forward_ad.unpack_dual(o).tangent for o in outs]
    return [np.zeros(o.shape) if t is None else t._data.astype(np.float64) for o, t in zip(outs, tangents)]


def forward_jacobians(fn, inputs):
    """Per differentiable input, (n_in, n_out) from forward mode: one J·eₖ per input entry."""
    jacs = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            jacs.append(None)
            continue
        columns = []
        for k in range(x.numel()):
            e = np.zeros(x.numel())
            e[k] = 1
            columns.append(np.concatenate([t.reshape(-1) for t in
                                           _forward_directional(fn, inputs, i, e.reshape(x.shape))]))
        jacs.append(np.array(columns).reshape(x.numel(), -1))
    return jacs


def _check_reentrant(fn, inputs, nondet_tol):
    _, vs, first = _vjp(fn, inputs)
    _, _, second = _vjp(fn, inputs, vs)
    for i, a, b in zip(_differentiable(inputs), first, second):
        worst = float(np.max(np.abs(a - b), initial=0.0))
        if not worst <= nondet_tol:
            raise GradcheckError(
                f"gradcheck: backward is not reentrant for input {i}: two backward passes with the same input and "
                f"output gradient differ by up to {worst:.3g} (nondet_tol={nondet_tol}). A backward that reads "
                f"state changed by an earlier call, or random numbers, gives different gradients each time; raise "
                f"nondet_tol if the nondeterminism is intended.")


def _check_zero_grad_outputs(fn, inputs):
    _, _, gs = _vjp(fn, inputs, zero=True)
    for i, g in zip(_differentiable(inputs), gs):
        if not np.all(g == 0):
            bad = "NaN" if np.isnan(g).any() else "nonzero values"
            raise GradcheckError(
                f"gradcheck: with every output gradient zero, the gradient of input {i} has {bad} (max |g| "
                f"{np.nanmax(np.abs(g)) if not np.isnan(g).all() else float('nan'):.3g}); a zero upstream gradient "
                f"must give zero (a backward that multiplies 0 by an infinite local derivative gives NaN here). "
                f"Pass check_undefined_grad=False to skip this check.")


def _outputs_and_differentiable(fn, inputs):
    """(outputs that require grad, inputs that require grad): what a backward check differentiates."""
    with enable_grad():
        outs = [o for o in _tuple(fn(*inputs)) if o.requires_grad]
    return outs, [inputs[i] for i in _differentiable(inputs)]


def _check_grad_dtypes(fn, inputs):
    outs, diff = _outputs_and_differentiable(fn, inputs)
    gs = autograd_grad(outs, diff, [Tensor._wrap(np.ones(o.shape, o._data.dtype)) for o in outs],
                       allow_unused=True)
    for i, x, g in zip(_differentiable(inputs), diff, gs):
        if g is not None and (g.dtype != x.dtype or tuple(g.shape) != tuple(x.shape)):
            raise GradcheckError(f"gradcheck: the gradient of input {i} has dtype {g.dtype} and shape "
                                 f"{tuple(g.shape)}, but the input has dtype {x.dtype} and shape {tuple(x.shape)}")


def _check_batched_forward(fn, inputs, atol, rtol, batch=3):
    from ..func import jvp, vmap
    rng = np.random.default_rng(3)
    primals = tuple(x.detach() if isinstance(x, Tensor) else x for x in inputs)
    for i in _differentiable(inputs):
        us = rng.standard_normal((batch,) + tuple(inputs[i].shape))

        def tangent_outputs(u, i=i):
            tangents = tuple(u if k == i else Tensor._wrap(np.zeros(p.shape, p._data.dtype))
                             for k, p in enumerate(primals))
            return jvp(fn, primals, tangents)[1]
        batched = vmap(tangent_outputs)(Tensor._wrap(us))
        batched = (batched,) if isinstance(batched, Tensor) else tuple(batched)
        for b in range(batch):
            for j, row in enumerate(_forward_directional(fn, inputs, i, us[b])):
                if not np.allclose(batched[j]._data[b], row, rtol=rtol, atol=atol):
                    raise GradcheckError(f"gradcheck: batched forward gradient {b} of input {i}, output {j} "
                                         f"(vmap over jvp) differs from the jvp of the same tangent computed alone")


def _check_batched(fn, inputs, atol, rtol, batch=3):
    outs, diff = _outputs_and_differentiable(fn, inputs)
    rng = np.random.default_rng(2)
    vs = [rng.standard_normal((batch,) + tuple(o.shape)) for o in outs]
    batched = autograd_grad(outs, diff, [Tensor._wrap(v) for v in vs], retain_graph=True, allow_unused=True,
                            is_grads_batched=True, materialize_grads=True)
    for b in range(batch):
        rows = autograd_grad(outs, diff, [Tensor._wrap(v[b]) for v in vs], retain_graph=True, allow_unused=True,
                             materialize_grads=True)
        for i, g, row in zip(_differentiable(inputs), batched, rows):
            if not np.allclose(g._data[b], row._data, rtol=rtol, atol=atol):
                raise GradcheckError(f"gradcheck: batched gradient {b} of input {i} (is_grads_batched=True) differs "
                                     f"from the gradient of the same vector computed alone")


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


def gradgradcheck(func, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, *,
                  gen_non_contig_grad_outputs=False, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the backward pass itself: checks second derivatives (create_graph=True), reverse over reverse
    (check_rev_over_rev) and forward over reverse (check_fwd_over_rev). Random output gradients are drawn when
    grad_outputs is None, as non-contiguous views with gen_non_contig_grad_outputs (torch's options)."""
    inputs = _to_float64(_tuple(inputs), "gradgradcheck")
    diff_idx = _differentiable(inputs)
    with enable_grad():
        outs = _tuple(func(*inputs))
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        draws = [rng.standard_normal(tuple(o.shape) + ((2,) if gen_non_contig_grad_outputs else ())) for o in outs]
        grad_outputs = [Tensor._wrap(d[..., 0] if gen_non_contig_grad_outputs else d).requires_grad_(True)
                        for d in draws]
    else:
        grad_outputs = [g.detach().double().requires_grad_(True) for g in _tuple(grad_outputs)]
    n_in = len(inputs)

    def first_derivative(*args):
        xs, gos = list(args[:n_in]), args[n_in:]
        with enable_grad():
            o = _tuple(func(*xs))
            pairs = [(oo, g) for oo, g in zip(o, gos) if oo.requires_grad]
            gs = autograd_grad([p[0] for p in pairs], [xs[i] for i in diff_idx], [p[1] for p in pairs],
                               create_graph=True, allow_unused=True, materialize_grads=True)
        return gs

    return gradcheck(first_derivative, list(inputs) + list(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, fast_mode=fast_mode,
                     masked=masked)
