"""Where a parameter or a value must lie (torch.distributions.constraints' names), each a readable name and a
NumPy test used by argument and support validation."""
import numpy as np


class Constraint:
    def __init__(self, name, check, is_discrete=False, event_dim=0):
        self.name, self._check, self.is_discrete, self.event_dim = name, check, is_discrete, event_dim

    def check(self, value):
        with np.errstate(invalid="ignore"):
            return self._check(np.asarray(value))

    def __repr__(self):
        return self.name


def _whole(v):
    return np.isfinite(v) & (v == np.round(v))


real = Constraint("Real()", lambda v: ~np.isnan(v))
positive = Constraint("GreaterThan(lower_bound=0.0)", lambda v: v > 0)
nonnegative = Constraint("GreaterThanEq(lower_bound=0.0)", lambda v: v >= 0)
unit_interval = Constraint("Interval(lower_bound=0.0, upper_bound=1.0)", lambda v: (v >= 0) & (v <= 1))
boolean = Constraint("Boolean()", lambda v: (v == 0) | (v == 1), is_discrete=True)
nonnegative_integer = Constraint("IntegerGreaterThan(lower_bound=0)", lambda v: _whole(v) & (v >= 0), True)
simplex = Constraint("Simplex()", lambda v: np.all(v >= 0, -1) & (np.abs(v.sum(-1) - 1) < 1e-6), event_dim=1)
real_vector = Constraint("IndependentConstraint(Real(), 1)", lambda v: np.all(~np.isnan(v), -1), event_dim=1)
lower_cholesky = Constraint("LowerCholesky()", lambda v: np.all(np.triu(v, 1) == 0, (-2, -1)) &
                            np.all(np.diagonal(v, axis1=-2, axis2=-1) > 0, -1), event_dim=2)


def _positive_definite(v):
    try:
        np.linalg.cholesky(v)
        return np.allclose(v, np.swapaxes(v, -1, -2))
    except np.linalg.LinAlgError:
        return False


positive_definite = Constraint("PositiveDefinite()", _positive_definite, event_dim=2)


def integer_interval(lower, upper):
    return Constraint(f"IntegerInterval(lower_bound={lower}, upper_bound={upper})",
                      lambda v: _whole(v) & (v >= lower) & (v <= upper), is_discrete=True)


def interval(lower, upper):
    return Constraint(f"Interval(lower_bound={lower}, upper_bound={upper})", lambda v: (v >= lower) & (v <= upper))


def half_open_interval(lower, upper):
    """[lower, upper), with array bounds (Uniform's support)."""
    return Constraint("HalfOpenInterval(low, high)", lambda v: (v >= lower) & (v < upper))
