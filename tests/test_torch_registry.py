"""Every registered op against torch, sample by sample: the same float64 inputs give the same output and, for a
random cotangent, the same gradient for every input. An op is compared through torch's function of the same name
(nn.functional, then linalg, special, the torch namespace), through an adapter below where the registered
function wraps the public one, or is listed in NOT_COMPARED with the reason; a new op is compared by default."""
import copy
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.registry import OPS

torch = pytest.importorskip("torch", reason="torch is the oracle these ops are compared against")
F = torch.nn.functional


def _cat(parts):
    return torch.cat([p.reshape(-1) for p in parts])


def _index_put(x, index, value):
    y = x.clone()
    y[index] = value
    return y


def _gradient(f, spacing=1, **kw):
    if isinstance(spacing, (list, tuple)) and isinstance(spacing[0], (list, tuple)):
        spacing = [torch.tensor(s, dtype=f.dtype) for s in spacing]   # coordinates: torch takes tensors
    return _cat(torch.gradient(f, spacing=spacing, **kw))


def _spd(a):   # chainrule's _spd in ops/decomp.py: a aᵀ + n·I
    return a @ a.mT + a.shape[-1] * torch.eye(a.shape[-1], dtype=a.dtype)


def _as_tensor(q, like):
    return torch.tensor(q, dtype=like.dtype) if isinstance(q, (list, tuple)) else q


# the registered function wraps the public one (see its register call); the torch call that mirrors it
ADAPT = {
    "broadcast_tensors": lambda *xs: _cat(torch.broadcast_tensors(*xs)),
    "cholesky": lambda a: torch.linalg.cholesky(_spd(a)),
    "cholesky_solve": torch.cholesky_solve,
    "cummax": lambda x, dim: torch.cummax(x, dim).values,
    "cummin": lambda x, dim: torch.cummin(x, dim).values,
    "eigvalsh": lambda a: torch.linalg.eigvalsh(a + a.mT),
    "flip": lambda x, dims: torch.flip(x, dims if isinstance(dims, (tuple, list)) else (dims,)),
    "fractional_max_pool2d": lambda x, k, output_size=None, output_ratio=None, **kw: F.fractional_max_pool2d(
        x, k, output_size, (output_ratio,) * 2 if isinstance(output_ratio, float) else output_ratio, **kw),
    "gradient": _gradient,
    "index_put": _index_put,
    "kthvalue": lambda x, k, dim=-1: torch.kthvalue(x, k, dim).values,
    "linear_cross_entropy": lambda x, w, y, b=None, options=None, **kw: F.linear_cross_entropy(
        x, w, y, linear_bias=b, **kw),
    "logabsdet": lambda a: torch.linalg.slogdet(a).logabsdet,
    "lstsq": lambda a, b: torch.linalg.lstsq(a, b).solution,
    "pca_lowrank": lambda a: torch.pca_lowrank(a, q=min(a.shape[-2:]))[1],
    "rearrange": torch.func.rearrange,
    "svd_lowrank": lambda a: torch.svd_lowrank(a, q=min(a.shape[-2:]))[1],
    "lu_factor": lambda a: torch.linalg.lu_factor(a).LU,
    "lu_factors": lambda a: _cat(torch.linalg.lu(a)[1:]),
    "lu_solve": lambda a, b: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), b),
    "max": lambda x, dim=None, keepdim=False, other=None: (
        torch.max(x) if dim is None and other is None else torch.maximum(x, other) if other is not None
        else torch.max(x, dim, keepdim).values),
    "min": lambda x, dim=None, keepdim=False, other=None: (
        torch.min(x) if dim is None and other is None else torch.minimum(x, other) if other is not None
        else torch.min(x, dim, keepdim).values),
    "median": lambda x, dim=None: torch.median(x) if dim is None else torch.median(x, dim).values,
    "nanquantile": lambda x, q, *a, **kw: torch.nanquantile(x, _as_tensor(q, x), *a, **kw),
    "norm": torch.norm,
    "permute": lambda x, *dims: torch.permute(x, dims[0] if isinstance(dims[0], (tuple, list)) else dims),
    "quantile": lambda x, q, *a, **kw: torch.quantile(x, _as_tensor(q, x), *a, **kw),
    "repeat_interleave": lambda x, r, *a, **kw: torch.repeat_interleave(
        x, torch.tensor(r) if isinstance(r, list) else r, *a, **kw),
    "reshape": lambda x, *shape: torch.reshape(x, shape[0] if isinstance(shape[0], (tuple, list)) else shape),
    "rms_norm": lambda x, shape, *a, **kw: F.rms_norm(x, (shape,) if isinstance(shape, int) else shape, *a, **kw),
    "scatter": lambda x, dim, index, src=None, value=None, **kw: torch.scatter(x, dim, index, value if src is None
                                                                               else src, **kw),
    "solve": torch.linalg.solve,
    "solve_triangular": lambda a, b, upper, unitriangular=False: torch.linalg.solve_triangular(
        a, b, upper=upper, unitriangular=unitriangular),
    "sort": lambda x, dim=-1, descending=False: torch.sort(x, dim, descending).values,
    "split": lambda x, s, dim=0: _cat(torch.split(x, s, dim)),
    "tensor_split": lambda x, s, dim=0: _cat(torch.tensor_split(x, s, dim)),
    "topk": lambda x, k, dim=-1, largest=True: torch.topk(x, k, dim, largest).values,
    "vander": lambda x, n=None, increasing=False: torch.vander(x, n, increasing),
    "powers": lambda x, n: torch.linalg.vander(x, N=n),
    "frexp_mantissa": lambda x: torch.frexp(x).mantissa,
    "cross": torch.cross,
    "diagonal": torch.diagonal,
    "triplet_margin_loss": F.triplet_margin_loss,
    "kl_div": F.kl_div,
}

