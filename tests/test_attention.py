"""Attention: gradchecks, and outputs and gradients equal torch's (masks, causal, heads, pre/post-norm)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


def test_sdpa_gradcheck_with_masks():
    rng = np.random.default_rng(0)
    q, k, v = (cr.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    mask = np.array([[True, False, True], [True, True, False], [True, True, True]])
    assert cr.autograd.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), [q, k, v])
    assert cr.autograd.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), [q, k, v])


torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def test_sdpa_matches_torch():
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal((2, 2, 5, 4)) for _ in range(3)]
    mask = rng.random((5, 5)) > 0.3
    np.fill_diagonal(mask, True)
    for kw in [dict(), dict(is_causal=True), dict(attn_mask=mask)]:
        ours = F.scaled_dot_product_attention(*[cr.tensor(a) for a in arrs], **kw)
        tkw = dict(kw)
        if "attn_mask" in tkw:
            tkw["attn_mask"] = torch.tensor(mask)
        theirs = torch.nn.functional.scaled_dot_product_attention(*[torch.tensor(a) for a in arrs], **tkw)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-9)


def _copy(ours, theirs):
    with torch.no_grad():
        for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n == m and p.shape == tuple(q.shape)
            q.copy_(torch.from_numpy(p.detach().numpy()))


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_torch(batch_first):
    cr.manual_seed(0)
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    _copy(ours, theirs)
    rng = np.random.default_rng(1)
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    xa = rng.standard_normal(shape)
    pad = np.zeros((3, 5), bool)
    pad[0, -2:] = True
    x, tx = cr.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    out, w = ours(x, x, x, key_padding_mask=pad)
    tout, tw = theirs(tx, tx, tx, key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-6, atol=1e-9)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.in_proj_weight.grad.numpy(), theirs.in_proj_weight.grad.numpy(), rtol=1e-6,
                               atol=1e-9)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_matches_torch(norm_first):
    cr.manual_seed(0)
    ours = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True,
                                      norm_first=norm_first).double()
    theirs = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True,
                                              norm_first=norm_first).double()
    _copy(ours, theirs)
    rng = np.random.default_rng(2)
    xa = rng.standard_normal((2, 4, 8))
    x, tx = cr.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    mask = np.triu(np.ones((4, 4), bool), 1)
    out = ours(x, src_mask=mask)
    tout = theirs(tx, src_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-9)
    (out ** 2).sum().backward()
    (tout ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-9)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=n)


MHA_OPTIONS = [{}, dict(kdim=5, vdim=3), dict(add_bias_kv=True), dict(add_zero_attn=True),
               dict(add_bias_kv=True, add_zero_attn=True, kdim=6, vdim=7, bias=False)]
MHA_LAYOUTS = [(False, ()), (True, ("attn", "padding")), (False, ("per_head",)), ("unbatched", ("padding",)),
               ("unbatched", ("attn",))]


@pytest.mark.parametrize("options", MHA_OPTIONS, ids=lambda o: ",".join(o) or "packed")
@pytest.mark.parametrize("layout,masks", MHA_LAYOUTS, ids=lambda v: str(v))
def test_multihead_attention_options_match_torch(options, layout, masks):
    """kdim/vdim (separate q/k/v projection weights), add_bias_kv, add_zero_attn, unbatched inputs, bool and
    float masks of every accepted shape: outputs, weights (averaged and per head) and gradients = torch's."""
    E, h, L, S, B = 8, 2, 3, 4, 2
    torch.manual_seed(0)
    batch_first, unbatched = layout is True, layout == "unbatched"
    theirs = torch.nn.MultiheadAttention(E, h, batch_first=batch_first, **options).double()
    ours = nn.MultiheadAttention(E, h, batch_first=batch_first, **options).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)

    def shaped(n, d):
        return rng.standard_normal((n, d) if unbatched else (B, n, d) if batch_first else (n, B, d))
    arrays = (shaped(L, E), shaped(S, options.get("kdim", E)), shaped(S, options.get("vdim", E)))
    masks_np = {}
    if "attn" in masks:
        m = rng.random((L, S)) > 0.7
        m[:, 0] = False
        masks_np["attn_mask"] = m
    if "per_head" in masks:
        masks_np["attn_mask"] = rng.standard_normal((B * h, L, S))
    if "padding" in masks:
        m = rng.random((S,) if unbatched else (B, S)) > 0.6
        m[..., 0] = False
        masks_np["key_padding_mask"] = m
    ins_c = [cr.tensor(a, requires_grad=True) for a in arrays]
    ins_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    for average in (False, True):
        out_c, w_c = ours(*ins_c, average_attn_weights=average, **{k: cr.tensor(v) for k, v in masks_np.items()})
        out_t, w_t = theirs(*ins_t, average_attn_weights=average,
                            **{k: torch.tensor(v) for k, v in masks_np.items()})
        np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(w_c.detach().numpy(), w_t.detach().numpy(), atol=1e-12)
    (out_c.sum() + (w_c ** 2).sum()).backward()
    (out_t.sum() + (w_t ** 2).sum()).backward()
    for a, b in zip(ins_c, ins_t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)
    grads_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads_t[name].grad.numpy(), atol=1e-10, err_msg=name)


