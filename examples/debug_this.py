"""Text 003, "Debug This!": buggy_backward's three bugs — m = X.shape[0] (wrong m), dW2 = dZ2 @ A1 (missing
transpose), db1 summed over axis 0 (wrong axis) — each planted alone into the text's correct backward and caught
by chainrule's gradient check, whose message points at the wrong gradient."""
import numpy as np

import chainrule as cr
import textbook_numpy as T


def make_backward(bug):
    def backward(X, Y, params, cache):
        m = X.shape[0] if bug == "wrong m" else X.shape[1]
        A1, A2, Z1 = cache["A1"], cache["A2"], cache["Z1"]
        dZ2 = A2 - Y
        dW2 = (1 / m) * dZ2 @ (A1 if bug == "missing transpose" else A1.T)
        db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
        dZ1 = params["W2"].T @ dZ2 * (Z1 > 0)
        dW1 = (1 / m) * dZ1 @ X.T
        db1 = (1 / m) * np.sum(dZ1, axis=0 if bug == "wrong sum axis" else 1, keepdims=True)
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return backward


class HandWritten(cr.autograd.Function):
    """The NumPy forward/backward as one chainrule op, so gradcheck can test the hand-written backward."""

    @staticmethod
    def forward(ctx, X, Y, W1, b1, W2, b2, backward):
        params = {"W1": W1.detach().numpy(), "b1": b1.detach().numpy(), "W2": W2.detach().numpy(),
                  "b2": b2.detach().numpy()}
        A2, cache = T.forward_pass(X.numpy(), params)
        ctx.stash = (X.numpy(), Y.numpy(), params, cache, backward)
        return cr.tensor(T.compute_cost(A2, Y.numpy()), dtype=cr.float64)

    @staticmethod
    def backward(ctx, g):
        X, Y, params, cache, backward = ctx.stash
        grads = backward(X, Y, params, cache)
        out = []
        for k in ("W1", "b1", "W2", "b2"):
            d = grads["d" + k]
            if d.shape != params[k].shape:
                raise ValueError(f"d{k} has shape {d.shape} but {k} has shape {params[k].shape}")
            out.append(g * cr.tensor(d))
        return (None, None, *out, None)


def main():
    rng = np.random.default_rng(8)
    # 4 samples and 4 hidden units: then dZ2 @ A1 has dW2's shape, so the missing transpose gives silently
    # wrong numbers instead of a crash — exactly the kind of bug only a gradient check catches
    X, Y = rng.standard_normal((3, 4)), np.array([[1.0, 0.0, 1.0, 1.0]])
    params = T.initialize_parameters(3, 4, 1)
    names = ["W1", "b1", "W2", "b2"]
    found = {}
    for bug in ("none", "wrong m", "missing transpose", "wrong sum axis"):
        P = [cr.tensor(params[k], requires_grad=True) for k in names]
        fn = lambda *ps: HandWritten.apply(cr.tensor(X), cr.tensor(Y), *ps, make_backward(bug))  # noqa: E731
        try:
            cr.autograd.gradcheck(fn, P, names=names)
            found[bug] = "passes"
        except cr.GradcheckError as exc:
            found[bug] = str(exc)
        except ValueError as exc:
            found[bug] = f"shape check: {exc}"
        print(f"[{bug}] {found[bug]}")
    return found


if __name__ == "__main__":
    main()
