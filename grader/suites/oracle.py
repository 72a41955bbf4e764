"""The grader's own forward passes and losses, written independently of solutions/.

Expected values and the loss side of every finite-difference check come from
here, never from the student's code, so a wrong forward cannot make a wrong
backward look right. Plain float64 numpy, kept as short as correctness allows.
"""
import numpy as np


# -- part 1: activations ---------------------------------------------------
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    # σ(x) = exp(−log(1 + e^(−x))): no overflow, full relative precision in both tails
    return np.exp(-np.logaddexp(0.0, -x))


def tanh(x):
    return np.tanh(np.asarray(x, dtype=np.float64))


def relu(x):
    x = np.asarray(x, dtype=np.float64)
    return x * (x > 0)


def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * x)


FORWARD = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu}


def derivative(name, x, alpha=0.01):
    """σ'(x) for the named activation (at x = 0, the right-hand derivative)."""
    x = np.asarray(x, dtype=np.float64)
    if name == "sigmoid":
        s = sigmoid(x)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "relu":
        return (x > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(x > 0, 1.0, alpha)
    raise KeyError(name)


# -- part 2: logistic regression -------------------------------------------
def logreg_forward(X, w, b):
    return sigmoid(X @ w + b)


def bce(a, y):
    a = np.asarray(a, dtype=np.float64)
    return float(-np.mean(y * np.log(a) + (1 - y) * np.log1p(-a)))


def logreg_loss(X, y, w, b):
    """BCE computed from the logits, accurate even when σ saturates."""
    z = X @ w + b
    # -[y log σ(z) + (1-y) log(1-σ(z))] = log(1 + e^z) - y z
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


# -- part 3: two-layer sigmoid net -----------------------------------------
def two_layer_forward(params, X):
    h = sigmoid(X @ params["W1"].T + params["b1"])
    return sigmoid(h @ params["W2"].T + params["b2"])


def mse(yhat, y):
    return float(np.sum((np.asarray(y) - np.asarray(yhat)) ** 2) / np.shape(y)[0])


def two_layer_loss(params, X, y):
    return mse(two_layer_forward(params, X), y)


# -- part 4: MLP -----------------------------------------------------------
def n_layers(params):
    return sum(1 for k in params if k.startswith("W"))


def mlp_preactivations(params, X):
    """Every layer's z, the last being the logits."""
    zs = []
    h = X
    L = n_layers(params)
    for l in range(1, L + 1):
        z = h @ params[f"W{l}"].T + params[f"b{l}"]
        zs.append(z)
        h = relu(z)
    return zs


def mlp_forward(params, X):
    return mlp_preactivations(params, X)[-1]


def log_softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    m = np.max(logits, axis=-1, keepdims=True)
    return logits - m - np.log(np.sum(np.exp(logits - m), axis=-1, keepdims=True))


def softmax(logits):
    return np.exp(log_softmax(logits))


def cross_entropy(logits, y):
    lp = log_softmax(logits)
    return float(-np.mean(lp[np.arange(lp.shape[0]), np.asarray(y)]))


def mlp_loss(params, X, y):
    return cross_entropy(mlp_forward(params, X), y)


def mlp_grads(params, X, y):
    """Analytic gradients of mlp_loss (checked against finite differences in tests/)."""
    L = n_layers(params)
    hs, zs = [X], []
    for l in range(1, L + 1):
        zs.append(hs[-1] @ params[f"W{l}"].T + params[f"b{l}"])
        hs.append(relu(zs[-1]))
    n = X.shape[0]
    dz = softmax(zs[-1])
    dz[np.arange(n), np.asarray(y)] -= 1.0
    dz /= n
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = dz.T @ hs[l - 1]
        grads[f"b{l}"] = dz.sum(axis=0)
        if l > 1:
            dz = (dz @ params[f"W{l}"]) * (zs[l - 2] > 0)
    return grads
