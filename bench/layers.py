"""conv2d forward+backward (batch 32, 3→16 channels, 32×32, 3×3, padding 1) and LSTM forward+backward (batch 32,
seq 50, 64→128) against torch eager in the same process, float32, 2 threads. Targets: conv ≤ 2.0×, LSTM ≤ 1.5×.
Run: python bench/layers.py
"""
import numpy as np

from _common import median_us, table, try_torch

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
    t_conv, t_lstm = median_us(cr_conv, repeat=30), median_us(cr_lstm, repeat=10, warmup=2)
    t_gru = median_us(cr_gru, repeat=10, warmup=2)
    out = {"conv_us": t_conv, "lstm_us": t_lstm, "gru_us": t_gru}
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
        out["torch_conv_us"] = median_us(t_conv_step, repeat=30)
        out["torch_lstm_us"] = median_us(t_lstm_step, repeat=10, warmup=2)
        out["torch_gru_us"] = median_us(t_gru_step, repeat=10, warmup=2)
    rows.append(("conv2d 32×3×32×32, 3→16, 3×3", f"{t_conv:,.0f}", f"{out.get('torch_conv_us', float('nan')):,.0f}",
                 f"{t_conv / out['torch_conv_us']:.2f}" if torch else "-", "≤ 2.0"))
    rows.append(("LSTM batch 32, seq 50, 64→128", f"{t_lstm:,.0f}", f"{out.get('torch_lstm_us', float('nan')):,.0f}",
                 f"{t_lstm / out['torch_lstm_us']:.2f}" if torch else "-", "≤ 1.5"))
    rows.append(("GRU batch 32, seq 50, 64→128", f"{t_gru:,.0f}", f"{out.get('torch_gru_us', float('nan')):,.0f}",
                 f"{t_gru / out['torch_gru_us']:.2f}" if torch else "-", "(none)"))
    table("layers, forward+backward, median µs, float32", ["layer", "chainrule", "torch", "ratio", "target"], rows)
    return out


if __name__ == "__main__":
    main()
