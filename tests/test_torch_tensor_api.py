"""Tensor API beyond the ops: integer dtypes and their promotion, layout queries (stride, storage_offset, …),
dtype predicates, the random state and in-place random fills, and register_post_accumulate_grad_hook. Compared
with torch where it is importable."""
import itertools

import numpy as np
import pytest

import chainrule as cr
from helpers import torch_or_skip

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_promotion_of_every_dtype_pair_matches_torch():
    torch = torch_or_skip()
    for a, b in itertools.product(DTYPES, DTYPES):
        ta, tb = torch.ones(2, dtype=getattr(torch, a)), torch.ones(2, dtype=getattr(torch, b))
        ca, cb = cr.ones(2, dtype=getattr(cr, a)), cr.ones(2, dtype=getattr(cr, b))
        for op in ("add", "mul", "div", "maximum", "eq"):
            assert str(getattr(cr, op)(ca, cb).dtype) == str(getattr(torch, op)(ta, tb).dtype).replace("torch.", ""), \
                (a, b, op)
        assert str(cr.promote_types(getattr(cr, a), getattr(cr, b))) == \
            str(torch.promote_types(getattr(torch, a), getattr(torch, b))).replace("torch.", "")
        assert cr.can_cast(getattr(cr, a), getattr(cr, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b))
    for name in DTYPES[1:]:
        t, c = torch.ones(2, dtype=getattr(torch, name)), cr.ones(2, dtype=getattr(cr, name))
        for scalar in (2, 2.5):
            assert str((c * scalar).dtype) == str((t * scalar).dtype).replace("torch.", ""), (name, scalar)
            assert str(cr.result_type(c, scalar)) == str(torch.result_type(t, scalar)).replace("torch.", "")


def test_integer_casts_and_reductions_match_torch():
    torch = torch_or_skip()
    x = np.array([1.7, -2.5, 300.0, -129.0])
    for method in ("int", "short", "char", "long"):
        np.testing.assert_array_equal(getattr(cr.tensor(x), method)().numpy(), getattr(torch.tensor(x), method)().numpy())
    np.testing.assert_array_equal(cr.tensor([300, 7]).byte().numpy(), torch.tensor([300, 7]).byte().numpy())
    i32 = np.arange(6, dtype=np.int32)
    assert cr.from_numpy(i32).dtype == cr.int32 and cr.tensor(i32).dtype == cr.int32   # ints keep their width
    assert str(cr.from_numpy(i32).sum().dtype) == str(torch.from_numpy(i32).sum().dtype).replace("torch.", "")
    assert str(cr.from_numpy(i32).cumsum(0).dtype) == str(torch.from_numpy(i32).cumsum(0).dtype).replace("torch.", "")
    assert repr(cr.tensor([1, 2], dtype=cr.uint8)) == "tensor([1, 2], dtype=chainrule.uint8)"
    assert cr.int is cr.int32 and cr.short is cr.int16


def test_integer_tensors_index_embed_and_round_trip(tmp_path):
    idx = cr.tensor([2, 0], dtype=cr.int32)
    x = cr.arange(5.0)
    np.testing.assert_array_equal(x[idx].numpy(), [2.0, 0.0])
    emb = cr.nn.Embedding(4, 3)
    assert emb(idx).shape == (2, 3)
    logits = cr.randn(2, 4)
    loss = cr.nn.functional.cross_entropy(logits, idx)
    np.testing.assert_allclose(loss.item(), cr.nn.functional.cross_entropy(logits, idx.long()).item())
    state = {"u8": cr.tensor([0, 255], dtype=cr.uint8), "i16": cr.tensor([-3, 4], dtype=cr.int16),
             "i8": cr.tensor([-128], dtype=cr.int8), "i32": idx}
    cr.save(state, tmp_path / "ints.safetensors")
    back = cr.load(tmp_path / "ints.safetensors")
    for k, v in state.items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())


