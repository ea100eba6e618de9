"""Random state: one global NumPy Generator, reseeded by manual_seed, and torch-style Generator objects. A state
can be read and restored as a uint8 tensor (get_rng_state / set_rng_state), as torch's ByteTensor state."""
import json

import numpy as np

_global = [np.random.default_rng(0)]
_initial = [0]


def _fresh_seed():
    """A seed from the OS's entropy, in the range torch's seeds take."""
    return int(np.random.SeedSequence().entropy % 2 ** 63)


class Generator:
    """A separate random stream, as torch.Generator: g = Generator().manual_seed(0)."""

    def __init__(self, device="cpu"):
        self.manual_seed(_fresh_seed())

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from fresh entropy and return the new seed."""
        return self.manual_seed(_fresh_seed())._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return _encode(self.rng)

    def set_state(self, new_state):
        _decode_into(self.rng, new_state, "Generator.set_state")
        return self


def manual_seed(seed):
    """Make every random op (randn, init, dropout, shuffling) repeatable."""
    _initial[0] = int(seed)
    _global[0] = np.random.default_rng(int(seed))
    return _global[0]


def seed():
    """Reseed the global stream from fresh entropy; returns the seed (torch.seed)."""
    new = _fresh_seed()
    manual_seed(new)
    return new


def initial_seed():
    """The seed the global stream started from (0 until manual_seed is called)."""
    return _initial[0]


def _encode(rng):
    from .tensor import Tensor
    text = json.dumps({"bit_generator": type(rng.bit_generator).__name__, "state": rng.bit_generator.state})
    return Tensor._wrap(np.frombuffer(text.encode(), dtype=np.uint8).copy())


def _decode_into(rng, state, where):
    from .tensor import Tensor
    raw = state._data if isinstance(state, Tensor) else np.asarray(state)
    try:
        saved = json.loads(raw.astype(np.uint8).tobytes().decode())
        if saved["bit_generator"] != type(rng.bit_generator).__name__:
            raise ValueError(saved["bit_generator"])
        rng.bit_generator.state = saved["state"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where}: not a state from get_rng_state() / Generator.get_state() ({exc})") from None


def get_rng_state():
    """The global stream's state as a uint8 tensor; set_rng_state(state) rewinds to it."""
    return _encode(_global[0])


def set_rng_state(new_state):
    _decode_into(_global[0], new_state, "set_rng_state")


_REFUSING = [0]   # > 0 inside vmap(randomness='error'): every random op asks for a generator here, and is refused


def _gen(generator=None):
    if _REFUSING[0]:
        raise RuntimeError("vmap: a random op ran inside vmap(..., randomness='error') (torch's default). Pass "
                           "randomness='different' for fresh numbers per entry or 'same' for one draw shared by all "
                           "entries, or draw the random numbers outside vmap")
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
