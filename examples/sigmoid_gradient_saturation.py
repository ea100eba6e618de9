"""Text 004, "Vanishing Gradients": sigmoid_grad(5) ≈ 0.0066, sigmoid_grad(10) ≈ 0.00005 (4.5e-5), and "after 10
layers of sigmoid: 0.007^10 ≈ 3e-21" — computed by chainrule's autograd. The last number in the text is off by
10×: 0.007¹⁰ = 2.8e-22 (and with the exact σ′(5) = 0.006648, σ′(5)¹⁰ = 1.7e-22)."""
import chainrule as cr


def main():
    x = cr.tensor([5.0, 10.0], dtype=cr.float64, requires_grad=True)
    cr.sigmoid(x).sum().backward()
    g5, g10 = x.grad.tolist()
    print(f"sigmoid_grad(5) = {g5:.4f}   (text: 0.0066)")
    print(f"sigmoid_grad(10) = {g10:.2e}   (text: ≈ 0.00005)")
    print(f"0.007**10 = {0.007 ** 10:.2e} (the text says ≈ 3e-21, which is 10× too large); "
          f"sigmoid_grad(5)**10 = {g5 ** 10:.2e}")
    # the product through 10 saturated sigmoid layers, by the chain rule itself: each layer's pre-activation is 5
    # (y - y.detach() is 0 in value but passes the gradient through with factor 1)
    h = cr.tensor(5.0, dtype=cr.float64, requires_grad=True)
    y = h
    for _ in range(10):
        y = cr.sigmoid(y - y.detach() + 5.0)
    y.backward()
    print(f"d(10 stacked sigmoids at pre-activation 5)/dh = {h.grad.item():.2e}")
    return {"g5": g5, "g10": g10, "p007": 0.007 ** 10, "g5_pow10": g5 ** 10, "chain10": h.grad.item()}


if __name__ == "__main__":
    main()
