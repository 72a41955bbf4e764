"""Part 4: a multilayer perceptron for MNIST, trained by minibatch SGD.

The lecture's classifier has layer sizes (784, 128, 256, 10): 784 pixels in,
hidden layers of 128 and 256 units with ReLU, and 10 class scores (logits)
out, with no activation on the output layer. For L layers, l = 1 … L:

    h⁰ = x
    zˡ = Wˡ hˡ⁻¹ + bˡ          Wˡ: (sizes[l], sizes[l-1])   bˡ: (sizes[l],)
    hˡ = relu(zˡ)              for l < L;   the logits are z^L

The loss is softmax cross-entropy, averaged over the batch:

    p = softmax(z^L),    L = −(1/N) Σᵢ log p[i, yᵢ]

and its gradient with respect to the logits is (p − onehot(y)) / N.
"""
import time

import numpy as np

from .activations import relu, relu_backward


def softmax(logits):
    """Row-wise softmax, stable for logits as large as ±1e3.

    Subtract each row's maximum before exponentiating: softmax is unchanged by
    adding a constant to a row, and exp then never overflows.

    Args:
        logits: np.ndarray of shape (N, C).

    Returns:
        np.ndarray of shape (N, C); every row is positive and sums to 1.
    """
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def cross_entropy(logits, y):
    """Mean softmax cross-entropy, −(1/N) Σᵢ log softmax(logits)[i, yᵢ].

    Use the log-sum-exp form, log p[i, c] = z[i, c] − max_i − log Σ_c' e^(z[i, c'] − max_i),
    so that it is finite for large logits.

    Args:
        logits: np.ndarray of shape (N, C).
        y: np.ndarray of shape (N,), integer labels in [0, C).

    Returns:
        float, the loss averaged over the N examples.
    """
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = logits.shape[0]
    return float(-np.mean(log_p[np.arange(n), y]))


def init_params(layer_sizes=(784, 128, 256, 10), seed=0):
    """Random initial parameters for a network of any depth.

    The biases start at zero, bˡ = 0. The weights are random: He
    initialisation, Wˡ ~ N(0, 2 / sizes[l-1]), suits ReLU layers.

    Args:
        layer_sizes: sequence of ints (D, H1, ..., C); L = len(layer_sizes) − 1.
        seed: int, seeds the random generator.

    Returns:
        dict with keys 'W1', 'b1', ..., 'WL', 'bL'; 'Wl' has shape
        (layer_sizes[l], layer_sizes[l-1]) and 'bl' has shape (layer_sizes[l],).
    """
    # TODO: for l = 1..L, draw Wl with np.random.default_rng(seed) and set bl to 0.
    raise NotImplementedError("TODO: mlp.init_params")


def forward(params, X):
    """Forward pass: ReLU on every hidden layer, raw logits out.

    Args:
        params: dict with 'W1', 'b1', ..., 'WL', 'bL'.
        X: np.ndarray of shape (N, D).

    Returns:
        (logits, cache): logits of shape (N, C), and cache, anything backward
        needs (for example each layer's input hˡ⁻¹ and pre-activation zˡ).
    """
    # TODO: loop over the layers: z = h @ W.T + b, then h = relu(z) except
    #       after the last layer. Remember (h_prev, z) for every layer.
    raise NotImplementedError("TODO: mlp.forward")


def backward(params, cache, y):
    """Gradients of cross_entropy(logits, y) with respect to every parameter.

    Start from dL/dz^L = (softmax(z^L) − onehot(y)) / N, then for l = L … 1:
        dL/dWˡ = (dL/dzˡ)ᵀ hˡ⁻¹      dL/dbˡ = Σ_rows dL/dzˡ
        dL/dhˡ⁻¹ = dL/dzˡ Wˡ         dL/dzˡ⁻¹ = relu'(zˡ⁻¹) · dL/dhˡ⁻¹

    It must not modify params, y or anything in cache: called twice on the
    same cache, it returns the same gradients.

    Args:
        params: dict with 'W1', 'b1', ..., 'WL', 'bL'.
        cache: what forward(params, X) returned as its cache.
        y: np.ndarray of shape (N,), integer labels.

    Returns:
        dict with the keys of params, each gradient shaped like its parameter.
    """
    # TODO: compute dL/dlogits, then walk the layers backwards.
    raise NotImplementedError("TODO: mlp.backward")


def sgd_step(params, grads, lr):
    """One step of gradient descent, p ← p − lr·dL/dp, for every parameter.

    Returns new arrays; the dicts passed in are left unchanged.

    Args:
        params: dict of parameters.
        grads: dict of gradients with the same keys and shapes.
        lr: float, the learning rate.

    Returns:
        dict with the same keys: the updated parameters.
    """
    # TODO: return a new dict with p − lr·dp for every key (no in-place update).
    raise NotImplementedError("TODO: mlp.sgd_step")


def fit(X, y, layer_sizes=(784, 128, 256, 10), epochs=5, batch_size=64, lr=0.1, seed=0, verbose=None):
    """Train by minibatch SGD, reshuffling the examples every epoch.

    Start from init_params(layer_sizes, seed). Each epoch: shuffle the rows,
    then for each minibatch of up to batch_size rows: forward, loss,
    backward, sgd_step.

    Args:
        X: np.ndarray of shape (N, D), with D == layer_sizes[0].
        y: np.ndarray of shape (N,), integer labels.
        layer_sizes: sequence of ints, as in init_params.
        epochs: int, passes over the data.
        batch_size: int, rows per minibatch (the last one may be smaller).
        lr: float, the learning rate.
        seed: int, seeds both the initialisation and the shuffling: the same
            seed gives the same result, every time.
        verbose: progress output (not graded). True prints one line per
            epoch, e.g. `epoch 3/20: loss 0.2718 (4.1 s)` (the epoch's mean
            loss, seconds since the start); False prints nothing; None prints
            an epoch's line only when a second or more has passed since the
            last line (or the start), so short runs stay quiet.

    Returns:
        (params, history): the trained params, and a list of `epochs` floats,
        the mean minibatch loss of each epoch.
    """
    # TODO: init, then for every epoch shuffle with a seeded generator and
    #       loop over minibatches; record the mean loss of each epoch.
    #       Then print the epoch's progress line as `verbose` says.
    raise NotImplementedError("TODO: mlp.fit")


def predict(params, X):
    """Predicted class of every row: the index of the largest logit.

    Args:
        params: dict with 'W1', 'b1', ..., 'WL', 'bL'.
        X: np.ndarray of shape (N, D).

    Returns:
        np.ndarray of shape (N,), integer labels.
    """
    # TODO: return the argmax of the logits along axis 1.
    raise NotImplementedError("TODO: mlp.predict")
