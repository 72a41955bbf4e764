"""Part 3: a two-layer sigmoid network trained on mean squared error.

The lecture's network, with sigmoid σ on both layers:

    h = σ(W1 x + b1)          W1: (H, D)   b1: (H,)
    ŷ = σ(W2 h + b2)          W2: (K, H)   b2: (K,)

and, for a batch of N rows, the mean squared error summed over the K outputs
and averaged over the batch:

    L = (1/N) Σᵢ ‖yᵢ − ŷᵢ‖²

In row-major batch form a layer is ``X @ W.T + b``. Backpropagation applies
the chain rule layer by layer, from dL/dŷ back to dL/dW1.
"""
import numpy as np

from .activations import sigmoid, sigmoid_backward


def init_params(n_in, n_hidden, n_out, seed=0):
    """Random initial parameters, deterministic for a given seed.

    Weights must be random (not all equal), or every hidden unit learns the
    same thing, and not tiny: with a net this small, weights of order 1 (for
    example N(0, 1) or U(−1, 1)) let fit learn XOR with its defaults, while
    0.01·N(0, 1) leaves every output stuck near 0.5. Biases may start at zero.

    Args:
        n_in: int, D, the number of inputs.
        n_hidden: int, H, the number of hidden units.
        n_out: int, K, the number of outputs.
        seed: int, seeds the random generator.

    Returns:
        dict with keys 'W1' (H, D), 'b1' (H,), 'W2' (K, H), 'b2' (K,).
    """
    # TODO: draw W1 and W2 from np.random.default_rng(seed); start b1, b2 at 0.
    raise NotImplementedError("TODO: two_layer_net.init_params")


def forward(params, X):
    """Forward pass ŷ = σ(W2 σ(W1 x + b1) + b2) for every row of X.

    Args:
        params: dict with 'W1', 'b1', 'W2', 'b2' (shapes as in init_params).
        X: np.ndarray of shape (N, D).

    Returns:
        (yhat, cache): yhat of shape (N, K), and cache, anything backward
        needs (for example the inputs and pre-activations of each layer).
    """
    # TODO: z1 = X @ W1.T + b1, h = σ(z1), z2 = h @ W2.T + b2, ŷ = σ(z2).
    raise NotImplementedError("TODO: two_layer_net.forward")


def mse_loss(yhat, y):
    """Mean squared error L = (1/N) Σᵢ ‖yᵢ − ŷᵢ‖².

    Squared errors are summed over the K outputs and averaged over the N rows.

    Args:
        yhat: np.ndarray of shape (N, K), predictions.
        y: np.ndarray of shape (N, K), targets.

    Returns:
        float, the loss.
    """
    # TODO: sum the squared errors over axis 1, then average over the batch.
    raise NotImplementedError("TODO: two_layer_net.mse_loss")


def backward(params, cache, y):
    """Gradients of mse_loss with respect to every parameter.

    Chain rule, from the output back:
        dL/dŷ  = 2 (ŷ − y) / N
        dL/dz2 = dL/dŷ · σ'(z2)         dL/dW2 = (dL/dz2)ᵀ h    dL/db2 = Σ_rows dL/dz2
        dL/dh  = dL/dz2 W2
        dL/dz1 = dL/dh · σ'(z1)         dL/dW1 = (dL/dz1)ᵀ X    dL/db1 = Σ_rows dL/dz1

    It must not modify params, y or anything in cache: called twice on the
    same cache, it returns the same gradients.

    Args:
        params: dict with 'W1', 'b1', 'W2', 'b2'.
        cache: what forward(params, X) returned as its cache.
        y: np.ndarray of shape (N, K), targets.

    Returns:
        dict with keys 'W1', 'b1', 'W2', 'b2', each gradient shaped like
        the parameter it belongs to.
    """
    # TODO: apply the chain rule above, from dL/dŷ back to dL/dW1.
    raise NotImplementedError("TODO: two_layer_net.backward")


def fit(X, y, n_hidden=4, lr=2.0, epochs=5000, seed=0):
    """Train by full-batch gradient descent from init_params(D, n_hidden, K, seed).

    Each epoch: forward, record the loss, backward, then p ← p − lr·dL/dp for
    every parameter p.

    Args:
        X: np.ndarray of shape (N, D).
        y: np.ndarray of shape (N, K), targets in [0, 1].
        n_hidden: int, H.
        lr: float, the learning rate.
        epochs: int, the number of gradient steps.
        seed: int, passed to init_params.

    Returns:
        (params, losses): the trained params dict, and a list of `epochs`
        floats, the training loss at each epoch.
    """
    # TODO: initialise with init_params, then run `epochs` gradient steps.
    raise NotImplementedError("TODO: two_layer_net.fit")


def predict(params, X):
    """The network's output ŷ for every row of X.

    Args:
        params: dict with 'W1', 'b1', 'W2', 'b2'.
        X: np.ndarray of shape (N, D).

    Returns:
        np.ndarray of shape (N, K), values in (0, 1).
    """
    # TODO: run the forward pass and return ŷ.
    raise NotImplementedError("TODO: two_layer_net.predict")
