"""Continuous distributions over scalars (and the Dirichlet over the simplex). Each docstring gives log p(x), the
entropy and how rsample draws."""
import math

import numpy as np

from .. import creation
from ..ops.arith import xlogy
from ..nn.functional import one_hot
from ..ops.elementwise import erf, where
from ..ops.incomplete_gamma import gammainc, standard_gamma_rsample
from ..ops.shape import stack
from ..ops.special import digamma, erfinv, lgamma
from ..random import _gen
from . import constraints
from .distribution import Distribution, ExponentialFamily, broadcast_params

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def standard_gamma(concentration):
    """z ~ Gamma(concentration, 1), elementwise, differentiable in the concentration (implicit reparameterisation)."""
    a = concentration.detach().numpy()
    return standard_gamma_rsample(concentration, draw(concentration, a.shape, lambda g, s: g.standard_gamma(a)))


def _tiny(t):
    return float(np.finfo(t._data.dtype).tiny)


def _eps(t):
    return float(np.finfo(t._data.dtype).eps)


def draw(like, shape, sampler):
    """Noise from the global generator as a tensor of like's dtype (the ε of a reparameterised draw)."""
    return creation.tensor(np.asarray(sampler(_gen(None), shape), dtype=like.dtype), dtype=like.dtype)


class _LocationScale(Distribution):
    """A distribution over the reals with a location and a positive scale (Normal, Laplace)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support, has_rsample = constraints.real, True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_params(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)

    mean = mode = property(lambda self: self.loc)


class Normal(_LocationScale, ExponentialFamily):
    """N(μ, σ²):  log p(x) = -(x-μ)²/(2σ²) - log σ - ½log 2π;  H = ½ + ½log 2π + log σ;  rsample: μ + σε, ε ~ N(0, 1),
    so ∂x/∂μ = 1 and ∂x/∂σ = ε."""
    stddev = property(lambda self: self.scale)
    variance = property(lambda self: self.scale ** 2)

    def rsample(self, sample_shape=()):
        eps = draw(self.loc, self._extended_shape(sample_shape), lambda g, s: g.standard_normal(s))
        return self.loc + eps * self.scale

    def log_prob(self, value):
        self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() - _LOG_SQRT_2PI

    def entropy(self):
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()

    def cdf(self, value):
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value):
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)


class LogNormal(Distribution):
    """x = e^y with y ~ N(μ, σ²):  log p(x) = log N(log x; μ, σ) - log x;  H = H(N) + μ;  mean e^(μ+σ²/2)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support, has_rsample = constraints.positive, True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_params(loc, scale)
        self.base_dist = Normal(self.loc, self.scale, validate_args=False)
        super().__init__(self.loc.shape, (), validate_args)

    mean = property(lambda self: (self.loc + self.scale ** 2 / 2).exp())
    mode = property(lambda self: (self.loc - self.scale ** 2).exp())
    variance = property(lambda self: ((self.scale ** 2).exp() - 1) * (2 * self.loc + self.scale ** 2).exp())

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        self._validate_sample(value)
        y = value.log()
        return self.base_dist.log_prob(y) - y

    def entropy(self):
        return self.base_dist.entropy() + self.loc

    def cdf(self, value):
        return self.base_dist.cdf(value.log())

    def icdf(self, value):
        return self.base_dist.icdf(value).exp()


class Uniform(Distribution):
    """U[low, high):  log p(x) = -log(high - low) inside, -∞ outside;  H = log(high - low);
    rsample: low + u(high - low), u ~ U(0, 1)."""
    arg_constraints = {"low": constraints.real, "high": constraints.real}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_params(low, high)
        super().__init__(self.low.shape, (), validate_args)
        if self._validate_args and not np.all(self.low.detach().numpy() < self.high.detach().numpy()):
            raise ValueError(f"Uniform: low must be less than high everywhere, got low={self.low.tolist()} and "
                             f"high={self.high.tolist()}")

    @property
    def support(self):
        return constraints.half_open_interval(self.low.detach().numpy(), self.high.detach().numpy())

    mean = property(lambda self: (self.low + self.high) / 2)
    mode = property(lambda self: self.high * float("nan"))   # every point of [low, high) is one: none is the mode
    stddev = property(lambda self: (self.high - self.low) / 12 ** 0.5)
    variance = property(lambda self: (self.high - self.low) ** 2 / 12)

    def rsample(self, sample_shape=()):
        u = draw(self.low, self._extended_shape(sample_shape), lambda g, s: g.random(s))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        self._validate_sample(value)
        inside = (value >= self.low) & (value < self.high)
        return where(inside, -(self.high - self.low).log(), float("-inf"))

    def entropy(self):
        return (self.high - self.low).log()

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low


