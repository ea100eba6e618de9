"""The chain rule, traced: every step of a backward pass written out as the reference texts do it by hand.

    trace(loss, names={"x": x, ...}) -> Trace
    print(trace)               forward values, then for every node: local gradient, upstream gradient,
                               their product, accumulation where a value feeds several ops, sums over
                               broadcast axes.  .to_markdown(), .to_html() give the same steps.

Every line is a true equation: where q depends on x entry by entry, dL/dx = dL/dq × ∂q/∂x elementwise (summed
over broadcast axes); where it does not (matmul, softmax, indexing), the chain rule for vectors,
dL/dx = (∂q/∂x)ᵀ · dL/dq, with the Jacobian printed (built from the node's backward, one one-hot upstream
gradient per entry of q, for q of up to 64 entries).

It runs a real backward pass (retain_graph=True, gradients accumulate into .grad as usual) and reads each
node's numbers from the engine as they happen, so what it prints is what the engine computed.
"""
import ast
import html

import numpy as np

from ..autograd import engine, saved_tensors
from ..autograd.grad_mode import STATE, no_grad
from ..tensor import Tensor

SYMBOL = {"Add": "+", "Sub": "-", "Mul": "×", "Div": "/", "MatMul": "@", "Pow": "**"}


def _expression(node, ins):
    """How the texts write this node's operation on its named inputs: x + y, x ** 2, -x, sigmoid(x)."""
    op = type(node).__name__
    if op in SYMBOL and len(ins) == 2:
        return f"{ins[0]} {SYMBOL[op]} {ins[1]}"
    if op == "PowScalar" and "p" in node.__dict__:
        return f"{ins[0]} ** {_fmt(node.p)}"
    if op == "Neg" and len(ins) == 1:
        return f"-{ins[0]}"
    if op == "GetItem" and "index" in node.__dict__:
        index = _index_text(node.index)
        if index is not None:
            return f"{ins[0]}[{index}]"
    name = node.name()   # a custom autograd.Function's node is named after its class: CubeBackward
    name = name[:-len("Backward")] if name.endswith("Backward") else op
    return f"{name.lower()}({', '.join(ins)})"


def _index_text(index):
    """x[0], x[1:3], x[:, ::2], x[..., None] as written; None for fancier indices (arrays, masks)."""
    def one(i):
        if isinstance(i, (int, np.integer)):
            return str(int(i))
        if i is Ellipsis:
            return "..."
        if i is None:
            return "None"
        if isinstance(i, slice) and all(v is None or isinstance(v, (int, np.integer)) for v in
                                        (i.start, i.stop, i.step)):
            text = ("" if i.start is None else str(i.start)) + ":" + ("" if i.stop is None else str(i.stop))
            return text + ("" if i.step is None else f":{i.step}")
        return None
    parts = [one(i) for i in (index if isinstance(index, tuple) else (index,))]
    return None if None in parts else ", ".join(parts)


def _fmt(a, digits=4):
    """Numbers as the texts write them: 4 decimals, trailing zeros dropped (0.2, -1.3505, -4)."""
    a = np.asarray(a)
    if a.size == 1:
        v = float(a.reshape(()))
        if not np.isfinite(v) or (v != 0 and (abs(v) >= 1e6 or abs(v) < 10 ** -digits)):
            return f"{v:.{digits}g}"
        text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if a.dtype.kind == "f":   # each entry as a scalar is written, so [0.105, -1] and not [ 0.105 , -1. ]
        return np.array2string(a, separator=", ", formatter={"float_kind": lambda v: _fmt(v, digits)},
                               max_line_width=10 ** 6).replace("\n", "")
    return np.array2string(a, separator=", ", max_line_width=10 ** 6).replace("\n", "")


class Step:
    """One node of the sweep: its output's name, its inputs' names, the upstream gradient, and per input an Edge
    (None where no gradient flows)."""
    def __init__(self, node, output, inputs, upstream, edges):
        self.node, self.output, self.inputs, self.upstream, self.edges = node, output, inputs, upstream, edges


class Edge:
    """How one input's gradient follows from the upstream gradient g, written so that the line is a true equation:
        kind "×"   g × local, elementwise (or a scalar g times the gradient ∂q/∂x); `full` is that product before
                   it is summed over broadcast axes to the input's shape, when it had to be;
        kind "Jᵀ"  (∂q/∂x)ᵀ · g with the Jacobian `local` as a matrix (rows: entries of q, columns: entries of x,
                   both in row-major order): the chain rule for vectors, e.g. ∂(Wx)/∂x = W;
        kind "vjp" the product alone, where the Jacobian is too large to print."""
    def __init__(self, kind, local, product, full=None):
        self.kind, self.local, self.product, self.full = kind, local, product, full


JACOBIAN_LIMIT = 64   # output entries: one backward call each to build a node's Jacobian for the trace


