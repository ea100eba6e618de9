"""Random layer configurations, built in chainrule and in torch (the oracle) with the same weights and run on the
same float64 input: the same output, the same gradients of the input and of every parameter, the same updated
buffers (running statistics). Hypothesis draws the options together (stride with dilation with padding with
ceil_mode; groups with padding modes; bidirectional with proj_size; masks with kdim/vdim; a loss's weight with
ignore_index with label_smoothing with reduction ...), which the per-layer tests, each a handful of chosen cases,
cannot cover. Where torch refuses a configuration (a kernel larger than the
padded input, padding above half the kernel), chainrule must refuse it too, with an error that names the layer.
"""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install -e '.[test]')")
from hypothesis import given, settings, strategies as st  # noqa: E402

from helpers import torch_or_skip, value_or_error  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.nn as nn  # noqa: E402


def _spatial(draw, dims, low=1, high=7):
    return tuple(draw(st.integers(low, high)) for _ in range(dims))


def _ints(draw, dims, low, high):
    """One int for every dim, or (as torch also accepts) a tuple of them."""
    if draw(st.booleans()):
        return draw(st.integers(low, high))
    return tuple(draw(st.integers(low, high)) for _ in range(dims))


def _batch(draw, channels, dims, unbatched_ok=True, high=7):
    lead = () if unbatched_ok and draw(st.booleans()) and draw(st.booleans()) else (draw(st.integers(1, 3)),)
    return lead + (channels,) + _spatial(draw, dims, 1, high)


