"""Every registered op given integer or bool tensors, as torch computes it: where torch accepts the inputs,
chainrule gives torch's dtype and values, or says below why not.
- Float ops take integers in the default float dtype (sigmoid and erf of int64 gave 0, 0, 0; exp, log, the
  trigonometric ops, logsumexp, logit, atan2 and clamp with a float bound gave float64).
- Losses with an integer input and a float target cast the target down to int (smooth_l1 0.375 for 0.286,
  gaussian_nll NaN): they compute in the target's float dtype now.
- max_pool with padding crashed on integers (-inf padding), cov and corrcoef refused them, diff refused bools,
  pow of integers to negative integer tensors raised a ShapeError (torch: 1, ±1 or 0), einsum and
  cosine_similarity of int64 with float32 gave float64.
The tensors the samples build from float64 arrays are int64 (×3, rounded), bool (> 0), or int64 in the first or
the last float position with float32 elsewhere; integer arguments (indices, labels) stay as they are."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.registry import OPS

pytest.importorskip("torch", reason="torch is the oracle for the dtypes of ops on integer inputs")
import torch  # noqa: E402
from test_torch_registry import CASES, _prepared, _torch_call  # noqa: E402

# torch keeps the integer dtype and computes in integers; chainrule computes in the default float dtype
TORCH_KEEPS_INTEGERS = {"addbmm", "addcmul", "addmm", "addmv", "baddbmm", "index_add", "masked_fill", "threshold",
                        "hardtanh", "relu6", "bilinear", "avg_pool1d", "avg_pool2d", "avg_pool3d", "einsum", "pow"}
# torch's integer arithmetic truncates along the way: its values are not the answer
TORCH_TRUNCATES = {
    "avg_pool1d": "the window's mean in integer division", "avg_pool2d": "as avg_pool1d", "avg_pool3d": "as avg_pool1d",
    "lp_pool2d": "its average pool of xᵖ divides in integers", "lp_pool3d": "as lp_pool2d",
    "local_response_norm": "its average pool of x² divides in integers",
    "gradient": "torch gives ±inf for integer values with float spacing",
    "addcmul": "torch truncates value=0.5 to 0 for integers", "addmm": "torch truncates alpha and beta",
    "addmv": "as addmm", "baddbmm": "as addmm", "index_add": "torch casts alpha=-2 to a bool",
    "masked_fill": "torch casts the fill value -1 to a bool",
}
# differences left alone, each with its reason
LEFT_ALONE = {
    ("solve_triangular", "last"): "int64 right-hand side with a float32 matrix: chainrule solves in float64 (LAPACK)",
    ("margin_ranking_loss", "first"): "torch gives float64 for int64 ⊕ float32 here, against its own promotion rule",
    ("pow", "bool"): "torch gives int64 for bool ** int8; chainrule int8, the promotion of the two",
    ("einsum", "bool"): "torch sums bools to int64 through some equations ('ij->') and not others",
    ("scatter_reduce", "bool"): "amax and amin over bools are not supported (NumPy has no maximum.at for bool)",
}
MODES = ("int64", "bool", "first", "last")


def _factory(mode, total):
    seen = [0]

    def make(arr, grad):
        if arr.dtype != np.float64:
            return cr.tensor(arr)
        k, seen[0] = seen[0], seen[0] + 1
        as_int = mode == "int64" or (mode == "first" and k == 0) or (mode == "last" and k == total - 1)
        if mode == "bool":
            return cr.tensor(arr > 0)
        if as_int:
            return cr.tensor(np.round(np.nan_to_num(arr, posinf=1e6, neginf=-1e6) * 3).astype(np.int64))
        return cr.tensor(arr.astype(np.float32))
    return make


def _float_inputs(name, i):
    count = [0]

    def counting(arr, grad):
        count[0] += arr.dtype == np.float64
        return cr.tensor(arr)
    _prepared(name, OPS[name].samples[i], 1000 + i, counting)
    return count[0]


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[f"{n}[{i}]" for n, i in CASES])
def test_integer_inputs_give_torchs_dtype_and_values(case, mode):
    name, i = case
    total = _float_inputs(name, i)
    if total == 0 or (mode in ("first", "last") and total < 2) or (name, mode) in LEFT_ALONE:
        return
    flat, call, torch_args = _prepared(name, OPS[name].samples[i], 1000 + i, _factory(mode, total))
    error = None
    try:
        with np.errstate(all="ignore"):   # integer inputs may meet log 0 and the like: the values say so
            out = _first(call(*flat))
    except Exception as exc:   # noqa: BLE001  (compared with torch's answer below)
        error = exc
    try:
        args, kwargs, _ = torch_args()
        theirs = _first(_torch_call(name, args, kwargs))
    except Exception:   # noqa: BLE001  torch refuses these inputs: chainrule may refuse or compute
        return
    if not isinstance(theirs, torch.Tensor):
        return
    assert error is None, f"{name} sample {i} ({mode}): torch computes it, chainrule raises {error!r}"
    ours_dtype, their_dtype = str(out.dtype).split(".")[-1], str(theirs.dtype).split(".")[-1]
    if name in TORCH_KEEPS_INTEGERS and theirs.dtype in (torch.int64, torch.int32, torch.int8, torch.bool):
        assert out.dtype.kind in "fiub"
    else:
        assert ours_dtype == their_dtype, f"{name} sample {i} ({mode}): {ours_dtype}, torch {their_dtype}"
    if name in TORCH_TRUNCATES:
        return
    np.testing.assert_allclose(out.detach().numpy().astype(np.float64), theirs.detach().numpy().astype(np.float64),
                               rtol=2e-3, atol=1e-3, equal_nan=True, err_msg=f"{name} sample {i} ({mode})")


def test_float_ops_of_integers_worked_examples():
    x = cr.tensor([0, 1, 2])
    np.testing.assert_allclose(cr.sigmoid(x).numpy(), [0.5, 0.7310586, 0.8807971], rtol=1e-6)   # was 0, 0, 0
    assert cr.sigmoid(x).dtype == cr.float32 and cr.exp(x).dtype == cr.float32 and x.abs().dtype == cr.int64
    assert cr.atan2(x, x).dtype == cr.float32 and cr.clamp(x, 0.5).dtype == cr.float32
    assert cr.clamp(x, 1).dtype == cr.int64
    np.testing.assert_array_equal(cr.pow(cr.tensor([2, 1, -1, -1, 3]), cr.tensor([-1, -3, -3, -2, 2])).numpy(),
                                  [0, 1, -1, 1, 9])
    loss = cr.nn.functional.smooth_l1_loss(cr.tensor([[1, -2], [0, 3]]), cr.tensor([[0.5, -1.0], [0.2, 2.0]]))
    assert loss.dtype == cr.float32 and abs(loss.item() - 0.28625) < 1e-6   # was 0.375: the target truncated


def test_zero_dim_tensors_promote_as_torch():
    """A 0-dim tensor beside a tensor with dims counts like a number: float16 ⊕ 0-dim float64 is float16 (it was
    float64, silently doubling a model's memory), uint8 ⊕ 0-dim int64 is uint8, int64 ⊕ 0-dim float64 float64."""
    cases = [("float16", "float64", "float16"), ("float32", "float64", "float32"), ("uint8", "int64", "uint8"),
             ("int64", "float64", "float64"), ("bool", "int32", "int32"), ("int32", "float16", "float16"),
             ("float64", "float32", "float64")]
    for dims, zero, expected in cases:
        a = cr.ones(3, dtype=getattr(cr, dims))
        b = cr.tensor(2, dtype=getattr(cr, zero))
        for out in (a + b, b * a, cr.maximum(a, b), cr.where(a > 0, a, b), cr.result_type(a, b)):
            got = out if isinstance(out, np.dtype) or not isinstance(out, cr.Tensor) else out.dtype
            assert np.dtype(got) == np.dtype(expected), (dims, zero, got)
    x = cr.ones(3, dtype=cr.float32, requires_grad=True)
    s = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    (x * s).sum().backward()
    assert x.grad.dtype == cr.float32 and s.grad.dtype == cr.float64 and s.grad.item() == 3.0