def _edges(node, g, grads_in):
    """The Edge of each input of `node`, from the gradients the engine computed (grads_in, before summing over
    broadcast axes) and the node's Jacobians, built from its backward with one-hot upstream gradients."""
    jacobians = _jacobians(node, g) if g.size <= JACOBIAN_LIMIT else None
    edges = []
    for k, (t, gi, need) in enumerate(zip(node.inputs, grads_in, node.needs_input_grad)):
        if gi is None or not need:
            edges.append(None)
            continue
        shape = t._data.shape
        product = gi if gi.shape == shape else engine.sum_to_shape(Tensor._wrap(gi), shape)._data
        J = None if jacobians is None else jacobians[k]
        if J is None:
            edges.append(Edge("vjp", None, product))
        elif g.size == 1:   # a scalar output: g times the gradient of q, the textbook's case
            edges.append(Edge("×", J.reshape(shape), product))
        else:
            local = _elementwise_local(J, shape, g.shape)
            if local is not None:
                edges.append(Edge("×", local, product, None if local.shape == shape else g * local))
            else:
                edges.append(Edge("Jᵀ", J, product))
    return edges


def _jacobians(node, g):
    """Per input, the Jacobian ∂q/∂x of the node's output q as a (q.size, x.size) matrix, or None."""
    if node.n_outputs != 1:
        return None
    rows = [[] for _ in node.inputs]
    for i in range(g.size):
        onehot = np.zeros(g.size, g.dtype)
        onehot[i] = 1
        with _NoObservers(), saved_tensors.unpacked(node), no_grad():
            out = node.backward(Tensor._wrap(onehot.reshape(g.shape)))
        out = out if isinstance(out, tuple) else (out,)
        for k, (t, gi) in enumerate(zip(node.inputs, out)):
            if gi is None or rows[k] is None:
                rows[k] = None
                continue
            shape = t._data.shape
            gi = gi._data if gi.shape == shape else engine.sum_to_shape(gi, shape)._data
            rows[k].append(np.asarray(gi, np.float64).reshape(-1))
    return [None if r is None else np.stack(r) for r in rows]


def _elementwise_local(J, in_shape, out_shape):
    """If q depends on x entry by entry (each q_i on the x entry broadcast to position i), the local derivatives
    ∂q_i/∂x_map(i) in q's shape; else None."""
    try:
        position = np.broadcast_to(np.arange(int(np.prod(in_shape))).reshape(in_shape), out_shape).reshape(-1)
    except ValueError:
        return None
    rows = np.arange(J.shape[0])
    local = J[rows, position]
    rest = J.copy()
    rest[rows, position] = 0
    if np.any(rest != 0):
        return None
    return local.reshape(out_shape)


