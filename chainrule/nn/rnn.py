"""Recurrent layers with PyTorch's parameter names, gate order, initialisation U(-1/√H, 1/√H) and output shapes.
Backpropagation through time is the engine's ordinary backward over the unrolled steps; tbptt() truncates it.

    RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
    LSTM: i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh) split in 4;  c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
          (with proj_size: h' = W_hr (o⊙tanh(c')), of size proj_size)
    GRU:  r, z = σ(...) ;  n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn));  h' = (1 - z)⊙n + z⊙h
"""
import math

from .. import creation, dtypes
from ..errors import ShapeError
from ..ops.activation import relu
from ..ops.elementwise import tanh
from ..ops.linalg import _autocast, linear
from ..ops.shape import cat, stack
from . import functional as F
from ._rnn_ops import gru_sequence, gru_step, lstm_gates, lstm_sequence, time_steps, unbind_steps
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, run_packed

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One time step from the raw input x."""
    return _step(mode, linear(x, w_ih, b_ih), h, c, w_hh, b_hh)


def _step(mode, gi, h, c, w_hh, b_hh):
    """One time step given the precomputed input projection gi = W_ih x + b_ih."""
    if mode == "GRU":
        return gru_step(gi, h, w_hh, b_hh), None
    gh = linear(h, w_hh, b_hh)
    if mode == "LSTM":
        return lstm_gates(gi + gh, c)
    return (tanh if mode == "RNN_TANH" else relu)(gi + gh), None


class RNNCellBase(Module):
    """torch's RNNCellBase(input_size, hidden_size, bias, num_chunks): the weights of one step, num_chunks gates
    stacked (RNNCell 1, GRUCell 3, LSTMCell 4); the subclass's mode says how a step combines them."""
    mode = None

    def __init__(self, input_size, hidden_size, bias, num_chunks):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        g, dt = num_chunks, dtypes.get_default_dtype()
        self.weight_ih = Parameter(creation.empty(g * hidden_size, input_size, dtype=dt))
        self.weight_hh = Parameter(creation.empty(g * hidden_size, hidden_size, dtype=dt))
        self.bias_ih = Parameter(creation.empty(g * hidden_size, dtype=dt)) if bias else None
        self.bias_hh = Parameter(creation.empty(g * hidden_size, dtype=dt)) if bias else None
        k = 1 / math.sqrt(hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def forward(self, input, hx=None):
        batched = input.ndim == 2
        xb = input if batched else input.unsqueeze(0)
        B = xb.shape[0]
        zeros = creation.zeros(B, self.hidden_size, dtype=input.dtype)
        if self.mode == "LSTM":
            h, c = hx if hx is not None else (zeros, zeros)
            if not batched and hx is not None:
                h, c = h.unsqueeze(0), c.unsqueeze(0)
        else:
            h, c = (hx if hx is not None else zeros), None
            if not batched and hx is not None:
                h = h.unsqueeze(0)
        h, c = _cell(self.mode, xb, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if not batched:
            h = h.squeeze(0)
            c = c.squeeze(0) if c is not None else None
        return (h, c) if self.mode == "LSTM" else h

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}" + (", bias=False" if self.bias_ih is None else "") +
                (f", nonlinearity={self.nonlinearity}" if self.mode == "RNN_RELU" else ""))


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.__dict__["mode"] = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, num_chunks=1)
        self.nonlinearity = nonlinearity


class LSTMCell(RNNCellBase):
    mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias, num_chunks=4)


class GRUCell(RNNCellBase):
    mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias, num_chunks=3)


