"""Random optimizer and schedule settings, run by chainrule and by torch (the oracle) on the same parameters with
the same gradients, in float64: after every step the parameters, the learning rate and (at the end) the state_dict
values are torch's. Hypothesis draws the options together (nesterov with dampening with weight_decay; amsgrad
with maximize; RMSprop centered with momentum; a scheduler on top), which the fixed 20-step equivalence tests
do not combine. Where torch refuses a combination (nesterov with dampening), chainrule must refuse it too, with
an error naming the optimizer."""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install -e '.[test]')")
from hypothesis import given, settings, strategies as st  # noqa: E402

from helpers import torch_or_skip, value_or_error  # noqa: E402

import chainrule as cr  # noqa: E402

LR = st.sampled_from([1e-3, 0.01, 0.1])
DECAY = st.sampled_from([0.0, 0.0, 0.01, 0.1])


@st.composite
def optimizer(draw):
    name = draw(st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                                 "RAdam", "ASGD", "Rprop"]))
    kw = {"lr": draw(LR)}
    if name == "SGD":
        kw.update(momentum=draw(st.sampled_from([0.0, 0.5, 0.9])), dampening=draw(st.sampled_from([0.0, 0.1])),
                  nesterov=draw(st.booleans()), weight_decay=draw(DECAY), maximize=draw(st.booleans()))
    elif name in ("Adam", "AdamW"):
        kw.update(betas=draw(st.sampled_from([(0.9, 0.999), (0.5, 0.9)])), eps=draw(st.sampled_from([1e-8, 1e-3])),
                  weight_decay=draw(DECAY), amsgrad=draw(st.booleans()), maximize=draw(st.booleans()))
    elif name == "RMSprop":
        kw.update(alpha=draw(st.sampled_from([0.99, 0.9])), momentum=draw(st.sampled_from([0.0, 0.5])),
                  centered=draw(st.booleans()), weight_decay=draw(DECAY), maximize=draw(st.booleans()))
    elif name == "Adagrad":
        kw.update(lr_decay=draw(st.sampled_from([0.0, 0.1])), weight_decay=draw(DECAY),
                  initial_accumulator_value=draw(st.sampled_from([0.0, 0.1])), maximize=draw(st.booleans()))
    elif name == "Adadelta":
        kw.update(rho=draw(st.sampled_from([0.9, 0.5])), weight_decay=draw(DECAY), maximize=draw(st.booleans()))
    elif name == "Adamax":
        kw.update(weight_decay=draw(DECAY), maximize=draw(st.booleans()))
    elif name == "NAdam":
        kw.update(weight_decay=draw(DECAY), momentum_decay=draw(st.sampled_from([4e-3, 0.1])),
                  decoupled_weight_decay=draw(st.booleans()), maximize=draw(st.booleans()))
    elif name == "RAdam":
        kw.update(weight_decay=draw(DECAY), decoupled_weight_decay=draw(st.booleans()), maximize=draw(st.booleans()))
    elif name == "ASGD":
        kw.update(lambd=draw(st.sampled_from([1e-4, 0.1])), alpha=draw(st.sampled_from([0.75, 0.5])),
                  t0=draw(st.sampled_from([1.0, 3.0])), weight_decay=draw(DECAY), maximize=draw(st.booleans()))
    else:
        kw.update(etas=draw(st.sampled_from([(0.5, 1.2), (0.3, 1.5)])),
                  step_sizes=draw(st.sampled_from([(1e-6, 50), (1e-3, 0.05)])), maximize=draw(st.booleans()))
    return name, kw


@st.composite
def schedule(draw):
    name = draw(st.sampled_from([None, "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                                 "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
                                 "CyclicLR"]))
    if name is None:
        return None
    kw = {"StepLR": lambda: dict(step_size=draw(st.integers(1, 3)), gamma=draw(st.sampled_from([0.5, 0.9]))),
          "MultiStepLR": lambda: dict(milestones=sorted(set(draw(st.lists(st.integers(1, 6), min_size=1,
                                                                          max_size=3)))), gamma=0.5),
          "ExponentialLR": lambda: dict(gamma=draw(st.sampled_from([0.5, 0.9]))),
          "CosineAnnealingLR": lambda: dict(T_max=draw(st.integers(1, 5)), eta_min=draw(st.sampled_from([0.0, 1e-3]))),
          "LinearLR": lambda: dict(start_factor=draw(st.sampled_from([0.25, 0.5])),
                                   total_iters=draw(st.integers(1, 5))),
          "ConstantLR": lambda: dict(factor=draw(st.sampled_from([0.25, 0.5])), total_iters=draw(st.integers(1, 5))),
          "PolynomialLR": lambda: dict(total_iters=draw(st.integers(1, 5)), power=draw(st.sampled_from([1.0, 2.0]))),
          "CosineAnnealingWarmRestarts": lambda: dict(T_0=draw(st.integers(1, 3)), T_mult=draw(st.integers(1, 2))),
          "OneCycleLR": lambda: dict(max_lr=0.1, total_steps=10, pct_start=draw(st.sampled_from([0.3, 0.5])),
                                     anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
                                     three_phase=draw(st.booleans()), cycle_momentum=False),
          "CyclicLR": lambda: dict(base_lr=1e-3, max_lr=0.1, step_size_up=draw(st.integers(1, 3)),
                                   mode=draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
                                   gamma=0.9, cycle_momentum=False)}[name]()
    return name, kw