NOT_COMPARED = {
    "airy_ai_prime": "torch has no Ai'; tests/test_torch_special_functions.py checks it against mpmath",
    "batch_norm_train": "a wrapper over F.batch_norm's training branch; tests/test_layers_torch.py compares BatchNorm",
    "cast": "Tensor.to(dtype): no torch function of that name",
    "cov_weighted": "cov with weights passed as tensors of a sample; tests/test_torch_linalg_index_stats.py",
    "eigh_vectors": "eigenvectors with chainrule's sign convention; torch's signs are LAPACK's",
    "expand": "a Tensor method only in torch; compared in tests/test_torch_tensor_api.py",
    "gamma_quantile": "no torch counterpart (the inverse regularised incomplete gamma)",
    "getitem": "Tensor.__getitem__; indexing is compared in tests/test_torch_tensor_api.py",
    "gru_sequence": "the fused GRU layer; nn.GRU is compared in tests/test_layers_torch.py",
    "lstm_sequence": "the fused LSTM layer; nn.LSTM is compared in tests/test_layers_torch.py",
    "lstm_gates": "one LSTM cell's gates; nn.LSTMCell is compared in tests/test_layers_torch.py",
    "index_add_into": "the backward node of indexing, registered so that double backward is checked",
    "scatter_add_into": "the backward node of gather, registered so that double backward is checked",
    "index_put_accumulate": "index_put(accumulate=True) as chainrule's internal name",
    "pad_sequence": "torch's lives in nn.utils.rnn; tests/test_packed_sequences.py compares it",
    "prod_with_zero": "prod on samples with zeros: the torch comparison is the prod entry",
    "repeat": "a Tensor method only in torch; compared in tests/test_torch_tensor_api.py",
    "softmax_cross_entropy": "the fused node of F.cross_entropy; tests/test_torch_losses.py compares it",
    "sum_to_size": "a Tensor method only in torch",
    "tensor_unfold": "Tensor.unfold; compared in tests/test_torch_tensor_api.py",
    "unbind_steps": "the node behind unbind over time steps in the recurrent layers",
    "qr": "Q and R with R's diagonal made positive; torch keeps LAPACK's signs",
    "max_unpool2d": "the sample's indices are a NumPy array wrapped inside the registered function",
}

# torch's own float64 accuracy, where it is below chainrule's (measured against mpmath in
# tests/test_torch_special_functions.py)
TOLERANCE = {"airy_ai": 1e-5, "bessel_j0": 1e-6, "bessel_j1": 1e-6, "bessel_y0": 1e-6, "bessel_y1": 1e-6,
             "hardsigmoid": 1e-7}   # torch's backward multiplies by 1/6 as a float32 constant (2^-25 relative)

