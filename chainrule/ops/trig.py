"""Trigonometric and hyperbolic functions beyond sin and cos. Each backward is the textbook derivative times the
upstream gradient g, written with Tensor ops so that it differentiates again (create_graph)."""
import numpy as np

from ..tensor import Tensor
from ..autograd.function import Op
from .elementwise import UNARY, _binary, _integral, _unary
from ._util import floating, lift, ones_where_zero
from .registry import T, register, sample

_wrap = Tensor._wrap
_INSIDE_UNIT = [sample(T((3, 4), -0.9, 0.9))]   # asin, acos, atanh: defined on (-1, 1)


class Tan(Op):
    """y = tan x;  dy/dx = 1/cos²x = 1 + y²."""
    saves_inputs = False

    def forward(self, x):
        self.out = np.tan(x)
        return self.out

    def backward(self, g):
        y = self.saved_output()
        return g * (1.0 + y * y)


class Asin(Op):
    """y = arcsin x;  dy/dx = 1/√(1 - x²)."""

    def forward(self, x):
        return np.arcsin(x)

    def backward(self, g):
        x = self.inputs[0]
        return g / (1.0 - x * x).sqrt()


class Acos(Op):
    """y = arccos x;  dy/dx = -1/√(1 - x²)."""

    def forward(self, x):
        return np.arccos(x)

    def backward(self, g):
        x = self.inputs[0]
        return -g / (1.0 - x * x).sqrt()


class Atan(Op):
    """y = arctan x;  dy/dx = 1/(1 + x²)."""

    def forward(self, x):
        return np.arctan(x)

    def backward(self, g):
        r = hypot(self.inputs[0], 1.0)   # 1 + x² = hypot(x, 1)², which does not overflow at x = 1e20 in float32
        return g / r / r


class Sinh(Op):
    """y = sinh x;  dy/dx = cosh x."""

    def forward(self, x):
        return np.sinh(x)

    def backward(self, g):
        return g * self.inputs[0].cosh()


class Cosh(Op):
    """y = cosh x;  dy/dx = sinh x."""

    def forward(self, x):
        return np.cosh(x)

    def backward(self, g):
        return g * self.inputs[0].sinh()


class Asinh(Op):
    """y = arsinh x;  dy/dx = 1/√(x² + 1)."""

    def forward(self, x):
        return np.arcsinh(x)

    def backward(self, g):
        return g / hypot(self.inputs[0], 1.0)   # √(x² + 1), without x² overflowing


class Acosh(Op):
    """y = arcosh x (x ≥ 1);  dy/dx = 1/√(x² - 1)."""

    def forward(self, x):
        return np.arccosh(x)

    def backward(self, g):
        x = self.inputs[0]   # √(x² - 1) = √(x - 1)·√(x + 1): no overflow in x², no cancellation near 1
        return g / ((x - 1.0).sqrt() * (x + 1.0).sqrt())


class Atanh(Op):
    """y = artanh x;  dy/dx = 1/(1 - x²)."""

    def forward(self, x):
        return np.arctanh(x)

    def backward(self, g):
        x = self.inputs[0]
        return g / (1.0 - x * x)


class Atan2(Op):
    """θ = atan2(a, b), the angle of the point (b, a);  ∂θ/∂a = b/(a² + b²), ∂θ/∂b = -a/(a² + b²)
    (0 at the origin, as torch, where 0/0 would give nan)."""

    def forward(self, a, b):
        return np.arctan2(a, b)

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        r = ones_where_zero(hypot(a, b))   # a² + b² = hypot(a, b)², without overflow in the squares
        return (g * b / r / r if na else None), (-g * a / r / r if nb else None)


class Hypot(Op):
    """h = √(a² + b²) without overflow in the squares;  ∂h/∂a = a/h, ∂h/∂b = b/h."""

    def forward(self, a, b):
        self.out = np.hypot(a, b)
        return self.out

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        h = self.saved_output()
        return (g * a / h if na else None), (g * b / h if nb else None)


tan = _unary("tan", Tan, np.tan, [sample(T((3, 4), -1.2, 1.2))])
asin = _unary("asin", Asin, np.arcsin, _INSIDE_UNIT)
acos = _unary("acos", Acos, np.arccos, _INSIDE_UNIT)
atan = _unary("atan", Atan, np.arctan, UNARY)
sinh = _unary("sinh", Sinh, np.sinh, UNARY)
cosh = _unary("cosh", Cosh, np.cosh, UNARY)
asinh = _unary("asinh", Asinh, np.arcsinh, UNARY)
acosh = _unary("acosh", Acosh, np.arccosh, [sample(T((3, 4), 1.2, 3))])
atanh = _unary("atanh", Atanh, np.arctanh, _INSIDE_UNIT)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
for _alias, _fn in (("arcsin", asin), ("arccos", acos), ("arctan", atan), ("arcsinh", asinh),
                    ("arccosh", acosh), ("arctanh", atanh)):
    setattr(Tensor, _alias, _fn)


def atan2(input, other):
    if _integral(input) and _integral(other):   # integers: the default float dtype, as torch (NumPy: float64)
        input = floating(lift(input))
    return _binary(Atan2, input, other)


def hypot(input, other):
    return _binary(Hypot, input, other)


# away from the origin, where atan2 and hypot have no derivative
atan2 = register("atan2", method=("atan2", "arctan2"), ref=np.arctan2,
         samples=[sample(T((3, 4), 0.3, 2), T((3, 4))), sample(T((3, 4)), T((4,), -2, -0.3))])(atan2)
hypot = register("hypot", method="hypot", ref=np.hypot,
         samples=[sample(T((3, 4), 0.3, 2), T((3, 4))), sample(T((2, 3)), T((3,), 0.5, 2))])(hypot)
arctan2 = atan2
