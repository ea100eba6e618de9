"""Update rules. Each writes into the parameter's array in place (no per-step reallocation of weights);
g is the gradient, η the learning rate, t the step count. Formulas follow torch.optim exactly."""
import math

import numpy as np

from ..autograd.grad_mode import note_write
from .optimizer import Optimizer


class SGD(Optimizer):
    """g ← g + λθ;  with momentum μ: b ← μb + (1-τ)g (b₁ = g), g ← g + μb (Nesterov) or b;  θ ← θ - ηg."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False, **impl):
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) must be ≥ 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize), **impl)

    def _update(self, w, g, st, group):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        mu = group["momentum"]
        if mu:
            buf = st.get("momentum_buffer")
            if buf is None:
                buf = st["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        w -= w.dtype.type(group["lr"]) * g


class _AdamKin(Optimizer):
    def __init__(self, params, lr, betas, eps, weight_decay, impl=None, **extra):
        if not 0 <= betas[0] < 1 or not 0 <= betas[1] < 1:
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: eps ({eps}) and weight_decay ({weight_decay}) must be ≥ 0")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, **extra),
                         **(impl or {}))


class Adam(_AdamKin):
    """m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  θ ← θ - η·(m/(1-β₁ᵗ)) / (√v/√(1-β₂ᵗ) + ε)
    (amsgrad: v replaced by its running max; weight_decay adds λθ to g — AdamW decays θ directly instead)."""
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False, **impl):
        super().__init__(params, lr, betas, eps, weight_decay, impl, amsgrad=amsgrad, maximize=maximize)
        if decoupled_weight_decay:   # torch ≥ 2.6: Adam(decoupled_weight_decay=True) is AdamW
            self.decoupled = True

    # below this many parameters one flat buffer beats a loop over parameters; above it, gathering the gradients
    # into the buffer costs more than the per-parameter calls it saves
    FLAT_LIMIT = 1 << 16

    def _step_group(self, group):
        """Small float groups without amsgrad update one flat buffer: 12 NumPy calls per step instead of 12 per
        parameter (PERF.md: per-parameter Adam costs 1.7× the flat version at small sizes)."""
        params = group["params"]
        if group["amsgrad"]:
            return False
        flats = self.__dict__.setdefault("_flat", {})
        fs = flats.get(id(group))
        if fs is None or not all(p._data.base is fs["w"] and p.grad is not None for p in params):
            dt = params[0]._data.dtype   # (re)build: first step, or a parameter was replaced or has no grad
            if any(p.grad is None or p._data.dtype != dt for p in params) or \
                    sum(p._data.size for p in params) > self.FLAT_LIMIT:
                return False
            fs = flats[id(group)] = self._make_flat(params, dt)
        w, m, v, tmp, g = fs["w"], fs["m"], fs["v"], fs["tmp"], fs["g"]
        t = self.state[params[0]]["step"] + 1
        version = note_write(w)   # one write, to the flat buffer every parameter of the group views
        for p, (lo, hi) in zip(params, fs["spans"]):
            g[lo:hi] = p.grad._data.reshape(-1)
            self.state[p]["step"] = t
            p._version = version
        if group["maximize"]:
            np.negative(g, out=g)
        wd = group["weight_decay"]
        if wd and not self.decoupled:
            g += w.dtype.type(wd) * w
        _adam_update(w, g, m, v, tmp, t, group, self.decoupled)
        return True

    def _make_flat(self, params, dt):
        """One buffer for the weights (parameters become views of it), the moments and the gradient; the
        per-parameter state entries are views too, so state_dict() and load_state_dict() keep working."""
        sizes = [p._data.size for p in params]
        bounds = np.cumsum([0] + sizes)
        spans = list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))
        w = np.empty(bounds[-1], dt)
        m, v = np.zeros_like(w), np.zeros_like(w)
        for p, (lo, hi) in zip(params, spans):
            w[lo:hi] = p._data.reshape(-1)
            st = self.state.get(p) or {}
            if "exp_avg" in st:
                m[lo:hi] = np.asarray(st["exp_avg"]).reshape(-1)
                v[lo:hi] = np.asarray(st["exp_avg_sq"]).reshape(-1)
            shape = p._data.shape
            p._data = w[lo:hi].reshape(shape)
            self.state[p] = {"step": st.get("step", 0), "exp_avg": m[lo:hi].reshape(shape),
                             "exp_avg_sq": v[lo:hi].reshape(shape)}
        return {"w": w, "m": m, "v": v, "tmp": np.empty_like(w), "g": np.empty_like(w), "spans": spans}

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.__dict__.pop("_flat", None)   # rebuilt from the loaded per-parameter state at the next step

    def _update(self, w, g, st, group):
        if not st:
            st["step"] = 0
            st["exp_avg"] = np.zeros_like(w)
            st["exp_avg_sq"] = np.zeros_like(w)
            if group["amsgrad"]:
                st["max_exp_avg_sq"] = np.zeros_like(w)
        st["step"] += 1
        t = st["step"]
        if group["weight_decay"] and not self.decoupled:
            g = g + group["weight_decay"] * w
        _adam_update(w, g, st["exp_avg"], st["exp_avg_sq"], self._scratch(w), t, group, self.decoupled,
                     st.get("max_exp_avg_sq"))


# Elements per block of the blocked Adam update: the five float32 arrays (θ, g, m, v and the scratch) of one block
# take 1.3 MB and stay in a core's L2 cache through all 12 passes, so each large parameter streams through main
# memory once instead of 12 times (5.8 M parameters: 25 → 14.5 ms per step; bench/train_step.py).
ADAM_BLOCK = 1 << 16


def _adam_update(w, g, m, v, tmp, t, group, decoupled, v_max=None):
    """The Adam step in place, through one reused buffer `tmp` (Adam is memory-bound: every temporary costs a
    whole pass): m ← β₁m + (1-β₁)g; v ← β₂v + (1-β₂)g²; θ ← θ - η/(1-β₁ᵗ) · m/(√v̂/√(1-β₂ᵗ) + ε), where v̂ is v,
    or its running maximum with amsgrad. AdamW first decays θ ← θ(1 - ηλ). Large parameters are updated a
    cache-sized block at a time (the same arithmetic, element by element)."""
    lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    dt = w.dtype.type
    # η/(1-β₁ᵗ) · m/(√v/√(1-β₂ᵗ) + ε) = η√(1-β₂ᵗ)/(1-β₁ᵗ) · m/(√v + ε√(1-β₂ᵗ)): the same step with one pass fewer
    sqrt_bc2 = math.sqrt(1 - b2 ** t)
    consts = (dt(1 - lr * wd) if wd and decoupled else None, b1, b2, dt(eps * sqrt_bc2),
              dt(lr * sqrt_bc2 / (1 - b1 ** t)))
    written = (w, m, v, tmp) if v_max is None else (w, m, v, tmp, v_max)
    if w.size <= 2 * ADAM_BLOCK or not all(a.flags.c_contiguous for a in written):
        _adam_block(w, g, m, v, tmp, v_max, *consts)
        return
    w, g, m, v, tmp = (a.reshape(-1) for a in (w, g, m, v, tmp))   # views (contiguous), except a strided g: a copy
    v_max = v_max.reshape(-1) if v_max is not None else None
    for lo in range(0, w.size, ADAM_BLOCK):
        hi = lo + ADAM_BLOCK
        _adam_block(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], tmp[:min(hi, w.size) - lo],
                    v_max[lo:hi] if v_max is not None else None, *consts)


def _adam_block(w, g, m, v, tmp, v_max, decay, b1, b2, eps, step_size):
    if decay is not None:
        w *= decay
    np.multiply(g, 1 - b1, out=tmp)
    m *= b1
    m += tmp
    np.square(g, out=tmp)         # g² (square reads g once: half the memory traffic of g * g)
    tmp *= 1 - b2
    v *= b2
    v += tmp
    if v_max is not None:
        np.maximum(v_max, v, out=v_max)
        v = v_max
    np.sqrt(v, out=tmp)
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= step_size
    w -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 - ηλ) before the Adam step (default λ = 0.01)."""
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, **impl):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, **impl)


