"""Part 4, the MNIST MLP, softmax cross-entropy and SGD: the hidden tests and the public checks.

Gradient checks take the loss from oracle.mlp_loss. Small nets get a
full finite-difference check per tensor with pre-activations kept at least
1e-3 away from the ReLU kink; the 784-128-256-10 net gets directional checks
(3 random unit directions per tensor). Correct code measures relative errors
around 1e-9 (full) and 1e-8 (directional); the limits are 1e-6 and 1e-5.
"""
import itertools
import re
from functools import lru_cache, partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.suites import mistakes, oracle, strategies
from grader.suites.calls import Calls, backward_within_budget, timed
from grader.suites.params import starts_from_init_params, varies_with_seed
from grader.suites.public import covered_by, rng_for
from tooling import feedback, probes
from tooling.datasets import load_mnist
from tooling.gradient_check import directional_derivative, param_gradient

GRAD_LIMIT = 1e-6
DIRECTIONAL_LIMIT = 1e-5
RAISE = {"over": "raise", "invalid": "raise", "divide": "raise"}
SMALL = (5, 4, 6, 3)
MNIST = (784, 128, 256, 10)


class QuietFit:
    """The student's module, whose fit is called with verbose=False when its signature takes `verbose`.

    fit's progress line is not graded (its docstring says so), and under verbose=None it runs only once
    an epoch has taken a second of wall time: a slip in it (history[-2] on the first line) would crash
    fit on a busy machine and not on an idle one, and the score would depend on the load. Every other
    call, and every attribute, is the module's own."""

    def __init__(self, module):
        self._module = module

    def call(self, fn, *args, **kwargs):
        if fn == "fit" and "verbose" not in kwargs and re.search(r"[(,]\s*verbose\s*[=,)]",
                                                                 self._module.signature("fit")):
            kwargs["verbose"] = False
        return self._module.call(fn, *args, **kwargs)

    def __getattr__(self, name):
        if name == "fit":
            return partial(self.call, "fit")
        return getattr(self._module, name)


@pytest.fixture
def mlp(mlp):
    return QuietFit(mlp)


def keys(n_layers):
    return [f"{p}{l}" for l in range(1, n_layers + 1) for p in ("W", "b")]


def shapes(sizes):
    out = {}
    for l in range(1, len(sizes)):
        out[f"W{l}"] = (sizes[l], sizes[l - 1])
        out[f"b{l}"] = (sizes[l],)
    return out


def random_params(rng, sizes, bias=0.5):
    """He-scaled weights and non-zero biases."""
    p = {}
    for l in range(1, len(sizes)):
        p[f"W{l}"] = rng.normal(0.0, np.sqrt(2.0 / sizes[l - 1]), size=(sizes[l], sizes[l - 1]))
        p[f"b{l}"] = rng.normal(0.0, bias, size=sizes[l])
    return p


def away_from_kinks(rng, sizes, n, margin=1e-3, x_scale=1.0):
    """(params, X, y) whose hidden pre-activations all satisfy |z| >= margin."""
    for _ in range(1000):
        params = random_params(rng, sizes)
        X = rng.normal(0.0, x_scale, size=(n, sizes[0])) if x_scale else rng.uniform(size=(n, sizes[0]))
        zs = oracle.mlp_preactivations(params, X)[:-1]
        if all(np.min(np.abs(z)) >= margin for z in zs):
            return params, X, rng.integers(0, sizes[-1], size=n)
    raise RuntimeError("could not draw parameters away from the ReLU kinks")


def forward_pair(mlp, params, X):
    return feedback.pair(mlp.forward(params, X), "forward(params, X)", ("logits", "cache"))


def student_grads(mlp, params, X, y):
    """The student's gradients, checked for their form only: each tensor is checked where it is used,
    a missing key by the test of that key (a mistake costs its points once)."""
    with feedback.prerequisite("backward is checked with the cache your forward returns"):
        _, cache = forward_pair(mlp, params, X)
    grads = mlp.backward(params, cache, y)
    call = "backward(params, cache, y)"
    if grads is None:
        raise feedback.Failure(f"{call}: returned None. {feedback.hint('no_return')}")
    if not isinstance(grads, dict):
        raise feedback.Failure(f"{call}: expected a dict with keys {list(params)}, got {feedback.type_name(grads)}")
    return grads


def gradient_of(grads, key, params, call="backward(params, cache, y)"):
    if key not in grads:
        raise feedback.Failure(f"{call} returned no gradient for '{key}': expected the keys {list(params)}, got "
                             f"{feedback.fmt(grads)}")
    return grads[key]


def present(grads, params, call="backward(params, cache, y)"):
    """The keys of params that grads has: the others are charged by the per-key tests, but a dict with
    none of them has nothing to check."""
    keys = [key for key in params if key in grads]
    feedback.require(bool(keys), f"{call}: expected the keys {list(params)}, got {feedback.fmt(grads)}")
    return keys


@lru_cache(maxsize=1)
def public_problem():
    """The public checks' network (away from the ReLU kinks), batch and the oracle's values, drawn in one
    stream."""
    r = rng_for("mlp")
    sizes = (3, 5, 4, 2)
    for _ in range(1000):
        params = {}
        for l in range(1, len(sizes)):
            params[f"W{l}"] = r.normal(0, np.sqrt(2 / sizes[l - 1]), size=(sizes[l], sizes[l - 1]))
            params[f"b{l}"] = r.normal(0, 0.5, size=sizes[l])
        X = r.normal(size=(5, 3))
        if all(np.min(np.abs(z)) > 1e-3 for z in oracle.mlp_preactivations(params, X)[:-1]):
            break
    y = r.integers(0, 2, size=5)
    grads = {key: param_gradient(partial(oracle.mlp_loss, X=X, y=y), params, key) for key in params}
    return {"sizes": sizes, "params": params, "X": X, "y": y, "logits": oracle.mlp_forward(params, X),
            "grads": grads, "X_epochs": r.normal(size=(5, 4))}


BIG = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -999.0, -1000.0]])


# -- softmax and cross-entropy -----------------------------------------------
def public_softmax(mlp):
    """softmax rows match e^z / Σ e^z and sum to 1"""
    logits = public_problem()["logits"]
    probes.call_close(mlp, fn="softmax", args=(logits,), expected=oracle.softmax(logits), argnames=("logits",),
                      rtol=1e-9, mistakes=mistakes.softmax_mistakes(logits))


