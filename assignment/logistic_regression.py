"""Part 2: logistic regression trained by backpropagation.

One neuron with a sigmoid, trained on binary cross-entropy (the lecture's
notation, for one example x with label y in {0, 1}):

    z = wᵀx + b
    a = σ(z)
    L = −(y log a + (1 − y) log(1 − a))

Over a batch X of shape (N, D) the loss is the mean of L over the N rows.
By the chain rule, dL/dz = a − y for each example, so for the mean loss

    dL/dw = Xᵀ (a − y) / N        dL/db = Σᵢ (aᵢ − yᵢ) / N
"""
import numpy as np

from .activations import sigmoid


def forward(X, w, b):
    """Forward pass: a = σ(X w + b), one probability per row of X.

    Args:
        X: np.ndarray of shape (N, D), one example per row.
        w: np.ndarray of shape (D,), the weights.
        b: float, the bias.

    Returns:
        a: np.ndarray of shape (N,), with a[i] = σ(wᵀ X[i] + b).
    """
    # TODO: compute z = X @ w + b and return σ(z).
    raise NotImplementedError("TODO: logistic_regression.forward")


def bce_loss(a, y):
    """Mean binary cross-entropy, −mean(y log a + (1 − y) log(1 − a)).

    It must be finite even when some a is exactly 0 or 1: clip a into
    [eps, 1 − eps] first, with a small eps (at most 1e-7; 1e-12 works well),
    so that a confident wrong prediction still costs a large loss, −log(eps).

    Args:
        a: np.ndarray of shape (N,), predicted probabilities.
        y: np.ndarray of shape (N,), labels in {0, 1}.

    Returns:
        float, the loss averaged over the N examples.
    """
    # TODO: clip a away from 0 and 1, then return the mean BCE as a float.
    raise NotImplementedError("TODO: logistic_regression.bce_loss")


def backward(X, a, y):
    """Gradient of the mean BCE with respect to w and b.

    Args:
        X: np.ndarray of shape (N, D), the inputs given to forward.
        a: np.ndarray of shape (N,), the output of forward(X, w, b).
        y: np.ndarray of shape (N,), labels in {0, 1}.

    Returns:
        (dw, db): dw is an np.ndarray of shape (D,) and db a float, the
        gradients dL/dw and dL/db of the *mean* loss over the batch.
    """
    # TODO: dz = (a - y) / N; then dw = Xᵀ dz and db = Σ dz.
    raise NotImplementedError("TODO: logistic_regression.backward")


def fit(X, y, lr=0.1, epochs=1000):
    """Train by full-batch gradient descent, starting from w = 0, b = 0.

    Each epoch: forward, record the loss, backward, then
    w ← w − lr·dL/dw and b ← b − lr·dL/db. Integer X and y (0/1 features,
    integer labels) must train exactly as their float copies do.

    Args:
        X: np.ndarray of shape (N, D).
        y: np.ndarray of shape (N,), labels in {0, 1}.
        lr: float, the learning rate.
        epochs: int, the number of gradient steps.

    Returns:
        (w, b, losses): w of shape (D,), b a float, and losses a list of
        `epochs` floats, the training loss at each epoch.
    """
    # TODO: start from zeros and run `epochs` steps of gradient descent,
    #       appending bce_loss to `losses` every epoch.
    raise NotImplementedError("TODO: logistic_regression.fit")


def predict(X, w, b):
    """Class labels: 1 where σ(X w + b) >= 0.5, else 0.

    Args:
        X: np.ndarray of shape (N, D).
        w: np.ndarray of shape (D,).
        b: float.

    Returns:
        np.ndarray of shape (N,) and integer dtype, with values in {0, 1}.
    """
    # TODO: threshold forward(X, w, b) at 0.5 and return integers.
    raise NotImplementedError("TODO: logistic_regression.predict")
