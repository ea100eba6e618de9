"""Utilities with torch.utils' names: chainrule.utils.checkpoint."""
from . import checkpoint
