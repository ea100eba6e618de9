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
