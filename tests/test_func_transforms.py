"""torch.func-style transforms (jacrev, jacfwd, hessian, vjp, jvp, vmap, functional_call) and
autograd.functional's jvp / vjp / hvp / vhp: against torch where it is importable, and against closed forms and
finite differences without it."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule import func
from chainrule.autograd import functional as AF


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def f_cr(x, y):
    return (x.sin() * y[:3]).sum() * x[0] + (y ** 2).sum()


def f_t(x, y):
    return (x.sin() * y[:3]).sum() * x[0] + (y ** 2).sum()


def vec_cr(x):
    return x.sin() * x[1] + x.exp()[:2].sum()


RNG = np.random.default_rng(0)
X, Y, V = RNG.standard_normal(3), RNG.standard_normal(4), RNG.standard_normal(3)


def test_hvp_vhp_jvp_vjp_closed_forms():
    # f(x) = ½ xᵀAx has Hessian (A + Aᵀ)/2·2 = A + Aᵀ; g(x) = Bx has Jacobian B
    A, B = RNG.standard_normal((3, 3)), RNG.standard_normal((2, 3))
    fa = lambda x: 0.5 * (x @ cr.tensor(A) @ x)  # noqa: E731
    H = 0.5 * (A + A.T)
    for fn in (AF.hvp, AF.vhp):
        val, prod = fn(fa, cr.tensor(X), cr.tensor(V))
        np.testing.assert_allclose(val.item(), 0.5 * X @ A @ X, rtol=1e-12)
        np.testing.assert_allclose(prod.numpy(), H @ V, rtol=1e-12)
    g = lambda x: cr.tensor(B) @ x  # noqa: E731
    np.testing.assert_allclose(AF.jvp(g, cr.tensor(X), cr.tensor(V))[1].numpy(), B @ V, rtol=1e-12)
    u = RNG.standard_normal(2)
    np.testing.assert_allclose(AF.vjp(g, cr.tensor(X), cr.tensor(u))[1].numpy(), u @ B, rtol=1e-12)
    np.testing.assert_allclose(func.jvp(g, (cr.tensor(X),), (cr.tensor(V),))[1].numpy(), B @ V, rtol=1e-12)
    out, vjp_fn = func.vjp(g, cr.tensor(X))
    np.testing.assert_allclose(vjp_fn(cr.tensor(u))[0].numpy(), u @ B, rtol=1e-12)
    np.testing.assert_allclose(func.jacrev(g)(cr.tensor(X)).numpy(), B, rtol=1e-12)
    np.testing.assert_allclose(func.hessian(fa)(cr.tensor(X)).numpy(), H, rtol=1e-12)


def test_autograd_functional_matches_torch():
    torch = _torch()
    cx, cy, cv = cr.tensor(X), cr.tensor(Y), cr.tensor(V)
    tx, ty, tv = torch.tensor(X), torch.tensor(Y), torch.tensor(V)
    ours = AF.hvp(f_cr, (cx, cy), (cv, cr.tensor(Y)))[1]
    theirs = torch.autograd.functional.hvp(f_t, (tx, ty), (tv, torch.tensor(Y)))[1]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    ours = AF.vhp(lambda x: f_cr(x, cy), cx, cv)[1]
    theirs = torch.autograd.functional.vhp(lambda x: f_t(x, ty), tx, tv)[1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    np.testing.assert_allclose(AF.jvp(vec_cr, cx, cv)[1].numpy(),
                               torch.autograd.functional.jvp(vec_cr, tx, tv)[1].numpy(), rtol=1e-10)
    np.testing.assert_allclose(AF.jacobian(vec_cr, cx, vectorize=True).numpy(),
                               torch.autograd.functional.jacobian(vec_cr, tx, vectorize=True).numpy(), rtol=1e-10)


def test_func_transforms_match_torch():
    torch = _torch()
    cx, cy = cr.tensor(X), cr.tensor(Y)
    tx, ty = torch.tensor(X), torch.tensor(Y)
    for ours, theirs in [(func.jacrev(vec_cr)(cx), torch.func.jacrev(vec_cr)(tx)),
                         (func.jacfwd(vec_cr)(cx), torch.func.jacfwd(vec_cr)(tx)),
                         (func.hessian(f_cr)(cx, cy), torch.func.hessian(f_t)(tx, ty))]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    ours = func.hessian(f_cr, argnums=(0, 1))(cx, cy)
    theirs = torch.func.hessian(f_t, argnums=(0, 1))(tx, ty)
    for row_a, row_b in zip(ours, theirs):
        for a, b in zip(row_a, row_b):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-14)
    ours = func.jacrev(f_cr, argnums=1)(cx, cy)
    np.testing.assert_allclose(ours.numpy(), torch.func.jacrev(f_t, argnums=1)(tx, ty).numpy(), rtol=1e-10)


def test_vmap_matches_torch_and_differentiates():
    torch = _torch()
    W = RNG.standard_normal((4, 3))
    xs = RNG.standard_normal((5, 3))

    def per_sample(w, x):
        return (w @ x).tanh().sum()
    ours = func.vmap(func.grad(per_sample), in_dims=(None, 0))(cr.tensor(W), cr.tensor(xs))   # per-sample grads
    theirs = torch.func.vmap(torch.func.grad(per_sample), in_dims=(None, 0))(torch.tensor(W), torch.tensor(xs))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    ours = func.vmap(lambda a, b: (a * b, a.sum()), in_dims=(1, 0), out_dims=(1, 0))(cr.tensor(xs.T), cr.tensor(xs))
    theirs = torch.func.vmap(lambda a, b: (a * b, a.sum()), in_dims=(1, 0), out_dims=(1, 0))(torch.tensor(xs.T),
                                                                                          torch.tensor(xs))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    w = cr.tensor(W, requires_grad=True)
    func.vmap(per_sample, in_dims=(None, 0))(w, cr.tensor(xs)).sum().backward()
    expected = sum(func.grad(per_sample)(cr.tensor(W), cr.tensor(x)).numpy() for x in xs)
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)


def test_functional_call_swaps_parameters_for_one_call():
    cr.manual_seed(0)
    lin = nn.Linear(3, 2)
    before = lin.weight.detach().numpy().copy()
    w = cr.tensor(np.ones((2, 3)), dtype=cr.float32, requires_grad=True)
    out = func.functional_call(lin, {"weight": w}, (cr.ones(1, 3),))
    np.testing.assert_allclose(out.detach().numpy(), 3 + lin.bias.detach().numpy()[None], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(lin.weight.detach().numpy(), before)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.grad is None
    seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
    params = {k: v.detach() * 0 for k, v in seq.named_parameters()}
    assert func.functional_call(seq, params, cr.ones(2, 3)).abs().sum().item() == 0
    with pytest.raises(KeyError, match=r"functional_call: unexpected names \['0.wieght'\]"):
        func.functional_call(seq, {"0.wieght": cr.ones(3, 3)}, cr.ones(2, 3))


def test_named_errors():
    with pytest.raises(ValueError, match=r"vmap: the mapped dims must all have one size, got sizes \[2, 3\]"):
        func.vmap(lambda a, b: a + b)(cr.ones(2, 4), cr.ones(3, 4))
    with pytest.raises(ValueError, match="jvp: got 1 primals but 2 tangents"):
        func.jvp(lambda x: x, (cr.ones(2),), (cr.ones(2), cr.ones(2)))
    with pytest.raises(RuntimeError, match=r"jvp: v has shape \(3,\) but the input it pairs with has shape \(2,\)"):
        AF.jvp(lambda x: x * 2, cr.ones(2), cr.ones(3))
    with pytest.raises(cr.BackwardError, match="hvp: the function must return a single-element tensor"):
        AF.hvp(lambda x: x * 2, cr.ones(2), cr.ones(2))
    with pytest.raises(ValueError, match="jacobian: strategy must be"):
        AF.jacobian(lambda x: x, cr.ones(2), strategy="sideways")


def test_jvp_takes_torchs_has_aux_strict_and_tuple_outputs():
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    x, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])

    def f(a):   # two outputs and an aux value, written once for both libraries
        return ((a.sin() * a).sum(), a.exp()), a * 2
    out_c, tan_c, aux_c = cr.func.jvp(f, (cr.tensor(x),), (cr.tensor(v),), has_aux=True)
    out_t, tan_t, aux_t = torch.func.jvp(f, (torch.tensor(x),), (torch.tensor(v),), has_aux=True)
    np.testing.assert_allclose(aux_c.numpy(), aux_t.numpy())
    for a, b in zip(out_c + tan_c, out_t + tan_t):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="independent of the inputs"):
        cr.func.jvp(lambda a: cr.ones(3), (cr.tensor(x),), (cr.tensor(v),), strict=True)
    _, zero = cr.func.jvp(lambda a: cr.ones(3), (cr.tensor(x),), (cr.tensor(v),))
    assert np.all(zero.numpy() == 0)


def test_per_sample_gradients_with_pytrees_as_torch():
    """torch's per-sample-gradient recipe: vmap(grad(loss), in_dims=(None, 0, 0)) over a dict of parameters with
    functional_call; func.grad takes and returns dicts / tuples of tensors (pytrees), vjp too."""
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 3, 8)
    grads = []
    for lib in (cr, torch):
        model = lib.nn.Sequential(lib.nn.Linear(5, 4), lib.nn.Tanh(), lib.nn.Linear(4, 3))
        with lib.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(lib.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape)).astype(np.float32)))
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, xi, yi, lib=lib, model=model):
            out = lib.func.functional_call(model, params, (xi.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, yi.unsqueeze(0))
        per_sample = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, lib.tensor(x), lib.tensor(y))
        grads.append({k: v.detach().numpy() for k, v in per_sample.items()})
    assert list(grads[0]) == list(grads[1])
    for k in grads[0]:
        assert grads[0][k].shape == (8,) + grads[1][k].shape[1:]
        np.testing.assert_allclose(grads[0][k], grads[1][k], rtol=1e-5, atol=1e-6)
    # a tuple pytree, and vjp's cotangents in the primals' structure
    g = cr.func.grad(lambda pair: (pair[0] * pair[1]).sum())((cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])))
    assert isinstance(g, tuple) and g[0].tolist() == [3.0, 4.0] and g[1].tolist() == [1.0, 2.0]
    _, vjp_fn = cr.func.vjp(lambda d: d["a"] * 2 + d["b"], {"a": cr.ones(2), "b": cr.ones(2)})
    (cot,) = vjp_fn(cr.tensor([1.0, -1.0]))
    assert cot["a"].tolist() == [2.0, -2.0] and cot["b"].tolist() == [1.0, -1.0]


def test_jacrev_over_a_dict_of_parameters_as_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    jacobians = []
    for lib in (cr, torch):
        model = lib.nn.Linear(5, 2)
        params = {k: lib.tensor(np.random.default_rng(i).standard_normal(tuple(v.shape)).astype(np.float32))
                  for i, (k, v) in enumerate(model.named_parameters())}
        jac = lib.func.jacrev(lambda p, xs: lib.func.functional_call(model, p, (xs,)).tanh())(params, lib.tensor(x))
        jacobians.append({k: v.detach().numpy() for k, v in jac.items()})
    for k in jacobians[1]:
        np.testing.assert_allclose(jacobians[0][k], jacobians[1][k], rtol=1e-5, atol=1e-6)


def test_batch_norm_without_running_stats_and_the_identity_transforms():
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    outs = []
    for lib in (cr, torch):
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        with lib.no_grad():
            model[0].weight.copy_(lib.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3) / 10))
            model[0].bias.zero_()
        assert lib.func.replace_all_batch_norm_modules_(model) is model
        assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
        model.eval()   # still batch statistics: there are no running ones
        outs.append(model(lib.tensor(x)).detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)
    f = cr.func.functionalize(lambda t: t.clone().add_(1.0) * 2)
    assert f(cr.ones(2)).tolist() == [4.0, 4.0]
    t = cr.ones(2)
    assert cr.func.debug_unwrap(t) is t


def test_vmap_randomness_error_refuses_random_ops_and_recovers():
    draw = lambda x: x + cr.randn(3)   # noqa: E731
    with pytest.raises(RuntimeError, match=r"vmap: a random op ran inside vmap\(\.\.\., randomness='error'\)"):
        func.vmap(draw)(cr.ones(2, 3))
    assert cr.randn(2).shape == (2,)                     # random ops work again once vmap has left
    assert func.vmap(draw, randomness="different")(cr.zeros(2, 3)).shape == (2, 3)
    assert func.vmap(lambda x: x * 2)(cr.ones(2, 3)).tolist() == [[2.0] * 3] * 2
