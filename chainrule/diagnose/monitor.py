"""GradientMonitor: watch gradient flow during training and say what is wrong and what to do about it.

    monitor = cr.diagnose.GradientMonitor(model)
    for x, y in loader:
        opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()
        monitor.step(loss)                       # after the optimizer step
    print(monitor.report())                      # findings with evidence (layer, step, numbers) and advice

Per step and per layer it keeps the gradient norm, weight norm, update-to-weight ratio ‖Δw‖/‖w‖, and (through
forward hooks on activation modules, no extra forward pass) the activations' mean/std, the fraction of dead ReLU
units (zero for every sample of the batch) and of saturated sigmoid/tanh units. Gradient norms are taken every
step; weight norms, update ratios and activation statistics every `interval` (10) steps, which keeps the
overhead small (bench/diagnose_overhead.py). Norms are exact; the log-magnitude histograms of the gradients and
the update ratio are taken on an evenly strided sample of about SAMPLE (4,096) entries per layer, plenty for 28
bins (±1.5 % per bin) or a ratio of norms, so a layer of millions of weights costs no more to watch than a small one.
"""
import math

import numpy as np

from .. import nn

SAMPLE = 1 << 12   # entries per layer behind the gradient histograms and update ratios (see the docstring)


def _sample(a):
    """An evenly strided view of at most about SAMPLE entries of a's flattened values (all of them when a is
    small). The stride is coprime with the last dim, so the sample visits every column of a weight matrix rather
    than the same few (a stride of 98 over 784 inputs would see 8 of them)."""
    flat = a.reshape(-1)
    if flat.size <= SAMPLE:
        return flat
    stride = -(-flat.size // SAMPLE)
    while math.gcd(stride, a.shape[-1]) != 1:
        stride += 1
    return flat[::stride]

ADVICE = {
    "vanishing": "use ReLU, LeakyReLU or GELU instead of sigmoid/tanh in hidden layers, He (Kaiming) initialisation "
                 "for ReLU or Xavier for tanh, normalisation (BatchNorm/LayerNorm) and residual connections",
    "exploding": "clip the gradient norm (nn.utils.clip_grad_norm_, `--clip 1.0`), lower the learning rate, and use "
                 "Xavier/He initialisation (or normalisation) so activations keep their scale",
    "dead_relu": "use LeakyReLU or ELU, lower the learning rate, use He initialisation and initialise biases at 0 "
                 "(or slightly positive), not negative",
    "saturated": "use ReLU-family activations in hidden layers, Xavier initialisation, normalised inputs "
                 "(BatchNorm/LayerNorm), and a lower learning rate",
    "lr_too_high": "lower the learning rate (÷3 to ÷10), or use a schedule/warm-up; clip gradients if spikes remain",
    "lr_too_low": "raise the learning rate (×3 to ×10), or use Adam; an update ratio near 1e-3 is a healthy target",
    "not_decreasing": "check the data and labels, raise the learning rate, and check the gradient flow (vanishing "
                      "gradients, dead units) in this report",
    "non_finite": "lower the learning rate, clip gradients, check for log(0) or division by 0 — run with "
                  "chainrule.autograd.detect_anomaly() (`--detect-anomaly`) to find the first op that made it",
}


class Finding:
    def __init__(self, kind, title, layer, step, evidence):
        self.kind, self.title, self.layer, self.step, self.evidence = kind, title, layer, step, evidence
        self.advice = ADVICE[kind]

    def as_dict(self):
        return {"kind": self.kind, "title": self.title, "layer": self.layer, "step": self.step,
                "evidence": self.evidence, "advice": self.advice}

    def __str__(self):
        where = f" in layer {self.layer}" if self.layer else ""
        at = f" (step {self.step})" if self.step is not None else ""
        return f"{self.title}{where}{at}: {self.evidence}\n    → {self.advice}"


class Report:
    def __init__(self, findings, history):
        self.findings, self.history = findings, history

    def __bool__(self):
        return bool(self.findings)

    def kinds(self):
        return {f.kind for f in self.findings}

    def __str__(self):
        if not self.findings:
            return "Gradient flow looks healthy: no findings."
        return "\n".join(f"- {f}" for f in self.findings)

    def as_dict(self):
        return {"findings": [f.as_dict() for f in self.findings]}

    def render(self, console=None):
        """Print as a rich table (plain text when rich is missing)."""
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            print(self)
            return
        table = Table(title="Gradient-flow diagnosis")
        for c in ("finding", "layer", "step", "evidence", "what to do"):
            table.add_column(c, overflow="fold")
        for f in self.findings:
            table.add_row(f.title, f.layer or "", "" if f.step is None else str(f.step), f.evidence, f.advice)
        (console or Console()).print(table if self.findings else "Gradient flow looks healthy: no findings.")

    def figure(self, path):
        from ..viz import plot_gradient_flow
        return plot_gradient_flow(self.history, path)


def _log_histograms(magnitudes, low=-12.0, high=2.0, bins=28):
    """For each array of |g| values, np.histogram(clip(log10(|g| + 1e-30), low, high), bins, (low, high)): all
    layers in one bincount (each layer's bins offset by its index), as a monitor runs this on every sampled step
    and per-call overhead dominates at small sizes. NaN is left out of every bin, as np.histogram does."""
    lg = np.concatenate(magnitudes) if len(magnitudes) > 1 else magnitudes[0]
    lg += 1e-30
    np.log10(lg, out=lg)
    offsets = _bin_offsets(tuple(len(a) for a in magnitudes), bins)
    if math.isnan(np.add.reduce(lg)):   # one reduction tells whether there is any NaN to filter out
        keep = ~np.isnan(lg)
        lg, offsets = lg[keep], offsets[keep]
    x = np.subtract(lg, low)
    x *= bins / (high - low)
    np.maximum(x, 0, out=x)
    np.minimum(x, bins - 1, out=x)   # the top edge belongs to the last bin, as in np.histogram
    idx = x.astype(np.intp)
    idx += offsets
    return np.bincount(idx, minlength=len(magnitudes) * bins).reshape(len(magnitudes), bins)


_OFFSETS = {}


def _bin_offsets(sizes, bins):
    """Each entry's layer index × bins, for layers of the given sizes (the same every step: cached)."""
    key = (sizes, bins)
    offsets = _OFFSETS.get(key)
    if offsets is None:
        if len(_OFFSETS) > 64:
            _OFFSETS.clear()
        offsets = _OFFSETS[key] = np.repeat(np.arange(0, len(sizes) * bins, bins, dtype=np.intp), sizes)
        offsets.flags.writeable = False
    return offsets


class GradientMonitor:
    """See the module docstring. Use as a context manager to remove its hooks afterwards."""

    def __init__(self, model, vanishing_ratio=1e-3, exploding_norm=1e3, dead_fraction=0.5,
                 saturated_fraction=0.5, interval=10):
        self.model = model
        self.interval = interval   # weight norms, update ratios and activation statistics every `interval` steps
        self.vanishing_ratio, self.exploding_norm = vanishing_ratio, exploding_norm
        self.dead_fraction, self.saturated_fraction = dead_fraction, saturated_fraction
        self.layers = [(n, m) for n, m in model.named_modules()
                       if any(p is not None for p in m._parameters.values()) and getattr(m, "weight", None) is not None]
        self.history = {"loss": [], "layers": [f"model.{n}" if n else "model" for n, _ in self.layers],
                        "grad_norm": [], "weight_norm": [], "update_ratio": [], "activations": {}, "grad_hist": {}}
        self._prev = None
        self._act_buffer = {}
        self._handles = []
        self._activations = [(name, m) for name, m in model.named_modules()
                             if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.ELU, nn.GELU))]
        self._watching = True
        self.steps = 0
        self._hook_activations()   # step 0 is sampled

    def _hook_activations(self):
        """Forward hooks on the activation modules, attached only for the forward pass of a sampled step (an
        idle hook still costs every forward a call)."""
        if self._watching and not self._handles:
            self._handles = [m.register_forward_hook(self._activation_hook(name, type(m).__name__))
                             for name, m in self._activations]

    def _unhook_activations(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def _activation_hook(self, name, kind):
        def hook(module, args, out):
            if not module.training:
                return None
            a = out._data
            flat = a.reshape(-1)
            mean = float(np.add.reduce(flat)) / max(flat.size, 1)
            centred = flat - mean
            # the population std as np.std computes it, in two BLAS-speed passes instead of np.std's five
            stats = {"kind": kind, "mean": mean, "std": math.sqrt(float(np.dot(centred, centred)) / max(flat.size, 1))}
            if kind == "ReLU" and a.ndim >= 2:   # units that output 0 for every sample of the batch
                peak = np.maximum.reduce(a.reshape(a.shape[0], -1), 0)   # a unit is alive when its max is > 0
                stats["dead"] = 1.0 - np.count_nonzero(peak) / max(peak.size, 1)
            elif kind == "Sigmoid":
                stats["saturated"] = float(((a < 0.01) | (a > 0.99)).mean())
            elif kind == "Tanh":
                stats["saturated"] = float((np.abs(a) > 0.99).mean())
            stats["step"] = self.steps
            self._act_buffer[name] = stats
            return None
        return hook

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def remove(self):
        """Detach from the model: no more activation hooks (the history stays for report())."""
        self._watching = False
        self._unhook_activations()

    def __call__(self, loss=None):
        self.step(loss)

    def step(self, loss=None):
        """Record this step (call after backward, usually after optimizer.step())."""
        k = self.steps % self.interval
        if k == 0:
            with np.errstate(all="ignore"):   # a diverging run is what this monitor reports, not a NumPy warning
                weights = self._sampled_step(loss)
        else:
            weights, gn = self._weights_and_grad_norms()   # other steps: gradient norms only (no warning can arise)
            unsampled = (float("nan"),) * len(gn)          # no weight norm or update ratio on this step
            self._record(loss, gn, unsampled, unsampled)
        if (k + 1) % self.interval == 0:   # the next step is sampled: keep the weights for its update ratio,
            self._prev = {id(w): _sample(w._data).copy() for w in weights}
            self._hook_activations()       # and watch its forward pass
        elif k == 0:
            self._prev = None
            self._unhook_activations()

    def _weights_and_grad_norms(self):
        weights, gn = [], []
        for _, m in self.layers:
            w = m._parameters.get("weight")   # the dict first: Module.__getattr__ is the slow path
            if w is None:
                w = m.weight
            weights.append(w)
            if w.grad is None:
                gn.append(float("nan"))
            else:
                g = w.grad._data.reshape(-1)
                gn.append(math.sqrt(float(np.dot(g, g))))
        return weights, gn

    def _record(self, loss, gn, wn, ur):
        h = self.history
        h["loss"].append(float(loss.item() if hasattr(loss, "item") else loss) if loss is not None else float("nan"))
        h["grad_norm"].append(gn)
        h["weight_norm"].append(wn)
        h["update_ratio"].append(ur)
        self.steps += 1

    def _sampled_step(self, loss):
        """A sampled step: weight norms, update ratios, gradient histograms, and the activation statistics its
        forward pass recorded."""
        weights, gn = self._weights_and_grad_norms()
        nan = float("nan")
        wn, ur = [nan] * len(weights), [nan] * len(weights)
        magnitudes = []
        for i, (w, name) in enumerate(zip(weights, self.history["layers"])):
            if w.grad is not None:   # for the log10|g| histogram, 28 bins over 1e-12 … 1e2
                magnitudes.append((name, np.abs(_sample(w.grad._data))))
            wf = w._data.reshape(-1)
            wn[i] = math.sqrt(float(np.dot(wf, wf)))
            prev = self._prev.get(id(w)) if self._prev else None
            if prev is not None:   # ‖Δw‖/‖w‖ over the same sample of entries
                ws = _sample(w._data)
                d = ws - prev
                nw = math.sqrt(float(np.dot(ws, ws)))
                ur[i] = math.sqrt(float(np.dot(d, d))) / nw if nw > 0 else nan
        if magnitudes:
            hists = _log_histograms([a for _, a in magnitudes])
            hists = hists / np.maximum(hists.sum(1, keepdims=True), 1)   # fractions of each layer's entries
            for (name, _), hist in zip(magnitudes, hists):
                self.history["grad_hist"].setdefault(name, []).append((self.steps, hist))
        for name, stats in self._act_buffer.items():
            self.history["activations"].setdefault(name, []).append(stats)
        self._act_buffer = {}
        self._record(loss, gn, wn, ur)
        return weights

    # ---- findings ------------------------------------------------------------------------------------------
    def report(self):
        h = self.history
        findings = []
        if not h["grad_norm"]:
            return Report(findings, h)
        G = np.array(h["grad_norm"], dtype=np.float64)
        U = np.array(h["update_ratio"], dtype=np.float64)
        loss = np.array(h["loss"], dtype=np.float64)
        names = h["layers"]
        # first non-finite value
        bad_loss = np.where(~np.isfinite(loss))[0]
        bad_grad = np.where(~np.isfinite(G).all(1) & ~np.isnan(G).all(1))[0]
        first = min([int(bad[0]) for bad in (bad_loss, bad_grad) if len(bad)], default=None)
        if first is not None:
            layer = next((names[j] for j in range(len(names)) if not np.isfinite(G[first, j])), None)
            findings.append(Finding("non_finite", "First non-finite value", layer, first,
                                    f"loss = {loss[first]:.4g}" + (f", gradient norm of {layer} = "
                                                                   f"{G[first, names.index(layer)]}" if layer else "")))
        finite_steps = np.isfinite(G).all(1)
        Gf = G[finite_steps]
        if len(names) >= 2 and len(Gf):
            ratio = np.median(Gf[:, 0] / np.maximum(Gf[:, -1], 1e-300))
            if ratio < self.vanishing_ratio and np.median(Gf[:, -1]) > 0:   # all-zero: dead units, below
                findings.append(Finding("vanishing", "Vanishing gradients", names[0], None,
                                        f"the first layer's gradient norm is {ratio:.2e} × the last layer's "
                                        f"(median over {len(Gf)} steps; {names[0]}: {np.median(Gf[:, 0]):.2e}, "
                                        f"{names[-1]}: {np.median(Gf[:, -1]):.2e})"))
        finite_G = np.where(np.isfinite(G), G, np.inf)
        big = np.argwhere(finite_G > self.exploding_norm)
        growth = None
        if len(Gf) >= 4:
            head = np.median(Gf[: max(len(Gf) // 4, 1)].max(1))
            tail = np.max(Gf[-max(len(Gf) // 4, 1):].max(1))
            growth = tail / max(head, 1e-300)
        if len(big) or (growth is not None and growth > 1e3) or (first is not None and len(bad_grad)):
            step, j = (int(big[0][0]), int(big[0][1])) if len(big) else (first or 0, int(np.argmax(G[0])))
            findings.append(Finding("exploding", "Exploding gradients", names[j], step,
                                    f"gradient norm {G[step, j]:.3g} (threshold {self.exploding_norm:g})"
                                    + (f", grew {growth:.3g}× from the first to the last quarter of training"
                                       if growth is not None and np.isfinite(growth) and growth > 1 else "")))
        for name, series in h["activations"].items():
            if first is not None:
                series = [st for st in series if st["step"] < first]   # after the first NaN nothing is meaningful
            if not series:
                continue
            name = f"model.{name}"
            recent = series[-max(len(series) // 4, 1):]
            if "dead" in recent[0]:
                frac = float(np.mean([s["dead"] for s in recent]))
                if frac > self.dead_fraction:
                    findings.append(Finding("dead_relu", "Dead ReLUs", name, recent[-1]["step"],
                                            f"{frac:.0%} of the units output 0 for every sample (mean activation "
                                            f"{recent[-1]['mean']:.3g}); they pass no gradient and cannot recover"))
            if "saturated" in recent[0]:
                frac = float(np.mean([s["saturated"] for s in recent]))
                if frac > self.saturated_fraction:
                    findings.append(Finding("saturated", f"Saturated {recent[0]['kind'].lower()} units", name,
                                            recent[-1]["step"], f"{frac:.0%} of the activations sit in the flat tails "
                                                             f"where the derivative is ≈ 0"))
        findings += self._learning_rate_findings(loss, U, names)
        return Report(findings, h)

    def _learning_rate_findings(self, loss, U, names):
        out = []
        fin = np.isfinite(loss)
        lf = loss[fin]
        n = len(lf)
        if n < 8:
            return out
        q = max(n // 4, 2)
        first, last = float(np.mean(lf[:q])), float(np.mean(lf[-q:]))
        Uf = U[np.isfinite(U).all(1)] if U.size else U   # the sampled steps that have a previous copy
        med_u = float(np.median(Uf)) if Uf.size else float("nan")
        diffs = np.diff(lf)
        flips = float(np.mean(np.sign(diffs[1:]) != np.sign(diffs[:-1]))) if len(diffs) > 2 else 0.0
        swing = float(np.std(diffs) / (abs(np.mean(lf)) + 1e-12))
        rises = last > first * 1.05
        oscillates = flips > 0.6 and swing > 0.2 and last > 0.7 * first
        if rises or oscillates or (np.isfinite(med_u) and med_u > 1e-1):
            why = []
            if rises:
                why.append(f"the loss rose from {first:.4g} to {last:.4g} (mean of first vs last quarter)")
            if oscillates:
                why.append(f"the loss oscillates ({flips:.0%} of steps change direction)")
            if np.isfinite(med_u) and med_u > 1e-1:
                why.append(f"median update-to-weight ratio {med_u:.2e} ≫ 1e-3")
            out.append(Finding("lr_too_high", "Learning rate too high", None, None, "; ".join(why)))
        elif np.isfinite(med_u) and 0 < med_u < 1e-5 and last > 0.99 * first:
            out.append(Finding("lr_too_low", "Learning rate too low", None, None,
                               f"median update-to-weight ratio {med_u:.2e} ≪ 1e-3 and the loss is flat "
                               f"({first:.4g} → {last:.4g})"))
        elif last > 0.99 * first and n >= 20 and med_u != 0:
            out.append(Finding("not_decreasing", "Loss not decreasing", None, None,
                               f"mean loss {first:.4g} in the first quarter vs {last:.4g} in the last"))
        return out
