"""Part 1, activations and their backward passes: the hidden tests and the public checks.

Gradient checks differentiate the grader's own forward (oracle.py), never the
student's, so a backward is judged on its own. Limits: a correct backward
measures a relative error of about 1e-10 here (h = 1e-6, float64); the limit
is 1e-6, and the bugs of the catalog (catalog/bugs.py) score above 1e-2. The
public checks (public_*, grader/suites/public.py) use other inputs, and the
same probes where they check the same thing.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.suites import mistakes, oracle, strategies
from grader.suites.calls import Calls
from grader.suites.public import covered_by, rng_for
from tooling import feedback, probes
from tooling.gradient_check import numerical_gradient

GRAD_LIMIT = 1e-6
RAISE = {"over": "raise", "invalid": "raise", "divide": "raise"}
FUNCTIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def away_from_zero(rng, shape, margin=1e-2):
    """Inputs with |x| >= margin, so the ReLU kink is never inside a difference step."""
    x = rng.normal(0.0, 2.0, size=shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-300) * margin + x, x)


def check_backward(student, name, x, dout, alpha=None, public=False):
    """`name`_backward(dout, x) against finite differences of the oracle's forward, with the likely causes
    (mistakes.py) and a 3-number example when it is wrong: the probe of the public check, on these inputs."""
    kwargs = {} if alpha is None else {"alpha": alpha}
    numeric = numerical_gradient(lambda v: np.sum(dout * oracle.FORWARD[name](v, **kwargs)), x.copy())
    probes.call_gradient(student, fn=f"{name}_backward", args=(dout, x), kwargs=kwargs, expected=numeric,
                         argnames=("dout", "x"), param="x", limit=GRAD_LIMIT,
                         mistakes=mistakes.backward_mistakes(name, dout, x, alpha),
                         example=mistakes.backward_example(name, alpha, public=public))


def values_check(student, name):
    """The public check of `name`'s values (its docstring is the caller's)."""
    r = rng_for("activations values")
    x = np.concatenate([np.array([-3.0, -0.5, 0.0, 0.5, 3.0]), r.normal(0, 4, size=5)]).reshape(2, 5)
    probes.call_close(student, fn=name, args=(x,), expected=oracle.FORWARD[name](x), argnames=("x",), rtol=1e-9)


def backward_check(student, name):
    """The public check of `name`_backward against finite differences."""
    r = rng_for(f"{name}_backward")
    x = r.normal(0, 2, size=(2, 3))
    check_backward(student, name, np.where(np.abs(x) < 1e-2, 0.5, x), r.normal(size=x.shape), public=True)


BIG = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])


# -- sigmoid -------------------------------------------------------------
def public_sigmoid_values(act):
    """sigmoid matches its definition"""
    values_check(act, "sigmoid")


def public_sigmoid_stable(act):
    """sigmoid is stable at ±1e4 (no overflow)"""
    probes.call_close(act, fn="sigmoid", args=(BIG,), expected=oracle.sigmoid(BIG), argnames=("x",), rtol=1e-9,
                      atol=1e-15, errstate=RAISE)


def public_sigmoid_backward_extremes(act):
    """sigmoid_backward is finite and exact at ±1e4"""
    dout = np.array([1.0, -2.0, 3.0, 0.5, -1.0])
    probes.call_close(act, fn="sigmoid_backward", args=(dout, BIG), expected=dout * oracle.derivative("sigmoid", BIG),
                      argnames=("dout", "x"), rtol=1e-9, atol=1e-300)


def public_sigmoid_backward(act):
    """sigmoid_backward matches finite differences"""
    backward_check(act, "sigmoid")


@pytest.mark.public
@pytest.mark.points(1)
def test_sigmoid_values(act, rng):
    """sigmoid matches σ(x) = 1 / (1 + e^(-x))"""
    x = np.array([-4.0, -1.0, 0.0, 0.5, 3.0])
    feedback.close(act.sigmoid(x), oracle.sigmoid(x), "sigmoid(x)", {"x": x}, rtol=1e-9)
    x = rng.normal(0.0, 5.0, size=(3, 4))
    feedback.close(act.sigmoid(x), oracle.sigmoid(x), "sigmoid(x)", {"x": x}, rtol=1e-9)


@covered_by(public_sigmoid_stable)
@pytest.mark.points(1.5)
def test_sigmoid_stable_at_extremes(act):
    """sigmoid is stable at ±1e4 (no overflow; floating-point errors raised)"""
    x = np.array([-1e4, -1000.0, -710.0, -50.0, 0.0, 50.0, 710.0, 1000.0, 1e4])
    probes.call_close(act, fn="sigmoid", args=(x,), expected=oracle.sigmoid(x), argnames=("x",), rtol=1e-9,
                      atol=1e-15, errstate=RAISE)


@covered_by(public_sigmoid_values, public_sigmoid_stable)
@pytest.mark.points(0.5)
@given(x=strategies.arrays(elements=strategies.WIDE_FLOATS))
def test_sigmoid_range(act, x):
    """sigmoid range: 0 ≤ σ(x) ≤ 1 for x up to ±1e4"""
    got = feedback.array(act.sigmoid(x), "sigmoid(x)", shape=x.shape, inputs={"x": x})
    feedback.require(np.all((got >= 0) & (got <= 1)),
                     f"sigmoid(x) {feedback.describe_inputs(x=x)}: got {feedback.fmt(got)}, outside [0, 1]")


@covered_by(public_sigmoid_values)
@pytest.mark.points(1)
@given(x=strategies.arrays())
def test_sigmoid_symmetry(act, x):
    """sigmoid symmetry: σ(−x) = 1 − σ(x)"""
    pos = feedback.array(act.sigmoid(x), "sigmoid(x)", shape=x.shape, inputs={"x": x})
    neg = feedback.array(act.sigmoid(-x), "sigmoid(-x)", shape=x.shape, inputs={"x": x})
    feedback.close(neg, 1.0 - pos, "sigmoid(-x), compared with 1 - sigmoid(x),", {"x": x}, rtol=0, atol=1e-12)


@pytest.mark.public
@pytest.mark.points(1.5)
def test_sigmoid_backward_gradient(act, rng):
    """sigmoid_backward matches finite differences"""
    x = rng.normal(0.0, 2.0, size=(3, 4))
    check_backward(act, "sigmoid", x, rng.normal(size=x.shape))


@covered_by(public_sigmoid_backward_extremes)
@pytest.mark.points(1)
@given(x=strategies.arrays(elements=strategies.WIDE_FLOATS))
def test_sigmoid_derivative_bound(act, x):
    """sigmoid derivative bound: 0 ≤ σ'(x) ≤ 1/4"""
    got = feedback.array(act.sigmoid_backward(np.ones_like(x), x), "sigmoid_backward(ones, x)",
                       shape=x.shape, inputs={"x": x})
    feedback.require(np.all((got >= 0) & (got <= 0.25 + 1e-15)),
                     f"sigmoid_backward(ones, x) {feedback.describe_inputs(x=x)}: got {feedback.fmt(got)}; "
                     f"σ'(x) = σ(x)(1 − σ(x)) is never negative and never above 1/4")