def _setup(lib, opt, sched, params):
    ps = [lib.tensor(p.copy(), requires_grad=True) for p in params]
    o = getattr(lib.optim, opt[0])(ps, **opt[1])
    s = getattr(lib.optim.lr_scheduler, sched[0])(o, **sched[1]) if sched else None
    return ps, o, s


def _check(opt, sched, seed, steps=8):
    torch = torch_or_skip()
    # torch keeps some optimizer scalars (ASGD's eta and mu, NAdam's mu_product) as tensors of the default dtype:
    # float64 here, so that the comparison is of the rules, not of float32 rounding in torch's bookkeeping
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _compare(torch, opt, sched, seed, steps)
    finally:
        torch.set_default_dtype(default)


def _compare(torch, opt, sched, seed, steps):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    theirs, refused = value_or_error(lambda: _setup(torch, opt, sched, params))
    ours, our_refusal = value_or_error(lambda: _setup(cr, opt, sched, params))
    if refused is not None or our_refusal is not None:
        assert refused is not None, f"chainrule refused what torch runs: {our_refusal!r}"
        assert our_refusal is not None, f"torch refused ({refused}) but chainrule ran"
        named = [opt[0]] + ([sched[0]] if sched else [])
        assert any(n.lower() in str(our_refusal).lower() for n in named), our_refusal
        return
    (tp, to, ts), (cp, co, cs) = theirs, ours
    for step in range(steps):
        grads = [rng.standard_normal(p.shape) for p in params]
        for ps, lib in ((tp, torch), (cp, cr)):
            for p, g in zip(ps, grads):
                p.grad = lib.tensor(g)
        to.step()
        co.step()
        if ts is not None:
            ts.step()
            cs.step()
        for a, b in zip(cp, tp):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{opt} {sched}: parameters after step {step + 1}")
        assert co.param_groups[0]["lr"] == pytest.approx(to.param_groups[0]["lr"], rel=1e-12, abs=1e-15), \
            f"{sched}: lr after step {step + 1}"
    ours_state, their_state = co.state_dict()["state"], to.state_dict()["state"]
    for k, st_ in their_state.items():
        for name, v in st_.items():
            a = ours_state[k][name]
            a = a.numpy() if hasattr(a, "numpy") else np.asarray(a)
            b = v.numpy() if hasattr(v, "numpy") else np.asarray(v)
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{opt} state {k}.{name}")


@settings(max_examples=int(os.environ.get("CHAINRULE_RANDOM_OPTIMIZERS", 150)), deadline=None)
@given(optimizer(), schedule(), st.integers(0, 2 ** 16))
def test_random_optimizer_and_schedule_match_torch(opt, sched, seed):
    """150 settings per run; for a longer hunt with fresh draws:
    CHAINRULE_HYPOTHESIS=explore CHAINRULE_RANDOM_OPTIMIZERS=3000."""
    _check(opt, sched, seed)


@settings(max_examples=int(os.environ.get("CHAINRULE_RANDOM_OPTIMIZERS", 150)), deadline=None)
@given(st.sampled_from([0.5, 1.0, 2.0, 3.0, float("inf")]), st.sampled_from([1e-3, 0.5, 2.0, 100.0]),
       # (at least one gradient: torch's clip_grad_value_ fails inside its foreach path when every one is None)
       st.lists(st.sampled_from([(3, 2), (2,), (), (1, 4), None]), min_size=1, max_size=4).filter(
           lambda shapes: any(s is not None for s in shapes)),
       st.sampled_from(["clip_grad_norm_", "clip_grad_value_"]), st.integers(0, 2 ** 16))
def test_random_gradient_clipping_matches_torch(norm_type, limit, shapes, how, seed):
    """clip_grad_norm_ (every norm type; the returned total norm too) and clip_grad_value_ over parameters of drawn
    shapes, some without a gradient (None in the list)."""
    torch = torch_or_skip()
    rng = np.random.default_rng(seed)
    grads = [None if s is None else rng.standard_normal(s) * 3 for s in shapes]
    results = []
    for lib in (cr, torch):
        ps = [lib.tensor(np.zeros(s if s is not None else (2,)), requires_grad=True) for s in shapes]
        for p, g in zip(ps, grads):
            p.grad = None if g is None else lib.tensor(g)
        clip = getattr(lib.nn.utils, how)
        total = clip(ps, limit, norm_type) if how == "clip_grad_norm_" else clip(ps, limit)
        results.append((None if total is None else float(total), [None if p.grad is None else p.grad.numpy()
                                                                  for p in ps]))
    (ours_total, ours), (their_total, theirs) = results
    if their_total is not None:
        assert ours_total == pytest.approx(their_total, rel=1e-12, abs=1e-15)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
