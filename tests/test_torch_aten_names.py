"""torch's top-level names with ATen's native signatures (chainrule/aten_functions.py) against torch: int
reductions, the native argument orders, the (out, statistics) triples, the *_copy forms, cond and while_loop."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch", reason="torch is the oracle for its native signatures")

RNG = np.random.default_rng(5)
X = RNG.standard_normal((2, 3, 4))
LOGP = np.log(RNG.dirichlet(np.ones(4), size=(2, 3)))
P = RNG.dirichlet(np.ones(4), size=(2, 3))
A, B = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
SIGNS = np.sign(RNG.standard_normal(5))
W = RNG.standard_normal((5, 2))
GAMMA, BETA, MEAN, VAR = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3), RNG.uniform(0.5, 2, 3)
LN_WEIGHT = RNG.standard_normal((3, 4))
GN_INPUT = RNG.standard_normal((2, 4, 3, 2))
CTC_LOGP = np.log(RNG.dirichlet(np.ones(5), size=(6, 2)))
TBC = RNG.standard_normal((5, 2, 3)), RNG.standard_normal((3, 3, 4)), RNG.standard_normal(4)
THETA = RNG.standard_normal((2, 2, 3))
IMAGE, GRID = RNG.standard_normal((2, 3, 4, 5)), RNG.uniform(-1.1, 1.1, (2, 3, 3, 2))
CELL_X, CELL_H, CELL_C = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4)), RNG.standard_normal((2, 4))
CELL_WEIGHTS = {k: (RNG.standard_normal((k * 4, 3)), RNG.standard_normal((k * 4, 4)), RNG.standard_normal(k * 4),
                    RNG.standard_normal(k * 4)) for k in (1, 3, 4)}
CONV = {(transposed, nd): (RNG.standard_normal((2, 4) + (5,) * nd),
                           RNG.standard_normal(((4, 1) if transposed else (4, 2)) + (3,) * nd))
        for transposed in (False, True) for nd in (1, 2, 3)}


def t(lib, x, requires_grad=False):
    return lib.tensor(np.asarray(x), requires_grad=requires_grad)


CASES = {}
for r in (0, 1, 2):
    CASES.update({
        f"kl_div_{r}": lambda L, r=r: L.kl_div(t(L, LOGP), t(L, P), r),
        f"kl_div_log_target_{r}": lambda L, r=r: L.kl_div(t(L, LOGP), t(L, LOGP), r, log_target=True),
        f"margin_ranking_loss_{r}": lambda L, r=r: L.margin_ranking_loss(t(L, A[:, 0]), t(L, B[:, 0]), t(L, SIGNS),
                                                                         0.3, r),
        f"cosine_embedding_loss_{r}": lambda L, r=r: L.cosine_embedding_loss(t(L, A), t(L, B), t(L, SIGNS), 0.1, r),
        f"hinge_embedding_loss_{r}": lambda L, r=r: L.hinge_embedding_loss(t(L, A), t(L, np.sign(B)), 0.7, r),
        f"poisson_nll_loss_{r}": lambda L, r=r: L.poisson_nll_loss(t(L, A), t(L, np.abs(B)), True, True, 1e-8, r),
        f"triplet_margin_loss_{r}": lambda L, r=r: L.triplet_margin_loss(t(L, A), t(L, B), t(L, A * 0.5), 1.0, 2.0,
                                                                         1e-6, True, r),
        f"bce_with_logits_{r}": lambda L, r=r: L.binary_cross_entropy_with_logits(
            t(L, A), t(L, (B > 0) * 1.0), None, t(L, np.full(3, 2.0)), r),
    })
CASES.update({
    "ctc_loss": lambda L: L.ctc_loss(t(L, CTC_LOGP), t(L, np.array([[1, 2], [3, 3]])), [6, 5], [2, 2], 0, 1, False),
    "ctc_loss_tensor_lengths": lambda L: L.ctc_loss(t(L, CTC_LOGP), t(L, np.array([[1, 2], [3, 3]])),
                                                    t(L, np.array([6, 5])), t(L, np.array([2, 2])), 0, 0, False),
    "embedding": lambda L: L.embedding(t(L, W), t(L, np.array([[0, 4], [2, 2]]))),
    "native_layer_norm": lambda L: L.native_layer_norm(t(L, X), [3, 4], t(L, LN_WEIGHT), None, 1e-5),
    "native_group_norm": lambda L: L.native_group_norm(t(L, GN_INPUT), t(L, np.arange(4.0)), None, 2, 4, 6, 2, 1e-5),
    "native_dropout_eval": lambda L: L.native_dropout(t(L, X), 0.3, False),
    "constant_pad_nd": lambda L: L.constant_pad_nd(t(L, X), [1, 2, 0, 1], 3.5),
    "max_pool1d_with_indices": lambda L: L.max_pool1d_with_indices(t(L, X), [2]),
    "max_pool1d_with_indices_options": lambda L: L.max_pool1d_with_indices(t(L, X), [2], [1], [1], [1], True),
    "conv_tbc": lambda L: L.conv_tbc(*(t(L, a) for a in TBC), 1),
    "affine_grid_generator": lambda L: L.affine_grid_generator(t(L, THETA), [2, 3, 4, 5], False),
    "identities_of_real_tensors": lambda L: (L.conj(t(L, X)), L.conj_physical(t(L, X)), L.resolve_conj(t(L, X)),
                                             L.resolve_neg(t(L, X)), L.real(t(L, X)), L.adjoint(t(L, X))),
    "flags": lambda L: tuple(L.tensor(v) for v in (L.is_conj(t(L, X)), L.is_neg(t(L, X)), L.is_inference(t(L, X)))),
    "empty_permuted_shape": lambda L: L.tensor(L.empty_permuted((2, 3, 4), (0, 2, 1)).shape),
    "cond_tensor_pred": lambda L: L.cond(t(L, True), lambda a: a + 1, lambda a: a - 1, (t(L, X),)),
    "cond_bool_pred": lambda L: L.cond(False, lambda a, b: a + b, lambda a, b: a - b, [t(L, X), t(L, X)]),
    "while_loop": lambda L: L.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2), (t(L, 0), t(L, np.ones(2)))),
    "i0": lambda L: L.i0(t(L, X)),
    "t_copy": lambda L: L.t_copy(t(L, A)),
    "slice_copy": lambda L: L.slice_copy(t(L, X), 1, 0, 3, 2),
})
for _tr in (False, True):
    CASES[f"batch_norm_training_{_tr}"] = lambda L, tr=_tr: _with_running_stats(L, lambda m, v: L.batch_norm(
        t(L, X), t(L, GAMMA), t(L, BETA), m, v, tr, 0.2, 1e-3, False))
    CASES[f"native_batch_norm_training_{_tr}"] = lambda L, tr=_tr: _with_running_stats(L, lambda m, v: L.native_batch_norm(
        t(L, X), t(L, GAMMA), t(L, BETA), m, v, tr, 0.2, 1e-3))
    CASES[f"instance_norm_input_stats_{_tr}"] = lambda L, tr=_tr: _with_running_stats(L, lambda m, v: L.instance_norm(
        t(L, X), t(L, GAMMA), t(L, BETA), m, v, tr, 0.2, 1e-3, False))
    for _nd in (1, 2, 3):
        CASES[f"convolution_{'transposed_' if _tr else ''}{_nd}d"] = lambda L, tr=_tr, nd=_nd: L.convolution(
            t(L, CONV[tr, nd][0]), t(L, CONV[tr, nd][1]), t(L, np.arange(2.0 if tr else 4.0)), [2] * nd, [1] * nd,
            [1] * nd, tr, [1 if tr else 0] * nd, 2)
for _name, _k in (("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)):
    for _bias in (True, False):
        CASES[f"{_name}{'' if _bias else '_without_bias'}"] = lambda L, name=_name, k=_k, bias=_bias: getattr(L, name)(
            t(L, CELL_X), (t(L, CELL_H), t(L, CELL_C)) if name == "lstm_cell" else t(L, CELL_H),
            *(t(L, w) for w in CELL_WEIGHTS[k][:4 if bias else 2]))
for _im in (0, 1, 2):
    for _pm in (0, 1, 2):
        CASES[f"grid_sampler_{_im}_{_pm}"] = lambda L, im=_im, pm=_pm: L.grid_sampler(t(L, IMAGE), t(L, GRID), im, pm,
                                                                                        True)
for _name, _args in [("alias", ()), ("as_strided", ((2, 2), (1, 2))), ("diagonal", ()), ("expand", ((2, 2, 3, 4),)),
                     ("narrow", (2, 1, 2)), ("permute", ((2, 0, 1),)), ("select", (0, 1)), ("split", (2, 2)),
                     ("split_with_sizes", ([1, 3], 2)), ("squeeze", ()), ("transpose", (0, 1)), ("unbind", ()),
                     ("unfold", (2, 2, 1)), ("unsqueeze", (0,)), ("view", ((6, 4),)), ("detach", ())]:
    CASES[f"{_name}_copy"] = lambda L, name=_name, args=_args: _as_tuple(getattr(L, f"{name}_copy")(t(L, X), *args))


def _with_running_stats(L, fn):
    mean, var = t(L, MEAN.copy()), t(L, VAR.copy())
    out = fn(mean, var)
    return (out if isinstance(out, tuple) else (out,)) + (mean, var)


def _as_tuple(result):
    return tuple(result) if isinstance(result, (tuple, list)) else result


def _assert_same(mine, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(mine, (tuple, list)) and len(mine) == len(theirs)
        for m, th in zip(mine, theirs):
            _assert_same(m, th)
        return
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_native_signature_as_torch(case):
    _assert_same(CASES[case](cr), CASES[case](torch))


@pytest.mark.parametrize("padding_idx", [2, -1])
def test_embedding_gradient_and_padding_idx_as_torch(padding_idx):
    """ATen's padding_idx -1 means none; another index gets no gradient."""
    grads = []
    for L in (cr, torch):
        w = t(L, W, requires_grad=True)
        L.embedding(w, t(L, np.array([0, 4, 2, 2])), padding_idx).sum().backward()
        grads.append(w.grad)
    _assert_same(*grads)