# -- tanh ----------------------------------------------------------------
def public_tanh_values(act):
    """tanh matches its definition"""
    values_check(act, "tanh")


def public_tanh_stable(act):
    """tanh is stable at ±1e4 (no overflow)"""
    probes.call_close(act, fn="tanh", args=(BIG,), expected=np.tanh(BIG), argnames=("x",), rtol=1e-9, atol=1e-15,
                      errstate=RAISE)


def public_tanh_backward(act):
    """tanh_backward matches finite differences"""
    backward_check(act, "tanh")


@covered_by(public_tanh_values)
@pytest.mark.points(1)
def test_tanh_values(act, rng):
    """tanh matches tanh(x)"""
    x = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    feedback.close(act.tanh(x), np.tanh(x), "tanh(x)", {"x": x}, rtol=1e-9)
    x = rng.normal(0.0, 3.0, size=(2, 3, 2))
    feedback.close(act.tanh(x), np.tanh(x), "tanh(x)", {"x": x}, rtol=1e-9)


@covered_by(public_tanh_stable)
@pytest.mark.points(1)
@given(x=strategies.arrays(elements=strategies.WIDE_FLOATS))
def test_tanh_range(act, x):
    """tanh range: −1 ≤ tanh(x) ≤ 1 for x up to ±1e4 (no overflow; floating-point errors raised)"""
    # Values and dtype are the other tests' (a float32 tanh is charged there, not here too).
    got = feedback.array(act.call("tanh", x, _errstate=RAISE), "tanh(x)", shape=x.shape, inputs={"x": x})
    feedback.finite(got, "tanh(x)", {"x": x})
    feedback.require(np.all((got >= -1) & (got <= 1)),
                     f"tanh(x) {feedback.describe_inputs(x=x)}: got {feedback.fmt(got)}, outside [-1, 1]")


