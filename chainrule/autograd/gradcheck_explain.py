"""A gradcheck that diagnoses instead of only failing.

- float32 inputs are cast to float64 with a warning (finite differences in float32 are the classic false alarm);
- the step ε is swept (1e-2 … 1e-10): truncation error falls as ε² while rounding error grows as 1/ε, so the
  sweep tells which one a mismatch is, and the best ε is used;
- an entry whose left and right difference quotients disagree sits on a kink (relu at 0, a tie in max): it is
  reported as a kink, with the analytical value checked to lie between the one-sided derivatives (a valid
  subgradient), not as a mismatch;
- the worst (input element, output element) pairs are listed.
"""
import numpy as np

from .grad_mode import no_grad

Tensor = None


def _outputs(fn, inputs):
    with no_grad():
        out = fn(*inputs)
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    return np.concatenate([o._data.reshape(-1).astype(np.float64) for o in outs])


def _one_sided(fn, inputs, x, i, h):
    """(right, left) difference quotients of every output with respect to element i of x."""
    flat = x._data.reshape(-1)
    orig = flat[i]
    base = _outputs(fn, inputs)
    flat[i] = orig + h
    plus = _outputs(fn, inputs)
    flat[i] = orig - h
    minus = _outputs(fn, inputs)
    flat[i] = orig
    return (plus - base) / h, (base - minus) / h


class GradcheckReport:
    def __init__(self):
        self.ok = True
        self.lines = []
        self.mismatches = []   # (input, input index, output index, analytical, numerical, rel diff)
        self.kinks = []
        self.best_eps = None
        self.sweep = []

    def __str__(self):
        head = "gradcheck (explain): " + ("PASS" if self.ok else "FAIL")
        return "\n".join([head] + self.lines)


def explain_gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, names=None, worst=5):
    from .gradcheck import analytical_jacobians, numerical_jacobians
    report = GradcheckReport()
    ana = analytical_jacobians(fn, inputs)
    sweep_eps = [1e-2, 1e-4, 1e-6, 1e-8, 1e-10]
    errors = []
    nums = {}
    for e in sweep_eps:
        num = numerical_jacobians(fn, inputs, e)
        nums[e] = num
        err = max((float(np.max(np.abs(a - n))) for a, n in zip(ana, num) if a is not None and a.size), default=0.0)
        errors.append(err)
        report.sweep.append((e, err))
    best = int(np.argmin(errors))
    report.best_eps = sweep_eps[best]
    trend = ("truncation error dominates at large ε (error falls as ε shrinks)" if best > 0 else
             "the error is smallest at the largest ε")
    if best < len(sweep_eps) - 1 and errors[-1] > errors[best] * 10:
        trend += "; rounding error dominates at small ε (error grows as ε shrinks)"
    report.lines.append("step-size sweep: " + ", ".join(f"ε={e:g}: max |Δ|={err:.1e}" for e, err in report.sweep))
    report.lines.append(f"  → best ε = {report.best_eps:g}; {trend}")
    num = nums[report.best_eps]
    for k, (x, a, n) in enumerate(zip(inputs, ana, num)):
        if a is None:
            continue
        label = names[k] if names else f"input {k}"
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        for r, c in np.argwhere(bad):
            right, left = _one_sided(fn, inputs, x, int(r), 1e-7)
            lo, hi = min(left[c], right[c]), max(left[c], right[c])
            idx = [int(v) for v in np.unravel_index(int(r), x.shape)] if x.ndim else []
            if abs(left[c] - right[c]) > 1e-3 * max(1.0, abs(left[c]), abs(right[c])):
                valid = lo - atol <= a[r, c] <= hi + atol
                report.kinks.append((label, idx, int(c), float(a[r, c]), float(left[c]), float(right[c]), valid))
                if not valid:
                    report.ok = False
                continue
            rel = abs(a[r, c] - n[r, c]) / max(abs(a[r, c]), abs(n[r, c]), 1e-12)
            report.mismatches.append((label, idx, int(c), float(a[r, c]), float(n[r, c]), rel))
            report.ok = False
    for label, idx, c, av, left, right, valid in report.kinks[:worst]:
        report.lines.append(f"kink: {label}{idx} sits on a non-differentiable point for output {c} (left "
                            f"derivative {left:.6g}, right {right:.6g}); the analytical {av:.6g} "
                            + ("is a valid subgradient — not a mismatch" if valid else "lies outside them: WRONG"))
    report.mismatches.sort(key=lambda m: -m[5])
    for label, idx, c, av, nv, rel in report.mismatches[:worst]:
        report.lines.append(f"mismatch: d output[{c}] / d {label}{idx}: analytical {av:.10g}, numerical {nv:.10g},"
                            f" relative difference {rel:.3g}")
    if report.ok and not report.kinks:
        report.lines.append("all entries agree")
    return report
