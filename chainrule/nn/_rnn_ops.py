"""Fused nodes that make recurrent layers fast (PERF.md: coarse nodes pay):

- unbind_steps: one node that splits a (T, …) tensor into T steps; its backward stacks the T gradients in one
  pass (T separate slices would each scatter into a full-size zero array);
- lstm_gates: the LSTM cell's elementwise part as one node. With a = W_ih x + b_ih + W_hh h + b_hh split into
  (a_i, a_f, a_g, a_o): i, f, o = σ(a_i), σ(a_f), σ(a_o); g = tanh(a_g); c' = f⊙c + i⊙g; h' = o⊙tanh(c').
  Backward: dc = g_c + g_h⊙o⊙(1 - tanh²c'); da_o = g_h⊙tanh c'⊙o(1-o); da_i = dc⊙g⊙i(1-i);
  da_f = dc⊙c⊙f(1-f); da_g = dc⊙i⊙(1-g²); dc_prev = dc⊙f.
- lstm_sequence / gru_sequence: a whole LSTM (GRU) layer direction over T steps as one node, the time loop in NumPy
  over preallocated feature-major buffers ((T, 4H, B) and (T, 3H, B)), with the layer's input projection inside
  the node. Backward is backpropagation through time: the step formulas above in reverse order, with
  dh_prev = W_hhᵀ da carried back, and then dx, dW_ih, dW_hh and the bias gradients as products over all steps
  (the biases are weight columns: [W_ih | b] [x; 1], and for the GRU [W_hh | b_hh] [h; 1]).
"""
import numpy as np

from ..autograd import buffers
from ..autograd.function import Function
from ..autograd.functional import grad as _autograd_grad
from ..autograd.grad_mode import STATE, enable_grad
from ..ops.linalg import linear
from ..ops.elementwise import sigmoid, tanh
from ..ops.registry import T, register, sample
from ..ops.shape import cat, stack
from ..errors import ShapeError
from ..tensor import Tensor

_wrap = Tensor._wrap


class UnbindSteps(Function):
    @staticmethod
    def forward(ctx, x):
        if x.ndim == 0:
            raise ShapeError("unbind_steps: needs a sequence (T, ...) to split into its T steps, got shape ()")
        return tuple(_wrap(x._data[t]) for t in range(x.shape[0]))

    @staticmethod
    def backward(ctx, *grads):
        if not STATE.grad_enabled:
            return _wrap(np.stack([g._data for g in grads]))
        return stack(list(grads))


def unbind_steps(x):
    out = UnbindSteps.apply(x)
    return out if isinstance(out, tuple) else (out,)


def _np_sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class LSTMGates(Function):
    @staticmethod
    def forward(ctx, pre, c_prev):
        a, c0 = pre._data, c_prev._data
        H = c0.shape[-1]
        i, f, o = _np_sigmoid(a[..., :H]), _np_sigmoid(a[..., H:2 * H]), _np_sigmoid(a[..., 3 * H:])
        g = np.tanh(a[..., 2 * H:3 * H])
        c = f * c0 + i * g
        tc = np.tanh(c)
        ctx.save_for_backward(pre, c_prev)
        ctx.cache = (i.astype(a.dtype), f.astype(a.dtype), g, o.astype(a.dtype), tc, c0)
        return _wrap((o * tc).astype(a.dtype)), _wrap(c.astype(a.dtype))

    @staticmethod
    def backward(ctx, gh, gc):
        if not STATE.grad_enabled:      # plain backward: the formulas in the module docstring, on arrays
            i, f, g, o, tc, c0 = ctx.cache
            gh_, gc_ = gh._data, gc._data
            dc = gc_ + gh_ * o * (1 - tc * tc)
            da = np.concatenate([dc * g * i * (1 - i), dc * c0 * f * (1 - f), dc * i * (1 - g * g),
                                 gh_ * tc * o * (1 - o)], axis=-1)
            return _wrap(da), _wrap(dc * f)
        pre, c_prev = ctx.saved_tensors    # create_graph: the same formulas on Tensors, so they differentiate
        H = c_prev.shape[-1]
        i, f, o = sigmoid(pre[..., :H]), sigmoid(pre[..., H:2 * H]), sigmoid(pre[..., 3 * H:])
        g = tanh(pre[..., 2 * H:3 * H])
        tc = tanh(f * c_prev + i * g)
        dc = gc + gh * o * (1 - tc * tc)
        da = cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), gh * tc * o * (1 - o)], -1)
        return da, dc * f


