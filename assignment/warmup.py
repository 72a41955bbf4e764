"""Warm-up (not graded): the lecture's two worked examples.

1. The chain rule by hand. With z = x² − x·y and the loss L = (z − t)²,
   at x = 3, y = 1, t = 5:

       z = 9 − 3 = 6,   dL/dz = 2 (z − t) = 2
       dz/dx = 2x − y = 5   so   dL/dx = dL/dz · dz/dx = 10
       dz/dy = −x = −3      so   dL/dy = −6

2. Why a non-linearity is needed. Two linear layers collapse into one,
   W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2), and no linear map computes
   XOR. One hidden ReLU layer does, with hand-picked weights

       W = [[1, 1], [1, 1]],   c = [0, −1],   w = [1, −2]
       f(x) = wᵀ relu(W x + c)

   which gives 0, 1, 1, 0 on the inputs (0,0), (0,1), (1,0), (1,1).
"""
import numpy as np

from .activations import relu

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([0.0, 1.0, 1.0, 0.0])


def chain_rule_example(x=3.0, y=1.0, t=5.0):
    """Forward and backward pass of L = (z − t)² with z = x² − x·y.

    Args:
        x, y: floats, the inputs.
        t: float, the target.

    Returns:
        (L, dL_dx, dL_dy): three floats. At the defaults: (1.0, 10.0, -6.0).
    """
    # TODO: compute z and L going forward, then dL/dz, dL/dx and dL/dy going back.
    raise NotImplementedError("TODO: warmup.chain_rule_example")


def linear_collapse(W1, b1, W2, b2):
    """The single linear layer equal to two stacked linear layers.

    Args:
        W1: np.ndarray (H, D) and b1: np.ndarray (H,), the first layer.
        W2: np.ndarray (K, H) and b2: np.ndarray (K,), the second layer.

    Returns:
        (W, b) with W of shape (K, D) and b of shape (K,) such that
        W x + b == W2 (W1 x + b1) + b2 for every x.
    """
    # TODO: multiply out W2 (W1 x + b1) + b2.
    raise NotImplementedError("TODO: warmup.linear_collapse")


def xor_relu_net(X):
    """The hand-built ReLU network f(x) = wᵀ relu(W x + c) that computes XOR.

    Args:
        X: np.ndarray of shape (N, 2).

    Returns:
        np.ndarray of shape (N,), f applied to every row.
    """
    W = np.array([[1.0, 1.0], [1.0, 1.0]])
    c = np.array([0.0, -1.0])
    w = np.array([1.0, -2.0])
    # TODO: compute f(x) = wᵀ relu(W x + c) for every row of X.
    raise NotImplementedError("TODO: warmup.xor_relu_net")
