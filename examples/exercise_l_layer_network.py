"""Text 003, Exercises §C3 and the lab's Part 2: an L-layer network for any layer_dims = [n_x, n_1, …, n_L],
written with the lab's linear_forward/linear_backward (ReLU hidden layers, sigmoid output, caches popped in the
backward pass) — next to chainrule's autograd for the same parameters."""
import numpy as np

import chainrule as cr
import textbook_numpy as T


def init(layer_dims, seed=1):
    rng = np.random.RandomState(seed)
    return {f"W{l}": rng.randn(layer_dims[l], layer_dims[l - 1]) * np.sqrt(2 / layer_dims[l - 1])
            for l in range(1, len(layer_dims))} | {f"b{l}": np.zeros((layer_dims[l], 1)) for l in range(1, len(layer_dims))}


def L_layer_forward(X, params):
    L = len(params) // 2
    caches, A = [], X
    for l in range(1, L + 1):
        Z, cache = T.linear_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((cache, Z))
        A = T.relu(Z) if l < L else T.sigmoid(Z)
    return A, caches


def L_layer_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    dZ = AL - Y                                   # sigmoid + cross-entropy
    for l in range(L, 0, -1):
        cache, Z = caches.pop()
        if l < L:
            dZ = dA * T.relu_derivative(Z)        # noqa: F821  (dA from the layer above)
        dA, dW, db = T.linear_backward(dZ, cache)
        grads[f"dW{l}"], grads[f"db{l}"] = dW, db
    return grads


def chainrule_grads(X, Y, params):
    P = {k: cr.tensor(v, requires_grad=True) for k, v in params.items()}
    L = len(P) // 2
    A = cr.tensor(X)
    for l in range(1, L + 1):
        Z = P[f"W{l}"] @ A + P[f"b{l}"]
        A = cr.relu(Z) if l < L else cr.sigmoid(Z)
    cr.nn.functional.binary_cross_entropy(A, cr.tensor(Y)).backward()
    return {"d" + k: p.grad.numpy() for k, p in P.items()}


def main(layer_dims=(4, 6, 5, 3, 1)):
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((layer_dims[0], 12)), (rng.random((1, 12)) > 0.5).astype(np.float64)
    params = init(list(layer_dims))
    AL, caches = L_layer_forward(X, params)
    hand = L_layer_backward(AL, Y, caches)
    ours = chainrule_grads(X, Y, params)
    diffs = {k: T.relative_difference(ours[k], hand[k]) for k in hand}
    print(f"layer_dims {list(layer_dims)}: worst relative difference {max(diffs.values()):.1e}")
    return diffs


if __name__ == "__main__":
    main()