@covered_by(public_tanh_backward)
@pytest.mark.points(1.5)
def test_tanh_backward_gradient(act, rng):
    """tanh_backward matches finite differences"""
    x = rng.normal(0.0, 1.5, size=(4, 3))
    check_backward(act, "tanh", x, rng.normal(size=x.shape))


# -- relu ----------------------------------------------------------------
def public_relu_values(act):
    """relu matches its definition"""
    values_check(act, "relu")


def public_relu_backward(act):
    """relu_backward matches finite differences"""
    backward_check(act, "relu")


@pytest.mark.public
@pytest.mark.points(1)
def test_relu_values(act, rng):
    """relu matches max(0, x)"""
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    feedback.close(act.relu(x), oracle.relu(x), "relu(x)", {"x": x}, rtol=0, atol=0)
    x = rng.normal(size=(3, 5))
    feedback.close(act.relu(x), oracle.relu(x), "relu(x)", {"x": x}, rtol=0, atol=0)


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
    got = feedback.array(act.relu_backward(dout, x), "relu_backward(dout, x)", shape=x.shape,
                       inputs={"x": x, "dout": dout})
    expected_away = np.array([0.0, np.nan, 7.0, np.nan])
    ok = [got[0] == 0.0, got[1] in (0.0, 5.0), got[2] == 7.0, got[3] in (0.0, -2.0)]
    feedback.require(all(ok), f"relu_backward(dout, x) {feedback.describe_inputs(x=x, dout=dout)}: got "
                            f"{feedback.fmt(got)}; expected {feedback.fmt(expected_away)} where nan means "
                            f"0 or dout (either subgradient at x = 0 is accepted)")


# -- leaky relu ----------------------------------------------------------
def public_leaky_relu_values(act):
    """leaky_relu matches its definition"""
    values_check(act, "leaky_relu")


def public_leaky_relu_alpha(act):
    """leaky_relu uses its alpha argument"""
    x = np.array([-3.0, -0.5, 0.5, 2.0])
    probes.call_close(act, fn="leaky_relu", args=(x,), kwargs={"alpha": 0.2}, expected=oracle.leaky_relu(x, 0.2),
                      argnames=("x",), rtol=1e-12)


def public_leaky_relu_backward(act):
    """leaky_relu_backward matches finite differences"""
    backward_check(act, "leaky_relu")


def public_leaky_relu_backward_alpha(act):
    """leaky_relu_backward uses its alpha argument"""
    # Negative entries, where α matters. Measured relative error: 4e-11 for the reference and every
    # alternative, 0.12 for a backward that uses 0.01 (limit GRAD_LIMIT = 1e-6).
    x = np.array([[-2.0, -0.5, 0.75], [1.5, -1.25, -0.1]])
    check_backward(act, "leaky_relu", x, rng_for("leaky_relu_backward alpha").normal(size=x.shape), alpha=0.2,
                   public=True)


@covered_by(public_leaky_relu_values)
@pytest.mark.points(1)
def test_leaky_relu_values(act, rng):
    """leaky_relu matches max(αx, x) with the default α = 0.01"""
    x = np.array([-3.0, -0.5, 0.0, 0.5, 2.0])
    feedback.close(act.leaky_relu(x), oracle.leaky_relu(x), "leaky_relu(x)", {"x": x}, rtol=1e-12)
    x = rng.normal(size=(2, 4))
    feedback.close(act.leaky_relu(x), oracle.leaky_relu(x), "leaky_relu(x)", {"x": x}, rtol=1e-12)


