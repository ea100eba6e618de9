"""Attention, composed from registered ops: softmax(QKᵀ/√d + mask)·V, multi-head attention and the Transformer
encoder layer (PyTorch's names, parameter layout and defaults)."""
import contextlib
import enum
import math

import numpy as np

from .. import creation, dtypes
from ..errors import ShapeError
from ..ops.elementwise import where
from ..ops.linalg import linear
from ..ops.reduce import softmax
from ..ops.shape import cat
from ..tensor import Tensor
from . import functional as F
from . import init
from .layers import Dropout, Linear
from .module import Module
from .norm import LayerNorm
from .parameter import Parameter
from ..ops._util import as_array


class SDPBackend(enum.Enum):
    """torch.nn.attention.SDPBackend: the kernels torch may pick for scaled_dot_product_attention. chainrule has
    one, the math formula, which is what every backend computes."""
    ERROR, MATH, FLASH_ATTENTION, EFFICIENT_ATTENTION, CUDNN_ATTENTION, OVERRIDEABLE = -1, 0, 1, 2, 3, 4


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """torch.nn.attention.sdpa_kernel: restricts torch to the given kernels. Every kernel computes the same
    attention, and chainrule's one (MATH) serves all of them, so the block runs unchanged."""
    for b in backends if isinstance(backends, (list, tuple)) else [backends]:
        if not isinstance(b, SDPBackend):
            raise TypeError(f"sdpa_kernel: backends must be SDPBackend members, got {b!r}")
    yield


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q Kᵀ · scale + mask) V with scale = 1/√d. A bool mask marks the positions that may attend (True =
    keep, as PyTorch); a float mask is added to the scores. is_causal masks the future. enable_gqa: grouped-query
    attention, where key and value have fewer heads (dim -3) than the query, each shared by a group of query
    heads (key and value are repeated to the query's head count)."""
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise ShapeError(f"scaled_dot_product_attention: with enable_gqa the query's {hq} heads must be a multiple "
                             f"of the key's and value's head count, got key {tuple(key.shape)}, value "
                             f"{tuple(value.shape)}")
        key, value = key.repeat_interleave(hq // hk, -3), value.repeat_interleave(hq // hk, -3)
    d = query.shape[-1]
    scores = (query @ key.mT) * (scale if scale is not None else 1.0 / math.sqrt(d))
    L, S = query.shape[-2], key.shape[-2]
    if is_causal:
        allowed = np.tril(np.ones((L, S), bool))
        scores = where(Tensor._wrap(allowed), scores, Tensor._wrap(np.array(-np.inf, scores.dtype)))
    if attn_mask is not None:
        m = as_array(attn_mask)
        if m.dtype == np.bool_:
            scores = where(Tensor._wrap(m), scores, Tensor._wrap(np.array(-np.inf, scores.dtype)))
        else:
            scores = scores + Tensor._wrap(m.astype(scores.dtype))
    weights = softmax(scores, -1)
    if dropout_p:
        weights = F.dropout(weights, dropout_p, True)
    return weights @ value


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for MultiheadAttention's out_proj (a plain Linear; the name only matters to quantisation)."""


class MultiheadAttention(Module):
    """nn.MultiheadAttention(embed_dim, num_heads): in_proj_weight (3E, E) (or q/k/v_proj_weight when kdim or vdim
    differ from E), in_proj_bias, out_proj, and with add_bias_kv the learned key/value rows bias_k, bias_v (1, 1, E)
    appended to every sequence; add_zero_attn appends a zero key/value per head. Returns (output, attention weights
    averaged over heads unless average_attn_weights=False). Inputs are (L, B, E) ((B, L, E) with batch_first) or
    unbatched (L, E)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        dt = dtypes.get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, dtype=dt))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
            init.xavier_uniform_(self.in_proj_weight)
        else:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, dtype=dt))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, dtype=dt))
            self.register_parameter("in_proj_weight", None)
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if bias:
            self.in_proj_bias = Parameter(creation.zeros(3 * embed_dim, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        if bias:
            init.zeros_(self.out_proj.bias)
        if add_bias_kv:
            self.bias_k = Parameter(init.xavier_normal_(creation.empty(1, 1, embed_dim, dtype=dt)))
            self.bias_v = Parameter(init.xavier_normal_(creation.empty(1, 1, embed_dim, dtype=dt)))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if self.batch_first and query.ndim == 3:   # the functional form takes (L, B, E)
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        own, out_proj = self._own, self._own("out_proj")   # (Module._own: ten reads per call, ~1.3 µs saved each)
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, own("in_proj_weight"), own("in_proj_bias"),
            own("bias_k"), own("bias_v"), self.add_zero_attn, self.dropout, out_proj._own("weight"),
            out_proj._own("bias"), self.training, key_padding_mask, need_weights, attn_mask,
            not self._qkv_same_embed_dim, own("q_proj_weight"), own("k_proj_weight"), own("v_proj_weight"),
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and query.ndim == 3:
            out = out.transpose(0, 1)
        return out, weights


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """torch's F.multi_head_attention_forward, what nn.MultiheadAttention runs: inputs (L, B, E) / (S, B, ·) or
    unbatched (L, E); the projections from in_proj_weight (3E, E) or, with use_separate_proj_weight, from
    q/k/v_proj_weight; static_k / static_v (B·heads, S, head_dim) replace the key and value projections.
    Returns (output (L, B, E), attention weights averaged over heads (or per head), or None)."""
    unbatched = query.ndim == 2
    if unbatched:   # (L, E): a batch of one
        query, key, value = (t.unsqueeze(1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = _mask_array(key_padding_mask)[None]
    query, key, value = (t.transpose(0, 1) for t in (query, key, value))   # (B, ·, E) inside
    B, L, E = query.shape
    if E != embed_dim_to_check:
        raise ShapeError(f"multi_head_attention_forward: query has {E} features (shape {tuple(query.shape)}) but "
                         f"embed_dim is {embed_dim_to_check}")
    h, hd = num_heads, E // num_heads
    b = in_proj_bias
    bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
    if use_separate_proj_weight:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        wq, wk, wv = in_proj_weight[:E], in_proj_weight[E:2 * E], in_proj_weight[2 * E:]
    for x, w, what in ((key, wk, "key"), (value, wv, "value")):
        if x.shape[-1] != w.shape[1]:
            raise ShapeError(f"MultiheadAttention: {what} has {x.shape[-1]} features (shape {tuple(x.shape)}) but "
                             f"the layer expects {w.shape[1]} (kdim/vdim)")
    q = linear(query, wq, bq)
    k = linear(key, wk, bk) if static_k is None else None
    v = linear(value, wv, bv) if static_v is None else None
    S = key.shape[1] if static_k is None else static_k.shape[1]
    if is_causal and attn_mask is None:
        attn_mask = ~np.tril(np.ones((L, S), bool))
    mask = _additive_mask(attn_mask, key_padding_mask, B, h, L, S, q.dtype)
    if bias_k is not None:   # one learned key/value row more per sequence, visible to every query
        k = cat([k, bias_k.reshape(1, 1, E).expand(B, 1, E)], 1)
        v = cat([v, bias_v.reshape(1, 1, E).expand(B, 1, E)], 1)
        mask = _pad_last(mask)
    q = q.reshape(B, L, h, hd).transpose(1, 2)                                   # (B, h, ·, hd)
    # lengths spelt out, not -1, which is ambiguous for an empty batch (B = 0)
    k = k.reshape(B, k.shape[1], h, hd).transpose(1, 2) if static_k is None else static_k.reshape(
        B, h, static_k.shape[1], hd)
    v = v.reshape(B, v.shape[1], h, hd).transpose(1, 2) if static_v is None else static_v.reshape(
        B, h, static_v.shape[1], hd)
    if add_zero_attn:        # and a zero key/value per head, so a query may attend to nothing
        zeros = Tensor._wrap(np.zeros((B, h, 1, hd), q.dtype))
        k, v = cat([k, zeros], 2), cat([v, zeros], 2)
        mask = _pad_last(mask)
    scores = (q @ k.mT) * (1.0 / math.sqrt(hd))
    if mask is not None:
        scores = scores + Tensor._wrap(mask)
    weights = softmax(scores, -1)
    if dropout_p and training:
        weights = F.dropout(weights, dropout_p, True)
    out = linear((weights @ v).transpose(1, 2).reshape(B, L, E), out_proj_weight, out_proj_bias).transpose(0, 1)
    if unbatched:
        out, weights = out.squeeze(1), weights.squeeze(0)
    if not need_weights:
        return out, None
    return out, (weights.mean(dim=-3) if average_attn_weights else weights)


def _mask_array(m):
    return as_array(m)


def _additive_mask(attn_mask, key_padding_mask, B, h, L, S, dtype):
    """MultiheadAttention's masks as one float array added to the (B, h, L, S) scores, or None: a bool mask marks
    positions NOT allowed to attend (-inf there), a float mask is added as it is. attn_mask is (L, S) or
    (B·h, L, S); key_padding_mask (B, S) masks keys per sequence."""
    total = None
    if attn_mask is not None:
        m = _mask_array(attn_mask)
        if m.shape not in ((L, S), (B * h, L, S)):
            raise ShapeError(f"MultiheadAttention: attn_mask has shape {m.shape}; it should be {(L, S)} or "
                             f"{(B * h, L, S)} (batch·heads, target length, source length)")
        total = _as_additive(m, dtype).reshape((1, 1, L, S) if m.ndim == 2 else (B, h, L, S))
    if key_padding_mask is not None:
        m = _mask_array(key_padding_mask)
        if m.shape != (B, S):
            raise ShapeError(f"MultiheadAttention: key_padding_mask has shape {m.shape}; it should be {(B, S)} "
                             f"(batch, source length)")
        pad = _as_additive(m, dtype)[:, None, None, :]
        total = pad if total is None else total + pad
    return total


def _as_additive(m, dtype):
    if m.dtype == np.bool_:
        return np.where(m, np.array(-np.inf, dtype), np.array(0, dtype))
    return m.astype(dtype, copy=False)


def _pad_last(mask):
    """One more key position that every query may attend to: a zero column on the mask."""
    if mask is None:
        return None
    return np.concatenate([mask, np.zeros(mask.shape[:-1] + (1,), mask.dtype)], -1)


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm, post-norm by
    default (norm_first=True for pre-norm): x = norm(x + attn(x)); x = norm(x + ff(x))."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = {"relu": F.relu, "gelu": F.gelu}[activation] if isinstance(activation, str) else activation

    def _sa(self, x, mask, pad, causal):
        return self.dropout1(self.self_attn(x, x, x, key_padding_mask=pad, attn_mask=mask, need_weights=False,
                                            is_causal=causal)[0])

    def _ff(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff(x))


def _clones(layer, n, name):
    """n independent copies of a layer, as torch (deep copies of an instance); a function that builds a layer is
    accepted too."""
    import copy
    from .containers import ModuleList
    if isinstance(layer, Module):
        return ModuleList([copy.deepcopy(layer) for _ in range(n)])
    if callable(layer):
        return ModuleList([layer() for _ in range(n)])
    raise TypeError(f"{name}: expected a layer (Module) to copy num_layers times, got {type(layer).__name__}")


class TransformerEncoder(Module):
    """num_layers copies of an encoder layer, then an optional final norm."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers, self.norm = num_layers, norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        for layer in self.layers:
            src = layer(src, mask, src_key_padding_mask, bool(is_causal))
        return self.norm(src) if self.norm is not None else src


class TransformerDecoderLayer(Module):
    """Masked self-attention, attention over the encoder's memory, and a feed-forward block, each with a residual
    connection and LayerNorm (post-norm by default; norm_first=True for pre-norm):
    x = norm₁(x + sa(x)); x = norm₂(x + mha(x, memory)); x = norm₃(x + ff(x))."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1, self.norm2, self.norm3 = (LayerNorm(d_model, eps=layer_norm_eps, bias=bias) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = Dropout(dropout), Dropout(dropout), Dropout(dropout)
        self.activation = {"relu": F.relu, "gelu": F.gelu}[activation] if isinstance(activation, str) else activation

    def _sa(self, x, mask, pad, causal):
        return self.dropout1(self.self_attn(x, x, x, key_padding_mask=pad, attn_mask=mask, need_weights=False,
                                            is_causal=causal)[0])

    def _mha(self, x, mem, mask, pad, causal):
        return self.dropout2(self.multihead_attn(x, mem, mem, key_padding_mask=pad, attn_mask=mask,
                                                 need_weights=False, is_causal=causal)[0])

    def _ff(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff(self.norm3(x))
        x = self.norm1(x + self._sa(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff(x))


class TransformerDecoder(Module):
    """num_layers copies of a decoder layer, then an optional final norm."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
                      bool(tgt_is_causal), memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder Transformer (Vaswani et al., 2017) with torch's layout and defaults; every weight matrix
    is re-initialised Xavier-uniform, as torch does."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        kw = dict(dropout=dropout, activation=activation, layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                  norm_first=norm_first, bias=bias)
        self.encoder = custom_encoder or TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, dim_feedforward, **kw), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        self.decoder = custom_decoder or TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, dim_feedforward, **kw), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        b = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[b] != tgt.shape[b]:
            raise ValueError(f"Transformer: src and tgt must have the same batch size (dim {b}), got {src.shape} "
                             f"and {tgt.shape}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: the feature dim of src {src.shape} and tgt {tgt.shape} must equal "
                             f"d_model={self.d_model}")
        memory = self.encoder(src, src_mask, src_key_padding_mask, src_is_causal)
        return self.decoder(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
                            tgt_is_causal, memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, dtype=None):
        """An (sz, sz) float mask: 0 on and below the diagonal, -inf above (position i attends to j ≤ i)."""
        mask = np.triu(np.full((sz, sz), -np.inf), 1).astype(dtype or dtypes.get_default_dtype())
        return Tensor._wrap(mask)
