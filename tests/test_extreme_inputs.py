"""Every registered op on the inputs training goes wrong with: ±1e308, ±inf, nan, ±1e4, ±0 and a subnormal, mixed
at random into each sample's float inputs. Each op must come back (a value, nan where the math has none) or raise an
error that names it, never hang (the Hurwitz zeta walked to 16 + x for x = inf) and never raise a bare
OverflowError or NumPy LinAlgError from inside (lgamma(1e308), matrix_exp of inf, an SVD of nan). NumPy's
RuntimeWarnings on inf/nan arithmetic are allowed here, as torch returns nan silently; the finite extremes of the
issue (±1000 through sigmoid, softplus, logsumexp, log_softmax) are warning-free, tested in test_engine.py."""
import re
import signal
import warnings
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.registry import OPS

EXTREMES = np.array([1e308, -1e308, np.inf, -np.inf, np.nan, 1e4, -1e4, 0.0, -0.0, 1e-310])
SECONDS = 20   # per op, all its samples (the slowest, gamma_quantile's Halley steps on nan, takes ~1.3 s)


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang


@pytest.mark.parametrize("name", sorted(OPS))
def test_an_op_given_inf_nan_and_huge_values_returns_or_names_itself(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))

    def extreme(arr, grad):
        if arr.dtype.kind == "f" and arr.size:
            arr = rng.choice(EXTREMES, size=arr.shape).astype(arr.dtype)
        return cr.tensor(arr)

    timed = hasattr(signal, "SIGALRM")
    if timed:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(SECONDS)
    try:
        for smp in OPS[name].samples:
            flat, call, _ = smp.build(rng, extreme)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    call(*flat)
                except _Hang:
                    raise
                except Exception as exc:   # must be chainrule's own error, or one whose message starts "name: "
                    named = type(exc).__module__ == "chainrule.errors" or re.match(r"^[\w.]+(\(\))?: ", str(exc))
                    assert named, f"{name}({smp.describe()}) raised a bare {type(exc).__module__}.{type(exc).__name__}: {exc}"
    except _Hang:
        pytest.fail(f"{name} did not return within {SECONDS} s on extreme inputs")
    finally:
        if timed:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