def test_layout_queries_match_torch():
    torch = torch_or_skip()
    base = np.arange(60.0).reshape(3, 4, 5)
    c, t = cr.tensor(base), torch.tensor(base)
    views = [lambda a: a, lambda a: a.transpose(0, 2), lambda a: a[1:, ::2, 3:], lambda a: a[2],
             lambda a: a.permute(1, 2, 0), lambda a: a[:, 1].unsqueeze(0).expand(2, 3, 5)]
    for view in views:
        vc, vt = view(c), view(t)
        assert vc.stride() == vt.stride()
        assert [vc.stride(d) for d in range(vc.ndim)] == [vt.stride(d) for d in range(vt.ndim)]
        assert vc.storage_offset() == vt.storage_offset()
        assert vc.is_contiguous() == vt.is_contiguous()
        assert vc.contiguous().is_contiguous() and vc.contiguous().stride() == vt.contiguous().stride()
    assert (c.element_size(), c.nbytes, c.itemsize, c.ndimension(), c.nelement()) == \
           (t.element_size(), t.nbytes, t.itemsize, t.ndimension(), t.nelement())
    assert c.is_cpu and c.get_device() == -1
    assert c.data_ptr() == c[0].data_ptr() and c.data_ptr() != c[1].data_ptr()


def test_predicates_and_constants_match_torch():
    torch = torch_or_skip()
    for name in DTYPES:
        c, t = cr.ones(1, dtype=getattr(cr, name)), torch.ones(1, dtype=getattr(torch, name))
        assert cr.is_floating_point(c) == torch.is_floating_point(t) == c.is_floating_point()
        assert c.is_signed() == t.is_signed()
        assert not cr.is_complex(c)
    assert cr.is_nonzero(cr.tensor([1.5])) and not cr.is_nonzero(cr.tensor(0))
    with pytest.raises(RuntimeError, match="is_nonzero: a tensor with 2 elements"):
        cr.is_nonzero(cr.tensor([1, 2]))
    assert (cr.pi, cr.e, cr.inf) == (torch.pi, torch.e, torch.inf) and np.isnan(cr.nan)
    x = cr.randn(2, 3)
    assert x.H.shape == (3, 2) and x.mH.shape == (3, 2) and x.conj() is x
    np.testing.assert_array_equal(x.greater(0).numpy(), (x > 0).numpy())


def test_rng_state_rewinds_and_generators_have_their_own():
    cr.manual_seed(5)
    assert cr.initial_seed() == 5
    state = cr.get_rng_state()
    assert state.dtype == cr.uint8
    a = cr.randn(4)
    cr.set_rng_state(state)
    np.testing.assert_array_equal(cr.randn(4).numpy(), a.numpy())
    g = cr.Generator().manual_seed(3)
    saved = g.get_state()
    first = cr.rand(3, generator=g)
    g.set_state(saved)
    np.testing.assert_array_equal(cr.rand(3, generator=g).numpy(), first.numpy())
    assert g.initial_seed() == 3
    with pytest.raises(ValueError, match="set_rng_state: not a state from get_rng_state"):
        cr.set_rng_state(cr.tensor([1, 2, 3], dtype=cr.uint8))


