"""Correct alternative: the lecture's column-vector math, one example at a time.

Each row x is treated as a column vector: z1 = W1 x + b1, h = σ(z1),
z2 = W2 h + b2, ŷ = σ(z2). backward accumulates the per-example outer
products δ2 hᵀ and δ1 xᵀ and divides by N at the end. Weights come from
U(−1, 1); the cache is a list of per-example tuples.
"""
import numpy as np

from .activations import sigmoid, sigmoid_backward


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.uniform(-1.0, 1.0, size=(n_hidden, n_in))
    W2 = rng.uniform(-1.0, 1.0, size=(n_out, n_hidden))
    return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(n_out)}


def _forward_one(params, x):
    z1 = params["W1"] @ x + params["b1"]
    h = sigmoid(z1)
    z2 = params["W2"] @ h + params["b2"]
    return z1, h, z2, sigmoid(z2)


def forward(params, X):
    rows = [(x,) + _forward_one(params, x) for x in X]
    yhat = np.array([r[4] for r in rows]).reshape(len(X), -1)
    return yhat, rows


def mse_loss(yhat, y):
    n = yhat.shape[0]
    total = 0.0
    for i in range(n):
        e = y[i] - yhat[i]
        total += float(e @ e)
    return total / n


def backward(params, cache, y):
    n = len(cache)
    grads = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items()}
    for (x, z1, h, z2, yhat), t in zip(cache, y):
        d2 = sigmoid_backward(2.0 * (yhat - t), z2)
        d1 = sigmoid_backward(params["W2"].T @ d2, z1)
        grads["W2"] += np.outer(d2, h)
        grads["b2"] += d2
        grads["W1"] += np.outer(d1, x)
        grads["b1"] += d1
    return {k: g / n for k, g in grads.items()}


def fit(X, y, n_hidden=4, lr=2.0, epochs=5000, seed=0):
    params = init_params(X.shape[1], n_hidden, y.shape[1], seed=seed)
    losses = []
    for _ in range(epochs):
        yhat, cache = forward(params, X)
        losses.append(mse_loss(yhat, y))
        grads = backward(params, cache, y)
        for k in params:
            params[k] = params[k] - lr * grads[k]
    return params, losses


def predict(params, X):
    return forward(params, X)[0]
