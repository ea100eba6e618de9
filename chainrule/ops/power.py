"""Powers: a tensor to a tensor power (Pow) and to a constant one (PowScalar, whose derivative needs no logarithm)."""
import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from ._util import floating
from .elementwise import _binary, where
from .registry import T, register, sample

_wrap = Tensor._wrap


def _integer_power(a, b):
    """Integers to integer powers, some negative, as torch (NumPy refuses): a^b truncated toward 0, so 1 for a = 1,
    ±1 for a = -1, and 0 for any other a."""
    negative = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(b >= 0, a ** np.maximum(b, 0), negative).astype(np.result_type(a, b))


class Pow(Op):
    """z = a^b;  dz/da = b·a^(b-1) (0 where b = 0: z ≡ 1 there), dz/db = a^b·ln a (0 where a = 0 and b ≥ 0),
    torch's conventions; 0·∞ would give nan at both."""

    def forward(self, a, b):
        if b.dtype.kind in "iu" and a.dtype.kind in "iub" and (b < 0).any():
            self.out = _integer_power(a, b)
        else:
            self.out = a ** b
        return self.out

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        ga = gb = None
        if na:
            flat = b._data == 0
            ga = g * b * a ** ((where(flat, 1.0, b) if flat.any() else b) - 1)
        if nb:
            base = (a._data == 0) & (b._data >= 0)
            gb = g * self.saved_output() * (where(base, 1.0, a) if base.any() else a).log()
        return ga, gb


class PowScalar(Op):
    """z = a^p for a constant p;  dz/da = p·a^(p-1)."""

    def forward(self, a, p):
        self.p = p
        return a ** p

    def backward(self, g):
        a, = self.inputs
        p = self.p
        if p == 0:
            return g * 0
        if p == 1:
            return g
        if p == 2:
            if not STATE.grad_enabled:
                return _wrap(g._data * a._data * a._data.dtype.type(2))
            return g * a * 2.0
        return g * p * a ** (p - 1)


def pow(input, exponent):
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool) and isinstance(input, Tensor):
        if input._data.dtype.kind != "f" and (exponent < 0 or isinstance(exponent, float)):
            input = floating(input)
        return PowScalar.apply(input, p=exponent)
    return _binary(Pow, input, exponent)


pow = register("pow", method="pow", ref=np.power,
         samples=[sample(T((3, 4), 0.5, 2), T((3, 4))), sample(T((3, 4), 0.5, 2), T((4,))),
                  sample(T((3, 4)), 2), sample(T((3, 4)), 3), sample(T((3, 4), 0.5, 2), -1.5),
                  sample(T((2,), values=[0.0, 1.0], grad=False), T((2,), 0.5, 2))])(pow)
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda self, other: _binary(Pow, other, self)