# gradients where torch's differ on purpose; the sample indices whose gradient is not compared
GRADIENT_DIFFERS = {
    # torch's CTC backward assumes its input is a log-softmax output (it returns exp(lp) − …); chainrule's is the
    # gradient of the function it computes, which gradcheck confirms. Both agree on log_softmax'd inputs
    # (test_ctc_gradient_agrees_on_log_probabilities).
    "ctc_loss": "all",
    "vander": "all",   # torch's vander backward fails on its own in-place modified buffer
    # torch's backward differentiates L Lᵀ with the whole of L, so its gradient reaches the triangle its forward
    # never reads (and the products with it); chainrule's is the gradient of what is computed. Both agree on a
    # triangular factor's own triangle (test_cholesky_solve_reads_and_differentiates_one_triangle).
    "cholesky_solve": "all",
    "scatter_add": {1},   # torch's backward rejects an index narrower than src ("invalid gradient at index 1")
    "xlogy": {1},   # ∂(x ln y)/∂y at x = y = 0: torch's x/y is nan, chainrule's 0 (z(0, y) ≡ 0)
    # sample 2 has rank n-1, where ∂det/∂A is the nonzero cofactor matrix. torch returns it, or 0 when its LU
    # meets an exact zero pivot, which depends on the CPU's LAPACK kernels (0 on AMD EPYC). chainrule's is checked
    # against the cofactors in test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix.
    "det": {2},
    "scatter": {2, 3, 4},   # scatter(reduce='add' | 'multiply'): torch has no derivative ("not implemented")
    # pinv(hermitian=True) reads the lower triangle only; torch's gradient, through eigh, puts values above the
    # diagonal, which the result never reads. chainrule's is zero there and gradchecks (test_pinv_hermitian_...).
    "pinv": {3},
    # torch's AsStridedScatterBackward gives the input the gradient AT the overwritten positions and zero elsewhere,
    # the reverse of the truth (torch.autograd.gradcheck fails on it); chainrule's passes g through where input
    # survives and gradchecks. Both agree on src's gradient.
    "as_strided_scatter": "all",
}


def _torch_function(name):
    if name in ADAPT:
        return ADAPT[name]
    for ns in (F, torch.linalg, torch.special, torch):
        fn = getattr(ns, name, None)
        if callable(fn):
            return fn
    return None


def test_every_op_is_compared_or_says_why_not():
    missing = sorted(n for n in OPS if n not in NOT_COMPARED and _torch_function(n) is None)
    assert not missing, f"ops with no torch counterpart found: {missing}; add an adapter or a reason"
    assert not set(NOT_COMPARED) - set(OPS), "NOT_COMPARED names ops that no longer exist"


def _to_torch(a, leaves):
    if isinstance(a, cr.Tensor):
        t = torch.from_numpy(np.array(a.detach().numpy()))
        if a.requires_grad:
            leaves.append(t.requires_grad_(True))
        return t
    if isinstance(a, np.ndarray):
        return torch.from_numpy(a.copy())
    if isinstance(a, (list, tuple)) and any(isinstance(x, (cr.Tensor, np.ndarray)) for x in a):
        return type(a)(_to_torch(x, leaves) for x in a)
    if isinstance(a, np.dtype):
        return getattr(torch, a.name)
    return a


CASES = [(n, i) for n in sorted(OPS) if n not in NOT_COMPARED for i in range(len(OPS[n].samples))]


def _plain(arr, grad):
    return cr.tensor(arr).requires_grad_(grad)


