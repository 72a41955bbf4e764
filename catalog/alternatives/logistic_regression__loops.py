"""Correct alternative: one example at a time, as the per-example formulas read.

Loops over the rows of X for the forward pass, the loss and the gradient;
clips with eps = 1e-7 (float32-style) in the BCE; returns the losses of fit
as an np.ndarray rather than a list.
"""
import math

import numpy as np

EPS = 1e-7


def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def forward(X, w, b):
    n = X.shape[0]
    a = np.empty(n)
    for i in range(n):
        a[i] = _sigmoid(float(np.dot(X[i], w)) + b)
    return a


def bce_loss(a, y):
    total = 0.0
    for ai, yi in zip(a, y):
        ai = min(max(float(ai), EPS), 1.0 - EPS)
        total += -(yi * math.log(ai) + (1.0 - yi) * math.log(1.0 - ai))
    return total / len(a)


def backward(X, a, y):
    n, d = X.shape
    dw = np.zeros(d)
    db = 0.0
    for i in range(n):
        dz = a[i] - y[i]              # dL_i/dz_i for one example
        dw += dz * X[i]
        db += dz
    return dw / n, db / n


def fit(X, y, lr=0.1, epochs=1000):
    w = np.zeros(X.shape[1])
    b = 0.0
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        a = forward(X, w, b)
        losses[epoch] = bce_loss(a, y)
        dw, db = backward(X, a, y)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses


def predict(X, w, b):
    a = forward(X, w, b)
    labels = np.zeros(len(a), dtype=np.int64)
    for i, ai in enumerate(a):
        if ai >= 0.5:
            labels[i] = 1
    return labels
