"""torch.distributions' biject_to and transform_to: from a constraint to a transform that maps the unconstrained
reals onto it, so that a parameter can be optimised without bounds (VI, constrained MLE):

    t = biject_to(dist.support);  x = t(u);  log|det J| = t.log_abs_det_jacobian(u, x)

biject_to gives bijections (invertible, with a log-determinant, as a density change needs); transform_to may give
a cheaper map onto the set that is not one-to-one (softmax onto the simplex).
"""
from . import constraints, transforms


class ConstraintRegistry:
    """Factories from a constraint kind ('greater_than', 'interval' …, or a Constraint subclass) to a transform."""

    def __init__(self):
        self._registry = {}

    def register(self, constraint, factory=None):
        """factory(constraint) -> Transform for constraints of this kind; usable as a decorator. `constraint` is a
        constraint object (its kind is registered), a kind name, or a Constraint subclass."""
        if factory is None:
            return lambda f: self.register(constraint, f)
        key = constraint if isinstance(constraint, (str, type)) else getattr(constraint, "kind", None)
        if key is None:
            raise TypeError(f"register: {constraint!r} has no kind; pass a kind name or a Constraint subclass")
        self._registry[key] = factory
        return factory

    def __call__(self, constraint):
        factory = self._registry.get(type(constraint)) or self._registry.get(getattr(constraint, "kind", None))
        if factory is None:
            raise NotImplementedError(f"Cannot transform {constraint!r} constraints: no transform is registered for "
                                      f"them (register one with .register(kind, factory))")
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _both(kind):
    def deco(factory):
        biject_to.register(kind, factory)
        transform_to.register(kind, factory)
        return factory
    return deco


@_both("real")
def _identity(constraint):
    return transforms.identity_transform


@biject_to.register("independent")
def _independent_biject(constraint):
    return transforms.IndependentTransform(biject_to(constraint.base_constraint), constraint.reinterpreted_batch_ndims)


@transform_to.register("independent")
def _independent_transform(constraint):
    return transforms.IndependentTransform(transform_to(constraint.base_constraint),
                                           constraint.reinterpreted_batch_ndims)


@_both("greater_than")
def _greater_than(constraint):
    """x = lower_bound + eᵘ."""
    if _is_zero(constraint.lower_bound):
        return transforms.ExpTransform()
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.lower_bound, 1)])


@_both("less_than")
def _less_than(constraint):
    """x = upper_bound - eᵘ."""
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.upper_bound, -1)])


@_both("interval")
def _interval(constraint):
    """x = lower + (upper - lower)·σ(u)."""
    lower, upper = constraint.lower_bound, constraint.upper_bound
    if _is_zero(lower) and _is_zero(upper - 1):
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform([transforms.SigmoidTransform(), transforms.AffineTransform(lower, upper - lower)])


biject_to.register("simplex", lambda constraint: transforms.StickBreakingTransform())
transform_to.register("simplex", lambda constraint: transforms.SoftmaxTransform())
transform_to.register("lower_cholesky", lambda constraint: transforms.LowerCholeskyTransform())
biject_to.register("corr_cholesky", lambda constraint: transforms.CorrCholeskyTransform())
transform_to.register("corr_cholesky", lambda constraint: transforms.CorrCholeskyTransform())
transform_to.register("positive_definite", lambda constraint: transforms.PositiveDefiniteTransform())


def _is_zero(value):
    try:
        return bool(value == 0) if not hasattr(value, "shape") or value.shape == () else False
    except (TypeError, ValueError):
        return False


__all__ = ["ConstraintRegistry", "biject_to", "transform_to", "constraints"]
