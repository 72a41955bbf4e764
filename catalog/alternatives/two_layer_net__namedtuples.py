"""Correct alternative: standard-library containers that subclass tuple and dict.

Parameters and gradients are OrderedDicts, forward's cache is a namedtuple
that backward reads by attribute (cache.z1), and fit returns a namedtuple
FitResult(params, losses). The contract asks for a dict and a tuple; these
are both, and the grader must treat them as such (and hand the cache back to
backward as the namedtuple it is).
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .activations import sigmoid, sigmoid_backward

Cache = namedtuple("Cache", "X z1 h z2 yhat")
FitResult = namedtuple("FitResult", "params losses")


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return OrderedDict(W1=rng.normal(0.0, 1.0, size=(n_hidden, n_in)), b1=np.zeros(n_hidden),
                       W2=rng.normal(0.0, 1.0, size=(n_out, n_hidden)), b2=np.zeros(n_out))


def forward(params, X):
    z1 = X @ params["W1"].T + params["b1"]
    h = sigmoid(z1)
    z2 = h @ params["W2"].T + params["b2"]
    yhat = sigmoid(z2)
    return yhat, Cache(X, z1, h, z2, yhat)


def mse_loss(yhat, y):
    return float(np.sum((y - yhat) ** 2) / y.shape[0])


def backward(params, cache, y):
    n = cache.X.shape[0]
    dz2 = sigmoid_backward(2.0 * (cache.yhat - y) / n, cache.z2)
    dz1 = sigmoid_backward(dz2 @ params["W2"], cache.z1)
    return OrderedDict(W1=dz1.T @ cache.X, b1=dz1.sum(axis=0), W2=dz2.T @ cache.h, b2=dz2.sum(axis=0))


def fit(X, y, n_hidden=4, lr=2.0, epochs=5000, seed=0):
    params = init_params(X.shape[1], n_hidden, y.shape[1], seed)
    losses = []
    for _ in range(epochs):
        yhat, cache = forward(params, X)
        losses.append(mse_loss(yhat, y))
        grads = backward(params, cache, y)
        params = OrderedDict((k, params[k] - lr * grads[k]) for k in params)
    return FitResult(params, losses)


def predict(params, X):
    return forward(params, X)[0]
