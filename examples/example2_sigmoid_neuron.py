"""Text 003, Worked Examples, Example 2: backprop through one sigmoid neuron with x = (2, 3), w = (0.5, -0.3),
b = 0.1, y = 1, then one gradient-descent step with α = 0.1.
Expected (the text): z = 0.2, a = 0.5498, L = 0.5981, dz = -0.4502, dw = (-0.9003, -1.3505), db = -0.4502,
w_new = (0.5900, -0.1649), b_new = 0.1450. The text's w₂ update adds rounded numbers (-0.3 + 0.1351); unrounded
the step gives -0.164950, exactly on the rounding half, so chainrule prints -0.16495."""
import chainrule as cr


def main():
    print(cr.explain.neuron_example())
    x = cr.tensor([2.0, 3.0], dtype=cr.float64)
    w = cr.tensor([0.5, -0.3], dtype=cr.float64, requires_grad=True)
    b = cr.tensor(0.1, dtype=cr.float64, requires_grad=True)
    z = (w * x).sum() + b
    z.retain_grad()
    a = cr.sigmoid(z)
    L = cr.nn.functional.binary_cross_entropy(a, cr.tensor(1.0, dtype=cr.float64))
    L.backward()
    with cr.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
    out = {"z": z.item(), "a": a.item(), "L": L.item(), "dz": z.grad.item(), "dw": w.grad.tolist(),
           "db": b.grad.item(), "w_new": w.detach().tolist(), "b_new": b.item()}
    print({k: (round(v, 4) if isinstance(v, float) else [round(u, 4) for u in v]) for k, v in out.items()})
    print(f"w2 after the step, unrounded: {out['w_new'][1]:.6f} (the text: -0.1649)")
    return out


if __name__ == "__main__":
    main()