class RNNBase(Module):
    """torch's RNNBase(mode, input_size, hidden_size, ...): a stack of recurrent layers, each optionally
    bidirectional; mode is 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU' (LSTM, GRU and RNN fix it)."""
    mode = None

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        if mode not in GATES:
            raise ValueError(f"RNNBase: mode must be one of {', '.join(GATES)}, got {mode!r}")
        self.__dict__["mode"] = mode   # sizes the weights below
        super().__init__()
        if proj_size and mode != "LSTM":
            raise ValueError(f"{type(self).__name__}: proj_size is only supported for LSTM, got proj_size={proj_size}")
        if not 0 <= proj_size < hidden_size:
            raise ValueError(f"{type(self).__name__}: proj_size must be 0 (no projection) or in [1, hidden_size) = "
                             f"[1, {hidden_size}), got {proj_size}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.proj_size = proj_size
        state_size = proj_size or hidden_size   # h's size: projected (LSTMP) or the cell's
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, dropout, bidirectional
        g, dt = GATES[self.mode], dtypes.get_default_dtype()
        k = 1 / math.sqrt(hidden_size)
        dirs = 2 if bidirectional else 1
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                n_in = input_size if layer == 0 else state_size * dirs
                self.register_parameter("weight_ih" + sfx, Parameter(creation.empty(g * hidden_size, n_in, dtype=dt)))
                self.register_parameter("weight_hh" + sfx,
                                        Parameter(creation.empty(g * hidden_size, state_size, dtype=dt)))
                if bias:
                    self.register_parameter("bias_ih" + sfx, Parameter(creation.empty(g * hidden_size, dtype=dt)))
                    self.register_parameter("bias_hh" + sfx, Parameter(creation.empty(g * hidden_size, dtype=dt)))
                if proj_size:   # h = W_hr (o ⊙ tanh c), torch's LSTM with projections
                    self.register_parameter("weight_hr" + sfx,
                                            Parameter(creation.empty(proj_size, hidden_size, dtype=dt)))
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def _p(self, name):
        return self._parameters.get(name)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return run_packed(self._run, input, hx, self.mode == "LSTM")
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "batch, seq" if self.batch_first else "seq, batch"
            raise ShapeError(f"{type(self).__name__}: expected input of shape ({layout}, {self.input_size}) or, "
                             f"unbatched, (seq, {self.input_size}); got {input.shape}")
        if input.ndim == 2:   # unbatched (seq, features), as torch: a batch of one, states (layers·dirs, H)
            state = None if hx is None else tuple(h.unsqueeze(1) for h in hx) if isinstance(hx, tuple) \
                else hx.unsqueeze(1)
            out, state = self._run(input.unsqueeze(1), state)
            state = tuple(h.squeeze(1) for h in state) if isinstance(state, tuple) else state.squeeze(1)
            return out.squeeze(1), state
        out, state = self._run(input.transpose(0, 1) if self.batch_first else input, hx)
        return (out.transpose(0, 1) if self.batch_first else out), state

    def _run(self, x, hx):
        """The layers over a time-major (T, B, F) input -> (output (T, B, dirs·H), h_n or (h_n, c_n))."""
        T_, B = x.shape[0], x.shape[1]
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}: expected {self.input_size} input features, got {x.shape[-1]}")
        dirs = 2 if self.bidirectional else 1
        zeros = creation.zeros(self.num_layers * dirs, B, self.hidden_size, dtype=x.dtype)
        if self.mode == "LSTM":
            h0, c0 = hx if hx is not None else (
                creation.zeros(self.num_layers * dirs, B, self.proj_size, dtype=x.dtype) if self.proj_size else zeros,
                zeros)
        else:
            h0, c0 = (hx if hx is not None else zeros), None
        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                w = (self._p("weight_ih" + sfx), self._p("weight_hh" + sfx), self._p("bias_ih" + sfx),
                     self._p("bias_hh" + sfx))
                k = layer * dirs + d
                h, c = h0[k], (c0[k] if c0 is not None else None)
                if self.proj_size:   # LSTMP: step by step, each h projected by W_hr
                    gi = unbind_steps(linear(layer_in, w[0], w[2]))
                    w_hr, seq = self._p("weight_hr" + sfx), [None] * T_
                    for t in time_steps(T_, reverse=bool(d)):
                        h, c = _step(self.mode, gi[t], h, c, w[1], w[3])
                        h = seq[t] = linear(h, w_hr)
                    outs.append(stack(seq))
                elif self.mode in ("LSTM", "GRU"):   # the time loop and the input projection inside one fused node
                    xin, w_ih, b_ih = _autocast(layer_in, w[0], w[2])
                    h, c, w_hh, b_hh = (t if t is None or t.dtype == xin.dtype else t.to(xin.dtype)
                                        for t in (h, c, w[1], w[3]))
                    if self.mode == "LSTM":
                        out_seq, h, c = lstm_sequence(xin, h, c, w_ih, w_hh, b_ih, b_hh, reverse=bool(d))
                    else:
                        out_seq, h = gru_sequence(xin, h, w_ih, w_hh, b_ih, b_hh, reverse=bool(d))
                    outs.append(out_seq)
                else:
                    gi = unbind_steps(linear(layer_in, w[0], w[2]))   # all T projections at once, split by one node
                    seq = [None] * T_
                    for t in time_steps(T_, reverse=bool(d)):
                        h, c = _step(self.mode, gi[t], h, c, w[1], w[3])
                        seq[t] = h
                    outs.append(stack(seq))
                h_n.append(h)
                if c is not None:
                    c_n.append(c)
            layer_in = outs[0] if dirs == 1 else cat(outs, dim=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        hn = stack(h_n)
        return layer_in, ((hn, stack(c_n)) if self.mode == "LSTM" else hn)

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}" + (f", num_layers={self.num_layers}" if self.num_layers != 1
                                                             else "") +
                (", bias=False" if not self.bias else "") + (", batch_first=True" if self.batch_first else "") +
                (f", dropout={self.dropout}" if self.dropout else "") +
                (", bidirectional=True" if self.bidirectional else "") +
                (f", proj_size={self.proj_size}" if self.proj_size else ""))


class RNN(RNNBase):
    """Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu): torch's argument order, with nonlinearity
    fourth (LSTM and GRU have none)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    mode = "LSTM"

    def __init__(self, *args, **kwargs):   # torch's (input_size, hidden_size, num_layers=1, bias=True, ...)
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    mode = "GRU"

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


def _detach_state(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def tbptt(model, inputs, targets, loss_fn, optimizer, k, state=None, batch_first=True, clip=None):
    """Truncated backpropagation through time: run `model` (an RNN/LSTM/GRU-like module returning (out, state),
    or any callable (x, state) -> (out, state)) over `inputs` in chunks of k steps, carrying the hidden state from
    chunk to chunk but detaching it every k steps, so each backward pass spans at most k steps. One optimizer step
    per chunk. Returns (per-chunk losses, final state)."""
    dim = 1 if batch_first else 0
    T_ = inputs.shape[dim]
    losses = []
    for start in range(0, T_, k):
        sl = [slice(None)] * inputs.ndim
        sl[dim] = slice(start, min(start + k, T_))
        tl = [slice(None)] * targets.ndim
        tl[dim] = sl[dim]
        optimizer.zero_grad()
        out, state = model(inputs[tuple(sl)], state)
        loss = loss_fn(out, targets[tuple(tl)])
        loss.backward()
        if clip:
            from .utils import clip_grad_norm_
            clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        state = _detach_state(state)   # keep the values, cut the graph: the next chunk's backward stops here
        losses.append(loss.item())
    return losses, state