@st.composite
def conv(draw):
    dims = draw(st.sampled_from([1, 2, 3]))
    transposed = draw(st.booleans())
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kw = dict(stride=_ints(draw, dims, 1, 3), dilation=_ints(draw, dims, 1, 2), groups=groups, bias=draw(st.booleans()))
    kernel = _ints(draw, dims, 1, 3)
    if transposed:
        kw["padding"] = _ints(draw, dims, 0, 2)
        stride = kw["stride"] if isinstance(kw["stride"], tuple) else (kw["stride"],) * dims
        dilation = kw["dilation"] if isinstance(kw["dilation"], tuple) else (kw["dilation"],) * dims
        kw["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        name = f"ConvTranspose{dims}d"
    else:
        padding = draw(st.sampled_from(["int", "same", "valid"]))
        kw["padding"] = _ints(draw, dims, 0, 2) if padding == "int" else padding
        if padding == "same":
            kw["stride"] = 1
        kw["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        name = f"Conv{dims}d"
    return name, (cin, cout, kernel), kw, [_batch(draw, cin, dims, high=7 if dims < 3 else 4)]


@st.composite
def pool(draw):
    dims = draw(st.sampled_from([1, 2, 3]))
    kind = draw(st.sampled_from(["Max", "Avg", "LP", "AdaptiveAvg", "AdaptiveMax"]))
    shape = [_batch(draw, draw(st.integers(1, 2)), dims, high=7 if dims < 3 else 5)]
    name = f"{kind}Pool{dims}d"
    if kind.startswith("Adaptive"):
        size = tuple(draw(st.one_of(st.integers(1, 4), st.none())) if dims > 1 else draw(st.integers(1, 4))
                     for _ in range(dims))
        return name, (size if dims > 1 else size[0],), {}, shape
    k = draw(st.integers(1, 3))
    kw = dict(stride=draw(st.one_of(st.none(), st.integers(1, 3))), ceil_mode=draw(st.booleans()))
    if kind == "LP":
        return name, (draw(st.sampled_from([1.0, 2.0, 3.0])), k), kw, shape
    kw["padding"] = draw(st.integers(0, 2))   # torch refuses more than half the kernel: so must chainrule
    if kind == "Max":
        kw["dilation"] = draw(st.integers(1, 2))
        kw["return_indices"] = draw(st.booleans())
    else:
        kw["count_include_pad"] = draw(st.booleans())
        if dims > 1 and draw(st.booleans()):
            kw["divisor_override"] = draw(st.integers(1, 3))
    return name, (k,), kw, shape


@st.composite
def norm(draw):
    kind = draw(st.sampled_from(["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
                                 "InstanceNorm3d", "LayerNorm",
                                 "GroupNorm", "RMSNorm"]))
    c = draw(st.integers(1, 4))
    if kind.startswith(("BatchNorm", "InstanceNorm")):
        dims = int(kind[-2])
        kw = dict(momentum=draw(st.sampled_from([0.1, 0.5, None])), affine=draw(st.booleans()),
                  track_running_stats=draw(st.booleans()), eps=draw(st.sampled_from([1e-5, 0.1])))
        if kind == "BatchNorm1d" and draw(st.booleans()):
            shape = (draw(st.integers(2, 4)), c)
        else:
            shape = (draw(st.integers(2, 3)), c) + _spatial(draw, dims, 2, 4)
        training = draw(st.booleans())
        return kind, (c,), kw, [shape], training
    shape = (draw(st.integers(1, 3)), c) + _spatial(draw, draw(st.integers(0, 2)), 1, 4)
    if kind == "GroupNorm":
        groups = draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
        return kind, (groups, c), dict(affine=draw(st.booleans()), eps=draw(st.sampled_from([1e-5, 0.1]))), \
            [shape], True
    last = draw(st.integers(1, len(shape) - 1))
    kw = dict(elementwise_affine=draw(st.booleans()))
    if kind == "LayerNorm":
        kw["bias"] = draw(st.booleans())
    else:
        kw["eps"] = draw(st.sampled_from([None, 1e-3]))
    return kind, (shape[-last:],), kw, [shape], True


@st.composite
def recurrent(draw):
    kind = draw(st.sampled_from(["RNN", "LSTM", "GRU"]))
    n_in, hidden = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    kw = dict(num_layers=draw(st.integers(1, 2)), bias=draw(st.booleans()), batch_first=draw(st.booleans()),
              bidirectional=draw(st.booleans()))
    if kind == "RNN":
        kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    if kind == "LSTM" and draw(st.booleans()):
        kw["proj_size"] = draw(st.integers(1, hidden))   # torch refuses proj_size = hidden_size: so must chainrule
    steps = draw(st.integers(1, 4))
    batch = () if draw(st.booleans()) else (draw(st.integers(1, 3)),)   # unbatched, or a batch
    shape = (steps, n_in) if not batch else (batch + (steps, n_in) if kw["batch_first"] else (steps,) + batch + (n_in,))
    if not draw(st.booleans()):
        return kind, (n_in, hidden), kw, [shape]
    # initial state: (layers·directions, [batch,] hidden), h of proj_size for a projected LSTM, and c for an LSTM
    layers = kw["num_layers"] * (2 if kw["bidirectional"] else 1)
    h0 = (layers,) + batch + (kw.get("proj_size") or hidden,)
    return kind, (n_in, hidden), kw, [shape, h0] + ([(layers,) + batch + (hidden,)] if kind == "LSTM" else [])


@st.composite
def attention(draw):
    heads = draw(st.integers(1, 2))
    embed = heads * draw(st.integers(1, 3))
    kw = dict(bias=draw(st.booleans()), add_bias_kv=draw(st.booleans()), add_zero_attn=draw(st.booleans()),
              batch_first=draw(st.booleans()), dropout=0.0)
    if draw(st.booleans()):
        kw["kdim"], kw["vdim"] = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch, tq, tk = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))

    def shaped(t, d):
        return (batch, t, d) if kw["batch_first"] else (t, batch, d)
    shapes = [shaped(tq, embed), shaped(tk, kw.get("kdim", embed)), shaped(tk, kw.get("vdim", embed))]
    call = dict(need_weights=draw(st.booleans()), average_attn_weights=draw(st.booleans()))
    mask = draw(st.sampled_from([None, "bool", "float", "bool3d"]))
    call["attn_mask"] = mask and (mask, tq, tk, batch * heads)
    call["key_padding_mask"] = draw(st.booleans()) and (batch, tk)
    return "MultiheadAttention", (embed, heads), kw, shapes, call


def _mask(spec, seed):
    """A mask from its spec (kind, query len, key len, batch·heads) that never hides every key of a row (torch
    and chainrule would both give NaN there, which compares unequal to itself)."""
    if not spec:
        return None
    rng = np.random.default_rng(seed)
    if len(spec) == 2:   # key_padding_mask (batch, keys): True hides; keep the first key of each sample
        m = rng.random(spec) < 0.4
        m[:, 0] = False
        return m
    kind, tq, tk, bh = spec
    if kind == "float":
        return rng.standard_normal((tq, tk))
    m = rng.random((bh, tq, tk) if kind == "bool3d" else (tq, tk)) < 0.4
    m[..., 0] = False
    return m


@st.composite
def loss(draw):
    """A loss module with drawn options on a drawn input and a valid target: (name, (), kwargs, inputs)."""
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    shape = (n, c)
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "HuberLoss",
                                 "SmoothL1Loss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "MultiMarginLoss",
                                 "MultiLabelSoftMarginLoss", "SoftMarginLoss", "MarginRankingLoss",
                                 "HingeEmbeddingLoss", "CosineEmbeddingLoss", "TripletMarginLoss"]))
    kw = {"reduction": reduction}
    weight = (rng.random(c) + 0.1) if draw(st.booleans()) else None
    if kind in ("CrossEntropyLoss", "NLLLoss"):
        spatial = _spatial(draw, draw(st.integers(0, 1)), 1, 3)
        labels = rng.integers(0, c, (n,) + spatial)
        if draw(st.booleans()):   # some targets ignored (an index may be ignored everywhere: both give nan)
            kw["ignore_index"] = draw(st.sampled_from([-100, 0]))
            labels[rng.random(labels.shape) < 0.3] = kw["ignore_index"]
        if weight is not None:
            kw["weight"] = weight
        target = ("fixed", labels)
        if kind == "CrossEntropyLoss":
            if draw(st.booleans()):
                kw["label_smoothing"] = draw(st.sampled_from([0.1, 0.5]))
            if draw(st.booleans()) and "ignore_index" not in kw:   # class probabilities
                p = rng.random((n, c) + spatial)
                target = ("fixed", p / p.sum(1, keepdims=True))
        return kind, (), kw, [(n, c) + spatial, target]
    if kind in ("BCELoss", "BCEWithLogitsLoss"):
        if weight is not None:
            kw["weight"] = weight
        if kind == "BCEWithLogitsLoss" and draw(st.booleans()):
            kw["pos_weight"] = rng.random(c) * 2
        return kind, (), kw, [("sigmoid" if kind == "BCELoss" else "normal", shape), ("fixed", rng.random(shape))]
    if kind in ("HuberLoss", "SmoothL1Loss"):
        kw["delta" if kind == "HuberLoss" else "beta"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
        return kind, (), kw, [shape, shape]
    if kind == "KLDivLoss":
        kw["reduction"] = draw(st.sampled_from(["mean", "sum", "none", "batchmean"]))
        kw["log_target"] = draw(st.booleans())
        p = rng.random(shape) + 0.05
        p /= p.sum(1, keepdims=True)
        return kind, (), kw, [shape, ("fixed", np.log(p) if kw["log_target"] else p)]
    if kind == "PoissonNLLLoss":
        kw.update(log_input=draw(st.booleans()), full=draw(st.booleans()))
        target = rng.integers(0, 5, shape).astype(float)
        return kind, (), kw, [shape if kw["log_input"] else ("positive", shape), ("fixed", target)]
    if kind == "GaussianNLLLoss":
        kw.update(full=draw(st.booleans()), eps=draw(st.sampled_from([1e-6, 0.5])))
        var = draw(st.sampled_from([shape, (n, 1), (n,)]))
        return kind, (), kw, [shape, shape, ("positive", var)]
    if kind == "MultiMarginLoss":
        kw.update(p=draw(st.sampled_from([1, 2])), margin=draw(st.sampled_from([0.5, 1.0])))
        if weight is not None:
            kw["weight"] = weight
        return kind, (), kw, [shape, ("fixed", rng.integers(0, c, n))]
    if kind == "MultiLabelSoftMarginLoss":
        if weight is not None:
            kw["weight"] = weight
        return kind, (), kw, [shape, ("fixed", (rng.random(shape) < 0.5).astype(float))]
    if kind in ("SoftMarginLoss", "HingeEmbeddingLoss"):
        if kind == "HingeEmbeddingLoss":
            kw["margin"] = draw(st.sampled_from([0.5, 1.0]))
        return kind, (), kw, [shape, ("fixed", rng.choice([-1.0, 1.0], shape))]
    if kind == "MarginRankingLoss":
        kw["margin"] = draw(st.sampled_from([0.0, 0.5]))
        return kind, (), kw, [(n,), (n,), ("fixed", rng.choice([-1.0, 1.0], n))]
    if kind == "CosineEmbeddingLoss":
        kw["margin"] = draw(st.sampled_from([0.0, 0.5]))
        return kind, (), kw, [shape, shape, ("fixed", rng.choice([-1.0, 1.0], n))]
    kw.update(margin=draw(st.sampled_from([0.5, 1.0])), p=draw(st.sampled_from([1.0, 2.0])),
              swap=draw(st.booleans()))
    return kind, (), kw, [shape, shape, shape]


@st.composite
def upsample(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]))
    dims = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode, draw(st.integers(1, 3)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + _spatial(draw, dims, 1, 4)
    kw = {"mode": mode}
    if draw(st.booleans()):
        kw["size"] = _spatial(draw, dims, 1, 6) if dims > 1 or draw(st.booleans()) else draw(st.integers(1, 6))
    else:
        kw["scale_factor"] = draw(st.sampled_from([0.5, 1.5, 2.0, 3.0, 0.75]))
        kw["recompute_scale_factor"] = draw(st.sampled_from([None, True, False]))
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        kw["align_corners"] = draw(st.booleans())
    return "Upsample", (), kw, [shape]


@st.composite
def embedding(draw):
    num, dim = draw(st.integers(2, 6)), draw(st.integers(1, 4))
    kw = dict(padding_idx=draw(st.one_of(st.none(), st.integers(-num, num - 1))),
              scale_grad_by_freq=draw(st.booleans()))
    if draw(st.booleans()):
        kw.update(max_norm=draw(st.sampled_from([0.5, 1.0])), norm_type=draw(st.sampled_from([1.0, 2.0])))
    shape = _spatial(draw, draw(st.integers(1, 2)), 1, 4)
    idx = np.random.default_rng(draw(st.integers(0, 2 ** 16))).integers(0, num, shape)
    return "Embedding", (num, dim), kw, [("fixed", idx)]


@st.composite
def transformer(draw):
    heads = draw(st.integers(1, 2))
    d = heads * draw(st.integers(1, 3))
    decoder = draw(st.booleans())
    kw = dict(dim_feedforward=draw(st.integers(1, 6)), dropout=0.0, activation=draw(st.sampled_from(["relu", "gelu"])),
              batch_first=draw(st.booleans()), norm_first=draw(st.booleans()), bias=draw(st.booleans()),
              layer_norm_eps=draw(st.sampled_from([1e-5, 0.1])))
    batch, t, m = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))

    def shaped(n):
        return (batch, n, d) if kw["batch_first"] else (n, batch, d)
    call = {}
    if draw(st.booleans()):
        call["tgt_mask" if decoder else "src_mask"] = ("bool", t, t, batch * heads) if draw(st.booleans()) else \
            ("float", t, t, batch * heads)
    if draw(st.booleans()):
        call["tgt_key_padding_mask" if decoder else "src_key_padding_mask"] = (batch, t)
    if decoder:
        if draw(st.booleans()):
            call["memory_key_padding_mask"] = (batch, m)
        return "TransformerDecoderLayer", (d, heads), kw, [shaped(t), shaped(m)], call
    return "TransformerEncoderLayer", (d, heads), kw, [shaped(t)], call


