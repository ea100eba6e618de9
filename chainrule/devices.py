"""Devices, so that PyTorch's device-agnostic idiom runs unchanged: chainrule computes with NumPy on the CPU.

    device = chainrule.device("cuda" if chainrule.cuda.is_available() else "cpu")   # -> device(type='cpu')
    model.to(device); x = x.to(device)

Asking to move anything to another device raises an error that says so, rather than silently staying put.
"""
from .import_paths import namespace


class device:
    """torch.device's name and behaviour: device("cpu"), device("cpu", 0), equal to its string."""
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        self.type, self.index = name, (int(idx) if idx else index)

    def __repr__(self):
        return f"device(type={self.type!r}" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self):
        return self.type + (f":{self.index}" if self.index is not None else "")

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def is_device(obj):
    """True for a device or a device string ('cpu', 'cuda:0', ...): what .to() treats as a move, not a cast."""
    return isinstance(obj, device) or (isinstance(obj, str) and obj.partition(":")[0] in
                                       ("cpu", "cuda", "mps", "xpu", "meta"))


def dtype_of_to(args, kwargs, dtype, where):
    """The dtype that .to(*args, dtype=..., **kwargs) asks for (None: no cast), after checking that every device
    named is the CPU. Arguments are devices, dtypes, a tensor (its dtype) or non_blocking/copy flags."""
    from .tensor import Tensor   # here, not at the top: tensor.py imports this module
    for a in args + tuple(v for k, v in kwargs.items() if k == "device"):
        if is_device(a):
            check_cpu(a, where)
        elif isinstance(a, Tensor):   # x.to(other): other's dtype
            dtype = a.dtype
        elif a is not None and not isinstance(a, bool):   # non_blocking / copy flags pass positionally too
            dtype = a
    return dtype


def check_cpu(obj, where):
    """Raise unless obj names the CPU: chainrule has no other device."""
    if device(obj).type != "cpu":
        raise RuntimeError(f"{where}: chainrule computes on the CPU with NumPy and cannot move tensors to "
                           f"{str(obj)!r}; use 'cpu' (chainrule.cuda.is_available() is False)")


def _flags(path, **values):
    return namespace(path, is_available=lambda: False, is_built=lambda: False, **values)


cuda = namespace("chainrule.cuda", "torch.cuda on a machine chainrule runs on: no GPU",
                 is_bf16_supported=lambda including_emulation=True: False, is_available=lambda: False,
                 device_count=lambda: 0, manual_seed=lambda seed: None, manual_seed_all=lambda seed: None,
                 synchronize=lambda device=None: None, empty_cache=lambda: None)

# torch.backends: scripts probe these (`torch.backends.mps.is_available()`) and set cudnn flags; on the CPU the
# probes say False and the flags are plain attributes with torch's defaults, kept so that setting them is harmless
# (modules, so that `import chainrule.backends.cudnn as cudnn` finds the same flags)
backends = namespace("chainrule.backends", "torch.backends: probes and flags of accelerators chainrule does not use")
_flags("chainrule.backends.mps")
_flags("chainrule.backends.cudnn", enabled=True, benchmark=False, deterministic=False, allow_tf32=True)
namespace("chainrule.backends.cuda", is_built=lambda: False)
namespace("chainrule.backends.cuda.matmul", allow_tf32=False, allow_fp16_reduced_precision_reduction=True)
_flags("chainrule.backends.mkldnn", enabled=False)
namespace("chainrule.backends.openmp", is_available=lambda: False)
