"""±∞ in, torch's answer out: each registered op is run with one entry of each differentiable input set to +∞ (then
-∞) and must give torch's output, ∞ for ∞ and NaN for NaN, unless INF_DIFFERS says why not. An op whose output
stays finite may not warn: a NumPy warning there means a NaN was made inside the op and then thrown away."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.registry import OPS

pytest.importorskip("torch", reason="torch is the oracle these ops are compared against")
from test_torch_registry import CASES, NAN_DIFFERS, TOLERANCE, _plain, _prepared, _torch_call  # noqa: E402

_LIMIT = "chainrule gives the limit at ±∞ where torch gives NaN"
INF_DIFFERS = {
    **{n: _LIMIT + " (the function decays or grows to it)" for n in
       ("airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "i0", "i1")},
    "zeta": _LIMIT + ": ζ(∞, q) = 0 for q > 1 and ζ(s, ∞) = 0",
    "polygamma": _LIMIT + " at +∞ (ψ⁽ⁿ⁾ → 0); at -∞, where the poles crowd together, NaN where torch has -∞",
    "lerp": _LIMIT + ": torch's two-branch formula meets ∞ - ∞ in one branch, chainrule then reads the other "
                     "(lerp(-1, ∞, -½) is -∞)",
    "quantile": "interpolates with lerp, so between a number and ±∞ it gives ±∞, where torch gives NaN",
    "nanquantile": "interpolates with lerp, so between a number and ±∞ it gives ±∞, where torch gives NaN",
    "ctc_loss": "a log-probability of +∞ is no probability: chainrule's loss is the limit -∞ (through NaNs on "
                "unreachable paths), torch gives NaN",
    "group_norm": "with weight and bias ∞, x̂·γ + β is ∞ where x̂ > 0; torch folds the affine into x·(γ/σ) + "
                  "(β - μγ/σ), which meets ∞ - ∞ and gives NaN",
    "instance_norm": "as group_norm: torch's folded affine gives NaN where x̂·γ + β is ∞",
    "det": "LAPACK's LU of a matrix holding ∞ (NumPy's and torch's pivot differently); with ∞ in a dependent row "
           "chainrule gives 0, torch ±∞",
    "matrix_power": "the products are associated differently, so ∞·0 lands in different entries",
    "cholesky_solve": "the two triangular solves (NumPy has no triangular solver) spread a NaN further than "
                      "LAPACK's",
    "lu_solve": "the triangular solves spread a NaN further than LAPACK's",
    "gaussian_nll_loss": "a variance of -∞ is negative: chainrule raises its named ValueError, torch gives NaN",
    "kl_div": "a target probability of -∞ is negative: chainrule raises its named ValueError, torch gives NaN",
}
INF_CASES = [(n, i, sign) for n, i in CASES if n not in NAN_DIFFERS and n not in INF_DIFFERS
             for sign in (np.inf, -np.inf)]


def test_every_difference_names_a_registered_op():
    assert set(INF_DIFFERS) <= set(OPS)


@pytest.mark.parametrize("case", INF_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{'+' if c[2] > 0 else '-'}inf")
def test_infinity_gives_torchs_output(case):
    name, i, infinity = case
    rng = np.random.default_rng(i)

    def one_infinity(arr, grad):
        if grad and arr.dtype.kind == "f" and arr.size:
            arr = arr.copy()
            arr.flat[rng.integers(arr.size)] = infinity
        return _plain(arr, grad)
    flat, call, torch_args = _prepared(name, OPS[name].samples[i], 1000 + i, one_infinity)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call(*flat)
        except cr.errors.LinAlgError as e:
            assert "needs finite values" in str(e), e
            return
    t_args, t_kwargs, _ = torch_args()
    try:
        t_out = _torch_call(name, t_args, t_kwargs)
    except RuntimeError:   # torch refuses the input (a singular or non-finite matrix): nothing to compare
        return
    t_out = t_out[0] if isinstance(t_out, tuple) and not isinstance(out, tuple) else t_out
    a, b = out.detach().numpy(), t_out.detach().numpy()
    assert a.shape == b.shape
    if a.dtype.kind != "f":
        return
    if np.isfinite(a).all():
        assert not caught, f"{name}: a finite output, yet NumPy warned: {[str(w.message) for w in caught]}"
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{name} sample {i}: NaN where torch has none, "
                                                                     f"or a number where torch has NaN")
    tol = TOLERANCE.get(name, 1e-9)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=f"{name} sample {i}: values at {infinity}")
