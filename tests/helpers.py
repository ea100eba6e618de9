"""Shared test fixtures that are not pytest fixtures: ops with deliberately wrong backward passes."""
import chainrule as cr


def square_with_backward(backward, name="Square"):
    """x² as an autograd.Function whose backward is backward(x, g) (the right one is 2x·g): for gradcheck tests."""
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    def backward_(ctx, g):
        (x,) = ctx.saved_tensors
        return backward(x, g)
    return type(name, (cr.autograd.Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward_)})


BadSquare = square_with_backward(lambda x, g: g * x, "BadSquare")   # x² with a wrong backward: g·x, not 2x·g


def torch_or_skip():
    """torch, the oracle of the comparison tests; the test is skipped, with the reason, where it is missing."""
    import pytest
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def assert_matches_torch(fn_cr, fn_torch, arrays, rtol=1e-10, grad_rtol=None, atol=1e-12):
    """fn_cr and fn_torch on the same float64 arrays: equal outputs (rtol), and equal gradients of every array
    (grad_rtol, default rtol) for one random upstream gradient."""
    import numpy as np
    torch = torch_or_skip()
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ya, yb = fn_cr(*ours), fn_torch(*theirs)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(9).standard_normal(tuple(yb.shape))
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=grad_rtol or rtol, atol=atol)


def assert_layer_matches_torch(ours, theirs, x, rtol=1e-10, atol=1e-12):
    """A chainrule layer and a torch layer with the same state: the same output on x, and the same gradients of
    the input and the weight for one random upstream gradient."""
    import numpy as np
    torch = torch_or_skip()
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(9).standard_normal(ya.shape)
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=rtol, atol=atol)


def value_or_error(thunk):
    """(thunk()'s value, None), or (None, the exception it raised): for comparisons with torch where either side
    may refuse."""
    try:
        return thunk(), None
    except Exception as e:   # noqa: BLE001 (the exception is what is compared)
        return None, e


def outcome_of(thunk):
    """thunk()'s value, or the exception it raised: what a comparison with torch compares when either may raise."""
    try:
        return thunk()
    except Exception as e:   # noqa: BLE001 (the exception is the outcome compared)
        return e