class Trace:
    def __init__(self, forward, steps, grads, root):
        self.forward, self.steps, self.grads, self.root = forward, steps, grads, root

    # ---- renderings ------------------------------------------------------------------------------------------
    def lines(self):
        out = ["Forward pass (values cached for the backward pass):"]
        for name, expr, value in self.forward:
            shown = "(not kept: record with chainrule.explain.recording())" if value is None else _fmt(value)
            out.append(f"  {name} = {expr} = {shown}" if expr else f"  {name} = {shown}")
        out.append("Backward pass (upstream gradient × local gradient, in reverse topological order):")
        out.append(f"  d{self.root}/d{self.root} = 1 (seed)")
        for i, s in enumerate(self.steps, 1):
            out.append(f"  step {i}: at {s.output} = {s.node} — upstream d{self.root}/d{s.output} = {_fmt(s.upstream)}")
            for inp, edge in zip(s.inputs, s.edges):
                if edge is not None:
                    out.append(f"    d{self.root}/d{inp} += {self._equation(s, inp, edge)}")
        if any(e is not None and e.kind == "Jᵀ" for s in self.steps for e in s.edges):
            out.append("  (∂q/∂x as a matrix: a row per entry of q, a column per entry of x, both in row-major order)")
        accum = [(n, parts) for n, parts in self.grads.items() if len(parts) > 1]
        if accum:
            out.append("Accumulation (a value that feeds several ops sums its gradients):")
            for n, parts in accum:
                out.append(f"  d{self.root}/d{n} = " + " + ".join(_fmt(p) for p in parts) +
                           f" = {_fmt(sum(np.asarray(p) for p in parts))}")
        out.append("Result:")
        for n, parts in self.grads.items():
            if n in self.leaf_names:
                out.append(f"  d{self.root}/d{n} = {_fmt(sum(np.asarray(p) for p in parts))}")
        return out

    def _equation(self, s, inp, edge):
        """The right-hand side of one gradient line: symbols, then the numbers, then the result."""
        up, root = _fmt(s.upstream), self.root
        if edge.kind == "vjp":
            return (f"the vector-Jacobian product of d{root}/d{s.output} through {s.output} (its Jacobian has "
                    f"more than {JACOBIAN_LIMIT} rows) = {_fmt(edge.product)}")
        if edge.kind == "Jᵀ":
            return (f"(∂{s.output}/∂{inp})ᵀ · d{root}/d{s.output} = {_fmt(edge.local)}ᵀ · {up} = "
                    f"{_fmt(edge.product)}")
        text = f"d{root}/d{s.output} × ∂{s.output}/∂{inp} = {up} × {_fmt(edge.local)} = "
        if edge.full is not None:
            return text + f"{_fmt(edge.full)}, summed over broadcast axes to {edge.product.shape} = {_fmt(edge.product)}"
        return text + _fmt(edge.product)

    def __str__(self):
        return "\n".join(self.lines())

    def to_text(self):
        return str(self)

    def to_markdown(self):
        rows = ["| step | node | upstream | local | product |", "|---|---|---|---|---|"]
        for i, s in enumerate(self.steps, 1):
            for inp, edge in zip(s.inputs, s.edges):
                if edge is not None:
                    local = "-" if edge.local is None else _fmt(edge.local) + ("ᵀ ·" if edge.kind == "Jᵀ" else "")
                    rows.append(f"| {i} | ∂{s.output}/∂{inp} at `{s.output} = {s.node}` | {_fmt(s.upstream)} | "
                                f"{local} | {_fmt(edge.product)} |")
        fwd = "\n".join(f"- `{n} = {e}` = {_fmt(v) if v is not None else 'not kept'}" if e else f"- `{n}` = {_fmt(v)}" for n, e, v in self.forward)
        res = "\n".join(f"- d{self.root}/d{n} = {_fmt(sum(np.asarray(p) for p in parts))}"
                        for n, parts in self.grads.items() if n in self.leaf_names)
        return f"### Forward\n{fwd}\n\n### Backward\n" + "\n".join(rows) + f"\n\n### Gradients\n{res}\n"

    def to_html(self):
        body = "".join(f"<tr><td>{html.escape(c)}</td></tr>" for c in self.lines())
        return ("<!doctype html><html><head><meta charset='utf-8'><title>chainrule trace</title><style>"
                "body{font-family:monospace;margin:2em}td{white-space:pre;padding:1px 6px}"
                "tr:nth-child(even){background:#f4f4f8}</style></head><body><h2>The chain rule, step by step</h2>"
                f"<table>{body}</table></body></html>")


class _Recorder:
    def __init__(self):
        self.events = []

    def on_forward(self, node, outs, inputs):
        pass

    def on_backward(self, node, grads_out, grads_in):
        self.events.append((node, [None if g is None else g._data.copy() for g in grads_out],
                            [None if g is None else g._data.copy() for g in grads_in]))


