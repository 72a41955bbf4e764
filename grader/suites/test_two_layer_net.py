"""Part 3, the two-layer sigmoid net with MSE: the hidden tests and the public checks.

ŷ = σ(W2 σ(W1 x + b1) + b2) and L = (1/N) Σᵢ ‖yᵢ − ŷᵢ‖². Gradient checks
perturb one parameter tensor at a time and take the loss from
oracle.two_layer_loss. A correct backward measures a relative error
of about 1e-10 here; the limit is 1e-6. K = 3 outputs, so that averaging over
outputs as well as rows (a factor K) is caught.
"""
from functools import lru_cache, partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.suites import mistakes, oracle, strategies
from grader.suites.calls import Calls, backward_within_budget, timed
from grader.suites.params import same_params, starts_from_init_params, varies_with_seed
from grader.suites.public import covered_by, rng_for
from tooling import feedback, probes
from tooling.gradient_check import param_gradient, relative_error

GRAD_LIMIT = 1e-6
KEYS = ("W1", "b1", "W2", "b2")
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def shapes(d, h, k):
    return {"W1": (h, d), "b1": (h,), "W2": (k, h), "b2": (k,)}


def random_params(rng, d=3, h=4, k=3):
    """Parameters with non-zero biases, so a dropped bias term shows."""
    return {"W1": rng.normal(size=(h, d)), "b1": rng.normal(0.0, 0.5, size=h),
            "W2": rng.normal(size=(k, h)), "b2": rng.normal(0.0, 0.5, size=k)}


def problem(rng, n=5, d=3, h=4, k=3):
    return random_params(rng, d, h, k), rng.normal(size=(n, d)), rng.uniform(0.0, 1.0, size=(n, k))


def forward_pair(net, params, X):
    return feedback.pair(net.forward(params, X), "forward(params, X)", ("yhat", "cache"))


def gradient_dict(grads, call="backward(params, cache, y)"):
    """backward's dict, checked for its form only: each tensor is checked where it is used, and a
    missing key by the test of that key (a mistake costs its points once)."""
    if grads is None:
        raise feedback.Failure(f"{call}: returned None. {feedback.hint('no_return')}")
    if not isinstance(grads, dict):
        raise feedback.Failure(f"{call}: expected a dict with keys {list(KEYS)}, got {feedback.type_name(grads)}")
    return grads


def gradient_of(grads, key, call="backward(params, cache, y)"):
    """grads[key], or a failure that says it is missing (and what the dict holds)."""
    grads = gradient_dict(grads, call)
    if key not in grads:
        raise feedback.Failure(f"{call} returned no gradient for '{key}': expected the keys {list(KEYS)}, got "
                             f"{feedback.fmt(grads)}")
    return grads[key]


@lru_cache(maxsize=1)
def public_problem():
    """The public checks' network, batch and the oracle's values on them, drawn in one stream."""
    r = rng_for("two layer net")
    d, h, k, n = 2, 3, 2, 4
    params = {"W1": r.normal(size=(h, d)), "b1": r.normal(0, 0.5, size=h),
              "W2": r.normal(size=(k, h)), "b2": r.normal(0, 0.5, size=k)}
    X, y = r.normal(size=(n, d)), r.uniform(size=(n, k))
    grads = {key: param_gradient(partial(oracle.two_layer_loss, X=X, y=y), params, key) for key in params}
    return {"params": params, "X": X, "y": y, "grads": grads, "yhat": oracle.two_layer_forward(params, X)}


# -- init ----------------------------------------------------------------
def public_init_shapes(net):
    """init_params returns W1 (H, D), b1 (H,), W2 (K, H), b2 (K,)"""
    probes.mapping_shapes(net, fn="init_params", args=(3, 4, 2), kwargs={"seed": 1},
                          expected={"W1": [4, 3], "b1": [4], "W2": [2, 4], "b2": [2]})


