"""Optimizers and learning-rate schedules with torch.optim's names, arguments and update formulas."""
from . import lr_scheduler
from .optimizer import Optimizer
from .lbfgs import LBFGS
from .rules import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop, Rprop
from .averaged_and_factored import ASGD, Adafactor
from .muon import Muon
from . import swa_utils
from .hooks import register_optimizer_step_post_hook, register_optimizer_step_pre_hook  # noqa: F401
