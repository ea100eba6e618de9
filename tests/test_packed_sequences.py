"""PackedSequence: pack_padded_sequence / pad_packed_sequence / pack_sequence / unpack_sequence, and RNN, LSTM and
GRU (multi-layer, bidirectional) run on packed batches of variable length: the same packed data, outputs, final
states and gradients as torch (float64); round trips and errors without it."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence,
                                    unpack_sequence)

LENGTHS = [3, 5, 1, 5, 2]


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def test_pack_round_trip_and_layout():
    x = cr.tensor(np.arange(5 * 5 * 2, dtype=np.float64).reshape(5, 5, 2), requires_grad=True)   # (B, T, F)
    packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    assert isinstance(packed, PackedSequence)
    assert packed.batch_sizes.tolist() == [5, 4, 3, 2, 2] and packed.data.shape == (16, 2)
    assert packed.sorted_indices.tolist() == [1, 3, 0, 4, 2]
    out, lengths = pad_packed_sequence(packed, batch_first=True)
    assert lengths.tolist() == LENGTHS
    for i, n in enumerate(LENGTHS):
        np.testing.assert_array_equal(out.detach().numpy()[i, :n], x.detach().numpy()[i, :n])
        assert not out.detach().numpy()[i, n:].any()
    out.sum().backward()
    mask = np.arange(5)[None, :] < np.array(LENGTHS)[:, None]
    np.testing.assert_array_equal(x.grad.numpy()[..., 0], mask.astype(float))   # padding gets no gradient
    seqs = [cr.randn(n, 3) for n in (4, 2, 1)]
    back = unpack_sequence(pack_sequence(seqs))
    for a, b in zip(seqs, back):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_pack_matches_torch():
    torch = _torch()
    x = np.random.default_rng(0).standard_normal((5, 5, 3))
    a = pack_padded_sequence(cr.tensor(x), LENGTHS, enforce_sorted=False)
    b = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(LENGTHS), enforce_sorted=False)
    np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())
    np.testing.assert_array_equal(a.batch_sizes.numpy(), b.batch_sizes.numpy())
    np.testing.assert_array_equal(a.unsorted_indices.numpy(), b.unsorted_indices.numpy())
    pa, la = pad_packed_sequence(a, batch_first=True, padding_value=-1.0, total_length=7)
    pb, lb = torch.nn.utils.rnn.pad_packed_sequence(b, batch_first=True, padding_value=-1.0, total_length=7)
    np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    np.testing.assert_array_equal(la.numpy(), lb.numpy())


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_on_packed_input_match_torch(kind, bidirectional, with_state):
    torch = _torch()
    cm = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=bidirectional, batch_first=True).double()
    tm = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=bidirectional, batch_first=True).double()
    with torch.no_grad():
        for name, p in cm.named_parameters():
            getattr(tm, name).copy_(torch.from_numpy(p.detach().numpy()))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 5, 3))
    dirs = 2 if bidirectional else 1
    h0 = rng.standard_normal((2 * dirs, 5, 4))
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cs = ct = None
    if with_state:
        cs = (cr.tensor(h0), cr.tensor(h0 * 0.5)) if kind == "LSTM" else cr.tensor(h0)
        ct = (torch.tensor(h0), torch.tensor(h0 * 0.5)) if kind == "LSTM" else torch.tensor(h0)
    ya, sa = cm(pack_padded_sequence(cx, LENGTHS, batch_first=True, enforce_sorted=False), cs)
    yb, sb = tm(torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(LENGTHS), batch_first=True,
                                                         enforce_sorted=False), ct)
    np.testing.assert_allclose(ya.data.detach().numpy(), yb.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(sa if kind == "LSTM" else (sa,), sb if kind == "LSTM" else (sb,)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    pa, _ = pad_packed_sequence(ya, batch_first=True)
    pb, _ = torch.nn.utils.rnn.pad_packed_sequence(yb, batch_first=True)
    g = rng.standard_normal(tuple(pb.shape))
    ((pa * cr.tensor(g)).sum() + (sa[0] if kind == "LSTM" else sa).sum()).backward()
    ((pb * torch.tensor(g)).sum() + (sb[0] if kind == "LSTM" else sb).sum()).backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    tp = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_packing_errors():
    with pytest.raises(ValueError, match=r"not sorted longest first; sort the batch, or pass enforce_sorted=False"):
        pack_padded_sequence(cr.randn(4, 2, 3), [2, 4])
    with pytest.raises(ValueError, match="expected 2 lengths ≥ 1"):
        pack_padded_sequence(cr.randn(4, 2, 3), [0, 4], enforce_sorted=False)
    with pytest.raises(ValueError, match="the longest length 6 exceeds the 4 time steps"):
        pack_padded_sequence(cr.randn(4, 2, 3), [6, 4])
    with pytest.raises(ValueError, match="total_length 2 is shorter"):
        pad_packed_sequence(pack_padded_sequence(cr.randn(4, 2, 3), [4, 3]), total_length=2)


@pytest.mark.parametrize("convert", ["double", "float", "half", "long", "int", "short", "char", "byte", "cpu",
                                     "to_float32", "to_same"])
def test_packed_sequence_conversions_as_torch(convert):
    """PackedSequence.to / double / float / … convert data only: batch_sizes and the index tensors keep their
    dtype, and a conversion that changes nothing returns the same object (torch's rules)."""
    torch = _torch()
    seqs = [np.arange(2 * n, dtype=np.float64).reshape(n, 2) / 3 for n in (3, 5, 1)]
    results = []
    for lib in (cr, torch):
        packed = lib.nn.utils.rnn.pack_sequence([lib.tensor(s) for s in seqs], enforce_sorted=False)
        if convert == "to_float32":
            out = packed.to(lib.float32)
        elif convert == "to_same":
            out = packed.to(lib.float64)
            assert out is packed
        else:
            out = getattr(packed, convert)()
        assert type(out).__name__ == "PackedSequence" and out.is_cuda is False and out.is_pinned() is False
        results.append([out.data, out.batch_sizes, out.sorted_indices, out.unsorted_indices])
    for ours, theirs in zip(*results):
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_invert_permutation_as_torch():
    from chainrule.nn.utils.rnn import invert_permutation
    torch = _torch()
    p = [3, 0, 4, 1, 2]
    assert invert_permutation(cr.tensor(p)).tolist() == torch.nn.utils.rnn.invert_permutation(torch.tensor(p)).tolist()
    assert invert_permutation(None) is None
