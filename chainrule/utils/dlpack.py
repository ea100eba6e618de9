"""Zero-copy exchange with other array libraries through DLPack (torch.utils.dlpack's names): a tensor from
torch, JAX, CuPy-on-host or NumPy becomes a chainrule tensor over the same memory, and back."""
import numpy as np

from ..tensor import Tensor


class _Capsule:
    """A bare DLPack capsule (to_dlpack's result) dressed as a producer, which np.from_dlpack requires."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **options):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)   # kDLCPU: a capsule whose memory is elsewhere is refused by NumPy with its own error


def from_dlpack(ext_tensor):
    """A tensor over the memory of ext_tensor (any object with __dlpack__, or a capsule from to_dlpack): writes
    through either are seen by both. The result does not require grad."""
    if not hasattr(ext_tensor, "__dlpack__"):
        if type(ext_tensor).__name__ != "PyCapsule":
            raise TypeError(f"from_dlpack: expected an array with __dlpack__ (a torch or NumPy array …) or a "
                            f"DLPack capsule, got {type(ext_tensor).__name__}")
        ext_tensor = _Capsule(ext_tensor)
    return Tensor._wrap(np.from_dlpack(ext_tensor))


def to_dlpack(tensor):
    """A DLPack capsule over tensor's memory (consumed once, by one from_dlpack)."""
    return tensor.__dlpack__()
