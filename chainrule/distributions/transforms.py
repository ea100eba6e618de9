"""Bijections for TransformedDistribution (torch.distributions.transforms): each gives y = f(x), its inverse, and
log|det ∂y/∂x| (elementwise here, summed over event dims by the distribution), so that
log p_Y(y) = log p_X(f⁻¹(y)) - log|det J_f(f⁻¹(y))|."""
import math

import numpy as np

from ..creation import zeros
from ..nn.functional import logsigmoid, softplus
from ..ops.elementwise import sigmoid
from ..ops.reduce import softmax
from ..ops.shape import cat, pad, stack
from . import constraints
from .distribution import as_tensor


class Transform:
    domain = codomain = constraints.real
    bijective, event_dim = True, 0
    _sign = None   # +1 increasing, -1 decreasing (a number or a tensor); None: not monotone, or not known to be

    @property
    def sign(self):
        """+1 for an increasing transform, -1 for a decreasing one (a cdf through it is flipped)."""
        if self._sign is None:
            raise NotImplementedError(f"{type(self).__name__}.sign: the transform is not monotone, so a cdf cannot be "
                                      f"carried through it")
        return self._sign

    def __call__(self, x):
        return self._call(x)

    @property
    def inv(self):
        """The inverse as a Transform (torch's t.inv): t.inv(y) = x, and t.inv.log_abs_det_jacobian(y, x) =
        -t.log_abs_det_jacobian(x, y)."""
        return _InverseTransform(self)

    @property
    def input_event_dim(self):
        return self.domain.event_dim

    def inverse_shape(self, shape):
        """The shape of x for a y of `shape`."""
        return tuple(shape)

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError(f"{type(self).__name__}.log_abs_det_jacobian is not implemented")

    def forward_shape(self, shape):
        """The shape of y for an x of `shape` (most transforms keep it)."""
        return tuple(shape)

    def __repr__(self):
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    def __init__(self, base):
        self._inv = base
        self.domain, self.codomain, self.event_dim = base.codomain, base.domain, base.event_dim
        self.bijective, self._sign = base.bijective, base._sign

    @property
    def inv(self):
        return self._inv

    def _call(self, y):
        return self._inv._inverse(y)

    def _inverse(self, x):
        return self._inv._call(x)

    def log_abs_det_jacobian(self, y, x):
        return -self._inv.log_abs_det_jacobian(x, y)

    def forward_shape(self, shape):
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._inv.forward_shape(shape)

    def __repr__(self):
        return f"_InverseTransform({self._inv!r})"


class ExpTransform(Transform):
    """y = eˣ;  log|dy/dx| = x."""
    _sign = 1
    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class AffineTransform(Transform):
    """y = loc + scale·x;  log|dy/dx| = log|scale|."""

    def __init__(self, loc, scale, event_dim=0):
        self.loc, self.scale, self.event_dim = loc, scale, event_dim
        self._sign = scale.sign() if hasattr(scale, "sign") else int(np.sign(scale))

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = as_tensor(self.scale, x)
        ladj = scale.abs().log().expand(*x.shape) if scale.shape != x.shape else scale.abs().log()
        return ladj.sum(tuple(range(-self.event_dim, 0))) if self.event_dim else ladj