# A slip costs once (grader/suites/conftest.py _stand_ins): fit runs these functions; where one failed its
# own tests, fit's tests run on the reference's (forward and backward together: they share the cache).
FIT_CONSUMES = pytest.mark.consumes((("test_init",), ("init_params",)),
                                    (("test_forward", "test_backward"), ("forward", "backward")),
                                    (("test_mse",), ("mse_loss",)))
# predict runs forward: where forward failed its own tests, predict's test runs on the reference's.
PREDICT_CONSUMES = pytest.mark.consumes((("test_forward",), ("forward",)))


@pytest.mark.public
@pytest.mark.points(1)
def test_init_shapes(net):
    """init_params returns W1 (H, D), b1 (H,), W2 (K, H), b2 (K,)"""
    p = net.init_params(3, 5, 2, seed=0)
    feedback.mapping(p, "init_params(n_in=3, n_hidden=5, n_out=2, seed=0)", KEYS, shapes(3, 5, 2))
    for k in KEYS:
        feedback.finite(np.asarray(p[k], dtype=np.float64), f"init_params(3, 5, 2)['{k}']")


@pytest.mark.visible
@pytest.mark.points(1)
def test_init_seeded_and_random(net):
    """init_params is the same for the same seed, differs across seeds, and breaks symmetry"""
    call = "init_params(4, 6, 2, seed=...)"
    a = feedback.mapping(net.init_params(4, 6, 2, seed=3), call, KEYS, shapes(4, 6, 2))
    b = feedback.mapping(net.init_params(4, 6, 2, seed=3), call, KEYS, shapes(4, 6, 2))
    c = feedback.mapping(net.init_params(4, 6, 2, seed=4), call, KEYS, shapes(4, 6, 2))
    feedback.require(all(np.array_equal(a[k], b[k]) for k in KEYS),
                     f"init_params(4, 6, 2, seed=3) gave different parameters on two calls: "
                     f"{feedback.hint('init_unseeded')}")
    feedback.require(not np.array_equal(a["W1"], c["W1"]),
                     "init_params gave the same W1 for seed=3 and seed=4: use the seed argument")
    feedback.require(np.unique(np.round(a["W1"], 12), axis=0).shape[0] == 6,
                     f"init_params(4, 6, 2): some rows of W1 are identical, {feedback.hint('init_symmetric')}")


# -- forward -------------------------------------------------------------
def public_forward(net):
    """forward matches σ(W2 σ(W1 x + b1) + b2)"""
    d = public_problem()
    probes.forward_close(net, fn="forward", args=(d["params"], d["X"]), expected=d["yhat"], argnames=("params", "X"),
                         rtol=1e-9)


@pytest.mark.public
@pytest.mark.points(1.5)
def test_forward_values(net, rng):
    """forward matches ŷ = σ(W2 σ(W1 x + b1) + b2)"""
    params, X, _ = problem(rng, n=4)
    yhat, _ = forward_pair(net, params, X)
    feedback.close(yhat, oracle.two_layer_forward(params, X), "forward(params, X)",
                 {"params": params, "X": X}, rtol=1e-9)


