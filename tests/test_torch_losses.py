"""The ranking, margin, embedding and likelihood losses against torch (float64, values and gradients of every
input, each reduction), and their named errors without it."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from helpers import assert_matches_torch


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _signs(n, rng):
    return np.where(rng.random(n) < 0.5, -1.0, 1.0)


def _case(name, rng):
    """-> (chainrule function, torch function name, float inputs needing grad, constant args, kwargs)."""
    x = lambda *s, lo=-2, hi=2: rng.uniform(lo, hi, s)  # noqa: E731
    cases = {
        "margin_ranking_loss": ([x(8), x(8)], [_signs(8, rng)], dict(margin=0.2)),
        "hinge_embedding_loss": ([x(3, 4, lo=0, hi=2)], [_signs(12, rng).reshape(3, 4)], dict(margin=1.5)),
        "soft_margin_loss": ([x(3, 4, lo=-40, hi=40)], [_signs(12, rng).reshape(3, 4)], {}),
        "multilabel_soft_margin_loss": ([x(5, 3)], [(rng.random((5, 3)) < 0.5).astype(float)],
                                        dict(weight=None)),
        "cosine_embedding_loss": ([x(6, 4), x(6, 4)], [_signs(6, rng)], dict(margin=0.1)),
        "triplet_margin_loss": ([x(6, 4), x(6, 4), x(6, 4)], [], dict(margin=1.0, p=2)),
        "multi_margin_loss": ([x(5, 4)], [rng.integers(0, 4, 5)], dict(margin=1.0)),
        "multilabel_margin_loss": ([x(3, 4)], [np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]])], {}),
        "poisson_nll_loss": ([x(3, 4)], [rng.integers(0, 5, (3, 4)).astype(float)], dict(full=True)),
        "gaussian_nll_loss": ([x(4, 3), x(4, 3), x(4, 1, lo=1e-3, hi=2)], [], dict(full=True)),
    }
    return cases[name]


NAMES = ["margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
         "cosine_embedding_loss", "triplet_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
         "poisson_nll_loss", "gaussian_nll_loss"]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", NAMES)
def test_loss_matches_torch(name, reduction):
    torch = _torch()
    floats, consts, kw = _case(name, np.random.default_rng(NAMES.index(name)))
    # float inputs first (gaussian_nll_loss: input, target, var), then the constant targets
    c_ours, c_theirs = [cr.tensor(c) for c in consts], [torch.tensor(c) for c in consts]
    assert_matches_torch(lambda *xs: getattr(F, name)(*xs, *c_ours, reduction=reduction, **kw),
                         lambda *xs: getattr(torch.nn.functional, name)(*xs, *c_theirs, reduction=reduction, **kw),
                         floats, rtol=1e-10, grad_rtol=1e-9)


def test_variants_match_torch():
    torch = _torch()
    rng = np.random.default_rng(5)
    a, p, n = (rng.standard_normal((5, 3)) for _ in range(3))
    t = lambda v: torch.tensor(v)  # noqa: E731
    c = lambda v: cr.tensor(v)  # noqa: E731
    pairs = [
        (F.triplet_margin_loss(c(a), c(p), c(n), margin=2.0, p=1, swap=True),
         torch.nn.functional.triplet_margin_loss(t(a), t(p), t(n), margin=2.0, p=1, swap=True)),
        (nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: 1 - F.cosine_similarity(x, y))(c(a), c(p), c(n)),
         torch.nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: 1 - torch.nn.functional.cosine_similarity(x, y))(t(a), t(p), t(n))),
        (F.multi_margin_loss(c(a), c(np.array([0, 2, 1, 1, 0])), p=2, margin=0.5, weight=c(np.array([1.0, 2.0, 3.0]))),
         torch.nn.functional.multi_margin_loss(t(a), t(np.array([0, 2, 1, 1, 0])), p=2, margin=0.5,
                                               weight=t(np.array([1.0, 2.0, 3.0])))),
        (F.poisson_nll_loss(c(np.abs(a)), c(np.abs(p)), log_input=False),
         torch.nn.functional.poisson_nll_loss(t(np.abs(a)), t(np.abs(p)), log_input=False)),
        (F.gaussian_nll_loss(c(a), c(p), c(np.abs(n[:, 0]))),
         torch.nn.functional.gaussian_nll_loss(t(a), t(p), t(np.abs(n[:, 0])))),
        (F.gaussian_nll_loss(c(a), c(p), c(np.zeros((5, 3)))),    # var clamped at eps
         torch.nn.functional.gaussian_nll_loss(t(a), t(p), t(np.zeros((5, 3))))),
        (F.multilabel_soft_margin_loss(c(a), c((p > 0).astype(float)), weight=c(np.array([0.5, 1.0, 2.0]))),
         torch.nn.functional.multilabel_soft_margin_loss(t(a), t((p > 0).astype(float)),
                                                         weight=t(np.array([0.5, 1.0, 2.0])))),
        (F.cosine_embedding_loss(c(a[0]), c(p[0]), c(np.array(-1.0)), margin=-0.5),
         torch.nn.functional.cosine_embedding_loss(t(a[0]), t(p[0]), t(np.array(-1.0)), margin=-0.5)),
        (F.pairwise_distance(c(a), c(p), p=3, keepdim=True), torch.nn.functional.pairwise_distance(t(a), t(p), p=3,
                                                                                                   keepdim=True)),
        (F.multi_margin_loss(c(a[0]), c(np.array([1]))), torch.nn.functional.multi_margin_loss(t(a[0]), t(np.array([1])))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_loss_modules_match_functional():
    rng = np.random.default_rng(6)
    a, b = cr.tensor(rng.standard_normal((4, 3))), cr.tensor(rng.standard_normal((4, 3)))
    y = cr.tensor(np.array([1.0, -1.0, 1.0, -1.0]))
    assert nn.CosineEmbeddingLoss(0.2)(a, b, y).item() == F.cosine_embedding_loss(a, b, y, 0.2).item()
    assert nn.MarginRankingLoss(0.1, reduction="sum")(a[:, 0], b[:, 0], y).item() == \
        F.margin_ranking_loss(a[:, 0], b[:, 0], y, 0.1, reduction="sum").item()
    assert nn.TripletMarginLoss(margin=0.5)(a, b, a.flip([0])).item() == \
        F.triplet_margin_loss(a, b, a.flip([0]), margin=0.5).item()
    assert nn.GaussianNLLLoss()(a, b, a.abs() + 0.1).item() == F.gaussian_nll_loss(a, b, a.abs() + 0.1).item()
    assert nn.PoissonNLLLoss()(a, b.abs()).item() == F.poisson_nll_loss(a, b.abs()).item()
    assert nn.PairwiseDistance()(a, b).shape == (4,)
    assert repr(nn.SoftMarginLoss(reduction="sum")) == "SoftMarginLoss()"   # torch's: losses show no arguments


def test_margin_losses_reject_zero_one_labels():
    x = cr.randn(4)
    with pytest.raises(ValueError, match=r"margin_ranking_loss: target must hold 1 .* got \[0\.0\].*2 \* y - 1"):
        F.margin_ranking_loss(x, x, cr.tensor([0.0, 1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="hinge_embedding_loss: target"):
        F.hinge_embedding_loss(x, cr.tensor([0, 1, 1, 1]))
    with pytest.raises(ValueError, match="reduction must be"):
        F.soft_margin_loss(x, cr.tensor([1.0, 1, 1, 1]), reduction="avg")


def test_shape_and_value_errors_are_named():
    x = cr.randn(4, 3)
    with pytest.raises(cr.ShapeError, match=r"cosine_embedding_loss: .*\(4, 3\), \(4, 2\)"):
        F.cosine_embedding_loss(x, cr.randn(4, 2), cr.ones(4))
    with pytest.raises(cr.ShapeError, match="gaussian_nll_loss: var of shape"):
        F.gaussian_nll_loss(x, x, cr.ones(2))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(x, x, -cr.ones(4, 3))
    with pytest.raises(ValueError, match=r"multi_margin_loss: target must be 4 integer class labels in \[0, 3\)"):
        F.multi_margin_loss(x, cr.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="multilabel_margin_loss: label 7 in row 0"):
        F.multilabel_margin_loss(x, cr.tensor([[7, -1, 0]] * 4))
    with pytest.raises(cr.ShapeError, match="triplet_margin_loss"):
        F.triplet_margin_loss(x, x, cr.randn(2, 4, 3))
    with pytest.raises(cr.ShapeError, match="margin_ranking_loss: shapes"):
        F.margin_ranking_loss(x, cr.randn(5, 3), cr.ones(4, 3))
    with pytest.raises(cr.ShapeError, match=r"margin_ranking_loss: .*same number of dims.*\(4, 1\), \(4, 1\), \(4,\)"):
        F.margin_ranking_loss(x[:, :1], x[:, :1], cr.ones(4))   # would broadcast to a (4, 4) loss


def test_soft_margin_is_stable_at_extremes():
    x = cr.tensor([1000.0, -1000.0], requires_grad=True)
    loss = F.soft_margin_loss(x, cr.tensor([-1.0, -1.0]))
    loss.backward()
    assert np.isfinite(loss.item()) and abs(loss.item() - 500.0) < 1e-6
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.0], atol=1e-12)


# ---- torch's deprecated size_average / reduce, class weights as buffers, elementwise weights -------------------
LEGACY = [("mse_loss", "MSELoss", {}), ("l1_loss", "L1Loss", {}), ("smooth_l1_loss", "SmoothL1Loss", {}),
          ("soft_margin_loss", "SoftMarginLoss", {}), ("kl_div", "KLDivLoss", {}),
          ("binary_cross_entropy", "BCELoss", {}), ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss", {}),
          ("cross_entropy", "CrossEntropyLoss", {}), ("nll_loss", "NLLLoss", {})]


def _legacy_inputs(name, rng):
    x = rng.uniform(-2, 2, (4, 3))
    if name in ("cross_entropy", "nll_loss"):
        return x, np.array([0, 2, 1, 2])
    if name == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    if name == "soft_margin_loss":
        return x, _signs(12, rng).reshape(4, 3)
    if name == "kl_div":
        return np.log(rng.dirichlet(np.ones(3), 4)), rng.dirichlet(np.ones(3), 4)
    return x, rng.uniform(-2, 2, (4, 3))


@pytest.mark.parametrize("fname,cls,_", LEGACY, ids=[c[0] for c in LEGACY])
@pytest.mark.parametrize("size_average,reduce,expected", [(False, None, "sum"), (None, False, "none"),
                                                         (True, True, "mean"), (False, False, "none")])
def test_legacy_size_average_and_reduce_map_to_reduction_as_torch(fname, cls, _, size_average, reduce, expected):
    torch = _torch()
    a, b = _legacy_inputs(fname, np.random.default_rng(3))
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        got = getattr(F, fname)(cr.tensor(a), cr.tensor(b), size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        module = getattr(nn, cls)(size_average=size_average, reduce=reduce)
    assert module.reduction == expected
    np.testing.assert_allclose(module(cr.tensor(a), cr.tensor(b)).numpy(), got.numpy())
    with pytest.warns(UserWarning):
        want = getattr(torch.nn.functional, fname)(torch.tensor(a), torch.tensor(b), size_average=size_average,
                                                   reduce=reduce)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_a_custom_loss_subclasses_torchs_base_classes():
    """class FocalLoss(nn.modules.loss._WeightedLoss) calling super().__init__(weight, size_average, reduce,
    reduction), as torch code does."""
    from chainrule.nn.loss import _Loss, _WeightedLoss

    class Focal(_WeightedLoss):
        def __init__(self, weight=None, gamma=2.0, size_average=None, reduce=None, reduction="mean"):
            super().__init__(weight, size_average, reduce, reduction)
            self.gamma = gamma

        def forward(self, logits, target):
            logp = F.log_softmax(logits, 1)
            p = logp.exp()
            return F.nll_loss((1 - p) ** self.gamma * logp, target, self.weight, reduction=self.reduction)

    loss = Focal(cr.tensor([1.0, 2.0, 0.5]), reduction="sum")
    assert isinstance(loss, _Loss) and list(loss.state_dict()) == ["weight"]
    assert loss(cr.randn(4, 3), cr.tensor([0, 1, 2, 1])).ndim == 0
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="average")
    with pytest.raises(TypeError, match="buffer 'weight'"):
        nn.CrossEntropyLoss(weight=[1.0, 2.0])   # torch requires a Tensor too


def test_loss_weights_are_buffers_with_torchs_state_dict_keys():
    torch = _torch()
    w = np.array([1.0, 2.0, 0.5])
    for cls, kwargs in [("CrossEntropyLoss", {"weight": w}), ("NLLLoss", {"weight": w}), ("BCELoss", {"weight": w}),
                        ("BCEWithLogitsLoss", {"pos_weight": w}), ("BCEWithLogitsLoss", {"weight": w, "pos_weight": w}),
                        ("MultiMarginLoss", {"weight": w}), ("MultiLabelSoftMarginLoss", {"weight": w}),
                        ("CrossEntropyLoss", {}), ("MSELoss", {})]:
        ours = getattr(nn, cls)(**{k: cr.tensor(v) for k, v in kwargs.items()})
        theirs = getattr(torch.nn, cls)(**{k: torch.tensor(v) for k, v in kwargs.items()})
        assert list(ours.state_dict()) == list(theirs.state_dict()), cls
        assert repr(ours) == repr(theirs)
    assert nn.NLLLoss2d is nn.NLLLoss


@pytest.mark.parametrize("fname", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise_weights_of_regression_losses_match_torch(fname, reduction):
    torch = _torch()
    rng = np.random.default_rng(8)
    x, y, w = rng.uniform(-2, 2, (4, 3)), rng.uniform(-2, 2, (4, 3)), rng.uniform(0.1, 2, (4, 3))
    cx, cw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    kw = {"delta": 0.7} if fname == "huber_loss" else {}
    got = getattr(F, fname)(cx, cr.tensor(y), reduction=reduction, weight=cw, **kw)
    want = getattr(torch.nn.functional, fname)(tx, torch.tensor(y), reduction=reduction, weight=tw, **kw)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-10)
    with pytest.raises(cr.ShapeError, match="weight has shape"):
        getattr(F, fname)(cx, cr.tensor(y), weight=cr.ones(3))


@pytest.mark.parametrize("chunked", [False, True], ids=["reference", "chunked"])
@pytest.mark.parametrize("case", [dict(), dict(reduction="sum", ignore_index=2), dict(reduction="none"),
                                  dict(weight=True), dict(bias=True, reduction="none", ignore_index=0)],
                         ids=["mean", "sum-ignore", "none", "weighted", "bias"])
def test_linear_cross_entropy_matches_torch(chunked, case):
    torch = _torch()
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((7, 5)), rng.standard_normal((6, 5))
    b, y, cw = rng.standard_normal(6), np.array([0, 2, 5, 1, 2, 4, 3]), rng.uniform(0.5, 2, 6)
    kw = {k: v for k, v in case.items() if k in ("reduction", "ignore_index")}
    results = []
    for lib, opts in ((cr, cr.nn.LinearCrossEntropyOptions(batch_chunk_size=3) if chunked else None),
                      (torch, torch.nn.LinearCrossEntropyOptions(batch_chunk_size=3) if chunked else None)):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        bs = lib.tensor(b, requires_grad=True) if case.get("bias") else None
        out = lib.nn.functional.linear_cross_entropy(xs, ws, lib.tensor(y), linear_bias=bs, options=opts,
                                                     weight=lib.tensor(cw) if case.get("weight") else None, **kw)
        (out * lib.tensor(np.arange(1.0, 1 + out.numel()).reshape(tuple(out.shape)))).sum().backward()
        results.append([out.detach().numpy(), xs.grad.numpy(), ws.grad.numpy()] + ([bs.grad.numpy()] if bs is not None else []))
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, rtol=1e-10, atol=1e-12)


def test_linear_cross_entropy_k_dimensional_and_module_as_torch():
    torch = _torch()
    rng = np.random.default_rng(5)
    x, w, y = rng.standard_normal((4, 3)), rng.standard_normal((5, 2, 3)), rng.integers(0, 5, (4, 2))
    outs = [lib.nn.functional.linear_cross_entropy(lib.tensor(x), lib.tensor(w), lib.tensor(y)).item()
            for lib in (cr, torch)]
    assert outs[0] == pytest.approx(outs[1], rel=1e-12)
    ours, theirs = nn.LinearCrossEntropyLoss(3, 5, bias=True), torch.nn.LinearCrossEntropyLoss(3, 5, bias=True)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    xt = rng.standard_normal((4, 3)).astype(np.float32)
    assert ours(cr.tensor(xt), cr.tensor(y[:, 0])).item() == pytest.approx(
        theirs(torch.tensor(xt), torch.tensor(y[:, 0])).item(), rel=1e-6)


def test_chunked_linear_cross_entropy_never_holds_the_whole_logits():
    """A 2048-row batch over a 4096-class head: the reference path holds (N, C) logits and their softmax (32 MiB
    each in float32); the chunked node's peak is a few chunks."""
    import tracemalloc
    rng = np.random.default_rng(6)
    x = cr.tensor(rng.standard_normal((2048, 16)).astype(np.float32), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4096, 16)).astype(np.float32) * 0.1, requires_grad=True)
    y = cr.tensor(rng.integers(0, 4096, 2048))
    peaks, grads = [], []
    for options in (None, cr.nn.LinearCrossEntropyOptions(batch_chunk_size=128)):
        x.grad = w.grad = None
        tracemalloc.start()
        F.linear_cross_entropy(x, w, y, options=options).backward()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        grads.append(w.grad.numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-7)
    assert peaks[1] < peaks[0] / 5, peaks


def test_gaussian_nll_loss_at_an_infinite_variance_or_error_is_infinite_as_torch():
    """The ε-clamp of var used to add max(var, ε) - var, which is ∞ - ∞ = nan at var = ∞."""
    torch = _torch()
    mu, y, var = [[0.0, 1.0, np.inf]], [[0.5, 1.0, 0.0]], [[np.inf, 1e-9, 1.0]]
    ours = F.gaussian_nll_loss(cr.tensor(mu), cr.tensor(y), cr.tensor(var), reduction="none")
    theirs = torch.nn.functional.gaussian_nll_loss(torch.tensor(mu), torch.tensor(y), torch.tensor(var),
                                                   reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert np.isinf(ours.numpy()[0, [0, 2]]).all()


def test_multilabel_margin_counts_a_label_listed_twice_twice_as_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
    x = np.random.default_rng(0).standard_normal((3, 5))
    t = np.array([[1, 1, 0, 1, 4], [3, -1, 2, 2, 2], [2, 2, -1, 0, 0]])
    ours = F.multilabel_margin_loss(cr.tensor(x), cr.tensor(t), reduction="none")
    theirs = torch.nn.functional.multilabel_margin_loss(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
