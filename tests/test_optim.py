"""Update rules against their formulas, on parameters large enough for the blocked (cache-sized) Adam path."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.optim import rules


def _reference_adam(w, grads, lr, b1, b2, eps, wd, decoupled, amsgrad):
    """torch.optim.Adam/AdamW's documented algorithm, written out in float64."""
    m, v, vmax = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        if wd and decoupled:
            w = w * (1 - lr * wd)
        elif wd:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = vmax if amsgrad else v
        w = w - lr / (1 - b1 ** t) * m / (np.sqrt(vhat) / math.sqrt(1 - b2 ** t) + eps)
    return w


@pytest.mark.parametrize("kind", ["adam", "adamw", "amsgrad_wd", "transposed"])
def test_adam_on_blocked_parameters_matches_the_formula(kind):
    rng = np.random.default_rng(0)
    shape = (3 * rules.ADAM_BLOCK // 256 + 7, 256)          # more than two blocks, and a ragged last block
    w0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(4)]
    p = cr.tensor(w0.copy(), dtype=cr.float64, requires_grad=True)
    if kind == "transposed":   # a parameter that is not C-contiguous takes the whole-array path
        p._data = np.asfortranarray(w0)
        assert not p._data.flags.c_contiguous
    opt, wd, decoupled, amsgrad = {
        "adam": (cr.optim.Adam([p], lr=0.01), 0.0, False, False),
        "adamw": (cr.optim.AdamW([p], lr=0.01, weight_decay=0.1), 0.1, True, False),
        "amsgrad_wd": (cr.optim.Adam([p], lr=0.01, weight_decay=0.05, amsgrad=True), 0.05, False, True),
        "transposed": (cr.optim.Adam([p], lr=0.01), 0.0, False, False),
    }[kind]
    for g in grads:
        p.grad = cr.tensor(g, dtype=cr.float64)
        opt.step()
    want = _reference_adam(w0, grads, 0.01, 0.9, 0.999, 1e-8, wd, decoupled, amsgrad)
    np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-12, atol=1e-14)


def test_blocked_and_whole_array_adam_agree_bit_for_bit(monkeypatch):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(5 * rules.ADAM_BLOCK + 3).astype(np.float32)
    grads = [rng.standard_normal(w0.shape).astype(np.float32) for _ in range(3)]

    def run():
        p = cr.tensor(w0.copy(), requires_grad=True)
        opt = cr.optim.Adam([p], lr=1e-3)
        for g in grads:
            p.grad = cr.tensor(g)
            opt.step()
        return p.detach().numpy().copy(), opt.state[p]["exp_avg_sq"].copy()
    blocked = run()
    monkeypatch.setattr(rules, "ADAM_BLOCK", 1 << 30)
    whole = run()
    for a, b in zip(blocked, whole):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [lambda ps: cr.optim.Adam(ps, lr=1e-3), lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: cr.optim.RMSprop(ps, lr=1e-3, momentum=0.5, centered=True)],
                         ids=["adam", "sgd_momentum", "rmsprop"])
def test_state_of_a_dead_unit_is_flushed_from_subnormal_to_zero(make, monkeypatch):
    """A parameter whose gradient stays zero (a dead ReLU unit) sees its moments decay into the subnormal range,
    where arithmetic is slow; every FLUSH_EVERY steps they are set to zero, and normal values are left alone."""
    from chainrule.optim import optimizer
    tiny = np.finfo(np.float32).tiny

    def run(flush_every):
        monkeypatch.setattr(optimizer, "FLUSH_EVERY", flush_every)
        p = cr.tensor(np.ones(4, np.float32), requires_grad=True)
        opt = make([p])
        p.grad = cr.tensor(np.ones(4, np.float32))
        opt.step()
        arrays = [v for v in opt.state[p].values() if isinstance(v, np.ndarray)]
        for a in arrays:
            a[:2] = tiny / 8        # subnormal, as a dead unit's moments become after ~650 steps
        p.grad = cr.tensor(np.zeros(4, np.float32))
        for _ in range(31):
            opt.step()
        return p.detach().numpy().copy(), arrays
    w_flushed, flushed = run(32)
    w_plain, plain = run(10 ** 9)
    assert any(np.any((a[:2] != 0) & (np.abs(a[:2]) < tiny)) for a in plain)   # without the flush: subnormal
    for a, b in zip(flushed, plain):
        assert np.all(a[:2] == 0), a
        np.testing.assert_array_equal(a[2:], b[2:])                     # normal values are not touched
    np.testing.assert_array_equal(w_flushed[2:], w_plain[2:])