def test_embedding_renorm_changes_the_looked_up_rows_in_place_as_torch():
    weights = []
    for L in (cr, torch):
        w = t(L, W * 3)
        assert L.embedding_renorm_(w, t(L, np.array([0, 1, 1])), 1.0, 2.0) is w
        weights.append(w)
    _assert_same(*weights)


def test_dropouts_keep_or_drop_as_documented():
    out, mask = cr.native_dropout(cr.ones(200, 50, dtype=cr.float64), 0.3, True)
    assert mask.dtype == cr.bool and abs(mask.numpy().mean() - 0.7) < 0.02
    np.testing.assert_allclose(out.numpy(), mask.numpy() / 0.7)
    per_feature = cr.feature_dropout(cr.ones(100, 30, 4), 0.5, True).numpy().reshape(3000, 4)
    assert ((per_feature == 0).all(1) | (per_feature == 2).all(1)).all()
    x = cr.ones(4, 5, 3)
    assert cr.feature_dropout_(x, 0.5, True) is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_copy_forms_share_no_memory():
    x = cr.tensor(X.copy())
    cr.view_copy(x, (24,))[0] = 100.0
    cr.expand_copy(x[:1], (2, 3, 4))[0, 0, 0] = 100.0
    np.testing.assert_array_equal(x.numpy(), X)


