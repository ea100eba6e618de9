"""Cost of watching: the train step of bench/train_step.py plain, with a GradientMonitor (target < 15 %
overhead) and under detect_anomaly (target ≤ 1.5×), in the same process. Run: python bench/diagnose_overhead.py

The monitor does more on every 10th step (histograms, weight norms, activation statistics), so each variant is
timed as the mean over blocks of whole intervals (a median would only see the cheap steps), in rounds that
alternate the three variants so that drift of the machine falls on all of them alike.
"""
import numpy as np

from _common import block_mean_us, interleaved_block_means, median_us, table
from train_step import SIZES, chainrule_model, init_params

import chainrule as cr
import chainrule.nn as nn


def main():
    rng = np.random.default_rng(0)
    rows, results = [], []
    for batch, n_in, hidden, n_out in SIZES[:3]:
        params = init_params(n_in, hidden, n_out, rng)
        x = cr.tensor(rng.standard_normal((batch, n_in)).astype(np.float32))
        y = cr.tensor(rng.integers(0, n_out, batch))
        model = chainrule_model(params)
        opt = cr.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = nn.CrossEntropyLoss()

        def step(after=None):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            if after is not None:
                after(loss)

        def plain(n):
            return block_mean_us(step, n)

        def monitored(n):
            with cr.diagnose.GradientMonitor(model) as monitor:   # hooks on only while this block runs
                return block_mean_us(lambda: step(monitor.step), n)

        def anomaly(n):
            with cr.autograd.detect_anomaly():
                return block_mean_us(step, n)
        n = 20 if hidden >= 512 else 100   # whole multiples of the monitor's 10-step interval
        median_us(step, repeat=n, warmup_s=0.5)
        t = interleaved_block_means({"plain": plain, "monitor": monitored, "anomaly": anomaly}, rounds=9, n=n)
        t_plain, t_mon, t_anom = t["plain"], t["monitor"], t["anomaly"]
        results.append({"size": (batch, n_in, hidden, n_out), "plain_us": t_plain, "monitor": t_mon / t_plain,
                        "anomaly": t_anom / t_plain})
        rows.append((f"{batch}, {n_in}→{hidden}→{hidden}→{n_out}", f"{t_plain:,.0f}", f"{t_mon:,.0f}",
                     f"{(t_mon / t_plain - 1) * 100:+.0f} %", f"{t_anom:,.0f}", f"{t_anom / t_plain:.2f}×"))
    table("train step with diagnosis on (µs per step: mean over whole 10-step intervals, median of 9 rounds)",
          ["batch, sizes", "plain", "monitor", "monitor overhead", "detect_anomaly", "anomaly ratio"], rows)
    print("targets: monitor overhead < 15 %, detect_anomaly ≤ 1.5×")
    return results


if __name__ == "__main__":
    main()
