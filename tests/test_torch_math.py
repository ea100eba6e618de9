"""The math ops beyond the engine issue's list (trig, hyperbolic, remainder, logaddexp, …) against torch, values
and gradients in float64, and the behaviour of %, // and div's rounding modes on integers and floats (dtypes as
PyTorch's). The registry gradchecks each differentiable one on its own (tests/test_ops.py)."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_matches_torch

UNARY = {   # name: interval the inputs are drawn from
    "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3, 3), "sinh": (-3, 3),
    "cosh": (-3, 3), "asinh": (-3, 3), "acosh": (1.2, 4), "atanh": (-0.9, 0.9), "expm1": (-3, 3),
    "log2": (0.1, 4), "log10": (0.1, 4), "exp2": (-3, 3), "reciprocal": (0.5, 3), "frac": (-3.9, 3.9),
}
BINARY = {"atan2": (0.2, 3), "hypot": (0.2, 3), "logaddexp": (-5, 5), "remainder": (0.3, 4), "fmod": (0.3, 4),
          "xlogy": (0.2, 3)}


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _compare(name, arrays):
    torch = _torch()
    assert_matches_torch(getattr(cr, name), getattr(torch, name), arrays, rtol=1e-12, grad_rtol=1e-10)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_math_matches_torch(name):
    low, high = UNARY[name]
    _compare(name, [np.random.default_rng(0).uniform(low, high, (3, 4))])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_math_matches_torch(name):
    low, high = BINARY[name]
    rng = np.random.default_rng(1)
    a = rng.uniform(-4, 4, (3, 4)) if name in ("remainder", "fmod", "logaddexp") else rng.uniform(low, high, (3, 4))
    b = rng.uniform(low, high, (4,))
    if name in ("remainder", "fmod"):
        b = b * np.where(np.arange(4) % 2, -1, 1)   # both signs of the divisor
    _compare(name, [a, b])


def test_operators_follow_python_and_torch():
    torch = _torch()
    for a, b in [([7, -7, 5], 3), ([7.5, -7.5, 0.2], 2), ([7, -7, 5], -2)]:
        for op in ("__mod__", "__floordiv__", "__truediv__"):
            ours = getattr(cr.tensor(a), op)(b)
            theirs = getattr(torch.tensor(a), op)(b)
            assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], (a, op)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy())
        for mode in ("trunc", "floor"):
            np.testing.assert_allclose(cr.div(cr.tensor(a), b, rounding_mode=mode).numpy(),
                                       torch.div(torch.tensor(a), b, rounding_mode=mode).numpy())


def test_rounded_division_has_zero_gradient_and_a_named_error():
    x = cr.tensor([2.5, -3.5], requires_grad=True)
    cr.div(x, 2.0, rounding_mode="floor").sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="div: rounding_mode"):
        cr.div(x, 2.0, rounding_mode="round")


def test_integer_true_division_gives_the_default_float():
    assert cr.tensor([7]).div(2).dtype == cr.float32
    assert (2 / cr.tensor([4])).dtype == cr.float32
    assert cr.tensor([7, 8]).remainder(3).tolist() == [1, 2]


def test_nan_to_num_passes_gradient_only_where_finite():
    x = cr.tensor([np.nan, np.inf, -np.inf, 2.0], dtype=cr.float64, requires_grad=True)
    y = cr.nan_to_num(x, posinf=10.0)
    assert y.detach().numpy().tolist()[:2] == [0.0, 10.0]
    assert y.detach().numpy()[2] == np.finfo(np.float64).min
    y.sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0, 0.0, 1.0]


def test_logaddexp_is_stable_at_extremes():
    a = cr.tensor([1000.0, -1000.0], requires_grad=True)
    y = cr.logaddexp(a, cr.tensor([1000.0, -1000.0]))
    np.testing.assert_allclose(y.detach().numpy(), [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.5])


def test_inplace_variants_follow_their_ops():
    x = cr.tensor([1.0, -2.0, 3.0])
    assert x.abs_() is x and x.tolist() == [1.0, 2.0, 3.0]
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1
    y.exp_()                                   # recorded: y is now exp(w·1)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    z = cr.zeros(3, 4)
    z.scatter_(1, cr.tensor([[0], [1], [2]]), cr.ones(3, 1))
    assert z.numpy().trace() == 3.0
    s = cr.tensor([1.0, 2.0], requires_grad=True)
    acc = cr.zeros(2)
    acc.addcmul_(s, s)                         # only the argument needs grad: still recorded
    acc.sum().backward()
    assert s.grad.tolist() == [2.0, 4.0]
    with pytest.raises(cr.InplaceError, match="sigmoid_"):
        cr.tensor([1.0], requires_grad=True).sigmoid_()


def test_finfo_iinfo_empty_like():
    assert cr.finfo(cr.float32).eps == np.finfo(np.float32).eps
    assert cr.finfo().tiny == np.finfo(np.float32).tiny            # the default dtype
    assert cr.iinfo(cr.int64).max == 2 ** 63 - 1
    e = cr.empty_like(cr.ones(2, 3, dtype=cr.float64))
    assert e.shape == (2, 3) and e.dtype == cr.float64
