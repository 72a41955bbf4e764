"""Correct alternative: element-by-element Python loops with the math module.

Every function walks the flat indices of a fresh float64 output array, and
the subgradients at 0 are the other admissible choice: relu'(0) = 1 and
leaky_relu'(0) = 1.
"""
import math

import numpy as np


def _as_float(x):
    return np.array(x, dtype=np.float64)          # always a copy


def _sigmoid_scalar(v):
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)                                # v < 0: never overflows
    return e / (1.0 + e)


def sigmoid(x):
    x = _as_float(x)
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = _sigmoid_scalar(x.flat[i])
    return out


def sigmoid_backward(dout, x):
    x = _as_float(x)
    dout = _as_float(dout)
    out = np.empty_like(x)
    for i in range(x.size):
        s = _sigmoid_scalar(x.flat[i])
        out.flat[i] = dout.flat[i] * s * (1.0 - s)
    return out


def tanh(x):
    x = _as_float(x)
    out = np.empty_like(x)
    with np.nditer([x, out], op_flags=[["readonly"], ["writeonly"]]) as it:
        for v, o in it:
            o[...] = math.tanh(float(v))
    return out


def tanh_backward(dout, x):
    x = _as_float(x)
    dout = _as_float(dout)
    out = np.empty_like(x)
    for i in range(x.size):
        t = math.tanh(x.flat[i])
        out.flat[i] = dout.flat[i] * (1.0 - t * t)
    return out


def relu(x):
    x = _as_float(x)
    out = np.zeros_like(x)
    for i in range(x.size):
        if x.flat[i] > 0:
            out.flat[i] = x.flat[i]
    return out


def relu_backward(dout, x):
    x = _as_float(x)
    dout = _as_float(dout)
    out = np.zeros_like(x)
    for i in range(x.size):
        if x.flat[i] >= 0:                         # relu'(0) = 1
            out.flat[i] = dout.flat[i]
    return out


def leaky_relu(x, alpha=0.01):
    x = _as_float(x)
    out = np.empty_like(x)
    for i in range(x.size):
        v = x.flat[i]
        out.flat[i] = v if v > 0 else alpha * v
    return out


def leaky_relu_backward(dout, x, alpha=0.01):
    x = _as_float(x)
    dout = _as_float(dout)
    out = np.empty_like(x)
    for i in range(x.size):
        slope = 1.0 if x.flat[i] >= 0 else alpha   # leaky_relu'(0) = 1
        out.flat[i] = dout.flat[i] * slope
    return out
