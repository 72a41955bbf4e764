"""Hidden suite, part 1: activations and their backward passes (20 points).

Gradient checks differentiate the grader's own forward (grader.oracle), never
the student's, so a backward is judged on its own. Limits: a correct backward
measures a relative error of about 1e-10 here (h = 1e-6, float64); the limit
is 1e-6, and the bugs in tests/catalog score above 1e-2.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader import hints, oracle, strategies
from grader.mutation import Calls
from solutions import checks
from solutions.gradient_check import numerical_gradient

GRAD_LIMIT = 1e-6
RAISE = {"over": "raise", "invalid": "raise", "divide": "raise"}
FUNCTIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def away_from_zero(rng, shape, margin=1e-2):
    """Inputs with |x| >= margin, so the ReLU kink is never inside a difference step."""
    x = rng.normal(0.0, 2.0, size=shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-300) * margin + x, x)


def check_backward(student, name, x, dout, alpha=None):
    kwargs = {} if alpha is None else {"alpha": alpha}
    fwd = oracle.FORWARD[name]
    numeric = numerical_gradient(lambda v: np.sum(dout * fwd(v, **kwargs)), x.copy())
    got = student.call(f"{name}_backward", dout, x, **kwargs)
    call = f"{name}_backward(dout, x{', alpha=' + str(alpha) if alpha is not None else ''})"
    try:
        checks.gradient("x", got, numeric, call, limit=GRAD_LIMIT, inputs={"x": x, "dout": dout})
    except checks.Failure as failure:
        raise checks.Failure(str(failure) + _diagnosis(student, name, call, got, x, dout, alpha, kwargs)) from None


def _diagnosis(student, name, call, got, x, dout, alpha, kwargs):
    """A known mistake that matches (grader.hints), and the same bug on a 3-number example."""
    text = checks.likely_cause(got, hints.backward_mistakes(name, dout, x, alpha)) \
        if isinstance(got, np.ndarray) and got.shape == x.shape else ""
    tiny_x, tiny_dout, expected = hints.backward_example(name, alpha)
    try:
        tiny = student.call(f"{name}_backward", tiny_dout, tiny_x, **kwargs)
    except Exception:  # noqa: BLE001 -- the main message already says what went wrong
        return text
    if isinstance(tiny, np.ndarray) and tiny.shape == tiny_x.shape and not np.allclose(tiny, expected):
        text += checks.for_example(call, {"x": tiny_x, "dout": tiny_dout}, expected, tiny)
    return text


# -- sigmoid -------------------------------------------------------------
@pytest.mark.public
@pytest.mark.points(1)
def test_sigmoid_values(act, rng):
    """sigmoid matches σ(x) = 1 / (1 + e^(-x))"""
    x = np.array([-4.0, -1.0, 0.0, 0.5, 3.0])
    checks.close(act.sigmoid(x), oracle.sigmoid(x), "sigmoid(x)", {"x": x}, rtol=1e-9)
    x = rng.normal(0.0, 5.0, size=(3, 4))
    checks.close(act.sigmoid(x), oracle.sigmoid(x), "sigmoid(x)", {"x": x}, rtol=1e-9)


@pytest.mark.covered_by("sigmoid is stable at ±1e4 (no overflow)")
@pytest.mark.points(1.5)
def test_sigmoid_stable_at_extremes(act):
    """sigmoid is stable at ±1e4 (no overflow; floating-point errors raised)"""
    x = np.array([-1e4, -1000.0, -710.0, -50.0, 0.0, 50.0, 710.0, 1000.0, 1e4])
    got = act.call("sigmoid", x, _errstate=RAISE)
    checks.close(got, oracle.sigmoid(x), "sigmoid(x)", {"x": x}, rtol=1e-9, atol=1e-15)


@pytest.mark.covered_by("sigmoid matches its definition", "sigmoid is stable at ±1e4 (no overflow)")
@pytest.mark.points(0.5)
@given(x=strategies.arrays(elements=strategies.WIDE_FLOATS))
def test_sigmoid_range(act, x):
    """sigmoid range: 0 ≤ σ(x) ≤ 1 for x up to ±1e4"""
    got = checks.array(act.sigmoid(x), "sigmoid(x)", shape=x.shape, inputs={"x": x})
    checks.that(np.all((got >= 0) & (got <= 1)),
                f"sigmoid(x) {checks.describe_inputs(x=x)}: got {checks.fmt(got)}, outside [0, 1]")


@pytest.mark.covered_by("sigmoid matches its definition")
@pytest.mark.points(1)
@given(x=strategies.arrays())
def test_sigmoid_symmetry(act, x):
    """sigmoid symmetry: σ(−x) = 1 − σ(x)"""
    pos = checks.array(act.sigmoid(x), "sigmoid(x)", shape=x.shape, inputs={"x": x})
    neg = checks.array(act.sigmoid(-x), "sigmoid(-x)", shape=x.shape, inputs={"x": x})
    checks.close(neg, 1.0 - pos, "sigmoid(-x), compared with 1 - sigmoid(x),", {"x": x}, rtol=0, atol=1e-12)


@pytest.mark.public
@pytest.mark.points(1.5)
def test_sigmoid_backward_gradient(act, rng):
    """sigmoid_backward matches finite differences"""
    x = rng.normal(0.0, 2.0, size=(3, 4))
    check_backward(act, "sigmoid", x, rng.normal(size=x.shape))


@pytest.mark.covered_by("sigmoid_backward is finite and exact at ±1e4")
@pytest.mark.points(1)
@given(x=strategies.arrays(elements=strategies.WIDE_FLOATS))
def test_sigmoid_derivative_bound(act, x):
    """sigmoid derivative bound: 0 ≤ σ'(x) ≤ 1/4"""
    got = checks.array(act.sigmoid_backward(np.ones_like(x), x), "sigmoid_backward(ones, x)",
                       shape=x.shape, inputs={"x": x})
    checks.that(np.all((got >= 0) & (got <= 0.25 + 1e-15)),
                f"sigmoid_backward(ones, x) {checks.describe_inputs(x=x)}: got {checks.fmt(got)}; "
                f"σ'(x) = σ(x)(1 − σ(x)) is never negative and never above 1/4")


