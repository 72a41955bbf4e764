"""The grader's oracle and the reference are written independently; they must agree."""
import numpy as np
import pytest

from grader.suites import oracle
from solutions import activations, logistic_regression, mlp, two_layer_net
from tooling.gradient_check import check_params, relative_error


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_activations_agree(rng):
    x = rng.normal(0, 30, size=(40,))
    for name in oracle.FORWARD:
        np.testing.assert_allclose(oracle.FORWARD[name](x), getattr(activations, name)(x), rtol=1e-12, atol=1e-300)
        ones = np.ones_like(x)
        np.testing.assert_allclose(oracle.derivative(name, x), getattr(activations, f"{name}_backward")(ones, x),
                                   rtol=1e-9, atol=1e-15)  # 1 − σ(x) cancels for x > 30


def test_losses_agree(rng):
    X, w, b = rng.normal(size=(6, 3)), rng.normal(size=3), 0.3
    y = (rng.uniform(size=6) > 0.5).astype(float)
    a = logistic_regression.forward(X, w, b)
    assert oracle.bce(a, y) == pytest.approx(logistic_regression.bce_loss(a, y), rel=1e-12)
    assert oracle.logreg_loss(X, y, w, b) == pytest.approx(oracle.bce(a, y), rel=1e-12)
    params = two_layer_net.init_params(3, 4, 2, seed=1)
    Y = rng.uniform(size=(6, 2))
    yhat, _ = two_layer_net.forward(params, X)
    np.testing.assert_allclose(oracle.two_layer_forward(params, X), yhat, rtol=1e-12)
    assert oracle.mse(yhat, Y) == pytest.approx(two_layer_net.mse_loss(yhat, Y), rel=1e-12)
    logits = rng.normal(0, 5, size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    np.testing.assert_allclose(oracle.softmax(logits), mlp.softmax(logits), rtol=1e-12)
    assert oracle.cross_entropy(logits, labels) == pytest.approx(mlp.cross_entropy(logits, labels), rel=1e-12)


@pytest.mark.parametrize("sizes", [(4, 3), (5, 4, 6, 3), (3, 4, 5, 4, 2)])
def test_mlp_grads_match_finite_differences(rng, sizes):
    params = {k: v + 0.1 for k, v in mlp.init_params(sizes, seed=2).items()}
    X, y = rng.normal(size=(5, sizes[0])), rng.integers(0, sizes[-1], size=5)
    grads = oracle.mlp_grads(params, X, y)
    errors = check_params(lambda p: oracle.mlp_loss(p, X, y), params, grads)
    assert max(errors.values()) < 1e-7, errors
    _, cache = mlp.forward(params, X)
    reference = mlp.backward(params, cache, y)
    assert max(relative_error(grads[k], reference[k]) for k in grads) < 1e-12
