"""Fold an eval-mode BatchNorm into the convolution or linear layer before it (torch.nn.utils.fusion): with
s = γ/√(σ² + ε), BN(Wx + b) = (s·W)x + s(b - μ) + β, so one layer computes both for inference."""
import copy

from ...autograd.grad_mode import no_grad
from ..parameter import Parameter


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(W', b') with W' = W·s per output channel (dim 0, or 1 for a transposed conv) and b' = (b - μ)s + β."""
    with no_grad():
        conv_b = conv_b if conv_b is not None else bn_rm * 0
        bn_w = bn_w if bn_w is not None else bn_rm * 0 + 1
        bn_b = bn_b if bn_b is not None else bn_rm * 0
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        shape = ([1, -1] if transpose else [-1, 1]) + [1] * (conv_w.ndim - 2)
        w = (conv_w * scale.reshape(*shape)).to(conv_w.dtype)
        b = ((conv_b - bn_rm) * scale + bn_b).to(conv_b.dtype)
    return Parameter(w, conv_w.requires_grad), Parameter(b, conv_b.requires_grad)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of `conv` (in eval mode) that applies bn's running statistics and affine map itself."""
    if conv.training or bn.training:
        raise ValueError("fuse_conv_bn_eval: fusion is for inference; call .eval() on both modules first")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    with no_grad():
        linear_b = linear_b if linear_b is not None else bn_rm * 0
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        w = (linear_w * scale.unsqueeze(-1)).to(linear_w.dtype)
        b = ((linear_b - bn_rm) * scale + bn_b).to(linear_b.dtype)
    return Parameter(w, linear_w.requires_grad), Parameter(b, linear_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of `linear` (in eval mode) that applies the BatchNorm1d after it."""
    if linear.training or bn.training:
        raise ValueError("fuse_linear_bn_eval: fusion is for inference; call .eval() on both modules first")
    if linear.out_features != bn.num_features:
        raise ValueError(f"fuse_linear_bn_eval: the linear layer's {linear.out_features} outputs must equal the "
                         f"BatchNorm's {bn.num_features} features")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused
