"""Errors chainrule raises. Each message names the operation, the shapes or values involved, and a fix."""


class ShapeError(ValueError):
    """Shapes that an operation cannot combine (broadcasting, matmul, a layer's expected features)."""


class DTypeError(TypeError):
    """A dtype chainrule does not support, or one an operation cannot take."""

    @classmethod
    def no_lapack(cls, name, arrays):
        """A float16 array given to a LAPACK routine, which has none (torch refuses it too: "Low precision dtypes
        not supported")."""
        import numpy as np
        shapes = ", ".join(str(tuple(np.shape(a))) for a in arrays)
        return cls(f"{name}: LAPACK has no float16 routines (input shapes {shapes}); compute in float32 with "
                   f".float() and take the result back with .half()")


class BackwardError(RuntimeError):
    """Backward was asked for something it cannot do (non-scalar root, freed graph, no grad)."""


class InplaceError(RuntimeError):
    """An in-place change that would make a gradient wrong."""


class IntegerDivisionError(ZeroDivisionError, RuntimeError):
    """An integer tensor divided by zero (torch raises a RuntimeError here; Python a ZeroDivisionError): both catch it."""


class LinAlgError(ShapeError, RuntimeError):
    """A matrix the decomposition cannot take: singular, not positive definite (torch.linalg.LinAlgError; also a
    ShapeError/ValueError, which chainrule raised here before)."""

    @classmethod
    def from_numpy(cls, name, arrays, exc):
        """NumPy's LinAlgError ("SVD did not converge") as this one, naming the op, the shapes and, where that is
        the cause, the inf or nan entries (torch's message for the same failure says so too)."""
        import numpy as np
        shapes = ", ".join(str(tuple(np.shape(a))) for a in arrays)
        bad = sum(int(np.size(a) - np.isfinite(a).sum()) for a in arrays if np.asarray(a).dtype.kind in "fc")
        hint = (f"; the input has {bad} inf or nan entries, which no decomposition takes: find where they came "
                f"from (cr.autograd.detect_anomaly names the op that made the first one)" if bad else "")
        return cls(f"{name}: {exc} (input shapes {shapes}){hint}")


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree; the message names the worst entry."""


class AnomalyError(RuntimeError):
    """detect_anomaly found the first NaN/Inf; the message says where it came from and why."""


def warn(message, category=RuntimeWarning):
    """warnings.warn, attributed to the first caller outside chainrule, so the warning points at the user's line
    however deep in the library it was raised (and each such line warns once, not once per library line)."""
    import os
    import sys
    import warnings
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 2     # stacklevel 2 is the frame that called warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
