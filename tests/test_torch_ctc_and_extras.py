"""CTC loss, gumbel_softmax, alpha dropout, local response norm, pdist, nn.Buffer and the Lazy modules: equal to
torch in float64 where the result is deterministic, and to their defining statistics where it is random."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.errors import ShapeError
from helpers import assert_matches_torch, torch_or_skip

R = np.random.default_rng(0)


def _ctc_case(t, n, c, s, blank=0, seed=0):
    rng = np.random.default_rng(seed)
    labels = [k for k in range(c) if k != blank]
    return (rng.standard_normal((t, n, c)), rng.choice(labels, (n, s)), rng.integers(max(1, t // 2), t + 1, n),
            rng.integers(0, s + 1, n))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("blank,concat", [(0, False), (2, True)])
def test_ctc_loss_matches_torch_through_log_softmax(reduction, blank, concat):
    torch = torch_or_skip()
    x, targets, in_len, tg_len = _ctc_case(12, 4, 6, 4, blank)
    if concat:
        targets = np.concatenate([targets[i, :tg_len[i]] for i in range(len(tg_len))])

    def ours(a):
        return F.ctc_loss(F.log_softmax(a, 2), cr.tensor(targets), cr.tensor(in_len), cr.tensor(tg_len), blank,
                          reduction)

    def theirs(a):
        return torch.nn.functional.ctc_loss(a.log_softmax(2), torch.tensor(targets), torch.tensor(in_len),
                                            torch.tensor(tg_len), blank, reduction)
    assert_matches_torch(ours, theirs, [x], rtol=1e-12)


def test_ctc_loss_repeats_impossible_alignments_and_zero_infinity():
    torch = torch_or_skip()
    x = R.standard_normal((3, 3, 4))
    targets, in_len, tg_len = np.array([[1, 1, 1], [1, 2, 3], [2, 2, 0]]), np.array([3, 3, 3]), np.array([3, 3, 2])
    for zero_infinity in (False, True):
        a = cr.tensor(x, requires_grad=True)
        ours = F.ctc_loss(F.log_softmax(a, 2), cr.tensor(targets), cr.tensor(in_len), cr.tensor(tg_len),
                          reduction="none", zero_infinity=zero_infinity)
        theirs = torch.nn.functional.ctc_loss(torch.tensor(x).log_softmax(2), torch.tensor(targets),
                                              torch.tensor(in_len), torch.tensor(tg_len), reduction="none",
                                              zero_infinity=zero_infinity)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-12)
        ours.sum().backward()
        assert np.isfinite(a.grad.numpy()).all()          # "1 1 1" needs 5 frames: its gradient is 0, never NaN
        assert not a.grad.numpy()[:, 0].any()
    assert np.isinf(ours.detach().numpy()[0]) == (not zero_infinity)


def test_ctc_gradient_is_that_of_free_log_probs():
    # torch's gradient w.r.t. log_probs adds exp(log_probs) (as if a log_softmax followed); ours is the true one,
    # which is what gradcheck measures
    x, targets, in_len, tg_len = _ctc_case(6, 2, 4, 2)
    fn = lambda lp: F.ctc_loss(lp, cr.tensor(targets), cr.tensor(in_len), cr.tensor(tg_len))  # noqa: E731
    assert cr.autograd.gradcheck(fn, [cr.tensor(x, requires_grad=True)])


def test_ctc_loss_trains_a_tiny_recogniser():
    # each frame shows its symbol (one-hot, 8 frames for 3 symbols, repeated frames): a linear layer learns to
    # emit the right label sequence under greedy CTC decoding
    cr.manual_seed(0)
    rng = np.random.default_rng(1)
    seqs = rng.integers(1, 5, (16, 3))
    seqs[:, 1] = np.where(seqs[:, 1] == seqs[:, 0], seqs[:, 1] % 4 + 1, seqs[:, 1])   # no repeats: identical frames
    seqs[:, 2] = np.where(seqs[:, 2] == seqs[:, 1], seqs[:, 2] % 4 + 1, seqs[:, 2])   # give no place for a blank
    frames = np.zeros((8, 16, 5), np.float32)
    for b, seq in enumerate(seqs):
        for t, sym in enumerate(np.repeat(seq, [3, 2, 3])):
            frames[t, b, sym] = 1.0
    model, ctc = nn.Linear(5, 5), nn.CTCLoss()
    opt = cr.optim.Adam(model.parameters(), lr=0.1)
    lengths, tg = cr.tensor(np.full(16, 8)), cr.tensor(np.full(16, 3))
    for _ in range(80):
        opt.zero_grad()
        loss = ctc(F.log_softmax(model(cr.tensor(frames)), 2), cr.tensor(seqs), lengths, tg)
        loss.backward()
        opt.step()
    best = model(cr.tensor(frames)).detach().numpy().argmax(2).T
    decoded = [[k for i, k in enumerate(row) if k != 0 and (i == 0 or k != row[i - 1])] for row in best]
    assert decoded == seqs.tolist() and loss.item() < 0.1


@pytest.mark.parametrize("call,error,match", [
    (lambda lp: F.ctc_loss(lp, cr.tensor([[1, 2]]), [5, 5], [2, 2]), ShapeError, "targets \\(1, 2\\) do not hold"),
    (lambda lp: F.ctc_loss(lp, cr.tensor([[1, 0], [2, 1]]), [5, 5], [2, 2]), ValueError, "other than the blank 0"),
    (lambda lp: F.ctc_loss(lp, cr.tensor([[1, 7], [2, 1]]), [5, 5], [2, 2]), ValueError, "classes in \\[0, 3\\)"),
    (lambda lp: F.ctc_loss(lp, cr.tensor([[1, 2], [2, 1]]), [6, 5], [2, 2]), ShapeError, "must lie in \\[1, T = 5\\]"),
    (lambda lp: F.ctc_loss(lp, cr.tensor([[1., 2.], [2., 1.]]), [5, 5], [2, 2]), ShapeError, "integer class"),
    (lambda lp: F.ctc_loss(lp, cr.tensor([1, 2, 1]), [5, 5], [2, 2]), ShapeError, "hold 3 labels but"),
    (lambda lp: F.ctc_loss(lp, cr.tensor([[1, 2], [2, 1]]), [5.0, 5.0], [2, 2]), ShapeError, "input_lengths must"),
    (lambda lp: F.ctc_loss(lp, cr.tensor([[1, 2], [2, 1]]), [5, 5], [2, 2], blank=3), ValueError, "blank 3 is not"),
])
def test_ctc_loss_errors_name_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call(cr.randn(5, 2, 3).log_softmax(2))


def test_ctc_loss_unbatched_equals_batch_of_one():
    x, targets = R.standard_normal((7, 4)), np.array([1, 3, 3])
    one = F.ctc_loss(cr.tensor(x), cr.tensor(targets), [7], [3])
    batch = F.ctc_loss(cr.tensor(x[:, None]), cr.tensor(targets[None]), [7], [3])
    np.testing.assert_allclose(one.numpy(), batch.numpy(), rtol=1e-14)


def test_gumbel_softmax_samples_the_softmax_distribution_and_hard_is_straight_through():
    cr.manual_seed(0)
    logits = cr.tensor(np.log([0.1, 0.2, 0.7]), requires_grad=True)
    hard = F.gumbel_softmax(logits.expand(20000, 3), tau=0.5, hard=True)
    assert set(np.unique(hard.detach().numpy())) == {0.0, 1.0} and (hard.detach().numpy().sum(1) == 1).all()
    np.testing.assert_allclose(hard.detach().numpy().mean(0), [0.1, 0.2, 0.7], atol=0.015)
    soft = F.gumbel_softmax(logits, tau=2.0)
    assert np.isclose(soft.sum().item(), 1.0) and (soft.detach().numpy() > 0).all()
    cr.manual_seed(3)
    (F.gumbel_softmax(logits, hard=True) * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    g_hard = logits.grad.numpy().copy()
    logits.grad = None
    cr.manual_seed(3)
    (F.gumbel_softmax(logits) * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(g_hard, logits.grad.numpy(), rtol=1e-12)   # the soft sample's gradient
    with pytest.raises(ValueError, match="tau must be positive"):
        F.gumbel_softmax(logits, tau=0)


def _alpha_dropout_branches(x, y, p):
    """Check y is a·x + λα·a·p (kept) or -λα·a + λα·a·p (dropped) everywhere; return the dropped share."""
    lam_alpha = 1.6732632423543772 * 1.0507009873554805
    a = 1 / np.sqrt((lam_alpha ** 2 * p + 1) * (1 - p))
    kept, dropped = np.isclose(y, a * x + lam_alpha * a * p, rtol=0, atol=1e-12), \
        np.isclose(y, -lam_alpha * a + lam_alpha * a * p, rtol=0, atol=1e-12)
    assert (kept | dropped).all()
    return (dropped & ~kept).mean()


def test_alpha_dropout_keeps_selu_statistics_and_matches_torchs_affine_map():
    cr.manual_seed(0)
    x = cr.randn(400_000, dtype=cr.float64)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.01   # SELU's fixed point (0, 1) is kept
    assert abs(_alpha_dropout_branches(x.numpy(), y, 0.2) - 0.2) < 0.005
    torch = torch_or_skip()
    t = torch.nn.functional.alpha_dropout(torch.tensor(x.numpy()), 0.2, training=True).numpy()
    assert abs(_alpha_dropout_branches(x.numpy(), t, 0.2) - 0.2) < 0.005   # torch's output fits the same map
    assert F.alpha_dropout(x, 0.3, training=False) is x
    assert (F.alpha_dropout(x, 1.0, training=True).numpy() == 0).all()
    f = F.feature_alpha_dropout(cr.randn(8, 16, 5, 5, dtype=cr.float64), 0.5, training=True).numpy().reshape(128, 25)
    lam_alpha, a = 1.6732632423543772 * 1.0507009873554805, 1 / np.sqrt((1.6732632423543772 ** 2 * 1.0507009873554805
                                                                         ** 2 * 0.5 + 1) * 0.5)
    whole = np.isclose(f, -lam_alpha * a + lam_alpha * a * 0.5).all(1)   # channels dropped as a whole
    assert 0.3 < whole.mean() < 0.7 and not np.isclose(f[~whole], -lam_alpha * a + lam_alpha * a * 0.5).any()
    m = nn.AlphaDropout(0.2).eval()
    assert m(x) is x and repr(m) == "AlphaDropout(p=0.2, inplace=False)"
    assert nn.FeatureAlphaDropout(0.1)(cr.ones(2, 3, 4)).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="alpha_dropout: probability must be in \\[0, 1\\]"):
        F.alpha_dropout(x, 1.5, training=True)


@pytest.mark.parametrize("shape,args", [((2, 6, 5), (3,)), ((2, 5, 3, 4), (2, 1e-2, 0.5, 2.0)),
                                        ((1, 4, 2, 3, 2), (5, 0.3)), ((2, 3, 4), (4,))])
def test_local_response_norm_matches_torch(shape, args):
    torch = torch_or_skip()
    assert_matches_torch(lambda t: F.local_response_norm(t, *args),
                         lambda t: torch.nn.functional.local_response_norm(t, *args), [R.standard_normal(shape)],
                         rtol=1e-12)
    assert_matches_torch(nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args), [R.standard_normal(shape)],
                         rtol=1e-12)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_pdist_matches_torch(p):
    torch = torch_or_skip()
    assert_matches_torch(lambda t: F.pdist(t, p), lambda t: torch.nn.functional.pdist(t, p),
                         [R.standard_normal((5, 4))], rtol=1e-12)
    with pytest.raises(ShapeError, match="pdist: expected a 2-D"):
        F.pdist(cr.randn(2, 3, 4))


def test_buffer_assignment_registers_a_buffer():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.scale = nn.Buffer(cr.ones(2))
            self.cache = nn.Buffer(cr.zeros(3), persistent=False)
    m = Model()
    assert list(m.state_dict()) == ["scale", "lin.weight", "lin.bias"]   # torch's order: own tensors, then children
    assert [n for n, _ in m.named_buffers()] == ["scale", "cache"]
    assert type(m.scale) is cr.Tensor and m.to(cr.float64).scale.dtype == cr.float64


def test_lazy_modules_infer_sizes_and_train_with_an_optimizer_made_before_the_first_batch():
    cr.manual_seed(0)
    model = nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(),
                          nn.LazyLinear(3))
    assert isinstance(model[0].weight, nn.UninitializedParameter)
    assert repr(model[4]) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    x, y = cr.randn(8, 5, 6, 6), cr.tensor(np.arange(8) % 3)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert type(model[0]) is nn.Conv2d and model[0].weight.shape == (4, 5, 3, 3) and model[0].in_channels == 5
    assert type(model[1]) is nn.BatchNorm2d and model[1].running_mean.shape == (4,)
    assert type(model[4]) is nn.Linear and model[4].weight.shape == (3, 144)
    assert losses[-1] < 0.5 * losses[0]
    fresh = nn.Sequential(nn.Conv2d(5, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(144, 3))
    fresh.load_state_dict(model.state_dict())
    np.testing.assert_allclose(fresh.eval()(x).detach().numpy(), model.eval()(x).detach().numpy(), rtol=1e-6)
    assert nn.LazyInstanceNorm1d().weight is None and nn.LazyLinear(2, bias=False).bias is None
    assert nn.LazyConv1d(3, 2)(cr.randn(4, 9)).shape == (3, 8)   # unbatched (C, L): channels from dim 0


@pytest.mark.parametrize("conv,shape,args", [("conv1d", (3, 9), (4, 3, 2)), ("conv2d", (3, 6, 5), (4, 3, 2, 2)),
                                             ("conv3d", (2, 4, 4, 3), (3, 2, 2, 2, 2)),
                                             ("conv_transpose1d", (3, 5), (3, 2, 3)),
                                             ("conv_transpose2d", (3, 4, 4), (3, 2, 2, 3))])
def test_convolutions_take_unbatched_input_as_torch(conv, shape, args):
    torch = torch_or_skip()
    w = R.standard_normal(args)
    assert_matches_torch(lambda x, k: getattr(F, conv)(x, k, stride=1),
                         lambda x, k: getattr(torch.nn.functional, conv)(x, k, stride=1),
                         [R.standard_normal(shape), w], rtol=1e-12)


def test_lazy_linear_matches_torch_shapes_and_init_bounds():
    torch = torch_or_skip()
    ours, theirs = nn.LazyLinear(7), torch.nn.LazyLinear(7)
    ours(cr.randn(2, 50)), theirs(torch.randn(2, 50))
    assert ours.weight.shape == tuple(theirs.weight.shape) and ours.in_features == theirs.in_features == 50
    bound = 1 / np.sqrt(50)
    w = np.abs(ours.weight.detach().numpy())
    assert w.max() <= bound and w.max() > 0.9 * bound


def test_integer_division_by_zero_raises_a_named_error_and_float_gives_inf_or_nan_silently(recwarn):
    a, b = cr.tensor([3, 4]), cr.tensor([0, 2])
    calls = {"floor_divide": lambda: a // b, "remainder": lambda: a % b, "fmod": lambda: cr.fmod(a, b),
             "div": lambda: cr.div(a, b, rounding_mode="trunc")}
    for name, call in calls.items():
        with pytest.raises(RuntimeError, match=f"{name}: integer division by zero .* 1 zero"):   # torch's type
            call()
        with pytest.raises(ZeroDivisionError):                                                  # Python's type
            call()
    assert (a // cr.tensor([1, 2])).tolist() == [3, 2]
    x = cr.tensor([1.0, -1.0, 0.0])
    assert (x // 0).numpy()[:2].tolist() == [np.inf, -np.inf] and np.isnan(cr.fmod(x, 0.0).numpy()).all()
    torch = torch_or_skip()
    t = torch.tensor([1.0, -1.0, 0.0])
    np.testing.assert_array_equal((x // 0).numpy(), (t // 0).numpy())
    np.testing.assert_array_equal(cr.remainder(x, 0.0).numpy(), torch.remainder(t, 0.0).numpy())
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantiles_with_nans_match_torch(fn, interpolation):
    torch = torch_or_skip()
    x = R.standard_normal((4, 7))
    x[0, 2] = x[1, 0] = x[1, 5] = np.nan
    x[3] = np.nan                              # an all-NaN row: NaN from both
    for q in (0.3, [0.0, 0.5, 1.0]):
        for dim, keepdim in [(1, False), (1, True), (None, False)]:
            a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            ya = getattr(cr, fn)(a, q, dim, keepdim, interpolation=interpolation)
            yb = getattr(torch, fn)(b, torch.tensor(q, dtype=torch.float64), dim, keepdim, interpolation=interpolation)
            np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-13)
            g = np.ones(yb.shape)
            ya.backward(cr.tensor(g))
            yb.backward(torch.tensor(g))
            np.testing.assert_allclose(np.nan_to_num(a.grad.numpy()), np.nan_to_num(b.grad.numpy()), rtol=1e-13)


@pytest.mark.parametrize("drop", [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
                                  F.feature_alpha_dropout])
def test_every_dropout_with_p_one_gives_zeros_without_a_warning(drop, recwarn):
    # channel dropout used to rescale by 1/(1 - p) here: 0/0, a NaN for every element
    shapes = {F.dropout3d: (2, 3, 4, 5, 6), F.dropout2d: (2, 3, 4, 5)}
    x = cr.ones(*shapes.get(drop, (2, 3, 4)))
    y = drop(x, 1.0, training=True).numpy()
    assert (y == 0).all() and not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    with pytest.raises(ValueError, match="probability must be in \\[0, 1\\], got -0.1"):
        drop(x, -0.1, training=True)