@covered_by(public_forward)
@pytest.mark.points(1)
@given(n=st.integers(1, 7), d=st.integers(1, 4), h=st.integers(1, 5), k=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_forward_any_shape(net, n, d, h, k, seed):
    """forward returns ŷ of shape (N, K) for any N, D, H, K"""
    rng = np.random.default_rng(seed)
    params, X = random_params(rng, d, h, k), rng.normal(size=(n, d))
    yhat, _ = forward_pair(net, params, X)
    feedback.close(yhat, oracle.two_layer_forward(params, X), "forward(params, X)",
                 {"params": params, "X": X}, rtol=1e-9)


# -- loss ----------------------------------------------------------------
def public_mse(net):
    """mse_loss matches (1/N) Σ ‖y − ŷ‖²"""
    d = public_problem()
    probes.call_scalar(net, fn="mse_loss", args=(d["yhat"], d["y"]), expected=oracle.mse(d["yhat"], d["y"]),
                       argnames=("yhat", "y"), rtol=1e-9, batch=4, outputs=2)


@pytest.mark.public
@pytest.mark.points(2)
def test_mse_values(net, rng):
    """mse_loss matches (1/N) Σᵢ ‖yᵢ − ŷᵢ‖² (summed over outputs, averaged over rows)"""
    yhat, y = rng.uniform(size=(5, 3)), rng.uniform(size=(5, 3))
    feedback.scalar_close(net.mse_loss(yhat, y), oracle.mse(yhat, y), "mse_loss(yhat, y)",
                        {"yhat": yhat, "y": y}, rtol=1e-9, batch=5, outputs=3)


@covered_by(public_mse)
@pytest.mark.points(1)
@given(pair=strategies.predictions_and_targets())
def test_mse_laws(net, pair):
    """mse_loss is ≥ 0, is 0 when ŷ = y, and is unchanged when the batch is duplicated"""
    yhat, y = pair
    got = feedback.scalar_close(net.mse_loss(yhat, y), oracle.mse(yhat, y), "mse_loss(yhat, y)",
                              {"yhat": yhat, "y": y}, rtol=1e-7, atol=1e-12, batch=y.shape[0],
                              outputs=y.shape[1])
    feedback.require(got >= 0, f"mse_loss(yhat, y) {feedback.describe_inputs(yhat=yhat, y=y)}: got {got:.6g} < 0")
    zero = feedback.scalar(net.mse_loss(y, y), "mse_loss(y, y)")
    feedback.require(abs(zero) < 1e-12, f"mse_loss(y, y) {feedback.describe_inputs(y=y)}: got {zero:.6g}, expected 0")
    twice = feedback.scalar(net.mse_loss(np.vstack([yhat, yhat]), np.vstack([y, y])),
                          "mse_loss on the batch repeated twice")
    feedback.require(np.isclose(twice, got, rtol=1e-9, atol=1e-12),
                     f"mse_loss gives {got:.6g} on a batch but {twice:.6g} on the same batch repeated twice: "
                     f"{feedback.hint('batch_summed_loss')}")


# -- backward ------------------------------------------------------------
def public_backward(net):
    """backward matches finite differences (every parameter)"""
    d = public_problem()
    probes.backward(net, args=(d["params"], d["X"], d["y"]), expected=d["grads"], batch=4, square=True,
                    mistakes=mistakes.two_layer_backward_mistakes(d["params"], d["X"], d["y"]))


@pytest.mark.points(2)
@pytest.mark.parametrize("key", [pytest.param("W1", marks=pytest.mark.public)] + [
    pytest.param(k, marks=covered_by(public_backward))
    for k in ("b1", "W2", "b2")])
def test_backward_gradient(net, rng, key):
    """backward matches finite differences ({key})"""
    params, X, y = problem(rng)
    with feedback.prerequisite("backward is checked with the cache your forward returns"):
        _, cache = forward_pair(net, params, X)
    got = gradient_of(net.backward(params, cache, y), key)
    try:
        feedback.gradient(key, got, param_gradient(partial(oracle.two_layer_loss, X=X, y=y), params, key),
                          "backward(params, cache, y)", GRAD_LIMIT, batch=X.shape[0], square=True)
    except feedback.Failure as failure:
        raise feedback.Failure(str(failure) + feedback.likely_cause(
            got, [(wrong[key], hint, values) for hint, values, wrong in
                  mistakes.two_layer_backward_mistakes(params, X, y)])) from None


@covered_by(public_backward)
@pytest.mark.points(1)
@given(n=st.integers(1, 6), d=st.integers(1, 4), h=st.integers(1, 5), k=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_backward_shapes(net, n, d, h, k, seed):
    """backward returns each gradient shaped like its parameter, and nothing else (any N, D, H, K)"""
    # A missing key is charged by its own finite-difference test, not here as well.
    rng = np.random.default_rng(seed)
    params, X, y = random_params(rng, d, h, k), rng.normal(size=(n, d)), rng.uniform(size=(n, k))
    with feedback.prerequisite("backward is checked with the cache your forward returns"):
        _, cache = forward_pair(net, params, X)
    grads = gradient_dict(net.backward(params, cache, y))
    present = [key for key in KEYS if key in grads]
    feedback.mapping({key: grads[key] for key in grads}, "backward(params, cache, y)", present,
                   {key: shapes(d, h, k)[key] for key in present})


@pytest.mark.visible
@pytest.mark.points(1)
def test_backward_is_backpropagation(net, rng):
    """backward computes gradients by backpropagation, not by finite differences"""
    # Timed by the grader, not counted by instrumentation: these calls run exactly like every other
    # call, so no code can tell it is being checked. Finite differences need 2,726 forward passes here.
    params, X, y = problem(rng, n=8, d=30, h=40, k=3)          # 1,363 parameters
    with feedback.prerequisite("backward is checked with the cache your forward returns"):
        _, cache = forward_pair(net, params, X)
    forward_seconds = min([net.last_seconds] + [timed(net, "forward", params, X) for _ in range(2)])
    gradient_dict(backward_within_budget(net, forward_seconds, 1363, params, cache, y))
    backward_seconds = min([net.last_seconds] + [timed(net, "backward", params, cache, y) for _ in range(2)])
    feedback.backprop_not_finite_differences(backward_seconds, forward_seconds, "backward(params, cache, y)", 1363)



# -- fit -----------------------------------------------------------------
def _fit(net, X, y, **kwargs):
    out = feedback.pair(net.call("fit", X, y, **kwargs), "fit(X, y, ...)", ("params", "losses"))
    params, losses = out
    d, k = X.shape[1], y.shape[1]
    h = kwargs.get("n_hidden", 4)
    params = feedback.mapping(params, "fit(...): params", KEYS, shapes(d, h, k), consumed=True)
    if isinstance(losses, np.ndarray):
        losses = list(losses.reshape(-1))
    epochs = kwargs.get("epochs", 5000)
    feedback.require(isinstance(losses, list) and len(losses) == epochs,
                     f"fit(X, y, epochs={epochs}): losses should hold one entry per epoch, got {feedback.fmt(losses)}")
    return params, [feedback.scalar(v, f"fit(...): losses[{i}]", consumed=True) for i, v in enumerate(losses)]


def own_loss(net, params, X, y):
    """The loss the student's own forward and mse_loss give at params, or None. fit records what they
    say: a wrong loss is mse_loss's mistake (or forward's), charged by their tests, not by fit's."""
    try:
        yhat, _ = forward_pair(net, params, X)
        return feedback.scalar(net.mse_loss(yhat, y), "mse_loss")
    except Exception:  # noqa: BLE001
        return None


def recorded(value, *candidates):
    """Is a recorded loss one of the candidates (None ones skipped)?"""
    return any(c is not None and np.isclose(value, c, rtol=1e-6) for c in candidates)


def follows_own_backward(net, params, X, y, step):
    """Is `step` (a dict) the gradient that the student's own forward and backward give at params?
    Then fit is right, and a wrong gradient is the mistake of forward or backward, which their own
    tests charge (a mistake costs its points once)."""
    try:
        _, cache = forward_pair(net, params, X)
        grads = feedback.mapping(net.backward(params, cache, y), "backward", KEYS,
                                 {k: np.shape(params[k]) for k in KEYS})
    except Exception:  # noqa: BLE001 -- forward's and backward's own tests say what is wrong
        return False
    return all(relative_error(step[k], grads[k]) < 1e-5 for k in KEYS) and \
        not all(np.allclose(grads[k], 0.0) for k in KEYS)


def follows_wrong_backward(net, X, y, seed=0):
    """Does fit's first step on (X, y) follow the student's own forward and backward, where those give
    another gradient than the true one? fit's loop is then right, and what it learns is their mistake,
    charged by their tests: the training tests do not charge it again (a slip costs once)."""
    try:
        p0, _ = _fit(net, X, y, n_hidden=4, lr=0.0, epochs=1, seed=seed)
        p1, _ = _fit(net, X, y, n_hidden=4, lr=0.5, epochs=1, seed=seed)
        _, cache = forward_pair(net, p0, X)
        grads = feedback.mapping(net.backward(p0, cache, y), "backward", KEYS, {k: np.shape(p0[k]) for k in KEYS})
    except Exception:  # noqa: BLE001 -- their own tests say what is wrong
        return False
    true = {k: param_gradient(partial(oracle.two_layer_loss, X=X, y=y), p0, k) for k in KEYS}
    wrong = any(relative_error(np.asarray(grads[k], dtype=np.float64), true[k]) > 1e-5 for k in KEYS)
    return wrong and follows_own_backward(net, p0, X, y, {k: (p0[k] - p1[k]) / 0.5 for k in KEYS})


def forward_is_wrong(net, rng):
    """Does the student's forward differ from the network's output (or fail)?"""
    params, X, _ = problem(rng)
    try:
        yhat = feedback.array(forward_pair(net, params, X)[0], "forward", shape=(X.shape[0], params["W2"].shape[0]))
        return not np.allclose(yhat, oracle.two_layer_forward(params, X), rtol=1e-9, atol=1e-12)
    except Exception:  # noqa: BLE001
        return True


def backward_is_wrong(net, rng):
    """Does the student's backward (with their forward's cache) differ from finite differences?"""
    params, X, y = problem(rng)
    try:
        _, cache = forward_pair(net, params, X)
        grads = gradient_dict(net.backward(params, cache, y))
        return any(relative_error(np.asarray(grads[k], dtype=np.float64),
                                  param_gradient(partial(oracle.two_layer_loss, X=X, y=y), params, k)) > 1e-5
                   for k in KEYS)
    except Exception:  # noqa: BLE001 -- a backward that raises is wrong too
        return True


def public_fit_step(net):
    """fit's first epoch is one gradient step of your backward"""
    d = public_problem()
    probes.fit_step(net, args=(d["X"], d["y"]), kwargs={"n_hidden": 3, "lr": 0.5, "epochs": 1, "seed": 3})


def public_fit_seed(net):
    """fit starts from an initialisation that depends on the seed"""
    d = public_problem()
    probes.seed_matters(net, fn="fit", args=(d["X"], d["y"]), kwargs={"n_hidden": 3, "lr": 0.0, "epochs": 1})


@covered_by(public_fit_step,
                        public_fit_seed)
@pytest.mark.points(1.5)
@FIT_CONSUMES
def test_fit_gradient_step(net, rng):
    """fit takes a gradient step per epoch from an initialisation that depends on the seed"""
    X, y = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
    lr = 0.5
    # lr = 0 returns the initial parameters of that seed, whatever the initialiser.
    p0, _ = _fit(net, X, y, n_hidden=4, lr=0.0, epochs=1, seed=11)
    again, _ = _fit(net, X, y, n_hidden=4, lr=0.0, epochs=1, seed=11)
    feedback.require(same_params(p0, again), f"fit(X, y, n_hidden=4, lr=0, epochs=1, seed=11) gave different "
                                            f"parameters on two calls, so its step cannot be measured: "
                                            f"{feedback.hint('init_unseeded')} in init_params, and pass fit's seed "
                                            f"on to it")
    starts_from_init_params(net, p0, (3, 4, 2), 11, "fit(X, y, n_hidden=4, lr=0, epochs=1, seed=11)",
                            "init_params(3, 4, 2, seed=11)")
    p1, losses = _fit(net, X, y, n_hidden=4, lr=lr, epochs=1, seed=11)
    step = {key: (p0[key] - p1[key]) / lr for key in KEYS}
    try:
        for key in KEYS:
            feedback.gradient(key, step[key], param_gradient(partial(oracle.two_layer_loss, X=X, y=y), p0, key),
                              "fit(X, y, lr=0.5, epochs=1, seed=11), read as (p0 - p1) / lr,", 1e-5, batch=6,
                              square=True, lr=lr)
    except feedback.Failure:
        if not follows_own_backward(net, p0, X, y, step):
            raise
    other, _ = _fit(net, X, y, n_hidden=4, lr=0.0, epochs=1, seed=12)
    if varies_with_seed(net, (3, 4, 2), 11, 12):      # else init_params's own test charges it
        feedback.require(not all(np.array_equal(p0[k], other[k]) for k in KEYS),
                         f"fit(..., seed=11) and fit(..., seed=12) start from the same parameters: "
                         f"{feedback.hint('seed_not_passed')}")


@pytest.mark.visible
@pytest.mark.points(0.5)
@FIT_CONSUMES
def test_fit_records_loss_before_step(net, rng):
    """fit records each epoch's loss before its update (losses[0] is the loss of the initial parameters)"""
    # The docstring's order: forward, record the loss, backward, then update. Only losses[0] is
    # checked, at fit's own starting point (lr = 0 returns it), whatever fit's step: a wrong step or
    # initialisation is charged by their own tests.
    X, y = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
    p0, _ = _fit(net, X, y, n_hidden=4, lr=0.0, epochs=1, seed=11)
    p1, losses = _fit(net, X, y, n_hidden=4, lr=0.5, epochs=1, seed=11)
    before, after = oracle.two_layer_loss(p0, X, y), oracle.two_layer_loss(p1, X, y)
    if recorded(losses[0], before, own_loss(net, p0, X, y)):
        return
    late = recorded(losses[0], after, own_loss(net, p1, X, y))
    raise feedback.Failure(f"fit(X, y, n_hidden=4, lr=0.5, epochs=1, seed=11): losses[0] = {losses[0]:.6g}, but the "
                           f"loss of the parameters it starts from is {before:.6g}"
                           + (f" ({losses[0]:.6g} is the loss after the step: {feedback.hint('loss_after_step')})"
                              if late else ""))


def public_fit_losses(net):
    """fit records one loss per epoch, and they go down"""
    # Calibrated on the reference and the three correct alternatives, seeds 0-3: the loss falls by 24% at
    # least in 20 epochs (0.0239 -> 0.0181, the per-example alternative at seed 0); 4.6x for the reference at 0.
    d = public_problem()
    probes.losses_per_epoch(net, args=(d["X"], d["y"]), kwargs={"n_hidden": 3, "lr": 0.5, "epochs": 20, "seed": 0})


@covered_by(public_fit_losses)
@pytest.mark.points(1)
@FIT_CONSUMES
def test_fit_loss_decreases(net, rng):
    """fit records one loss per epoch, and the loss goes down"""
    X, y = rng.normal(size=(8, 2)), rng.uniform(size=(8, 1))
    params, losses = _fit(net, X, y, n_hidden=3, lr=0.5, epochs=200, seed=1)
    feedback.require(all(np.isfinite(losses)) and losses[-1] < losses[0] or follows_wrong_backward(net, X, y, seed=1),
                     f"fit(X, y, lr=0.5, epochs=200): losses went from {losses[0]:.6g} to {losses[-1]:.6g}; "
                     f"they should decrease")
    final = oracle.two_layer_loss(params, X, y)
    close = lambda v: v is not None and abs(losses[-1] - v) <= 0.05 * abs(v) + 1e-9  # noqa: E731
    feedback.require(close(final) or close(own_loss(net, params, X, y)),
                     f"fit(...): the last recorded loss {losses[-1]:.6g} is far from the loss {final:.6g} of "
                     f"the returned parameters")


def public_fit_xor(net):
    """fit learns XOR (seed 0, default hyperparameters)"""
    probes.xor(net, args=(XOR_X, XOR_Y), kwargs={"seed": 0})


@covered_by(public_fit_xor)
@pytest.mark.points(3)
@FIT_CONSUMES
def test_fit_learns_xor(net):
    """fit learns XOR with the defaults (n_hidden=4, lr=2.0, epochs=5000) for at least 3 of 5 seeds"""
    # Calibration (20 seeds each): the reference, Xavier-uniform, U(-1, 1),
    # N(0, 0.5²) and legacy np.random.randn initialisations learn XOR on 20/20
    # seeds and 5/5 of these; even a timid N(0, 0.1²) init gets 4/5.
    # 0.01·N(0, 1) solves 0/5: its outputs stay near 0.5, which the message points out.
    # Seeds in order, and no further once 3 are solved: the verdict is that of all five (correct code
    # solves seeds 0-2 and trains 3 networks, not 5); a failure's message reports all five.
    solved, stuck = [], 0
    for seed in range(5):
        params, _ = _fit(net, XOR_X, XOR_Y, seed=seed)
        pred = oracle.two_layer_forward(params, XOR_X)
        solved.append(bool(np.all((pred >= 0.5) == (XOR_Y >= 0.5))))
        stuck += bool(np.all(np.abs(pred - 0.5) < 0.05))
        if sum(solved) >= 3:
            return
    if follows_wrong_backward(net, XOR_X, XOR_Y):
        return
    # The likely cause: none named when forward is wrong (its tests say how); backward, when it is wrong
    # (fit learns what it says); else, outputs stuck at 0.5 point to the initialisation's scale.
    check = np.random.default_rng(2718)
    if forward_is_wrong(net, check):
        hint = ""
    elif backward_is_wrong(net, check):
        hint = f" Likely cause: {feedback.hint('backward_first')} (see the tests of backward)."
    else:
        hint = (f" For {stuck} seed(s) every output stayed within 0.05 of 0.5: {feedback.hint('init_too_small')}."
                if stuck else "")
    feedback.require(sum(solved) >= 3, f"fit(XOR) with the default hyperparameters solved XOR for "
                                     f"{sum(solved)} of seeds 0-4 ({solved}); expected at least 3." + hint)


# -- predict and contract --------------------------------------------------
def public_predict(net):
    """predict returns the network output ŷ"""
    d = public_problem()
    probes.call_close(net, fn="predict", args=(d["params"], d["X"]), expected=d["yhat"], argnames=("params", "X"),
                      rtol=1e-9)


@covered_by(public_predict)
@pytest.mark.points(1)
@PREDICT_CONSUMES
def test_predict(net, rng):
    """predict returns the network output ŷ"""
    params, X, _ = problem(rng, n=4)
    got = net.predict(params, X)
    feedback.close(got, oracle.two_layer_forward(params, X), "predict(params, X)", {"params": params, "X": X},
                   rtol=1e-9)


def public_backward_cache(net):
    """backward leaves the cache as forward returned it (twice on one cache, the same gradients)"""
    d = public_problem()
    probes.backward_twice(net, args=(d["params"], d["X"], d["y"]))


@pytest.mark.last
@pytest.mark.visible
@pytest.mark.points(0.5)
def test_no_input_mutation(net, rng):
    """no function modifies its inputs"""
    params, X, y = problem(rng)
    yhat = oracle.two_layer_forward(params, X)
    cases = [("forward", "params, X", (params, X)), ("mse_loss", "yhat, y", (yhat, y)),
             ("predict", "params, X", (params, X)), ("fit", "X, y", (X, y))]
    calls = Calls()
    for name, names, args in cases:
        kwargs = {"epochs": 3} if name == "fit" else {}
        copies = [({k: v.copy() for k, v in a.items()} if isinstance(a, dict) else a.copy()) for a in args]
        after = calls.after(net, name, *copies, **kwargs)
        if after is not None:
            feedback.unchanged(f"{name}({names})", names.split(", "), args, after)
    cache = calls.after(net, "forward", params, X)
    if cache is not None:
        _, cache = forward_pair(net, params, X)
        after = calls.after(net, "backward", {k: v.copy() for k, v in params.items()}, cache, y.copy())
        if after is not None:
            feedback.unchanged("backward(params, cache, y)", ("params", "cache", "y"), (params, None, y), after)
            calls.same_again(net, "backward", {k: v.copy() for k, v in params.items()}, cache, y.copy())
    calls.finish()