@covered_by(public_leaky_relu_alpha)
@pytest.mark.points(1)
def test_leaky_relu_alpha(act):
    """leaky_relu uses its alpha argument"""
    x = np.array([-3.0, -0.5, 0.5, 2.0])
    probes.call_close(act, fn="leaky_relu", args=(x,), kwargs={"alpha": 0.2}, expected=oracle.leaky_relu(x, 0.2),
                      argnames=("x",), rtol=1e-12)


@pytest.mark.points(0.75)
@pytest.mark.parametrize("alpha", [
    pytest.param("default", marks=covered_by(public_leaky_relu_backward)),
    pytest.param(0.2, marks=covered_by(public_leaky_relu_backward_alpha))])
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
    got = feedback.array(act.leaky_relu_backward(dout, x, alpha=0.1), "leaky_relu_backward(dout, x, alpha=0.1)",
                       shape=x.shape, inputs={"x": x, "dout": dout})
    ok = np.isclose(got[0], 0.3) and (np.isclose(got[1], 0.5) or np.isclose(got[1], 5.0)) \
        and np.isclose(got[2], 7.0)
    feedback.require(ok, f"leaky_relu_backward(dout, x, alpha=0.1) {feedback.describe_inputs(x=x, dout=dout)}: "
                       f"got {feedback.fmt(got)}; expected [0.3, 0.5 or 5, 7]")


# -- contract properties ---------------------------------------------------
def public_no_input_mutation(act):
    """no function modifies its inputs"""
    x, dout = np.array([[-1.5, 0.5], [2.0, -0.25]]), np.array([[1.0, -2.0], [0.5, 3.0]])
    calls = [[name, [x], ["x"]] for name in FUNCTIONS]
    calls += [[f"{name}_backward", [dout, x], ["dout", "x"]] for name in FUNCTIONS]
    probes.no_mutation(act, calls=calls)


@pytest.mark.last
@covered_by(public_no_input_mutation)
@pytest.mark.points(1)
@given(pair=strategies.array_and_grad())
def test_no_input_mutation(act, pair):
    """no function modifies its inputs"""
    x, dout = pair
    calls = Calls()
    for name in FUNCTIONS:
        args = calls.after(act, name, x.copy())
        if args is not None:
            feedback.unchanged(f"{name}(x) {feedback.describe_inputs(x=x)}", ("x",), (x,), args)
        args = calls.after(act, f"{name}_backward", dout.copy(), x.copy())
        if args is not None:
            feedback.unchanged(f"{name}_backward(dout, x) {feedback.describe_inputs(x=x, dout=dout)}", ("dout", "x"),
                             (dout, x), args)
    calls.finish()


def public_shape_and_dtype(act):
    """every function keeps the shape of x and returns float64"""
    r = rng_for("activations shape and dtype")
    x, dout = r.normal(0.0, 2.0, size=(2, 3, 2)), r.normal(size=(2, 3, 2))
    calls = [[name, [x], ["x"]] for name in FUNCTIONS]
    calls += [[f"{name}_backward", [dout, x], ["dout", "x"]] for name in FUNCTIONS]
    probes.float64_of_shape(act, calls=calls, shape=x.shape)


@covered_by(public_shape_and_dtype)
@pytest.mark.points(1)
@given(x=strategies.arrays(shape=strategies.shapes(min_dims=1, max_dims=4)),
       which=st.sampled_from(FUNCTIONS))
def test_shape_and_dtype_preserved(act, x, which):
    """every function keeps the shape of x and returns float64 (any shape)"""
    for call, got in ((f"{which}(x)", act.call(which, x)),
                      (f"{which}_backward(dout, x)", act.call(f"{which}_backward", np.ones_like(x), x))):
        feedback.array(got, call, shape=x.shape, inputs={"x": x})
        feedback.float64(got, call, inputs={"x": x})
