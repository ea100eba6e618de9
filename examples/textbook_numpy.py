"""The reference texts' hand-written NumPy code, transcribed once so the examples can put chainrule next to it.

Text 003 uses columns as samples (X is (n_x, m), W is (n_out, n_in)); text 001 uses rows as samples.
"""
import numpy as np


# ---- text 003, §12 "Python Implementation — NumPy (From Scratch)" ------------------------------------------------
def sigmoid(z):
    """Numerically stable sigmoid."""
    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))


def relu(z):
    return np.maximum(0, z)


def relu_derivative(z):
    return (z > 0).astype(np.float64)


def initialize_parameters(n_x, n_h, n_y, seed=42):
    """He initialization for ReLU layers, Xavier for output."""
    rng = np.random.RandomState(seed)
    return {"W1": rng.randn(n_h, n_x) * np.sqrt(2.0 / n_x), "b1": np.zeros((n_h, 1)),
            "W2": rng.randn(n_y, n_h) * np.sqrt(1.0 / n_h), "b2": np.zeros((n_y, 1))}


def forward_pass(X, params):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = relu(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    """Binary cross-entropy loss (clipped to avoid log(0))."""
    m = Y.shape[1]
    A2c = np.clip(A2, 1e-8, 1 - 1e-8)
    return float(np.squeeze(-(1 / m) * np.sum(Y * np.log(A2c) + (1 - Y) * np.log(1 - A2c))))


def backward_pass(X, Y, params, cache):
    """The four backprop equations."""
    m = X.shape[1]
    dZ2 = cache["A2"] - Y                                        # Eq 1
    dW2 = (1 / m) * dZ2 @ cache["A1"].T                          # Eq 2
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = params["W2"].T @ dZ2
    dZ1 = dA1 * relu_derivative(cache["Z1"])                     # Eq 3
    dW1 = (1 / m) * dZ1 @ X.T                                    # Eq 4
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(params, grads, learning_rate):
    for key in ["W1", "b1", "W2", "b2"]:
        params[key] -= learning_rate * grads["d" + key]
    return params


def gradient_check(X, Y, params, epsilon=1e-7):
    """Two-sided differences per parameter; returns {key: relative difference} (the text's formula)."""
    A2, cache = forward_pass(X, params)
    grads = backward_pass(X, Y, params, cache)
    out = {}
    for key in ["W1", "b1", "W2", "b2"]:
        param, dparam = params[key], grads["d" + key]
        num = np.zeros_like(param)
        it = np.nditer(param, flags=["multi_index"])
        while not it.finished:
            idx = it.multi_index
            old = param[idx]
            param[idx] = old + epsilon
            plus = compute_cost(forward_pass(X, params)[0], Y)
            param[idx] = old - epsilon
            minus = compute_cost(forward_pass(X, params)[0], Y)
            num[idx] = (plus - minus) / (2 * epsilon)
            param[idx] = old
            it.iternext()
        out[key] = float(np.linalg.norm(dparam - num) / (np.linalg.norm(dparam) + np.linalg.norm(num) + 1e-8))
    return out


# ---- text 003, lab Part 1 ------------------------------------------------------------------------------------------
def linear_forward(A_prev, W, b):
    return W @ A_prev + b, (A_prev, W, b)


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return W.T @ dZ, (1 / m) * dZ @ A_prev.T, (1 / m) * np.sum(dZ, axis=1, keepdims=True)


def relative_difference(a, b):
    """‖a − b‖ / (‖a‖ + ‖b‖), the texts' gradient-check measure."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + 1e-300))
