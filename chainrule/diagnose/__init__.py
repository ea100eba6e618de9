"""Diagnosis: why a parameter has no gradient, and (monitor) how gradients flow through training."""
from .missing import format_missing, missing_grads
from .monitor import ADVICE, Finding, GradientMonitor, Report