def test_random_fills_draw_from_their_distributions():
    cr.manual_seed(0)
    n = 200_000
    e = cr.empty(n, dtype=cr.float64).exponential_(4.0).numpy()
    assert abs(e.mean() - 0.25) < 0.005 and e.min() >= 0
    g = cr.empty(n, dtype=cr.float64).geometric_(0.25).numpy()
    assert abs(g.mean() - 4.0) < 0.05 and g.min() == 1
    ln = cr.empty(n, dtype=cr.float64).log_normal_(0.0, 0.5).numpy()
    assert abs(np.log(ln).std() - 0.5) < 0.005
    r = cr.empty(n, dtype=cr.int64).random_(3, 7).numpy()
    assert set(np.unique(r)) == {3, 4, 5, 6}
    b = cr.empty(n).bernoulli_(0.3).numpy()
    assert abs(b.mean() - 0.3) < 0.005 and set(np.unique(b)) == {0.0, 1.0}
    c = cr.empty(n, dtype=cr.float64).cauchy_(1.0, 2.0).numpy()
    assert abs(np.median(c) - 1.0) < 0.05
    u8 = cr.empty(1000, dtype=cr.uint8).random_().numpy()
    assert u8.max() > 200
    x = cr.tensor([1.0, 2.0, 3.0]).apply_(lambda v: v * v)
    np.testing.assert_array_equal(x.numpy(), [1.0, 4.0, 9.0])
    x.map_(cr.tensor([1.0]), lambda a, b: a - b)
    np.testing.assert_array_equal(x.numpy(), [0.0, 3.0, 8.0])
    with pytest.raises(ValueError, match="exponential_: lambd must be > 0"):
        cr.empty(2).exponential_(0.0)
    with pytest.raises(ValueError, match="bernoulli_: p must be in"):
        cr.empty(2).bernoulli_(1.5)


def test_post_accumulate_grad_hook_runs_an_optimizer_in_backward():
    """torch's pattern for stepping each parameter as soon as its gradient is complete."""
    torch = torch_or_skip()
    model_c = cr.nn.Linear(3, 2).double()
    model_t = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        for p, q in zip(model_t.parameters(), model_c.parameters()):
            p.copy_(torch.tensor(q.detach().numpy()))
    for model, lib in ((model_c, cr), (model_t, torch)):
        opts = {p: lib.optim.SGD([p], lr=0.1) for p in model.parameters()}

        def step(p, opts=opts):
            opts[p].step()
            opts[p].zero_grad()
        for p in model.parameters():
            p.register_post_accumulate_grad_hook(step)
    x = np.random.default_rng(0).standard_normal((5, 3))
    for _ in range(3):
        model_c(cr.tensor(x)).pow(2).sum().backward()
        model_t(torch.tensor(x)).pow(2).sum().backward()
    for p, q in zip(model_c.parameters(), model_t.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)
        assert p.grad is None and q.grad is None
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        (cr.randn(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)


def test_format_spec_on_a_scalar_tensor():
    loss = cr.tensor(3.14159, requires_grad=True) * 1
    assert f"{loss:.4f}" == "3.1416" and f"{cr.tensor(7):03d}" == "007" and f"{cr.ones(2)}" == "tensor([1., 1.])"
    with pytest.raises(TypeError):
        f"{cr.ones(2):.2f}"   # as torch: only a 0-d tensor takes a format spec


def test_assigning_grad_checks_it_as_torch():
    """p.grad = g with a wrong shape broadcast silently in the optimizer step; torch refuses it at the assignment."""
    p = cr.zeros(2, 3, requires_grad=True)
    with pytest.raises(cr.errors.ShapeError, match=r"\.grad: assigned a gradient of shape \(3,\) to a tensor of "
                                                   r"shape \(2, 3\)"):
        p.grad = cr.ones(3)
    with pytest.raises(cr.errors.DTypeError, match=r"\.grad: assigned a gradient of dtype .*float64.*g.to\(float32\)"):
        p.grad = cr.ones(2, 3, dtype=cr.float64)
    with pytest.raises(TypeError, match=r"\.grad: assigned ndarray"):
        p.grad = np.ones((2, 3))
    p.grad = cr.ones(2, 3)
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.full((2, 3), 3.0))   # accumulates into the assigned one
    p.grad = None
    assert p.grad is None
    torch = torch_or_skip()
    tp = torch.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError):
        tp.grad = torch.ones(3)


def test_comparing_with_none_is_false_as_torch():
    t = cr.tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True   # noqa: E711  (the comparison under test)
    assert t in [None, t] and (t == "a") is False
    np.testing.assert_array_equal((t == 1.0).numpy(), [True, False])