class RMSprop(Optimizer):
    """s ← αs + (1-α)g²;  centered: ḡ ← αḡ + (1-α)g, d = √(s - ḡ²) + ε, else d = √s + ε;
    with momentum μ: b ← μb + g/d, θ ← θ - ηb;  else θ ← θ - η g/d."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False, **impl):
        if alpha < 0 or eps < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("RMSprop: alpha, eps, momentum and weight_decay must be ≥ 0")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize), capturable=capturable, foreach=foreach,
                         differentiable=differentiable, **impl)

    def _update(self, w, g, st, group):
        a = group["alpha"]
        if not st:
            st["step"] = 0
            st["square_avg"] = np.zeros_like(w)
            if group["momentum"]:
                st["momentum_buffer"] = np.zeros_like(w)
            if group["centered"]:
                st["grad_avg"] = np.zeros_like(w)
        st["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        s = st["square_avg"]
        s *= a
        s += (1 - a) * (g * g)
        if group["centered"]:
            ga = st["grad_avg"]
            ga *= a
            ga += (1 - a) * g
            d = np.sqrt(s - ga * ga) + group["eps"]
        else:
            d = np.sqrt(s) + group["eps"]
        if group["momentum"]:
            b = st["momentum_buffer"]
            b *= group["momentum"]
            b += g / d
            w -= w.dtype.type(group["lr"]) * b
        else:
            w -= w.dtype.type(group["lr"]) * (g / d)


class Adagrad(Optimizer):
    """S ← S + g²;  θ ← θ - η/(1 + (t-1)·decay) · g/(√S + ε)."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 foreach=None, *, maximize=False, **impl):
        if lr_decay < 0 or weight_decay < 0 or initial_accumulator_value < 0 or eps < 0:
            raise ValueError("Adagrad: lr_decay, weight_decay, initial_accumulator_value and eps must be ≥ 0")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize),
                         foreach=foreach, **impl)

    def _update(self, w, g, st, group):
        if not st:
            st["step"] = 0
            st["sum"] = np.full_like(w, group["initial_accumulator_value"])
        st["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
        st["sum"] += g * g
        w -= w.dtype.type(clr) * (g / (np.sqrt(st["sum"]) + group["eps"]))


def _decay(w, g, group):
    """Weight decay as torch's NAdam/RAdam apply it: decoupled θ ← θ(1 - ηλ), else g ← g + λθ."""
    wd = group["weight_decay"]
    if wd and group["decoupled_weight_decay"]:
        w *= w.dtype.type(1 - group["lr"] * wd)
    elif wd:
        g = g + wd * w
    return g


def _moments(w, g, st, group, second="exp_avg_sq"):
    """Count the step and update m ← β₁m + (1-β₁)g in the state (created at the first step, with a zero array
    `second`); for Adam's exp_avg_sq also v ← β₂v + (1-β₂)g². Returns t, m and the second array."""
    b1, b2 = group["betas"]
    if not st:
        st["step"] = 0
        st["exp_avg"], st[second] = np.zeros_like(w), np.zeros_like(w)
    st["step"] += 1
    m, v = st["exp_avg"], st[second]
    m *= b1
    m += (1 - b1) * g
    if second == "exp_avg_sq":
        v *= b2
        v += (1 - b2) * np.square(g)
    return st["step"], m, v


class Adamax(_AdamKin):
    """m ← β₁m + (1-β₁)g;  u ← max(β₂u, |g| + ε);  θ ← θ - η/(1-β₁ᵗ) · m/u  (Adam with the ∞-norm)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=None, *,
                 maximize=False, **impl):
        super().__init__(params, lr, betas, eps, weight_decay, dict(impl, foreach=foreach), maximize=maximize)

    def _update(self, w, g, st, group):
        b1, b2 = group["betas"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        t, m, u = _moments(w, g, st, group, second="exp_inf")
        u *= b2
        np.maximum(u, np.abs(g) + group["eps"], out=u)
        w -= w.dtype.type(group["lr"] / (1 - b1 ** t)) * (m / u)


class NAdam(_AdamKin):
    """Adam with Nesterov momentum: μₜ = β₁(1 - ½·0.96^(tψ)), Πₜ = Π μ;  with d = √(v/(1-β₂ᵗ)) + ε,
    θ ← θ - η(1-μₜ)/(1-Πₜ) · g/d - η μₜ₊₁/(1-Πₜμₜ₊₁) · m/d  (ψ = momentum_decay)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False, **impl):
        super().__init__(params, lr, betas, eps, weight_decay, impl, momentum_decay=momentum_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)

    def _update(self, w, g, st, group):
        b1, b2 = group["betas"]
        g = _decay(w, g, group)
        t, m, v = _moments(w, g, st, group)
        st.setdefault("mu_product", 1.0)
        psi, lr = group["momentum_decay"], group["lr"]
        mu, mu_next = b1 * (1 - 0.5 * 0.96 ** (t * psi)), b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        st["mu_product"] *= mu
        denom = np.sqrt(v / (1 - b2 ** t)) + group["eps"]
        dt = w.dtype.type
        w -= dt(lr * (1 - mu) / (1 - st["mu_product"])) * (g / denom)
        w -= dt(lr * mu_next / (1 - st["mu_product"] * mu_next)) * (m / denom)


