"""interpolate in every mode (align_corners, antialias, recompute_scale_factor), the Upsample modules, grid_sample
and affine_grid: outputs and gradients (of the input, and of the grid and theta) equal torch's in float64."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.errors import ShapeError
from helpers import assert_matches_torch, torch_or_skip

R = np.random.default_rng(0)
SHAPES = {"nearest": (2, 3, 5, 7), "nearest-exact": (2, 3, 5, 7), "bilinear": (2, 2, 5, 7), "bicubic": (1, 2, 5, 7),
          "linear": (2, 3, 9), "trilinear": (1, 2, 3, 4, 5), "area": (1, 2, 7, 9)}
RESIZES = [dict(scale_factor=2), dict(scale_factor=0.5), dict(scale_factor=1.7), dict(scale_factor=0.37),
           dict(size=(3, 11, 4)), dict(size=(8, 3, 6)), dict(scale_factor=1.7, recompute_scale_factor=True)]


def _cases():
    for mode, shape in SHAPES.items():
        dims = len(shape) - 2
        for kw in RESIZES:
            kw = {k: (v[:dims] if k == "size" else v) for k, v in kw.items()}
            corners = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
            for ac in corners:
                for aa in ([False, True] if mode in ("bilinear", "bicubic") else [False]):
                    yield mode, shape, kw, ac, aa


@pytest.mark.parametrize("mode,shape,kw,ac,aa", list(_cases()))
def test_interpolate_matches_torch(mode, shape, kw, ac, aa):
    torch = torch_or_skip()
    assert_matches_torch(lambda t: F.interpolate(t, mode=mode, align_corners=ac, antialias=aa, **kw),
                         lambda t: torch.nn.functional.interpolate(t, mode=mode, align_corners=ac, antialias=aa, **kw),
                         [R.standard_normal(shape)], rtol=1e-12)


def test_nearest_on_an_unchanged_dim_follows_torchs_forward_and_gives_the_true_adjoint():
    # 1-d and 3-d nearest with a scale_factor whose output size equals the input's read floor(i/scale) (torch's
    # forward), but torch's backward copies there as if it were the identity: its gradient is not the adjoint of its
    # forward. Ours is: <A x, g> = <x, Aᵀ g> for every x, g.
    torch = torch_or_skip()
    x = R.standard_normal((1, 1, 3, 4, 5))
    ours = F.interpolate(cr.tensor(x), scale_factor=1.2).numpy()
    np.testing.assert_array_equal(ours, torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.2).numpy())
    a = cr.tensor(x, requires_grad=True)
    y = F.interpolate(a, scale_factor=1.2)
    g = R.standard_normal(y.shape)
    y.backward(cr.tensor(g))
    assert np.isclose((y.detach().numpy() * g).sum(), (x * a.grad.numpy()).sum(), rtol=1e-13)


def test_upsample_modules_match_torch():
    torch = torch_or_skip()
    x = R.standard_normal((2, 3, 4, 5))
    pairs = [(nn.Upsample(scale_factor=2, mode="bilinear"), torch.nn.Upsample(scale_factor=2, mode="bilinear")),
             (nn.Upsample(size=(7, 3), mode="bicubic", align_corners=True),
              torch.nn.Upsample(size=(7, 3), mode="bicubic", align_corners=True)),
             (nn.UpsamplingBilinear2d(scale_factor=3), torch.nn.UpsamplingBilinear2d(scale_factor=3)),
             (nn.UpsamplingNearest2d(size=(6, 9)), torch.nn.UpsamplingNearest2d(size=(6, 9)))]
    for ours, theirs in pairs:
        assert_matches_torch(ours, theirs, [x], rtol=1e-12)
    assert repr(nn.Upsample(scale_factor=2, mode="bilinear")) == "Upsample(scale_factor=2.0, mode='bilinear')"


def test_interpolate_keeps_an_inf_where_it_was_read():
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 0, 0] = np.inf
    y = F.interpolate(cr.tensor(x), size=(12, 12), mode="bilinear").numpy()
    reads = F.interpolate(cr.tensor(np.isinf(x) * 1.0), size=(12, 12), mode="bilinear").numpy() > 0
    np.testing.assert_array_equal(np.isinf(y), reads)   # only the outputs that read the inf pixel, and no NaN
    assert reads.sum() == 9 and not np.isnan(y).any()
    assert np.isfinite(F.interpolate(cr.tensor(x), size=(3, 3), mode="area").numpy()[0, 0, 1:, 1:]).all()


def test_interpolate_trains_a_tiny_decoder_in_float32():
    # a U-Net style upsampling step: the learned 1×1 conv after bilinear upsampling recovers a target made the same way
    cr.manual_seed(0)
    target_conv = nn.Conv2d(2, 1, 1)
    x = cr.randn(4, 2, 5, 5)
    with cr.no_grad():
        target = target_conv(F.interpolate(x, scale_factor=2, mode="bilinear"))
    model = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(2, 1, 1))
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        loss = F.mse_loss(model(x), target)
        loss.backward()
        opt.step()
    assert loss.item() < 1e-4


@pytest.mark.parametrize("call,error,match", [
    (lambda x: F.interpolate(x, scale_factor=2, mode="cubic"), ValueError, "unknown mode 'cubic'"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="linear"), ShapeError, "needs 3-d input"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="trilinear"), ShapeError, "use 'bilinear'"),
    (lambda x: F.interpolate(x, scale_factor=2, align_corners=True), ValueError, "align_corners only applies"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="area", antialias=True), ValueError, "antialias applies"),
    (lambda x: F.interpolate(x), ValueError, "exactly one of size and scale_factor"),
    (lambda x: F.interpolate(x, size=(2, 3, 4)), ShapeError, "has 3 entries for 2 spatial dims"),
    (lambda x: F.interpolate(x, scale_factor=0.1), ShapeError, "must be positive"),
    (lambda x: F.interpolate(x.reshape(6, 4), size=3), ShapeError, "expected \\(N, C, L\\)"),
])
def test_interpolate_errors_name_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call(cr.randn(1, 2, 3, 4))


GRID_CASES = [(d, mode, pad, ac) for d in (2, 3) for mode in ("bilinear", "nearest", "bicubic")
              for pad in ("zeros", "border", "reflection") for ac in (False, True)
              if not (mode == "bicubic" and d == 3)]


@pytest.mark.parametrize("d,mode,pad,ac", GRID_CASES)
def test_grid_sample_matches_torch_for_input_and_grid(d, mode, pad, ac):
    torch = torch_or_skip()
    x = R.standard_normal((2, 3, 5, 6) if d == 2 else (2, 2, 3, 4, 5))
    grid = R.uniform(-1.6, 1.6, (2, 4, 3, 2) if d == 2 else (2, 2, 3, 2, 3))
    assert_matches_torch(lambda a, g: F.grid_sample(a, g, mode, pad, ac),
                         lambda a, g: torch.nn.functional.grid_sample(a, g, mode, pad, ac), [x, grid], rtol=1e-10)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")   # torch's note on unit-size grids: the (1, 1, 1, 3) case
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 3, 4, 5), (1, 1, 1, 3)])
@pytest.mark.parametrize("ac", [False, True])
def test_affine_grid_matches_torch(size, ac):
    torch = torch_or_skip()
    theta = R.standard_normal((size[0], len(size) - 2, len(size) - 1))
    assert_matches_torch(lambda t: F.affine_grid(t, size, ac), lambda t: torch.nn.functional.affine_grid(t, size, ac),
                         [theta], rtol=1e-12)


def test_spatial_transformer_recovers_an_affine_map():
    # affine_grid + grid_sample as a spatial transformer: gradient descent on θ (from the identity) recovers the
    # translation that maps an image onto its shifted copy; two blobs of different shapes pin the rotation too
    yy, xx = np.mgrid[0:16, 0:16] / 15.0
    img = (np.exp(-((xx - 0.4) ** 2 * 30 + (yy - 0.5) ** 2 * 10)) +
           0.7 * np.exp(-((xx - 0.65) ** 2 + (yy - 0.3) ** 2) * 60))[None, None]
    true = np.array([[[1.0, 0.0, 0.25], [0.0, 1.0, -0.1]]])
    target = F.grid_sample(cr.tensor(img), F.affine_grid(cr.tensor(true), img.shape, True), align_corners=True)
    theta = cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], requires_grad=True, dtype=cr.float64)
    opt = cr.optim.Adam([theta], lr=0.01)
    for _ in range(300):
        opt.zero_grad()
        out = F.grid_sample(cr.tensor(img), F.affine_grid(theta, img.shape, True), align_corners=True)
        loss = ((out - target) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-12
    np.testing.assert_allclose(theta.detach().numpy(), true, atol=1e-5)


def test_grid_sample_errors_name_the_problem():
    x = cr.randn(1, 2, 4, 4)
    with pytest.raises(ShapeError, match="grid_sample: input \\(1, 2, 4, 4\\) needs a grid"):
        F.grid_sample(x, cr.randn(1, 3, 3, 3))
    with pytest.raises(ValueError, match="unknown padding_mode 'wrap'"):
        F.grid_sample(x, cr.randn(1, 3, 3, 2), padding_mode="wrap")
    with pytest.raises(ValueError, match="unknown mode 'area'"):
        F.grid_sample(x, cr.randn(1, 3, 3, 2), mode="area")
    with pytest.raises(ShapeError, match="'bicubic' needs 4-d input"):
        F.grid_sample(cr.randn(1, 1, 2, 3, 4), cr.randn(1, 2, 2, 2, 3), mode="bicubic")
    with pytest.raises(ShapeError, match="affine_grid: theta \\(1, 2, 3\\) and size \\(1, 1, 2, 3, 4\\)"):
        F.affine_grid(cr.randn(1, 2, 3), (1, 1, 2, 3, 4))


@pytest.mark.parametrize("output_size", [(2, 3, 4), (5, 2, None), 3, (1, 1, 1)])
def test_adaptive_avg_pool3d_matches_torch(output_size):
    torch = torch_or_skip()
    x = R.standard_normal((2, 3, 5, 7, 6))
    assert_matches_torch(nn.AdaptiveAvgPool3d(output_size), torch.nn.AdaptiveAvgPool3d(output_size), [x], rtol=1e-12)
    assert_matches_torch(lambda t: F.adaptive_avg_pool3d(t, output_size),
                         lambda t: torch.nn.functional.adaptive_avg_pool3d(t, output_size), [x[0]], rtol=1e-12)
    with pytest.raises(ShapeError, match="adaptive_avg_pool3d: expected"):
        F.adaptive_avg_pool3d(cr.randn(2, 3), 2)
    with pytest.raises(ShapeError, match="adaptive_avg_pool3d: output_size \\(1, 1\\) has 2 entries"):
        F.adaptive_avg_pool3d(cr.randn(1, 1, 2, 2, 2), (1, 1))
