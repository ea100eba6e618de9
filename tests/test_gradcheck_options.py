"""gradcheck's and gradgradcheck's torch options: fast_mode, check_forward_ad, nondet_tol, check_undefined_grad,
check_grad_dtypes, check_batched_grad, and for gradgradcheck check_fwd_over_rev / gen_non_contig_grad_outputs.
Each passes on correct functions and names the fault on a function built to have it."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops.registry import OPS
from helpers import square_with_backward

ALL_OPTIONS = dict(fast_mode=False, check_forward_ad=True, check_batched_grad=True, check_grad_dtypes=True,
                   check_batched_forward_grad=True,
                   check_undefined_grad=True, nondet_tol=0.0)


def _x(*shape, seed=0):
    return cr.tensor(np.random.default_rng(seed).uniform(0.5, 2.0, shape), requires_grad=True)


def _function(backward):
    """y = x² with a chosen backward (the right one is 2·x·g)."""
    return square_with_backward(backward).apply


@pytest.mark.parametrize("name", ["tanh", "matmul", "softmax", "logsumexp", "linear", "conv2d", "layer_norm"])
@pytest.mark.parametrize("fast", [False, True])
def test_every_option_passes_on_registered_ops(name, fast):
    sample = OPS[name].samples[0]
    flat, call, _ = sample.build(np.random.default_rng(0), lambda a, g: cr.tensor(a).requires_grad_(g))
    assert gradcheck(call, flat, **{**ALL_OPTIONS, "fast_mode": fast}, **sample.check)


def test_fast_mode_catches_a_wrong_backward_in_one_pass():
    wrong = _function(lambda x, g: 2.1 * x * g)
    with pytest.raises(cr.GradcheckError, match=r"fast mode\).*input 0 .*vᵀJu"):
        gradcheck(wrong, [_x(40, 30)], fast_mode=True)
    assert gradcheck(_function(lambda x, g: 2 * x * g), [_x(40, 30)], fast_mode=True)
    assert gradcheck(wrong, [_x(3)], fast_mode=True, raise_exception=False) is False


def test_forward_mode_is_checked_against_finite_differences():
    wrong = _function(lambda x, g: 3 * x * g)   # forward mode is derived from it, so it is wrong too
    with pytest.raises(cr.GradcheckError, match=r"forward mode"):
        gradcheck(wrong, [_x(4)], check_backward_ad=False, check_forward_ad=True)
    with pytest.raises(cr.GradcheckError, match=r"fast mode, forward"):
        gradcheck(wrong, [_x(4)], check_backward_ad=False, check_forward_ad=True, fast_mode=True)
    assert gradcheck(lambda a, b: (a * b).sin(), [_x(3), _x(3, seed=1)], check_forward_ad=True)


def test_a_nondeterministic_backward_is_not_reentrant():
    rng = np.random.default_rng(0)
    noisy = _function(lambda x, g: 2 * x * g + cr.tensor(rng.normal(0, 1e-9, tuple(x.shape))))
    with pytest.raises(cr.GradcheckError, match="not reentrant"):
        gradcheck(noisy, [_x(4)])
    assert gradcheck(noisy, [_x(4)], nondet_tol=1e-6, check_undefined_grad=False)   # its noise ignores g


def test_zero_output_gradients_must_give_zero_input_gradients():
    def backward(x, g):   # right for every nonzero g, NaN for an all-zero one (a 0·∞ in disguise)
        return 2 * x * g if float(g.abs().sum()) > 0 else g * float("nan")
    with pytest.raises(cr.GradcheckError, match="output gradient zero.*NaN"):
        gradcheck(_function(backward), [_x(4)])
    assert gradcheck(_function(backward), [_x(4)], check_undefined_grad=False)


def test_batched_and_dtype_checks_and_sparse_refusal():
    f = lambda a, b: (a @ b).tanh()   # noqa: E731
    assert gradcheck(f, [_x(3, 4), _x(4, 2, seed=1)], check_batched_grad=True, check_grad_dtypes=True)
    with pytest.raises(ValueError, match="sparse"):
        gradcheck(f, [_x(3, 4), _x(4, 2, seed=1)], masked=True)


def test_gradgradcheck_forward_over_reverse_and_non_contiguous_grad_outputs():
    f = lambda a, b: (a * b.exp()).sum(-1).sigmoid()   # noqa: E731
    assert gradgradcheck(f, [_x(3, 4), _x(3, 4, seed=1)], check_fwd_over_rev=True, gen_non_contig_grad_outputs=True,
                         check_batched_grad=True)
    wrong_second = _function(lambda x, g: 2 * x.detach() * g)   # right first derivative, no second
    with pytest.raises(cr.GradcheckError):
        gradgradcheck(wrong_second, [_x(3)])


def test_the_options_are_torchs():
    torch = pytest.importorskip("torch", reason="torch is the oracle for its own signatures")
    import inspect
    for name in ("gradcheck", "gradgradcheck"):
        ours = inspect.signature(getattr(cr.autograd, name)).parameters
        theirs = inspect.signature(getattr(torch.autograd, name)).parameters
        missing = set(theirs) - set(ours)
        assert not missing, f"{name} lacks {missing}"


def test_forward_ad_unpacks_outputs_that_share_a_graph():
    """Unpacking one output's tangent must not free the graph another output still needs (it did, and the
    second unpack_dual raised 'backward through the graph a second time')."""
    from chainrule.autograd import forward_ad
    x, v = _x(3), np.array([1.0, -2.0, 0.5])
    with forward_ad.dual_level():
        d = forward_ad.make_dual(x, cr.tensor(v))
        h = d.exp()
        a, b = h.sum(), (h * h).sum()
        ta, tb = forward_ad.unpack_dual(a).tangent, forward_ad.unpack_dual(b).tangent
    e = np.exp(x.detach().numpy())
    np.testing.assert_allclose(ta.item(), (e * v).sum())
    np.testing.assert_allclose(tb.item(), (2 * e * e * v).sum())
