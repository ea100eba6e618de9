"""Random programs, run on chainrule and on torch (the oracle) in float64: the same values and the same leaf
gradients, first and second order. Each program chains ops the engine must get right together, not one at a
time: broadcasting into reductions, views of views, in-place writes through views of non-leaf tensors (the
version counters and the re-routed graph), a tensor read by several consumers (accumulation), and gradients of
gradients (create_graph). Hypothesis draws the programs and shrinks a failure to the shortest one.

The program runs through one interpreter written against the API both libraries share, so a difference is the
engine's, not the test's."""
import re

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install -e '.[test]')")
from hypothesis import given, settings, strategies as st  # noqa: E402

from helpers import torch_or_skip  # noqa: E402

import chainrule as cr  # noqa: E402


def _outer_to(b, k):
    """A (k, ≤3) matrix made from b's entries, so that anything with last dim k can be multiplied by it."""
    flat = b.flatten()
    return flat[:1].expand(k).unsqueeze(-1) * flat[:3].unsqueeze(0)


def _inplace(write):
    """An in-place op applied to a clone (in-place on a leaf that requires grad is an error in both libraries)."""
    def run(lib, a, b, k):
        y = a.clone()
        write(lib, y, b)
        return y
    return run


def _hooked(t):
    t.register_hook(lambda g: g * 2)   # the gradient passing through t is doubled
    return t


def _under_no_grad(lib, a):
    with lib.no_grad():
        return a * 2


def _segment(a):
    return (a.sin() * a).tanh()


