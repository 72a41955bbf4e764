"""Correct alternative: log-space sigmoid and closed forms without np.where.

σ(x) = exp(−log(1 + e^(−x))) with np.logaddexp, which never overflows;
σ'(x) = σ(x) σ(−x) computed in log space; tanh from the sigmoid identity
tanh(x) = 2σ(2x) − 1; ReLU as a clip and leaky ReLU as max(αx, x).
"""
import numpy as np


def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))


def sigmoid_backward(dout, x):
    x = np.asarray(x, dtype=np.float64)
    # σ(x)(1 − σ(x)) = σ(x) σ(−x) = exp(−log(1 + e^(−x)) − log(1 + e^x))
    return dout * np.exp(-np.logaddexp(0.0, -x) - np.logaddexp(0.0, x))


def tanh(x):
    x = np.asarray(x, dtype=np.float64)
    return 2.0 * sigmoid(2.0 * x) - 1.0


def tanh_backward(dout, x):
    x = np.asarray(x, dtype=np.float64)
    # 1 − tanh²(x) = 4 σ(2x) σ(−2x)
    return dout * 4.0 * sigmoid(2.0 * x) * sigmoid(-2.0 * x)


def relu(x):
    return np.clip(np.asarray(x, dtype=np.float64), 0.0, None)


def relu_backward(dout, x):
    return dout * np.heaviside(np.asarray(x, dtype=np.float64), 0.0)


def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(alpha * x, x)          # valid for 0 < alpha < 1


def leaky_relu_backward(dout, x, alpha=0.01):
    x = np.asarray(x, dtype=np.float64)
    return dout * (alpha + (1.0 - alpha) * np.heaviside(x, 1.0))
