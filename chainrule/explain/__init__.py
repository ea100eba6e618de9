"""The chain rule, shown: step-by-step traces of backward passes with the numbers."""
from .trace import Trace, neuron_example, recording, trace, trace_expression
