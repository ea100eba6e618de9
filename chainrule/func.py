"""JAX-style function transforms: grad(f, argnums) returns a function that computes df/dx."""
import numpy as np

from .autograd.functional import grad as _autograd_grad, jacobian_blocks
from .autograd.grad_mode import enable_grad
from .einops import rearrange  # noqa: F401  (torch.func.rearrange)
from .errors import BackwardError
from .tensor import Tensor


def _flatten(tree):
    """(leaves, rebuild) of a nested dict / list / tuple (torch.func's pytrees): rebuild(new_leaves) puts new
    leaves in the same structure."""
    if isinstance(tree, dict):
        parts = [_flatten(v) for v in tree.values()]
        keys = list(tree)
        return [leaf for leaves, _ in parts for leaf in leaves], \
            lambda new: dict(zip(keys, _split(new, parts)))
    if isinstance(tree, (list, tuple)) and not isinstance(tree, Tensor):
        parts = [_flatten(v) for v in tree]
        kind = type(tree)
        build = (lambda items: kind(*items)) if hasattr(tree, "_fields") else kind
        return [leaf for leaves, _ in parts for leaf in leaves], lambda new: build(_split(new, parts))
    return [tree], lambda new: new[0]


def _split(new, parts):
    out, k = [], 0
    for leaves, rebuild in parts:
        out.append(rebuild(new[k:k + len(leaves)]))
        k += len(leaves)
    return out


def _as_input(a):
    if isinstance(a, Tensor) and a.requires_grad:
        return a   # an outer transform differentiates through this one: keep the graph
    data = a._data if isinstance(a, Tensor) else np.asarray(a, dtype=np.float64 if isinstance(a, float) else None)
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    return Tensor._wrap(data).requires_grad_(True)


def _prepare(args, argnums):
    """args with every differentiated argument (a tensor, a number, or a dict / list / tuple of them) made of
    fresh leaves that require grad; -> (args, argnums as a tuple, per argnum (leaves, rebuild))."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    args = list(args)
    trees = []
    for i in nums:
        leaves, rebuild = _flatten(args[i])
        leaves = [_as_input(leaf) for leaf in leaves]
        args[i] = rebuild(leaves)
        trees.append((leaves, rebuild))
    return args, nums, trees


def value_and_grad(f, argnums=0, has_aux=False):
    """g = value_and_grad(f); (value, df/dx) = g(x, ...). argnums picks the differentiated arguments; each may be
    a tensor or a dict / list / tuple of them (a model's parameters), and its gradient has the same structure."""
    def wrapped(*args, **kwargs):
        xs, nums, trees = _prepare(args, argnums)
        with enable_grad():
            out = f(*xs, **kwargs)
        value, aux = (out[0], out[1]) if has_aux else (out, None)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise BackwardError(f"func.grad: f must return a scalar tensor, got {getattr(value, 'shape', type(value))}; "
                                f"reduce it (.sum() or .mean()) first, or use vjp / jacrev for a non-scalar output")
        nested = any(isinstance(leaf, Tensor) and leaf.requires_grad for i in nums for leaf in _flatten(args[i])[0])
        leaves = [leaf for leaves, _ in trees for leaf in leaves]
        flat = _autograd_grad(value, leaves, allow_unused=True, materialize_grads=True, create_graph=nested)
        gs = _split(list(flat), trees)
        gs = gs[0] if isinstance(argnums, int) else tuple(gs)
        result = (value if nested else value.detach(), gs)
        return (result, aux) if has_aux else result
    return wrapped


def grad(func, argnums=0, has_aux=False):
    """df/dx as a function: grad(lambda x: (x ** 3).sum())(x) == 3x²; composable: grad(grad(f))."""
    vg = value_and_grad(func, argnums, has_aux)

    def wrapped(*args, **kwargs):
        out = vg(*args, **kwargs)
        return (out[0][1], out[1]) if has_aux else out[1]
    return wrapped


def grad_and_value(func, argnums=0, has_aux=False):
    """torch.func.grad_and_value: g(x, ...) = (df/dx, f(x)) — value_and_grad's pair the other way round (with
    has_aux: ((grad, (value, aux))), as torch)."""
    vg = value_and_grad(func, argnums, has_aux)

    def wrapped(*args, **kwargs):
        out = vg(*args, **kwargs)
        if has_aux:
            (value, g), aux = out
            return g, (value, aux)
        return out[1], out[0]
    return wrapped


def _selected(argnums, gs):
    return gs[0] if isinstance(argnums, int) else tuple(gs)


def jacrev(func, argnums=0, has_aux=False, *, chunk_size=None):
    """The Jacobian of func as a function, by reverse mode (one backward pass per output element): for an output of
    shape O and an input of shape I, the result has shape O + I (a tuple per input when argnums is a tuple, and per
    output when func returns a tuple). Composable: hessian = jacfwd(jacrev(f)). chunk_size (torch's bound on how
    many rows are computed at once) needs no effect here: the rows are computed one at a time already."""
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"jacrev: chunk_size must be None or ≥ 1, got {chunk_size}")

    def wrapped(*args, **kwargs):
        xs, nums, trees = _prepare(args, argnums)
        nested = any(isinstance(args[i], Tensor) and args[i].requires_grad for i in nums)
        with enable_grad():
            out = func(*xs, **kwargs)
        out, aux = (out[0], out[1]) if has_aux else (out, None)
        outs = [out] if isinstance(out, Tensor) else list(out)
        if not all(isinstance(o, Tensor) for o in outs):
            raise TypeError(f"jacrev: func must return a Tensor or a tuple of them, got {type(out).__name__}")
        wrt = [leaf for leaves, _ in trees for leaf in leaves]   # a dict of parameters: one block per entry

        def blocks(o):
            flat = jacobian_blocks(o, wrt, nested) if o.requires_grad else \
                [Tensor._wrap(np.zeros(o.shape + x.shape, x.dtype)) for x in wrt]
            return _selected(argnums, _split(list(flat), trees))
        jacs = tuple(blocks(o) for o in outs)
        jac = jacs[0] if isinstance(out, Tensor) else jacs
        return (jac, aux) if has_aux else jac
    return wrapped