def lstm_gates(pre, c_prev):
    return LSTMGates.apply(pre, c_prev)


def _sigmoid_of_negated(a, scale=1):
    """scale·σ(x) = scale / (1 + e^-x) in place, where a holds -x (the products were scaled so): NumPy vectorises
    float32 exp but not tanh, and e^-x = inf at x << 0 gives exactly 0 (call under errstate(over='ignore'))."""
    np.exp(a, out=a)
    a += 1
    return np.divide(scale, a, out=a)


def _tanh_into(x, out):
    """out = tanh x = 2σ(2x) - 1 = 2 / (1 + e^-2x) - 1 (out may be x), through exp as _sigmoid_of_negated."""
    np.multiply(x, -2, out=out)
    _sigmoid_of_negated(out, 2)
    out -= 1
    return out


def time_steps(n, reverse):
    """The order a layer direction visits its n steps: 0 … n-1, or n-1 … 0 for the reverse direction (the
    backward pass walks it back to front)."""
    return range(n - 1, -1, -1) if reverse else range(n)


def _sigmoid_gates_first(H):
    """Row order that puts the three σ gates side by side: PyTorch's (i, f, g, o) -> (i, f, o, g)."""
    return np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]


def _input_projection(X, w_ih, bias, order=None, row_scale=None):
    """W_ih x_t + b of all T steps, feature-major: A[t] = [W_ih | b] [x_tᵀ; 1], shape (G, B), as one batched
    product (the bias is a column of the weight, so it costs no pass of its own), each row times row_scale if
    given. -> A (T, G, B), and the [x_t, 1] rows XA and the (unscaled) weight WA, which the backward pass reads."""
    T_, B, F = X.shape
    K = F + 1 if bias is not None else F
    XA = buffers.empty((T_, B, K), X.dtype)
    XA[..., :F] = X
    WA = np.empty((w_ih.shape[0], K), X.dtype)
    WA[:, :F] = w_ih if order is None else w_ih[order]
    if bias is not None:
        XA[..., F] = 1
        WA[:, F] = bias if order is None else bias[order]
    W = WA if row_scale is None else WA * row_scale
    return np.matmul(W, XA.transpose(0, 2, 1), out=buffers.empty((T_, WA.shape[0], B), X.dtype)), XA, WA


def _steps_side_by_side(D):
    """(T, G, B) -> (G, T·B): the columns of every step next to each other, so a sum over steps is one product."""
    T_, G, B = D.shape
    return buffers.copy_of(D.transpose(1, 0, 2)).reshape(G, T_ * B)


def _projection_grads(dA2, XA, WA, F, need_x, need_w):
    """From dA2 (∂L/∂a_t of all steps side by side): dx_t = W_ihᵀ da_t of every step, (T, B, F), and
    d[W_ih | b] = Σ_t da_t [x_t, 1]."""
    T_, B, K = XA.shape
    dX = (dA2.T @ WA[:, :F]).reshape(T_, B, F) if need_x else None
    dWA = dA2 @ XA.reshape(T_ * B, K) if need_w else None
    return dX, dWA


