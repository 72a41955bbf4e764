"""The classic mistakes the grader recognises, as what they compute on a given input.

The texts of the likely causes live in tooling/feedback.py (HINTS), shared
with the public checks. What each mistake *computes* lives here, because it
needs the grader's own forward passes (oracle.py): a hidden test evaluates it
on its own inputs when it grades, a public check on the public inputs when
`python -m grader assign` records it, which ships the resulting numbers
(never this code). Both hand them to the same probe (probes.call_gradient), so
`make check` and the grader name the same cause for the same mistake.
"""
import numpy as np

from . import oracle

# The small input of the "For example, ..." line of an activation's backward failure.
TINY_X = np.array([-1.0, 0.5, 2.0])
TINY_DOUT = np.array([2.0, -1.0, 3.0])
# The public checks use another one (they use other inputs than the grader).
PUBLIC_TINY_X = np.array([-2.0, 0.25, 1.5])
PUBLIC_TINY_DOUT = np.array([1.0, 3.0, -2.0])


def backward_mistakes(name, dout, x, alpha=None):
    """[(hint id, values for the hint's text, what the mistake returns)] for `name`_backward(dout, x)."""
    s = oracle.sigmoid
    a = 0.01 if alpha is None else alpha
    with np.errstate(all="ignore"):
        table = [(oracle.derivative(name, x, a), "drops_dout", {})]
        if name == "sigmoid":
            table += [(dout * x * (1 - x), "sigmoid_from_x", {}), (dout * s(x), "sigmoid_only", {})]
        elif name == "tanh":
            table += [(dout * (1 - x * x), "tanh_squares_x", {}), (dout * (1 - np.tanh(x)), "tanh_not_squared", {})]
        elif name == "relu":
            table += [(dout * (x < 0), "relu_mask_reversed", {}), (dout * (dout > 0), "relu_mask_on_dout", {}),
                      (dout * (x > 0) * x, "relu_times_x", {})]
        elif name == "leaky_relu":
            table += [(dout * np.where(x > 0, a, 1.0), "leaky_slopes_swapped", {}),
                      (np.where(x > 0, dout, a), "leaky_returns_alpha", {})]
            if alpha is not None:
                table.append((dout * np.where(x > 0, 1.0, 0.01), "leaky_ignores_alpha", {"alpha": f"{alpha:g}"}))
    return [(hint, values, np.asarray(w, dtype=np.float64)) for w, hint, values in table]


def two_layer_backward_mistakes(params, X, y):
    """[(hint id, values, {key: what the mistake returns})] for the two-layer net's backward(params, cache, y)
    on the batch (X, y): σ' evaluated at the activation (σ'(h) for σ'(z1), σ'(ŷ) for σ'(z2), or both)."""
    s = oracle.sigmoid
    z1 = X @ params["W1"].T + params["b1"]
    h = s(z1)
    z2 = h @ params["W2"].T + params["b2"]
    yhat = s(z2)
    dyhat = 2.0 * (yhat - y) / X.shape[0]
    out = []
    for hidden, output in ((True, False), (False, True), (True, True)):
        s2 = s(yhat if output else z2)
        dz2 = dyhat * s2 * (1.0 - s2)
        s1 = s(h if hidden else z1)
        dz1 = (dz2 @ params["W2"]) * s1 * (1.0 - s1)
        out.append(("sigma_prime_at_activation", {},
                    {"W1": dz1.T @ X, "b1": dz1.sum(axis=0), "W2": dz2.T @ h, "b2": dz2.sum(axis=0)}))
    return out


def backward_example(name, alpha=None, public=False):
    """{"x", "dout", "expected"}: the small example shown with a wrong backward."""
    x, dout = (PUBLIC_TINY_X, PUBLIC_TINY_DOUT) if public else (TINY_X, TINY_DOUT)
    return {"x": x, "dout": dout, "expected": dout * oracle.derivative(name, x, 0.01 if alpha is None else alpha)}


def softmax_mistakes(logits):
    """[(hint id, values, what the mistake returns)] for softmax(logits): normalised over the columns
    (axis 0), after shifting by each row's maximum or by each column's (the latter is also the unshifted one)."""
    z = np.asarray(logits, dtype=np.float64)
    out = []
    for shift in (np.max(z, axis=1, keepdims=True), np.max(z, axis=0, keepdims=True)):
        e = np.exp(z - shift)
        out.append(("softmax_axis0", {}, e / e.sum(axis=0, keepdims=True)))
    return out
