"""func.vmap against torch.func.vmap: nested in_dims, out_dims None, keyword arguments, a batch of size 0,
randomness='same', and the errors for in_dims that do not fit the inputs."""
import numpy as np
import pytest

import chainrule as cr
from helpers import outcome_of

torch = pytest.importorskip("torch", reason="torch is the oracle for vmap")

RNG = np.random.default_rng(2)
C, A = RNG.standard_normal((4, 3)), RNG.standard_normal(3)


def T(lib, x):
    return lib.tensor(x, dtype=lib.float64)


CASES = {
    "nested_in_dims_dict": lambda lib, F: F.vmap(lambda d: d["a"].sum() + d["b"].sum(), in_dims=({"a": 0, "b": 1},))(
        {"a": T(lib, C), "b": T(lib, C.T)}),
    "nested_in_dims_tuple": lambda lib, F: F.vmap(lambda p: p[0] * p[1], in_dims=((0, None),))((T(lib, C), T(lib, A))),
    "out_dims_none_for_a_number": lambda lib, F: F.vmap(lambda x: (x.sum(), 3.0), out_dims=(0, None))(T(lib, C)),
    "out_dims_none_for_a_constant": lambda lib, F: F.vmap(lambda x: (x.sum(), lib.ones(2)), out_dims=(0, None))(
        T(lib, C)),
    "out_dims_none_for_a_batched_output": lambda lib, F: F.vmap(lambda x: x.sum(), out_dims=None)(T(lib, C)),
    "out_dims_negative": lambda lib, F: F.vmap(lambda x: x.sum(0), in_dims=1, out_dims=-1)(lib.ones(2, 3, 4)),
    "out_dims_out_of_range": lambda lib, F: F.vmap(lambda x: x.sum(), out_dims=3)(T(lib, C)),
    "keyword_arguments_unmapped": lambda lib, F: F.vmap(lambda x, scale=1.0: x * scale)(T(lib, C), scale=2.0),
    "number_returned": lambda lib, F: F.vmap(lambda x: 3.0)(T(lib, C)),
    "dict_returned": lambda lib, F: tuple(F.vmap(lambda x: {"s": x.sum(), "d": x * 2})(T(lib, C)).values()),
    "batch_of_size_zero": lambda lib, F: F.vmap(lambda x: x.sum())(T(lib, np.zeros((0, 3)))),
    "batch_of_size_zero_at_out_dim_1": lambda lib, F: F.vmap(lambda x: x * 2, out_dims=1)(T(lib, np.zeros((0, 3)))),
    "in_dim_out_of_range": lambda lib, F: F.vmap(lambda x: x.sum(), in_dims=5)(T(lib, C)),
    "in_dims_longer_than_the_arguments": lambda lib, F: F.vmap(lambda x: x, in_dims=(0, 0))(T(lib, C)),
    "in_dims_not_an_int": lambda lib, F: F.vmap(lambda x: x, in_dims=0.5)(T(lib, C)),
    "a_number_mapped": lambda lib, F: F.vmap(lambda x: x)(3.0),
    "a_zero_dim_tensor_mapped": lambda lib, F: F.vmap(lambda x: x)(T(lib, 3.0)),
    "randomness_not_an_option": lambda lib, F: F.vmap(lambda x: x, randomness="sometimes")(T(lib, C)),
    # torch's default randomness='error' refuses any random op inside the mapped function, dropout in training too
    "randomness_error_refuses_rand": lambda lib, F: F.vmap(lambda x: x + lib.rand(3, dtype=lib.float64))(T(lib, C)),
    "randomness_error_refuses_dropout": lambda lib, F: F.vmap(lambda x: lib.nn.functional.dropout(x, 0.5))(T(lib, C)),
    "randomness_error_allows_eval_dropout":
        lambda lib, F: F.vmap(lambda x: lib.nn.functional.dropout(x, 0.5, training=False))(T(lib, C)),
}


def _assert_same(mine, theirs):
    if isinstance(theirs, Exception):
        assert isinstance(mine, type(theirs)), f"{mine!r} vs torch's {theirs!r}"
        return
    assert not isinstance(mine, Exception), f"chainrule raised {mine!r}, torch returned {theirs!r}"
    if isinstance(theirs, (tuple, list)):
        assert isinstance(mine, type(theirs)) and len(mine) == len(theirs)
        for m, t in zip(mine, theirs):
            _assert_same(m, t)
    elif isinstance(theirs, float):
        assert mine == theirs
    else:
        assert tuple(mine.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_vmap_as_torch(case):
    _assert_same(outcome_of(lambda: CASES[case](cr, cr.func)), outcome_of(lambda: CASES[case](torch, torch.func)))


def test_randomness_same_gives_every_entry_the_same_draw():
    cr.manual_seed(0)
    noise = cr.func.vmap(lambda x: x + cr.rand(3, dtype=cr.float64), randomness="same")(T(cr, C)) - T(cr, C)
    assert np.ptp(noise.numpy(), axis=0).max() < 1e-15 and noise.numpy().std() > 0.01
    different = cr.func.vmap(lambda x: x + cr.rand(3, dtype=cr.float64), randomness="different")(T(cr, C)) - T(cr, C)
    assert np.ptp(different.numpy(), axis=0).min() > 0


def test_a_batch_of_size_zero_keeps_the_graph_dtype():
    x = cr.zeros(0, 3, dtype=cr.float32, requires_grad=True)
    out = cr.func.vmap(lambda r: (r * 2).sum())(x)
    assert out.shape == (0,) and out.dtype == cr.float32 and out.requires_grad