# -- tanh ----------------------------------------------------------------
@pytest.mark.covered_by("tanh matches its definition")
@pytest.mark.points(1)
def test_tanh_values(act, rng):
    """tanh matches tanh(x)"""
    x = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    checks.close(act.tanh(x), np.tanh(x), "tanh(x)", {"x": x}, rtol=1e-9)
    x = rng.normal(0.0, 3.0, size=(2, 3, 2))
    checks.close(act.tanh(x), np.tanh(x), "tanh(x)", {"x": x}, rtol=1e-9)


@pytest.mark.covered_by("tanh is stable at ±1e4 (no overflow)")
@pytest.mark.points(1)
@given(x=strategies.arrays(elements=strategies.WIDE_FLOATS))
def test_tanh_range(act, x):
    """tanh range: −1 ≤ tanh(x) ≤ 1 for x up to ±1e4 (no overflow; floating-point errors raised)"""
    # Values and dtype are the other tests' (a float32 tanh is charged there, not here too).
    got = checks.array(act.call("tanh", x, _errstate=RAISE), "tanh(x)", shape=x.shape, inputs={"x": x})
    checks.finite(got, "tanh(x)", {"x": x})
    checks.that(np.all((got >= -1) & (got <= 1)),
                f"tanh(x) {checks.describe_inputs(x=x)}: got {checks.fmt(got)}, outside [-1, 1]")


@pytest.mark.covered_by("tanh_backward matches finite differences")
@pytest.mark.points(1.5)
def test_tanh_backward_gradient(act, rng):
    """tanh_backward matches finite differences"""
    x = rng.normal(0.0, 1.5, size=(4, 3))
    check_backward(act, "tanh", x, rng.normal(size=x.shape))


# -- relu ----------------------------------------------------------------
@pytest.mark.public
@pytest.mark.points(1)
def test_relu_values(act, rng):
    """relu matches max(0, x)"""
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    checks.close(act.relu(x), oracle.relu(x), "relu(x)", {"x": x}, rtol=0, atol=0)
    x = rng.normal(size=(3, 5))
    checks.close(act.relu(x), oracle.relu(x), "relu(x)", {"x": x}, rtol=0, atol=0)


@pytest.mark.public
@pytest.mark.points(1.5)
def test_relu_backward_gradient(act, rng):
    """relu_backward matches finite differences (inputs away from 0)"""
    x = away_from_zero(rng, (4, 5))
    check_backward(act, "relu", x, rng.normal(size=x.shape))


@pytest.mark.visible
@pytest.mark.points(1)
def test_relu_backward_at_zero(act):
    """relu_backward at x = 0 gives either subgradient (0 or dout)"""
    x = np.array([-1.0, 0.0, 2.0, 0.0])
    dout = np.array([3.0, 5.0, 7.0, -2.0])
    got = checks.array(act.relu_backward(dout, x), "relu_backward(dout, x)", shape=x.shape,
                       inputs={"x": x, "dout": dout})
    expected_away = np.array([0.0, np.nan, 7.0, np.nan])
    ok = [got[0] == 0.0, got[1] in (0.0, 5.0), got[2] == 7.0, got[3] in (0.0, -2.0)]
    checks.that(all(ok), f"relu_backward(dout, x) {checks.describe_inputs(x=x, dout=dout)}: got "
                         f"{checks.fmt(got)}; expected {checks.fmt(expected_away)} where nan means "
                         f"0 or dout (either subgradient at x = 0 is accepted)")