def jacfwd(func, argnums=0, has_aux=False, randomness="error"):
    """torch.func.jacfwd's Jacobian: the same numbers as jacrev (computed here in reverse mode as well)."""
    return jacrev(func, argnums, has_aux)


def hessian(func, argnums=0):
    """The Hessian of a scalar function as a function: the Jacobian of its gradient, shape I + I."""
    return jacfwd(jacrev(func, argnums), argnums)


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn) where vjp_fn(v) gives vᵀJ for every primal (a tuple, as torch.func.vjp)."""
    xs, nums, trees = _prepare(primals, tuple(range(len(primals))))
    with enable_grad():
        out = func(*xs)
    out, aux = (out[0], out[1]) if has_aux else (out, None)

    def vjp_fn(v):   # one cotangent per primal, in the primal's structure (a dict of parameters gives a dict)
        leaves = [leaf for leaves, _ in trees for leaf in leaves]
        flat = _autograd_grad(out, leaves, v, retain_graph=True, allow_unused=True, materialize_grads=True)
        return tuple(_split(list(flat), trees))
    result = (out.detach(), vjp_fn)
    return result + (aux,) if has_aux else result


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J·tangents): the directional derivative along tangents (one per primal); with has_aux, func
    returns (output, aux) and jvp returns (output, J·tangents, aux). strict=True raises when an output does not
    depend on the primals."""
    from .autograd.functional import jvp as _jvp
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    aux = []

    def split(*args):
        out = func(*args)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("jvp: with has_aux=True the function must return a pair (output, aux)")
        aux.append(_detached(out[1]))   # as torch's: aux leaves the transform as a plain value
        return out[0]
    out, tangent = _jvp(split if has_aux else func, tuple(primals), tuple(tangents), strict=strict)
    return (out, tangent, aux[0]) if has_aux else (out, tangent)


def _detached(value):
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(_detached(v) for v in value)
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def linearize(func, *primals):
    """(func(*primals), jvp_fn) with jvp_fn(*tangents) = J·tangents at the primals (torch.func.linearize)."""
    from .autograd.grad_mode import no_grad
    with no_grad():
        out = func(*primals)
    return out, lambda *tangents: jvp(func, primals, tangents)[1]


