"""Same network, weights, data order and optimizer as torch: same losses for 20 steps (float64, 1e-6)."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")

OPTIMIZERS = {
    "sgd": (lambda p: cr.optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum_nesterov_wd": (lambda p: cr.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
                                 lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "sgd_dampening": (lambda p: cr.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3),
                      lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3)),
    "adam": (lambda p: cr.optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam_amsgrad_wd": (lambda p: cr.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.01),
                        lambda p: torch.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.01)),
    "adamw": (lambda p: cr.optim.AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    "rmsprop": (lambda p: cr.optim.RMSprop(p, lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "rmsprop_centered_momentum": (lambda p: cr.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True),
                                  lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True)),
    "adagrad": (lambda p: cr.optim.Adagrad(p, lr=0.1, lr_decay=0.01), lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01)),
    "adamax_wd": (lambda p: cr.optim.Adamax(p, lr=0.01, weight_decay=0.01),
                  lambda p: torch.optim.Adamax(p, lr=0.01, weight_decay=0.01)),
    "nadam": (lambda p: cr.optim.NAdam(p, lr=0.01), lambda p: torch.optim.NAdam(p, lr=0.01)),
    "nadam_decoupled_wd": (lambda p: cr.optim.NAdam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
                           lambda p: torch.optim.NAdam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    "radam": (lambda p: cr.optim.RAdam(p, lr=0.01), lambda p: torch.optim.RAdam(p, lr=0.01)),
    "radam_wd": (lambda p: cr.optim.RAdam(p, lr=0.01, weight_decay=0.01),
                 lambda p: torch.optim.RAdam(p, lr=0.01, weight_decay=0.01)),
    "adadelta_wd": (lambda p: cr.optim.Adadelta(p, lr=1.0, weight_decay=0.01),
                    lambda p: torch.optim.Adadelta(p, lr=1.0, weight_decay=0.01)),
    "rprop": (lambda p: cr.optim.Rprop(p, lr=0.01), lambda p: torch.optim.Rprop(p, lr=0.01)),
    "rmsprop_maximize": (lambda p: cr.optim.RMSprop(p, lr=1e-3, maximize=True),
                         lambda p: torch.optim.RMSprop(p, lr=1e-3, maximize=True)),
    "adagrad_maximize": (lambda p: cr.optim.Adagrad(p, lr=1e-2, maximize=True),
                         lambda p: torch.optim.Adagrad(p, lr=1e-2, maximize=True)),
    "adamax_maximize": (lambda p: cr.optim.Adamax(p, lr=1e-3, maximize=True),
                        lambda p: torch.optim.Adamax(p, lr=1e-3, maximize=True)),
    "nadam_maximize": (lambda p: cr.optim.NAdam(p, lr=1e-3, maximize=True),
                       lambda p: torch.optim.NAdam(p, lr=1e-3, maximize=True)),
    "radam_maximize": (lambda p: cr.optim.RAdam(p, lr=1e-3, maximize=True),
                       lambda p: torch.optim.RAdam(p, lr=1e-3, maximize=True)),
    "sgd_maximize": (lambda p: cr.optim.SGD(p, lr=1e-3, momentum=0.5, maximize=True),
                     lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.5, maximize=True)),
    "asgd": (lambda p: cr.optim.ASGD(p, lr=0.05), lambda p: torch.optim.ASGD(p, lr=0.05)),
    "asgd_averaging_wd": (lambda p: cr.optim.ASGD(p, lr=0.05, lambd=0.01, t0=5, weight_decay=0.01),
                          lambda p: torch.optim.ASGD(p, lr=0.05, lambd=0.01, t0=5, weight_decay=0.01)),
    "adafactor": (lambda p: cr.optim.Adafactor(p, lr=0.05), lambda p: torch.optim.Adafactor(p, lr=0.05)),
    "adafactor_wd_clip": (lambda p: cr.optim.Adafactor(p, lr=0.05, weight_decay=0.01, d=1.5, eps=(1e-20, 1e-2)),
                          lambda p: torch.optim.Adafactor(p, lr=0.05, weight_decay=0.01, d=1.5, eps=(1e-20, 1e-2))),
    "adafactor_maximize": (lambda p: cr.optim.Adafactor(p, lr=1e-3, maximize=True),
                           lambda p: torch.optim.Adafactor(p, lr=1e-3, maximize=True)),
}


def _nets(sizes, rng):
    crnet = cr.nn.Sequential(*[m for a, b in zip(sizes[:-1], sizes[1:]) for m in (cr.nn.Linear(a, b), cr.nn.Tanh())][:-1]).double()
    tnet = torch.nn.Sequential(*[m for a, b in zip(sizes[:-1], sizes[1:]) for m in (torch.nn.Linear(a, b), torch.nn.Tanh())][:-1]).double()
    for (_, p), (_, q) in zip(crnet.named_parameters(), tnet.named_parameters()):
        w = rng.standard_normal(p.shape) * 0.5
        with cr.no_grad():
            p.copy_(w)
        with torch.no_grad():
            q.copy_(torch.from_numpy(w))
    return crnet, tnet


def _run(loss_name, opt_name, steps=20):
    rng = np.random.default_rng(0)
    n_out = 1 if loss_name in ("mse", "l1", "huber", "bce", "bce_logits") else 3
    crnet, tnet = _nets([4, 8, n_out], rng)
    X = rng.standard_normal((steps, 6, 4))
    if loss_name in ("ce", "nll", "ce_smooth_weight"):
        Y = rng.integers(0, 3, (steps, 6))
    elif loss_name in ("bce", "bce_logits"):
        Y = rng.integers(0, 2, (steps, 6, 1)).astype(np.float64)
    elif loss_name == "ce_probs":
        Y = rng.dirichlet(np.ones(3), (steps, 6))
    else:
        Y = rng.standard_normal((steps, 6, 1))
    w = np.array([0.2, 1.0, 2.0])
    losses = {
        "mse": (cr.nn.MSELoss(), torch.nn.MSELoss()), "l1": (cr.nn.L1Loss(), torch.nn.L1Loss()),
        "huber": (cr.nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5)),
        "bce": (cr.nn.BCELoss(), torch.nn.BCELoss()),
        "bce_logits": (cr.nn.BCEWithLogitsLoss(pos_weight=cr.tensor([2.0], dtype=cr.float64)),
                       torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0], dtype=torch.float64))),
        "ce": (cr.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        "ce_probs": (cr.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        "ce_smooth_weight": (cr.nn.CrossEntropyLoss(weight=cr.tensor(w), label_smoothing=0.1),
                             torch.nn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1)),
        "nll": (cr.nn.NLLLoss(), torch.nn.NLLLoss()),
    }
    cl, tl = losses[loss_name]
    co, to = OPTIMIZERS[opt_name][0](crnet.parameters()), OPTIMIZERS[opt_name][1](tnet.parameters())
    out = []
    for x, y in zip(X, Y):
        def prep_cr(o):
            if loss_name == "bce":
                return cr.sigmoid(o)
            if loss_name == "nll":
                return cr.log_softmax(o, 1)
            return o

        def prep_t(o):
            if loss_name == "bce":
                return torch.sigmoid(o)
            if loss_name == "nll":
                return torch.log_softmax(o, 1)
            return o
        co.zero_grad()
        a = cl(prep_cr(crnet(cr.tensor(x))), cr.tensor(y))
        a.backward()
        co.step()
        to.zero_grad()
        b = tl(prep_t(tnet(torch.from_numpy(x))), torch.from_numpy(y))
        b.backward()
        to.step()
        out.append((a.item(), b.item()))
    return np.array(out)


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_each_optimizer_matches_torch(opt):
    r = _run("mse", opt)
    np.testing.assert_allclose(r[:, 0], r[:, 1], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", ["mse", "l1", "huber", "bce", "bce_logits", "ce", "ce_probs", "ce_smooth_weight", "nll"])
def test_each_loss_matches_torch(loss):
    r = _run(loss, "adam")
    np.testing.assert_allclose(r[:, 0], r[:, 1], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                                  "OneCycleLR", "LambdaLR"])
def test_schedules_match_torch(name):
    args = {"StepLR": dict(step_size=3, gamma=0.5), "MultiStepLR": dict(milestones=[2, 5], gamma=0.3),
            "ExponentialLR": dict(gamma=0.9), "CosineAnnealingLR": dict(T_max=10, eta_min=0.01),
            "LinearLR": dict(start_factor=0.2, total_iters=4), "OneCycleLR": dict(max_lr=0.5, total_steps=12),
            "LambdaLR": dict(lr_lambda=lambda e: 1 / (1 + e))}[name]
    p, q = cr.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    co, to = cr.optim.SGD([p], lr=0.1), torch.optim.SGD([q], lr=0.1)
    cs = getattr(cr.optim.lr_scheduler, name)(co, **args)
    ts = getattr(torch.optim.lr_scheduler, name)(to, **args)
    for _ in range(11):
        co.step()
        to.step()
        cs.step()
        ts.step()
        assert cs.get_last_lr()[0] == pytest.approx(ts.get_last_lr()[0], rel=1e-9, abs=1e-12)


def test_reduce_on_plateau_matches_torch():
    p, q = cr.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    co, to = cr.optim.SGD([p], lr=0.1), torch.optim.SGD([q], lr=0.1)
    cs = cr.optim.lr_scheduler.ReduceLROnPlateau(co, patience=2, factor=0.5)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(to, patience=2, factor=0.5)
    for v in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85]:
        cs.step(v)
        ts.step(v)
        assert co.param_groups[0]["lr"] == pytest.approx(to.param_groups[0]["lr"])


def test_linear_default_init_matches_torch_distribution():
    cr.manual_seed(0)
    w = cr.nn.Linear(400, 300).weight.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert w.min() >= -bound and w.max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound


def test_engine_ops_match_torch_forward_and_backward():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    for name in ["sigmoid", "tanh", "exp", "relu", "gelu", "softplus", "elu"]:
        a = cr.tensor(x, requires_grad=True)
        b = torch.tensor(x, requires_grad=True)
        ya, yb = getattr(cr, name)(a), getattr(torch.nn.functional, name, getattr(torch, name, None))(b)
        (ya * ya).sum().backward()
        (yb * yb).sum().backward()
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing,weighted", [(0.0, False), (0.1, False), (0.2, True)])
def test_cross_entropy_ignore_index_matches_torch(reduction, smoothing, weighted):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 4)), np.array([0, 2, -100, 1, 3, -100])
    w = np.array([1.0, 2.0, 0.5, 3.0]) if weighted else None
    a = cr.tensor(x, requires_grad=True)
    ours = cr.nn.CrossEntropyLoss(weight=cr.tensor(w) if weighted else None, ignore_index=-100,
                                  label_smoothing=smoothing, reduction=reduction)(a, cr.tensor(y))
    ours.sum().backward()
    b = torch.tensor(x, requires_grad=True)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w) if weighted else None, ignore_index=-100,
                                       label_smoothing=smoothing, reduction=reduction)(b, torch.tensor(y))
    theirs.sum().backward()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert np.all(a.grad.numpy()[y == -100] == 0)   # ignored rows get no gradient


@pytest.mark.parametrize("name", ["asgd_averaging_wd", "adafactor_wd_clip"])
def test_averaged_and_factored_states_match_torch(name):
    """ASGD's running average of the iterates and Adafactor's row/column second-moment factors, after 12 steps
    on a matrix and a vector parameter, are torch's (the losses alone would not see a wrong average)."""
    make_cr, make_torch = OPTIMIZERS[name]
    rng = np.random.default_rng(4)
    w0, b0 = rng.standard_normal((3, 4)), rng.standard_normal(3)
    cp = [cr.tensor(w0, requires_grad=True), cr.tensor(b0, requires_grad=True)]
    tp = [torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    opt_c, opt_t = make_cr(cp), make_torch(tp)
    x = rng.standard_normal((5, 4))
    for _ in range(12):
        opt_c.zero_grad()
        opt_t.zero_grad()
        ((cr.tensor(x) @ cp[0].T + cp[1]).tanh() ** 2).sum().backward()
        ((torch.tensor(x) @ tp[0].T + tp[1]).tanh() ** 2).sum().backward()
        opt_c.step()
        opt_t.step()
    for p, q in zip(cp, tp):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-7, atol=1e-9)
        ours, theirs = opt_c.state[p], opt_t.state[q]
        for key in ("ax", "row_var", "col_var", "variance"):
            if key in theirs:
                np.testing.assert_allclose(ours[key], theirs[key].numpy(), rtol=1e-7, atol=1e-12, err_msg=key)