# -- leaky relu ----------------------------------------------------------
@pytest.mark.covered_by("leaky_relu matches its definition")
@pytest.mark.points(1)
def test_leaky_relu_values(act, rng):
    """leaky_relu matches max(αx, x) with the default α = 0.01"""
    x = np.array([-3.0, -0.5, 0.0, 0.5, 2.0])
    checks.close(act.leaky_relu(x), oracle.leaky_relu(x), "leaky_relu(x)", {"x": x}, rtol=1e-12)
    x = rng.normal(size=(2, 4))
    checks.close(act.leaky_relu(x), oracle.leaky_relu(x), "leaky_relu(x)", {"x": x}, rtol=1e-12)


@pytest.mark.covered_by("leaky_relu uses its alpha argument")
@pytest.mark.points(1)
def test_leaky_relu_alpha(act):
    """leaky_relu uses its alpha argument"""
    x = np.array([-3.0, -0.5, 0.5, 2.0])
    got = act.leaky_relu(x, alpha=0.2)
    checks.close(got, oracle.leaky_relu(x, 0.2), "leaky_relu(x, alpha=0.2)", {"x": x}, rtol=1e-12)


@pytest.mark.points(0.75)
@pytest.mark.parametrize("alpha", [
    pytest.param("default", marks=pytest.mark.covered_by("leaky_relu_backward matches finite differences")),
    pytest.param(0.2, marks=pytest.mark.visible)])
def test_leaky_relu_backward_gradient(act, rng, alpha):
    """leaky_relu_backward matches finite differences (alpha={alpha})"""
    x = away_from_zero(rng, (3, 4))
    check_backward(act, "leaky_relu", x, rng.normal(size=x.shape),
                   alpha=None if alpha == "default" else alpha)


@pytest.mark.visible
@pytest.mark.points(1)
def test_leaky_relu_backward_at_zero(act):
    """leaky_relu_backward at x = 0 gives either subgradient (α·dout or dout)"""
    x = np.array([-1.0, 0.0, 2.0])
    dout = np.array([3.0, 5.0, 7.0])
    got = checks.array(act.leaky_relu_backward(dout, x, alpha=0.1), "leaky_relu_backward(dout, x, alpha=0.1)",
                       shape=x.shape, inputs={"x": x, "dout": dout})
    ok = np.isclose(got[0], 0.3) and (np.isclose(got[1], 0.5) or np.isclose(got[1], 5.0)) \
        and np.isclose(got[2], 7.0)
    checks.that(ok, f"leaky_relu_backward(dout, x, alpha=0.1) {checks.describe_inputs(x=x, dout=dout)}: "
                    f"got {checks.fmt(got)}; expected [0.3, 0.5 or 5, 7]")


# -- contract properties ---------------------------------------------------
@pytest.mark.covered_by("no function modifies its inputs")
@pytest.mark.points(1)
@given(pair=strategies.array_and_grad())
def test_no_input_mutation(act, pair):
    """no function modifies its inputs"""
    x, dout = pair
    calls = Calls()
    for name in FUNCTIONS:
        args = calls.after(act, name, x.copy())
        if args is not None:
            checks.unchanged(f"{name}(x) {checks.describe_inputs(x=x)}", ("x",), (x,), args)
        args = calls.after(act, f"{name}_backward", dout.copy(), x.copy())
        if args is not None:
            checks.unchanged(f"{name}_backward(dout, x) {checks.describe_inputs(x=x, dout=dout)}", ("dout", "x"),
                             (dout, x), args)
    calls.finish()


@pytest.mark.visible
@pytest.mark.points(1)
@given(x=strategies.arrays(shape=strategies.shapes(min_dims=1, max_dims=4)),
       which=st.sampled_from(FUNCTIONS))
def test_shape_and_dtype_preserved(act, x, which):
    """every function keeps the shape of x and returns float64 (any shape)"""
    for call, got in ((f"{which}(x)", act.call(which, x)),
                      (f"{which}_backward(dout, x)", act.call(f"{which}_backward", np.ones_like(x), x))):
        checks.array(got, call, shape=x.shape, inputs={"x": x})
        checks.float64(got, call, inputs={"x": x})
