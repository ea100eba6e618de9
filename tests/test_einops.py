"""func.rearrange (torch.func.rearrange, einops' notation): the same values as torch's for the einops examples,
a gradient that is the inverse rearrangement, named errors."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck
from chainrule.func import rearrange

X = np.random.default_rng(0).standard_normal((4, 6, 8, 3))   # 4 images, 6 × 8 pixels, 3 channels

PATTERNS = [
    ("b h w c -> b h w c", {}, (4, 6, 8, 3)),
    ("b h w c -> (b h) w c", {}, (24, 8, 3)),
    ("b h w c -> h (b w) c", {}, (6, 32, 3)),
    ("b h w c -> b c h w", {}, (4, 3, 6, 8)),
    ("b h w c -> b (c h w)", {}, (4, 144)),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 2}, (16, 3, 4, 3)),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 2}, (4, 3, 4, 12)),
    ("b ... c -> c b ...", {}, (3, 4, 6, 8)),
    ("... c -> (...) c", {}, (192, 3)),
    ("b h w c -> b 1 h w c ()", {}, (4, 1, 6, 8, 3, 1)),
    ("b h (w2 w) c -> (w w2) h b c", {"w": 4}, (8, 6, 4, 3)),
]


def numpy_reference(pattern):
    """The same rearrangements written by hand in NumPy, for when torch is absent."""
    return {
        "b h w c -> b h w c": lambda x: x,
        "b h w c -> (b h) w c": lambda x: x.reshape(24, 8, 3),
        "b h w c -> h (b w) c": lambda x: x.transpose(1, 0, 2, 3).reshape(6, 32, 3),
        "b h w c -> b c h w": lambda x: x.transpose(0, 3, 1, 2),
        "b h w c -> b (c h w)": lambda x: x.transpose(0, 3, 1, 2).reshape(4, 144),
        "b (h1 h) (w1 w) c -> (b h1 w1) h w c":
            lambda x: x.reshape(4, 2, 3, 2, 4, 3).transpose(0, 1, 3, 2, 4, 5).reshape(16, 3, 4, 3),
        "b (h h1) (w w1) c -> b h w (c h1 w1)":
            lambda x: x.reshape(4, 3, 2, 4, 2, 3).transpose(0, 1, 3, 5, 2, 4).reshape(4, 3, 4, 12),
        "b ... c -> c b ...": lambda x: x.transpose(3, 0, 1, 2),
        "... c -> (...) c": lambda x: x.reshape(192, 3),
        "b h w c -> b 1 h w c ()": lambda x: x[:, None, ..., None],
        "b h (w2 w) c -> (w w2) h b c": lambda x: x.reshape(4, 6, 2, 4, 3).transpose(3, 2, 1, 0, 4).reshape(8, 6, 4, 3),
    }[pattern]


@pytest.mark.parametrize("pattern, lengths, shape", PATTERNS)
def test_rearrange_moves_every_element_where_einops_says(pattern, lengths, shape):
    out = rearrange(cr.tensor(X), pattern, **lengths)
    assert out.shape == shape
    np.testing.assert_array_equal(out.numpy(), numpy_reference(pattern)(X))
    try:
        import torch
    except ImportError:
        return
    np.testing.assert_array_equal(out.numpy(), torch.func.rearrange(torch.tensor(X), pattern, **lengths).numpy())


def test_a_list_of_tensors_is_stacked_first_and_size_one_dims_are_dropped():
    parts = [cr.ones(2, 3), cr.zeros(2, 3)]
    np.testing.assert_array_equal(rearrange(parts, "n a b -> a (n b)").numpy(),
                                  np.concatenate([np.ones((2, 3)), np.zeros((2, 3))], axis=1))
    assert rearrange(cr.ones(1, 5, 1), "1 a () -> a").shape == (5,)


def test_the_gradient_is_the_inverse_rearrangement():
    x = cr.tensor(np.random.default_rng(1).standard_normal((2, 4, 6)), requires_grad=True)
    assert gradcheck(lambda t: rearrange(t, "b (h h2) w -> (b w) h h2", h2=2), (x,))
    weights = np.random.default_rng(2).standard_normal((12, 2, 2))
    (rearrange(x, "b (h h2) w -> (b w) h h2", h2=2) * cr.tensor(weights)).sum().backward()
    inverse = rearrange(cr.tensor(weights), "(b w) h h2 -> b (h h2) w", b=2)
    np.testing.assert_array_equal(x.grad.numpy(), inverse.numpy())


@pytest.mark.parametrize("pattern, lengths, error, match", [
    ("b h w c", {}, ValueError, "must read 'input dims -> output dims'"),
    ("b h w -> b h w", {}, cr.ShapeError, r"names 3 dims, the input has shape \(4, 6, 8, 3\)"),
    ("b h w c -> b h c", {}, ValueError, r"must name the same axes .* left only \['w'\]"),
    ("b h w c -> b h w c c", {}, ValueError, "axis 'c' appears twice in the right side"),
    ("b (h1 h) w c -> b h1 h w c", {}, ValueError, r"leaves \['h1', 'h'\] unknown"),
    ("b (h1 h) w c -> b h1 h w c", {"h1": 4}, cr.ShapeError, "a dim of size 6 cannot split into"),
    ("b h w c -> b h w c", {"x": 2}, ValueError, r"lengths given for axes .* \['x'\]"),
    ("b h w c -> b h (...) w c", {}, ValueError, "'...' must appear on both sides"),
    ("(b ...) c -> b ... c", {}, ValueError, "'...' cannot be inside a group on the left"),
    ("b h w c -> b h w c 2", {}, ValueError, "'2' in the right side .* is not an axis name"),
    ("b (h w c -> b h w c", {}, ValueError, r"'\(' without '\)'"),
])
def test_bad_patterns_are_named(pattern, lengths, error, match):
    with pytest.raises(error, match=match):
        rearrange(cr.tensor(X), pattern, **lengths)
