"""L-BFGS (Nocedal & Wright, Numerical Optimization, alg. 7.4 and 3.5-3.6), with torch.optim.LBFGS's arguments
and stopping rules, so the same closure gives the same iterates.

One step(closure) runs up to max_iter iterations. Each builds a direction d = -H∇f from the last history_size
curvature pairs (s = Δθ, y = Δ∇f, kept only when yᵀs > 1e-10) by the two-loop recursion, with H₀ = (yᵀs / yᵀy)·I,
then moves θ ← θ + t·d: t = lr (the first iteration ever: min(1, 1/‖∇f‖₁)·lr), or a step satisfying the strong Wolfe
conditions  f(θ + td) ≤ f + c₁t∇fᵀd  and  |∇f(θ + td)ᵀd| ≤ c₂|∇fᵀd|  with line_search_fn='strong_wolfe'.
"""
import numpy as np

from ..autograd.grad_mode import enable_grad, note_write
from .optimizer import Optimizer


def _cubic_min(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, f1'=g1) and (x2, f2, g2), clipped to bounds (default: between
    the points); the midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Bracket a step t with the strong Wolfe conditions, then zoom into the bracket by cubic interpolation.
    evaluate(t) -> (f, ∇f) at θ + t·d. Returns (f, ∇f, t, evaluations)."""
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evals, it = 1, 0
    gtd_new = g_new @ d
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    while it < max_ls:                                   # 1. bracketing
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):   # too far: the minimum is behind
            pts = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        if abs(gtd_new) <= -c2 * gtd:                                 # both conditions hold: done
            pts, done = [[t, f_new, g_new, gtd_new]], True
            break
        if gtd_new >= 0:                                              # the slope turned: bracketed
            pts = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        t_next = _cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals, it = evals + 1, it + 1
        gtd_new = g_new @ d
    if it == max_ls:
        pts = [[0.0, f, g, None], [t, f_new, g_new, None]]
    low, high = (0, 1) if pts[0][1] <= pts[-1][1] else (1, 0)
    stalled = False
    while not done and it < max_ls:                      # 2. zoom
        a, b = pts[0][0], pts[1][0]
        if abs(b - a) * d_norm < tolerance_change:
            break
        t = _cubic_min(*pts[0][:2], pts[0][3], *pts[1][:2], pts[1][3])
        left, right = min(a, b), max(a, b)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:           # too close to an end: insufficient progress
            if stalled or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = evaluate(t)
        evals, it = evals + 1, it + 1
        gtd_new = g_new @ d
        if f_new > f + c1 * t * gtd or f_new >= pts[low][1]:
            pts[high] = [t, f_new, g_new, gtd_new]
            low, high = (0, 1) if pts[0][1] <= pts[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (pts[high][0] - pts[low][0]) >= 0:
                pts[high] = list(pts[low])
            pts[low] = [t, f_new, g_new, gtd_new]
    t, f_new, g_new, _ = pts[low]
    return f_new, g_new, t, evals


class LBFGS(Optimizer):
    """Limited-memory BFGS over all parameters as one vector (one parameter group). step(closure) is required:
    the closure clears the gradients, computes the loss, calls backward and returns the loss."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval or max_iter * 5 // 4,
                                      tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS: parameter groups are not supported (it optimises one vector of all parameters)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self):
        return np.concatenate([p.grad._data.reshape(-1).astype(p._data.dtype) if p.grad is not None else
                               np.zeros(p._data.size, p._data.dtype) for p in self._params])

    def _move(self, t, d):
        """θ ← θ + t·d, in place on every parameter."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += (t * d[offset:offset + n]).reshape(p._data.shape).astype(p._data.dtype)
            p._version = note_write(p._data)
            offset += n

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss), self._flat_grad()

    def step(self, closure=None):
        if closure is None:
            raise ValueError("LBFGS.step needs a closure that recomputes the loss (it evaluates the function "
                             "several times per step): optimizer.step(lambda: (opt.zero_grad(), loss_fn().backward"
                             "() ...)) — see torch.optim.LBFGS")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change, history = group["tolerance_grad"], group["tolerance_change"], group["history_size"]
        st = self.state.setdefault(self._params[0], {})
        st.setdefault("func_evals", 0)
        st.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss, g = float(orig_loss), self._flat_grad()
        evals = 1
        st["func_evals"] += 1
        if np.abs(g).max() <= tol_grad:
            return orig_loss
        d, t = st.get("d"), st.get("t")
        dirs, steps, rho = st.get("old_dirs"), st.get("old_stps"), st.get("ro")
        h_diag, g_prev = st.get("H_diag"), st.get("prev_flat_grad")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            st["n_iter"] += 1
            if st["n_iter"] == 1:
                d, dirs, steps, rho, h_diag = -g, [], [], [], 1.0
            else:
                y, s = g - g_prev, d * t
                ys = y @ s
                if ys > 1e-10:                              # keep the pair only where the curvature is positive
                    if len(dirs) == history:
                        dirs.pop(0), steps.pop(0), rho.pop(0)
                    dirs.append(y), steps.append(s), rho.append(1.0 / ys)
                    h_diag = ys / (y @ y)
                q = -g                                      # two-loop recursion: d = -H g
                alpha = [0.0] * len(dirs)
                for i in range(len(dirs) - 1, -1, -1):
                    alpha[i] = (steps[i] @ q) * rho[i]
                    q = q - alpha[i] * dirs[i]
                d = q * h_diag
                for i in range(len(dirs)):
                    d = d + steps[i] * (alpha[i] - (dirs[i] @ d) * rho[i])
            g_prev, prev_loss = g.copy(), loss
            t = min(1.0, 1.0 / np.abs(g).sum()) * lr if st["n_iter"] == 1 else lr
            gtd = g @ d
            if gtd > -tol_change:                           # not a descent direction any more
                break
            ls_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                start = [p._data.copy() for p in self._params]

                def at(step):
                    self._move(step, d)
                    out = self._evaluate(closure)
                    for p, x in zip(self._params, start):
                        p._data[...] = x
                    return out
                loss, g, t, ls_evals = _strong_wolfe(at, t, d, loss, g, gtd, tolerance_change=tol_change)
                self._move(t, d)
            else:
                self._move(t, d)
                if n_iter != max_iter:
                    loss, g = self._evaluate(closure)
                    ls_evals = 1
            evals += ls_evals
            st["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or np.abs(g).max() <= tol_grad or \
                    np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        st.update(d=d, t=t, old_dirs=dirs, old_stps=steps, ro=rho, H_diag=h_diag, prev_flat_grad=g_prev,
                  prev_loss=prev_loss)
        return orig_loss