def _topo(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for t in node.inputs or ():
            if t.grad_fn is not None:
                stack.append((t.grad_fn, False))
    return order


class recording:
    """Keep every op's forward value while the graph is built, for trace():

        with cr.explain.recording() as values:
            loss = model(x).sum()
        print(cr.explain.trace(loss, names, values=values))

    (The engine frees activations a backward pass does not need, so without this some values are not kept.)"""

    def __init__(self):
        self.values = {}

    def on_forward(self, node, outs, inputs):
        self.values[id(node)] = outs[0]._data

    def on_backward(self, *args):
        pass

    def __enter__(self):
        self.prev = STATE.observers
        STATE.observers = self.prev + (self,)
        return self

    def __exit__(self, *exc):
        STATE.observers = self.prev


def trace(output, names=None, root_name="f", values=None):
    """Run backward from a scalar `output` and return a Trace of every step. `names` maps names to the leaf
    tensors (x, y, z, w ...); intermediate results are named q1, q2 ... in forward order; `values` is a
    recording() made while the graph was built (without it, values the engine freed show as 'not kept')."""
    names = dict(names or {})
    if output.grad_fn is None:
        raise ValueError("trace: the output has no graph; compute it from tensors with requires_grad=True")
    leaf_name = {id(t): n for n, t in names.items()}
    # forward order is creation order (a topological order too): q1, q2 ... are numbered as the code ran
    order = sorted(_topo(output.grad_fn), key=lambda node: node.seq)
    node_name = {}
    k = 0
    for node in order:
        if node is output.grad_fn:
            node_name[node] = root_name
        else:
            k += 1
            node_name[node] = f"q{k}"

    def name_of(t):
        if t.grad_fn is not None:
            return node_name[t.grad_fn]
        if id(t) not in leaf_name:
            leaf_name[id(t)] = _fmt(t._data) if t._data.size == 1 else f"c{len(leaf_name)}"
        return leaf_name[id(t)]

    forward = []
    for n, t in names.items():
        forward.append((n, "", t._data))
    descriptions = {}
    for node in order:
        descriptions[node] = _expression(node, [name_of(t) for t in node.inputs])
    rec = _Recorder()
    prev = STATE.observers
    STATE.observers = prev + (rec,)
    try:
        engine.run_backward([output], [Tensor._wrap(np.ones_like(output._data))], retain_graph=True,
                            create_graph=False)
    finally:
        STATE.observers = prev
    kept = values.values if isinstance(values, recording) else (values or {})
    for node in order:
        out_val = kept.get(id(node))
        if out_val is None and node is output.grad_fn:
            out_val = output._data
        if out_val is None and getattr(node, "out", None) is not None:
            out_val = node.out
        forward.append((node_name[node], descriptions[node], out_val))
    steps, grads = [], {}
    for node, gout, gin in rec.events:
        g = gout[0]
        edges = _edges(node, g, gin)
        for t, edge in zip(node.inputs, edges):
            if edge is not None:
                grads.setdefault(name_of(t), []).append(edge.product)
        steps.append(Step(descriptions[node], node_name[node], [name_of(t) for t in node.inputs], g, edges))
    # the result lists the named tensors in the order they were given; intermediates keep the sweep's order
    order_of = {n: i for i, n in enumerate(names)}
    grads = dict(sorted(grads.items(), key=lambda item: order_of.get(item[0], len(order_of))))
    tr = Trace(forward, steps, grads, root_name)
    tr.leaf_names = set(names)
    return tr


class _NoObservers:
    def __enter__(self):
        self.prev = STATE.observers
        STATE.observers = ()

    def __exit__(self, *exc):
        STATE.observers = self.prev


def trace_expression(expression, values, dtype="float64"):
    """trace("(x + y) * z", {"x": -2, "y": 5, "z": -4}): build the graph from a Python expression."""
    import math

    import chainrule as cr
    leaves = {k: cr.tensor(np.asarray(v, dtype=dtype), requires_grad=True) for k, v in values.items()}
    functions = _functions()
    env = {"__builtins__": {}, "pi": math.pi, "e": math.e, **functions, **leaves}
    try:
        tree = compile(expression, "<trace>", "eval", ast.PyCF_ONLY_AST)
    except SyntaxError as exc:
        raise ValueError(f"trace: {expression!r} is not a valid expression ({exc.msg})") from None
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    unknown = sorted(called - set(env))
    if unknown:
        raise ValueError(f"trace: unknown function {unknown[0]!r}; the functions an expression may call are "
                         f"{', '.join(sorted(functions))}")
    try:
        with recording() as values:
            out = eval(compile(tree, "<trace>", "eval"), env)
    except NameError as exc:
        raise ValueError(f"trace: {exc}; give every variable a value, e.g. x=1.5") from None
    except (TypeError, IndexError, ArithmeticError, RuntimeError, AttributeError) as exc:   # the expression's own
        # mistake (a missing argument, an index out of range, a method tensors lack): name it
        raise ValueError(f"trace: {expression!r} fails: {exc}") from None
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise ValueError(f"trace: the expression must give a scalar, got {getattr(out, 'shape', out)}")
    return trace(out, leaves, values=values)


def _functions():
    """What a traced expression may call: chainrule's elementwise functions and a few reductions and products by
    their torch names, and Python's abs / max / min / pow as the differentiable abs, maximum, minimum and pow."""
    import chainrule as cr
    import chainrule.nn.functional as F
    names = ["exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos",
             "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid",
             "relu", "abs", "sign", "maximum", "minimum", "clamp", "erf", "erfc", "hypot", "pow", "logaddexp"]
    names += ["sum", "mean", "prod", "dot", "matmul", "outer", "softmax", "log_softmax", "logsumexp", "norm"]
    found = {name: getattr(cr, name) for name in names}
    found.update({name: getattr(F, name) for name in ("softplus", "elu", "gelu", "silu", "leaky_relu", "mish",
                                                       "selu", "logsigmoid", "hardtanh", "softsign")})
    found.update(max=cr.maximum, min=cr.minimum)
    return found


def neuron_example():
    """The texts' Example 2: x = (2, 3), w = (0.5, -0.3), b = 0.1, y = 1, a = σ(w·x + b), binary cross-entropy."""
    import chainrule as cr
    t = lambda v: cr.tensor(v, dtype=cr.float64, requires_grad=True)  # noqa: E731
    x1, x2, w1, w2, b = t(2.0), t(3.0), t(0.5), t(-0.3), t(0.1)
    y = 1.0
    with recording() as values:
        z = w1 * x1 + w2 * x2 + b
        a = cr.sigmoid(z)
        L = -(y * cr.log(a) + (1 - y) * cr.log(1 - a))
    return trace(L, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}, root_name="L", values=values)
