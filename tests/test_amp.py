"""Mixed precision: float16 matmuls under autocast with float32 master weights; without loss scaling tiny float16
gradients underflow to 0 and nothing trains, with GradScaler the same model trains; inf steps are skipped."""
import numpy as np

import chainrule as cr
import chainrule.nn as nn


def _train(use_scaler, steps=60):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = cr.optim.Adam(model.parameters(), lr=0.01)   # scale-invariant: tiny but correct gradients train
    scaler = cr.amp.GradScaler(init_scale=2.0 ** 14, growth_interval=10) if use_scaler else None
    rng = np.random.default_rng(0)
    X = cr.tensor(rng.standard_normal((64, 8)).astype(np.float32))
    y = cr.tensor((rng.standard_normal((64, 1)) * 1e-3).astype(np.float32))   # tiny targets → tiny gradients
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        with cr.amp.autocast(dtype=cr.float16):
            out = model(X)
        assert out.dtype == cr.float16
        loss = ((out.float() - y) ** 2).mean() * 1e-7     # gradients ~1e-9: below float16's smallest subnormal
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        losses.append(loss.item())
    assert all(p.dtype == cr.float32 and (p.grad is None or p.grad.dtype == cr.float32) for p in model.parameters())
    return losses, model


def test_float16_without_scaling_underflows_and_with_scaling_trains():
    plain, m_plain = _train(False)
    scaled, m_scaled = _train(True)
    grads_plain = [np.abs(p.grad.numpy()).max() for p in m_plain.parameters()]
    assert max(grads_plain) == 0.0                 # every float16 gradient underflowed to 0: nothing trains
    assert plain[-1] == plain[0]
    assert scaled[-1] < 0.5 * scaled[0]            # with loss scaling the same model trains
    assert scaled[-1] < plain[-1]


def test_grad_scaler_skips_inf_steps_and_adapts_scale():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.SGD([p], lr=0.1)
    scaler = cr.amp.GradScaler(init_scale=8.0, growth_interval=2)
    p.grad = cr.tensor([np.inf, 0.0])
    scaler.step(opt)
    scaler.update()
    assert p.tolist() == [1.0, 2.0] and scaler.get_scale() == 4.0      # skipped, backed off
    for _ in range(2):
        p.grad = cr.tensor([4.0, 4.0])
        scaler.step(opt)
        scaler.update()
    assert scaler.get_scale() == 8.0                                    # grew after 2 good steps
    np.testing.assert_allclose(p.detach().numpy(), [1.0 - 0.2, 2.0 - 0.2])   # each step used grad/scale = 1


def test_scaled_float16_training_backs_off_from_overflow_without_numpy_warnings():
    """The default scale 2¹⁶ overflows float16 gradients at once: the scaler must see inf, skip those steps and
    lower the scale, and none of it may surface as a NumPy RuntimeWarning (pytest turns those into errors)."""
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(8, 32), cr.nn.ReLU(), cr.nn.Linear(32, 4))
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    scaler = cr.amp.GradScaler("cpu")
    x, y = cr.randn(64, 8) * 30, cr.randint(0, 4, (64,))
    before = model[0].weight.detach().numpy().copy()
    scales = []
    for _ in range(6):
        opt.zero_grad()
        with cr.amp.autocast("cpu", dtype=cr.float16):
            loss = cr.nn.functional.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    assert scales[0] < 2.0 ** 16 and scales == sorted(scales, reverse=True)   # backed off while it overflowed
    assert not np.array_equal(model[0].weight.detach().numpy(), before)       # and stepped once it did not
