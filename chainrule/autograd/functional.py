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


def _flat_inputs(inputs):
    single = isinstance(inputs, Tensor)
    return single, ([inputs] if single else list(inputs))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """J[i][j] = d out_i / d in_j, one backward per output element; shape out.shape + in.shape. vectorize and
    strategy (torch's ways of computing the same numbers) are accepted; every strategy runs reverse mode here."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    single, ins = _flat_inputs(inputs)
    ins = [t.detach().requires_grad_(True) if not create_graph else t for t in ins]
    with enable_grad():
        out = func(*ins)
    single_out = isinstance(out, Tensor)
    outs = [out] if single_out else list(out)
    jac = [jacobian_blocks(o, ins, create_graph) for o in outs]
    jac = [blocks[0] if single else tuple(blocks) for blocks in jac]
    return jac[0] if single_out else tuple(jac)


def jacobian_blocks(out, wrt, create_graph):
    """d out / d x for each x in wrt, shape out.shape + x.shape: one backward pass per element of out (zeros for
    an x that out does not depend on); detached unless create_graph."""
    from ..ops.shape import stack
    rows = [[] for _ in wrt]
    flat = out.reshape(-1)
    for k in range(flat.shape[0]):
        gs = grad(flat[k], wrt, retain_graph=True, create_graph=create_graph, allow_unused=True,
                  materialize_grads=True)
        for j, g in enumerate(gs):
            rows[j].append(g)
    blocks = [stack(r).reshape(out.shape + x.shape) if r else Tensor._wrap(np.zeros(out.shape + x.shape, x.dtype))
              for r, x in zip(rows, wrt)]
    return [b if create_graph else b.detach() for b in blocks]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """H = the Jacobian of the gradient of a scalar function."""
    single, ins = _flat_inputs(inputs)

    def gradient(*xs):
        out = func(*xs)
        if out.numel() != 1:
            raise BackwardError(f"hessian: the function must return a scalar, got shape {out.shape}")
        gs = grad(out, xs, create_graph=True, allow_unused=True)
        gs = tuple(g if g is not None else x * 0 for g, x in zip(gs, xs))
        return gs[0] if single else gs

    return jacobian(gradient, ins[0] if single else tuple(ins), create_graph=create_graph)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀJ): one backward pass with v as the output's gradient."""
    single, ins = _flat_inputs(inputs)
    ins = [t.detach().requires_grad_(True) for t in ins]
    with enable_grad():
        out = func(*ins)
    gs = grad(out, ins, v, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    return out.detach(), (gs[0] if single else gs)


def _single_output(out, name):
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}")
    return out


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J·v): the directional derivative, by the double-vjp trick (reverse mode twice): with
    u a dummy cotangent, g(u) = Jᵀu is linear in u, so d(g·v)/du = J v. A function returning a tuple gets a tuple
    of J·v, one per output. strict=True raises when an output does not depend on the inputs (its J·v is zero by
    construction rather than by computation), as torch."""
    single, ins = _flat_inputs(inputs)
    vs = _flat_inputs(v)[1] if v is not None else [None] * len(ins)
    ins = [t.detach().requires_grad_(True) for t in ins]
    with enable_grad():
        result = func(*ins)
        outs = [result] if isinstance(result, Tensor) else list(result) if isinstance(result, (tuple, list)) else None
        if outs is None or not all(isinstance(o, Tensor) for o in outs):
            raise TypeError(f"jvp: the function must return a Tensor or a tuple of Tensors, got "
                            f"{type(result).__name__}")
        if v is None and sum(t.numel() for t in ins) != 1:
            raise ValueError("jvp: v may only be omitted when the input has a single element")
        vs = [Tensor._wrap(np.ones(t.shape, t.dtype)) if w is None else w for w, t in zip(vs, ins)]
        for w, t in zip(vs, ins):
            if tuple(w.shape) != tuple(t.shape):
                raise ValueError(f"jvp: v has shape {w.shape} but its input has shape {t.shape}")
        tangents = []
        for k, out in enumerate(outs):
            u = Tensor._wrap(np.zeros(out.shape, out.dtype)).requires_grad_(True)
            gs = grad(out, ins, u, retain_graph=True, create_graph=True, allow_unused=True, materialize_grads=True) \
                if out.requires_grad else [Tensor._wrap(np.zeros(t.shape, t.dtype)) for t in ins]
            used = [(g, w) for g, w in zip(gs, vs) if g.requires_grad]
            if not used:
                if strict:
                    raise RuntimeError(f"jvp: output {k} is independent of the inputs, so its J·v is zero by "
                                       f"construction (strict=True)")
                tangents.append(Tensor._wrap(np.zeros(out.shape, out.dtype)))
                continue
            (jv,) = grad([g for g, _ in used], [u], [w for _, w in used], retain_graph=True,
                         create_graph=create_graph, allow_unused=True, materialize_grads=True)
            tangents.append(jv)
    outs = [o if create_graph else o.detach() for o in outs]
    if isinstance(result, Tensor):
        return outs[0], tangents[0]
    return tuple(outs), tuple(tangents)


def _hessian_product(func, inputs, v, create_graph, name):
    single, ins = _flat_inputs(inputs)
    vs = _flat_inputs(v)[1]
    ins = [t.detach().requires_grad_(True) for t in ins]
    with enable_grad():
        out = _single_output(func(*ins), name)
        if out.numel() != 1:
            raise BackwardError(f"{name}: the function must return a single-element tensor, got shape {out.shape}")
        gs = grad(out, ins, create_graph=True, allow_unused=True, materialize_grads=True)
        pairs = [(g, w) for g, w in zip(gs, vs) if g.requires_grad]
        if pairs:
            prods = grad([g for g, _ in pairs], ins, [w for _, w in pairs], create_graph=create_graph,
                         allow_unused=True, materialize_grads=True)
        else:
            prods = tuple(Tensor._wrap(np.zeros(t.shape, t.dtype)) for t in ins)
    return (out if create_graph else out.detach()), (prods[0] if single else prods)


def vhp(func, inputs, v, create_graph=False, strict=False):
    """(func(inputs), vᵀH) for a scalar func: the gradient of ∇f·v (reverse over reverse)."""
    return _hessian_product(func, inputs, v, create_graph, "vhp")


def hvp(func, inputs, v, create_graph=False, strict=False):
    """(func(inputs), H·v) for a scalar func; equal to vhp since the Hessian of a twice continuously
    differentiable function is symmetric."""
    return _hessian_product(func, inputs, v, create_graph, "hvp")
