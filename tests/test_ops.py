"""Every registered op, every sample: gradcheck in float64, gradgradcheck where twice differentiable, and the
forward against the op's NumPy reference. Adding an op with samples adds its tests here automatically."""
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.function import Op
from chainrule.ops.registry import OPS

CASES = [(name, i) for name, info in sorted(OPS.items()) for i in range(len(info.samples))]


def _build(name, i):
    info = OPS[name]
    s = info.samples[i]
    rng = np.random.default_rng(1000 + i)

    def factory(arr, grad):
        t = cr.tensor(arr)
        return t.requires_grad_(True) if grad else t
    flat, call, ref_args = s.build(rng, factory)
    return info, s, flat, call, ref_args


def _id(case):
    name, i = case
    return f"{name}[{OPS[name].samples[i].describe()}]"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_gradcheck(case):
    info, s, flat, call, _ = _build(*case)
    if not flat:
        pytest.skip("no differentiable input")
    assert cr.autograd.gradcheck(call, flat, **s.check)


GG = [c for c in CASES if OPS[c[0]].gradgrad and OPS[c[0]].samples[c[1]].gradgrad]


@pytest.mark.parametrize("case", GG, ids=[_id(c) for c in GG])
def test_gradgradcheck(case):
    info, s, flat, call, _ = _build(*case)
    if not flat:
        pytest.skip("no differentiable input")
    assert cr.autograd.gradgradcheck(call, flat, **s.check)


ONCE = [c for c in CASES if not OPS[c[0]].gradgrad]   # ops registered as not twice differentiable


@pytest.mark.parametrize("case", ONCE, ids=[_id(c) for c in ONCE])
def test_a_second_derivative_is_right_or_refused(case):
    """An op not gradgradchecked must still never give a silently wrong second derivative: either it is right,
    or differentiating its gradient raises NotImplementedError (Op.once_differentiable, or a check of its own)."""
    info, s, flat, call, _ = _build(*case)
    if not flat:
        pytest.skip("no differentiable input")
    try:
        right = cr.autograd.gradgradcheck(call, flat, raise_exception=False, **s.check)
    except NotImplementedError as exc:
        assert "second derivatives" in str(exc)
        return
    assert right, f"{case[0]}: second derivative silently wrong; set once_differentiable = True on its Op"


@pytest.mark.parametrize("case", [c for c in CASES if OPS[c[0]].ref is not None],
                         ids=[_id(c) for c in CASES if OPS[c[0]].ref is not None])
def test_forward_matches_numpy(case):
    info, s, flat, call, ref_args = _build(*case)
    out = call(*flat)
    expected = info.ref(*ref_args, **s.kwargs)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)


def test_every_op_has_samples():
    for name, info in OPS.items():
        assert len(info.samples) > 0, f"op {name} is registered without samples"


def test_every_op_class_is_reached_by_a_registered_op():
    """An Op subclass that no registered sample exercises would escape the gradient tests."""
    reached = set()

    class Spy:
        def on_forward(self, node, outs, inputs):
            reached.add(type(node))

        def on_backward(self, node, go, gi):
            reached.add(type(node))
    from chainrule.autograd.grad_mode import STATE
    STATE.observers = (Spy(),)
    try:
        for name, i in CASES:
            info, s, flat, call, _ = _build(name, i)
            if flat:
                cr.autograd.gradgradcheck(call, flat, **s.check) if info.gradgrad and s.gradgrad else cr.autograd.gradcheck(call, flat, **s.check)
            else:
                call(*flat)
    finally:
        STATE.observers = ()

    def all_subclasses(c):
        for s in c.__subclasses__():
            yield s
            yield from all_subclasses(s)
    builtin = {c for c in all_subclasses(Op) if c.__module__.startswith("chainrule.")}
    missing = sorted(c.__name__ for c in builtin - reached)
    assert not missing, f"Op classes no registered sample reaches: {missing}"


def test_register_without_samples_fails():
    from chainrule.ops.registry import register
    with pytest.raises(ValueError, match="at least one sample"):
        register("nothing_here", samples=[])(lambda x: x)


def _zero_d_case(case):
    """The sample as 0-d tensors (its first elements) when it is elementwise-shaped: every argument a number or a
    differentiable tensor, all of one shape, and the result of that shape too. Else None."""
    info, s, flat, call, _ = _build(*case)
    tensors = [a for a in s.args if hasattr(a, "make")]
    if not flat or len(tensors) != len(flat) or any(isinstance(a, np.ndarray) for a in s.args) \
            or len({tuple(t.shape) for t in flat}) != 1 or flat[0].ndim == 0:
        return None
    out = call(*flat)
    if not isinstance(out, cr.Tensor) or out.shape != flat[0].shape:
        return None
    return s, call, [cr.tensor(np.asarray(t.detach().numpy().flat[0]), requires_grad=True) for t in flat]


ZERO_D = [c for c in CASES if _zero_d_case(c) is not None]


@pytest.mark.parametrize("case", ZERO_D, ids=[_id(c) for c in ZERO_D])
def test_shape_keeping_ops_take_0d_tensors_or_say_why(case):
    """Every op whose sample keeps its input's shape, run on 0-d tensors (as torch's scalars): it gradchecks, or it
    refuses with chainrule's own error that names the op (ops along a dim or over matrices) — never a TypeError or
    a bare IndexError from inside NumPy."""
    s, call, scalars = _zero_d_case(case)
    try:
        out = call(*scalars)
    except (cr.ShapeError, IndexError, ValueError) as exc:
        assert re.match(r"[\w.]+: ", str(exc)), f"{case[0]} on 0-d tensors: an error that names no op: {exc!r}"
        return
    assert out.shape == ()
    assert cr.autograd.gradcheck(call, scalars, **s.check)


FIRST = [(name, 0) for name in sorted(OPS)]


@pytest.mark.parametrize("case", FIRST, ids=[_id(c) for c in FIRST])
def test_numpy_arrays_for_tensors_get_a_type_error_that_names_the_op(case):
    """Every op, and its top-level twin in `cr`, handed NumPy arrays where its sample has tensors: it computes, or
    raises a TypeError naming the op, the argument and the fix, as torch does — never an AttributeError from
    inside ('numpy.ndarray' object has no attribute '_data')."""
    info, s, _, _, arrays = _build(*case)
    if not any(isinstance(a, np.ndarray) for a in arrays):
        pytest.skip("no tensor argument")
    for fn in {info.fn, getattr(cr, case[0], info.fn)}:
        try:
            fn(*arrays, **s.kwargs)
        except RuntimeError as exc:   # torch.solve / torch.lstsq: removed from torch, refused with the new name
            assert "torch removed it" in str(exc)
        except TypeError as exc:
            assert re.match(r"[\w.]+: argument (\d+|'\w+') must be a Tensor, not numpy\.ndarray; wrap it with "
                            r"cr\.tensor\(x\)", str(exc)), str(exc)


def test_a_real_attribute_error_inside_an_op_is_not_blamed_on_the_arguments():
    """The TypeError is raised only when the object that lacked the attribute is an argument (or the input is a
    raw array): a fault inside the op, with Tensor arguments, still shows as the AttributeError it is."""
    from chainrule.ops.registry import _naming_non_tensors

    def broken(input, dim=None):
        return input._data.no_such_attribute

    with pytest.raises(AttributeError, match="no_such_attribute"):
        _naming_non_tensors("broken", broken)(cr.ones(2), dim=None)
    with pytest.raises(TypeError, match=r"^broken: argument 1 must be a Tensor, not list"):
        _naming_non_tensors("broken", broken)([1.0, 2.0])
