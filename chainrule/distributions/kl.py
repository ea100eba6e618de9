"""KL(p ‖ q) = E_p[log p(x) - log q(x)] in closed form for pairs of distributions (torch's kl_divergence and
register_kl). Each formula is written from differentiable ops, so its gradient with respect to either side's
parameters is exact; where q gives zero probability to something p can draw, the divergence is +∞."""
from ..linalg import solve_triangular
from ..ops.elementwise import where
from ..nn.functional import softplus
from ..ops.special import digamma, lgamma
from .continuous import (_EULER, Beta, Dirichlet, Exponential, Gamma, Gumbel, HalfNormal, Laplace, LogNormal, Normal,
                         Uniform)
from .discrete import Bernoulli, Binomial, Categorical, Geometric, OneHotCategorical, Poisson
from .distribution import Independent
from .multivariate_normal import MultivariateNormal, batch_mahalanobis

_KL = {}
_INF = float("inf")


def register_kl(type_p, type_q):
    """Decorator: @register_kl(MyP, MyQ) def kl(p, q): ... adds a closed form used by kl_divergence."""
    def decorate(fn):
        _KL[type_p, type_q] = fn
        return fn
    return decorate


def kl_divergence(p, q):
    """KL(p ‖ q), batched over the distributions' batch shape; the most specific registered pair is used."""
    for tp in type(p).__mro__:
        for tq in type(q).__mro__:
            if (tp, tq) in _KL:
                return _KL[tp, tq](p, q)
    raise NotImplementedError(f"kl_divergence: no closed form registered for {type(p).__name__} ‖ "
                              f"{type(q).__name__}; register one with @register_kl({type(p).__name__}, "
                              f"{type(q).__name__}) or estimate it by sampling: (p.log_prob(x) - q.log_prob(x)).mean() "
                              f"with x = p.sample((n,))")


@register_kl(Normal, Normal)
def _normal(p, q):
    """½(σp²/σq² + (μp-μq)²/σq² - 1 - log σp²/σq²)."""
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(LogNormal, LogNormal)
def _lognormal(p, q):
    return _normal(p.base_dist, q.base_dist)


@register_kl(HalfNormal, HalfNormal)
def _half_normal(p, q):
    return _normal(p.base_dist, q.base_dist)


@register_kl(Gumbel, Gumbel)
def _gumbel(p, q):
    ct1, ct2, ct3 = p.scale / q.scale, q.loc / q.scale, p.loc / q.scale
    return -ct1.log() - ct2 + ct3 + ct1 * _EULER + (ct2 + lgamma(1 + ct1) - ct3).exp() - (1 + _EULER)


@register_kl(Geometric, Geometric)
def _geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Binomial, Binomial)
def _binomial(p, q):
    """n·(p log(p/q) + (1-p) log((1-p)/(1-q))) for equal counts; +∞ where p has more trials than q."""
    if (p.total_count.detach().numpy() < q.total_count.detach().numpy()).any():
        raise NotImplementedError("kl_divergence: Binomial ‖ Binomial with fewer trials in p than in q")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return where(p.total_count > q.total_count, _INF, kl)


@register_kl(Bernoulli, Bernoulli)
def _bernoulli(p, q):
    """p log(p/q) + (1-p) log((1-p)/(1-q)), written with softplus of the logits."""
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = where(p.probs == 0, 0.0, where(q.probs == 0, _INF, t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = where(p.probs == 1, 0.0, where(q.probs == 1, _INF, t2))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _categorical(p, q):
    """Σ_k p_k (log p_k - log q_k)."""
    t = p.probs * (p.logits - q.logits)
    t = where(p.probs == 0, 0.0, where(q.probs == 0, _INF, t))
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _one_hot(p, q):
    return _categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def _uniform(p, q):
    """log((q.high - q.low)/(p.high - p.low)), +∞ unless [p.low, p.high) lies inside [q.low, q.high)."""
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return where((q.low > p.low) | (q.high < p.high), _INF, result)


@register_kl(Exponential, Exponential)
def _exponential(p, q):
    """log(λp/λq) + λq/λp - 1."""
    ratio = q.rate / p.rate
    return -ratio.log() + ratio - 1


@register_kl(Laplace, Laplace)
def _laplace(p, q):
    """log(bq/bp) + |μp-μq|/bq + (bp/bq) e^(-|μp-μq|/bp) - 1."""
    scale_ratio = p.scale / q.scale
    diff = (q.loc - p.loc).abs()
    return -scale_ratio.log() + diff / q.scale + scale_ratio * (-diff / p.scale).exp() - 1


@register_kl(Poisson, Poisson)
def _poisson(p, q):
    """λp log(λp/λq) - (λp - λq)."""
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Gamma, Gamma)
def _gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _beta(p, q):
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = lgamma(q.concentration1) + lgamma(q.concentration0) + lgamma(sum_p)
    t2 = lgamma(p.concentration1) + lgamma(p.concentration0) + lgamma(sum_q)
    t3 = (p.concentration1 - q.concentration1) * digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * digamma(p.concentration0)
    t5 = (sum_q - sum_p) * digamma(sum_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _dirichlet(p, q):
    sum_p, sum_q = p.concentration.sum(-1), q.concentration.sum(-1)
    t1 = lgamma(sum_p) - lgamma(sum_q)
    t2 = (lgamma(p.concentration) - lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = digamma(p.concentration) - digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(MultivariateNormal, MultivariateNormal)
def _mvn(p, q):
    """½(tr(Σq⁻¹Σp) + (μq-μp)ᵀΣq⁻¹(μq-μp) - k + log det Σq - log det Σp), with Σ = LLᵀ: the trace is ‖Lq⁻¹Lp‖²_F."""
    if p.event_shape != q.event_shape:
        raise ValueError(f"kl_divergence: MultivariateNormals of different sizes {p.event_shape} and {q.event_shape}")
    k = p.event_shape[0]
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = q._half_log_det() - p._half_log_det()
    shape = p.batch_shape if len(p.batch_shape) >= len(q.batch_shape) else q.batch_shape
    term2 = (solve_triangular(Lq.expand(*shape, k, k), Lp.expand(*shape, k, k), upper=False) ** 2).sum((-2, -1))
    term3 = batch_mahalanobis(Lq, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - k)


@register_kl(Independent, Independent)
def _independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions with different reinterpreted_batch_ndims")
    return p._sum_rightmost(kl_divergence(p.base_dist, q.base_dist))
