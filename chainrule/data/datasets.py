"""Built-in data sets: XOR, moons, circles, spirals (NumPy only), scikit-learn's bundled sets (optional extra),
and CSV files with a label column."""
import csv
import os

import numpy as np


def xor(n=None, noise=0.0, seed=0):
    """The four XOR points (n=None), or n noisy samples around them."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
    y = np.array([0, 1, 1, 0])
    if n is None:
        return X, y
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 4, n)
    return X[idx] + rng.normal(0, noise, (n, 2)), y[idx]


def moons(n=1000, noise=0.2, seed=0):
    """Two interleaving half circles, as sklearn.datasets.make_moons."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    return _two_classes(np.c_[np.cos(t_out), np.sin(t_out)], np.c_[1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5],
                        noise, rng)


def circles(n=1000, noise=0.1, factor=0.5, seed=0):
    """A small circle inside a large one, as sklearn.datasets.make_circles."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    return _two_classes(np.c_[np.cos(t_out), np.sin(t_out)], factor * np.c_[np.cos(t_in), np.sin(t_in)], noise, rng)


def _two_classes(X0, X1, noise, rng):
    """Class 0 at X0, class 1 at X1, Gaussian noise added to both, shuffled."""
    X = np.vstack([X0, X1])
    y = np.r_[np.zeros(len(X0), int), np.ones(len(X1), int)]
    X += rng.normal(0, noise, X.shape)
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def spirals(n=1000, classes=3, noise=0.2, seed=0):
    """`classes` interleaved spiral arms (CS231n's toy set)."""
    rng = np.random.default_rng(seed)
    per = n // classes
    X, y = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1, per)
        t = np.linspace(c * 4, (c + 1) * 4, per) + rng.normal(0, noise, per)
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(per, c))
    X, y = np.vstack(X), np.concatenate(y)
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def sklearn_dataset(name):
    """iris, wine, breast_cancer, digits from scikit-learn (the 'datasets' extra), standardised features."""
    try:
        from sklearn import datasets as skd
    except ImportError:
        raise ImportError(f"data set {name!r} needs scikit-learn: pip install 'chainrule[datasets]'") from None
    loader = {"iris": skd.load_iris, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer,
              "digits": skd.load_digits}[name]
    d = loader()
    return d.data.astype(np.float64), d.target.astype(np.int64)


def load_csv(path, label="label"):
    """Numeric features and an integer label column; errors say which row and column are wrong."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"CSV file {path!r} does not exist")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"CSV {path!r} is empty")
    header = [h.strip() for h in rows[0]]
    if label not in header:
        raise ValueError(f"CSV {path!r} has no label column {label!r} (columns: {', '.join(header)}); "
                         f"pass --label-column NAME")
    li = header.index(label)
    X, y = [], []
    for r, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"CSV {path!r} row {r} has {len(row)} fields but the header has {len(header)}")
        feats = []
        for c, v in enumerate(row):
            if c == li:
                continue
            try:
                feats.append(float(v))
            except ValueError:
                raise ValueError(f"CSV {path!r} row {r}, column {header[c]!r}: {v!r} is not a number; all "
                                 f"feature columns must be numeric") from None
        try:
            y.append(float(row[li]))
        except ValueError:
            raise ValueError(f"CSV {path!r} row {r}: label {row[li]!r} is not a number") from None
        X.append(feats)
    y = np.array(y)
    if np.any(y != np.round(y)):
        raise ValueError(f"CSV {path!r}: labels must be integer class ids")
    return np.array(X, np.float64), y.astype(np.int64)


BUILTIN = {"xor": lambda seed: xor(400, 0.1, seed), "moons": lambda seed: moons(1000, 0.2, seed),
           "circles": lambda seed: circles(1000, 0.1, 0.5, seed), "spirals": lambda seed: spirals(900, 3, 0.2, seed)}
SKLEARN = ("iris", "wine", "breast_cancer", "digits")


def load(name, seed=0, label="label"):
    """A data set by name (or a CSV path) -> (X float64, y int64)."""
    if name in BUILTIN:
        return BUILTIN[name](seed)
    if name in SKLEARN:
        return sklearn_dataset(name)
    if name.endswith(".csv") or os.path.exists(name):
        return load_csv(name, label)
    raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(list(BUILTIN) + list(SKLEARN))} or a "
                     f"CSV file path")


def train_test_split(X, y, test_fraction=0.2, seed=0):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    te, tr = perm[:n_test], perm[n_test:]
    return X[tr], y[tr], X[te], y[te]


def standardize(X_train, X_test):
    mu, sd = X_train.mean(0), X_train.std(0)
    sd[sd == 0] = 1
    return (X_train - mu) / sd, (X_test - mu) / sd, mu, sd