def public_softmax_stable(mlp):
    """softmax is stable for logits of ±1e3"""
    probes.call_close(mlp, fn="softmax", args=(BIG,), expected=oracle.softmax(BIG), argnames=("logits",), rtol=1e-9,
                      atol=1e-300, errstate=RAISE)


def public_cross_entropy(mlp):
    """cross_entropy matches −mean log softmax(z)[i, yᵢ]"""
    d = public_problem()
    probes.call_scalar(mlp, fn="cross_entropy", args=(d["logits"], d["y"]),
                       expected=oracle.cross_entropy(d["logits"], d["y"]), argnames=("logits", "y"), rtol=1e-9, batch=5)


def public_cross_entropy_stable(mlp):
    """cross_entropy is finite and exact for logits of ±1e3"""
    y = np.array([2, 0])
    probes.call_scalar(mlp, fn="cross_entropy", args=(BIG, y), expected=oracle.cross_entropy(BIG, y),
                       argnames=("logits", "y"), rtol=1e-9, errstate=RAISE)


# A slip costs once (grader/suites/conftest.py _stand_ins): fit runs these functions; where one failed its
# own tests, fit's tests run on the reference's (forward and backward together: they share the cache).
FIT_CONSUMES = pytest.mark.consumes((("test_init",), ("init_params",)),
                                    (("test_softmax", "test_forward", "test_backward"),
                                     ("softmax", "forward", "backward")),
                                    (("test_cross_entropy",), ("cross_entropy",)),
                                    (("test_sgd_step",), ("sgd_step",)))
# backward computes the probabilities with softmax, whose own tests charge a slip in it.
BACKWARD_CONSUMES = pytest.mark.consumes((("test_softmax",), ("softmax",)))
# predict runs forward: where forward failed its own tests, predict's test runs on the reference's.
PREDICT_CONSUMES = pytest.mark.consumes((("test_forward",), ("forward",)))


@pytest.mark.public
@pytest.mark.points(1)
def test_softmax_values(mlp, rng):
    """softmax matches e^z / Σ e^z row by row, and rows sum to 1"""
    logits = rng.normal(0.0, 3.0, size=(4, 5))
    got = feedback.array(mlp.softmax(logits), "softmax(logits)", shape=logits.shape, inputs={"logits": logits})
    columns = np.isfinite(got).all() and np.allclose(got.sum(axis=0), 1.0, rtol=0, atol=1e-12)
    feedback.require(not columns or np.allclose(got, oracle.softmax(logits), rtol=1e-9, atol=0),
                     f"softmax(logits) at logits of shape (4, 5): expected {feedback.fmt(oracle.softmax(logits)[0])} "
                     f"in row 0, got {feedback.fmt(got[0])}. Likely cause: {feedback.hint('softmax_axis0')}")
    got = feedback.close(got, oracle.softmax(logits), "softmax(logits)", {"logits": logits}, rtol=1e-9)
    feedback.close(got.sum(axis=1), np.ones(4), "softmax(logits).sum(axis=1)", {"logits": logits},
                 rtol=0, atol=1e-12)


@covered_by(public_softmax)
@pytest.mark.points(1)
@given(pair=strategies.logits_and_labels(), shift=st.floats(-50.0, 50.0))
def test_softmax_shift_invariance(mlp, pair, shift):
    """softmax shift invariance: softmax(z + c) = softmax(z), rows sum to 1"""
    logits, _ = pair
    base = feedback.array(mlp.softmax(logits), "softmax(logits)", shape=logits.shape, inputs={"logits": logits})
    feedback.close(base.sum(axis=1), np.ones(logits.shape[0]), "softmax(logits).sum(axis=1)",
                 {"logits": logits}, rtol=0, atol=1e-9)
    feedback.close(mlp.softmax(logits + shift), base, f"softmax(logits + {shift:g}) compared with softmax(logits)",
                 {"logits": logits}, rtol=1e-7, atol=1e-12)


@covered_by(public_softmax_stable)
@pytest.mark.points(1)
def test_softmax_stable(mlp):
    """softmax is stable for logits of ±1e3 (floating-point errors raised)"""
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0], [1000.0, 1000.0, 999.0]])
    probes.call_close(mlp, fn="softmax", args=(logits,), expected=oracle.softmax(logits), argnames=("logits",),
                      rtol=1e-9, atol=1e-300, errstate=RAISE)


@pytest.mark.public
@pytest.mark.points(2)
def test_cross_entropy_values(mlp, rng):
    """cross_entropy matches −mean log softmax(logits)[i, yᵢ]"""
    logits = rng.normal(0.0, 2.0, size=(5, 4))
    y = np.array([0, 3, 1, 1, 2])
    feedback.scalar_close(mlp.cross_entropy(logits, y), oracle.cross_entropy(logits, y),
                        "cross_entropy(logits, y)", {"logits": logits, "y": y}, rtol=1e-9, batch=5)


@covered_by(public_cross_entropy)
@pytest.mark.points(1)
@given(pair=strategies.logits_and_labels())
def test_cross_entropy_laws(mlp, pair):
    """cross_entropy is ≥ 0 and unchanged when the batch is duplicated"""
    logits, y = pair
    got = feedback.scalar_close(mlp.cross_entropy(logits, y), oracle.cross_entropy(logits, y),
                              "cross_entropy(logits, y)", {"logits": logits, "y": y}, rtol=1e-7, atol=1e-12,
                              batch=len(y))
    feedback.require(got >= 0, f"cross_entropy(logits, y) {feedback.describe_inputs(logits=logits, y=y)}: "
                             f"got {got:.6g} < 0")
    twice = feedback.scalar(mlp.cross_entropy(np.vstack([logits, logits]), np.concatenate([y, y])),
                          "cross_entropy on the batch repeated twice")
    feedback.require(np.isclose(twice, got, rtol=1e-9, atol=1e-12),
                     f"cross_entropy gives {got:.6g} on a batch but {twice:.6g} on the batch repeated twice: "
                     f"{feedback.hint('batch_summed_loss')}")