# name -> fn(lib, a, b, k): a and b are earlier values of the program, k a small integer (a dim, say)
OPS = {
    "exp": lambda lib, a, b, k: a.clamp(-5, 5).exp(),
    "tanh": lambda lib, a, b, k: a.tanh(),
    "sigmoid": lambda lib, a, b, k: a.sigmoid(),
    "relu": lambda lib, a, b, k: a.relu(),
    "sin": lambda lib, a, b, k: a.sin(),
    "abs": lambda lib, a, b, k: a.abs(),
    "neg": lambda lib, a, b, k: -a,
    "log": lambda lib, a, b, k: (a.abs() + 1).log(),
    "sqrt": lambda lib, a, b, k: (a.abs() + 1).sqrt(),
    "softplus": lambda lib, a, b, k: lib.nn.functional.softplus(a),
    "gelu": lambda lib, a, b, k: lib.nn.functional.gelu(a),
    "add": lambda lib, a, b, k: a + b,
    "sub": lambda lib, a, b, k: a - b,
    "mul": lambda lib, a, b, k: a * b,
    "div": lambda lib, a, b, k: a / (b.abs() + 1),
    "maximum": lambda lib, a, b, k: lib.maximum(a, b),
    "where": lambda lib, a, b, k: lib.where(a > b, a, b * 2),
    "scalar_ops": lambda lib, a, b, k: (0.5 - a) * 3 + 2 / (a.abs() + 1),
    "pow": lambda lib, a, b, k: (a.abs() + 0.5) ** (-1.5, 0.5, 2, 3)[k],
    "sum": lambda lib, a, b, k: a.sum(k % a.ndim, keepdim=k > 1) if a.ndim else a.sum(),
    "mean": lambda lib, a, b, k: a.mean(k % a.ndim, keepdim=k > 1) if a.ndim else a.mean(),
    "amax": lambda lib, a, b, k: a.amax(k % a.ndim, keepdim=k > 1) if a.ndim else a.amax(),
    "logsumexp": lambda lib, a, b, k: a.logsumexp(k % a.ndim if a.ndim else 0, keepdim=k > 1),
    "softmax": lambda lib, a, b, k: a.softmax(k % a.ndim if a.ndim else 0),
    "log_softmax": lambda lib, a, b, k: a.log_softmax(k % a.ndim if a.ndim else 0),
    "cumsum": lambda lib, a, b, k: a.cumsum(k % a.ndim if a.ndim else 0),
    "mT": lambda lib, a, b, k: a.mT if a.ndim >= 2 else a,
    "flip": lambda lib, a, b, k: a.flip(-1) if a.ndim else a,
    "unsqueeze": lambda lib, a, b, k: a.unsqueeze(0),
    "flatten": lambda lib, a, b, k: a.flatten(),
    "slice": lambda lib, a, b, k: a[..., 1:] if a.ndim and a.shape[-1] > 1 else a,
    "step": lambda lib, a, b, k: a[::2] if a.ndim else a,
    "index": lambda lib, a, b, k: a[lib.tensor([0, 0, -1])] if a.ndim and a.shape[0] else a,
    "reshape": lambda lib, a, b, k: a.reshape(tuple(reversed(a.shape))),
    "contiguous": lambda lib, a, b, k: a.mT.contiguous() if a.ndim >= 2 else a,
    "expand": lambda lib, a, b, k: a.unsqueeze(0).expand(2, *a.shape),
    "cat": lambda lib, a, b, k: lib.cat([a, a * 2], dim=-1) if a.ndim else a,
    "stack": lambda lib, a, b, k: lib.stack([a, a.sin()], 0),
    "roll": lambda lib, a, b, k: a.roll(1, -1) if a.ndim else a,
    "tril": lambda lib, a, b, k: a.tril() if a.ndim >= 2 else a,
    "diagonal": lambda lib, a, b, k: a.diagonal(dim1=-2, dim2=-1) if a.ndim >= 2 else a,
    "narrow": lambda lib, a, b, k: a.narrow(0, 0, 1) if a.ndim and a.shape[0] else a,
    "matmul": lambda lib, a, b, k: a @ _outer_to(b, a.shape[-1]) if a.ndim and b.numel() else a * b,
    "detach": lambda lib, a, b, k: a.detach() * b + a,
    "hook": lambda lib, a, b, k: _hooked(a * 1),
    "no_grad": lambda lib, a, b, k: b + _under_no_grad(lib, a),
    "checkpoint": lambda lib, a, b, k: lib.utils.checkpoint.checkpoint(_segment, a, use_reentrant=False),
    "chunk": lambda lib, a, b, k: a.chunk(2, -1)[k % 2] if a.ndim and a.shape[-1] > 1 else a,
    "var": lambda lib, a, b, k: a.var(-1, keepdim=k > 1) if a.ndim and a.shape[-1] > 1 else a,
    "std": lambda lib, a, b, k: (a.std(-1) if a.ndim and a.shape[-1] > 1 else a) + 0,
    "vector_norm": lambda lib, a, b, k: lib.linalg.vector_norm(a + 1.5, (1, 2, 3, 2.5)[k], dim=-1) if a.ndim else a,
    "einsum": lambda lib, a, b, k: lib.einsum("...i,...i->...", a, a) if a.ndim else a * a,
    "max_values": lambda lib, a, b, k: a.max(-1).values if a.ndim else a,
    "topk": lambda lib, a, b, k: a.topk(min(2, a.shape[-1]), -1).values if a.ndim else a,
    "sort": lambda lib, a, b, k: a.sort(-1, descending=k > 1).values if a.ndim else a,
    "pad": lambda lib, a, b, k: lib.nn.functional.pad(a, (1, 2)) if a.ndim else a,
    "gather": lambda lib, a, b, k: a.gather(-1, lib.zeros(a.shape, dtype=lib.int64)) if a.ndim else a,
    "index_select": lambda lib, a, b, k: a.index_select(0, lib.tensor([0, 0])) if a.ndim and a.shape[0] else a,
    "masked_select": lambda lib, a, b, k: a.masked_select(a > 0),
    "addcmul_": _inplace(lambda lib, y, b: y.addcmul_(y.detach().sin(), y.detach().cos(), value=0.5)),
    "index_put_": _inplace(lambda lib, y, b: y.index_put_((lib.tensor([0, 0]),), b.sum() * lib.ones(y.shape[1:],
                           dtype=lib.float64), accumulate=True) if y.ndim and y.shape[0] else None),
    "mul_": _inplace(lambda lib, y, b: y.mul_(2)),
    "view_add_": _inplace(lambda lib, y, b: y[1:].add_(b.sum()) if y.ndim and y.shape[0] > 1 else y.add_(1)),
    "relu_": _inplace(lambda lib, y, b: y.relu_()),
    "setitem": _inplace(lambda lib, y, b: y.__setitem__(0, b.sum() * 3) if y.ndim and y.shape[0] else None),
    "transposed_mul_": _inplace(lambda lib, y, b: y.mT.mul_(3) if y.ndim >= 2 else y.mul_(3)),
    "masked_fill_": _inplace(lambda lib, y, b: y.masked_fill_(y > 0.3, 0.5)),
    "clamp_": _inplace(lambda lib, y, b: y.clamp_(-0.5, 0.7)),
    "exp_": _inplace(lambda lib, y, b: y.clamp_(-3, 3).exp_()),
    # more reductions, scans and order statistics (zeros from relu make prod's and cumprod's special cases)
    "prod": lambda lib, a, b, k: a.prod(k % a.ndim, keepdim=k > 1) if a.ndim else a.prod(),
    "cumprod": lambda lib, a, b, k: a.cumprod(k % a.ndim if a.ndim else 0),
    "logcumsumexp": lambda lib, a, b, k: a.logcumsumexp(k % a.ndim if a.ndim else 0),
    "cummax": lambda lib, a, b, k: a.cummax(k % a.ndim if a.ndim else 0).values,
    "median": lambda lib, a, b, k: a.median(-1).values if a.ndim else a,
    "kthvalue": lambda lib, a, b, k: a.kthvalue(1, -1).values if a.ndim and a.shape[-1] else a,
    "min_values": lambda lib, a, b, k: a.min(0).values if a.ndim and a.shape[0] else a,
    # (+ 0.5: the norm of an exact 0, mse_loss(a, a) say, is a kink whose second derivative torch makes nan)
    "norm": lambda lib, a, b, k: (a + 0.5).norm() * b,
    "nansum": lambda lib, a, b, k: a.nansum(-1) if a.ndim else a.nansum(),
    "std_correction": lambda lib, a, b, k: a.std(-1, correction=0) + 0 if a.ndim and a.shape[-1] > 1 else a,
    "var_mean": lambda lib, a, b, k: sum(lib.var_mean(a, -1)) if a.ndim and a.shape[-1] > 1 else a,
    "trace": lambda lib, a, b, k: a.trace() if a.ndim == 2 else a,
    # binary and ternary elementwise ops, broadcasting
    "atan2": lambda lib, a, b, k: lib.atan2(a, b.abs() + 0.1),
    "hypot": lambda lib, a, b, k: lib.hypot(a, b + 2),
    "lerp": lambda lib, a, b, k: lib.lerp(a, b, 0.3) if k % 2 else lib.lerp(a, b, b.sigmoid()),
    "clamp_tensor": lambda lib, a, b, k: a.clamp(min=b - 0.5, max=b + 0.5),
    "xlogy": lambda lib, a, b, k: lib.xlogy(a, b.abs() + 0.5),
    "logaddexp": lambda lib, a, b, k: lib.logaddexp(a, b),
    "remainder": lambda lib, a, b, k: lib.remainder(a * 3, 1.5),
    "floor_plus": lambda lib, a, b, k: a.floor() + a,
    "sign_mul": lambda lib, a, b, k: a.sign() * b,
    "erf": lambda lib, a, b, k: a.erf(),
    "atan": lambda lib, a, b, k: a.atan(),
    "asinh": lambda lib, a, b, k: a.asinh(),
    "silu": lambda lib, a, b, k: lib.nn.functional.silu(a),
    "elu": lambda lib, a, b, k: lib.nn.functional.elu(a, 0.7),
    "leaky_relu": lambda lib, a, b, k: lib.nn.functional.leaky_relu(a, 0.1),
    "hardtanh": lambda lib, a, b, k: lib.nn.functional.hardtanh(a, -0.5, 0.5),
    # (shifted: a zero vector, which x - x makes exactly, is a kink whose second derivative torch makes nan)
    "normalize": lambda lib, a, b, k: lib.nn.functional.normalize(a + 0.5, dim=-1) if a.ndim else a,
    "cosine_similarity": lambda lib, a, b, k: lib.nn.functional.cosine_similarity(a + 0.5, b - 0.25, dim=-1)
    if a.ndim and b.ndim else a * b,
    "layer_norm": lambda lib, a, b, k: lib.nn.functional.layer_norm(a, a.shape[-1:]) if a.ndim else a,
    "mse_loss": lambda lib, a, b, k: lib.nn.functional.mse_loss(a, b.expand_as(a).detach())
    if lib.broadcast_shapes(a.shape, b.shape) == a.shape else a,
    "where_scalar": lambda lib, a, b, k: lib.where(a > 0, a, 0.0),
    # shape ops and views
    "repeat": lambda lib, a, b, k: a.repeat(*([2] + [1] * (a.ndim - 1))) if a.ndim else a.repeat(2),
    "repeat_interleave": lambda lib, a, b, k: a.repeat_interleave(2, dim=-1) if a.ndim else a,
    "tile": lambda lib, a, b, k: a.tile((2,)),
    "transpose": lambda lib, a, b, k: a.transpose(0, -1) if a.ndim else a,
    "permute": lambda lib, a, b, k: a.permute(*reversed(range(a.ndim))) if a.ndim else a,
    "squeeze": lambda lib, a, b, k: a.squeeze(),
    "movedim": lambda lib, a, b, k: a.movedim(0, -1) if a.ndim else a,
    "unbind": lambda lib, a, b, k: a.unbind(0)[-1] if a.ndim and a.shape[0] else a,
    "split_sizes": lambda lib, a, b, k: a.split([1, a.shape[-1] - 1], -1)[k % 2] if a.ndim and a.shape[-1] > 1
    else a,
    "diag_embed": lambda lib, a, b, k: lib.diag_embed(a) if a.ndim else a,
    "triu_1": lambda lib, a, b, k: a.triu(1) if a.ndim >= 2 else a,
    "outer": lambda lib, a, b, k: lib.outer(a.flatten(), b.flatten()),
    "take_along_dim": lambda lib, a, b, k: lib.take_along_dim(a, a.argsort(-1), -1) if a.ndim else a,
    "scatter_add": lambda lib, a, b, k: a.scatter_add(-1, lib.zeros(a.shape, dtype=lib.int64), a.sin())
    if a.ndim else a,
    "index_add": lambda lib, a, b, k: a.index_add(0, lib.zeros(a.shape[0], dtype=lib.int64), a.cos())
    if a.ndim else a,
    "unfold_view": lambda lib, a, b, k: a.unfold(-1, 2, 1) if a.ndim and a.shape[-1] > 1 else a,
    "as_strided_like": lambda lib, a, b, k: a.expand(2, *a.shape).sum(0),
    # more in-place writes on non-leaf clones
    "sigmoid_": _inplace(lambda lib, y, b: y.sigmoid_()),
    "tanh_": _inplace(lambda lib, y, b: y.tanh_()),
    "abs_": _inplace(lambda lib, y, b: y.abs_()),
    "sub_alpha_": _inplace(lambda lib, y, b: y.sub_(b.sum(), alpha=2)),
    # (.clone(): a .detach() alias of y, saved by the mul, would see torch's write and make torch refuse, where
    # chainrule's in-place op with grad rebinds y and leaves the alias its old values: a known difference)
    "copy_": _inplace(lambda lib, y, b: y.copy_(b.sum() * y.detach().clone() + 1)),
    "scatter_": _inplace(lambda lib, y, b: y.scatter_(-1, lib.zeros(y.shape[:-1] + (1,), dtype=lib.int64),
                                                      b.sum() * lib.ones(y.shape[:-1] + (1,), dtype=lib.float64))
                         if y.ndim else None),
    "index_copy_": _inplace(lambda lib, y, b: y.index_copy_(0, lib.tensor([0]),
                                                            (y[:1] * 0 + b.sum()).detach() + b.sum())
                            if y.ndim and y.shape[0] else None),
    "masked_scatter_": _inplace(lambda lib, y, b: y.masked_scatter_(y > 0, y.detach().cos() * b.sum())),
    "fill_diagonal_": _inplace(lambda lib, y, b: y.fill_diagonal_(0.5) if y.ndim == 2 else None),
    "t_view_add_": _inplace(lambda lib, y, b: y.t().add_(1) if y.ndim == 2 else None),
    "unsqueeze_": _inplace(lambda lib, y, b: y.unsqueeze_(0)),
}
SHAPES = [(3, 4), (4,), (1, 4), (3, 1), (2, 3, 4), ()]
N_LEAVES = 3