class SigmoidTransform(Transform):
    """y = σ(x), kept inside (tiny, 1 - eps);  log|dy/dx| = -softplus(-x) - softplus(x)."""
    _sign = 1
    codomain = constraints.unit_interval

    def _call(self, x):
        import numpy as np
        finfo = np.finfo(x.dtype)
        return sigmoid(x).clamp(finfo.tiny, 1 - finfo.eps)

    def _inverse(self, y):
        import numpy as np
        finfo = np.finfo(y.dtype)
        y = y.clamp(finfo.tiny, 1 - finfo.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh x;  log|dy/dx| = 2(log 2 - x - softplus(-2x)) (stable for large |x|)."""
    _sign = 1
    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class SoftplusTransform(Transform):
    """y = log(1 + eˣ);  log|dy/dx| = -softplus(-x)."""
    _sign = 1
    codomain = constraints.positive

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        return y + (-(-y).expm1()).log()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)


class PowerTransform(Transform):
    """y = xᵉ on x > 0;  log|dy/dx| = log|e·y/x|."""
    domain = codomain = constraints.positive

    def __init__(self, exponent):
        self.exponent = exponent
        self._sign = exponent.sign() if hasattr(exponent, "sign") else int(np.sign(exponent))

    def _call(self, x):
        return x ** self.exponent

    def _inverse(self, y):
        return y ** (1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()


class StickBreakingTransform(Transform):
    """Real (K-1)-vectors onto the K-simplex by breaking a stick: zᵢ = σ(xᵢ - log(K - i)), yᵢ = zᵢ Πⱼ<ᵢ(1 - zⱼ),
    y_K = Π(1 - zⱼ);  log|det J| = Σᵢ (-x̃ᵢ + log σ(x̃ᵢ) + log yᵢ), x̃ᵢ = xᵢ - log(K - i)."""
    domain, codomain, event_dim = constraints.real_vector, constraints.simplex, 1

    @staticmethod
    def _offset(n, like):
        return as_tensor(np.arange(n, 0, -1, dtype=like.dtype), like)   # K - i for i = 1 … K-1

    def _call(self, x):
        finfo = np.finfo(x.dtype)
        z = sigmoid(x - self._offset(x.shape[-1], x).log()).clamp(finfo.tiny, 1 - finfo.eps)
        return pad(z, (0, 1), value=1.0) * pad((1 - z).cumprod(-1), (1, 0), value=1.0)

    def _inverse(self, y):
        crop = y[..., :-1]
        rest = (1 - crop.cumsum(-1)).clamp(min=float(np.finfo(y.dtype).tiny))
        return crop.log() - rest.log() + self._offset(crop.shape[-1], y).log()

    def log_abs_det_jacobian(self, x, y):
        shifted = x - self._offset(x.shape[-1], x).log()
        return (-shifted + logsigmoid(shifted) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class ComposeTransform(Transform):
    """The parts applied in order; log|det| adds up along the way. With no parts it is the identity (torch's
    identity_transform)."""

    def __init__(self, parts):
        self.parts = list(parts)
        self.event_dim = max((p.event_dim for p in self.parts), default=0)
        if self.parts:
            self.domain, self.codomain = self.parts[0].domain, self.parts[-1].codomain
        self.bijective = all(p.bijective for p in self.parts)
        signs = [p._sign for p in self.parts]
        self._sign = None if any(x is None for x in signs) else _product(signs)

    def forward_shape(self, shape):
        for p in self.parts:
            shape = p.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape):
        for p in reversed(self.parts):
            shape = p.inverse_shape(shape)
        return tuple(shape)

    def __repr__(self):
        return f"ComposeTransform([{', '.join(map(repr, self.parts))}])"

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return x * 0   # the identity: log|det| = 0, shaped like x, as torch's
        total = 0.0
        for p in self.parts:
            y_p = p(x)
            total = total + sum_rightmost(p.log_abs_det_jacobian(x, y_p), self.event_dim - p.event_dim)
            x = y_p
        return total


def _product(factors):
    """f₁·f₂·… of numbers or tensors (1 for none): the sign of a chain of monotone transforms."""
    total = 1
    for f in factors:
        total = total * f
    return total


def sum_rightmost(value, n):
    """value summed over its n rightmost dims (a scalar log|det| is left as it is)."""
    if n <= 0 or not hasattr(value, "ndim") or value.ndim == 0:
        return value
    return value.sum(tuple(range(-n, 0)))


identity_transform = ComposeTransform([])


class CumulativeDistributionTransform(Transform):
    """y = F(x), the distribution's cdf: onto (0, 1) (a copula's marginals);  log|dy/dx| = log p(x)."""
    _sign = 1
    codomain = constraints.unit_interval

    def __init__(self, distribution):
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)


class AbsTransform(Transform):
    """y = |x| (not bijective: x and -x meet; used by HalfCauchy and HalfNormal)."""
    codomain, bijective = constraints.positive, False

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class SoftmaxTransform(Transform):
    """y = softmax(x) over the last dim: onto the simplex, not bijective (adding a constant to x changes nothing),
    so it has no log|det J|; transform_to(simplex) uses it, biject_to(simplex) the stick-breaking bijection."""
    domain, codomain, bijective, event_dim = constraints.real_vector, constraints.simplex, False, 1

    def _call(self, x):
        return softmax(x, -1)

    def _inverse(self, y):
        return y.log()


class IndependentTransform(Transform):
    """base_transform with its rightmost reinterpreted_batch_ndims dims taken as one event: log|det| is summed over
    them."""

    def __init__(self, base_transform, reinterpreted_batch_ndims):
        self.base_transform, self.reinterpreted_batch_ndims = base_transform, reinterpreted_batch_ndims
        self.event_dim = base_transform.event_dim + reinterpreted_batch_ndims
        self.domain = constraints.independent(base_transform.domain, reinterpreted_batch_ndims)
        self.codomain = constraints.independent(base_transform.codomain, reinterpreted_batch_ndims)
        self.bijective, self._sign = base_transform.bijective, base_transform._sign

    def _call(self, x):
        return self.base_transform(x)

    def _inverse(self, y):
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)


class ReshapeTransform(Transform):
    """The event reshaped from in_shape to out_shape (same number of entries); log|det| = 0."""
    bijective = True

    def __init__(self, in_shape, out_shape):
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        if int(np.prod(self.in_shape)) != int(np.prod(self.out_shape)):
            raise ValueError(f"ReshapeTransform: in_shape {self.in_shape} and out_shape {self.out_shape} hold different "
                             f"numbers of entries")
        self.event_dim = len(self.in_shape)

    def _call(self, x):
        return x.reshape(tuple(x.shape[:x.ndim - len(self.in_shape)]) + self.out_shape)

    def _inverse(self, y):
        return y.reshape(tuple(y.shape[:y.ndim - len(self.out_shape)]) + self.in_shape)

    def log_abs_det_jacobian(self, x, y):
        return zeros(*x.shape[:x.ndim - len(self.in_shape)], dtype=x.dtype)

    def forward_shape(self, shape):
        return tuple(shape[:len(shape) - len(self.in_shape)]) + self.out_shape

    def inverse_shape(self, shape):
        return tuple(shape[:len(shape) - len(self.out_shape)]) + self.in_shape


class CatTransform(Transform):
    """Each transform of tseq on its slice of x along dim (lengths[i] entries each, 1 by default), the results
    concatenated, as torch.cat would; log|det| likewise (summed over event dims the parts do not share)."""

    def __init__(self, tseq, dim=0, lengths=None):
        self.transforms, self.dim = list(tseq), dim
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.transforms)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(f"CatTransform: {len(self.lengths)} lengths for {len(self.transforms)} transforms")
        self.event_dim = max((t.event_dim for t in self.transforms), default=0)
        self.bijective = all(t.bijective for t in self.transforms)

    @property
    def length(self):
        return sum(self.lengths)

    def _pieces(self, z):
        if z.shape[self.dim] != self.length:
            raise ValueError(f"CatTransform: size {z.shape[self.dim]} along dim {self.dim}, expected {self.length}")
        start = 0
        for length in self.lengths:
            yield z.narrow(self.dim, start, length)
            start += length

    def _call(self, x):
        return cat([t(piece) for t, piece in zip(self.transforms, self._pieces(x))], self.dim)

    def _inverse(self, y):
        return cat([t.inv(piece) for t, piece in zip(self.transforms, self._pieces(y))], self.dim)

    def log_abs_det_jacobian(self, x, y):
        parts = [sum_rightmost(t.log_abs_det_jacobian(xp, yp), self.event_dim - t.event_dim)
                 for t, xp, yp in zip(self.transforms, self._pieces(x), self._pieces(y))]
        dim = (self.dim - x.ndim if self.dim >= 0 else self.dim) + self.event_dim
        return cat(parts, dim) if dim < 0 else sum(parts)


class StackTransform(Transform):
    """Transform i on the i-th slice of x along dim (x.select(dim, i)), the results stacked, as torch.stack
    would; log|det| stacked likewise."""

    def __init__(self, tseq, dim=0):
        self.transforms, self.dim = list(tseq), dim
        self.bijective = all(t.bijective for t in self.transforms)

    def _slices(self, z):
        if z.shape[self.dim] != len(self.transforms):
            raise ValueError(f"StackTransform: size {z.shape[self.dim]} along dim {self.dim}, expected one slice "
                             f"per transform ({len(self.transforms)})")
        return [z.select(self.dim, i) for i in range(z.shape[self.dim])]

    def _call(self, x):
        return stack([t(s) for t, s in zip(self.transforms, self._slices(x))], self.dim)

    def _inverse(self, y):
        return stack([t.inv(s) for t, s in zip(self.transforms, self._slices(y))], self.dim)

    def log_abs_det_jacobian(self, x, y):
        return stack([t.log_abs_det_jacobian(xs, ys) for t, xs, ys in
                      zip(self.transforms, self._slices(x), self._slices(y))], self.dim)


# the matrix-valued transforms live in matrix_transforms.py; torch users import them from this module
from .matrix_transforms import (CorrCholeskyTransform, LowerCholeskyTransform,  # noqa: E402,F401
                                PositiveDefiniteTransform)