@covered_by(public_cross_entropy_stable)
@pytest.mark.points(1)
def test_cross_entropy_stable(mlp):
    """cross_entropy is finite and exact for logits of ±1e3"""
    # The last row's max is 2000 below the batch's: shifting by the batch's max instead of each row's
    # (np.max without axis=1) takes its log of 0 (the generated mutants mlp/cross_entropy/arg_removal/*).
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0], [0.0, 0.0, 1000.0],
                       [-1000.0, -999.0, -1000.0]])
    y = np.array([2, 1, 0, 1])
    probes.call_scalar(mlp, fn="cross_entropy", args=(logits, y), expected=oracle.cross_entropy(logits, y),
                       argnames=("logits", "y"), rtol=1e-9, errstate=RAISE)


# -- init and forward ------------------------------------------------------
def public_init_mnist_shapes(mlp):
    """init_params((784, 128, 256, 10)) has the right keys and shapes"""
    probes.mapping_shapes(mlp, fn="init_params", args=(MNIST,), kwargs={"seed": 0},
                          expected={k: list(v) for k, v in shapes(MNIST).items()})


def public_init_any_depth(mlp):
    """init_params works for any depth: (3, 4, 5, 4, 2)"""
    sizes = (3, 4, 5, 4, 2)
    probes.mapping_shapes(mlp, fn="init_params", args=(sizes,), kwargs={"seed": 1},
                          expected={k: list(v) for k, v in shapes(sizes).items()})


def public_init_biases_zero(mlp):
    """init_params starts every bias at zero"""
    sizes = (7, 6, 5, 4)
    probes.zero_biases(mlp, fn="init_params", args=(sizes,), kwargs={"seed": 4},
                       expected={k: list(v) for k, v in shapes(sizes).items() if k.startswith("b")})


def public_forward(mlp):
    """forward matches the ReLU network's logits"""
    d = public_problem()
    probes.forward_close(mlp, fn="forward", args=(d["params"], d["X"]), expected=d["logits"],
                         argnames=("params", "X"), rtol=1e-9, atol=1e-12)


@pytest.mark.public
@pytest.mark.points(1)
def test_init_mnist_shapes(mlp):
    """init_params((784, 128, 256, 10)) gives W1 (128, 784) … b3 (10,)"""
    p = mlp.init_params(MNIST, seed=0)
    feedback.mapping(p, "init_params((784, 128, 256, 10), seed=0)", keys(3), shapes(MNIST))


@covered_by(public_init_any_depth)
@pytest.mark.points(1)
@given(sizes=strategies.layer_sizes())
def test_init_any_depth(mlp, sizes):
    """init_params works for any depth and width"""
    p = mlp.init_params(sizes, seed=1)
    feedback.mapping(p, f"init_params({sizes}, seed=1)", keys(len(sizes) - 1), shapes(sizes))


@pytest.mark.visible
@pytest.mark.points(0.5)
def test_init_seeded_and_random(mlp):
    """init_params is the same for the same seed, differs across seeds, and breaks symmetry"""
    sizes = (6, 5, 4, 3)
    call = f"init_params({sizes}, seed=...)"
    a = feedback.mapping(mlp.init_params(sizes, seed=2), call, keys(3), shapes(sizes))
    b = feedback.mapping(mlp.init_params(sizes, seed=2), call, keys(3), shapes(sizes))
    c = feedback.mapping(mlp.init_params(sizes, seed=3), call, keys(3), shapes(sizes))
    feedback.require(all(np.array_equal(a[k], b[k]) for k in a),
                     f"init_params gave different parameters for the same seed: {feedback.hint('init_unseeded')}")
    feedback.require(not np.array_equal(a["W1"], c["W1"]), "init_params gave the same W1 for seed=2 and seed=3")
    feedback.require(all(np.unique(np.round(a[f"W{l}"], 12), axis=0).shape[0] == sizes[l] for l in (1, 2, 3)),
                     f"init_params: some rows of a weight matrix are identical, {feedback.hint('init_symmetric')}")


@covered_by(public_init_biases_zero)
@pytest.mark.points(0.5)
def test_init_biases_zero(mlp):
    """init_params starts every bias at zero (bˡ = 0)"""
    sizes = (7, 6, 5, 4)
    p = feedback.mapping(mlp.init_params(sizes, seed=4), f"init_params({sizes}, seed=4)", keys(3), shapes(sizes))
    for l in (1, 2, 3):
        b = feedback.array(p[f"b{l}"], f"init_params({sizes}, seed=4)['b{l}']", shape=(sizes[l],))
        feedback.require(np.all(b == 0), f"init_params({sizes}, seed=4)['b{l}'] = {feedback.fmt(b)}; the docstring "
                                       f"asks for bˡ = 0 (biases start at zero; only the weights are random)")


@pytest.mark.public
@pytest.mark.points(2)
def test_forward_values(mlp, rng):
    """forward matches the ReLU network's logits (no activation on the output)"""
    params, X, _ = away_from_kinks(rng, SMALL, n=4)
    logits, _ = forward_pair(mlp, params, X)
    feedback.close(logits, oracle.mlp_forward(params, X), "forward(params, X)", {"params": params, "X": X},
                 rtol=1e-9, atol=1e-12)