programs = st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 99), st.integers(0, 99),
                              st.integers(0, 3)), min_size=1, max_size=12)
leaf_shapes = st.lists(st.sampled_from(SHAPES), min_size=N_LEAVES, max_size=N_LEAVES)


def run_program(lib, program, arrays, second_order):
    """The values the program computes, and the leaves' gradients of Σᵢ vᵢ·wᵢ over every value that needs a
    gradient (fixed weights wᵢ), or, with second_order, of Σ g·cos(g) over the first-order gradients g (taken with
    create_graph=True). A gradient is None where the loss does not reach that leaf."""
    leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    values = list(leaves)
    for name, i, j, k in program:
        values.append(OPS[name](lib, values[i % len(values)], values[j % len(values)], k))
    loss = 0
    for n, v in enumerate(values[N_LEAVES:]):
        if v.requires_grad:
            weights = np.cos(np.arange(v.numel()) + n).reshape(tuple(v.shape))
            loss = loss + (v * lib.tensor(weights, dtype=lib.float64)).sum()
    if not isinstance(loss, int):
        if second_order:
            grads = lib.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
            total = sum((g * g.detach().cos()).sum() for g in grads if g is not None and g.requires_grad)
            if not isinstance(total, int):
                total.backward()
        else:
            loss.backward()
    as_array = (lambda t: t.detach().numpy(force=True)) if lib is not cr else (lambda t: t.detach().numpy())
    return [as_array(v) for v in values[N_LEAVES:]], [None if t.grad is None else as_array(t.grad) for t in leaves]