class LSTMSequence(Function):
    """Feature-major inside: every per-step array is (features, batch), so that the step's product is W_hh h with a
    (4H, H) left operand (21 µs at 32×128→512 on 2 cores, against 30 µs for h W_hhᵀ), and each gate is a
    contiguous block of rows. The input projection [W_ih | b] [x_t; 1] of all T steps is one batched product up
    front (the bias is a column of the weight), and the weight gradients are products over all steps at the end."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
        X = x._data
        T_, B, F = X.shape
        H = h0.shape[-1]
        S, dt = 3 * H, X.dtype
        order = _sigmoid_gates_first(H)
        biases = [b._data for b in (b_ih, b_hh) if b is not None]
        # exp's argument straight out of the products: rows scaled by -1 for the σ gates, -2 for g
        to_exp = np.full((4 * H, 1), -1.0, dt)
        to_exp[S:] = -2
        A, XA, WA = _input_projection(X, w_ih._data, sum(biases) if biases else None, order, to_exp)
        WH = w_hh._data[order]
        WH_to_exp = WH * to_exp
        C, TC, OUT = buffers.empty((3, T_, H, B), dt)
        prod, ig = np.empty((4 * H, B), dt), np.empty((H, B), dt)
        h, c = np.ascontiguousarray(h0._data.T), np.ascontiguousarray(c0._data.T)
        with np.errstate(over="ignore"):    # exp(-a) = inf where a << 0 gives 1 / (1 + inf) = 0: exactly right
            for t in time_steps(T_, reverse):
                a = A[t]
                a += np.matmul(WH_to_exp, h, out=prod)      # a = -(W_ih x_t + b + W_hh h), -2(…) for g
                _sigmoid_of_negated(a)                      # i, f, o = σ(a); σ(2a_g) for g
                g = a[S:]                                   # g = tanh(a_g) = 2σ(2a_g) - 1
                g *= 2
                g -= 1
                c = np.multiply(a[H:2 * H], c, out=C[t])    # c' = f⊙c + i⊙g
                c += np.multiply(a[:H], g, out=ig)
                tc = _tanh_into(c, TC[t])
                h = np.multiply(a[2 * H:S], tc, out=OUT[t])  # h' = o⊙tanh(c')
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        ctx.cache = (A, C, TC, OUT, XA, WA, WH)
        ctx.reverse = reverse
        return _wrap(buffers.copy_of(OUT.transpose(0, 2, 1))), _wrap(h.T.copy()), _wrap(c.T.copy())

    @staticmethod
    def backward(ctx, g_out, g_hn, g_cn):
        if STATE.grad_enabled:
            return _recomputed_grads(ctx, _lstm_sequence_composed, (g_out, g_hn, g_cn), 8)
        A, C, TC, OUT, XA, WA, WH = ctx.cache
        x, h0, c0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
        reverse = ctx.reverse
        T_, H4, B = A.shape
        H, F, dt = H4 // 4, x.shape[-1], A.dtype
        S = 3 * H
        dA = buffers.empty(A.shape, dt)
        dh, dc = np.ascontiguousarray(g_hn._data.T), np.ascontiguousarray(g_cn._data.T)
        GO, c0t, WHT = g_out._data, c0._data.T, np.ascontiguousarray(WH.T)
        tmp, dtc, deriv = np.empty((H, B), dt), np.empty((H, B), dt), np.empty((H4, B), dt)
        for t in reversed(time_steps(T_, reverse)):
            prev = t + 1 if reverse else t - 1
            c_prev = C[prev] if 0 <= prev < T_ else c0t
            a, da, tc = A[t], dA[t], TC[t]
            dh += GO[t].T
            np.multiply(tc, tc, out=dtc)                    # dc += dh⊙o⊙(1 - tanh²c')
            np.subtract(1, dtc, out=dtc)
            dtc *= a[2 * H:S]
            dc += np.multiply(dh, dtc, out=tmp)
            np.multiply(dc, a[S:], out=da[:H])              # ∂L/∂i = dc⊙g
            np.multiply(dc, c_prev, out=da[H:2 * H])        # ∂L/∂f = dc⊙c_prev
            np.multiply(dh, tc, out=da[2 * H:S])            # ∂L/∂o = dh⊙tanh c'
            np.multiply(dc, a[:H], out=da[S:])              # ∂L/∂g = dc⊙i
            np.multiply(a, a, out=deriv)                    # local derivatives: σ - σ² for i, f, o; 1 - g² for g
            np.subtract(a[:S], deriv[:S], out=deriv[:S])
            np.subtract(1, deriv[S:], out=deriv[S:])
            da *= deriv
            dc *= a[H:2 * H]                                # dc_prev = dc⊙f
            dh = np.matmul(WHT, da)                         # dh_prev = W_hhᵀ da
        need = ctx.needs_input_grad
        back = np.argsort(_sigmoid_gates_first(H))          # rows back in PyTorch's (i, f, g, o) order
        dA2 = _steps_side_by_side(dA)
        dX, dWA = _projection_grads(dA2, XA, WA, F, need[0], need[3] or need[5] or need[6])
        dW_hh = None
        if need[4]:   # dW_hh = Σ_t da_t h_{t-1}ᵀ: the steps that read a previous output as one product
            first = T_ - 1 if reverse else 0
            dW_hh = dA[first] @ h0._data
            if T_ > 1:
                O2 = _steps_side_by_side(OUT)
                read, wrote = (np.s_[:-B], np.s_[B:]) if reverse else (np.s_[B:], np.s_[:-B])
                dW_hh += dA2[:, read] @ O2[:, wrote].T
            dW_hh = dW_hh[back]
        db = dWA[back, F] if dWA is not None and (need[5] or need[6]) else None
        wrap = lambda v, k: _wrap(v) if v is not None and need[k] else None  # noqa: E731
        return (wrap(dX, 0), wrap(np.ascontiguousarray(dh.T), 1), wrap(np.ascontiguousarray(dc.T), 2),
                wrap(dWA[back, :F] if need[3] else None, 3), wrap(dW_hh, 4), wrap(db, 5),
                wrap(db.copy() if db is not None else None, 6), None)


def _lstm_sequence_composed(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The same layer from differentiable per-step ops (linear + lstm_gates): the create_graph path."""
    gi = linear(x, w_ih, b_ih)
    h, c, seq = h0, c0, [None] * gi.shape[0]
    for t in time_steps(gi.shape[0], reverse):
        h, c = lstm_gates(gi[t] + linear(h, w_hh, b_hh), c)
        seq[t] = h
    return stack(seq), h, c