@covered_by(public_forward)
@pytest.mark.points(1)
@given(sizes=strategies.layer_sizes(), n=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_forward_any_depth(mlp, sizes, n, seed):
    """forward returns logits of shape (N, C) for any depth and width"""
    rng = np.random.default_rng(seed)
    params, X = random_params(rng, sizes), rng.normal(size=(n, sizes[0]))
    logits, _ = forward_pair(mlp, params, X)
    feedback.close(logits, oracle.mlp_forward(params, X), "forward(params, X)", {"params": params, "X": X},
                 rtol=1e-9, atol=1e-12)


# -- backward ------------------------------------------------------------
def public_backward(mlp):
    """backward matches finite differences (every parameter)"""
    d = public_problem()
    probes.backward(mlp, args=(d["params"], d["X"], d["y"]), expected=d["grads"], batch=5)


@pytest.mark.points(1.5)
@pytest.mark.parametrize("key", [pytest.param("W1", marks=pytest.mark.public)] + [
    pytest.param(k, marks=covered_by(public_backward))
    for k in ("b1", "W2", "b2", "W3", "b3")])
@BACKWARD_CONSUMES
def test_backward_gradient(mlp, rng, key):
    """backward matches finite differences ({key})"""
    params, X, y = away_from_kinks(rng, SMALL, n=4)
    grads = student_grads(mlp, params, X, y)
    feedback.gradient(key, gradient_of(grads, key, params),
                      param_gradient(partial(oracle.mlp_loss, X=X, y=y), params, key),
                      "backward(params, cache, y)", GRAD_LIMIT, batch=X.shape[0])


@covered_by(public_backward)
@pytest.mark.points(0.5)
@pytest.mark.parametrize("layers", [1, 4])
@BACKWARD_CONSUMES
def test_backward_any_depth(mlp, rng, layers):
    """backward matches finite differences with {layers} layer(s)"""
    sizes = {1: (4, 3), 4: (3, 4, 5, 4, 2)}[layers]
    params, X, y = away_from_kinks(rng, sizes, n=3)
    grads = student_grads(mlp, params, X, y)
    for key in present(grads, params, f"backward(params, cache, y) for layer sizes {sizes}"):
        feedback.gradient(key, grads[key], param_gradient(partial(oracle.mlp_loss, X=X, y=y), params, key),
                          f"backward(params, cache, y) for layer sizes {sizes}", GRAD_LIMIT, batch=3)


@covered_by(public_backward)
@pytest.mark.points(2)
@BACKWARD_CONSUMES
def test_backward_mnist_directional(mlp, rng):
    """backward on the 784-128-256-10 net matches directional finite differences"""
    params, X, y = away_from_kinks(rng, MNIST, n=6, margin=1e-4, x_scale=0)
    grads = student_grads(mlp, params, X, y)
    for key in present(grads, params):
        got = feedback.array(grads[key], f"backward(params, cache, y)['{key}']", shape=params[key].shape)
        analytic, numeric = [], []
        for _ in range(3):
            d = rng.normal(size=params[key].shape)
            d /= np.linalg.norm(d)

            def f(value, key=key):
                trial = dict(params)
                trial[key] = value
                return oracle.mlp_loss(trial, X, y)
            analytic.append(float(np.sum(got * d)))
            numeric.append(directional_derivative(f, params[key], d, h=1e-5))
        feedback.gradient(key, np.array(analytic), np.array(numeric),
                        "backward(params, cache, y) on the MNIST-sized net, along 3 random directions,",
                        DIRECTIONAL_LIMIT, batch=6)


@pytest.mark.visible
@pytest.mark.points(1)
@BACKWARD_CONSUMES
def test_backward_is_backpropagation(mlp, rng):
    """backward computes gradients by backpropagation, not by finite differences"""
    # Timed by the grader, not counted by instrumentation: these calls run exactly like every other
    # call, so no code can tell it is being checked. Finite differences need 6,442 forward passes here.
    params, X, y = away_from_kinks(rng, (30, 48, 32, 5), n=8)     # 3,221 parameters
    with feedback.prerequisite("backward is checked with the cache your forward returns"):
        _, cache = forward_pair(mlp, params, X)
    forward_seconds = min([mlp.last_seconds] + [timed(mlp, "forward", params, X) for _ in range(2)])
    grads = backward_within_budget(mlp, forward_seconds, 3221, params, cache, y)
    feedback.require(isinstance(grads, dict), f"backward(params, cache, y): expected a dict, got {feedback.fmt(grads)}")
    backward_seconds = min([mlp.last_seconds] + [timed(mlp, "backward", params, cache, y) for _ in range(2)])
    feedback.backprop_not_finite_differences(backward_seconds, forward_seconds, "backward(params, cache, y)", 3221)



# -- SGD and fit -----------------------------------------------------------
def public_sgd_step(mlp):
    """sgd_step returns p − lr·dp"""
    d = public_problem()
    params, grads = d["params"], d["grads"]
    probes.close_dict(mlp, fn="sgd_step", args=(params, grads, 0.1),
                      expected={k: params[k] - 0.1 * grads[k] for k in params}, argnames=("params", "grads", "lr"))


def public_sgd_step_no_mutation(mlp):
    """sgd_step and forward leave their inputs unchanged"""
    d = public_problem()
    probes.no_mutation(mlp, calls=[["sgd_step", [d["params"], d["grads"], 0.1], ["params", "grads", "lr"]],
                                   ["forward", [d["params"], d["X"]], ["params", "X"]]])


@covered_by(public_sgd_step, public_sgd_step_no_mutation)
@pytest.mark.points(1)
def test_sgd_step(mlp, rng):
    """sgd_step returns p − lr·dp for every parameter and leaves its inputs alone"""
    params = random_params(rng, (3, 4, 2))
    grads = random_params(rng, (3, 4, 2))
    before_p = {k: v.copy() for k, v in params.items()}
    before_g = {k: v.copy() for k, v in grads.items()}
    new, (p_after, g_after, _), _ = mlp.call("sgd_step", params, grads, 0.1, _return_args=True)
    feedback.mapping(new, "sgd_step(params, grads, lr=0.1)", list(params))
    for k in params:
        try:
            feedback.close(new[k], before_p[k] - 0.1 * before_g[k], f"sgd_step(params, grads, lr=0.1)['{k}']",
                         rtol=1e-12, atol=1e-15)
        except feedback.Failure as failure:
            raise feedback.Failure(str(failure) + feedback.step_hint(before_p[k], before_g[k], new[k], 0.1)) from None
    feedback.unchanged("sgd_step(params, grads, lr)", ("params", "grads"), (before_p, before_g), (p_after, g_after))


def _fit(mlp, X, y, **kwargs):
    out = feedback.pair(mlp.call("fit", X, y, **kwargs), "fit(X, y, ...)", ("params", "history"))
    params, history = out
    sizes = kwargs.get("layer_sizes", MNIST)
    params = feedback.mapping(params, "fit(...): params", keys(len(sizes) - 1), shapes(sizes), consumed=True)
    if isinstance(history, np.ndarray):
        history = list(history.reshape(-1))
    epochs = kwargs.get("epochs", 5)
    feedback.require(isinstance(history, list) and len(history) == epochs,
                     f"fit(X, y, epochs={epochs}): history should hold one mean loss per epoch, got "
                     f"{feedback.fmt(history)}")
    return params, [feedback.scalar(v, f"fit(...): history[{i}]", consumed=True) for i, v in enumerate(history)]


def own_step(mlp, params, X, y, lr):
    """What one step of the student's own forward, backward and sgd_step gives (None if they fail)."""
    try:
        _, cache = forward_pair(mlp, params, X)
        grads = feedback.mapping(mlp.backward(params, cache, y), "backward", list(params),
                               {k: np.shape(v) for k, v in params.items()})
        new = feedback.mapping(mlp.sgd_step(params, grads, lr), "sgd_step", list(params),
                             {k: np.shape(v) for k, v in params.items()})
    except Exception:  # noqa: BLE001 -- their own tests say what is wrong with them
        return None
    return {k: np.asarray(new[k], dtype=np.float64) for k in params}


def effective_factors(mlp, sizes, batch_sizes):
    """{batch size b: c} when a step of the student's own backward and sgd_step on b rows is c times
    a true gradient step (c = 1 when both are right; c = b for a backward that forgets the 1/N, -1 for
    one with the wrong sign or an sgd_step that adds), or None when it is no such multiple. fit's
    tests then judge fit's own loop with the student's step, and a wrong gradient costs its points
    once, in the tests of backward and sgd_step."""
    rng = np.random.default_rng(20241)
    factors = {}
    for b in batch_sizes:
        params, X, y = away_from_kinks(rng, sizes, n=b)
        new = own_step(mlp, params, X, y, 1.0)
        if new is None:
            return None
        g = oracle.mlp_grads(params, X, y)
        true = np.concatenate([g[k].ravel() for k in params])
        step = np.concatenate([(params[k] - new[k]).ravel() for k in params])
        c = float(step @ true) / float(true @ true)
        if not np.isfinite(c) or abs(c) < 1e-12 or np.linalg.norm(step - c * true) > 1e-7 * np.linalg.norm(step):
            return None
        factors[b] = c
    return factors


def public_fit_step(mlp):
    """fit with one full batch takes one gradient step of your backward"""
    d = public_problem()
    probes.fit_step(mlp, args=(d["X"], d["y"]), with_sgd_step=True,
                    kwargs={"layer_sizes": d["sizes"], "epochs": 1, "batch_size": 64, "lr": 0.3, "seed": 4})


@covered_by(public_fit_step)
@pytest.mark.points(2)
@FIT_CONSUMES
def test_fit_full_batch_step(mlp, rng):
    """fit with batch_size ≥ N takes one full-batch gradient step per epoch"""
    X, y = rng.normal(size=(7, 4)), np.array([0, 1, 2, 0, 1, 2, 1])
    sizes, lr = (4, 5, 3), 0.3
    p0, _ = _fit(mlp, X, y, layer_sizes=sizes, epochs=1, batch_size=64, lr=0.0, seed=5)
    p1, history = _fit(mlp, X, y, layer_sizes=sizes, epochs=1, batch_size=64, lr=lr, seed=5)
    try:
        for key in p0:
            feedback.gradient(key, (p0[key] - p1[key]) / lr,
                              param_gradient(partial(oracle.mlp_loss, X=X, y=y), p0, key),
                              "fit(X, y, layer_sizes=(4, 5, 3), epochs=1, batch_size=64, lr=0.3), read as "
                              "(p0 - p1) / lr,", 1e-5, batch=7, lr=lr)
    except feedback.Failure:
        # fit may be right about a wrong backward or sgd_step: those lose their points in their tests.
        mine = own_step(mlp, p0, X, y, lr)
        if mine is None or not all(np.allclose(p1[k], mine[k], rtol=1e-7, atol=1e-10) for k in p0) \
                or all(np.array_equal(p1[k], p0[k]) for k in p0):
            raise
    before, after = oracle.mlp_loss(p0, X, y), oracle.mlp_loss(p1, X, y)
    feedback.require(any(np.isclose(history[0], v, rtol=1e-6) for v in (before, after)) or any(
        v is not None and np.isclose(history[0], v, rtol=1e-6)
        for v in (own_loss(mlp, p0, X, y), own_loss(mlp, p1, X, y))),
                     f"fit(..., epochs=1, batch_size=64) on 7 rows: history[0] = {history[0]:.6g}, but the loss is "
                     f"{before:.6g} before the step and {after:.6g} after it")


def sgd_epoch(params, X, y, order, batch_size, lr, factors=None):
    """One epoch of minibatch SGD in the given row order: (params, [(batch loss, batch size)]).
    factors: {batch size: c}, steps c times the true gradient's (see effective_factors)."""
    p = dict(params)
    losses = []
    for start in range(0, len(order), batch_size):
        idx = list(order[start:start + batch_size])
        losses.append((oracle.mlp_loss(p, X[idx], y[idx]), len(idx), p, idx))
        g = oracle.mlp_grads(p, X[idx], y[idx])
        c = factors[len(idx)] if factors else 1.0
        p = {k: p[k] - lr * c * g[k] for k in p}
    return p, losses


def own_loss(mlp, params, X, y):
    """The loss the student's own forward and cross_entropy give, or None."""
    try:
        logits, _ = forward_pair(mlp, params, X)
        return feedback.scalar(mlp.cross_entropy(logits, y), "cross_entropy")
    except Exception:  # noqa: BLE001
        return None


def history_matches(value, mlp, X, y, losses, start, end):
    """Is a recorded history entry the epoch's mean loss: of the batch losses (plain or weighted by batch
    size) or the loss on all rows before or after the epoch, computed by the grader or, failing that, by
    the student's own forward and cross_entropy? A wrong loss is then cross_entropy's or forward's
    mistake, charged by their tests, not by fit's (a mistake costs its points once)."""
    values, sizes = np.array([l[0] for l in losses]), np.array([l[1] for l in losses])
    accepted = [values.mean(), (values * sizes).sum() / sizes.sum(), oracle.mlp_loss(start, X, y),
                oracle.mlp_loss(end, X, y)]
    if any(np.isclose(value, v, rtol=1e-6) for v in accepted):
        return True
    own = [own_loss(mlp, p, X[idx], y[idx]) for _, _, p, idx in losses]
    if any(v is None for v in own):
        return False
    own = np.array(own)
    mine = [own.mean(), (own * sizes).sum() / sizes.sum(), own_loss(mlp, start, X, y), own_loss(mlp, end, X, y)]
    return any(v is not None and np.isclose(value, v, rtol=1e-6) for v in mine)


def batchings(n, batch_size):
    """Every distinct sequence of minibatches one shuffled epoch can produce."""
    seen = set()
    for perm in itertools.permutations(range(n)):
        key = tuple(frozenset(perm[i:i + batch_size]) for i in range(0, n, batch_size))
        if key not in seen:
            seen.add(key)
            yield perm


def sgd_close(p, target):
    """Are the grader's SGD parameters `p` the student's `target`, to the precision the student computed in?
    float64: rtol 1e-7. A float32 training loop is SGD too (the contract names no dtype): rtol 1e-4, atol 1e-6.
    Calibration (a fit that casts X and the initial parameters to float32, 120 fits of the one-epoch test's
    problem, seeds 0-2 on 40 draws): the true order uses at most 12% of that tolerance, and the nearest
    other order is 912 times outside it."""
    single = any(np.asarray(v).dtype == np.float32 for v in target.values())
    rtol, atol = (1e-4, 1e-6) if single else (1e-7, 1e-10)
    return all(np.allclose(p[k], target[k], rtol=rtol, atol=atol) for k in p)


def find_epoch(p0, p1, X, y, factors, candidates=None):
    """(order, batch losses) of the epoch from p0 that gives p1: minibatch SGD with the true gradient,
    or else with the student's own step (effective_factors), over any order of the rows; or None."""
    for f in (None, factors) if factors and any(c != 1.0 for c in factors.values()) else (None,):
        for order in candidates or batchings(len(y), 2):
            p, losses = sgd_epoch(p0, X, y, order, 2, 0.5, f)
            if sgd_close(p, p1):
                return order, losses, f
    return None


def public_fit_epochs(mlp):
    """fit reshuffles every epoch and records each epoch's mean loss"""
    probes.epochs(mlp, args=(public_problem()["X_epochs"], np.array([0, 1, 2, 1, 0])),
                  kwargs={"layer_sizes": (4, 5, 3), "batch_size": 2, "lr": 0.5})


@covered_by(public_fit_epochs)
@pytest.mark.points(1.5)
@FIT_CONSUMES
def test_fit_shuffled_minibatch_epoch(mlp, rng):
    """fit's epoch is minibatch SGD over a fresh shuffle of all rows, and history holds the epoch's mean loss"""
    X, y = rng.normal(size=(5, 4)), np.array([0, 1, 2, 1, 0])
    kw = dict(layer_sizes=(4, 5, 3), epochs=1, batch_size=2)
    call = "fit(X, y, layer_sizes=(4, 5, 3), epochs=1, batch_size=2, lr=0.5) on 5 rows"
    # fit is judged with the student's own step where that step is a multiple of the true one.
    factors = effective_factors(mlp, (4, 5, 3), (1, 2))
    orders, starts = [], []
    for seed in (0, 1, 2):
        p0, _ = _fit(mlp, X, y, lr=0.0, seed=seed, **kw)
        starts.append(p0)
        p1, history = _fit(mlp, X, y, lr=0.5, seed=seed, **kw)
        match = find_epoch(p0, p1, X, y, factors)
        feedback.require(match is not None,
                         f"{call}, seed={seed}: the result is not minibatch SGD over any order of the rows. Each "
                         f"epoch should shuffle the rows (X and y together) and visit every row once, in batches "
                         f"of 2, 2 and 1 (the last batch is smaller), with one step per batch")
        order, losses, used = match
        orders.append(order)
        values = np.array([l[0] for l in losses])
        feedback.require(history_matches(history[0], mlp, X, y, losses, p0, p1),
                         f"{call}, seed={seed}: history[0] = {history[0]:.6g}, but this epoch's batch losses were "
                         f"{feedback.fmt(values)} (mean {values.mean():.6g}); {feedback.hint('epoch_mean_loss')}")
    feedback.require(any(tuple(o) != tuple(range(5)) for o in orders),
                     f"{call}: for seeds 0, 1 and 2 every epoch visited the rows in their original order; "
                     f"{feedback.hint('never_shuffles')}")
    if varies_with_seed(mlp, ((4, 5, 3),), 0, 1):      # else init_params's own test charges it
        feedback.require(any(not np.array_equal(starts[0][k], other[k]) for other in starts[1:] for k in other),
                         f"fit(X, y, layer_sizes=(4, 5, 3), lr=0) returned the same parameters for seeds 0, 1 and 2: "
                         f"fit should start from init_params(layer_sizes, seed); {feedback.hint('seed_not_passed')}")
    for seed, p0 in zip((0, 1, 2), starts):
        starts_from_init_params(mlp, p0, ((4, 5, 3),), seed,
                                f"fit(X, y, layer_sizes=(4, 5, 3), lr=0, seed={seed})",
                                f"init_params((4, 5, 3), seed={seed})")
    _two_epochs(mlp, X, y, starts, orders, factors)


def public_fit_same_seed(mlp):
    """fit gives the same result for the same seed, twice in one process"""
    probes.same_seed(mlp, fn="fit", args=(public_problem()["X_epochs"], np.array([0, 1, 2, 1, 0])),
                     kwargs={"layer_sizes": (4, 5, 3), "epochs": 3, "batch_size": 2, "lr": 0.5, "seed": 7})


@covered_by(public_fit_same_seed)
@pytest.mark.points(0.5)
@FIT_CONSUMES
def test_fit_same_seed_same_result(mlp, rng):
    """fit gives the same result for the same seed, twice in one process (the seed reaches every random draw)"""
    # The grader seeds np.random's global generator differently before every call (as two calls in one
    # process find it), so a fit that shuffles with np.random.permutation gives two different results
    # here: with 3 epochs of 5 rows in batches of 2, two independent shuffles give the same batches
    # with probability (1/30)^3.
    X, y = rng.normal(size=(5, 4)), np.array([0, 1, 2, 1, 0])
    kw = dict(layer_sizes=(4, 5, 3), epochs=3, batch_size=2, lr=0.5, seed=7)
    call = "fit(X, y, layer_sizes=(4, 5, 3), epochs=3, batch_size=2, lr=0.5, seed=7)"
    first, history = _fit(mlp, X, y, **kw)
    again, history_again = _fit(mlp, X, y, **kw)
    same = all(np.array_equal(first[k], again[k]) for k in first) and np.array_equal(history, history_again)
    feedback.require(same, f"{call} gave different results on two calls in the same process: "
                           f"{feedback.hint('not_reproducible')}")


def batching(order, batch_size=2):
    return tuple(frozenset(order[i:i + batch_size]) for i in range(0, len(order), batch_size))


def _two_epochs(mlp, X, y, starts, first_orders, factors=None):
    """Epoch 2 is SGD from where epoch 1 ended, over a shuffle of its own; history[1] is its mean loss.

    Epoch 1 is looked for first in the order that epochs=1 used with the same seed, then in every
    order. A correct fit draws a new batching for epoch 2 with probability 29/30 per seed; the
    check asks for one new batching in 3 seeds (a correct fit fails it with probability 4e-5, and
    deterministically: it is seeded)."""
    call = "fit(X, y, layer_sizes=(4, 5, 3), epochs=2, batch_size=2, lr=0.5) on 5 rows"
    reshuffled = False
    for seed, p0, first in zip((0, 1, 2), starts, first_orders):
        p2, history = _fit(mlp, X, y, layer_sizes=(4, 5, 3), epochs=2, batch_size=2, lr=0.5, seed=seed)
        match = None
        candidates = [first] + [o for o in batchings(5, 2) if batching(o) != batching(first)]
        for f in (None, factors) if factors and any(c != 1.0 for c in factors.values()) else (None,):
            for o1 in candidates:
                p1, _ = sgd_epoch(p0, X, y, o1, 2, 0.5, f)
                for o2 in batchings(5, 2):
                    p, losses = sgd_epoch(p1, X, y, o2, 2, 0.5, f)
                    if sgd_close(p, p2):
                        match = o1, o2, p1, losses
                        break
                if match:
                    break
            if match:
                break
        feedback.require(match is not None,
                         f"{call}, seed={seed}: the result is not two epochs of minibatch SGD, each over an order "
                         f"of all the rows, the second starting where the first ended")
        o1, o2, p1, losses = match
        reshuffled |= batching(o1) != batching(o2)
        values = np.array([l[0] for l in losses])
        feedback.require(history_matches(history[1], mlp, X, y, losses, p1, p2),
                         f"{call}, seed={seed}: history[1] = {history[1]:.6g}, but the second epoch's batch losses "
                         f"were {feedback.fmt(values)} (mean {values.mean():.6g}); each entry of history should "
                         f"hold its own epoch's mean loss ({feedback.hint('history_per_epoch')})")
    feedback.require(reshuffled, f"{call}: for seeds 0, 1 and 2 the second epoch used the same minibatches as the "
                               f"first; {feedback.hint('shuffles_once')}")


@lru_cache(maxsize=1)
def mnist():
    Xtr, ytr = load_mnist(split="train")
    Xte, yte = load_mnist(split="test")
    return Xtr, ytr, Xte, yte


def training_diagnosis(mlp):
    """What most likely keeps fit from learning, checked on small problems in the order fit uses
    them: backward, then sgd_step, then fit's own step. The accuracy test's hint names it instead
    of guessing (another test has then already said what is wrong in detail)."""
    rng = np.random.default_rng(3141)
    params, X, y = away_from_kinks(rng, SMALL, n=4)
    logits = oracle.mlp_forward(params, X)
    try:
        own = feedback.array(mlp.softmax(logits), "softmax", shape=logits.shape)
        softmax_ok = bool(np.allclose(own, oracle.softmax(logits), rtol=1e-7, atol=1e-12))
    except Exception:  # noqa: BLE001
        softmax_ok = False
    if not softmax_ok:
        return f"Likely cause: {feedback.hint('softmax_first')} (see the tests of softmax)"
    try:
        grads = student_grads(mlp, params, X, y)
        for key in params:
            feedback.gradient(key, gradient_of(grads, key, params),
                              param_gradient(partial(oracle.mlp_loss, X=X, y=y), params, key), "backward", GRAD_LIMIT)
    except Exception:  # noqa: BLE001 -- any failure of backward is the likely cause
        return f"Likely cause: {feedback.hint('backward_first')} (see the tests of backward)"
    try:
        new = feedback.mapping(mlp.sgd_step(params, grads, 0.1), "sgd_step", list(params))
        ok = all(np.allclose(np.asarray(new[k], dtype=np.float64), params[k] - 0.1 * np.asarray(grads[k]),
                             rtol=1e-9, atol=1e-12) for k in params)
    except Exception:  # noqa: BLE001
        ok = False
    if not ok:
        return f"Likely cause: {feedback.hint('sgd_step_first')} (see the test of sgd_step)"
    Xf, yf = rng.normal(size=(7, 4)), np.array([0, 1, 2, 0, 1, 2, 1])
    try:
        p0, _ = _fit(mlp, Xf, yf, layer_sizes=(4, 5, 3), epochs=1, batch_size=64, lr=0.0, seed=5)
        p1, _ = _fit(mlp, Xf, yf, layer_sizes=(4, 5, 3), epochs=1, batch_size=64, lr=0.3, seed=5)
        mine = own_step(mlp, p0, Xf, yf, 0.3)
        ok = mine is not None and all(np.allclose(p1[k], mine[k], rtol=1e-7, atol=1e-10) for k in p0)
    except Exception:  # noqa: BLE001
        return f"Likely cause: {feedback.hint('fit_step_first')}"
    if not ok:
        return f"Likely cause: {feedback.hint(step_cause(p0, p1, mine, 0.3))}"
    return "Check the initialisation scale (He: N(0, 2 / fan_in)) and the shuffling (X and y together)"


def follows_own_wrong_step(mlp):
    """Is fit's one full-batch step the step of the student's own backward and sgd_step, where those are not
    a true gradient step? fit's loop is then right, and what it learns is their mistake."""
    rng = np.random.default_rng(1618)
    X, y = rng.normal(size=(7, 4)), np.array([0, 1, 2, 0, 1, 2, 1])
    try:
        p0, _ = _fit(mlp, X, y, layer_sizes=(4, 5, 3), epochs=1, batch_size=64, lr=0.0, seed=5)
        p1, _ = _fit(mlp, X, y, layer_sizes=(4, 5, 3), epochs=1, batch_size=64, lr=0.3, seed=5)
    except Exception:  # noqa: BLE001
        return False
    mine = own_step(mlp, p0, X, y, 0.3)
    if mine is None or not all(np.allclose(p1[k], mine[k], rtol=1e-7, atol=1e-10) for k in p0):
        return False
    true = oracle.mlp_grads(p0, X, y)
    return not all(np.allclose(mine[k], p0[k] - 0.3 * true[k], rtol=1e-6, atol=1e-9) for k in p0)


def step_cause(p0, p1, mine, lr):
    """The hint id for a fit whose one full-batch step p0 -> p1 is not the step p0 -> mine of the student's
    own backward and sgd_step: no step at all, the step times lr (the learning rate applied twice), or
    neither (fit's loop: the batches, the shuffle)."""
    step = np.concatenate([(np.asarray(p0[k], dtype=np.float64) - np.asarray(p1[k], dtype=np.float64)).ravel()
                           for k in p0])
    if not np.any(step):
        return "no_step"
    if mine is not None:
        own = np.concatenate([(np.asarray(p0[k], dtype=np.float64) - mine[k]).ravel() for k in p0])
        if own @ own > 0:
            c = float(step @ own) / float(own @ own)
            if abs(c - lr) <= 1e-3 * lr and np.linalg.norm(step - c * own) <= 1e-6 * np.linalg.norm(step):
                return "lr_twice"
    return "fit_step_first"


def public_fit_mnist(mlp):
    """fit reaches ≥ 85% test accuracy on the bundled MNIST sample (seed 0)"""
    probes.mnist(mlp, kwargs={"seed": 0}, expected=0.85)


@covered_by(public_fit_mnist)
@pytest.mark.points(3)
@FIT_CONSUMES
def test_fit_mnist_accuracy(mlp, record_property):
    """fit with the defaults reaches ≥ 85% test accuracy on the bundled MNIST sample (median of 3 seeds)"""
    # Calibration, median test accuracy of seeds 0-2 after fit's default 5
    # epochs (seeds 0-7 in brackets): He init 92.3% [83.4-93.1], Xavier 92.0%
    # [82.9-92.2], PyTorch's default init 90.1% [79.4-90.5]: margin >= 5 points.
    # A N(0, 0.01²) init trains too slowly and gets 60-70%.
    # Seeds 0 and 2 first, and seed 1 only when one of them falls short: the median of three reaches 85%
    # exactly when two of them do, so the verdict is that of all three, and a failure's message reports all
    # three. Seed 1 goes last because it is the reference's worst (83.4%, the low end above): correct code
    # that draws as the reference does trains 2 networks, not 3. The Gradescope leaderboard's value is the
    # mean of seeds 0 and 2, which every submission whose fit returns has trained: every entry means the same.
    Xtr, ytr, Xte, yte = mnist()
    accs = {}
    for seed in (0, 2, 1):
        params, _ = _fit(mlp, Xtr, ytr, seed=seed)
        accs[seed] = float(np.mean(np.argmax(oracle.mlp_forward(params, Xte), axis=1) == yte))
        if seed == 2:
            record_property("mnist_test_accuracy", round((accs[0] + accs[2]) / 2, 4))  # the leaderboard's value
            if min(accs.values()) >= 0.85:
                return
    accs = [accs[seed] for seed in range(3)]
    median = float(np.median(accs))
    if median < 0.85 and follows_own_wrong_step(mlp):
        return      # a slip costs once: fit follows the student's own wrong backward or sgd_step, charged there
    feedback.require(median >= 0.85, f"fit(X_train, y_train) with the defaults (5 epochs, batch 64, lr 0.1) reaches "
                                   f"{', '.join(f'{a:.1%}' for a in accs)} test accuracy for seeds 0-2 "
                                   f"(median {median:.1%}); expected a median of at least 85%. "
                                   + (training_diagnosis(mlp) if median < 0.85 else ""))


@covered_by(public_fit_mnist)
@pytest.mark.points(0.5)
@PREDICT_CONSUMES
def test_predict(mlp, rng):
    """predict returns the integer label of the largest logit"""
    params, X, _ = away_from_kinks(rng, SMALL, n=6)
    got = feedback.array(mlp.predict(params, X), "predict(params, X)", shape=(6,), inputs={"X": X})
    feedback.require(got.dtype.kind in "iu", f"predict(params, X): expected integer labels, got dtype {got.dtype}")
    expected = np.argmax(oracle.mlp_forward(params, X), axis=1)
    feedback.require(np.array_equal(got, expected), f"predict(params, X): expected {feedback.fmt(expected)}, "
                                                  f"got {feedback.fmt(got)}")


def public_backward_cache(mlp):
    """backward leaves the cache as forward returned it (twice on one cache, the same gradients)"""
    d = public_problem()
    probes.backward_twice(mlp, args=(d["params"], d["X"], d["y"]))


@pytest.mark.last
@pytest.mark.visible
@pytest.mark.points(0.5)
def test_no_input_mutation(mlp, rng):
    """no function modifies its inputs"""
    params, X, y = away_from_kinks(rng, SMALL, n=4)
    logits = oracle.mlp_forward(params, X)
    cases = [("softmax", "logits", (logits,), {}), ("cross_entropy", "logits, y", (logits, y), {}),
             ("forward", "params, X", (params, X), {}), ("predict", "params, X", (params, X), {}),
             ("fit", "X, y", (X, y), {"layer_sizes": SMALL, "epochs": 1, "batch_size": 2})]
    calls = Calls()
    for name, names, args, kwargs in cases:
        copies = [({k: v.copy() for k, v in a.items()} if isinstance(a, dict) else a.copy()) for a in args]
        after = calls.after(mlp, name, *copies, **kwargs)
        if after is not None:
            feedback.unchanged(f"{name}({names})", names.split(", "), args, after)
    if calls.after(mlp, "forward", params, X) is not None:
        _, cache = forward_pair(mlp, params, X)
        after = calls.after(mlp, "backward", {k: v.copy() for k, v in params.items()}, cache, y.copy())
        if after is not None:
            feedback.unchanged("backward(params, cache, y)", ("params", "cache", "y"), (params, None, y), after)
            calls.same_again(mlp, "backward", {k: v.copy() for k, v in params.items()}, cache, y.copy())
    calls.finish()
