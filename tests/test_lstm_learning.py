"""An LSTM learns a task a plain RNN cannot within the same budget: recall the first symbol of a sequence after
30 steps of distractor symbols on the same input channels (BPTT over 31 steps).

The LSTM's forget gate is opened at initialisation (bias 3, the standard remedy of Jozefowicz et al., 2015): at
PyTorch's default bias 0 the gate sits near σ(0) = 0.5 and the cell forgets like 0.5³⁰. The plain RNN has no gate
to open. The outcome of a single seed is chaotic: a run that sits on the plateau of "guess the most frequent class"
leaves it at a different step, or not within the budget, after a 1-ulp change anywhere (a change in Adam's
arithmetic moved seed 0's RNN from 0.49 to 0.74; computing the LSTM's gates through exp rather than tanh moved LSTM
seed 2 from 1.0 to 0.47 and seed 4 from 0.74 to 1.0). Measured at 600 steps, seeds 0-5 (chance 0.25):
LSTM 1.0 / 1.0 / 0.47 / 1.0 / 1.0 / 1.0, RNN 0.93 / 0.40 / 0.29 / 1.0 / 0.44 / 1.0: the RNN does find the solution
in some runs (40 or 60 distractor steps stop it, but also stop the LSTM at this budget). So the test asks of six
seeds what holds across runs: the LSTM solves the task (≥ 0.95) in at least four, the RNN in at most three, and the
LSTM's mean accuracy is clearly higher."""
import numpy as np

import chainrule as cr
import chainrule.nn as nn

T, K, H = 31, 4, 32


def data(n, seed):
    rng = np.random.default_rng(seed)
    sym = rng.integers(0, K, n)
    x = np.zeros((n, T, K + 1), np.float32)
    x[np.arange(n), 0, sym] = 1
    distractors = rng.integers(0, K, (n, T - 1))
    x[np.arange(n)[:, None], np.arange(1, T)[None, :], distractors] = 1
    x[:, -1, K] = 1                                          # "recall now"
    return cr.tensor(x), cr.tensor(sym)


class Recaller(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.rnn = getattr(nn, kind)(K + 1, H, batch_first=True)
        self.head = nn.Linear(H, K)
        if kind == "LSTM":
            with cr.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        p[H:2 * H] = 3.0                     # the forget gate's slice (gate order i, f, g, o)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def train(kind, seed, steps=600):
    cr.manual_seed(seed)
    model = Recaller(kind)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    for step in range(steps):
        x, y = data(32, step)
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    x, y = data(500, 10_000)
    with cr.no_grad():
        return float((model(x).argmax(1).numpy() == y.numpy()).mean())


def test_lstm_recalls_after_30_steps_where_rnn_cannot():
    # over six seeds, not one: a single run's outcome is chaotic (see the module docstring)
    lstm = [train("LSTM", seed) for seed in range(6)]
    rnn = [train("RNN", seed) for seed in range(6)]
    solved = lambda accuracies: sum(acc >= 0.95 for acc in accuracies)  # noqa: E731
    assert solved(lstm) >= 4, lstm
    assert solved(rnn) <= 3, rnn
    assert np.mean(lstm) - np.mean(rnn) >= 0.15, (lstm, rnn)
