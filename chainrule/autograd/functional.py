"""Gradients as functions: autograd.grad, jacobian, hessian (PyTorch's autograd.functional), and JAX-style
function transforms grad(f) / value_and_grad(f) (exposed as chainrule.func)."""
import numpy as np

from ..errors import BackwardError
from . import engine
from .grad_mode import enable_grad

Tensor = None  # set on import of chainrule


def _edge_input(t):
    """A GradientEdge input as its capture key (node, output index); a leaf's edge as the leaf."""
    if isinstance(t, tuple) and len(t) == 2 and not isinstance(t, Tensor):
        node, index = t
        return node if isinstance(node, Tensor) else (node, index)
    return t


def _as_list(x):
    return [x] if isinstance(x, Tensor) else list(x)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """dΣ(outputs·grad_outputs)/d(inputs), returned (not accumulated into .grad), as torch.autograd.grad.
    is_grads_batched: the first dim of every grad_output indexes independent vector-Jacobian products (rows of a
    Jacobian), done one backward pass per row; the results are stacked along a new first dim. only_inputs is
    torch's deprecated flag (gradients go to `inputs` only, always); allow_unused=None means False."""
    if not only_inputs:
        import warnings
        warnings.warn("autograd.grad: only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use autograd.backward.")
    allow_unused = bool(allow_unused)
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                             materialize_grads)
    from ..tensor import _root_gradient
    outs, ins = _as_list(outputs), _as_list(inputs)
    if grad_outputs is None:
        gouts = [None] * len(outs)
    else:
        gouts = _as_list(grad_outputs) if not isinstance(grad_outputs, (list, tuple)) else list(grad_outputs)
    ins = [_edge_input(t) for t in ins]
    for i, t in enumerate(ins):
        if isinstance(t, tuple):   # a gradient edge (autograd.graph.GradientEdge): the node's output itself
            continue
        if not t.requires_grad:
            raise BackwardError(f"autograd.grad: input {i} (shape {t.shape}) does not require grad, so it has no "
                                f"gradient; create it with requires_grad=True")
    roots, root_grads = [], []
    for o, g in zip(outs, gouts):
        if not o.requires_grad:
            raise BackwardError(f"autograd.grad: output of shape {o.shape} does not require grad (was it computed "
                                f"under no_grad, or from inputs without requires_grad?)")
        roots.append(o)
        root_grads.append(_root_gradient(o, g, "autograd.grad"))
    if retain_graph is None:
        retain_graph = create_graph
    capture = {}
    keys = []
    for t in ins:
        key = t if isinstance(t, tuple) else id(t) if t.grad_fn is None else (t.grad_fn, t._out_idx)
        capture[key] = None
        keys.append(key)
    engine.run_backward(roots, root_grads, retain_graph, create_graph, capture=capture)
    result = []
    for i, (t, key) in enumerate(zip(ins, keys)):
        g = capture[key]
        if g is None:
            if materialize_grads and isinstance(t, tuple):
                raise BackwardError(f"autograd.grad: gradient edge {i} got no gradient, and an edge has no shape "
                                    f"to make zeros of; pass allow_unused=True instead of materialize_grads")
            if materialize_grads:
                g = Tensor._wrap(np.zeros(t.shape, t.dtype))
            elif not allow_unused:
                raise BackwardError(f"autograd.grad: input {i} (shape {t.shape}) was not used to compute the "
                                    f"outputs, so it has no gradient; pass allow_unused=True to get None for it")
        elif not create_graph and g.requires_grad:
            g = g.detach()
        result.append(g)
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """torch.autograd.backward: Σᵢ tensorsᵢ·grad_tensorsᵢ backpropagated in one sweep, accumulated into the
    leaves' .grad (or only into `inputs`). A scalar tensor needs no grad_tensor. grad_variables is torch's old name
    of grad_tensors."""
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("autograd.backward: pass grad_tensors or its old name grad_variables, not both")
        grad_tensors = grad_variables
    from ..tensor import _root_gradient
    roots = _as_list(tensors)
    if grad_tensors is None:
        gouts = [None] * len(roots)
    else:
        gouts = [grad_tensors] if isinstance(grad_tensors, Tensor) else list(grad_tensors)
    if len(gouts) != len(roots):
        raise BackwardError(f"autograd.backward: {len(roots)} tensors but {len(gouts)} grad_tensors; give one per "
                            f"tensor (None for a scalar)")
    for t in roots:
        if not t.requires_grad:
            raise BackwardError(f"autograd.backward: a tensor of shape {t.shape} does not require grad and has no "
                                f"grad_fn, so there is nothing to differentiate")
    root_grads = [_root_gradient(t, g, "autograd.backward") for t, g in zip(roots, gouts)]
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        ins = _as_list(inputs)
        grads = grad(roots, ins, root_grads, retain_graph=retain_graph, create_graph=create_graph,
                     allow_unused=True)
        for t, g in zip(ins, grads):
            if g is not None:
                engine._accumulate_into_leaf(t, g, create_graph, set())
        return
    engine.run_backward(roots, root_grads, retain_graph, create_graph)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    from ..ops.shape import stack
    gouts = _as_list(grad_outputs) if grad_outputs is not None else None
    if not gouts or any(g is None for g in gouts):
        raise BackwardError("autograd.grad: is_grads_batched=True needs grad_outputs with a leading batch dim")
    n = gouts[0].shape[0]
    if any(g.shape[0] != n for g in gouts):
        raise BackwardError(f"autograd.grad: is_grads_batched=True needs the same batch size in every grad_output, "
                            f"got {[g.shape[0] for g in gouts]}")
    rows = [grad(outputs, inputs, [g[k] for g in gouts], retain_graph=True if k < n - 1 else retain_graph,
                 create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
            for k in range(n)]
    return tuple(stack(list(column)) if column[0] is not None else None for column in zip(*rows))


def _as_tensors(x, what, name):
    """(was a tuple, the tensors as a tuple): a function's inputs, outputs or v, as torch's _as_tuple."""
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return True, tuple(x)
    raise TypeError(f"{name}: {what} must be a Tensor or a tuple of Tensors, got {type(x).__name__}"
                    + (f" holding {sorted({type(t).__name__ for t in x})}" if isinstance(x, (tuple, list)) else ""))


def _single_or_tuple(values, was_tuple):
    return tuple(values) if was_tuple else values[0]


def _differentiable_copies(inputs, create_graph, need_graph=True):
    """Fresh graph entry points for the inputs. Under create_graph an input that requires grad is viewed, so the
    result stays differentiable with respect to it; any other input is detached (a new leaf when need_graph)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
                 for t in inputs)


def _detached_unless(values, create_graph):
    if isinstance(values, Tensor):
        return values if create_graph else values.detach()
    return tuple(_detached_unless(v, create_graph) for v in values)


def _checked_v(v, like, like_is_tuple, create_graph, name, what):
    """v as a tuple of graph entry points (None when omitted): one tensor of the same shape per entry of `like`
    (the function's inputs or outputs, `what`); it may be omitted only for a single one-element entry."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise BackwardError(f"{name}: v may only be omitted when the function has a single one-element "
                                f"{what[:-1]}; pass v, one tensor per {what[:-1]}")
        return None
    vs = _differentiable_copies(_as_tensors(v, "v", name)[1], create_graph, need_graph=False)
    if len(vs) != len(like):
        raise BackwardError(f"{name}: v holds {len(vs)} tensors but the function has {len(like)} {what}; give one "
                            f"per {what[:-1]}")
    for k, (w, t) in enumerate(zip(vs, like)):
        if tuple(w.shape) != tuple(t.shape):
            where = f"entry {k} of v" if like_is_tuple else "v"
            raise BackwardError(f"{name}: {where} has shape {tuple(w.shape)} but the {what[:-1]} it pairs with has "
                                f"shape {tuple(t.shape)}")
    return vs


def _grads_or_none(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad; None for an input no output reaches (torch's
    _autograd_grad), and for every input when no output requires grad."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_NOT_DIFFERENTIABLE = {
    "outputs": "output {i} of the function does not require grad: it is independent of the inputs (not computed "
               "from them by differentiable operations)",
    "gradients": "the gradient with respect to input {i} does not depend on the inputs (the function is linear "
                 "in it)",
    "jacobian": "the Jacobian with respect to input {i} does not depend on the inputs (the function is linear in "
                "it); its Hessian is zero",
}


def _strict_requires_grad(tensors, kind, strict, name):
    """strict=True: every tensor must require grad (None or a constant means a derivative that is zero by
    construction, which strict mode refuses, as torch's)."""
    if strict:
        for i, t in enumerate(tensors):
            if t is None or not t.requires_grad:
                raise RuntimeError(f"{name} (strict=True): {_NOT_DIFFERENTIABLE[kind].format(i=i)}. Pass "
                                   f"strict=False to get zeros instead")


def _zeros_for_unreached(grads, refs, strict, create_graph, name, what):
    """An input the outputs do not reach gets zeros of its shape, or with strict=True an error; with strict and
    create_graph, a gradient that does not depend on the inputs is an error too (its own derivative would be
    zero by construction)."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{name} (strict=True): {what.format(i=i)} is independent of the inputs. Pass "
                                   f"strict=False to get zeros instead")
            g = Tensor._wrap(np.zeros(ref.shape, ref.dtype))
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(f"{name} (strict=True, create_graph=True): {what.format(i=i)} does not depend on "
                               f"the inputs, so it cannot be differentiated again")
        filled.append(g)
    return tuple(filled)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """J[i][j] = d out_i / d in_j, of shape out_i.shape + in_j.shape: one backward pass per output element.
    A tensor input and a tensor output give one tensor; a tuple gives a tuple (of tuples, for both). An input that
    an output does not reach gets zeros, or with strict=True an error. create_graph=True keeps J differentiable
    with respect to the inputs that require grad. vectorize and strategy (torch's ways of computing the same
    numbers) are accepted; every strategy runs reverse mode here."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    with enable_grad():
        inputs_tuple, ins = _as_tensors(inputs, "inputs", "jacobian")
        ins = _differentiable_copies(ins, create_graph)
        outputs_tuple, outs = _as_tensors(func(*ins), "the function's outputs", "jacobian")
        _strict_requires_grad(outs, "outputs", strict, "jacobian")
        jac = [_single_or_tuple(jacobian_blocks(out, ins, create_graph, strict,
                                                f"output {i}'s gradient with respect to input {{i}}"), inputs_tuple)
               for i, out in enumerate(outs)]
    return _single_or_tuple(jac, outputs_tuple)


def jacobian_blocks(out, wrt, create_graph, strict=False, what="the output's gradient with respect to input {i}"):
    """d out / d x for each x in wrt, shape out.shape + x.shape: one backward pass per element of out (zeros for
    an x that out does not depend on, or with strict=True an error naming `what`); detached unless create_graph."""
    from ..ops.shape import stack
    rows = [[] for _ in wrt]
    flat = out.reshape(-1)
    for k in range(out.numel()):
        gs = _grads_or_none((flat[k],), wrt, retain_graph=True, create_graph=create_graph)
        for row, g in zip(rows, _zeros_for_unreached(gs, wrt, strict, create_graph, "jacobian", what)):
            row.append(g)
    blocks = [stack(r).reshape(tuple(out.shape) + tuple(x.shape)) if r else
              Tensor._wrap(np.zeros(tuple(out.shape) + tuple(x.shape), x.dtype)) for r, x in zip(rows, wrt)]
    return [b if create_graph else b.detach() for b in blocks]


def _scalar_output(func, name, strict):
    """func, checked to return a single one-element tensor (hessian, vhp and hvp differentiate a scalar)."""
    def checked(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor):
            raise BackwardError(f"{name}: the function must return a single Tensor, got {type(out).__name__}")
        _strict_requires_grad((out,), "outputs", strict, name)
        if out.numel() != 1:
            raise BackwardError(f"{name}: the function must return a single-element tensor (a scalar), got shape "
                                f"{tuple(out.shape)}; reduce it (.sum() or .mean()) first")
        return out
    return checked


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """H[i][j] = d²f / d in_i d in_j of a scalar function, shape in_i.shape + in_j.shape: the Jacobian of the
    gradient. A tensor input gives one tensor; a tuple gives a tuple of tuples."""
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"hessian: outer_jacobian_strategy must be 'reverse-mode' or 'forward-mode', got "
                         f"{outer_jacobian_strategy!r}")
    scalar = _scalar_output(func, "hessian", strict)

    def gradient(*xs):
        gs = _grads_or_none((scalar(*xs),), xs, create_graph=True)
        gs = _zeros_for_unreached(gs, xs, False, True, "hessian", "")   # an unused input's gradient is 0
        _strict_requires_grad(gs, "jacobian", strict, "hessian")
        return gs

    inputs_tuple, ins = _as_tensors(inputs, "inputs", "hessian")
    h = jacobian(gradient, ins, create_graph=create_graph, strict=strict)
    return _single_or_tuple([_single_or_tuple(row, inputs_tuple) for row in h], inputs_tuple)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀJ): one backward pass with v as the outputs' gradient (one v per output; v may be
    omitted for a single one-element output). An input no output reaches gets zeros, or with strict an error."""
    with enable_grad():
        inputs_tuple, ins = _as_tensors(inputs, "inputs", "vjp")
        ins = _differentiable_copies(ins, create_graph)
        outputs_tuple, outs = _as_tensors(func(*ins), "the function's outputs", "vjp")
        _strict_requires_grad(outs, "outputs", strict, "vjp")
        vs = _checked_v(v, outs, outputs_tuple, create_graph, "vjp", "outputs")
        gs = _zeros_for_unreached(_grads_or_none(outs, ins, vs, create_graph), ins, strict, create_graph, "vjp",
                                  "the output (with respect to input {i})")
    return (_single_or_tuple(_detached_unless(outs, create_graph), outputs_tuple),
            _single_or_tuple(_detached_unless(gs, create_graph), inputs_tuple))


def _inputs_and_v(inputs, v, create_graph, name):
    inputs_tuple, ins = _as_tensors(inputs, "inputs", name)
    ins = _differentiable_copies(ins, create_graph)
    return inputs_tuple, ins, _checked_v(v, ins, inputs_tuple, create_graph, name, "inputs")


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J·v): the directional derivative, by the double-vjp trick (reverse mode twice): with
    u a dummy cotangent, g(u) = Jᵀu is linear in u, so d(g·v)/du = J v. One J·v per output. strict=True raises
    when an output does not depend on the inputs (its J·v is zero by construction rather than by computation)."""
    with enable_grad():
        inputs_tuple, ins, vs = _inputs_and_v(inputs, v, create_graph, "jvp")
        outputs_tuple, outs = _as_tensors(func(*ins), "the function's outputs", "jvp")
        _strict_requires_grad(outs, "outputs", strict, "jvp")
        dummies = tuple(Tensor._wrap(np.zeros(o.shape, o.dtype)).requires_grad_(True) for o in outs)
        transposed = _grads_or_none(outs, ins, dummies, create_graph=True)   # Jᵀu, linear in u
        _strict_requires_grad(transposed, "gradients", strict, "jvp")
        jv = _grads_or_none(transposed, dummies, vs, create_graph=create_graph)
        jv = _zeros_for_unreached(jv, outs, strict, create_graph, "jvp", "output {i}")
    return (_single_or_tuple(_detached_unless(outs, create_graph), outputs_tuple),
            _single_or_tuple(_detached_unless(jv, create_graph), outputs_tuple))


def _hessian_product(func, inputs, v, create_graph, strict, name):
    """vᵀH, the gradient of ∇f·v (reverse over reverse); H·v is the same vector since H is symmetric."""
    with enable_grad():
        inputs_tuple, ins, vs = _inputs_and_v(inputs, v, create_graph, name)
        out = _scalar_output(func, name, strict)(*ins)
        gradient = _grads_or_none((out,), ins, create_graph=True)
        _strict_requires_grad(gradient, "jacobian", strict, name)
        prods = _grads_or_none(gradient, ins, vs, create_graph=create_graph)
        prods = _zeros_for_unreached(prods, ins, strict, create_graph, name,
                                     "the gradient (with respect to input {i})")
    return _detached_unless(out, create_graph), _single_or_tuple(_detached_unless(prods, create_graph),
                                                                 inputs_tuple)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀH) for a scalar func."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H·v) for a scalar func; equal to vhp since the Hessian of a twice continuously
    differentiable function is symmetric."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")
