"""Bitwise ops, shifts, gcd and lcm: NumPy's integer semantics, PyTorch's names, dtypes and errors; equal to torch
when it is importable."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import DTypeError, ShapeError
from helpers import torch_or_skip

A = np.array([[0, 5, -8, 127], [3, -1, 64, 12]], np.int64)
B = np.array([3, 6, 2, 1], np.int64)
NAMES = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm"]
NUMPY = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor,
         "bitwise_left_shift": np.left_shift, "bitwise_right_shift": np.right_shift, "gcd": np.gcd, "lcm": np.lcm}


@pytest.mark.parametrize("name", NAMES)
def test_binary_matches_numpy_with_broadcasting(name):
    out = getattr(cr, name)(cr.tensor(A), cr.tensor(B))
    assert out.dtype == cr.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), NUMPY[name](A, B))
    np.testing.assert_array_equal(getattr(cr.tensor(A), name)(cr.tensor(B)).numpy(), NUMPY[name](A, B))


def test_operators_and_reflected_forms():
    a, b = cr.tensor(A), cr.tensor(B)
    for got, want in [(a & b, A & B), (a | b, A | B), (a ^ b, A ^ B), (~a, ~A), (a << 2, A << 2), (a >> 1, A >> 1),
                      (6 & a, 6 & A), (1 << b, 1 << B), (100 >> b, 100 >> B), (7 ^ a, 7 ^ A), (8 | a, 8 | A)]:
        np.testing.assert_array_equal(got.numpy(), want)


def test_bool_tensors_stay_bool_and_shifts_widen_them():
    t, f = cr.tensor([True, True, False]), cr.tensor([True, False, False])
    assert (t & f).dtype == cr.bool and (t & f).tolist() == [True, False, False]
    assert (t | f).tolist() == [True, True, False] and (t ^ f).tolist() == [False, True, False]
    assert (~t).tolist() == [False, False, True]
    shifted = t << 1
    assert shifted.dtype == cr.int64 and shifted.tolist() == [2, 2, 0]


def test_python_scalars_keep_the_tensors_dtype():
    a = cr.tensor([1, 2, 3], dtype=cr.int8)
    assert (a & 3).dtype == cr.int8 and (a << 1).dtype == cr.int8 and (a | 4).tolist() == [5, 6, 7]


def test_shifts_past_the_bit_width():
    a = cr.tensor([1, -8])
    assert (a << 64).tolist() == [0, 0]
    assert (a >> 70).tolist() == [0, -1]   # arithmetic: the sign fills in


def test_gcd_lcm_signs_and_zeros():
    a, b = cr.tensor([0, -4, 6, 0]), cr.tensor([0, 6, -9, 5])
    assert cr.gcd(a, b).tolist() == [0, 2, 3, 5]
    assert cr.lcm(a, b).tolist() == [0, 12, 18, 0]


def test_in_place_forms_change_the_tensor_and_keep_its_dtype():
    a = cr.tensor([5, 6, 7], dtype=cr.int16)
    alias, before = a, a._version
    a &= 3
    assert a is alias and a.tolist() == [1, 2, 3] and a.dtype == cr.int16 and a._version > before
    a <<= 2
    assert a.tolist() == [4, 8, 12]
    a.bitwise_xor_(cr.tensor([1, 1, 1]))
    assert a.tolist() == [5, 9, 13] and a.dtype == cr.int16
    a.bitwise_not_()
    assert a.tolist() == [-6, -10, -14]
    a.gcd_(cr.tensor([4, 4, 4], dtype=cr.int16))
    assert a.tolist() == [2, 2, 2]


def test_in_place_result_that_cannot_be_cast_back_is_an_error():
    mask = cr.tensor([True, False])
    with pytest.raises(DTypeError, match="bitwise_and_"):
        mask.bitwise_and_(cr.tensor([3, 1]))


@pytest.mark.parametrize("name", NAMES + ["bitwise_not"])
def test_float_input_is_a_named_error(name):
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(DTypeError, match=f"{name}: needs integer or bool"):
        getattr(cr, name)(x) if name == "bitwise_not" else getattr(cr, name)(x, x)
    with pytest.raises(DTypeError, match="bitwise_and"):
        cr.tensor([1, 2]) & 1.5


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ShapeError, match=r"bitwise_or: cannot broadcast shapes \(2,\) and \(3,\)"):
        cr.tensor([1, 2]) | cr.tensor([1, 2, 3])


@pytest.mark.parametrize("name", NAMES + ["bitwise_not"])
def test_matches_torch(name):
    torch = torch_or_skip()
    for dtype in (np.int64, np.int32, np.uint8):
        a = (A % 100).astype(dtype) if dtype == np.uint8 else A.astype(dtype)
        b = B.astype(dtype)
        if name == "bitwise_not":
            ours, theirs = cr.bitwise_not(cr.tensor(a)), torch.bitwise_not(torch.from_numpy(a))
        else:
            ours = getattr(cr, name)(cr.tensor(a), cr.tensor(b))
            theirs = getattr(torch, name)(torch.from_numpy(a), torch.from_numpy(b))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