def _prepared(name, s, seed, factory=_plain):
    """Sample s of op `name`, built: -> (flat, call, torch_args). call(*flat) runs the op and records the arguments
    it was given; torch_args() turns those into torch's (args, kwargs, leaves that need a gradient)."""
    seen = {}

    def spy(*args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        return OPS[name].fn(*args, **kwargs)
    own = copy.copy(s)
    own._op = spy
    flat, call, _ = own.build(np.random.default_rng(seed), factory)

    def torch_args():
        leaves = []
        return ([_to_torch(a, leaves) for a in seen["args"]],
                {k: _to_torch(v, leaves) for k, v in seen["kwargs"].items()}, leaves)
    return flat, call, torch_args


def _torch_call(name, args, kwargs):
    with warnings.catch_warnings():   # torch's deprecation notes about its own defaults
        warnings.simplefilter("ignore")
        return _torch_function(name)(*args, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[f"{n}[{i}]" for n, i in CASES])
def test_output_and_gradient_equal_torch(case):
    name, i = case
    flat, call, torch_args = _prepared(name, OPS[name].samples[i], 1000 + i)
    out = call(*flat)
    t_args, t_kwargs, leaves = torch_args()
    t_out = _torch_call(name, t_args, t_kwargs)
    if isinstance(t_out, tuple) and not isinstance(out, tuple):
        t_out = t_out[0]          # (values, indices): the registered function returns the values
    tol = TOLERANCE.get(name, 1e-9)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=tol, atol=tol,
                               err_msg=f"{name} sample {i}: output differs from torch's")
    skip = GRADIENT_DIFFERS.get(name, ())
    if not flat or not out.requires_grad or not t_out.requires_grad or skip == "all" or i in skip:
        return   # (torch has no derivative for some special functions; gradcheck covers chainrule's)
    cotangent = np.random.default_rng(7).standard_normal(out.shape)
    ours = cr.autograd.grad(out, flat, cr.tensor(cotangent), allow_unused=True)
    theirs = torch.autograd.grad(t_out, leaves, torch.from_numpy(cotangent), allow_unused=True)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        a = np.zeros(flat[k].shape) if a is None else a.numpy()
        b = np.zeros(flat[k].shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol,
                                   err_msg=f"{name} sample {i}: gradient of input {k} differs from torch's")


def test_ctc_gradient_agrees_on_log_probabilities():
    """The one gradient that differs from torch's (above) agrees where torch's assumption holds."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 2, 4))
    targets, lengths, target_lengths = np.array([[1, 2, 2], [3, 1, 0]]), [6, 5], [3, 2]
    a = cr.tensor(logits, requires_grad=True)
    cr.nn.functional.ctc_loss(a.log_softmax(-1), cr.tensor(targets), lengths, target_lengths).backward()
    b = torch.tensor(logits, requires_grad=True)
    F.ctc_loss(b.log_softmax(-1), torch.tensor(targets), lengths, target_lengths).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cholesky_solve_reads_and_differentiates_one_triangle():
    rng = np.random.default_rng(0)
    full, B, G = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for upper, keep in ((False, np.tril), (True, np.triu)):
        a = cr.tensor(full, requires_grad=True)
        x = cr.cholesky_solve(cr.tensor(B), a, upper=upper)
        x.backward(cr.tensor(G))
        b = torch.tensor(keep(full), requires_grad=True)
        torch.cholesky_solve(torch.from_numpy(B), b, upper=upper).backward(torch.from_numpy(G))
        np.testing.assert_allclose(x.detach().numpy(), torch.cholesky_solve(torch.from_numpy(B), torch.from_numpy(
            full), upper=upper).numpy(), rtol=1e-12)   # the other triangle is ignored, by both
        np.testing.assert_allclose(a.grad.numpy(), keep(b.grad.numpy()), rtol=1e-10, atol=1e-12)
        assert not np.any(a.grad.numpy() - keep(a.grad.numpy()))   # nothing reaches the triangle never read


def test_xlogy_gradient_at_zero_is_log_y():
    """z(x, y) = x ln y is smooth through x = 0 for y > 0, so ∂z/∂x there is ln y, as torch; at x = y = 0 the
    partial ∂z/∂y is 0 (z(0, y) ≡ 0), where torch's 0/0 gives nan."""
    x = cr.tensor([0.0, 0.0, 1.0], requires_grad=True)
    y = cr.tensor([0.0, 2.0, 3.0], requires_grad=True)
    cr.xlogy(x, y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, np.log(2.0), np.log(3.0)])
    np.testing.assert_allclose(y.grad.numpy(), [0.0, 0.0, 1 / 3])
    z = cr.special.xlog1py(cr.tensor([0.0, 0.0]), cr.tensor([np.nan, -1.0]))
    np.testing.assert_array_equal(z.numpy(), [np.nan, 0.0])   # nan stays nan, as torch


# ---- the same samples with an empty batch (a mask that selected nothing, a last batch of 0) ----------------------
def _emptied(s):
    """The sample with dim 0 of every random tensor input that shares the first one's dim 0 set to 0, or None."""
    from chainrule.ops.registry import T
    first = next((a for a in s.args if isinstance(a, T) and a.shape and a.values is None), None)
    if first is None:
        return None
    out = copy.copy(s)

    def empty(a):
        if isinstance(a, T) and a.shape and a.values is None and a.shape[0] == first.shape[0]:
            a = copy.copy(a)
            a.shape = (0,) + tuple(a.shape[1:])
        return a
    out.args = tuple(empty(a) for a in s.args)
    return out


