"""Stacking, splitting and windowing helpers (ops/stacking.py) against torch: values, and the gradient of every
input for one upstream gradient per output, in float64; plus their named errors."""
import numpy as np
import pytest

import chainrule as cr
from helpers import torch_or_skip

R = np.random.default_rng(0)


def _compare(fn_cr, fn_torch, shapes):
    """fn on fresh inputs of `shapes` in both libraries; outputs may be a tensor or a tuple of tensors."""
    torch = torch_or_skip()
    arrays = [R.standard_normal(s) for s in shapes]
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ya, yb = fn_cr(*ours), fn_torch(*theirs)
    ya, yb = (ya if isinstance(ya, tuple) else (ya,)), (yb if isinstance(yb, tuple) else (yb,))
    assert len(ya) == len(yb)
    total_a, total_b = 0, 0
    for a, b in zip(ya, yb):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-15, atol=1e-15)
        w = R.standard_normal(tuple(b.shape))
        total_a = total_a + (a * cr.tensor(w)).sum()
        total_b = total_b + (b * torch.tensor(w)).sum()
    total_a.backward()
    total_b.backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name,shapes", [("hstack", [(2, 3), (2, 1)]), ("hstack", [(3,), (2,)]),
                                         ("vstack", [(3,), (2, 3)]), ("dstack", [(2, 3), (2, 3, 2)]),
                                         ("column_stack", [(3,), (3, 2), ()]), ("row_stack", [(4,), (1, 4)])])
def test_stacking_matches_torch(name, shapes):
    torch = torch_or_skip()
    if name == "column_stack":   # torch's column_stack needs equal lengths; a 0-d tensor is a (1, 1) column
        shapes = [(1,), (1, 2), ()]
    _compare(lambda *xs: getattr(cr, name)(list(xs)), lambda *xs: getattr(torch, name)(list(xs)), shapes)


@pytest.mark.parametrize("fn", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast_matches_torch(fn):
    torch = torch_or_skip()
    for shape in [(), (3,), (2, 3), (2, 3, 4)]:
        _compare(getattr(cr, fn), getattr(torch, fn), [shape])
    _compare(lambda a, b: getattr(cr, fn)(a, b), lambda a, b: getattr(torch, fn)(a, b), [(), (2,)])


@pytest.mark.parametrize("spec,dim", [(3, 0), (4, 1), ([1, 4], 1), ([2, -1, 9], 1), ([], 0)])
def test_tensor_split_matches_torch(spec, dim):
    torch = torch_or_skip()
    _compare(lambda x: cr.tensor_split(x, spec, dim), lambda x: torch.tensor_split(x, spec, dim), [(5, 7)])


def test_direction_splits_and_split_with_sizes_match_torch():
    torch = torch_or_skip()
    for name, shape, spec in [("hsplit", (4, 6), 3), ("hsplit", (6,), [2]), ("vsplit", (4, 2), [1, 3]),
                              ("dsplit", (2, 2, 4), 2)]:
        _compare(lambda x: getattr(cr, name)(x, spec), lambda x: getattr(torch, name)(x, spec), [shape])
    _compare(lambda x: x.split_with_sizes([2, 3], 1), lambda x: x.split_with_sizes([2, 3], 1), [(2, 5)])
    with pytest.raises(cr.ShapeError, match="hsplit: dim 1 of size 5 does not split into 2 equal sections"):
        cr.hsplit(cr.zeros(2, 5), 2)
    with pytest.raises(cr.ShapeError, match="dsplit: needs a tensor with at least 3 dims"):
        cr.dsplit(cr.zeros(2, 5), 1)


def test_broadcast_tensors_and_shapes_match_torch():
    torch = torch_or_skip()
    _compare(cr.broadcast_tensors, torch.broadcast_tensors, [(3, 1), (4,), ()])
    assert cr.broadcast_shapes((2, 1), (3,), 1) == tuple(torch.broadcast_shapes((2, 1), (3,), 1))
    with pytest.raises(cr.ShapeError, match=r"broadcast_shapes: shapes \[\(2,\), \(3,\)\] do not broadcast"):
        cr.broadcast_shapes((2,), (3,))


@pytest.mark.parametrize("shape,args", [((7,), (0, 3, 2)), ((2, 5, 3), (1, 2, 1)), ((4, 6), (-1, 6, 1)),
                                        ((3, 8), (1, 3, 3)), ((), (0, 1, 1))])
def test_tensor_unfold_matches_torch(shape, args):
    _compare(lambda x: x.unfold(*args), lambda x: x.unfold(*args), [shape])


def test_picking_helpers_match_torch():
    torch = torch_or_skip()
    idx = np.array([[0, -1], [5, 2]])
    _compare(lambda x: cr.take(x, cr.tensor(idx)), lambda x: torch.take(x, torch.tensor(idx)), [(2, 3)])
    _compare(cr.fliplr, torch.fliplr, [(2, 3, 2)])
    _compare(cr.flipud, torch.flipud, [(3, 2)])
    _compare(lambda x: cr.diagflat(x, -1), lambda x: torch.diagflat(x, -1), [(2, 2)])
    _compare(lambda x: x.t(), lambda x: x.t(), [(2, 3)])
    _compare(lambda x: cr.t(x), lambda x: torch.t(x), [(3,)])
    _compare(lambda x: x.sum_to_size(1, 3), lambda x: x.sum_to_size(1, 3), [(4, 3)])
    _compare(lambda x: x.sum_to_size(3), lambda x: x.sum_to_size(3), [(2, 4, 3)])
    _compare(lambda x: x.swapdims(0, 2), lambda x: x.swapdims(0, 2), [(2, 3, 4)])
    for r, rep in [(2, False), (3, False), (2, True)]:
        _compare(lambda x: cr.combinations(x, r, rep), lambda x: torch.combinations(x, r, rep), [(4,)])
    x = R.standard_normal(3)
    for n, inc in [(None, False), (5, True), (2, False), (0, False)]:   # values only: torch's vander backward fails
        np.testing.assert_allclose(cr.vander(cr.tensor(x), n, inc).numpy(),    # (an in-place cumprod); the registry
                                   torch.vander(torch.tensor(x), n, inc).numpy(), rtol=1e-15)   # gradchecks ours
    with pytest.raises(IndexError, match="take: index out of range for a tensor of 6 elements"):
        cr.take(cr.zeros(2, 3), cr.tensor([6]))
    with pytest.raises(cr.ShapeError, match="t: expects a tensor with at most 2 dims"):
        cr.zeros(2, 2, 2).t()
    with pytest.raises(cr.ShapeError, match="unfold: windows of size 4 with step 1 do not fit dim 0 of length 3"):
        cr.zeros(3).unfold(0, 4, 1)
    with pytest.raises(cr.ShapeError, match=r"sum_to_size: size \(2,\) is not expandable"):
        cr.zeros(3).sum_to_size(2)
