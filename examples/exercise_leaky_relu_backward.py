"""Text 003, Exercises §C1: leaky_relu_backward(dA, Z, alpha=0.01) — the text's solution next to chainrule."""
import numpy as np

import chainrule as cr


def leaky_relu_backward(dA, Z, alpha=0.01):
    return np.where(Z > 0, dA, alpha * dA)


def main():
    rng = np.random.default_rng(5)
    Z, dA = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    z = cr.tensor(Z, requires_grad=True)
    cr.leaky_relu(z, 0.01).backward(gradient=cr.tensor(dA))
    diff = float(np.max(np.abs(z.grad.numpy() - leaky_relu_backward(dA, Z))))
    ok = cr.autograd.gradcheck(lambda v: cr.leaky_relu(v, 0.01), [cr.tensor(Z, requires_grad=True)])
    print(f"max |chainrule − text| = {diff:.1e}; gradcheck {'passed' if ok else 'failed'}")
    return {"max_abs_difference": diff, "gradcheck": ok}


if __name__ == "__main__":
    main()
