"""What a forward pass that failed inside NumPy says instead: the op's name, the shapes or dtypes involved and the
fix (a broadcast mismatch, a dtype LAPACK lacks, an index out of range), and the TypeError for an argument that
should have been a Tensor (a NumPy array, a list of numbers)."""
import numpy as np
from numpy import ndarray

Tensor = None  # set by chainrule.tensor to break the import cycle


def not_a_tensor(op_name, exc, args, kwargs=None):
    """The TypeError for an error `exc` raised because an argument that should be a Tensor is not (a NumPy array,
    a list of numbers), naming the op, the argument and the fix, as torch's "relu(): argument 'input' must be
    Tensor, not numpy.ndarray". The culprit is the argument that lacked the attribute (AttributeError.obj), or
    else a raw array given as the first argument (the input); None when neither: then `exc` is a real fault, to
    be shown as it is."""
    named = [(f"{i + 1}", a) for i, a in enumerate(args)] + [(f"'{k}'", v) for k, v in (kwargs or {}).items()]
    culprit = getattr(exc, "obj", None) if isinstance(exc, AttributeError) else None
    found = None
    if culprit is not None and not isinstance(culprit, Tensor):
        found = next((pair for pair in named if pair[1] is culprit), None)
    if found is None and args and _raw_array(args[0]):
        found = named[0]
    if found is None:
        return None
    which, a = found
    module = type(a).__module__
    kind = type(a).__qualname__ if module == "builtins" else f"{module}.{type(a).__qualname__}"
    return TypeError(f"{op_name}: argument {which} must be a Tensor, not {kind}; wrap it with cr.tensor(x) (a "
                     f"copy) or cr.from_numpy(x) (shares the array's memory)")


def _raw_array(a):
    """A NumPy array or scalar, or a (nested) list of numbers: data that was meant to be a Tensor."""
    if isinstance(a, (ndarray, np.generic)):
        return True
    if isinstance(a, (list, tuple)) and a:
        return all(isinstance(x, (int, float)) and not isinstance(x, bool) or _raw_array(x) for x in a)
    return False


def _explain_forward_error(cls, inputs, exc):
    from ..errors import DTypeError, LinAlgError, ShapeError
    if isinstance(exc, (LinAlgError, DTypeError)):
        return exc   # already names the op and the fix
    shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
    name = getattr(cls, "op_name", cls.__name__.lower())
    if isinstance(exc, np.linalg.LinAlgError):
        return LinAlgError.from_numpy(name, [t._data for t in inputs], exc)
    text = str(exc)
    if "broadcast" in text:
        return ShapeError(f"{name}: cannot broadcast shapes {shapes}: dims are compared from the right and each "
                          f"pair must be equal or 1. Reshape or unsqueeze one input so the dims line up.")
    if isinstance(exc, TypeError) and "unsupported in linalg" in text:
        return DTypeError.no_lapack(name, [t._data for t in inputs])
    if isinstance(exc, TypeError):
        dtypes = ", ".join(str(t.dtype) for t in inputs)
        return DTypeError(f"{name}: cannot apply to inputs of dtype {dtypes} (shapes {shapes}): {text}")
    kind = IndexError if isinstance(exc, IndexError) else ShapeError
    if text.startswith(f"{name}:"):   # the op's own message already names it
        text = text[len(name) + 1:].lstrip()
    return kind(f"{name}: {text} (input shapes {shapes})")
