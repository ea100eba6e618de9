"""Utilities with torch.utils' names: chainrule.utils.checkpoint, .dlpack and .data (= chainrule.data)."""
import sys as _sys

from . import checkpoint, dlpack
from .. import data

_sys.modules[__name__ + ".data"] = data   # `from chainrule.utils.data import DataLoader`, as torch.utils.data
