"""Memory shared as torch shares it, and writes into it caught as torch catches them.
- An op's output is a view of its input exactly where torch's is (diagonal and as_strided are views, so
  x.diagonal().zero_() changes x; flip and rot90 copy, so writing into their result leaves x alone).
- A node whose saved input or output was written in place after the forward pass refuses to backward (a named
  InplaceError), also when the write came through another tensor sharing the memory: a view, .detach(), .data, or
  an optimizer step. Before, each of these gave a silently wrong gradient."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import InplaceError
from chainrule.ops.registry import OPS


def test_writes_through_a_view_reach_the_tensor_and_writes_into_a_copy_do_not():
    x = cr.ones(3, 3)
    x.diagonal().zero_()
    np.testing.assert_array_equal(x.numpy(), 1 - np.eye(3))
    x.diagonal(1).fill_(5.0)
    assert x[0, 1].item() == 5.0 and x[1, 2].item() == 5.0
    z = cr.arange(6.0).reshape(2, 3)
    z.as_strided((2,), (2,), 1).zero_()
    np.testing.assert_array_equal(z.numpy(), [[0, 0, 2], [0, 4, 5]])
    y = cr.arange(4.0)
    y.flip(0).add_(10)
    np.testing.assert_array_equal(y.numpy(), [0, 1, 2, 3])
    m = cr.arange(4.0).reshape(2, 2)
    m.rot90(0).add_(10)
    m.fliplr().add_(10)
    np.testing.assert_array_equal(m.numpy(), [[0, 1], [2, 3]])
    p = cr.arange(9.0).reshape(1, 3, 3)
    cr.nn.functional.pixel_unshuffle(p, 3).add_(1)
    cr.nn.functional.pixel_shuffle(p, 1).add_(1)
    np.testing.assert_array_equal(p.numpy(), np.arange(9.0).reshape(1, 3, 3))


def test_diagonal_and_as_strided_views_still_differentiate():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cr.float64, requires_grad=True)
    (x.diagonal() * cr.tensor([10.0, 20.0], dtype=cr.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[10, 0], [0, 20]])
    x.grad = None
    x.as_strided((2, 2), (1, 1)).sum().backward()   # entries read twice add up
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 2], [1, 0]])


def _saved_leaf_graph():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return w, (w * w).sum()


@pytest.mark.parametrize("write", ["view", "detach", "data", "diagonal_of_reshape"])
def test_a_write_through_shared_memory_makes_backward_refuse(write):
    w, loss = _saved_leaf_graph()
    with cr.no_grad():
        if write == "view":
            w[:2].zero_()
        elif write == "detach":
            w.detach().mul_(2)
        elif write == "data":
            w.data.add_(1)
        else:
            w.reshape(3, 1).diagonal().fill_(7.0)
    with pytest.raises(InplaceError, match="MulBackward: the memory of input 0"):
        loss.backward()


def test_a_saved_output_changed_in_place_makes_backward_refuse():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    with cr.no_grad():
        b.mul_(2)
    with pytest.raises(InplaceError, match="ExpBackward: its output"):
        b.sum().backward()


@pytest.mark.parametrize("make", [lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9), lambda p: cr.optim.Adam(p),
                                  lambda p: cr.optim.AdamW(p), lambda p: cr.optim.RMSprop(p)])
def test_an_optimizer_step_between_forward_and_backward_makes_backward_refuse(make):
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([0.5], requires_grad=True)
    opt = make([w, b])
    loss = (w * w).sum() * b.sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(InplaceError):
        loss.backward()
    opt.zero_grad()
    ((w * w).sum() * b.sum()).backward()   # a fresh forward after the step is fine
    assert w.grad is not None


def test_a_custom_functions_saved_tensor_written_through_a_view_is_refused():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Square.apply(x)
    with cr.no_grad():
        x[1:].zero_()
    with pytest.raises(InplaceError, match="saved tensor 0"):
        y.sum().backward()


def test_writes_before_the_forward_pass_and_unrelated_writes_are_fine():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with cr.no_grad():
        w[:1].zero_()                       # before the forward: the graph reads the new values
    other = cr.zeros(3)
    loss = (w * w).sum()
    other[:2].add_(1)                       # memory the graph never saved
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [0, 4, 6])


def test_shares_memory_exactly_where_torch_does():
    """Every registered op, every sample: the output is a view of an input exactly when torch's is."""
    torch = pytest.importorskip("torch", reason="torch is the oracle for which outputs are views")
    from test_torch_registry import CASES, _prepared, _torch_call
    differ = []
    for name, i in CASES:
        flat, call, torch_args = _prepared(name, OPS[name].samples[i], 1000 + i)
        with cr.no_grad():
            out = call(*flat)
        t_args, t_kwargs, _ = torch_args()
        with torch.no_grad():
            t_out = _torch_call(name, t_args, t_kwargs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        t_outs = t_out if isinstance(t_out, (tuple, list)) else (t_out,)
        ours = any(isinstance(o, cr.Tensor) and o.numel() and f.numel() and np.shares_memory(o._data, f._data)
                   for o in outs for f in flat)
        t_in = [a for a in [*t_args, *t_kwargs.values()] if isinstance(a, torch.Tensor) and a.numel()]
        theirs = any(isinstance(o, torch.Tensor) and o.numel()
                     and o.untyped_storage().data_ptr() == t.untyped_storage().data_ptr() for o in t_outs for t in t_in)
        if ours != theirs:
            differ.append((name, i, "chainrule's is a view" if ours else "torch's is a view"))
    assert not differ, differ


# ---- in-place through views while recording gradients (torch's CopySlices) -------------------------------------
def _view_then_base(L, a, w):
    x = a * 1
    x[:2].mul_(w[0])
    return x * L.tensor([1.0, 10.0, 100.0], dtype=a.dtype)


def _overlapping_sibling(L, a, w):
    x = a * 1
    p, q = x[:2], x[1:]
    p.mul_(w[:2])
    return q * w[1:]


def _base_changed_then_view(L, a, w):
    x = a * 1
    v = x[1:]
    x.mul_(w)
    return v.exp()


def _plain_base_takes_grad(L, a, w):
    z = L.zeros(3, dtype=a.dtype)
    z[1:].add_(w[:2] * a[:2])
    return z * L.tensor([1.0, 5.0, 7.0], dtype=a.dtype)


def _transposed_and_diagonal(L, a, w):
    m = a.reshape(3, 1) * w.reshape(1, 3)
    m.T[0].sub_(w)             # row 0 of the transpose: column 0 of m
    m.diagonal().mul_(a)
    return m.sin()


def _sliced_qkv(L, a, w):
    qkv = (a.reshape(3, 1) * w.reshape(1, 3)).reshape(9)
    q, k, v = qkv[:3], qkv[3:6], qkv[6:]   # (torch refuses in-place on chunk's views; chainrule allows it)
    q.mul_(0.5)
    return L.stack([q * k, v]).tanh()


def _setitem_on_a_view(L, a, w):
    x = (a * 2).reshape(1, 3)
    x[0][1] = w[2]
    return x.exp()


def _reshaped_relu(L, a, w):
    x = a * w - 1.5
    x.reshape(3, 1).relu_()
    return x * x


def _one_entry(L, a, w):
    x = a * 1
    x.view(-1)[1].add_(w[0])    # x[1] is a 0-d view, not a copy
    return x.exp()


def _view_of_a_view_then_base(L, a, w):
    x = a * 1
    v = x[1:][:1].unsqueeze(0).squeeze(0)
    v.mul_(w[:1])
    x.add_(w)
    return v * 3


SCENARIOS = [_view_then_base, _overlapping_sibling, _base_changed_then_view, _plain_base_takes_grad,
             _transposed_and_diagonal, _sliced_qkv, _setitem_on_a_view, _reshaped_relu, _one_entry,
             _view_of_a_view_then_base]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_inplace_through_views_with_grad_matches_torch(scenario):
    torch = pytest.importorskip("torch", reason="torch is the oracle for in-place ops through views")
    a0, w0 = np.array([1.0, -2.0, 3.0]), np.array([0.5, 2.0, -1.5])
    results = []
    for L in (cr, torch):
        a = L.tensor(a0, dtype=L.float64, requires_grad=True)
        w = L.tensor(w0, dtype=L.float64, requires_grad=True)
        out = scenario(L, a, w)
        cot = L.tensor(np.linspace(0.5, 2.0, out.numel()).reshape(tuple(out.shape)), dtype=L.float64)
        out.backward(cot)
        results.append((out.detach().numpy(), a.grad.numpy(), w.grad.numpy()))
    for ours, theirs, what in zip(*results, ("output", "gradient of a", "gradient of w")):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=f"{scenario.__name__}: {what}")


def test_inplace_through_a_view_routes_the_gradient():
    a = cr.tensor([1.0, 1.0, 1.0], requires_grad=True)
    x = a * 1
    v = x[:2]
    v.mul_(2)
    np.testing.assert_array_equal(x.detach().numpy(), [2, 2, 1])
    (x * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2, 20, 100])


def test_a_view_of_a_leaf_that_requires_grad_cannot_change_in_place():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(InplaceError, match="view of a leaf tensor that requires grad"):
        w[:1].mul_(2)
    with cr.no_grad():
        w[:1].mul_(2)    # as an optimizer does
    assert w[0].item() == 2.0


def test_an_expanded_tensor_cannot_change_in_place():
    for grad in (False, True):
        a = cr.ones(1, requires_grad=grad) * 1
        with pytest.raises(InplaceError, match="refers to a single memory location"):
            a.expand(4).mul_(2)
    with pytest.raises(InplaceError, match="read-only"):
        ro = np.ones(3)
        ro.flags.writeable = False
        cr.from_numpy(ro).add_(1)
