"""In-place ops while gradients are recorded, as torch records them.
- Every in-place Tensor method on a tensor that requires grad gives torch's values and gradients (copy_, fill_,
  zero_ and fill_diagonal_ wrote the array and kept the old history: y.copy_(w) sent w's gradient to y's inputs).
- The tensor keeps its dtype (y.add_(w64) made a float32 y float64) and its shape (a broadcast result is refused).
- A view taken under no_grad and changed in place with grad is refused, as torch refuses it (the change reached
  the base unrecorded: a silently wrong gradient).
- A view is a new tensor even where nothing moves (x.view(x.shape), x.permute(0, 1), x.expand(x.shape), x.t() of a
  vector), as torch's, so a hook, requires_grad_ or in-place op on it is its own."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import InplaceError, ShapeError
from chainrule.ops.inplace import _NAMES

RNG = np.random.default_rng(0)
X, W, R = (RNG.uniform(0.2, 0.8, (3, 4)) for _ in range(3))
V = RNG.uniform(0.2, 0.8, (4,))
MASK = X > 0.5
ROWS = [[0, 1, 2, 0], [2, 0, 1, 1]]


def _other(L, w, v):
    return (w,)


# the arguments of x.name_(…) where it takes more than the tensor: w and v require grad
ARGS = {
    "clamp_min": lambda L, w, v: (0.5,), "clamp_max": lambda L, w, v: (0.5,), "clip": lambda L, w, v: (0.3, 0.6),
    "lerp": lambda L, w, v: (w, 0.3), "addcmul": lambda L, w, v: (w, v), "addcdiv": lambda L, w, v: (w, v + 1),
    "scatter": lambda L, w, v: (0, L.tensor(ROWS), w[:2]), "scatter_add": lambda L, w, v: (0, L.tensor(ROWS), w[:2]),
    "scatter_reduce": lambda L, w, v: (0, L.tensor(ROWS), w[:2], "prod"),
    "index_add": lambda L, w, v: (0, L.tensor([2, 0]), w[:2]), "index_copy": lambda L, w, v: (0, L.tensor([2, 0]), w[:2]),
    "index_fill": lambda L, w, v: (1, L.tensor([1, 3]), w[0, 0]), "masked_scatter": lambda L, w, v: (L.tensor(MASK), w),
    "cumsum": lambda L, w, v: (1,), "cumprod": lambda L, w, v: (1,), "copysign": lambda L, w, v: (w - 0.5,),
    "addmm": lambda L, w, v: (w[:, :3], w * 2), "addr": lambda L, w, v: (w[:, 0], v),
    "renorm": lambda L, w, v: (2, 0, 1.0), "ldexp": lambda L, w, v: (L.tensor([[1, 2, 0, 1]] * 3),),
    "hardshrink": lambda L, w, v: (0.5,), "polygamma": None, "baddbmm": None, "addbmm": None, "addmv": None,
    "igamma": None, "igammac": None,   # x.igamma_(…) differentiates in x's role as a: refused, as in torch
    **{n: _other for n in ("remainder", "fmod", "hypot", "atan2", "arctan2", "logaddexp", "logaddexp2", "maximum",
                           "minimum", "float_power", "xlogy", "heaviside", "multiply", "subtract", "divide",
                           "true_divide", "floor_divide", "logical_and", "logical_or", "logical_xor", "eq", "ne",
                           "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal")},
}
INTEGER_ONLY = {"gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
                "bitwise_right_shift"}
ABOVE_ONE = {"acosh", "arccosh"}


def _variant_case(name):
    args = ARGS.get(name, lambda L, w, v: ())
    shift = 1.0 if name in ABOVE_ONE else 0.0
    return lambda L, y, w, v: getattr(y.add_(shift), name + "_")(*args(L, w, v))


CASES = {n + "_": _variant_case(n) for n in _NAMES if ARGS.get(n, ()) is not None and n not in INTEGER_ONLY}
CASES.update({
    "copy_": lambda L, y, w, v: y.copy_(w),
    "copy_ broadcast": lambda L, y, w, v: y.copy_(v),
    "copy_ into a view": lambda L, y, w, v: y[1].copy_(v),
    "fill_ number": lambda L, y, w, v: y.fill_(2.0),
    "fill_ 0-dim tensor": lambda L, y, w, v: y.fill_(w[0, 1]),
    "fill_ a view": lambda L, y, w, v: y[:, 2].fill_(v[1]),
    "zero_": lambda L, y, w, v: y.zero_(),
    "zero_ a view": lambda L, y, w, v: y[1:].zero_(),
    "fill_diagonal_": lambda L, y, w, v: y.fill_diagonal_(3.0),
    "fill_diagonal_ wrap": lambda L, y, w, v: y.T.fill_diagonal_(3.0, wrap=True),
    "masked_fill_": lambda L, y, w, v: y.masked_fill_(L.tensor(MASK), w[0, 0]),
    "index_put_": lambda L, y, w, v: y.index_put_((L.tensor([0, 2]),), w[:2]),
    "index_put_ accumulate": lambda L, y, w, v: y.index_put_((L.tensor([0, 0]),), w[:2], accumulate=True),
    "index_reduce_": lambda L, y, w, v: y.index_reduce_(0, L.tensor([2, 0]), w[:2], "prod"),
    "put_": lambda L, y, w, v: y.put_(L.tensor([1, 5]), v[:2]),
    "__setitem__": lambda L, y, w, v: y.__setitem__((slice(None), 1), v[:3]),
    "add_ alpha": lambda L, y, w, v: y.add_(w, alpha=2),
    "sub_ alpha": lambda L, y, w, v: y.sub_(v, alpha=3),
    "pow_ tensor": lambda L, y, w, v: y.pow_(w),
    "div_ rounding_mode": lambda L, y, w, v: y.div_(w, rounding_mode=None),
    "clamp_ tensor": lambda L, y, w, v: y.clamp_(min=w * 0.9),
    "lerp_ tensor weight": lambda L, y, w, v: y.lerp_(w, v),
    "mvlgamma_": lambda L, y, w, v: y.add_(3).mvlgamma_(2),
    "polygamma_": lambda L, y, w, v: y.polygamma_(1),
    "__iadd__": lambda L, y, w, v: y.__iadd__(w),
    "uniform_": lambda L, y, w, v: y.uniform_(),
})
# torch has no derivative for these in place (or none at all): the reference is chainrule's out-of-place op,
# which the registry gradchecks
NO_INPLACE_DERIVATIVE_IN_TORCH = {"asinh_", "acosh_", "atanh_", "arcsinh_", "arccosh_", "arctanh_", "sgn_",
                                  "heaviside_", "floor_divide_", "logaddexp_", "logaddexp2_", "maximum_", "minimum_",
                                  "hardshrink_"}
# torch passes the gradient straight through y.logical_and_(w) as if y had not changed; its values are 0/1 that do
# not depend on y, so their gradient is 0 (as after y.eq_(w), where torch agrees)
TORCH_PASSES_THE_GRADIENT_THROUGH = {"logical_and_", "logical_or_", "logical_xor_", "logical_not_"}
# torch's trigamma is 4e-10 off at 0.6 (mpmath agrees with chainrule to the last digit)
TORCH_TRIGAMMA = {"digamma_", "polygamma_"}


def _run(L, case):
    x, w, v = (L.tensor(a, dtype=L.float64, requires_grad=True) for a in (X, W, V))
    y = x * 1
    L.manual_seed(0)
    case(L, y, w, v)
    (y * L.tensor(R)).sum().backward()
    return [y.detach().numpy()] + [None if t.grad is None else t.grad.numpy() for t in (x, w, v)]


def _out_of_place(name):
    """chainrule's y = y.name(…) for a case x.name_(…)."""
    base = name[:-1]
    args = ARGS.get(base, lambda L, w, v: ())
    shift = 1.0 if base in ABOVE_ONE else 0.0

    def case(L, y, w, v):
        new = getattr(y + shift, base)(*args(L, w, v))
        y.copy_(new)   # (copy_ with grad is itself under test; its cases compare with torch)
    return case