def test_multihead_attention_names_bad_shapes():
    mha = nn.MultiheadAttention(8, 2, kdim=5)
    with pytest.raises(cr.ShapeError, match="key has 8 features.*expects 5"):
        mha(cr.randn(3, 2, 8), cr.randn(4, 2, 8), cr.randn(4, 2, 8))
    with pytest.raises(cr.ShapeError, match="attn_mask has shape"):
        nn.MultiheadAttention(8, 2)(cr.randn(3, 2, 8), cr.randn(4, 2, 8), cr.randn(4, 2, 8), attn_mask=cr.zeros(4, 4))
    with pytest.raises(cr.ShapeError, match="key_padding_mask has shape"):
        nn.MultiheadAttention(8, 2)(cr.randn(3, 2, 8), cr.randn(4, 2, 8), cr.randn(4, 2, 8),
                                    key_padding_mask=cr.zeros(4, 2, dtype=cr.bool))


@pytest.mark.parametrize("bias", [True, False])
def test_transformer_layers_take_bias_as_torch(bias):
    for name, args in [("TransformerEncoderLayer", (16, 2, 32)), ("Transformer", (16, 2, 1, 1, 32))]:
        ours, theirs = getattr(nn, name)(*args, bias=bias), getattr(torch.nn, name)(*args, bias=bias)
        assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("causal", [False, True])
def test_grouped_query_attention_matches_torch(causal):
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 4, 3, 8)), rng.standard_normal((2, 2, 5, 8)), rng.standard_normal((2, 2, 5, 8))
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    cs = [cr.tensor(a, requires_grad=True) for a in (q, k, v)]
    out_t = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=causal, enable_gqa=True)
    out_c = F.scaled_dot_product_attention(*cs, is_causal=causal, enable_gqa=True)
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), atol=1e-12)
    (out_t ** 2).sum().backward()
    (out_c ** 2).sum().backward()
    for a, b in zip(cs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
    with pytest.raises(cr.ShapeError, match="multiple"):
        F.scaled_dot_product_attention(cs[0], cr.randn(2, 3, 5, 8), cr.randn(2, 3, 5, 8), enable_gqa=True)


def test_sdpa_kernel_selection_runs_the_same_attention():
    from chainrule.nn.attention import SDPBackend, sdpa_kernel
    q = cr.randn(1, 2, 3, 4)
    plain = F.scaled_dot_product_attention(q, q, q)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        np.testing.assert_array_equal(F.scaled_dot_product_attention(q, q, q).numpy(), plain.numpy())
    with pytest.raises(TypeError, match="SDPBackend"):
        with sdpa_kernel("flash"):
            pass
    assert list(SDPBackend.__members__) == list(torch.nn.attention.SDPBackend.__members__)


@pytest.mark.parametrize("separate", [False, True])
def test_functional_multi_head_attention_matches_torch(separate):
    """The CLIP attention-pooling idiom: F.multi_head_attention_forward with separate q/k/v weights and a
    concatenated in_proj_bias; and the packed form with static_k / static_v."""
    rng = np.random.default_rng(0)
    E, h, L, B = 8, 2, 5, 3
    arrays = {name: rng.standard_normal(shape) * 0.3 for name, shape in
              [("x", (L, B, E)), ("wq", (E, E)), ("wk", (E, E)), ("wv", (E, E)), ("w_in", (3 * E, E)),
               ("b_in", (3 * E,)), ("w_out", (E, E)), ("b_out", (E,))]}
    results = []
    for lib, F_ in ((cr, F), (torch, torch.nn.functional)):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in arrays.items()}
        x = t["x"]
        kwargs = dict(use_separate_proj_weight=True, q_proj_weight=t["wq"], k_proj_weight=t["wk"],
                      v_proj_weight=t["wv"]) if separate else {}
        out, weights = F_.multi_head_attention_forward(
            x[:1], x, x, E, h, None if separate else t["w_in"], t["b_in"], None, None, False, 0.0, t["w_out"],
            t["b_out"], training=False, need_weights=True, **kwargs)
        (out.sum() + (weights ** 2).sum()).backward()
        results.append([out.detach().numpy(), weights.detach().numpy()] +
                       [t[k].grad.numpy() for k in ("x", "b_in", "w_out")])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_functional_multi_head_attention_static_kv_matches_torch():
    rng = np.random.default_rng(1)
    E, h, L, S, B = 8, 2, 4, 6, 2
    x, w_in, w_out = rng.standard_normal((L, B, E)), rng.standard_normal((3 * E, E)), rng.standard_normal((E, E))
    sk, sv = rng.standard_normal((B * h, S, E // h)), rng.standard_normal((B * h, S, E // h))
    outs = []
    for lib, F_ in ((cr, F), (torch, torch.nn.functional)):
        out, _ = F_.multi_head_attention_forward(
            lib.tensor(x), lib.tensor(x), lib.tensor(x), E, h, lib.tensor(w_in), None, None, None, False, 0.0,
            lib.tensor(w_out), None, static_k=lib.tensor(sk), static_v=lib.tensor(sv))
        outs.append(out.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9)
