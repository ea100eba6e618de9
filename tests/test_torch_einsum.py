"""einsum's forms against torch, values and gradients in float64: '...' (broadcast as NumPy's), repeated
subscripts (diagonals), size-1 broadcasting of a letter, the implicit output, sublists; and the named errors.
(The registry's samples gradcheck a few of these against finite differences too.)"""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_matches_torch, torch_or_skip

CASES = [
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...qd,...kd->...qk", [(2, 1, 3, 4), (2, 5, 4)]),   # ellipsis dims broadcast (1 against 2)
    ("...ij,jk", [(2, 3, 4), (4, 5)]),                   # implicit output: '...' first, then the lone letters
    ("ba...", [(2, 3, 4)]),
    ("i...->...", [(2, 3, 4)]),
    ("...,...", [(2, 3, 1), (4,)]),
    ("ij...,jk...->ik...", [(2, 3, 4), (3, 5, 1)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),                                    # the trace
    ("iji->j", [(2, 3, 2)]),
    ("iii->i", [(2, 2, 2)]),
    ("a...a", [(2, 3, 2)]),
    ("...ii->...i", [(4, 3, 3)]),
    ("iij,jk->ik", [(2, 2, 3), (3, 4)]),
    ("ij,ij->i", [(3, 1), (3, 4)]),                      # a size-1 dim broadcast against 4
    ("Ab,bA", [(2, 3), (3, 2)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("ij,kl->", [(2, 3), (4, 5)]),
    ("ij,j", [(0, 3), (3,)]),
]


@pytest.mark.parametrize("equation,shapes", CASES, ids=[c[0].replace(" ", "_") for c in CASES])
def test_einsum_matches_torch(equation, shapes):
    torch = torch_or_skip()
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s) for s in shapes]
    assert tuple(cr.einsum(equation, *map(cr.tensor, arrays)).shape) == \
        tuple(torch.einsum(equation, *map(torch.tensor, arrays)).shape)
    assert_matches_torch(lambda *t: cr.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), arrays,
                         rtol=1e-12)


@pytest.mark.parametrize("form", ["sublists", "sublists_implicit", "sublists_ellipsis", "operand_list"])
def test_einsum_call_forms_match_torch(form):
    torch = torch_or_skip()
    args = {"sublists": lambda a, b: (a, [0, 1], b, [1, 2], [0, 2]),
            "sublists_implicit": lambda a, b: (a, [0, 1], b, [1, 2]),
            "sublists_ellipsis": lambda a, b: (a, [..., 1], b, [1, 2], [..., 2]),
            "operand_list": lambda a, b: ("ij,jk", [a, b])}[form]
    x, w = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    ours = cr.einsum(*args(cr.tensor(x), cr.tensor(w)))
    np.testing.assert_array_equal(ours.numpy(), torch.einsum(*args(torch.tensor(x), torch.tensor(w))).numpy())


@pytest.mark.parametrize("equation,shapes,error,message", [
    ("i->ii", [(2,)], ValueError, "output subscript 'i' of 'i->ii' appears more than once"),
    ("i->j", [(2,)], ValueError, "output subscript 'j' of 'i->j' is in no input"),
    ("ij,jk->ik", [(2, 3), (2, 4)], cr.ShapeError, "subscript 'j' has size 2 .* but size 3 elsewhere"),
    ("ii", [(2, 3)], cr.ShapeError, "subscript 'i' has size 3"),
    ("i..j", [(2, 3)], ValueError, "'i..j' has '.'; subscripts are letters"),
    ("i$", [(2, 2)], ValueError, "has '\\$'"),
    ("ij", [(2, 3, 4)], cr.ShapeError, r"subscripts 'ij' do not fit an operand of shape \(2, 3, 4\)"),
    ("...i...", [(2, 3)], cr.ShapeError, "'...' once"),
    ("ij,jk", [(2, 3)], ValueError, "names 2 operands but 1 were given"),
])
def test_einsum_errors_are_named(equation, shapes, error, message):
    with pytest.raises(error, match=message):
        cr.einsum(equation, *[cr.ones(*s) for s in shapes])