@pytest.mark.parametrize("name", sorted(CASES))
def test_inplace_method_with_grad_matches_torch(name):
    ours = _run(cr, CASES[name])
    if name in TORCH_PASSES_THE_GRADIENT_THROUGH:
        assert not np.any(ours[1]), "the old values of y get gradient 0"
        return
    if name in NO_INPLACE_DERIVATIVE_IN_TORCH:
        theirs = _run(cr, _out_of_place(name))
    else:
        torch = pytest.importorskip("torch", reason="torch is the oracle for in-place ops with grad")
        theirs = _run(torch, CASES[name])
    for what, a, b in zip(("value", "grad of x", "grad of w", "grad of v"), ours, theirs):
        if name == "uniform_" and what == "value":
            continue   # different generators
        a = np.zeros_like(X if what != "grad of v" else V) if a is None else a   # torch may give zeros for None
        b = np.zeros_like(a) if b is None else b
        rtol = 1e-8 if name in TORCH_TRIGAMMA else 1e-10
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=f"{name}: {what}")


def test_copy_and_fill_with_grad_route_the_gradient():
    """The worked reason for the change: y.copy_(w) sends the gradient to w, none to y's old inputs."""
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = cr.tensor([4.0, 5.0, 6.0], requires_grad=True)
    y = x * 2
    y.copy_(w)
    (y * y).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [8, 10, 12])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])   # was [16, 20, 24]: 2·y·2 through y = 2x
    x.grad = None
    y = x * 2
    y.fill_(7.0)
    assert y.requires_grad
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])   # was [28, 28, 28]


