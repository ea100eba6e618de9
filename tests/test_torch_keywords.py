"""Keyword arguments as torch names them: each call below is written with torch's keywords (x.view(size=…),
x.expand(size=…), x.permute(dims=…), x.tensor_split(sections=…), torch.zeros(size=…), x.scatter(…,
reduce=…), x.clone(memory_format=…) …) and must run on chainrule and give torch's values. A call torch accepts that
chainrule refuses is a script that breaks on changing the import."""
import warnings

import numpy as np
import pytest

import chainrule as cr

CALLS = {   # name -> function of (lib, x) with x a (2, 3) float64 tensor
    'expand size': lambda L, x: x[:1].expand(size=(2,3)),
    'view size': lambda L, x: x.view(size=(3,2)),
    'view dtype': lambda L, x: x.view(L.int32),
    'view dtype kw': lambda L, x: x.view(dtype=L.int32),
    'view dtype f16': lambda L, x: x.view(L.float16),
    'repeat repeats': lambda L, x: x.repeat(repeats=(2,1)),
    'broadcast_to size': lambda L, x: x[:1].broadcast_to(size=(2,3)),
    'L.broadcast_to size': lambda L, x: L.broadcast_to(x[:1], size=(2,3)),
    'pow_ exponent': lambda L, x: x.clone().pow_(exponent=2),
    'vdot other': lambda L, x: x[0].vdot(other=x[1]),
    'tensor_split sections': lambda L, x: x.tensor_split(sections=3, dim=1),
    'tensor_split indices': lambda L, x: x.tensor_split(indices=[1], dim=1),
    'hsplit sections': lambda L, x: x.hsplit(sections=3),
    'split split_size': lambda L, x: x.split(split_size=1),
    'L.split split_size_or_sections': lambda L, x: L.split(x, split_size_or_sections=1),
    'swapaxes axis0': lambda L, x: x.swapaxes(axis0=0, axis1=1),
    'cdist compute_mode': lambda L, x: L.cdist(x, x, compute_mode='donot_use_mm_for_euclid_dist'),
    'concatenate dim': lambda L, x: L.concatenate([x, x], dim=1),
    'concatenate axis': lambda L, x: L.concatenate([x, x], axis=1),
    'concat dim': lambda L, x: L.concat([x, x], dim=1),
    'result_type tensor other': lambda L, x: str(L.result_type(tensor=x, other=1.0)).endswith('float64'),
    'L.dropout train': lambda L, x: L.dropout(x, p=0.0, train=True),
    'rrelu generator': lambda L, x: L.rrelu(x, generator=None),
    'resize_ size': lambda L, x: x.clone().resize_(size=(6,)),
    'resize_as_ the_template': lambda L, x: x.clone().resize_as_(the_template=x),
    'cholesky_solve input2': lambda L, x: (x[:, :2].T @ x[:, :2] + L.eye(2, dtype=x.dtype)).cholesky_solve(
        input2=L.eye(2, dtype=x.dtype)),
    'is_set_to tensor': lambda L, x: x.is_set_to(tensor=x),
    'unsafe_split split_size': lambda L, x: x.unsafe_split(split_size=1),
    'repeat_interleave repeats': lambda L, x: x.repeat_interleave(repeats=2, dim=0),
    'index_select': lambda L, x: x.index_select(dim=1, index=L.tensor([0])),
    'gather': lambda L, x: x.gather(dim=1, index=L.tensor([[0],[1]])),
    'scatter value': lambda L, x: x.scatter(dim=1, index=L.tensor([[0],[1]]), value=5.0),
    'scatter src reduce': lambda L, x: x.scatter(dim=1, index=L.tensor([[0],[1]]), src=x, reduce='add'),
    'masked_fill': lambda L, x: x.masked_fill(mask=x > 0, value=0.0),
    'clamp min max': lambda L, x: x.clamp(min=-0.1, max=0.1),
    'clip': lambda L, x: x.clip(min=-0.1, max=0.1),
    'sum dim keepdim dtype': lambda L, x: x.sum(dim=1, keepdim=True, dtype=L.float64),
    'mean dtype': lambda L, x: x.mean(dtype=L.float64),
    'std correction': lambda L, x: x.std(dim=1, correction=0, keepdim=True),
    'var unbiased': lambda L, x: x.var(1, unbiased=False),
    'norm p dim': lambda L, x: x.norm(p=1, dim=1),
    'max dim': lambda L, x: x.max(dim=1, keepdim=True).values,
    'topk': lambda L, x: x.topk(k=2, dim=1, largest=False, sorted=True).values,
    'sort stable': lambda L, x: x.sort(dim=1, descending=True, stable=True).values,
    'argsort stable': lambda L, x: x.argsort(dim=1, descending=True, stable=True),
    'cumsum dtype': lambda L, x: x.cumsum(dim=1, dtype=L.float64),
    'softmax dtype': lambda L, x: x.softmax(dim=1, dtype=L.float64),
    'log_softmax dtype': lambda L, x: x.log_softmax(1, dtype=L.float64),
    'type dtype': lambda L, x: x.type(dtype=L.float64),
    'new_zeros size': lambda L, x: x.new_zeros(size=(2,), dtype=L.float64),
    'new_full': lambda L, x: x.new_full(size=(2,), fill_value=3.0),
    'new_tensor': lambda L, x: x.new_tensor(data=[1, 2], requires_grad=False),
    'unflatten': lambda L, x: x.unflatten(dim=1, sizes=(3, 1)),
    'flatten': lambda L, x: x.flatten(start_dim=0, end_dim=-1),
    'movedim': lambda L, x: x.movedim(source=0, destination=1),
    'moveaxis': lambda L, x: x.moveaxis(source=0, destination=1),
    'permute dims': lambda L, x: x.permute(dims=(1, 0)),
    'transpose': lambda L, x: x.transpose(dim0=0, dim1=1),
    'squeeze dim tuple': lambda L, x: x[None].squeeze(dim=(0,)),
    'unsqueeze': lambda L, x: x.unsqueeze(dim=0),
    'chunk': lambda L, x: x.chunk(chunks=3, dim=1),
    'narrow': lambda L, x: x.narrow(dim=1, start=0, length=2),
    'roll': lambda L, x: x.roll(shifts=1, dims=1),
    'flip': lambda L, x: x.flip(dims=(1,)),
    'diagonal': lambda L, x: x.diagonal(offset=0, dim1=0, dim2=1),
    'tril diagonal': lambda L, x: x.tril(diagonal=1),
    'lerp': lambda L, x: x.lerp(end=x * 2, weight=0.5),
    'where': lambda L, x: x.where(condition=x > 0, other=0.0),
    'nan_to_num': lambda L, x: x.nan_to_num(nan=0.0, posinf=1.0, neginf=-1.0),
    'allclose': lambda L, x: x.allclose(other=x, rtol=1e-5, atol=1e-8, equal_nan=True),
    'isclose': lambda L, x: x.isclose(other=x, rtol=1e-5, atol=1e-8, equal_nan=False),
    'masked_select': lambda L, x: x.masked_select(mask=x > 0),
    'index_add': lambda L, x: x.index_add(dim=0, index=L.tensor([0]), source=x[:1], alpha=2),
    'index_fill': lambda L, x: x.index_fill(dim=1, index=L.tensor([0]), value=-1.0),
    'unfold': lambda L, x: x.unfold(dimension=1, size=2, step=1),
    'quantile': lambda L, x: x.quantile(q=0.5, dim=1, keepdim=False, interpolation='midpoint'),
    'nanquantile': lambda L, x: x.nanquantile(q=0.5, dim=1),
    'logsumexp': lambda L, x: x.logsumexp(dim=1, keepdim=True),
    'renorm': lambda L, x: x.renorm(p=2, dim=0, maxnorm=1.0),
    'histc': lambda L, x: x.histc(bins=4, min=-2, max=2),
    'bernoulli p': lambda L, x: (x * 0).bernoulli(p=0.0),
    'multinomial': lambda L, x: (x.abs() + 1).multinomial(num_samples=1, replacement=False).shape,
    'count_nonzero': lambda L, x: x.count_nonzero(dim=1),
    'diff': lambda L, x: x.diff(n=1, dim=1, prepend=x[:, :1], append=None),
    'cross': lambda L, x: x.cross(other=x, dim=1),
    'kthvalue': lambda L, x: x.kthvalue(k=1, dim=1, keepdim=True).values,
    'split_with_sizes': lambda L, x: x.split_with_sizes(split_sizes=[1, 2], dim=1),
    'expand_as': lambda L, x: x[:1].expand_as(other=x),
    'view_as': lambda L, x: x.view_as(other=x),
    'type_as': lambda L, x: x.type_as(other=x.double()),
    'eq': lambda L, x: x.eq(other=x),
    'fill_': lambda L, x: x.clone().fill_(value=1.0),
    'masked_scatter': lambda L, x: x.masked_scatter(mask=x > 0, source=x * 0),
    'take_along_dim': lambda L, x: x.take_along_dim(indices=L.tensor([[0], [1]]), dim=1),
    'scatter_reduce': lambda L, x: x.scatter_reduce(dim=1, index=L.tensor([[0], [0]]), src=x[:, :1], reduce='amax',
                                                    include_self=False),
    'add alpha': lambda L, x: x.add(other=x, alpha=2),
    'sub alpha': lambda L, x: x.sub(other=1, alpha=2),
    'rsub': lambda L, x: L.rsub(x, other=1, alpha=2),
    'addcmul': lambda L, x: x.addcmul(tensor1=x, tensor2=x, value=0.5),
    'baddbmm': lambda L, x: x[None, :, :2].baddbmm(batch1=x[None], batch2=x.T[None], beta=1, alpha=1),
    'logit eps': lambda L, x: x.sigmoid().logit(eps=1e-6),
    'prod dtype': lambda L, x: x.prod(dim=1, keepdim=False, dtype=L.float64),
    'aminmax': lambda L, x: x.aminmax(dim=1, keepdim=False).min,
    'median dim': lambda L, x: x.median(dim=1, keepdim=True).values,
    'nanmean': lambda L, x: x.nanmean(dim=1, keepdim=True, dtype=L.float64),
    'std_mean': lambda L, x: L.std_mean(x, dim=1, correction=0)[0],
    'var_mean': lambda L, x: L.var_mean(x, dim=1, unbiased=False)[0],
    'unique': lambda L, x: x.round().unique(sorted=True, return_inverse=False, return_counts=False, dim=None),
    'bincount': lambda L, x: L.tensor([0, 1, 1]).bincount(weights=None, minlength=3),
    'trace': lambda L, x: x[:, :2].trace(),
    'outer': lambda L, x: x[0].outer(vec2=x[1]),
    'ger': lambda L, x: x[0].ger(vec2=x[1]),
    'mv': lambda L, x: x.mv(vec=x[0]),
    'mm': lambda L, x: x.mm(mat2=x.T),
    'bmm': lambda L, x: x[None].bmm(mat2=x.T[None]),
    'matmul': lambda L, x: x.matmul(other=x.T),
    'dot': lambda L, x: x[0].dot(tensor=x[1]),
    'inner': lambda L, x: x.inner(other=x),
    'kron': lambda L, x: x.kron(other=x),
    'matrix_power': lambda L, x: x[:, :2].matrix_power(n=2),
    'dist': lambda L, x: x.dist(other=x * 2, p=2),
    'atan2': lambda L, x: x.atan2(other=x),
    'clamp_min': lambda L, x: x.clamp_min(min=0.0),
    'hardshrink': lambda L, x: x.hardshrink(lambd=0.1),
    'float_power': lambda L, x: x.float_power(exponent=2),
    'pow': lambda L, x: x.pow(exponent=2),
    'xlogy': lambda L, x: x.abs().xlogy(other=x.abs()),
    'heaviside': lambda L, x: x.heaviside(values=x),
    'fmod': lambda L, x: x.fmod(other=0.3),
    'remainder': lambda L, x: x.remainder(other=0.3),
    'div': lambda L, x: x.div(other=2, rounding_mode='floor'),
    'true_divide': lambda L, x: x.true_divide(other=2),
    'floor_divide': lambda L, x: x.floor_divide(other=2),
    'mul': lambda L, x: x.mul(other=2),
    'mvlgamma': lambda L, x: (x.abs() + 2).mvlgamma(p=2),
    'nansum': lambda L, x: x.nansum(dim=1, keepdim=False, dtype=L.float64),
    'all dim': lambda L, x: (x > 0).all(dim=1, keepdim=True),
    'any dim': lambda L, x: (x > 0).any(dim=1),
    'sign': lambda L, x: x.sgn(),
    'argmax': lambda L, x: x.argmax(dim=1, keepdim=True),
    'cummax': lambda L, x: x.cummax(dim=1).values,
    'logcumsumexp': lambda L, x: x.logcumsumexp(dim=1),
    'select': lambda L, x: x.select(dim=1, index=0),
    'index_copy': lambda L, x: x.index_copy(dim=0, index=L.tensor([0]), source=x[:1] * 0),
    'masked_fill_ tensor': lambda L, x: x.clone().masked_fill_(x > 0, L.tensor(0.0)),
    'addcdiv': lambda L, x: x.addcdiv(tensor1=x, tensor2=x.abs() + 1, value=2),
    'rot90': lambda L, x: x.rot90(k=1, dims=(0, 1)),
    'triu_': lambda L, x: x.clone().triu_(diagonal=0),
    'new_empty': lambda L, x: x.new_empty(size=(2,)).shape,
    'new_ones': lambda L, x: x.new_ones(size=(2,)),
    'requires_grad_': lambda L, x: x.clone().requires_grad_(requires_grad=True).requires_grad,
    'register_hook': lambda L, x: callable(x.clone().requires_grad_().register_hook(hook=lambda g: g).remove),
    'backward kws': lambda L, x: x.clone().requires_grad_().sum().backward(gradient=None, retain_graph=None,
                                                                           create_graph=False, inputs=None),
    'item': lambda L, x: x[0, 0].item(),
    'size dim': lambda L, x: x.size(dim=1),
    'stride dim': lambda L, x: x.stride(dim=1),
    'cov': lambda L, x: x.cov(correction=1, fweights=None, aweights=None),
    'corrcoef': lambda L, x: x.corrcoef(),
    'pinverse': lambda L, x: x.pinverse(rcond=1e-15),
    'logdet': lambda L, x: (x[:, :2] @ x[:, :2].T + L.eye(2, dtype=x.dtype)).logdet(),
    'nonzero as_tuple': lambda L, x: x.nonzero(as_tuple=True)[0],
    'argwhere': lambda L, x: x.argwhere(),
    'sum_to_size': lambda L, x: x.sum_to_size(1, 3),
    'expm1': lambda L, x: x.expm1(),
    'sinc': lambda L, x: x.sinc(),
    'frac': lambda L, x: x.frac(),
    'round decimals': lambda L, x: x.round(decimals=2),
    'ldexp': lambda L, x: x.ldexp(other=L.tensor([1])),
    'copysign': lambda L, x: x.copysign(other=-1.0),
    'nextafter': lambda L, x: x.nextafter(other=x + 1),
    'hypot': lambda L, x: x.hypot(other=x),
    'logaddexp': lambda L, x: x.logaddexp(other=x),
    'fmax': lambda L, x: x.fmax(other=x * 0),
    'maximum': lambda L, x: x.maximum(other=x * 0),
    'bitwise_and': lambda L, x: (x > 0).bitwise_and(other=(x < 1)),
    'logical_xor': lambda L, x: x.logical_xor(other=x),
    'gcd': lambda L, x: L.tensor([4, 6]).gcd(other=L.tensor([6, 9])),
    'float_power_': lambda L, x: x.clone().double().float_power_(exponent=2),
    'bucketize': lambda L, x: L.bucketize(x, boundaries=L.tensor([0.0]), out_int32=False, right=False),
    'histogram': lambda L, x: L.histogram(x, bins=3, range=(-2.0, 2.0), density=False)[0],
    'clone': lambda L, x: x.clone(memory_format=L.preserve_format),
    'contiguous': lambda L, x: x.contiguous(memory_format=L.contiguous_format),
    'float memfmt': lambda L, x: x.float(memory_format=L.preserve_format),
    'double memfmt': lambda L, x: x.double(memory_format=L.preserve_format),
}


