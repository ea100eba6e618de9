"""Bad input raises an error that names the op, the shapes or values, and a fix."""
import numpy as np
import pytest

import chainrule as cr
from helpers import BadSquare


def test_matmul_shape_mismatch_names_both_shapes_and_suggests_transpose():
    a, b = cr.ones(3, 4), cr.ones(3, 5)
    with pytest.raises(cr.ShapeError, match=r"matmul: shapes \(3, 4\) and \(3, 5\).*a.T @ b"):
        a @ b
    with pytest.raises(cr.ShapeError, match=r"\(2, 4\) and \(3, 4\).*a @ b.T"):
        cr.ones(2, 4) @ cr.ones(3, 4)


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(cr.ShapeError, match=r"add: cannot broadcast shapes \(3, 4\), \(5,\)"):
        cr.ones(3, 4) + cr.ones(5)
    with pytest.raises(cr.ShapeError, match=r"mul: cannot broadcast"):
        cr.ones(2, 3) * cr.ones(3, 2)


def test_backward_on_non_scalar_without_gradient():
    x = cr.ones(3, requires_grad=True)
    with pytest.raises(cr.BackwardError, match=r"only for scalar outputs.*shape \(3,\).*gradient="):
        (x * 2).backward()


def test_backward_on_tensor_not_requiring_grad():
    with pytest.raises(cr.BackwardError, match="does not require grad.*requires_grad=True"):
        cr.ones(3).sum().backward()


def test_backward_twice_through_freed_graph():
    x = cr.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(cr.BackwardError, match="SumBackward.*second time.*retain_graph=True"):
        y.backward()


def test_inplace_on_leaf_requiring_grad():
    x = cr.ones(3, requires_grad=True)
    with pytest.raises(cr.InplaceError, match=r"\+=: a leaf tensor that requires grad.*no_grad"):
        x += 1
    with pytest.raises(cr.InplaceError, match="add_"):
        x.add_(1)


def test_unsupported_dtype():
    with pytest.raises(cr.DTypeError, match="unsupported dtype complex128.*float16, float32, float64, int64"):
        cr.tensor(np.array([1 + 2j]))
    with pytest.raises(cr.DTypeError, match="unsupported dtype"):
        cr.tensor(["a", "b"])


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(cr.DTypeError, match="only floating-point tensors can require gradients.*int64"):
        cr.tensor([1, 2], requires_grad=True)


def test_grad_for_input_that_does_not_require_grad():
    x = cr.ones(2, requires_grad=True)
    c = cr.ones(2)
    y = (x * c).sum()
    with pytest.raises(cr.BackwardError, match="input 1.*does not require grad"):
        cr.autograd.grad(y, [x, c])


def test_reshape_error():
    with pytest.raises(cr.ShapeError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\).*\(4, 2\)"):
        cr.ones(2, 3).reshape(4, 2)


def test_dim_out_of_range():
    with pytest.raises(IndexError, match="sum: dim 2 is out of range for a tensor with 2 dims"):
        cr.ones(2, 3).sum(dim=2)


def test_gather_index_out_of_range():
    with pytest.raises(IndexError, match=r"gather: index values must be in \[0, 3\)"):
        cr.gather(cr.ones(2, 3), 1, cr.tensor([[0, 3], [1, 1]]))


def test_gradcheck_error_names_input_entry_and_values():
    x = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.GradcheckError,
                       match=r"input 0 \(shape \(3,\)\): worst entry d output\[2\] / d input 0\[2\]: "
                             r"analytical 3, numerical 6(\.0+\d*)?, relative difference 0.5"):
        cr.autograd.gradcheck(BadSquare.apply, [x])
    assert cr.autograd.gradcheck(BadSquare.apply, [x], raise_exception=False) is False


def test_gradcheck_casts_float32_with_a_warning():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="not float64"):
        assert cr.autograd.gradcheck(lambda v: v * v, [x])


def test_item_on_many_elements():
    with pytest.raises(ValueError, match=r"item\(\): only a tensor with one element.*\(3,\)"):
        cr.ones(3).item()


def test_common_training_mistakes_get_named_errors():
    with pytest.raises(cr.ShapeError, match=r"^reshape: cannot reshape"):   # the op is named once
        cr.randn(4, 6).view(5, -1)
    with pytest.raises(TypeError, match="SGD: lr must be a number, got str '0.1'"):
        cr.optim.SGD(cr.nn.Linear(2, 2).parameters(), lr="0.1")


def test_smooth_l1_loss_names_itself_not_the_huber_loss_inside():
    with pytest.raises(cr.errors.ShapeError, match="^smooth_l1_loss: input shape"):
        cr.nn.functional.smooth_l1_loss(cr.ones(3), cr.ones(4))
    with pytest.warns(RuntimeWarning, match="^smooth_l1_loss: reducing over no elements"):
        cr.nn.functional.smooth_l1_loss(cr.ones(0), cr.ones(0))


def test_a_numpy_array_fed_to_a_module_names_the_module():
    import numpy as np
    import chainrule.nn as nn
    x = np.ones((4, 3), np.float32)
    for module, name in [(nn.Linear(3, 2), "Linear"), (nn.Sequential(nn.Linear(3, 2), nn.ReLU()), "Sequential"),
                         (nn.LayerNorm(3), "LayerNorm"), (nn.CrossEntropyLoss(), "CrossEntropyLoss")]:
        args = (x, cr.tensor([0, 1, 2, 0])) if name == "CrossEntropyLoss" else (x,)
        with pytest.raises(TypeError, match=rf"^{name}: argument 1 must be a Tensor, not numpy\.ndarray; wrap it "
                                            rf"with cr\.tensor\(x\)"):
            module(*args)
    with pytest.raises(TypeError, match=r"^relu: argument 1 must be a Tensor, not list"):
        cr.relu([1.0, -1.0])


def test_reading_grad_of_a_non_leaf_warns_as_torch_does():
    x = cr.randn(3, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor.*retain_grad"):
        assert y.grad is None
    z = x * 3
    z.retain_grad()
    (y.sum() + z.sum()).backward()   # a retained non-leaf and the leaf read silently
    assert z.grad.tolist() == [1.0, 1.0, 1.0] and x.grad.tolist() == [5.0, 5.0, 5.0]


def test_an_index_out_of_range_is_named_once():
    with pytest.raises(IndexError, match=r"^getitem: index 5 is out of bounds for axis 0 with size 3.*; index 5$"):
        cr.randn(3)[5]


def test_copy_constructing_from_a_tensor_warns_as_torch_does():
    x = cr.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match=r"x\.detach\(\)\.clone\(\)"):
        y = cr.tensor(x)
    assert y.grad_fn is None and not y.requires_grad and y.tolist() == x.tolist()