class Exponential(ExponentialFamily):
    """Exp(λ):  log p(x) = log λ - λx;  H = 1 - log λ;  rsample: E/λ with E ~ Exp(1)."""
    arg_constraints = {"rate": constraints.positive}
    support, has_rsample = constraints.nonnegative, True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_params(rate)
        super().__init__(self.rate.shape, (), validate_args)

    mean = property(lambda self: 1 / self.rate)
    mode = property(lambda self: self.rate * 0)
    variance = property(lambda self: self.rate ** -2)

    def rsample(self, sample_shape=()):
        return draw(self.rate, self._extended_shape(sample_shape), lambda g, s: g.standard_exponential(s)) / self.rate

    def log_prob(self, value):
        self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def entropy(self):
        return 1.0 - self.rate.log()

    def cdf(self, value):
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate


class Laplace(_LocationScale):
    """Laplace(μ, b):  log p(x) = -log 2b - |x-μ|/b;  H = 1 + log 2b;
    rsample: μ - b·sign(u)·log(1-|u|), u ~ U(-1, 1)."""
    variance = property(lambda self: 2 * self.scale ** 2)

    def rsample(self, sample_shape=()):
        tiny = np.finfo(self.loc.dtype).eps
        u = draw(self.loc, self._extended_shape(sample_shape), lambda g, s: g.uniform(tiny - 1, 1, s))
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def entropy(self):
        return 1 + (2 * self.scale).log()

    def cdf(self, value):
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value):
        """μ - b·sign(q - ½)·log(1 - 2|q - ½|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()


class Gamma(ExponentialFamily):
    """Gamma(α, β) (rate β):  log p(x) = α log β + (α-1) log x - βx - log Γ(α);
    H = α - log β + log Γ(α) + (1-α) ψ(α). rsample: z/β with z ~ Gamma(α, 1), differentiable in α by implicit
    reparameterisation (∂z/∂α = -(∂P/∂α)/p(z), P the CDF, as torch's _standard_gamma_grad)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support, has_rsample = constraints.nonnegative, True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_params(concentration, rate)
        super().__init__(self.concentration.shape, (), validate_args)

    mean = property(lambda self: self.concentration / self.rate)
    mode = property(lambda self: ((self.concentration - 1) / self.rate).clamp(min=0))
    variance = property(lambda self: self.concentration / self.rate ** 2)

    def rsample(self, sample_shape=()):
        return standard_gamma(self.concentration.expand(self._extended_shape(sample_shape))) / self.rate

    def log_prob(self, value):
        self._validate_sample(value)
        a, b = self.concentration, self.rate
        return xlogy(a, b) + xlogy(a - 1, value) - b * value - lgamma(a)

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1 - a) * digamma(a)

    def cdf(self, value):
        """P(α, βx), the regularised lower incomplete gamma function."""
        self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)


class Beta(ExponentialFamily):
    """Beta(a, b):  log p(x) = (a-1) log x + (b-1) log(1-x) - log B(a, b), B(a, b) = Γ(a)Γ(b)/Γ(a+b);
    H = log B(a, b) - (a-1)ψ(a) - (b-1)ψ(b) + (a+b-2)ψ(a+b). rsample: X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b), both
    reparameterised (so gradients reach a and b)."""
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support, has_rsample = constraints.unit_interval, True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_params(concentration1, concentration0)
        super().__init__(self.concentration1.shape, (), validate_args)

    mean = property(lambda self: self.concentration1 / (self.concentration1 + self.concentration0))
    mode = property(lambda self: Dirichlet(stack([self.concentration1, self.concentration0], -1)).mode[..., 0])
    variance = property(lambda self: self.concentration1 * self.concentration0 /
                        ((self.concentration1 + self.concentration0) ** 2 *
                         (self.concentration1 + self.concentration0 + 1)))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration1.expand(shape))
        y = standard_gamma(self.concentration0.expand(shape))
        return (x / (x + y)).clamp(min=_tiny(x), max=1 - _eps(x))

    def _log_beta(self):
        a, b = self.concentration1, self.concentration0
        return lgamma(a) + lgamma(b) - lgamma(a + b)

    def log_prob(self, value):
        self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) - self._log_beta()

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return self._log_beta() - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (a + b - 2) * digamma(a + b)