# fixed-size inputs that the emptied batch no longer fits (torch rejects them too, or the sample pins them)
EMPTY_NOT_COMPARED = {"fractional_max_pool2d", "fractional_max_pool3d", "cov", "index_add",
                      # torch returns an empty input unchanged in shape: (0, 4, 6) unshuffled by 2 stays (0, 4, 6)
                      "pixel_shuffle", "pixel_unshuffle"}
EMPTY_CASES = [(n, i) for n, i in CASES if n not in EMPTY_NOT_COMPARED and _emptied(OPS[n].samples[i]) is not None]


@pytest.mark.parametrize("case", EMPTY_CASES, ids=[f"{n}[{i}]" for n, i in EMPTY_CASES])
def test_empty_batch_works_where_torch_does(case):
    """Where torch takes the emptied sample, chainrule gives the same shape and a backward pass with no NumPy
    warning; where chainrule refuses it, torch must refuse it too (torch may refuse where chainrule does not: an
    unbatched input with 0 channels)."""
    name, i = case
    flat, call, torch_args = _prepared(name, _emptied(OPS[name].samples[i]), 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call(*flat)
            if out.requires_grad:
                grads = cr.autograd.grad(out.sum(), flat, allow_unused=True)
                assert all(g is None or g.shape == x.shape for g, x in zip(grads, flat))
            ours = None
        except Exception as e:   # noqa: BLE001 - the test is that the message names the op
            ours = e
    stray = [str(w.message) for w in caught if "reducing over no elements" not in str(w.message)]
    assert not stray, f"{name}: warnings from inside the op on an empty batch: {stray}"
    t_args, t_kwargs, _ = torch_args()
    try:
        t_out = _torch_call(name, t_args, t_kwargs)
        t_out = t_out[0] if isinstance(t_out, tuple) else t_out
    except Exception:   # noqa: BLE001 - torch refuses this input; chainrule may too
        t_out = None
    if ours is not None:
        assert t_out is None, f"{name}: torch takes the empty batch, chainrule raised {ours!r}"
        return
    if t_out is not None:
        assert tuple(out.shape) == tuple(t_out.shape), f"{name}: shape {tuple(out.shape)}, torch's {tuple(t_out.shape)}"


# ---- the same samples with half their entries exactly 0: the kinks (|x|, x^p, atan2 at the origin, norms) ---------
@pytest.mark.parametrize("case", CASES, ids=[f"{n}[{i}]" for n, i in CASES])
def test_gradient_at_zeros_is_nan_only_where_torch_is(case):
    """A subgradient convention may differ from torch's at a kink, but a nan where torch gives a number (0·∞ in a
    composed backward) poisons training: none is allowed."""
    name, i = case
    mask_rng = np.random.default_rng(i)

    def half_zero(arr, grad):
        if grad and arr.dtype.kind == "f":
            arr = np.where(mask_rng.random(arr.shape) < 0.5, 0.0, arr)
        return _plain(arr, grad)
    flat, call, torch_args = _prepared(name, OPS[name].samples[i], 1000 + i, half_zero)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # 0 to a negative power is inf, with NumPy's note
        try:
            out = call(*flat)
        except cr.errors.LinAlgError:
            pytest.skip("zeros made the matrix singular")
    if not flat or not out.requires_grad:
        return
    t_args, t_kwargs, leaves = torch_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = _torch_function(name)(*t_args, **t_kwargs)
        t_out = t_out[0] if isinstance(t_out, tuple) and not isinstance(out, tuple) else t_out
        if not t_out.requires_grad:
            return
        cotangent = np.random.default_rng(7).standard_normal(out.shape)
        try:
            ours = cr.autograd.grad(out, flat, cr.tensor(cotangent), allow_unused=True)
        except cr.errors.LinAlgError:
            pytest.skip("zeros made the matrix singular")
        try:
            theirs = torch.autograd.grad(t_out, leaves, torch.from_numpy(cotangent), allow_unused=True)
        except RuntimeError:
            return   # torch's own backward fails here (vander, scatter_add above)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if a is not None and b is not None:
            extra = np.isnan(a.numpy()) & ~np.isnan(b.numpy())
            assert not extra.any(), f"{name} sample {i}: nan in the gradient of input {k} where torch's is finite"


# ---- the same samples with one NaN in each differentiable input: NaN in, NaN out where torch's is -----------------
_POLYNOMIALS = [n for n in OPS if n.endswith(("_polynomial_t", "_polynomial_u", "_polynomial_v", "_polynomial_w",
                                               "_polynomial_h", "_polynomial_he", "_polynomial_l", "_polynomial_p"))]
NAN_DIFFERS = {   # where chainrule's NaN pattern differs from torch's on purpose: chainrule never hides a NaN
    **{n: "torch's kernel returns a number at x = NaN (chebyshev_polynomial_u(NaN, 5) repeats its neighbour's "
          "value)" for n in _POLYNOMIALS},
    "sign": "torch's sign(NaN) is 0; chainrule keeps NumPy's NaN",
    "embedding_bag": "torch's 'max' mode skips a NaN unless it comes first in its bag; chainrule's max, like "
                     "torch.max, propagates it",
    "grid_sample": "at a NaN coordinate torch samples a number; chainrule gives NaN",
    "multi_margin_loss": "torch's hinge max(0, ·) drops a NaN score; chainrule's propagates it",
    "multilabel_margin_loss": "torch's hinge max(0, ·) drops a NaN score; chainrule's propagates it",
    "lu_factor": "the pivot chosen at a NaN differs (LAPACK's idamax skips it), so the NaNs land elsewhere",
    "lu_factors": "the pivot chosen at a NaN differs (LAPACK's idamax skips it), so the NaNs land elsewhere",
    "solve_triangular": "NumPy has no triangular solver: a general solve spreads a NaN of B over its column",
    "triangular_solve": "solve_triangular's: a general solve spreads a NaN of B over its column",
}
NAN_CASES = [(n, i) for n, i in CASES if n not in NAN_DIFFERS]


def prepared_with_one(value, name, i):
    """Sample i of op `name` (as _prepared) with one entry of each differentiable float input set to value."""
    rng = np.random.default_rng(i)

    def one(arr, grad):
        if grad and arr.dtype.kind == "f" and arr.size:
            arr = arr.copy()
            arr.flat[rng.integers(arr.size)] = value
        return _plain(arr, grad)
    return _prepared(name, OPS[name].samples[i], 1000 + i, one)


def call_recording_warnings(call, flat):
    """(output, warnings raised), or (None, …) where a decomposition refused non-finite input, as it should."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return call(*flat), caught
        except cr.errors.LinAlgError as e:
            assert "needs finite values" in str(e), e
            return None, caught


@pytest.mark.parametrize("case", NAN_CASES, ids=[f"{n}[{i}]" for n, i in NAN_CASES])
def test_nan_propagates_as_in_torch(case):
    """A NaN in a differentiable input gives NaN exactly where torch's output has one: an op that drops it (a
    product with 0, a comparison that silently fails) hides a bug upstream, and NaN where torch has a number
    spreads one. The other entries keep their values, and no NumPy warning escapes. Decompositions refuse
    non-finite input with a named LinAlgError instead (a silent NaN from LAPACK is worse)."""
    name, i = case
    flat, call, torch_args = prepared_with_one(np.nan, name, i)
    try:
        out, caught = call_recording_warnings(call, flat)
    except ValueError as refusal:   # a NaN where a value in a range is required (quantile's q): torch refuses too
        t_args, t_kwargs, _ = torch_args()
        with pytest.raises(Exception):
            _torch_call(name, t_args, t_kwargs)
        assert name in str(refusal), refusal
        return
    if out is None:
        return
    assert not caught, f"{name}: warnings from inside the op on a NaN input: {[str(w.message) for w in caught]}"
    t_args, t_kwargs, _ = torch_args()
    t_out = _torch_call(name, t_args, t_kwargs)
    t_out = t_out[0] if isinstance(t_out, tuple) and not isinstance(out, tuple) else t_out
    a, b = out.detach().numpy(), t_out.detach().numpy()
    assert a.shape == b.shape
    if a.dtype.kind != "f":
        return
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{name} sample {i}: NaN where torch has none, "
                                                                     f"or a number where torch has NaN")
    tol = TOLERANCE.get(name, 1e-9)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=f"{name} sample {i}: values beside the NaN")
