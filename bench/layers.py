"""conv2d forward+backward (batch 32, 3→16 channels, 32×32, 3×3, padding 1) and LSTM forward+backward (batch 32,
seq 50, 64→128) against torch eager in the same process, float32, 2 threads. Targets: conv ≤ 2.0×, LSTM ≤ 1.5×.
Run: python bench/layers.py
"""
import numpy as np

from _common import interleaved_medians, ratio_range, table, try_torch

import chainrule as cr
import chainrule.nn as nn


def main():
    torch = try_torch()
    rng = np.random.default_rng(0)
    rows = []
    xa = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    conv = nn.Conv2d(3, 16, 3, padding=1)
    x = cr.tensor(xa, requires_grad=True)

    def cr_conv():
        conv.zero_grad()
        x.grad = None
        conv(x).sum().backward()
    seqa = rng.standard_normal((32, 50, 64)).astype(np.float32)
    lstm = nn.LSTM(64, 128, batch_first=True)
    s = cr.tensor(seqa, requires_grad=True)

    def cr_lstm():
        lstm.zero_grad()
        s.grad = None
        lstm(s)[0].sum().backward()
    gru = nn.GRU(64, 128, batch_first=True)

    def cr_gru():
        gru.zero_grad()
        s.grad = None
        gru(s)[0].sum().backward()
    variants = {"conv": cr_conv, "lstm": cr_lstm, "gru": cr_gru}
    if torch is not None:
        tconv = torch.nn.Conv2d(3, 16, 3, padding=1)
        tx = torch.tensor(xa, requires_grad=True)

        def t_conv_step():
            tconv.zero_grad()
            tx.grad = None
            tconv(tx).sum().backward()
        tlstm = torch.nn.LSTM(64, 128, batch_first=True)
        ts = torch.tensor(seqa, requires_grad=True)

        def t_lstm_step():
            tlstm.zero_grad()
            ts.grad = None
            tlstm(ts)[0].sum().backward()
        tgru = torch.nn.GRU(64, 128, batch_first=True)

        def t_gru_step():
            tgru.zero_grad()
            ts.grad = None
            tgru(ts)[0].sum().backward()
        variants.update(torch_conv=t_conv_step, torch_lstm=t_lstm_step, torch_gru=t_gru_step)
    # conv steps take ~4 ms, the recurrent ones ~20: rounds of 30 and 8 calls, interleaved with torch's
    fast = {k: v for k, v in variants.items() if "conv" in k}
    slow = {k: v for k, v in variants.items() if "conv" not in k}
    t, by_round = interleaved_medians(fast, rounds=7, per_round=30)
    t_slow, by_round_slow = interleaved_medians(slow, rounds=7, per_round=8, warmup=2)
    t.update(t_slow)
    by_round.update(by_round_slow)
    out = {f"{k}_us": v for k, v in t.items()}
    targets = {"conv": "≤ 2.0", "lstm": "≤ 1.5", "gru": "(none)"}
    names = {"conv": "conv2d 32×3×32×32, 3→16, 3×3", "lstm": "LSTM batch 32, seq 50, 64→128",
             "gru": "GRU batch 32, seq 50, 64→128"}
    for k in ("conv", "lstm", "gru"):
        if torch is None:
            rows.append((names[k], f"{t[k]:,.0f}", "-", "-", "-", targets[k]))
            continue
        low, high = ratio_range(by_round, k, "torch_" + k)
        rows.append((names[k], f"{t[k]:,.0f}", f"{t['torch_' + k]:,.0f}", f"{t[k] / t['torch_' + k]:.2f}",
                     f"{low:.2f}-{high:.2f}", targets[k]))
    table("layers, forward+backward, median µs, float32 (7 interleaved rounds)",
          ["layer", "chainrule", "torch", "ratio", "rounds", "target"], rows)
    return out


if __name__ == "__main__":
    main()