def check_against_torch(program, shapes, seed, second_order):
    torch = torch_or_skip()
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    try:
        ours_values, ours_grads = run_program(cr, program, arrays, second_order)
    except Exception as ours:   # shapes that do not broadcast, say: torch must refuse the program too
        with pytest.raises(Exception):
            run_program(torch, program, arrays, second_order)
        assert re.match(r"[\w.]+: ", str(ours)), f"the error does not begin with the op's name: {ours}"
        return
    their_values, their_grads = run_program(torch, program, arrays, second_order)
    for n, (a, b) in enumerate(zip(ours_values, their_values)):
        assert a.shape == b.shape, f"value {n} ({program[n][0]}): shape {a.shape}, torch {b.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"value {n} ({program[n][0]})")
    for n, (a, b) in enumerate(zip(ours_grads, their_grads)):
        if second_order and (a is None) != (b is None):
            # a gradient whose second derivative is zero: one library may leave it unconnected (None) where the
            # other's backward formula reads the input (relu's mask), giving zeros; both are right
            a = np.zeros_like(b) if a is None else a
            b = np.zeros_like(a) if b is None else b
        assert (a is None) == (b is None), f"leaf {n}: gradient {a}, torch's {b}"
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10, err_msg=f"gradient of leaf {n}")


@settings(max_examples=150, deadline=None)
@given(programs, leaf_shapes, st.integers(0, 2 ** 16))
def test_random_program_matches_torch(program, shapes, seed):
    check_against_torch(program, shapes, seed, second_order=False)


@settings(max_examples=80, deadline=None)
@given(programs, leaf_shapes, st.integers(0, 2 ** 16))
def test_random_program_second_order_matches_torch(program, shapes, seed):
    check_against_torch(program, shapes, seed, second_order=True)


def test_the_interpreter_reaches_every_op():
    """Each op runs on a (3, 4) input in both libraries and gives the same values: the table itself is sound."""
    for name in OPS:
        check_against_torch([(name, 0, 1, 1)], [(3, 4), (3, 4), (4,)], 0, second_order=False)
