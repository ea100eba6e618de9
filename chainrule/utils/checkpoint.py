"""torch.utils.checkpoint's names for chainrule.autograd.checkpoint."""
from ..autograd.checkpoint import binomial_plan, checkpoint, checkpoint_binomial, checkpoint_sequential  # noqa: F401
