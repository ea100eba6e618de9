"""Text 003, Worked Examples, Example 1: f(x, y, z) = (x + y)·z at x = -2, y = 5, z = -4, by hand with chainrule.
Expected (the text): q = 3, f = -12, ∂f/∂x = -4, ∂f/∂y = -4, ∂f/∂z = 3."""
import chainrule as cr


def main():
    tr = cr.explain.trace_expression("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    print(tr)
    x, y, z = (cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    f.backward()
    return {"f": f.item(), "dx": x.grad.item(), "dy": y.grad.item(), "dz": z.grad.item()}


if __name__ == "__main__":
    main()