def test_inplace_with_grad_keeps_dtype_and_shape():
    x = cr.ones(3, requires_grad=True)
    w = cr.ones(3, dtype=cr.float64, requires_grad=True)
    y = x * 2
    y.add_(w)
    assert y.dtype == cr.float32   # was float64
    y.sum().backward()
    assert x.grad.dtype == cr.float32 and w.grad.dtype == cr.float64
    z = x * 2
    with pytest.raises(ShapeError, match=r"add_: the result has shape \(2, 3\).*shape \(3,\)"):
        z.add_(cr.ones(2, 3, requires_grad=True))
    with pytest.raises(ShapeError, match=r"copy_: values of shape \(2,\) cannot be broadcast to .*\(3,\)"):
        cr.zeros(3).copy_(cr.ones(2))
    with pytest.raises(ShapeError, match="fill_: the value must be a number or a 0-dim tensor"):
        cr.zeros(3).fill_(cr.ones(3))
    t = (x * 1).eq_(cr.ones(3))
    assert t.dtype == cr.float32 and t.requires_grad   # as torch: a float tensor of 0/1 with gradient 0


def _leaf_base(L):
    x = L.ones(4, requires_grad=True)
    with L.no_grad():
        v = x[:2]
    v.mul_(3)


def _plain_base_grad_other(L):
    x, w = L.ones(4), L.ones(2, requires_grad=True)
    with L.no_grad():
        v = x[:2]
    v.add_(w)


def _nonleaf_base(L):
    x = L.ones(4, requires_grad=True) * 2
    with L.no_grad():
        v = x.view(2, 2)
    v.zero_()


def _view_of_the_view(L):
    x = L.ones(4, requires_grad=True) * 2
    with L.no_grad():
        v = x[:3]
    v[1:].mul_(3)


def _setitem(L):
    x = L.ones(4, requires_grad=True) * 2
    with L.no_grad():
        v = x.view(4)
    v[0] = 5.0


def _chunk(L):
    x = L.ones(4, requires_grad=True) * 2
    with L.no_grad():
        a, _ = x.chunk(2)
    a.copy_(L.zeros(2))


REFUSED = [_leaf_base, _plain_base_grad_other, _nonleaf_base, _view_of_the_view, _setitem, _chunk]


