"""Empty tensors (a mask that selects nothing, a last batch of size 0) behave as in torch: reductions over a
non-empty dim give empty results; sum is 0, logsumexp -inf; mean, var and median of no elements are nan with a
warning that names the op (never a silent nan); max/min over a zero-size dim raise an error naming the dim; every
layer takes a batch of 0 and backward gives empty gradients."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

F = nn.functional


def _grad_shape(fn, shape):
    x = cr.ones(*shape, dtype=cr.float64, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y, x.grad


@pytest.mark.parametrize("shape,fn,expected", [
    ((0, 3), lambda x: x.sum(), 0.0),
    ((0, 3), lambda x: x.sum(0), [0.0, 0.0, 0.0]),
    ((0, 3), lambda x: cr.logsumexp(x, 0), [-np.inf] * 3),
    ((0, 3), lambda x: x.amax(1), []),
    ((0, 3), lambda x: x.max(1).values, []),
    ((2, 0), lambda x: x.softmax(1), [[], []]),
    ((2, 0), lambda x: x.log_softmax(0), [[], []]),
    ((2, 0), lambda x: x.amin(0), []),
    ((0, 3), lambda x: x @ x.T, np.zeros((0, 0))),
    ((0, 3), lambda x: x.T @ x, np.zeros((3, 3))),
])
def test_reductions_over_empty_tensors(shape, fn, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # none of these warns
        y, g = _grad_shape(fn, shape)
    np.testing.assert_array_equal(y.detach().numpy(), np.array(expected, dtype=np.float64).reshape(y.shape))
    assert g.shape == shape


@pytest.mark.parametrize("name,fn", [
    ("mean", lambda x: x.mean()),
    ("mean", lambda x: x.mean(0)),
    ("var", lambda x: x.var(0)),
    ("var", lambda x: x.std(0)),
    ("median", lambda x: x.median()),
    ("mse_loss", lambda x: F.mse_loss(x, x * 2)),
    ("binary_cross_entropy_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, x * 0)),
    ("cross_entropy", lambda x: F.cross_entropy(x, cr.zeros(0, dtype=cr.int64))),
])
def test_mean_of_nothing_is_nan_with_a_warning_naming_the_op(name, fn):
    with pytest.warns(RuntimeWarning, match=rf"{name}: reducing over no elements .* gives nan") as record:
        y, g = _grad_shape(fn, (0, 3))
    assert np.isnan(y.detach().numpy()).all() and g.shape == (0, 3)
    assert record[0].filename == __file__, "the warning points at the caller's line, not into chainrule"


@pytest.mark.parametrize("name,fn", [
    ("nll_loss", lambda x: F.nll_loss(x, cr.zeros(0, dtype=cr.int64))),
    ("kl_div", lambda x: F.kl_div(x, x.detach().exp(), reduction="batchmean")),
    ("cross_entropy", lambda x: F.cross_entropy(x, cr.zeros(0, dtype=cr.int64), weight=cr.ones(3))),
    ("cross_entropy", lambda x: F.cross_entropy(x, cr.zeros(0, dtype=cr.int64), label_smoothing=0.1)),
])
def test_a_loss_averaged_over_no_samples_is_nan_with_a_warning_naming_it(name, fn):
    """Σwℓ/Σw with Σw = 0 (an empty batch, or every target ignored): nan as torch, never a bare ZeroDivisionError
    or NumPy's note from inside the library."""
    with pytest.warns(RuntimeWarning, match=rf"{name}: the mean is over no samples") as record:
        y, g = _grad_shape(fn, (0, 3))
    assert np.isnan(y.detach().numpy()).all() and g.shape == (0, 3)
    assert all(w.filename == __file__ for w in record)
    z = cr.zeros(2, 3, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="cross_entropy: the mean is over no samples"):
        loss = F.cross_entropy(z, cr.tensor([-100, -100]))
    loss.backward()
    assert np.isnan(loss.item()) and not np.isnan(z.grad.numpy()).any()


@pytest.mark.parametrize("op", ["max", "min", "amax", "amin", "median"])
def test_max_over_a_zero_size_dim_names_the_dim(op):
    x = cr.ones(0, 3)
    with pytest.raises(ValueError, match=rf"{op}: cannot reduce over dim 0 of size 0 \(input shape \(0, 3\)\)"):
        getattr(x, op)(0)


LAYERS = {
    "Linear": (lambda: nn.Linear(3, 2), (0, 3), (0, 2)),
    "Conv2d": (lambda: nn.Conv2d(2, 4, 3, padding=1), (0, 2, 5, 5), (0, 4, 5, 5)),
    "Conv1d": (lambda: nn.Conv1d(2, 4, 3), (0, 2, 5), (0, 4, 3)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 2), (0, 2, 3, 3), (0, 3, 4, 4)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (0, 2, 4, 4), (0, 2, 2, 2)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(1), (0, 2, 4, 4), (0, 2, 1, 1)),
    "LayerNorm": (lambda: nn.LayerNorm(3), (0, 3), (0, 3)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), (0, 4, 3), (0, 4, 3)),
    "BatchNorm1d (eval)": (lambda: nn.BatchNorm1d(3).eval(), (0, 3), (0, 3)),
    "Flatten": (lambda: nn.Flatten(), (0, 2, 3), (0, 6)),
    "LSTM": (lambda: nn.LSTM(3, 4, batch_first=True), (0, 5, 3), (0, 5, 4)),
    "GRU": (lambda: nn.GRU(3, 4), (5, 0, 3), (5, 0, 4)),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2, batch_first=True), (0, 3, 4), (0, 3, 4)),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True),
                                (0, 3, 4), (0, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_takes_an_empty_batch(name):
    make, shape, out_shape = LAYERS[name]
    layer = make()
    x = cr.ones(*shape, requires_grad=True)
    y = layer(x, x, x)[0] if name == "MultiheadAttention" else layer(x)
    y = y[0] if isinstance(y, tuple) else y
    assert tuple(y.shape) == out_shape
    y.sum().backward()
    assert x.grad.shape == shape
    assert all(p.grad is None or np.all(p.grad.numpy() == 0) for p in layer.parameters())


def test_flatten_of_an_empty_tensor_does_not_guess():
    assert cr.ones(0, 2, 3).flatten(1).shape == (0, 6)
    assert cr.ones(2, 0, 3).flatten().shape == (0,)
    with pytest.raises(cr.errors.ShapeError, match="reshape"):
        cr.ones(0, 2, 3).reshape(0, -1)   # as torch: -1 could be anything for 0 elements


def test_empty_reductions_match_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle for empty-tensor results")
    cases = [lambda m, x: x.sum(0), lambda m, x: m.logsumexp(x, 0), lambda m, x: x.amax(1),
             lambda m, x: x.softmax(0), lambda m, x: x.mean(0), lambda m, x: x.var(0), lambda m, x: x.median()]
    for fn in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = fn(cr, cr.ones(0, 3, dtype=cr.float64)).numpy()
            theirs = fn(torch, torch.ones(0, 3, dtype=torch.float64)).numpy()
        np.testing.assert_array_equal(ours, theirs)
