"""The Hurwitz zeta function ζ(x, q) = Σₖ₌₀^∞ (q + k)^(-x) (torch.special.zeta; x = s in the usual notation),
with the domain rules of torch's Cephes code: inf at x = 1, nan for x < 1; for q ≤ 0, inf at the poles q = 0, -1, …
and nan unless x is an integer (a negative base to a fractional power). Computed by Euler–Maclaurin summation
(`_hurwitz_zeta`, shared with polygamma).

    ∂ζ/∂q = -x·ζ(x + 1, q);   ∂ζ/∂x is not implemented, as in torch (it needs Σ ln(q+k)·(q+k)^(-x)).
"""
import numpy as np

from ..autograd.function import Op
from ..errors import BackwardError
from ._util import tensor_pair
from .registry import T, register, sample
from .special import _cast_like, _hurwitz_zeta


def _np_zeta(x, q):
    x, q = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(q, np.float64))
    pole_q = (q <= 0) & (q == np.floor(q))
    undefined = (x < 1) | ((q <= 0) & ~pole_q & (x != np.floor(x))) | np.isnan(x) | np.isnan(q)   # a pole first
    inside = ~(undefined | pole_q | (x == 1))
    out = np.full(x.shape, np.nan)
    if inside.any():
        xs, qs = x[inside], q[inside]
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            # q < 0 (x an integer): with q = f - m, 0 < f < 1, the m terms below 0 are (-1)ˣ Σⱼ₌₁ᵐ (j - f)^-x
            # = (-1)ˣ [ζ(x, 1 - f) - ζ(x, 1 - f + m)], so no walk up from a far negative q
            below = qs < 0
            m = np.where(below, -np.floor(qs), 0.0)
            f = qs + m
            sign = np.where(xs % 2 == 0, 1.0, -1.0)
            left = np.where(below, sign * (_hurwitz_zeta(xs, np.where(below, 1 - f, 1.0))
                                           - _hurwitz_zeta(xs, np.where(below, 1 - f + m, 1.0))), 0.0)
            out[inside] = _hurwitz_zeta(xs, f) + left
    return np.where(undefined, np.nan, np.where(pole_q | (x == 1), np.inf, out))


class Zeta(Op):
    """y = ζ(x, q);  ∂y/∂q = -x·ζ(x + 1, q)."""

    def forward(self, x, q):
        return _cast_like(_np_zeta(x, q), x)   # x and q share one dtype (tensor_pair)

    def backward(self, g):
        x, q = self.inputs
        if self.needs_input_grad[0]:
            raise BackwardError("zeta: the derivative with respect to the first argument (x, the exponent) is not "
                                "implemented, as in torch; detach x, or differentiate with respect to q only")
        return None, -g * x * zeta(x + 1, q)


def zeta(input, other):
    """The Hurwitz zeta function ζ(input, other) = Σₖ (other + k)^(-input) (torch.special.zeta); ζ(x, 1) is
    Riemann's."""
    return Zeta.apply(*tensor_pair(input, other))


zeta = register("zeta", ref=_np_zeta, samples=[
    sample(T((3, 4), 1.2, 6, grad=False), T((3, 4), 0.2, 4)),
    sample(T((4,), values=[2.0, 3.0, 4.0, 2.0], grad=False), T((4,), values=[-1.5, 1e-3, 30.0, 1e9])),
    sample(T((2, 1), 1.5, 3, grad=False), T((3,), 0.5, 2))])(zeta)
