"""autograd.functional (jacobian, hessian, vjp, jvp, vhp, hvp) against torch's: values, tuple structure, zeros or
errors for unreached inputs under strict, and create_graph results that stay differentiable with respect to the
caller's inputs."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.autograd.functional as CF
from helpers import outcome_of

torch = pytest.importorskip("torch", reason="torch is the oracle for autograd.functional")
TF = torch.autograd.functional

RNG = np.random.default_rng(1)
A, B = RNG.standard_normal(3), RNG.standard_normal((2, 3))

# name: (function written once for both libraries, its inputs)
FUNCTIONS = {
    "cube": (lambda lib: lambda x: (x ** 3).sum(), [A]),
    "two_inputs": (lambda lib: lambda x, y: (x ** 2 * y[0]).sum() + (lib.sin(y) * x).sum(), [A, B]),
    "linear": (lambda lib: lambda x, y: (x * 2).sum() + y.sum(), [A, B]),
    "unused_input": (lambda lib: lambda x, y: (x ** 3).sum(), [A, B]),
}


def _extra(fname, lib, inputs):
    """v for the functions that take one: a cotangent for vjp's scalar output, a tangent per input otherwise."""
    if fname == "vjp":
        return (lib.tensor(1.5, dtype=lib.float64),)
    if fname in ("jvp", "hvp", "vhp"):
        vs = tuple(lib.tensor(x * 0.7, dtype=lib.float64) for x in inputs)
        return (vs if len(vs) > 1 else vs[0],)
    return ()


def _call(lib, module, fname, key, requires_grad=False, **kw):
    fn, inputs = FUNCTIONS[key]
    xs = [lib.tensor(x, dtype=lib.float64, requires_grad=requires_grad) for x in inputs]
    result = getattr(module, fname)(fn(lib), xs[0] if len(xs) == 1 else tuple(xs), *_extra(fname, lib, inputs),
                                    **kw)
    return xs, result


def _leaves(result):
    if isinstance(result, (tuple, list)):
        return [leaf for r in result for leaf in _leaves(r)]
    return [result]


def _assert_same(mine, theirs):
    if isinstance(theirs, Exception):
        assert isinstance(mine, Exception), f"torch raised {theirs!r}, chainrule returned a value"
        assert isinstance(mine, type(theirs)) or type(theirs) is RuntimeError and isinstance(mine, RuntimeError), \
            f"{mine!r} vs torch's {theirs!r}"
        return
    assert not isinstance(mine, Exception), f"chainrule raised {mine!r}, torch returned a value"
    if isinstance(theirs, (tuple, list)):
        assert isinstance(mine, tuple) and len(mine) == len(theirs)
        for m, t in zip(mine, theirs):
            _assert_same(m, t)
        return
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fname", ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"])
@pytest.mark.parametrize("key", list(FUNCTIONS))
@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
def test_values_and_strict_errors_as_torch(fname, key, strict, create_graph):
    kw = dict(strict=strict, create_graph=create_graph)
    mine = outcome_of(lambda: _call(cr, CF, fname, key, **kw)[1])
    theirs = outcome_of(lambda: _call(torch, TF, fname, key, **kw)[1])
    _assert_same(mine, theirs)


@pytest.mark.parametrize("fname", ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"])
@pytest.mark.parametrize("key", ["cube", "two_inputs"])
def test_create_graph_results_are_differentiable_in_the_callers_inputs(fname, key):
    """d(Σ every result)/d(inputs) through create_graph=True, as torch's (third derivatives for hessian)."""
    def total_gradient(lib, module):
        xs, result = _call(lib, module, fname, key, requires_grad=True, create_graph=True)
        total = sum(leaf.sum() for leaf in _leaves(result) if leaf.requires_grad)
        return lib.autograd.grad(total, xs, allow_unused=True, materialize_grads=True)
    _assert_same(tuple(total_gradient(cr, CF)), tuple(total_gradient(torch, TF)))


CASES = {
    "vjp_tuple_outputs": lambda lib, m: m.vjp(lambda x: (x * 2, x.sum() ** 2), lib.tensor(A),
                                              (lib.tensor(A), lib.tensor(2.0, dtype=lib.float64))),
    "vjp_without_v": lambda lib, m: m.vjp(lambda x: (x ** 2).sum(), lib.tensor(A)),
    "vjp_without_v_non_scalar": lambda lib, m: m.vjp(lambda x: x ** 2, lib.tensor(A)),
    "vjp_wrong_number_of_v": lambda lib, m: m.vjp(lambda x: (x * 2, x * 3), lib.tensor(A), (lib.tensor(A),)),
    "vjp_wrong_shape_of_v": lambda lib, m: m.vjp(lambda x: x[:2], lib.tensor(A), lib.tensor(A)),
    "vjp_constant_output": lambda lib, m: m.vjp(lambda x: lib.ones(2, dtype=lib.float64), lib.tensor(A),
                                                lib.ones(2, dtype=lib.float64)),
    "jvp_tuple_outputs": lambda lib, m: m.jvp(lambda x: (x * 2, x.sum() ** 2), lib.tensor(A), lib.tensor(A)),
    "jvp_constant_output": lambda lib, m: m.jvp(lambda x: (x * 2, lib.ones(2, dtype=lib.float64)), lib.tensor(A),
                                                lib.tensor(A)),
    "jvp_wrong_shape_of_v": lambda lib, m: m.jvp(lambda x: x, lib.tensor(A), lib.tensor(B)),
    "jacobian_constant_output": lambda lib, m: m.jacobian(lambda x: lib.ones(2, dtype=lib.float64), lib.tensor(A)),
    "jacobian_scalar_input": lambda lib, m: m.jacobian(lambda x: x * x, lib.tensor(2.0, dtype=lib.float64)),
    "jacobian_float32": lambda lib, m: m.jacobian(lambda x: x ** 2, lib.tensor(A, dtype=lib.float32)),
    "jacobian_tuple_in_and_out": lambda lib, m: m.jacobian(lambda x, y: (lib.tanh(x) * y, (x * y).sum()),
                                                           (lib.tensor(A), lib.tensor(B))),
    "jacobian_not_a_tensor": lambda lib, m: m.jacobian(lambda x: 3.0, lib.tensor(A)),
    "hessian_constant": lambda lib, m: m.hessian(lambda x: lib.ones((), dtype=lib.float64), lib.tensor(A)),
    "hessian_one_element_output": lambda lib, m: m.hessian(lambda x: (x ** 3).sum().reshape(1, 1), lib.tensor(A)),
    "hessian_non_scalar": lambda lib, m: m.hessian(lambda x: x ** 2, lib.tensor(A)),
    "hvp_tuple_output": lambda lib, m: m.hvp(lambda x: ((x ** 3).sum(),), lib.tensor(A), lib.tensor(A)),
    "hvp_constant": lambda lib, m: m.hvp(lambda x: lib.ones((), dtype=lib.float64), lib.tensor(A), lib.tensor(A)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_edge_cases_as_torch(case):
    _assert_same(outcome_of(lambda: CASES[case](cr, CF)), outcome_of(lambda: CASES[case](torch, TF)))


@pytest.mark.parametrize("fname", ["jacobian", "vjp"])
def test_inside_no_grad_as_torch(fname):
    def call(lib, module):
        x = lib.tensor(A)
        extra = (x,) if fname == "vjp" else ()
        with lib.no_grad():
            return getattr(module, fname)(lambda t: t ** 2, x, *extra)
    _assert_same(call(cr, CF), call(torch, TF))