@pytest.mark.parametrize("scenario", REFUSED, ids=lambda f: f.__name__.strip("_"))
def test_a_view_taken_under_no_grad_cannot_change_in_place_with_grad(scenario):
    with pytest.raises(InplaceError, match="taken under no_grad.*both inside the no_grad block"):
        scenario(cr)
    try:
        import torch
    except ImportError:
        return
    with pytest.raises(RuntimeError, match="no_grad mode"):
        scenario(torch)


def test_no_grad_views_that_torch_allows():
    """In place inside the same no_grad block, with nothing requiring grad, or on a detached copy: allowed, and the
    base sees the change. An in-place op with grad on the base writes into the memory the no_grad view shares."""
    try:
        import torch
        libraries = (cr, torch)
    except ImportError:
        libraries = (cr,)
    for L in libraries:
        x = L.ones(4, requires_grad=True) * 2
        with L.no_grad():
            v = x[:2]
            v.mul_(3)
        np.testing.assert_array_equal(x.detach().numpy(), [6, 6, 2, 2])
        z = L.ones(4)
        with L.no_grad():
            u = z[:2]
        u.mul_(3)
        np.testing.assert_array_equal(z.numpy(), [3, 3, 1, 1])
        with L.no_grad():
            d = x.detach()
        d.mul_(0.5)
        np.testing.assert_array_equal(x.detach().numpy(), [3, 3, 1, 1])
        y = L.ones(4, requires_grad=True) * 2
        with L.no_grad():
            seen = y.view(2, 2)
        y.mul_(2)
        np.testing.assert_array_equal(seen.detach().numpy(), [[4, 4], [4, 4]])


IDENTITY_VIEWS = {
    "view": lambda x: x.view(x.shape), "reshape": lambda x: x.reshape(x.shape), "view_as": lambda x: x.view_as(x),
    "reshape_as": lambda x: x.reshape_as(x), "permute": lambda x: x.permute(0, 1), "transpose": lambda x: x.transpose(0, 0),
    "swapaxes": lambda x: x.swapaxes(1, 1), "movedim": lambda x: x.movedim(0, 0), "expand": lambda x: x.expand(2, 3),
    "expand_as": lambda x: x.expand_as(x), "broadcast_to": lambda x: x.broadcast_to((2, 3)),
    "squeeze": lambda x: x.squeeze(), "unflatten": lambda x: x.unflatten(1, (3,)), "t of a vector": lambda x: x[0].t(),
    "T of a vector": lambda x: x[0].T, "narrow": lambda x: x.narrow(0, 0, 2),
}
SAME_TENSOR = {   # torch returns the tensor itself here
    "contiguous": lambda x: x.contiguous(), "to the same dtype": lambda x: x.to(x.dtype), "float": lambda x: x.float(),
    "flatten of one dim": lambda x: x.flatten(1, 1), "atleast_2d": lambda x: cr_or_torch(x).atleast_2d(x),
}


def cr_or_torch(x):
    return cr if isinstance(x, cr.Tensor) else __import__("torch")


@pytest.mark.parametrize("name", sorted(IDENTITY_VIEWS) + sorted(SAME_TENSOR))
def test_a_view_is_a_new_tensor_exactly_where_torch_makes_one(name):
    fn = IDENTITY_VIEWS.get(name) or SAME_TENSOR[name]
    x = cr.ones(2, 3, requires_grad=True) * 1
    out = fn(x)
    assert (out is x) == (name in SAME_TENSOR)
    if name in IDENTITY_VIEWS and not name.startswith(("expand", "broadcast")):
        seen = []
        out.register_hook(lambda g: seen.append(g))   # the view's own hook: x's other uses do not reach it
        (x * 5).sum().backward(retain_graph=True)
        assert not seen
        out.sum().backward()
        assert len(seen) == 1
    torch = pytest.importorskip("torch", reason="torch is the oracle for which calls return the tensor itself")
    tx = torch.ones(2, 3, requires_grad=True) * 1
    assert (fn(tx) is tx) == (name in SAME_TENSOR)


def test_t_of_more_than_two_dims_is_refused():
    with pytest.raises(ShapeError, match=r"t: expects a tensor with at most 2 dims, got shape \(2, 2, 2\)"):
        cr.ones(2, 2, 2).t()
