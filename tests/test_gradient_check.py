"""The gradient-check helper students run on their own code (tooling/gradient_check.py,
shipped as assignment/gradient_check.py) and the suites use."""
import numpy as np
import pytest

from tooling.gradient_check import directional_derivative, numerical_gradient, relative_error


def square_sum(v):
    return float(np.sum(v ** 2))


@pytest.mark.parametrize("view", ["contiguous", "transposed", "strided", "0-d"])
def test_numerical_gradient_of_any_layout_matches_the_analytic_one(view):
    base = np.arange(1.0, 13.0).reshape(3, 4)
    x = {"contiguous": base, "transposed": base.T, "strided": base[:, ::2], "0-d": np.array(1.5)}[view]
    before = np.array(x, copy=True)
    num = numerical_gradient(square_sum, x)
    assert num.shape == x.shape
    assert relative_error(2 * before, num) < 1e-8
    assert np.array_equal(x, before), "x must be restored"


def test_directional_derivative_is_the_dot_product_with_the_gradient():
    rng = np.random.default_rng(0)
    x, d = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert abs(directional_derivative(square_sum, x, d) - float(np.sum(2 * x * d))) < 1e-6