def _result(lib, name, x):
    out = CALLS[name](lib, x)
    if isinstance(out, (tuple, list)):
        return [np.asarray(o.detach().numpy() if hasattr(o, "numpy") else o, dtype=float) for o in out]
    return [np.asarray(out.detach().numpy() if hasattr(out, "numpy") else out, dtype=float)]


@pytest.mark.parametrize("name", CALLS)
def test_torch_keywords_run_and_give_torchs_values(name):
    torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run it")
    data = np.random.default_rng(0).standard_normal((2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch's deprecation notes (scatter's reduce, lu)
        theirs = _result(torch, name, torch.tensor(data))
    ours = _result(cr, name, cr.tensor(data))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, equal_nan=True)


@pytest.mark.parametrize("factory, expected", [
    (lambda: cr.zeros(size=(2, 3)), (2, 3)), (lambda: cr.ones(size=[4]), (4,)), (lambda: cr.empty(size=(1, 2)), (1, 2)),
    (lambda: cr.rand(size=(3,)), (3,)), (lambda: cr.randn(size=(2, 2), dtype=cr.float64), (2, 2)),
    (lambda: cr.ones(2).new_zeros(size=(5,)), (5,)), (lambda: cr.ones(2).new_ones(size=(1, 5)), (1, 5)),
])
def test_factories_take_their_size_by_keyword(factory, expected):
    assert tuple(factory().shape) == expected