def test_named_errors():
    with pytest.raises(ValueError, match=r"torch.kl_div: reduction must be ATen's 0 \('none'\)"):
        cr.kl_div(cr.tensor(LOGP), cr.tensor(P), 3)
    with pytest.raises(ValueError, match="grid_sampler: interpolation_mode must be one of 0 \\(bilinear\\)"):
        cr.grid_sampler(cr.tensor(IMAGE), cr.tensor(GRID), 5, 0, True)
    with pytest.raises(ValueError, match=r"torch.native_dropout: probability must be in \[0, 1\], got 1.5"):
        cr.native_dropout(cr.ones(3), 1.5, True)
    with pytest.raises(ValueError, match=r"empty_permuted: physical_layout \(0, 2, 2\) is not a permutation"):
        cr.empty_permuted((2, 3, 4), (0, 2, 2))
    with pytest.raises(ValueError, match="body_fn returned 1 values for 2 carried inputs"):
        cr.while_loop(lambda i, a: i < 3, lambda i, a: i + 1, (cr.tensor(0), cr.ones(2)))
    with pytest.raises(cr.ShapeError, match="torch.cond: pred must be a bool or a one-element tensor"):
        cr.cond(cr.ones(2), lambda: 1, lambda: 0)


def test_cond_and_while_loop_pass_gradients_through_the_branch_taken():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    cr.cond(x.sum() > 0, lambda a: (a ** 2).sum(), lambda a: a.sum(), (x,)).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    y = cr.tensor([1.0, -1.0], requires_grad=True)
    _, out = cr.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2), (cr.tensor(0), y))
    out.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [8.0, 8.0])