class Chi2(Gamma):
    """χ²(k) = Gamma(k/2, rate ½)."""
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (self.df,) = broadcast_params(df)
        super().__init__(self.df * 0.5, self.df * 0 + 0.5, validate_args)


class StudentT(Distribution):
    """Student's t with ν = df:  log p(x) = -½(ν+1) log(1 + y²/ν) - log σ - ½ log(νπ) - log Γ(ν/2) + log Γ((ν+1)/2),
    y = (x - μ)/σ. rsample: μ + σ·z/√(χ²/ν) with z ~ N(0, 1) and χ² ~ χ²(ν) reparameterised (gradients reach μ, σ
    and ν)."""
    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support, has_rsample = constraints.real, True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_params(df, loc, scale)
        super().__init__(self.df.shape, (), validate_args)

    @property
    def mean(self):
        return where(self.df > 1, self.loc, float("nan"))

    mode = property(lambda self: self.loc)

    @property
    def variance(self):
        finite = self.scale ** 2 * self.df / where(self.df > 2, self.df - 2, 1.0)
        return where(self.df > 2, finite, where(self.df > 1, float("inf"), float("nan")))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        chi2 = 2 * standard_gamma(0.5 * self.df.expand(shape))
        z = draw(self.loc, shape, lambda g, s: g.standard_normal(s))
        return self.loc + self.scale * z * (self.df / chi2).sqrt()

    def log_prob(self, value):
        self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) + lgamma(0.5 * self.df) - \
            lgamma(0.5 * (self.df + 1))
        return -0.5 * (self.df + 1) * (y ** 2 / self.df).log1p() - z

    def entropy(self):
        lbeta = lgamma(0.5 * self.df) + math.lgamma(0.5) - lgamma(0.5 * (self.df + 1))
        return self.scale.log() + 0.5 * (self.df + 1) * (digamma(0.5 * (self.df + 1)) - digamma(0.5 * self.df)) + \
            0.5 * self.df.log() + lbeta


class Cauchy(_LocationScale):
    """Cauchy(μ, γ):  log p(x) = -log π - log γ - log(1 + ((x-μ)/γ)²);  H = log 4πγ;  rsample: μ + γ tan(π(u - ½))."""
    mean = property(lambda self: self.loc * float("nan"))
    variance = property(lambda self: self.loc * 0 + float("inf"))

    def rsample(self, sample_shape=()):
        u = draw(self.loc, self._extended_shape(sample_shape), lambda g, s: g.random(s))
        return self.loc + self.scale * (math.pi * (u - 0.5)).tan()

    def log_prob(self, value):
        self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()

    def cdf(self, value):
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc


class _FoldedAtZero(Distribution):
    """|x| for x from a zero-centred base (torch's HalfNormal, HalfCauchy): p(x) = 2 p_base(x) on x ≥ 0 (-∞ below,
    when values are not validated);  H = H_base - log 2;  F(x) = 2F_base(x) - 1."""
    arg_constraints = {"scale": constraints.positive}
    support, has_rsample = constraints.nonnegative, True
    base = None

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_params(scale)
        self.base_dist = self.base(self.scale * 0, self.scale, validate_args=False)
        super().__init__(self.scale.shape, (), validate_args)

    mode = property(lambda self: self.scale * 0)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value):
        self._validate_sample(value)
        folded = self.base_dist.log_prob(value) + math.log(2)
        return where(folded * 0 + value >= 0, folded, float("-inf"))

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)

    def cdf(self, value):
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)


class HalfNormal(_FoldedAtZero):
    """|x| for x ~ N(0, σ²):  log p(x) = log N(x; 0, σ) + log 2 on x ≥ 0;  mean σ√(2/π)."""
    base = Normal
    mean = property(lambda self: self.scale * math.sqrt(2 / math.pi))
    variance = property(lambda self: self.scale ** 2 * (1 - 2 / math.pi))


