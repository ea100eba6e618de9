"""Reverse-mode automatic differentiation: the graph, the backward sweep, and tools to check it."""
from . import forward_ad, functional, graph, profiler  # noqa: F401
from .function import Function, FunctionCtx, Node, Op
from .functional import backward, grad
from .grad_mode import inference_mode  # noqa: F401
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .grad_mode import is_multithreading_enabled, set_multithreading_enabled  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .gradcheck_explain import explain_gradcheck
from ..errors import GradcheckError

__all__ = ["Function", "FunctionCtx", "Node", "Op", "grad", "functional", "enable_grad", "is_grad_enabled",
           "no_grad", "set_grad_enabled", "gradcheck", "gradgradcheck", "GradcheckError", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled"]