def test_torch_kernel_switches_are_accepted_and_unknown_keywords_named():
    """foreach / fused / capturable pick a kernel in torch and change no number: a torch script passing them runs."""
    import chainrule.nn as nn
    params = list(nn.Linear(2, 2).parameters())
    for cls in (cr.optim.SGD, cr.optim.Adam, cr.optim.AdamW, cr.optim.RMSprop, cr.optim.Adagrad, cr.optim.Adamax,
                cr.optim.NAdam, cr.optim.RAdam):
        cls(params, lr=0.01, foreach=False, fused=None, capturable=False, differentiable=False)
        with pytest.raises(TypeError, match=f"{cls.__name__}\\(\\) got an unexpected keyword argument 'lrate'"):
            cls(params, lrate=0.01)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        cr.optim.SGD(params, lr=0.1, differentiable=True)


def test_adam_with_decoupled_weight_decay_is_adamw():
    w0 = np.random.default_rng(0).standard_normal((3, 2))
    runs = []
    for make in (lambda p: cr.optim.Adam(p, lr=0.1, weight_decay=0.3, decoupled_weight_decay=True),
                 lambda p: cr.optim.AdamW(p, lr=0.1, weight_decay=0.3)):
        w = cr.tensor(w0, requires_grad=True)
        opt = make([w])
        for _ in range(5):
            opt.zero_grad()
            ((w ** 3).sum()).backward()
            opt.step()
        runs.append(w.detach().numpy())
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12)


def test_optimizer_hooks_as_torch():
    """Step pre/post hooks (per optimizer and global; a pre hook may replace the arguments), state-dict hooks, and
    the hooks reaching a user's own Optimizer subclass."""
    from chainrule.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
    w = cr.nn.Parameter(cr.ones(2))
    opt = cr.optim.SGD([w], lr=0.1)
    log = []
    opt.register_step_pre_hook(lambda o, args, kwargs: log.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: log.append("post"))
    handle = register_optimizer_step_pre_hook(lambda o, args, kwargs: log.append("global pre"))
    try:
        w.grad = cr.ones(2)
        opt.step()
    finally:
        handle.remove()
    assert log == ["global pre", "pre", "post"]
    np.testing.assert_allclose(w.detach().numpy(), 0.9)
    handle = register_optimizer_step_post_hook(lambda o, args, kwargs: log.append(type(o).__name__))

    class Halving(cr.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.5})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.detach().mul_(group["lr"])
    try:
        Halving([w]).step()
    finally:
        handle.remove()
    assert log[-1] == "Halving" and np.allclose(w.detach().numpy(), 0.45)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "note": "kept"})
    state = opt.state_dict()
    assert state["note"] == "kept"
    seen = []
    opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "note"})
    opt.register_load_state_dict_post_hook(lambda o: seen.append(True))
    opt.load_state_dict(state)
    assert seen == [True]
    with pytest.raises(RuntimeError, match="pre-hook must return None or a tuple"):
        opt.register_step_pre_hook(lambda o, args, kwargs: 5)
        opt.step()


def test_muon_orthogonalises_its_update_and_tracks_torch():
    """Newton-Schulz gives ≈ U Vᵀ (singular values near 1, the singular vectors of G); ten Muon steps follow
    torch's to within its bfloat16 iteration (chainrule iterates in the parameter's dtype)."""
    from chainrule.optim.muon import zeropower_via_newtonschulz
    rng = np.random.default_rng(0)
    for shape in [(6, 4), (4, 6), (32, 64)]:
        g = rng.standard_normal(shape)
        x = zeropower_via_newtonschulz(g, (3.4445, -4.775, 2.0315), 5, 1e-7)
        s = np.linalg.svd(x, compute_uv=False)
        assert 0.6 < s.min() and s.max() < 1.2
        u, _, vt = np.linalg.svd(g, full_matrices=False)
        assert np.linalg.norm(x - u @ vt) < 0.3 * np.linalg.norm(u @ vt)
    with pytest.raises(ValueError, match="only supports 2D parameters"):
        cr.optim.Muon([cr.nn.Parameter(cr.zeros(3))])
    torch = pytest.importorskip("torch", reason="torch is the oracle here")
    w0, x, y = rng.standard_normal((6, 4)) * 0.5, rng.standard_normal((10, 4)), rng.standard_normal((10, 6))
    for kwargs in ({}, {"nesterov": False, "adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.0}):
        finals = []
        for lib in (cr, torch):
            w = lib.nn.Parameter(lib.tensor(w0.astype(np.float32)))
            opt = lib.optim.Muon([w], lr=0.02, **kwargs)
            losses = []
            for _ in range(10):
                opt.zero_grad()
                loss = ((lib.tensor(x.astype(np.float32)) @ w.T - lib.tensor(y.astype(np.float32))) ** 2).mean()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            finals.append((w.detach().numpy(), losses))
        np.testing.assert_allclose(finals[0][0], finals[1][0], atol=5e-3)
        assert finals[0][1][-1] < finals[0][1][0]   # and it learns
