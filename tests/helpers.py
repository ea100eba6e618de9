"""Shared test fixtures that are not pytest fixtures: ops with deliberately wrong backward passes."""
import chainrule as cr


class BadSquare(cr.autograd.Function):
    """x² with a wrong backward (g·x instead of 2x·g), for gradcheck failure tests."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x   # wrong: should be 2x
