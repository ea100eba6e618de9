"""Random calls of nn.functional's option-heavy ops (grid_sample, affine_grid, interpolate,
scaled_dot_product_attention, unfold/fold, cdist), run by chainrule and by torch (the oracle) on the same float64
arrays: the same output and the same gradient of every float input, or both refuse and chainrule's error names
the op. Hypothesis draws the options together (padding_mode with align_corners with mode; masks with is_causal
with scale; kernel with dilation with stride with padding)."""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install -e '.[test]')")
from hypothesis import given, settings, strategies as st  # noqa: E402

from helpers import torch_or_skip, value_or_error  # noqa: E402

import chainrule as cr  # noqa: E402


def _sizes(draw, dims, low=1, high=5):
    return tuple(draw(st.integers(low, high)) for _ in range(dims))


@st.composite
def grid_sample(draw):
    dims = draw(st.sampled_from([2, 3]))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    modes = ["bilinear", "nearest"] + (["bicubic"] if dims == 2 else [])
    kw = dict(mode=draw(st.sampled_from(modes)), padding_mode=draw(st.sampled_from(["zeros", "border", "reflection"])),
              align_corners=draw(st.booleans()))
    out = _sizes(draw, dims, 1, 4)
    # grid points spread past [-1, 1], so that every padding mode is exercised; kept off the cells' edges, where
    # nearest and the interpolation weights jump (finite precision would pick either side)
    grid = ("grid", (n,) + out + (dims,))
    return "grid_sample", [(n, c) + _sizes(draw, dims, 1, 4), grid], kw


@st.composite
def affine_grid(draw):
    dims = draw(st.sampled_from([2, 3]))
    n = draw(st.integers(1, 2))
    size = (n, draw(st.integers(1, 3))) + _sizes(draw, dims, 1, 4)
    return "affine_grid", [(n, dims, dims + 1)], dict(size=size, align_corners=draw(st.booleans()))


@st.composite
def interpolate(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]))
    dims = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode, draw(st.integers(1, 3)))
    kw = dict(mode=mode)
    if draw(st.booleans()):
        kw["size"] = _sizes(draw, dims, 1, 6)
    else:
        kw["scale_factor"] = draw(st.sampled_from([0.5, 0.75, 1.5, 2.0, 2.5]))
        kw["recompute_scale_factor"] = draw(st.sampled_from([None, True, False]))
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        kw["align_corners"] = draw(st.booleans())
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + _sizes(draw, dims, 1, 5)
    if mode in ("bilinear", "bicubic") and shape[-1] > 1 and draw(st.booleans()):
        # (torch's antialias on an input of width 1 gives the same value all along H: interpolate of (1, 1, 4, 1)
        # to (6, 1) is constant, where plain bilinear is not; chainrule gives plain bilinear's values there)
        kw["antialias"] = True
    return "interpolate", [shape], kw


@st.composite
def attention(draw):
    batch = _sizes(draw, draw(st.integers(0, 2)), 1, 2)
    lq, lk, e, ev = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kw = {}
    mask = draw(st.sampled_from([None, "bool", "float", "causal"]))
    if mask == "causal":
        kw["is_causal"] = True
    elif mask:
        kw["attn_mask"] = (mask, (lq, lk))
    if draw(st.booleans()):
        kw["scale"] = draw(st.sampled_from([0.1, 1.0, 3.0]))
    return "scaled_dot_product_attention", [batch + (lq, e), batch + (lk, e), batch + (lk, ev)], kw


@st.composite
def unfold_fold(draw):
    kernel, dilation = _sizes(draw, 2, 1, 3), _sizes(draw, 2, 1, 2)
    kw = dict(kernel_size=kernel, dilation=dilation, padding=_sizes(draw, 2, 0, 2), stride=_sizes(draw, 2, 1, 3))
    n = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()   # batched or one unbatched sample
    c = draw(st.integers(1, 2))
    if draw(st.booleans()):
        return "unfold", [n + (c,) + _sizes(draw, 2, 1, 6)], kw
    out = _sizes(draw, 2, 1, 6)
    blocks = [(o + 2 * p - d * (k - 1) - 1) // s + 1 for o, p, d, k, s in
              zip(out, kw["padding"], dilation, kernel, kw["stride"])]
    # (a block count below 1 makes L disagree: both must refuse)
    return "fold", [n + (c * kernel[0] * kernel[1], max(1, blocks[0]) * max(1, blocks[1]))], dict(kw, output_size=out)


@st.composite
def cdist(draw):
    batch = _sizes(draw, draw(st.integers(0, 1)), 1, 2)
    d = draw(st.integers(1, 3))
    kw = dict(p=draw(st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.0, float("inf")])))
    return "cdist", [batch + (draw(st.integers(1, 4)), d), batch + (draw(st.integers(1, 4)), d)], kw


CALLS = st.one_of(grid_sample(), affine_grid(), interpolate(), attention(), unfold_fold(), cdist())


def _array(spec, rng):
    if spec[0] == "grid":   # coordinates in [-1.6, 1.6], off the half-cell and cell boundaries of small grids
        return np.round(rng.uniform(-1.6, 1.6, spec[1]) * 60 + 0.37) / 60 + 0.003
    return rng.standard_normal(spec)


def _call(lib, name, arrays, kw, mask_seed):
    fn = getattr(lib, name) if name == "cdist" else getattr(lib.nn.functional, name)
    kw = dict(kw)
    if isinstance(kw.get("attn_mask"), tuple):
        kind, shape = kw["attn_mask"]
        rng = np.random.default_rng(mask_seed)
        m = rng.random(shape) < 0.4 if kind == "bool" else rng.standard_normal(shape)
        if kind == "bool":
            m[:, 0] = True   # True keeps a key here: every query keeps one, so no row is all -inf (nan in both)
        kw["attn_mask"] = lib.tensor(m)
    return fn(*arrays, **kw)


def _check(name, specs, kw, seed):
    torch = torch_or_skip()
    rng = np.random.default_rng(seed)
    arrays = [_array(s, rng) for s in specs]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    c_in = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs, refused = value_or_error(lambda: _call(torch, name, t_in, kw, seed))
    ours, our_refusal = value_or_error(lambda: _call(cr, name, c_in, kw, seed))
    if refused is None and our_refusal is not None and theirs.numel() == 0:
        refused = "an empty result"   # interpolate(mode='area') to a size of 0: torch returns it, chainrule refuses
    if refused is not None or our_refusal is not None:
        assert refused is not None, f"chainrule refused what torch runs: {our_refusal!r}"
        assert our_refusal is not None, f"torch refused ({refused}) but chainrule ran"
        stem = "".join(ch for ch in name if ch.isalpha())
        assert stem in "".join(ch for ch in str(our_refusal) if ch.isalpha()), our_refusal
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-10)
    g = rng.standard_normal(tuple(theirs.shape))
    theirs.backward(torch.tensor(g))
    ours.backward(cr.tensor(g))
    for a, b in zip(c_in, t_in):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy())
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-9)


@settings(max_examples=int(os.environ.get("CHAINRULE_RANDOM_FUNCTIONAL", 150)), deadline=None)
@given(CALLS, st.integers(0, 2 ** 16))
def test_random_functional_call_matches_torch(call, seed):
    """150 calls per run; for a longer hunt with fresh draws:
    CHAINRULE_HYPOTHESIS=explore CHAINRULE_RANDOM_FUNCTIONAL=3000."""
    _check(*call, seed)
