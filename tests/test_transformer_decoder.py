"""The encoder-decoder Transformer (TransformerDecoderLayer, TransformerDecoder, Transformer) against torch with
the same weights, post- and pre-norm, with causal and padding masks: outputs and every parameter's gradient to
1e-9 in float64. Without torch: shapes, torch's state_dict names, masks and errors."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def _sync(cm, tm):
    torch = _torch()
    cs, ts = cm.state_dict(), tm.state_dict()
    assert sorted(cs) == sorted(ts)
    with torch.no_grad():
        for k, v in ts.items():
            v.copy_(torch.from_numpy(np.asarray(cs[k].numpy())))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(norm_first, batch_first):
    torch = _torch()
    cr.manual_seed(0)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
              batch_first=batch_first, norm_first=norm_first)
    cm, tm = nn.Transformer(**kw).double(), torch.nn.Transformer(**kw).double()
    _sync(cm, tm)
    rng = np.random.default_rng(1)
    src, tgt = rng.standard_normal((3, 5, 8)), rng.standard_normal((3, 4, 8))
    if not batch_first:
        src, tgt = src.transpose(1, 0, 2).copy(), tgt.transpose(1, 0, 2).copy()
    pad = np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]])
    c_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=cr.float64)
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    np.testing.assert_array_equal(c_mask.numpy(), t_mask.numpy())
    ya = cm(cr.tensor(src), cr.tensor(tgt), tgt_mask=c_mask, src_key_padding_mask=cr.tensor(pad),
            memory_key_padding_mask=cr.tensor(pad))
    yb = tm(torch.tensor(src), torch.tensor(tgt), tgt_mask=t_mask, src_key_padding_mask=torch.tensor(pad),
            memory_key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-9, atol=1e-11)
    g = rng.standard_normal(tuple(yb.shape))
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    tp = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=1e-8, atol=1e-11, err_msg=name)


def test_decoder_layer_alone_matches_torch():
    torch = _torch()
    cm = nn.TransformerDecoderLayer(6, 3, 12, dropout=0.0, batch_first=True, activation="gelu").double()
    tm = torch.nn.TransformerDecoderLayer(6, 3, 12, dropout=0.0, batch_first=True, activation="gelu").double()
    _sync(cm, tm)
    rng = np.random.default_rng(2)
    tgt, mem = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 7, 6))
    ya = cm(cr.tensor(tgt), cr.tensor(mem), tgt_is_causal=True,
            tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=cr.float64))
    yb = tm(torch.tensor(tgt), torch.tensor(mem), tgt_is_causal=True,
            tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64))
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_stacks_copy_the_layer_like_torch():
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    enc = nn.TransformerEncoder(layer, num_layers=3, norm=nn.LayerNorm(8))
    w = [m.linear1.weight for m in enc.layers]
    assert all(a is not b for a, b in zip(w, w[1:]))                         # independent parameters
    np.testing.assert_array_equal(w[0].detach().numpy(), w[2].detach().numpy())   # that start equal, as torch's
    assert "norm.weight" in enc.state_dict() and enc(cr.randn(2, 5, 8)).shape == (2, 5, 8)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2)
    assert dec(cr.randn(4, 2, 8), cr.randn(6, 2, 8)).shape == (4, 2, 8)
    with pytest.raises(TypeError, match="TransformerEncoder: expected a layer"):
        nn.TransformerEncoder(3, 2)


def test_transformer_defaults_and_errors():
    cr.manual_seed(0)
    m = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    names = set(m.state_dict())
    assert {"encoder.layers.0.self_attn.in_proj_weight", "decoder.layers.0.multihead_attn.out_proj.weight",
            "decoder.norm.bias", "encoder.norm.weight"} <= names
    w = m.decoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 32))                                            # Xavier-uniform re-initialisation
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert m(cr.randn(5, 2, 16), cr.randn(3, 2, 16)).shape == (3, 2, 16)
    with pytest.raises(ValueError, match="Transformer: src and tgt must have the same batch size"):
        m(cr.randn(5, 2, 16), cr.randn(3, 4, 16))
    with pytest.raises(ValueError, match="must equal d_model=16"):
        m(cr.randn(5, 2, 8), cr.randn(3, 2, 8))
