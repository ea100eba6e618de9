"""torch.nn.grad: the gradients of a convolution with respect to its input and its weight, as functions (for
layers that write their own backward). Each runs the convolution on the given shapes and backpropagates
grad_output through it, so it is exactly the gradient the engine computes."""
import numpy as np

from ..autograd.functional import grad
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from . import functional as F


def _conv_grad(conv, wrt_input, input, weight, grad_output, stride, padding, dilation, groups):
    with enable_grad():
        x = input.detach().requires_grad_(wrt_input)
        w = weight.detach().requires_grad_(not wrt_input)
        out = conv(x, w, None, stride, padding, dilation, groups)
        (g,) = grad(out, [x if wrt_input else w], grad_output)
    return g


def _zeros(shape, like):
    return Tensor._wrap(np.zeros(tuple(shape), like.dtype))


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """∂L/∂input of conv1d for an input of input_size, given ∂L/∂output."""
    return _conv_grad(F.conv1d, True, _zeros(input_size, weight), weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """∂L/∂weight of conv1d for a weight of weight_size, given ∂L/∂output."""
    return _conv_grad(F.conv1d, False, input, _zeros(weight_size, input), grad_output, stride, padding, dilation,
                      groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _conv_grad(F.conv2d, True, _zeros(input_size, weight), weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _conv_grad(F.conv2d, False, input, _zeros(weight_size, input), grad_output, stride, padding, dilation,
                      groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _conv_grad(F.conv3d, True, _zeros(input_size, weight), weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _conv_grad(F.conv3d, False, input, _zeros(weight_size, input), grad_output, stride, padding, dilation,
                      groups)
