"""Correct alternative: the sigmoid through tanh, σ(x) = (1 + tanh(x / 2)) / 2.

tanh saturates to ±1 instead of overflowing, so no exp of a large number is
ever taken. Masks are multiplied in as float arrays rather than selected
with np.where.
"""
import numpy as np


def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sigmoid_backward(dout, x):
    s = sigmoid(x)
    return dout * (s - s ** 2)


def tanh(x):
    return np.tanh(np.asarray(x, dtype=np.float64))


def tanh_backward(dout, x):
    # 1 − tanh²(x) = 1 / cosh²(x); cosh overflows for |x| > 710, giving 1/inf = 0
    with np.errstate(over="ignore"):
        return dout / np.cosh(np.asarray(x, dtype=np.float64)) ** 2


def relu(x):
    x = np.asarray(x, dtype=np.float64)
    return (x + np.abs(x)) / 2.0


def relu_backward(dout, x):
    x = np.asarray(x, dtype=np.float64)
    return dout * (x > 0).astype(np.float64)


def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=np.float64)
    positive = (x > 0).astype(np.float64)
    return x * (positive + alpha * (1.0 - positive))


def leaky_relu_backward(dout, x, alpha=0.01):
    x = np.asarray(x, dtype=np.float64)
    positive = (x > 0).astype(np.float64)
    return dout * (positive + alpha * (1.0 - positive))