def test_size_given_twice_is_refused():
    with pytest.raises(TypeError, match="zeros: give the size positionally or as size=, not both"):
        cr.zeros(2, size=(3,))
    with pytest.raises(TypeError, match="view: give the sizes positionally or by keyword, not both|reshape: give"):
        cr.ones(6).view(2, size=(3,))


def test_view_as_a_dtype_reinterprets_the_bytes():
    x = cr.tensor([1.0, 2.0], dtype=cr.float32, requires_grad=True)
    bits = x.view(cr.int32)
    assert bits.tolist() == [1065353216, 1073741824] and not bits.requires_grad
    assert tuple(cr.ones(2, 4).view(cr.float64).shape) == (2, 2)
    assert tuple(cr.ones(2).view(dtype=cr.float16).shape) == (4,)
    same = x.view(cr.float32)
    assert same is not x and same.grad_fn is not None   # a view of its own, differentiable
    with pytest.raises(ValueError, match="view: the last dim 3 of float32 does not make a whole number of float64"):
        cr.ones(2, 3).view(cr.float64)
    with pytest.raises(ValueError, match="view: .* needs a contiguous last dim"):
        cr.ones(2, 3).t().view(cr.float16)


def test_scatter_with_reduce_is_differentiable_and_its_product_refuses_a_second_derivative():
    x = cr.tensor(np.random.default_rng(1).standard_normal((2, 3)), requires_grad=True)
    src = cr.tensor(np.random.default_rng(2).standard_normal((2, 3)), requires_grad=True)
    index = cr.tensor([[0, 0], [2, 1]])
    for reduce in ("add", "multiply"):
        assert cr.autograd.gradcheck(lambda a, b: a.scatter(1, index, b, reduce=reduce), [x, src])
    with pytest.raises(ValueError, match="scatter: reduce must be 'add' or 'multiply', got 'mean'"):
        x.scatter(1, index, src, reduce="mean")
    out = x.scatter(1, index, src, reduce="multiply").sum()
    first, = cr.autograd.grad(out, x, create_graph=True)   # the first derivative is there, and right
    np.testing.assert_allclose(first.detach().numpy(), cr.autograd.grad(
        x.scatter(1, index, src, reduce="multiply").sum(), x)[0].numpy())
    with pytest.raises(NotImplementedError, match="ScatterExtremeBackward: second derivatives .* not implemented"):
        first.sum().backward()


def test_split_spec_given_twice_or_not_at_all_is_refused():
    x = cr.ones(2, 6)
    with pytest.raises(TypeError, match="tensor_split: give one of indices_or_sections"):
        x.tensor_split(3, sections=3, dim=1)
    with pytest.raises(TypeError, match="hsplit: give one of"):
        x.hsplit()
    with pytest.raises(TypeError, match="split: give the piece size"):
        x.split()
    with pytest.raises(ValueError, match="cdist: compute_mode must be one of"):
        cr.cdist(x, x, compute_mode="fast")
