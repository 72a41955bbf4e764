"""Correct alternative: Xavier-uniform init, a dict cache, the loss from the cache.

Weights are drawn from U(−r, r) with r = sqrt(6 / (fan_in + fan_out)) by the
legacy np.random.RandomState(seed); biases start at a small constant rather
than 0. The cache is a dict; σ' is written as ŷ (1 − ŷ) from the cached
activations; fit records the loss of each epoch from the ŷ its forward pass
cached, before the update (until issue 19 it recorded the loss after the
step, which the docstring's order does not allow).
"""
import numpy as np

from .activations import sigmoid


def _xavier(rs, fan_out, fan_in):
    r = np.sqrt(6.0 / (fan_in + fan_out))
    return rs.uniform(-r, r, size=(fan_out, fan_in))


def init_params(n_in, n_hidden, n_out, seed=0):
    rs = np.random.RandomState(seed)
    W1 = _xavier(rs, n_hidden, n_in)
    W2 = _xavier(rs, n_out, n_hidden)
    return {"W1": W1, "b1": np.full(n_hidden, 0.01), "W2": W2, "b2": np.full(n_out, 0.01)}


def forward(params, X):
    h = sigmoid(np.dot(X, params["W1"].T) + params["b1"])
    yhat = sigmoid(np.dot(h, params["W2"].T) + params["b2"])
    return yhat, {"X": X, "h": h, "yhat": yhat}


def mse_loss(yhat, y):
    diff = np.asarray(y, dtype=np.float64) - np.asarray(yhat, dtype=np.float64)
    return float(np.einsum("nk,nk->", diff, diff) / diff.shape[0])


def backward(params, cache, y):
    X, h, yhat = cache["X"], cache["h"], cache["yhat"]
    n = X.shape[0]
    delta2 = (2.0 / n) * (yhat - y) * yhat * (1.0 - yhat)      # dL/dz2
    delta1 = (delta2 @ params["W2"]) * h * (1.0 - h)            # dL/dz1
    return {
        "W2": np.einsum("nk,nh->kh", delta2, h),
        "b2": np.einsum("nk->k", delta2),
        "W1": np.einsum("nh,nd->hd", delta1, X),
        "b1": np.einsum("nh->h", delta1),
    }


def fit(X, y, n_hidden=4, lr=2.0, epochs=5000, seed=0):
    params = init_params(X.shape[1], n_hidden, y.shape[1], seed)
    losses = []
    for _ in range(epochs):
        _, cache = forward(params, X)
        losses.append(mse_loss(cache["yhat"], y))
        grads = backward(params, cache, y)
        params = {k: v - lr * grads[k] for k, v in params.items()}
    return params, losses


def predict(params, X):
    yhat, _ = forward(params, X)
    return yhat
