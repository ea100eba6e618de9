"""A 2-layer Transformer encoder learns to reverse short integer sequences (a few seconds)."""
import numpy as np

import chainrule as cr
import chainrule.nn as nn

V, L = 8, 6


class Reverser(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.pos = nn.Embedding(V, 32), nn.Embedding(L, 32)
        self.enc = nn.TransformerEncoder(lambda: nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True), 2)
        self.out = nn.Linear(32, V)

    def forward(self, x):
        return self.out(self.enc(self.emb(x) + self.pos(cr.arange(L))))


def batch(n, seed):
    x = np.random.default_rng(seed).integers(0, V, (n, L))
    return cr.tensor(x), cr.tensor(x[:, ::-1].copy())


def test_transformer_learns_to_reverse():
    cr.manual_seed(0)
    model = Reverser()
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(400):
        x, y = batch(64, step)
        opt.zero_grad()
        loss_fn(model(x).reshape(-1, V), y.reshape(-1)).backward()
        opt.step()
    x, y = batch(500, 99_999)
    with cr.no_grad():
        acc = float((model(x).argmax(-1).numpy() == y.numpy()).mean())
    assert acc >= 0.95, acc
