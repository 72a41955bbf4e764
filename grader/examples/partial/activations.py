"""Part 1: activation functions and backprop through them.

A neuron computes f = σ(W x + b). The non-linearity σ is what lets a stack of
layers represent more than a single linear map. This module implements four
choices of σ and, for each, the backward pass of the chain rule:

    forward:   out = σ(x)                     (elementwise)
    backward:  dL/dx = dL/dout * σ'(x)        (elementwise)

Every ``*_backward(dout, x)`` receives the upstream gradient ``dout = dL/dout``
and the *forward input* ``x``, and returns ``dL/dx`` with the shape of ``x``.

All functions work on arrays of any shape, do not modify their inputs, and
return float64 when given float64.
"""
import numpy as np


def sigmoid(x):
    """Logistic sigmoid σ(x) = 1 / (1 + e^(-x)), computed without overflow.

    A direct ``1 / (1 + np.exp(-x))`` overflows for x < -709 and numpy warns.
    It must stay silent (no overflow warning) for |x| up to 1e4.

    Args:
        x: np.ndarray of any shape.

    Returns:
        np.ndarray with the shape of x, values in [0, 1].
    """
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def sigmoid_backward(dout, x):
    """Backward pass of the sigmoid: dL/dx = dout * σ(x) (1 − σ(x)).

    Args:
        dout: np.ndarray, upstream gradient dL/dσ, same shape as x.
        x: np.ndarray, the input that was given to sigmoid(x).

    Returns:
        np.ndarray dL/dx with the shape of x.
    """
    s = sigmoid(x)
    return dout * s * (1.0 - s)


def tanh(x):
    """Hyperbolic tangent, tanh(x) = (e^x − e^(-x)) / (e^x + e^(-x)).

    Like sigmoid, it must stay silent (no overflow warning) for |x| up to 1e4.

    Args:
        x: np.ndarray of any shape.

    Returns:
        np.ndarray with the shape of x, values in [-1, 1].
    """
    return np.tanh(x)


def tanh_backward(dout, x):
    """Backward pass of tanh: dL/dx = dout * (1 − tanh²(x)).

    Args:
        dout: np.ndarray, upstream gradient, same shape as x.
        x: np.ndarray, the input that was given to tanh(x).

    Returns:
        np.ndarray dL/dx with the shape of x.
    """
    t = np.tanh(x)
    return dout * (1.0 - x * x)


def relu(x):
    """Rectified linear unit, relu(x) = max(0, x).

    Args:
        x: np.ndarray of any shape.

    Returns:
        np.ndarray with the shape of x.
    """
    return np.maximum(x, 0.0)


def relu_backward(dout, x):
    """Backward pass of ReLU: dL/dx = dout where x > 0, and 0 where x < 0.

    At exactly x = 0 the derivative is undefined; either subgradient (0 or 1)
    is accepted.

    Args:
        dout: np.ndarray, upstream gradient, same shape as x.
        x: np.ndarray, the input that was given to relu(x).

    Returns:
        np.ndarray dL/dx with the shape of x.
    """
    return np.where(x > 0, dout, 0.0)


def leaky_relu(x, alpha=0.01):
    """Leaky ReLU, max(αx, x) for 0 < α < 1: x where x > 0, αx elsewhere.

    Args:
        x: np.ndarray of any shape.
        alpha: float, the slope for negative inputs.

    Returns:
        np.ndarray with the shape of x.
    """
    return np.where(x > 0, x, alpha * x)


def leaky_relu_backward(dout, x, alpha=0.01):
    """Backward pass of leaky ReLU: dL/dx = dout where x > 0, α·dout where x < 0.

    At exactly x = 0 either subgradient (α or 1) is accepted.

    Args:
        dout: np.ndarray, upstream gradient, same shape as x.
        x: np.ndarray, the input that was given to leaky_relu(x).
        alpha: float, the slope for negative inputs.

    Returns:
        np.ndarray dL/dx with the shape of x.
    """
    return dout * np.where(x > 0, 1.0, alpha)
