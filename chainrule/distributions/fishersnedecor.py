"""Snedecor's F distribution, torch's FisherSnedecor: the ratio of two scaled χ² variables, X = (U₁/d₁)/(U₂/d₂)
with Uᵢ ~ χ²(dᵢ). With a = d₁/2, b = d₂/2,

    log p(x) = log Γ(a+b) - log Γ(a) - log Γ(b) + a·log(d₁/d₂) + (a-1)·log x - (a+b)·log(1 + x·d₁/d₂)

mean d₂/(d₂-2) (d₂ > 2), variance 2d₂²(d₁+d₂-2)/(d₁(d₂-2)²(d₂-4)) (d₂ > 4), mode (d₁-2)/d₁ · d₂/(d₂+2) (d₁ > 2);
rsample: the ratio of two reparameterised Gamma(dᵢ/2, dᵢ/2) draws, so gradients reach both degrees of freedom."""
from ..ops.elementwise import where
from ..ops.special import lgamma
from . import constraints
from .continuous import _tiny, standard_gamma
from .distribution import Distribution, broadcast_params


class FisherSnedecor(Distribution):
    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support, has_rsample = constraints.positive, True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_params(df1, df2)
        super().__init__(self.df1.shape, (), validate_args)

    @property
    def mean(self):
        return where(self.df2 > 2, self.df2 / where(self.df2 > 2, self.df2 - 2, 1.0), float("nan"))

    @property
    def mode(self):
        d1, d2 = self.df1, self.df2
        return where(d1 > 2, (d1 - 2) / d1 * d2 / (d2 + 2), float("nan"))

    @property
    def variance(self):
        d1, d2 = self.df1, self.df2
        d2_safe = where(d2 > 4, d2, 5.0)
        finite = 2 * d2_safe ** 2 * (d1 + d2_safe - 2) / (d1 * (d2_safe - 2) ** 2 * (d2_safe - 4))
        return where(d2 > 4, finite, float("nan"))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x1 = standard_gamma(0.5 * self.df1.expand(shape)) / (0.5 * self.df1)   # χ²(d₁)/d₁
        x2 = standard_gamma(0.5 * self.df2.expand(shape)) / (0.5 * self.df2)
        tiny = _tiny(x1)
        return x1.clamp(min=tiny) / x2.clamp(min=tiny)

    def log_prob(self, value):
        self._validate_sample(value)
        a, b = 0.5 * self.df1, 0.5 * self.df2
        ratio = self.df1 / self.df2
        return lgamma(a + b) - lgamma(a) - lgamma(b) + a * ratio.log() + (a - 1) * value.log() - \
            (a + b) * (ratio * value).log1p()