class RAdam(_AdamKin):
    """Adam with the variance of its adaptive step rectified: ρ∞ = 2/(1-β₂) - 1, ρₜ = ρ∞ - 2tβ₂ᵗ/(1-β₂ᵗ);
    while ρₜ ≤ 5, θ ← θ - η m̂ (plain momentum); after, θ ← θ - η m̂ · rₜ√(1-β₂ᵗ)/(√v + ε) with
    rₜ = √((ρₜ-4)(ρₜ-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρₜ)) and m̂ = m/(1-β₁ᵗ)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, maximize=False, **impl):
        super().__init__(params, lr, betas, eps, weight_decay, impl, decoupled_weight_decay=decoupled_weight_decay,
                         maximize=maximize)

    def _update(self, w, g, st, group):
        b1, b2 = group["betas"]
        g = _decay(w, g, group)
        t, m, v = _moments(w, g, st, group)
        m_hat = m / (1 - b1 ** t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        dt = w.dtype.type
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            w -= dt(group["lr"] * rect * math.sqrt(1 - b2 ** t)) * (m_hat / (np.sqrt(v) + group["eps"]))
        else:
            w -= dt(group["lr"]) * m_hat


class Adadelta(Optimizer):
    """v ← ρv + (1-ρ)g²;  Δ = √(u + ε)/√(v + ε) · g;  u ← ρu + (1-ρ)Δ²;  θ ← θ - ηΔ  (Zeiler, 2012: the step has the
    units of θ, so η = 1 works)."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *, maximize=False, **impl):
        if not 0 <= rho <= 1 or eps < 0 or weight_decay < 0:
            raise ValueError(f"Adadelta: rho ({rho}) must be in [0, 1], eps ({eps}) and weight_decay "
                             f"({weight_decay}) ≥ 0")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize),
                         foreach=foreach, **impl)

    def _update(self, w, g, st, group):
        rho, eps = group["rho"], group["eps"]
        if not st:
            st.update(step=0, square_avg=np.zeros_like(w), acc_delta=np.zeros_like(w))
        st["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        v, u = st["square_avg"], st["acc_delta"]
        v *= rho
        v += (1 - rho) * (g * g)
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        w -= w.dtype.type(group["lr"]) * delta


class Rprop(Optimizer):
    """Resilient backprop: per weight, a step size that grows by η₊ while the gradient keeps its sign and shrinks by
    η₋ when it flips (clamped to step_sizes); θ ← θ - sign(g)·step, and after a flip the gradient counts as 0 for
    one step. Full-batch only: it reads signs, not magnitudes."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False, **impl):
        if not 0 < etas[0] < 1 < etas[1]:
            raise ValueError(f"Rprop: etas must satisfy 0 < η₋ < 1 < η₊, got {etas}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize),
                         **impl)

    def _update(self, w, g, st, group):
        (minus, plus), (lo, hi) = group["etas"], group["step_sizes"]
        if not st:
            st.update(step=0, prev=np.zeros_like(w), step_size=np.full_like(w, group["lr"]))
        st["step"] += 1
        agree = np.sign(g * st["prev"])
        factor = np.where(agree > 0, plus, np.where(agree < 0, minus, 1.0)).astype(w.dtype)
        size = st["step_size"]
        size *= factor
        np.clip(size, lo, hi, out=size)
        g = np.where(agree < 0, 0, g).astype(w.dtype)
        w -= np.sign(g) * size
        st["prev"][...] = g
