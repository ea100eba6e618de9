"""Random state: one global NumPy Generator, reseeded by manual_seed, and torch-style Generator objects."""
import numpy as np

_global = [np.random.default_rng(0)]


class Generator:
    """A separate random stream, as torch.Generator: g = Generator().manual_seed(0)."""

    def __init__(self, device="cpu"):
        self.rng = np.random.default_rng()

    def manual_seed(self, seed):
        self.rng = np.random.default_rng(int(seed))
        return self


def manual_seed(seed):
    """Make every random op (randn, init, dropout, shuffling) repeatable."""
    _global[0] = np.random.default_rng(int(seed))
    return _global[0]


seed = manual_seed


def _gen(generator=None):
    if generator is None:
        return _global[0]
    return generator.rng if isinstance(generator, Generator) else generator


_DETERMINISTIC = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """torch's switch, recorded for code that sets and reads it: every chainrule op is already deterministic on the
    CPU (NumPy reductions and BLAS give the same result for the same inputs and thread count), so it changes no
    result."""
    _DETERMINISTIC.update(mode=bool(mode), warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled():
    return _DETERMINISTIC["mode"]