def stack_module_state(models):
    """({name: parameters of every model stacked on a new dim 0}, {name: buffers stacked}) for ensembling with
    vmap and functional_call (torch.func.stack_module_state); the stacked parameters are new leaves."""
    from .ops.shape import stack as _stack
    models = list(models)
    if not models:
        raise ValueError("stack_module_state: expected at least one model")
    names = [n for n, _ in models[0].named_parameters()]
    params = {n: _stack([dict(m.named_parameters())[n].detach() for m in models]).requires_grad_(True)
              for n in names}
    buffers = {n: _stack([dict(m.named_buffers())[n] for m in models]) for n, _ in models[0].named_buffers()}
    return params, buffers


def _with_dims(tree, dims, what, where):
    """[(leaf, its dim, where it sits)] for every leaf of tree (a tensor, or a dict / list / tuple of them, as
    _flatten orders them), dims being one int or None for a whole subtree, or a tree of them matching tree's
    structure (torch's nested in_dims and out_dims; `what` names which, in the errors)."""
    if isinstance(dims, dict) and not isinstance(tree, dict) or \
            isinstance(dims, (list, tuple)) and not isinstance(tree, (list, tuple)):
        raise ValueError(f"vmap: {where}: {what} {dims!r} does not match its structure, a {type(tree).__name__}; "
                         f"give one per entry, or one int for all of them")
    if isinstance(tree, dict):
        if isinstance(dims, dict) and set(dims) != set(tree):
            raise ValueError(f"vmap: {where}: {what} has keys {sorted(dims)} but it has {sorted(tree)}")
        return [p for k, v in tree.items()
                for p in _with_dims(v, dims[k] if isinstance(dims, dict) else dims, what, f"{where}[{k!r}]")]
    if isinstance(tree, (list, tuple)):
        if isinstance(dims, (list, tuple)) and len(dims) != len(tree):
            raise ValueError(f"vmap: {where}: {what} has {len(dims)} entries but it has {len(tree)}")
        each = dims if isinstance(dims, (list, tuple)) else [dims] * len(tree)
        return [p for k, (v, d) in enumerate(zip(tree, each)) for p in _with_dims(v, d, what, f"{where}[{k}]")]
    return [(tree, dims, where)]


