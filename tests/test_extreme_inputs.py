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


def test_lerp_is_exact_at_the_ends_and_takes_the_limit_at_infinity():
    """torch's two-branch lerp: w = 1 gives `end` exactly (a + (b - a) rounds 1e16 + (1 - 1e16) to 0), and where one
    branch meets ∞ - ∞ the other gives the limit."""
    one, big = cr.tensor([1.0], dtype=cr.float64), cr.tensor([1e16], dtype=cr.float64)
    assert cr.lerp(big, one, 1.0).item() == 1.0 and cr.lerp(big, one, 0.0).item() == 1e16
    a = cr.tensor([-np.inf, -1.25, np.inf], dtype=cr.float64)
    b = cr.tensor([-1.5, np.inf, -1.0], dtype=cr.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(cr.lerp(a, b, 0.75).numpy(), [-np.inf, np.inf, np.inf])
        np.testing.assert_array_equal(cr.lerp(a, b, -0.5).numpy(), [-np.inf, -np.inf, np.inf])
        np.testing.assert_array_equal(cr.lerp(a, b, 1.5).numpy(), [np.inf, np.inf, -np.inf])

def test_quantile_of_log_probabilities_with_minus_infinity():
    """Between -∞ and a number the quantile is -∞ (it was NaN: -∞ + ¾·∞); its gradient reaches the finite entries."""
    logp = cr.tensor([[-np.inf, -0.5, -1.5, -3.0]], dtype=cr.float64, requires_grad=True)
    q = cr.quantile(logp, 0.2, dim=1)
    assert q.item() == -np.inf
    m = cr.quantile(logp, 0.5, dim=1)
    np.testing.assert_allclose(m.item(), -2.25)
    m.sum().backward()
    np.testing.assert_allclose(logp.grad.numpy(), [[0.0, 0.0, 0.5, 0.5]])
    assert cr.nanquantile(cr.tensor([0.5, 1.0, -np.inf, np.nan], dtype=cr.float64), 0.4).item() == -np.inf


def _grad(fn, *inputs):
    ts = [cr.tensor(x, dtype=cr.float64, requires_grad=True) for x in inputs]
    fn(*ts).sum().backward()
    return [t.grad.numpy() for t in ts]


def test_a_nan_gradient_stays_at_the_nan():
    """A NaN in one entry (or one slope, or one slice's norm) must not make the other entries' gradients NaN
    through a 0·NaN in the backward, and a NaN entry's own gradient is NaN, not a number that hides it."""
    nan = np.nan
    # prelu's positive entries have slope 1 whatever the learned slope is
    g_x, g_a = _grad(cr.nn.functional.prelu, [[1.0, -2.0], [3.0, -1.0]], [nan])
    np.testing.assert_array_equal(g_x, [[1.0, nan], [1.0, nan]])
    np.testing.assert_array_equal(g_a, [-3.0])   # Σ of the negative x: the slope itself does not enter
    # renorm leaves a slice whose norm is NaN unscaled (NaN > maxnorm fails), so its gradient is the identity
    (g,) = _grad(lambda x: cr.renorm(x, 2, 0, 1.0) * cr.tensor([1.0, 2.0], dtype=cr.float64), [[3.0, 4.0], [nan, 1.0]])
    np.testing.assert_allclose(g[1], [1.0, 2.0])
    # entr and kl_div: the derivative at a NaN probability is NaN
    (g,) = _grad(cr.special.entr, [0.5, nan, 0.0])
    assert np.isfinite(g[0]) and np.isnan(g[1])
    _, g_t = _grad(lambda x, t: cr.nn.functional.kl_div(x, t, reduction="sum"), [-1.0, -0.5], [0.5, nan])
    assert np.isfinite(g_t[0]) and np.isnan(g_t[1])
    # the nonzero count (ord 0) has no gradient, also at a NaN
    (g,) = _grad(lambda x: cr.linalg.vector_norm(x, 0), [0.0, nan, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_scatter_amax_of_a_nan_sends_the_gradient_to_the_nans():
    """As amax: the NaN result's gradient is shared by the NaN entries that made it, none to the numbers."""
    x = cr.tensor([1.0, nan := np.nan, 0.0], dtype=cr.float64, requires_grad=True)
    src = cr.tensor([5.0, nan, 2.0], dtype=cr.float64, requires_grad=True)
    out = x.scatter_reduce(0, cr.tensor([1, 1, 2]), src, "amax")
    assert np.isnan(out[1].item())
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(src.grad.numpy(), [0.0, 0.5, 1.0])
