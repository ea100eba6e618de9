"""The op registry: every differentiable op registers sample inputs and a NumPy reference forward here, and
tests/test_ops.py gradchecks every sample in float64, so adding an op touches one file and is tested by
construction.

    @register("exp", method="exp", ref=np.exp, samples=[sample(T((3, 4)))])
    def exp(input):
        return Exp.apply(input)
"""
import copy
import functools

import numpy as np

OPS = {}


class OpInfo:
    def __init__(self, name, fn, samples, ref, gradgrad, methods):
        self.name, self.fn, self.samples, self.ref = name, fn, samples, ref
        self.gradgrad, self.methods = gradgrad, methods

    def __repr__(self):
        return f"OpInfo({self.name!r}, {len(self.samples)} samples)"


class T:
    """A tensor input of a sample: shape and the interval its float64 values are drawn from.
    `values` pins exact values (edge cases); grad=False makes it a constant input."""

    def __init__(self, shape=None, low=-2.0, high=2.0, values=None, grad=True, dtype="float64", away=None):
        self.shape, self.low, self.high, self.values = shape, low, high, values
        self.grad, self.dtype, self.away = grad, dtype, away

    def make(self, rng):
        if self.values is not None:
            arr = np.array(self.values, dtype=self.dtype)
        elif np.dtype(self.dtype).kind == "b":
            arr = rng.random(self.shape) > 0.5
        elif np.dtype(self.dtype).kind == "f":
            arr = rng.uniform(self.low, self.high, self.shape).astype(self.dtype)
            if self.away is not None:   # keep off a kink, e.g. relu at 0: |x - k| >= 0.1
                near = np.abs(arr - self.away) < 0.1
                arr[near] = self.away + np.where(arr[near] >= self.away, 0.1, -0.1) + rng.uniform(0, 0.5, near.sum())
        else:
            arr = rng.integers(int(self.low), int(self.high), self.shape).astype(self.dtype)
        return arr


class Sample:
    def __init__(self, *args, check=None, gradgrad=True, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.check = check or {}   # gradcheck tolerances for samples whose output is not float64
        self.gradgrad = gradgrad   # False for a sample sitting on a kink of the first derivative (a tie)

    def build(self, rng, tensor_factory):
        """-> (flat list of tensors needing grad, function of them that calls the op, the args as arrays)."""
        flat = []

        def make(a):
            if isinstance(a, T):
                arr = a.make(rng)
                t = tensor_factory(arr, a.grad and arr.dtype.kind == "f")
                if t.requires_grad:
                    flat.append(t)
                return ("tensor", t, arr)
            if isinstance(a, (list, tuple)) and any(isinstance(x, T) for x in a):
                return ("seq", type(a), [make(x) for x in a])
            return ("const", a, a)

        spec = [make(a) for a in self.args]

        def rebuild(items, sub, use_arrays):
            out = []
            for kind, obj, extra in items:
                if kind == "tensor":
                    out.append(extra if use_arrays else sub.get(id(obj), obj))
                elif kind == "seq":
                    out.append(obj(rebuild(extra, sub, use_arrays)))
                else:
                    out.append(obj)
            return out

        def call(*tensors):
            sub = {id(orig): new for orig, new in zip(flat, tensors)}
            return self._op(*rebuild(spec, sub, False), **self.kwargs)

        ref_args = rebuild(spec, {}, True)
        return flat, call, ref_args

    def describe(self):
        parts = []
        for a in self.args:
            if isinstance(a, T):
                parts.append(f"T{tuple(a.shape) if a.shape is not None else tuple(np.shape(a.values))}")
            elif isinstance(a, (list, tuple)) and any(isinstance(x, T) for x in a):
                parts.append("[" + ",".join(f"T{x.shape}" for x in a) + "]")
            else:
                parts.append(repr(a))
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


sample = Sample


def register(name, *, samples, ref=None, gradgrad=True, method=None):
    """Register `fn` as op `name`; `method` names (str or tuple) are attached to Tensor too."""
    methods = (method,) if isinstance(method, str) else tuple(method or ())

    def deco(fn):
        if not samples:
            raise ValueError(f"register({name!r}): every op needs at least one sample input for its gradient tests")
        if name in OPS:
            raise ValueError(f"register: op {name!r} is registered twice")
        public = _naming_non_tensors(name, fn)
        own = [copy.copy(s) for s in samples]   # sample lists are shared between ops; each copy calls this op
        for s in own:
            s._op = public
        OPS[name] = OpInfo(name, public, own, ref, gradgrad, methods)
        if methods:   # a method's first argument is the Tensor itself: no wrapper needed
            from ..tensor import Tensor
            for m in methods:
                setattr(Tensor, m, fn)
        return public
    return deco


def _naming_non_tensors(name, fn):
    """fn, raising a TypeError that names the op and the argument when it is handed a NumPy array or a list where a
    Tensor belongs (inside, that is an AttributeError on the array, 'numpy.ndarray' has no attribute '_data', or
    NumPy's own TypeError or ValueError). The try costs nothing until something raises."""
    @functools.wraps(fn)
    def op(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (AttributeError, TypeError, ValueError) as exc:
            from ..autograd.forward_errors import not_a_tensor
            error = not_a_tensor(name, exc, args, kwargs)
            if error is None:
                raise
            raise error from None
    op.names_non_tensors = True
    return op


def tensor_method(*names):
    """Attach a non-registered helper (a composition already covered by registered ops) as Tensor methods."""
    def deco(fn):
        from ..tensor import Tensor
        for n in names:
            setattr(Tensor, n, fn)
        return fn
    return deco