def _recomputed_grads(ctx, composed, grad_outputs, n_args):
    """create_graph=True: recompute the layer from differentiable per-step ops and differentiate that, so the
    gradient is itself a graph (second-order gradients through a recurrent layer are rare enough not to need a
    fused path). `composed(*saved, reverse)` returns the same outputs as the fused node."""
    saved = ctx.saved_tensors
    with enable_grad():
        outs = composed(*saved, ctx.reverse)
    wanted = [k for k, t in enumerate(saved) if t is not None and t.requires_grad and ctx.needs_input_grad[k]]
    grads = _autograd_grad(list(outs), [saved[k] for k in wanted], list(grad_outputs), create_graph=True,
                           allow_unused=True)
    result = [None] * n_args
    for k, g in zip(wanted, grads):
        result[k] = g
    return tuple(result)


def lstm_sequence(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """A whole LSTM layer direction: x (T, B, F), states (B, H), w_ih (4H, F), w_hh (4H, H), biases (4H,);
    -> (outputs (T, B, H), h_T, c_T). Steps run from T-1 down to 0 when reverse (the backward direction)."""
    return LSTMSequence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)


def gru_step(gi, h, w_hh, b_hh):
    """One GRU step from differentiable ops, gi = W_ih x + b_ih:  r, z = σ(gi_rz + gh_rz) with gh = W_hh h + b_hh;
    n = tanh(gi_n + r⊙gh_n);  h' = (1 - z)⊙n + z⊙h = n + z⊙(h - n)."""
    H = h.shape[-1]
    gh = linear(h, w_hh, b_hh)
    rz = sigmoid(gi[..., :2 * H] + gh[..., :2 * H])
    r, z = rz[..., :H], rz[..., H:]
    n = tanh(gi[..., 2 * H:] + r * gh[..., 2 * H:])
    return n + z * (h - n)