class HalfCauchy(_FoldedAtZero):
    """|x| for x ~ Cauchy(0, γ):  log p(x) = log 2 - log π - log γ - log(1 + (x/γ)²) on x ≥ 0;  H = log 2πγ; its
    mean and variance are infinite."""
    base = Cauchy
    mean = property(lambda self: self.scale * 0 + float("inf"))
    variance = property(lambda self: self.scale * 0 + float("inf"))


class Gumbel(_LocationScale):
    """Gumbel(μ, β):  log p(x) = -log β - z - e⁻ᶻ, z = (x-μ)/β;  H = log β + 1 + γ (Euler's constant);
    rsample: μ - β log(-log u)."""
    mean = property(lambda self: self.loc + self.scale * _EULER)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: self.scale * (math.pi / math.sqrt(6)))
    variance = property(lambda self: self.scale ** 2 * (math.pi ** 2 / 6))

    def rsample(self, sample_shape=()):
        tiny = np.finfo(self.loc.dtype).tiny
        u = draw(self.loc, self._extended_shape(sample_shape), lambda g, s: g.uniform(tiny, 1 - tiny, s))
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -(self.scale.log() + z + (-z).exp())

    def entropy(self):
        return self.scale.log() + (1 + _EULER)

    def cdf(self, value):
        return (-(-(value - self.loc) / self.scale).exp()).exp()

    def icdf(self, value):
        return self.loc - self.scale * (-value.log()).log()


_EULER = 0.57721566490153286060


class Dirichlet(ExponentialFamily):
    """Dirichlet(α) over the simplex:  log p(x) = Σ(α_i-1) log x_i + log Γ(α₀) - Σ log Γ(α_i), α₀ = Σα_i;
    H = Σ log Γ(α_i) - log Γ(α₀) - (k - α₀)ψ(α₀) - Σ(α_i-1)ψ(α_i). rsample: gᵢ/Σg with gᵢ ~ Gamma(αᵢ, 1), each
    reparameterised."""
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support, has_rsample = constraints.simplex, True

    def __init__(self, concentration, validate_args=None):
        (self.concentration,) = broadcast_params(concentration)
        if self.concentration.ndim < 1:
            raise ValueError("Dirichlet: concentration needs at least one dim (the categories), got a 0-d tensor")
        super().__init__(self.concentration.shape[:-1], self.concentration.shape[-1:], validate_args)

    mean = property(lambda self: self.concentration / self.concentration.sum(-1, keepdim=True))

    @property
    def mode(self):
        """(αᵢ - 1)⁺ / Σⱼ(αⱼ - 1)⁺. When every α < 1 the density is infinite at each vertex: the mode is taken at
        the vertex of the smallest α, where it grows fastest (torch returns the first vertex)."""
        excess = (self.concentration - 1).clamp(min=0.0)
        total = excess.sum(-1, keepdim=True)
        # no α above 1: no interior mode (nan, as torch). The division is by a safe 1 there, so the gradient of the
        # branch where() leaves out is 0, not 0·(1/nan) = nan
        has_total = total > 0
        mode = where(has_total, excess / where(has_total, total, 1.0), float("nan"))
        below_one = (self.concentration < 1).all(-1, keepdim=True)
        vertex = one_hot(self.concentration.argmin(-1), self.concentration.shape[-1]).to(mode.dtype)
        return where(below_one, vertex, mode)

    @property
    def variance(self):
        a0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (a0 - self.concentration) / (a0 ** 2 * (a0 + 1))

    def rsample(self, sample_shape=()):
        gammas = standard_gamma(self.concentration.expand(self._extended_shape(sample_shape)))
        return (gammas / gammas.sum(-1, keepdim=True)).clamp(min=_tiny(gammas))

    def log_prob(self, value):
        self._validate_sample(value)
        a = self.concentration
        return xlogy(a - 1, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1)

    def entropy(self):
        a = self.concentration
        k, a0 = a.shape[-1], a.sum(-1)
        return lgamma(a).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - ((a - 1) * digamma(a)).sum(-1)
