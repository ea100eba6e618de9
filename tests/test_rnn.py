"""RNN/LSTM/GRU: outputs and gradients equal torch's (multi-layer, bidirectional, batch_first, initial states),
gradchecks of the cells, and truncated BPTT that carries state while cutting the graph."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn


@pytest.mark.parametrize("cell", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cells_gradcheck(cell):
    cr.manual_seed(0)
    m = cell(3, 4).double()
    x = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)
    params = list(m.parameters())

    def f(xx, *ps):
        out = m(xx)
        return out[0] + out[1] if isinstance(out, tuple) else out
    assert cr.autograd.gradcheck(f, [x] + params)


def test_tbptt_carries_state_and_detaches():
    cr.manual_seed(0)
    lstm = nn.LSTM(2, 8, batch_first=True)
    head = nn.Linear(8, 1)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = lstm, head

        def forward(self, x, state):
            out, state = self.lstm(x, state)
            return self.head(out), state
    model = Model()
    x = cr.randn(4, 60, 2)
    y = x[:, :, :1].cumsum(1) * 0.1
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    losses, state = cr.nn.utils.tbptt(model, x, y, nn.MSELoss(), opt, k=10)
    assert len(losses) == 6 and state[0].grad_fn is None and not state[0].requires_grad
    assert state[0].shape == (1, 4, 8)


torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidirectional,batch_first", [(1, False, False), (2, True, True), (2, False, True)])
def test_recurrent_layers_match_torch(kind, layers, bidirectional, batch_first):
    _match_torch(kind, layers, bidirectional, batch_first)


@pytest.mark.parametrize("layers,bidirectional,batch_first", [(1, False, False), (2, True, True), (2, False, True)])
def test_lstm_with_projections_matches_torch(layers, bidirectional, batch_first):
    """proj_size = 2 < hidden 5: h = W_hr (o ⊙ tanh c) has 2 entries, c keeps 5; weight_hr_l{k} (2, 5) per layer and
    direction, and the next layer reads the projected outputs."""
    ours = _match_torch("LSTM", layers, bidirectional, batch_first, proj_size=2)
    assert "proj_size=2" in repr(ours)


def test_proj_size_is_checked():
    with pytest.raises(ValueError, match=r"proj_size must be 0 \(no projection\) or in \[1, hidden_size\)"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="GRU: proj_size is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)


def _match_torch(kind, layers, bidirectional, batch_first, proj_size=0):
    extra = {"proj_size": proj_size} if proj_size else {}
    ours = getattr(nn, kind)(3, 5, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first,
                             **extra).double()
    theirs = getattr(torch.nn, kind)(3, 5, num_layers=layers, bidirectional=bidirectional,
                                     batch_first=batch_first, **extra).double()
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    with torch.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    rng = np.random.default_rng(0)
    shape = (2, 6, 3) if batch_first else (6, 2, 3)
    xa = rng.standard_normal(shape)
    dirs = 2 if bidirectional else 1
    h0 = rng.standard_normal((layers * dirs, 2, proj_size or 5))
    x, tx = cr.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    if kind == "LSTM":
        c0 = rng.standard_normal((layers * dirs, 2, 5))
        out, (hn, cn) = ours(x, (cr.tensor(h0), cr.tensor(c0)))
        tout, (thn, tcn) = theirs(tx, (torch.tensor(h0), torch.tensor(c0)))
        np.testing.assert_allclose(cn.detach().numpy(), tcn.detach().numpy(), rtol=1e-6, atol=1e-9)
    else:
        out, hn = ours(x, cr.tensor(h0))
        tout, thn = theirs(tx, torch.tensor(h0))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(hn.detach().numpy(), thn.detach().numpy(), rtol=1e-6, atol=1e-9)
    g = rng.standard_normal(out.shape)
    (out * cr.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-9)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=n)
    return ours


def _running_sum_tbptt(carry, epochs=300):
    cr.manual_seed(0)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = nn.LSTM(1, 16, batch_first=True), nn.Linear(16, 1)

        def forward(self, x, state):
            out, state = self.lstm(x, state if carry else None)
            return self.head(out), state
    model = Model()
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        x = rng.choice([-1.0, 1.0], (16, 60, 1)).astype(np.float32)
        y = (np.cumsum(x, 1) / 10).astype(np.float32)      # the running sum over all 60 steps
        losses, _ = cr.nn.utils.tbptt(model, cr.tensor(x), cr.tensor(y), nn.MSELoss(), opt, k=10)
    return losses


def test_tbptt_trains_on_a_sequence_six_times_its_window():
    """Windows of 10 steps over 60: the last window's targets depend on state carried through five earlier
    windows. Carrying (but detaching) the state learns them; resetting the state each window cannot."""
    carried = _running_sum_tbptt(True)
    reset = _running_sum_tbptt(False)
    assert carried[-1] < 0.02
    assert reset[-1] > 10 * carried[-1]


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_layers_are_finite_and_silent_at_extreme_inputs(kind, dtype):
    # the LSTM's gates go through exp (σ(a) = 1 / (1 + e^-a), tanh(a) = 2σ(2a) - 1): e^-a overflows to inf at
    # a << 0, which must give exactly 0 and ±1, without a RuntimeWarning (warnings are errors in this suite)
    cr.manual_seed(0)
    layer = getattr(nn, kind)(3, 4, batch_first=True).to(dtype)
    x = cr.tensor(np.array([[[1000.0, -1000.0, 0.0]] * 5, [[-1e4, 1e4, 3.0]] * 5]), dtype=dtype, requires_grad=True)
    out, _ = layer(x)
    out.sum().backward()
    values = out.detach().numpy()
    assert np.all(np.isfinite(values)) and np.all(np.abs(values) <= 1)
    assert np.all(np.isfinite(x.grad.numpy()))
    assert all(np.all(np.isfinite(p.grad.numpy())) for p in layer.parameters())
    try:
        import torch
    except ImportError:
        return
    ref = getattr(torch.nn, kind)(3, 4, batch_first=True).to(torch.float64)
    ref.load_state_dict({k: torch.tensor(v.numpy(), dtype=torch.float64) for k, v in layer.state_dict().items()})
    expected = ref(torch.tensor(x.detach().numpy(), dtype=torch.float64))[0].detach().numpy()
    np.testing.assert_allclose(values, expected, atol=1e-6 if dtype == cr.float32 else 1e-12)