class GRUSequence(Function):
    """A whole GRU layer direction as one node, feature-major like lstm_sequence. The state is kept as [h; 1], so
    gh = [W_hh | b_hh] [h; 1] carries its bias in the product. Backward, per step with dh the upstream gradient of
    h': ∂L/∂z = dh⊙(h - n), ∂L/∂n = dh⊙(1 - z), da_n = ∂L/∂n⊙(1 - n²), ∂L/∂r = da_n⊙gh_n; da_r, da_z through
    σ' = σ(1-σ); the gradient of gh is (da_r, da_z, da_n⊙r) and dh_prev = dh⊙z + W_hhᵀ dgh."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
        X = x._data
        T_, B, _ = X.shape
        H, dt = h0.shape[-1], X.dtype
        # the r and z rows of both products come out negated: exp's argument for σ(a) = 1 / (1 + e^-a)
        to_exp = np.ones((3 * H, 1), dt)
        to_exp[:2 * H] = -1
        A, XA, WA = _input_projection(X, w_ih._data, b_ih._data if b_ih is not None else None, row_scale=to_exp)
        WH = np.zeros((3 * H, H + 1), dt)                   # [W_hh | b_hh]
        WH[:, :H] = w_hh._data
        if b_hh is not None:
            WH[:, H] = b_hh._data
        WH_to_exp = WH * to_exp
        RZ = buffers.empty((T_, 2 * H, B), dt)              # the gates r, z of every step
        N, GHN = buffers.empty((2, T_, H, B), dt)           # n and gh_n = W_hn h + b_hn of every step
        HA = buffers.empty((T_ + 1, H + 1, B), dt)          # [h; 1]: the k-th step (in the order run) reads HA[k]
        HA[:, H] = 1                                        # and writes HA[k + 1]
        HA[0, :H] = h0._data.T
        gh = np.empty((3 * H, B), dt)
        with np.errstate(over="ignore"):    # e^-a = inf where a << 0 gives 1 / (1 + inf) = 0: exactly right
            for k, t in enumerate(time_steps(T_, reverse)):
                np.matmul(WH_to_exp, HA[k], out=gh)         # gh = W_hh h + b_hh (r, z rows negated)
                rz = _sigmoid_of_negated(np.add(A[t, :2 * H], gh[:2 * H], out=RZ[t]))   # r, z = σ(a)
                np.copyto(GHN[t], gh[2 * H:])
                n = np.multiply(rz[:H], gh[2 * H:], out=N[t])   # n = tanh(gi_n + r⊙gh_n)
                n += A[t, 2 * H:]
                _tanh_into(n, n)
                h = np.subtract(HA[k, :H], n, out=HA[k + 1, :H])  # h' = n + z⊙(h - n)
                h *= rz[H:]
                h += n
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.cache = (RZ, N, GHN, HA, XA, WA, WH)
        ctx.reverse = reverse
        outs = HA[1:, :H].transpose(0, 2, 1)                # (T, B, H), in the order the steps ran
        return _wrap(buffers.copy_of(outs[::-1] if reverse else outs)), _wrap(h.T.copy())

    @staticmethod
    def backward(ctx, g_out, g_hn):
        if STATE.grad_enabled:
            return _recomputed_grads(ctx, _gru_sequence_composed, (g_out, g_hn), 7)
        RZ, N, GHN, HA, XA, WA, WH = ctx.cache
        x, h0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
        T_, H, B = N.shape
        F, dt = x.shape[-1], N.dtype
        dGI = buffers.empty((T_, 3 * H, B), dt)             # by time step: pairs with x_t
        dGH = buffers.empty((T_, 3 * H, B), dt)             # by the order run: pairs with HA[k]
        WHT = np.ascontiguousarray(WH[:, :H].T)
        dh, GO, tmp = np.ascontiguousarray(g_hn._data.T), g_out._data, np.empty((H, B), dt)
        steps = list(enumerate(time_steps(T_, ctx.reverse)))
        for k, t in reversed(steps):
            h_prev = HA[k, :H]
            r, z, n = RZ[t, :H], RZ[t, H:], N[t]
            dgi, dgh = dGI[t], dGH[k]
            dh += GO[t].T
            da_z = np.subtract(h_prev, n, out=dgi[H:2 * H])      # ∂L/∂z = dh⊙(h - n), times z(1 - z)
            da_z *= dh
            np.multiply(z, z, out=tmp)
            da_z *= np.subtract(z, tmp, out=tmp)
            da_n = np.subtract(1, z, out=dgi[2 * H:])             # ∂L/∂n = dh⊙(1 - z), times 1 - n²
            da_n *= dh
            np.multiply(n, n, out=tmp)
            da_n *= np.subtract(1, tmp, out=tmp)
            da_r = np.multiply(da_n, GHN[t], out=dgi[:H])         # ∂L/∂r = da_n⊙gh_n, times r(1 - r)
            np.multiply(r, r, out=tmp)
            da_r *= np.subtract(r, tmp, out=tmp)
            np.copyto(dgh[:2 * H], dgi[:2 * H])
            np.multiply(da_n, r, out=dgh[2 * H:])
            dh *= z                                               # h' = … + z⊙h: the direct path
            dh += np.matmul(WHT, dgh, out=tmp)                    # and the path through gh = W_hh h
        need = ctx.needs_input_grad
        dX, dWA = _projection_grads(_steps_side_by_side(dGI), XA, WA, F, need[0], need[2] or need[4])
        dWH = _steps_side_by_side(dGH) @ _steps_side_by_side(HA[:T_]).T if need[3] or need[5] else None  # Σ dgh [h; 1]ᵀ
        wrap = lambda v, k: _wrap(np.ascontiguousarray(v)) if v is not None and need[k] else None  # noqa: E731
        return (wrap(dX, 0), wrap(dh.T, 1), wrap(dWA[:, :F] if dWA is not None else None, 2),
                wrap(dWH[:, :H] if dWH is not None else None, 3),
                wrap(dWA[:, F] if dWA is not None and b_ih is not None else None, 4),
                wrap(dWH[:, H] if dWH is not None and b_hh is not None else None, 5), None)


def _gru_sequence_composed(x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    gi = linear(x, w_ih, b_ih)
    h, seq = h0, [None] * gi.shape[0]
    for t in time_steps(gi.shape[0], reverse):
        h = seq[t] = gru_step(gi[t], h, w_hh, b_hh)
    return stack(seq), h


def gru_sequence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """A whole GRU layer direction: x (T, B, F), h0 (B, H), w_ih (3H, F), w_hh (3H, H), biases (3H,) -> (outputs
    (T, B, H), h_T); steps run from T-1 down to 0 when reverse."""
    return GRUSequence.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse)


def _gru_sequence_ref(x, h0, w_ih, w, b_ih, b, reverse):
    H = h0.shape[-1]
    s = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    gi = x @ w_ih.T + (b_ih if b_ih is not None else 0)
    h, outs = h0, [None] * gi.shape[0]
    for t in time_steps(gi.shape[0], reverse):
        gh = h @ w.T + (b if b is not None else 0)
        r, z = s(gi[t][:, :H] + gh[:, :H]), s(gi[t][:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[t][:, 2 * H:] + r * gh[:, 2 * H:])
        h = outs[t] = (1 - z) * n + z * h
    return np.concatenate([np.stack(outs).reshape(-1), h.reshape(-1)])


def _lstm_sequence_ref(x, h0, c0, w_ih, w, b_ih, b, reverse):
    H = h0.shape[-1]
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    gi = x @ w_ih.T + (b_ih if b_ih is not None else 0)
    h, c, outs = h0, c0, [None] * gi.shape[0]
    for t in time_steps(gi.shape[0], reverse):
        a = gi[t] + h @ w.T + (b if b is not None else 0)
        c = s(a[:, H:2 * H]) * c + s(a[:, :H]) * np.tanh(a[:, 2 * H:3 * H])
        h = s(a[:, 3 * H:]) * np.tanh(c)
        outs[t] = h
    return np.concatenate([np.stack(outs).reshape(-1), h.reshape(-1), c.reshape(-1)])


def _lstm_ref(pre, c):
    H = c.shape[-1]
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    cn = s(pre[..., H:2 * H]) * c + s(pre[..., :H]) * np.tanh(pre[..., 2 * H:3 * H])
    return np.concatenate([s(pre[..., 3 * H:]) * np.tanh(cn), cn], -1)


register("lstm_gates", ref=_lstm_ref, samples=[sample(T((2, 8)), T((2, 2))), sample(T((3, 12)), T((3, 3)))])(
    lambda pre, c: cat(list(lstm_gates(pre, c)), -1))
register("unbind_steps", ref=lambda x: x * np.arange(1, x.shape[0] + 1).reshape(-1, *([1] * (x.ndim - 1))),
         samples=[sample(T((3, 2, 2)))])(
    lambda x: stack([s * float(k + 1) for k, s in enumerate(unbind_steps(x))]))
register("lstm_sequence", ref=_lstm_sequence_ref,
         samples=[sample(T((3, 2, 3)), T((2, 2)), T((2, 2)), T((8, 3)), T((8, 2)), T((8,)), T((8,)), False),
                  sample(T((4, 1, 2)), T((1, 3)), T((1, 3)), T((12, 2)), T((12, 3)), T((12,)), T((12,)), True),
                  sample(T((1, 2, 3)), T((2, 2), grad=False), T((2, 2)), T((8, 3)), T((8, 2)), T((8,), grad=False),
                         T((8,)), False),
                  sample(T((2, 2, 3), grad=False), T((2, 2)), T((2, 2)), T((8, 3)), T((8, 2)), None, None, True)])(
    lambda x, h0, c0, wi, w, bi, b, reverse: cat([o.reshape(-1)
                                                  for o in lstm_sequence(x, h0, c0, wi, w, bi, b, reverse)]))
register("gru_sequence", ref=_gru_sequence_ref,
         samples=[sample(T((3, 2, 3)), T((2, 2)), T((6, 3)), T((6, 2)), T((6,)), T((6,)), False),
                  sample(T((4, 1, 2)), T((1, 3)), T((9, 2)), T((9, 3)), T((9,)), T((9,)), True),
                  sample(T((1, 2, 3)), T((2, 2), grad=False), T((6, 3)), T((6, 2)), T((6,), grad=False), T((6,)),
                         False),
                  sample(T((2, 2, 3), grad=False), T((2, 2)), T((6, 3)), T((6, 2)), None, None, True)])(
    lambda x, h0, wi, w, bi, b, reverse: cat([o.reshape(-1) for o in gru_sequence(x, h0, wi, w, bi, b, reverse)]))
