"""Non-finite input against torch, over every registered op (the NaN outputs are in test_torch_registry.py).
- ±∞ in, torch's answer out: one entry of each differentiable input set to +∞ (then -∞) must give torch's output, ∞
  for ∞ and NaN for NaN, unless INF_DIFFERS says why not. An op whose output stays finite may not warn: a NumPy
  warning there means a NaN was made inside the op and then thrown away.
- A NaN's gradient stays where torch's does: with one NaN in each differentiable input, the gradient is NaN where
  torch's is, and nowhere else but at the NaN entries themselves (chainrule's derivative there is NaN, where a
  comparison in torch's backward may give a number), unless GRADIENT_NAN_DIFFERS says why not."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.registry import OPS

pytest.importorskip("torch", reason="torch is the oracle these ops are compared against")
import torch  # noqa: E402
from test_torch_registry import (CASES, GRADIENT_DIFFERS, NAN_DIFFERS, TOLERANCE, _torch_call,  # noqa: E402
                                 call_recording_warnings, prepared_with_one)

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
    assert set(INF_DIFFERS) <= set(OPS) and set(GRADIENT_NAN_DIFFERS) <= set(OPS)


@pytest.mark.parametrize("case", INF_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{'+' if c[2] > 0 else '-'}inf")
def test_infinity_gives_torchs_output(case):
    name, i, infinity = case
    flat, call, torch_args = prepared_with_one(infinity, name, i)
    out, caught = call_recording_warnings(call, flat)
    if out is None:
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


_SHARED = ("a NaN max or min sends its gradient to the NaN entries that made it, shared among them (as a number "
           "max does among ties); torch's backward compares x == NaN, finds no entry and divides by 0: NaN everywhere")
GRADIENT_NAN_DIFFERS = {
    "amax": _SHARED, "amin": _SHARED, "scatter_reduce": _SHARED,
    "linear_cross_entropy": "an ignored row sends no gradient, even with a NaN logit (torch: 0·NaN = NaN)",
    "dist": "the gradient of |x - y| is sign(x - y), NaN at a NaN difference (chainrule's sign keeps NaN, torch's "
            "gives 0), so a NaN in y makes x's gradient NaN there too",
    "cumprod": "the partial products after a 0 are 0 whatever follows; chainrule's x₀·NaN term is NaN, torch's "
               "zero-aware backward gives 0",
}
GRADIENT_NAN_CASES = [(n, i) for n, i in CASES if n not in NAN_DIFFERS and n not in GRADIENT_NAN_DIFFERS
                      and GRADIENT_DIFFERS.get(n, ()) != "all" and i not in GRADIENT_DIFFERS.get(n, ())]


@pytest.mark.parametrize("case", GRADIENT_NAN_CASES, ids=[f"{n}[{i}]" for n, i in GRADIENT_NAN_CASES])
def test_nan_gradient_stays_where_torchs_does(case):
    name, i = case
    flat, call, torch_args = prepared_with_one(np.nan, name, i)
    out, _ = call_recording_warnings(call, flat)
    if out is None:   # refused, as test_nan_propagates_as_in_torch checks
        return
    t_args, t_kwargs, leaves = torch_args()
    t_out = _torch_call(name, t_args, t_kwargs)
    t_out = t_out[0] if isinstance(t_out, tuple) and not isinstance(out, tuple) else t_out
    if not flat or not out.requires_grad or not t_out.requires_grad:
        return
    cotangent = np.random.default_rng(7).standard_normal(out.shape)
    try:
        ours = cr.autograd.grad(out, flat, cr.tensor(cotangent), allow_unused=True)
    except cr.errors.LinAlgError as e:   # det's backward through an SVD of the NaN matrix: named, not a silent NaN
        assert "needs finite values" in str(e), e
        return
    theirs = torch.autograd.grad(t_out, leaves, torch.from_numpy(cotangent), allow_unused=True)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        a = np.zeros(flat[k].shape) if a is None else a.numpy()
        b = np.zeros(flat[k].shape) if b is None else b.numpy()
        own_nan = np.isnan(flat[k].detach().numpy())
        extra, missing = np.isnan(a) & ~np.isnan(b) & ~own_nan, np.isnan(b) & ~np.isnan(a)
        assert not extra.any(), f"{name} sample {i}: input {k}'s gradient is NaN at {np.argwhere(extra).tolist()}, " \
                                f"where torch's is a number (a 0·NaN in the backward?)"
        assert not missing.any(), f"{name} sample {i}: input {k}'s gradient is a number at " \
                                  f"{np.argwhere(missing).tolist()}, where torch's is NaN (a NaN hidden?)"
