"""torch.utils.checkpoint's names for chainrule.autograd.checkpoint."""
from ..autograd.checkpoint import checkpoint, checkpoint_sequential  # noqa: F401
