"""Where a parameter or a value must lie (torch.distributions.constraints' names), each a readable name and a
NumPy test used by argument and support validation. A constraint also says what kind of set it is and its bounds
(kind, lower_bound, upper_bound, base_constraint), which is what biject_to / transform_to read."""
import numpy as np


class Constraint:
    def __init__(self, name, check, is_discrete=False, event_dim=0, kind=None, **params):
        self.name, self._check, self.is_discrete, self.event_dim = name, check, is_discrete, event_dim
        self.kind = kind
        for key, value in params.items():
            setattr(self, key, value)

    def check(self, value):
        with np.errstate(invalid="ignore"):
            return self._check(np.asarray(value))

    def __repr__(self):
        return self.name


def _whole(v):
    return np.isfinite(v) & (v == np.round(v))


def greater_than(lower_bound):
    return Constraint(f"GreaterThan(lower_bound={lower_bound})", lambda v: v > lower_bound, kind="greater_than",
                      lower_bound=lower_bound)


def greater_than_eq(lower_bound):
    return Constraint(f"GreaterThanEq(lower_bound={lower_bound})", lambda v: v >= lower_bound,
                      kind="greater_than", lower_bound=lower_bound)


def less_than(upper_bound):
    return Constraint(f"LessThan(upper_bound={upper_bound})", lambda v: v < upper_bound, kind="less_than",
                      upper_bound=upper_bound)


def independent(base_constraint, reinterpreted_batch_ndims):
    """base_constraint on every entry, with the rightmost reinterpreted_batch_ndims dims as one event."""
    n = reinterpreted_batch_ndims

    def check(v):
        ok = base_constraint.check(v)
        return np.all(ok, axis=tuple(range(-n, 0))) if n else ok
    return Constraint(f"IndependentConstraint({base_constraint!r}, {n})", check, base_constraint.is_discrete,
                      base_constraint.event_dim + n, kind="independent", base_constraint=base_constraint,
                      reinterpreted_batch_ndims=n)


real = Constraint("Real()", lambda v: ~np.isnan(v), kind="real")
positive = greater_than(0.0)
nonnegative = greater_than_eq(0.0)
unit_interval = Constraint("Interval(lower_bound=0.0, upper_bound=1.0)", lambda v: (v >= 0) & (v <= 1),
                           kind="interval", lower_bound=0.0, upper_bound=1.0)
boolean = Constraint("Boolean()", lambda v: (v == 0) | (v == 1), is_discrete=True)
nonnegative_integer = Constraint("IntegerGreaterThan(lower_bound=0)", lambda v: _whole(v) & (v >= 0), True)
simplex = Constraint("Simplex()", lambda v: np.all(v >= 0, -1) & (np.abs(v.sum(-1) - 1) < 1e-6), event_dim=1,
                     kind="simplex")
real_vector = independent(real, 1)
lower_cholesky = Constraint("LowerCholesky()", lambda v: np.all(np.triu(v, 1) == 0, (-2, -1)) &
                            np.all(np.diagonal(v, axis1=-2, axis2=-1) > 0, -1), event_dim=2, kind="lower_cholesky")
def _is_corr_cholesky(v):
    tol = np.finfo(v.dtype).eps * v.shape[-1] * 10
    unit_rows = np.all(np.abs(np.linalg.norm(v, axis=-1) - 1) <= tol, axis=-1)
    return lower_cholesky.check(v) & unit_rows


corr_cholesky = Constraint("CorrCholesky()", _is_corr_cholesky, event_dim=2, kind="corr_cholesky")
dependent = Constraint("Dependent()", lambda v: np.ones(np.shape(v), bool), kind="dependent")


def is_dependent(constraint):
    """True for a constraint that depends on other values (no fixed set to map onto), as torch's."""
    return getattr(constraint, "kind", None) == "dependent"


def _positive_definite(v):
    """Per matrix of a batch: symmetric (to rounding) with positive eigenvalues (torch: a Cholesky that succeeds)."""
    v = np.asarray(v, dtype=np.result_type(v, np.float32))
    symmetric = np.all(np.isclose(v, np.swapaxes(v, -1, -2), rtol=1e-5, atol=1e-8), axis=(-2, -1))
    with np.errstate(invalid="ignore"):
        lowest = np.linalg.eigvalsh((v + np.swapaxes(v, -1, -2)) / 2)[..., 0]
    return symmetric & (lowest > 0)


positive_definite = Constraint("PositiveDefinite()", _positive_definite, event_dim=2, kind="positive_definite")


def integer_interval(lower, upper):
    return Constraint(f"IntegerInterval(lower_bound={lower}, upper_bound={upper})",
                      lambda v: _whole(v) & (v >= lower) & (v <= upper), is_discrete=True, lower_bound=lower,
                      upper_bound=upper)


def interval(lower, upper):
    return Constraint(f"Interval(lower_bound={lower}, upper_bound={upper})", lambda v: (v >= lower) & (v <= upper),
                      kind="interval", lower_bound=lower, upper_bound=upper)


def half_open_interval(lower, upper):
    """[lower, upper), with array bounds (Uniform's support)."""
    return Constraint("HalfOpenInterval(low, high)", lambda v: (v >= lower) & (v < upper), kind="interval",
                      lower_bound=lower, upper_bound=upper)