def _mapped_size(leaf, dim, where):
    """The size of the mapped dim of one input leaf, checking that it is a tensor with that dim."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise ValueError(f"vmap: {where}: an in_dim must be an int, None, or a tuple / dict of them matching the "
                         f"input, got {dim!r}")
    if not isinstance(leaf, Tensor):
        raise ValueError(f"vmap: {where} is a {type(leaf).__name__}, which has no dim to map over; give None as its "
                         f"in_dim (it is then passed to every call as it is)")
    if not -leaf.ndim <= dim < max(leaf.ndim, 1) or leaf.ndim == 0:
        raise ValueError(f"vmap: {where} has shape {tuple(leaf.shape)}, so in_dim={dim} is out of range (the input "
                         f"must have a dim there to map over)")
    return leaf.shape[dim]


def _stacked_leaf(values, dim, where):
    """The per-entry values of one output leaf, stacked at dim; with dim None the (unbatched) value itself."""
    from .ops.shape import stack
    if dim is None:
        first = values[0]
        if isinstance(first, Tensor) and any(not np.array_equal(v._data, first._data) for v in values[1:]):
            raise ValueError(f"vmap: the {where} varies over the mapped dim, so it cannot have out_dim None; give "
                             f"it an int out_dim")
        return first
    if not all(isinstance(v, Tensor) for v in values):
        raise ValueError(f"vmap: the {where} is a {type(values[0]).__name__}, which cannot be stacked; return "
                         f"tensors, or give None as its out_dim")
    return stack(values, dim=dim)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over a batch dim of its inputs (torch.func.vmap): in_dims gives that dim per argument (None:
    not mapped; an argument may be a dict/list/tuple of tensors, mapped at one dim or at a matching tree of dims),
    out_dims where the batch dim goes in each output (None: an output that does not vary, returned once). Keyword
    arguments are passed to every call unmapped. Runs func once per batch entry and stacks the results, so any
    function that works on one entry works, and gradients flow through as usual. randomness='same' gives every
    entry the same random numbers (the generator is rewound before each call), 'different' fresh ones, and 'error'
    (torch's default) refuses any random op inside func with a named RuntimeError."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"vmap: randomness must be 'error', 'different' or 'same', got {randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size must be None or a positive int, got {chunk_size!r}")

    def wrapped(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries but the function got {len(args)} arguments")
        trees = [(_flatten(a)[1], _with_dims(a, d, "in_dims", f"argument {k}"))
                 for k, (a, d) in enumerate(zip(args, dims))]
        sizes = {_mapped_size(leaf, d, where) for _, leaves in trees for leaf, d, where in leaves if d is not None}
        if len(sizes) != 1:
            raise ValueError(f"vmap: the mapped dims must all have one size, got sizes {sorted(sizes)} (in_dims "
                             f"{tuple(dims)}, shapes {[tuple(getattr(a, 'shape', ())) for a in args]})"
                             if sizes else "vmap: at least one input must be mapped (an in_dim that is not None)")

        def call(per_leaf):   # func on the arguments with per_leaf(tensor, dim) in place of every mapped tensor
            mapped = [rebuild([leaf if d is None else per_leaf(leaf, d) for leaf, d, _ in leaves])
                      for rebuild, leaves in trees]
            if randomness != "error":
                return func(*mapped, **kwargs)
            _random._REFUSING[0] += 1
            try:
                return func(*mapped, **kwargs)
            finally:
                _random._REFUSING[0] -= 1
        from . import random as _random
        size = sizes.pop()
        if size == 0:   # func runs once on the sum over the empty dim (zeros that keep the graph), to learn shapes
            out = call(lambda t, d: t.sum(d).to(t.dtype))
            leaves, rebuild = _flatten(out)
            return rebuild([leaf if d is None else leaf.unsqueeze(d).narrow(d, 0, 0)
                            for leaf, d, _ in _with_dims(out, out_dims, "out_dims", "output")])
        rewind = _random.get_rng_state() if randomness == "same" else None
        outs = []
        for i in range(size):
            if rewind is not None:
                _random.set_rng_state(rewind)
            outs.append(call(lambda t, d: t.select(d, i)))
        leaves, rebuild = _flatten(outs[0])
        per_call = [_flatten(o)[0] for o in outs]
        return rebuild([_stacked_leaf([p[k] for p in per_call], d, where)
                        for k, (_, d, where) in enumerate(_with_dims(outs[0], out_dims, "out_dims", "output"))])
    return wrapped


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *, tie_weights=True, strict=False):
    """module(*args) with its parameters and buffers replaced by the given tensors for this one call (by dotted
    name, as in state_dict()); the module is left as it was."""
    dicts = parameter_and_buffer_dicts
    merged = {}
    for d in (dicts if isinstance(dicts, (tuple, list)) else (dicts,)):
        merged.update(d)
    known = dict(module.named_parameters())
    known.update(dict(module.named_buffers()))
    unknown = sorted(set(merged) - set(known))
    if unknown or (strict and set(known) - set(merged)):
        raise KeyError(f"functional_call: unexpected names {unknown}" + (
            f", missing {sorted(set(known) - set(merged))}" if strict else "") + f"; the module has {sorted(known)}")
    saved = []
    try:
        for name, value in merged.items():
            owner, _, attr = name.rpartition(".")
            sub = module.get_submodule(owner) if owner else module
            saved.append((sub, attr))
            object.__setattr__(sub, attr, value)   # an instance attribute shadows the registered one
        return module(*(args if isinstance(args, tuple) else (args,)), **(kwargs or {}))
    finally:
        for sub, attr in saved:
            sub.__dict__.pop(attr, None)


def replace_all_batch_norm_modules_(root):
    """Every BatchNorm in root stops tracking running statistics (running_mean / running_var / num_batches_tracked
    become None and batch statistics are used), in place, as torch's: what vmap over a model with BatchNorm needs.
    Returns root."""
    from .nn.norm import _BatchNorm
    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                module._buffers[name] = None
            module.track_running_stats = False
    return root


def functionalize(func, *, remove="mutations"):
    """torch.func.functionalize: func with its internal mutations and aliasing removed for tracing, its observable
    behaviour unchanged. chainrule runs eagerly and traces nothing, so that behaviour is func's own."""
    if remove not in ("mutations", "mutations_and_views"):
        raise ValueError(f"functionalize: remove must be 'mutations' or 'mutations_and_views', got {remove!r}")

    def functionalized(*args, **kwargs):
        return func(*args, **kwargs)
    return functionalized


def debug_unwrap(tensor, *, recurse=True):
    """torch.func.debug_unwrap: the plain tensor under a transform's wrapper; chainrule's transforms pass plain
    tensors, so it is the tensor itself."""
    return tensor
