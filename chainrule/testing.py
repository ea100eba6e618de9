"""torch.testing.assert_close: tensors, arrays, numbers or nested lists/tuples/dicts of them compared with
|actual - expected| ≤ atol + rtol·|expected|, defaults chosen by dtype as torch does."""
import numpy as np

from .tensor import Tensor

# torch's defaults: (rtol, atol) by dtype
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


def _array(x):
    if isinstance(x, Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError naming the mismatch (how many elements, the greatest absolute and relative
    difference and where) unless actual and expected are close. rtol and atol go together."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"assert_close: give both rtol and atol or neither, got rtol={rtol} and atol={atol}")
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            raise AssertionError(msg or f"assert_close: the dicts' keys differ: {sorted(map(str, actual))} vs "
                                        f"{sorted(map(str, expected))}")
        for k in expected:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                         msg=msg)
        return
    if isinstance(expected, (list, tuple)) and not all(isinstance(e, (int, float, bool)) for e in expected):
        if len(actual) != len(expected):
            raise AssertionError(msg or f"assert_close: sequences of length {len(actual)} and {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"assert_close: the shapes do not match: {a.shape} != {e.shape}")
    both_tensors = isinstance(actual, Tensor) and isinstance(expected, Tensor)
    if check_dtype and both_tensors and a.dtype != e.dtype:
        raise AssertionError(msg or f"assert_close: the dtypes do not match: {a.dtype} != {e.dtype}")
    if rtol is None:
        rtol, atol = max(_TOLERANCES.get(a.dtype, (0.0, 0.0)), _TOLERANCES.get(e.dtype, (0.0, 0.0)))
    if a.dtype.kind in "biu" and e.dtype.kind in "biu" and rtol == 0 and atol == 0:
        bad = a != e
    else:
        af, ef = a.astype(np.float64), e.astype(np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isclose(af, ef, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if bad.any():
        af, ef = a.astype(np.float64), e.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            abs_diff = np.abs(af - ef)
            rel_diff = abs_diff / np.abs(ef)
        worst = np.unravel_index(np.nanargmax(np.where(bad, abs_diff, -1)), a.shape) if a.ndim else ()
        text = (f"Tensor-likes are not close!\n\nMismatched elements: {int(bad.sum())} / {bad.size} "
                f"({100 * bad.mean():.1f}%)\nGreatest absolute difference: {np.nanmax(abs_diff[bad])} at index "
                f"{tuple(int(i) for i in worst)} (up to {atol} allowed)\nGreatest relative difference: "
                f"{np.nanmax(rel_diff[bad])} (up to {rtol} allowed)")
        raise AssertionError(msg(text) if callable(msg) else msg or text)


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated torch.testing.assert_allclose: assert_close without the dtype check."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)
