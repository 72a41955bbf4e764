# Generated from tooling/gradient_check.py by `python -m grader assign`: edit tooling/gradient_check.py, not this copy.
"""Finite-difference gradient checking: test your backward pass yourself.

Backpropagation is easy to get subtly wrong, and a wrong gradient often still
"trains" a little. Compare your analytic gradient with a numerical one:

    dL/dθ_j ≈ (L(θ + h e_j) − L(θ − h e_j)) / (2h)       (central difference)

and measure the relative error ‖a − n‖ / (‖a‖ + ‖n‖). In float64 with
h = 1e-6 a correct gradient gives about 1e-8 or less; a bug gives 1e-2 or more.

Example, for your sigmoid_backward::

    from assignment.activations import sigmoid, sigmoid_backward
    from assignment.gradient_check import numerical_gradient, relative_error

    x = np.random.randn(3, 4); dout = np.random.randn(3, 4)
    num = numerical_gradient(lambda x: np.sum(sigmoid(x) * dout), x)
    print(relative_error(sigmoid_backward(dout, x), num))

and for a network, check every parameter tensor in turn::

    errors = check_params(loss_fn, params, grads)   # {'W1': 3e-10, ...}

The hidden grader uses this same module.
"""
import numpy as np


def numerical_gradient(f, x, h=1e-6):
    """Central-difference gradient of a scalar function f at x.

    Args:
        f: callable taking an array shaped like x and returning a float.
        x: np.ndarray (float64) of any shape. It is restored after use.
        h: float, the step.

    Returns:
        np.ndarray shaped like x, the numerical df/dx.
    """
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros(x.shape)
    # Index x itself (not a flattened view): a transposed or sliced x has no flat view, and
    # perturbing a copy would leave f(x) unchanged and the gradient zero.
    for j in np.ndindex(x.shape):
        old = x[j]
        x[j] = old + h
        f_plus = float(f(x))
        x[j] = old - h
        f_minus = float(f(x))
        x[j] = old
        grad[j] = (f_plus - f_minus) / (2.0 * h)
    return grad


def directional_derivative(f, x, direction, h=1e-6):
    """Central-difference derivative of f at x along `direction`.

    For a large tensor, checking a few random directions d is much cheaper
    than every entry: the analytic value is the dot product <dL/dx, d>.

    Args:
        f: callable taking an array shaped like x and returning a float.
        x: np.ndarray (float64).
        direction: np.ndarray shaped like x.
        h: float, the step.

    Returns:
        float, (f(x + h d) − f(x − h d)) / (2h).
    """
    x = np.asarray(x, dtype=np.float64)
    return (float(f(x + h * direction)) - float(f(x - h * direction))) / (2.0 * h)


def relative_error(analytic, numeric):
    """Norm-based relative error ‖a − n‖ / max(‖a‖ + ‖n‖, tiny).

    Args:
        analytic: np.ndarray or float, your gradient.
        numeric: np.ndarray or float, the finite-difference gradient.

    Returns:
        float in [0, 1]; 0 when both are zero.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    if denom < 1e-300:
        return 0.0
    return float(np.linalg.norm(a - n) / denom)


def param_gradient(loss_fn, params, name, h=1e-6):
    """Central-difference gradient of loss_fn(params) with respect to params[name].

    Args:
        loss_fn: callable taking a params dict and returning the float loss.
        params: dict name -> np.ndarray (float64); left unchanged.
        name: the parameter to differentiate.
        h: float, the step.

    Returns:
        np.ndarray shaped like params[name].
    """
    trial = {k: np.array(v, dtype=np.float64) for k, v in params.items()}

    def f(value):
        trial[name] = value
        return loss_fn(trial)

    return numerical_gradient(f, np.array(params[name], dtype=np.float64), h)


def check_params(loss_fn, params, grads, h=1e-6):
    """Relative error of every gradient in `grads` against finite differences.

    Args:
        loss_fn: callable taking a params dict and returning the float loss.
        params: dict name -> np.ndarray (float64); each is perturbed in turn
            and restored.
        grads: dict with the same keys, your analytic gradients.
        h: float, the step.

    Returns:
        dict name -> float, the relative error for that parameter.
    """
    return {name: relative_error(grads[name], param_gradient(loss_fn, params, name, h)) for name in params}