def _input(spec, rng):
    """(array, requires_grad) from an input spec: a shape (standard normal), (kind, shape) for a sigmoid or
    positive input, or ("fixed", array), a target that takes no gradient."""
    if isinstance(spec[0], str):
        kind, payload = spec
        if kind == "fixed":
            return np.asarray(payload), False
        x = rng.standard_normal(payload)
        return {"sigmoid": lambda: 1 / (1 + np.exp(-x)), "positive": lambda: np.exp(x) * 0.5 + 0.1,
                "normal": lambda: x}[kind](), True
    return rng.standard_normal(spec), True


def _as_tensor_options(lib, kwargs):
    """Array options (a loss's weight, pos_weight) as the library's tensors."""
    return {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


LAYERS = st.one_of(conv(), pool(), norm(), recurrent(), attention(), loss(), upsample(), embedding(),
                   transformer())


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [y for x in o for y in _flat(x)]
    return [] if o is None else [o]


def _build(lib, name, args, kwargs):
    return getattr(lib.nn, name)(*args, **_as_tensor_options(lib, kwargs)).double()


def _run_both(spec, seed):
    torch = torch_or_skip()
    name, args, kwargs, shapes = spec[:4]
    rest = spec[4] if len(spec) > 4 else None
    torch.manual_seed(seed)
    theirs, refused = value_or_error(lambda: _build(torch, name, args, kwargs))
    ours, our_refusal = value_or_error(lambda: _build(cr, name, args, kwargs))
    if refused is not None or our_refusal is not None:
        return theirs, ours, refused, our_refusal, None
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    training = rest if isinstance(rest, bool) else True
    theirs.train(training)
    ours.train(training)
    rng = np.random.default_rng(seed)
    arrays = [_input(s, rng) for s in shapes]
    t_in = [torch.tensor(a, requires_grad=g) for a, g in arrays]
    c_in = [cr.tensor(a, requires_grad=g) for a, g in arrays]
    if name == "LSTM" and len(shapes) == 3:   # LSTM's initial state is one argument, the pair (h0, c0)
        t_in, c_in = [t_in[0], tuple(t_in[1:])], [c_in[0], tuple(c_in[1:])]
    t_kw, c_kw = {}, {}
    if isinstance(rest, dict):   # MultiheadAttention's call options and masks
        for k, v in rest.items():
            if k.endswith("mask"):
                m = _mask(v, seed)
                t_kw[k], c_kw[k] = (None, None) if m is None else (torch.tensor(m), cr.tensor(m))
            else:
                t_kw[k] = c_kw[k] = v
    t_out, refused = value_or_error(lambda: _flat(theirs(*t_in, **t_kw)))
    c_out, our_refusal = value_or_error(lambda: _flat(ours(*c_in, **c_kw)))
    return (theirs, t_in, t_out), (ours, c_in, c_out), refused, our_refusal, name


def _letters(text):
    return "".join(c for c in text.lower() if c.isalpha())


def _stem(name):
    """What an error about the layer must mention: Conv2d -> conv, CrossEntropyLoss -> crossentropy, Upsample ->
    interpolate (the functional op it calls, as torch's)."""
    stem = _letters({"Upsample": "interpolate"}.get(name, name))
    return stem[:-4] if stem.endswith("loss") else stem.rstrip("d")


def _check(spec, seed):
    theirs, ours, refused, our_refusal, _ = _run_both(spec, seed)
    name = spec[0]
    if our_refusal is not None:   # it must name the layer (or its functional op), not come bare from NumPy
        assert _stem(name) in _letters(str(our_refusal)), f"{name}: {our_refusal!r}"
    if refused is None and isinstance(our_refusal, RuntimeWarning) and isinstance(theirs, tuple) and \
            any(np.isnan(b.detach().numpy()).any() for b in theirs[2] if b.dtype.is_floating_point):
        return   # torch's output has nan (LPPool of odd order over negative sums): chainrule warns (an error here)
    if our_refusal is None and name in ("AvgPool3d", "LPPool3d") and "smaller than kernel size" in str(refused):
        return   # torch's 3-d average pool refuses an input smaller than the kernel even where the padding (or
        # ceil_mode) makes windows fit, which its 1-d and 2-d pools and max_pool3d accept: chainrule accepts it too
    if refused is not None or our_refusal is not None:
        assert refused is not None, f"chainrule refused what torch runs: {our_refusal!r}"
        assert our_refusal is not None, f"torch refused ({refused}) but chainrule ran"
        return
    torch = torch_or_skip()
    (tm, t_in, t_out), (cm, c_in, c_out) = theirs, ours
    assert len(c_out) == len(t_out)
    # -inf: a max-pool window that (dilated) holds only padding. torch's index for it, and so its gradient, point
    # at an input entry outside the window (max_pool2d(x of (1, 1, 6, 1), 2, padding=1, dilation=2) gives x.grad
    # (0, 0, 2, 0, 1, 0) for three -inf outputs); chainrule's gradient there is 0. Only the values are compared
    degenerate = any(np.isneginf(b.detach().numpy()).any() for b in t_out if b.dtype.is_floating_point)
    for a, b in zip(c_out, t_out):
        assert tuple(a.shape) == tuple(b.shape), (name, a.shape, b.shape)
        if b.dtype.is_floating_point:
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-10)
        elif not degenerate:   # MaxPool's return_indices
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    floats = [(a, b) for a, b in zip(c_out, t_out) if b.dtype.is_floating_point and b.requires_grad]
    if not floats or degenerate:
        return
    rng = np.random.default_rng(seed + 1)
    weights = [rng.standard_normal(tuple(b.shape)) for _, b in floats]
    sum((b * torch.tensor(w)).sum() for (_, b), w in zip(floats, weights)).backward()
    sum((a * cr.tensor(w)).sum() for (a, _), w in zip(floats, weights)).backward()
    for a, b in zip(_flat(c_in), _flat(t_in)):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy())
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10)
    t_params = dict(tm.named_parameters())
    for n, p in cm.named_parameters():
        tg = t_params[n].grad
        if tg is None:
            assert p.grad is None or not np.any(p.grad.numpy()), n
        else:
            np.testing.assert_allclose(p.grad.numpy(), tg.numpy(), rtol=1e-8, atol=1e-10, err_msg=n)
    ours_buffers = dict(cm.named_buffers())
    for n, b in tm.named_buffers():
        if b is not None:
            np.testing.assert_allclose(ours_buffers[n].numpy(), b.numpy(), rtol=1e-10, atol=1e-12, err_msg=n)


@settings(max_examples=int(os.environ.get("CHAINRULE_RANDOM_LAYERS", 200)), deadline=None)
@given(LAYERS, st.integers(0, 2 ** 16))
def test_random_layer_matches_torch(spec, seed):
    """200 configurations per run (~8 s); for a longer hunt with fresh draws:
    CHAINRULE_HYPOTHESIS=explore CHAINRULE_RANDOM_LAYERS=3000."""
    _check(spec, seed)
