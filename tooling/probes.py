"""The public checks' probes: each checks one behaviour of a student's module against given numbers.

A probe is called as `probe(student, **data)`: `student` is the student's
module behind its `call(fn, *args, **kwargs)` (check.py's InProcessModule in
`make check`; the judge's sandboxed proxy in the hidden suites, which use the
same probes where they check the same thing), and `data` holds the inputs and the
expected values, as numbers. A public check is declared next to the hidden
tests of its part (grader/suites/test_<part>.py) as a call of one probe;
`python -m grader assign` records that call into
public_tests/<part>.json, which check.py replays here. No grader or
reference code is needed: the expected values are numbers.

Every probe fails with a feedback.Failure whose message says what was
called on which input, what was expected and what came back, as the hidden
suites' messages do (feedback.py is shared with them).
"""
import functools
import itertools

import numpy as np

from . import feedback

PROBES = {}


def probe(check):
    """Register `check` as a probe (its name is the `kind` of the public cases that run it).

    Called with an object that has `_record_probe` (the generator's recorder), the probe is
    recorded, not run: that is how a public check's declaration becomes its JSON case."""
    PROBES[check.__name__] = check

    @functools.wraps(check)
    def run(student, **data):
        record = getattr(student, "_record_probe", None)
        if record is not None:
            return record(check.__name__, data)
        return check(student, **data)
    return run


def _label(fn, argnames, kwargs=None):
    """'fn(x, dout)', with keyword arguments shown: 'leaky_relu(x, alpha=0.2)'."""
    shown = [*argnames, *(f"{k}={v!r}" for k, v in (kwargs or {}).items() if np.isscalar(v))]
    return f"{fn}({', '.join(shown)})"


def _inputs(argnames, args):
    """The named inputs small enough to show in a message (arrays and numbers)."""
    return {n: a for n, a in zip(argnames, args) if isinstance(a, np.ndarray) or np.isscalar(a)}


def _tolerances(rtol, atol):
    return {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}


def accuracy(pred, labels, label="predict(params, X)"):
    pred = feedback.array(pred, label, shape=labels.shape)
    return float(np.mean(pred == labels))


# -- values -----------------------------------------------------------------------------
@probe
def call_close(student, fn, args=(), kwargs=None, expected=None, argnames=(), rtol=None, atol=None,
               errstate=None, mistakes=()):
    """fn(*args, **kwargs) returns `expected` (an array), with floating-point errors raised under `errstate`.

    mistakes: [[hint id, hint values, what the mistake returns]] on these inputs (the likely causes)."""
    kwargs = kwargs or {}
    got = student.call(fn, *args, _errstate=errstate, **kwargs)
    try:
        feedback.close(got, expected, _label(fn, argnames, kwargs), _inputs(argnames, args),
                       **_tolerances(rtol, atol))
    except feedback.Failure as failure:
        raise feedback.Failure(str(failure) + feedback.likely_cause(
            got, [(np.asarray(wrong), hint, values) for hint, values, wrong in mistakes])) from None


@probe
def forward_close(student, fn, args=(), kwargs=None, expected=None, argnames=(), rtol=None, atol=None):
    """fn returns (output, cache), and the output is `expected`."""
    label = _label(fn, argnames)
    out = feedback.pair(student.call(fn, *args, **(kwargs or {})), label, ("output", "cache"))
    feedback.close(out[0], expected, label, _inputs(argnames, args), **_tolerances(rtol, atol))


@probe
def call_scalar(student, fn, args=(), kwargs=None, expected=None, argnames=(), rtol=None, atol=None, batch=None,
                outputs=None, errstate=None):
    """fn returns the float `expected`; a factor of the batch size or of the outputs is named."""
    got = student.call(fn, *args, _errstate=errstate, **(kwargs or {}))
    feedback.scalar_close(got, expected, _label(fn, argnames), _inputs(argnames, args), batch=batch,
                          outputs=outputs, **_tolerances(rtol, atol))


@probe
def tuple_close(student, fn, args=(), kwargs=None, expected=(), argnames=()):
    """fn returns a tuple whose items are `expected`'s (floats or arrays)."""
    label = _label(fn, argnames)
    got = student.call(fn, *args, **(kwargs or {}))
    feedback.require(isinstance(got, (tuple, list)) and len(got) == len(expected),
                     f"{label}: expected a tuple of {len(expected)}, got {feedback.fmt(got)}")
    for i, (g, e) in enumerate(zip(got, expected)):
        if np.ndim(e) == 0:
            feedback.scalar_close(g, float(e), f"{label}[{i}]")
        else:
            feedback.close(g, e, f"{label}[{i}]", rtol=1e-9, atol=1e-12)


@probe
def finite_scalar(student, fn, args=(), kwargs=None, argnames=()):
    """fn returns a finite float (a loss at a = 0 or 1)."""
    label, inputs = _label(fn, argnames), _inputs(argnames, args)
    value = feedback.scalar(student.call(fn, *args, **(kwargs or {})), label, inputs)
    feedback.require(np.isfinite(value), f"{label} {feedback.describe_inputs(**inputs)}: got {value}; it should be "
                                         f"finite ({feedback.hint('clip_before_log')})")


@probe
def scalar_at_least(student, fn, args=(), kwargs=None, expected=None, argnames=()):
    """fn returns at least `expected` (a confidently wrong prediction costs a large loss)."""
    label, inputs = _label(fn, argnames), _inputs(argnames, args)
    value = feedback.scalar(student.call(fn, *args, **(kwargs or {})), label, inputs)
    feedback.require(value >= expected, f"{label} {feedback.describe_inputs(**inputs)}: got {value:.6g}; a "
                                        f"prediction that is certain and wrong should cost at least {expected:g} "
                                        f"(−log(eps) with eps ≤ 1e-7, e.g. 27.6 for eps = 1e-12): is eps too "
                                        f"large?")


@probe
def labels(student, fn, args=(), kwargs=None, expected=None, argnames=()):
    """fn returns the integer labels `expected`."""
    label = _label(fn, argnames)
    got = feedback.array(student.call(fn, *args, **(kwargs or {})), label, shape=expected.shape,
                         inputs=_inputs(argnames, args))
    feedback.require(got.dtype.kind in "iu", f"{label}: expected integer labels, got dtype {got.dtype}")
    feedback.require(np.array_equal(got, expected), f"{label}: expected {feedback.fmt(expected)}, "
                                                    f"got {feedback.fmt(got)}")


@probe
def close_dict(student, fn, args=(), kwargs=None, expected=None, argnames=()):
    """fn returns a dict of arrays equal to `expected`'s; for sgd_step a wrong step is measured against the
    gradient (a factor, a sign)."""
    label = _label(fn, argnames)
    got = feedback.mapping(student.call(fn, *args, **(kwargs or {})), label, list(expected))
    for k in expected:
        try:
            feedback.close(got[k], expected[k], f"{label}['{k}']", rtol=1e-12, atol=1e-15)
        except feedback.Failure as failure:
            if fn != "sgd_step":
                raise
            params, grads, lr = args
            raise feedback.Failure(str(failure) + feedback.step_hint(params[k], grads[k], got[k], lr)) from None


@probe
def mapping_shapes(student, fn, args=(), kwargs=None, expected=None, argnames=()):
    """fn returns a dict with exactly `expected`'s keys, each array of the shape given there."""
    feedback.mapping(student.call(fn, *args, **(kwargs or {})), _label(fn, argnames), list(expected),
                     {k: tuple(v) for k, v in expected.items()})


@probe
def zero_biases(student, fn, args=(), kwargs=None, expected=None, argnames=()):
    """fn returns a dict whose entries named in `expected` (with their shapes) are all zeros."""
    label = _label(fn, argnames)
    got = student.call(fn, *args, **(kwargs or {}))
    feedback.require(isinstance(got, dict), f"{label}: expected a dict, got {feedback.fmt(got)}")
    for k, shape in expected.items():
        b = feedback.array(got.get(k), f"{label}['{k}']", shape=tuple(shape))
        feedback.require(np.all(b == 0), f"{label}['{k}'] = {feedback.fmt(b)}; the docstring asks for bˡ = 0 "
                                         f"(biases start at zero; only the weights are random)")


@probe
def no_mutation(student, calls=()):
    """Each call [fn, args, argnames] leaves its arguments as they were."""
    for fn, args, argnames in calls:
        before = [_copy(a) for a in args]
        _, after, _ = student.call(fn, *[_copy(a) for a in args], _return_args=True)
        feedback.unchanged(_label(fn, argnames), argnames, before, after)


@probe
def float64_of_shape(student, calls=(), shape=()):
    """Each call [fn, args, argnames], on float64 inputs of `shape`, returns a float64 array of `shape`."""
    shape = tuple(shape)
    for fn, args, argnames in calls:
        label, inputs = _label(fn, argnames), _inputs(argnames, args)
        got = feedback.array(student.call(fn, *args), label, shape=shape, inputs=inputs)
        feedback.float64(got, label, inputs=inputs)


def _copy(value):
    if isinstance(value, dict):
        return {k: np.copy(v) for k, v in value.items()}
    return np.copy(value) if isinstance(value, np.ndarray) else value


def _same_numbers(a, b):
    """Are a and b the same numbers (nested tuples, lists and dicts of arrays and floats), to 1e-9?"""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and all(
            _same_numbers(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b) and all(
            _same_numbers(x, y) for x, y in zip(a, b))
    try:
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True))


# -- promises of issue 19 (the hidden tests that check them give the same messages) --------
@probe
def backward_twice(student, fn="backward", args=()):
    """backward(params, cache, y), called twice on one cache from the student's forward(params, X), gives
    the same gradients twice: it leaves the cache as forward returned it."""
    params, X, y = args
    _, cache = feedback.pair(student.call("forward", params, X), "forward(params, X)", ("output", "cache"))
    first = student.call(fn, _copy(params), cache, _copy(y))
    again = student.call(fn, _copy(params), cache, _copy(y))
    feedback.require(_same_numbers(first, again),
                     f"{fn}(params, cache, y) returned other gradients when called a second time with the same "
                     f"cache (and equal params and y): the first call changed what forward put in the cache; "
                     f"{feedback.hint('cache_modified')}")


@probe
def same_seed(student, fn="fit", args=(), kwargs=None):
    """fn(*args, **kwargs) twice in one process gives the same result (the seed reaches every random draw)."""
    first = student.call(fn, *args, **kwargs)
    again = student.call(fn, *args, **kwargs)
    feedback.require(_same_numbers(first, again), f"{_label(fn, ('X', 'y'), kwargs)} gave different results on two "
                                                  f"calls in the same process: {feedback.hint('not_reproducible')}")


@probe
def integer_inputs(student, fn="fit", args=(), kwargs=None, argnames=()):
    """fn with integer arrays (args) gives what it gives on their float copies."""
    label = f"{_label(fn, argnames, kwargs)} with integer {' and '.join(argnames)}"
    expected = student.call(fn, *[a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args], **kwargs)
    try:
        got = student.call(fn, *args, **kwargs)
    except feedback.Failure:
        raise
    except Exception as exc:  # noqa: BLE001 -- the student's error, told with its cause
        raise feedback.Failure(f"{label}: {exc}; {feedback.hint('integer_inputs')}") from None
    feedback.require(_same_numbers(got, expected), f"{label} returned other numbers than on the same values as floats; "
                                                   f"{feedback.hint('integer_inputs')}")


@probe
def loss_not_after_step(student, fn="fit", args=(), kwargs=None, at=2, after=None):
    """fit(..., epochs=1)'s losses (item `at` of what it returns) do not start with `after`, the loss after
    the step: each epoch records its loss before the update. (A loss of the student's own, right or not,
    is judged by the checks of their loss function.)"""
    out = student.call(fn, *args, **kwargs)
    feedback.require(isinstance(out, (tuple, list)) and len(out) > at, f"{_label(fn, ('X', 'y'), kwargs)}: expected a "
                                                                       f"tuple, got {feedback.fmt(out)}")
    losses = out[at]
    feedback.require(isinstance(losses, (list, tuple, np.ndarray)) and len(losses) >= 1,
                     f"fit(...): expected a list of losses, got {feedback.fmt(losses)}")
    first = feedback.scalar(losses[0], "fit(...): losses[0]", consumed=True)
    feedback.require(not np.isclose(first, after, rtol=1e-6),
                     f"{_label(fn, ('X', 'y'), kwargs)}: losses[0] = {first:.6g} is the loss after the step; "
                     f"{feedback.hint('loss_after_step')}")


# -- gradients --------------------------------------------------------------------------
@probe
def call_gradient(student, fn, args=(), kwargs=None, expected=None, argnames=(), param="x", batch=None,
                  limit=1e-6, mistakes=(), example=None):
    """fn's gradient(s) match the finite differences `expected`.

    param: the name of the one gradient fn returns, or a tuple of names when it returns several.
    mistakes: [[hint id, hint values, what the mistake returns]] on these inputs (the likely causes);
    example: {"x", "dout", "expected"}, a small input on which a wrong backward is shown."""
    kwargs = kwargs or {}
    label, inputs = _label(fn, argnames, kwargs), _inputs(argnames, args)
    got = student.call(fn, *args, **kwargs)
    if isinstance(param, str):
        try:
            feedback.gradient(param, got, expected, label, limit, batch=batch, inputs=inputs)
        except feedback.Failure as failure:
            raise feedback.Failure(str(failure) + _diagnosis(student, fn, label, got, kwargs, mistakes,
                                                             example)) from None
        return
    got = feedback.pair(got, label, tuple(f"d{p}" for p in param))
    for p, g, e in zip(param, got, expected):
        if np.ndim(e) == 0:
            g = np.asarray(feedback.scalar(g, f"{label}: d{p}"))
        feedback.gradient(p, g, np.asarray(e), label, limit, batch=batch)


def _diagnosis(student, fn, label, got, kwargs, mistakes, example):
    """The likely cause (what each classic mistake gives on these inputs) and, for a backward of an
    elementwise function, the same function on a 3-number example."""
    text = feedback.likely_cause(got, [(np.asarray(wrong), hint, values) for hint, values, wrong in mistakes])
    if example:
        try:
            small = student.call(fn, example["dout"], example["x"], **kwargs)
        except Exception:  # noqa: BLE001 -- the main message already says what went wrong
            return text
        if isinstance(small, np.ndarray) and small.shape == example["x"].shape \
                and not np.allclose(small, example["expected"]):
            text += feedback.for_example(label, {"x": example["x"], "dout": example["dout"]}, example["expected"],
                                         small)
    return text


@probe
def backward(student, fn="backward", args=(), expected=None, batch=None, square=False, mistakes=()):
    """backward(params, cache, y), with the cache of the student's own forward(params, X), gives the
    finite differences `expected` for every parameter. mistakes: [[hint id, hint values, {key: what the
    mistake returns}]] on these inputs (the likely causes)."""
    params, X, y = args
    _, cache = feedback.pair(student.call("forward", params, X), "forward(params, X)", ("output", "cache"))
    grads = feedback.mapping(student.call(fn, params, cache, y), "backward(params, cache, y)", list(params))
    for k in params:
        try:
            feedback.gradient(k, grads[k], expected[k], "backward(params, cache, y)", batch=batch, square=square)
        except feedback.Failure as failure:
            raise feedback.Failure(str(failure) + feedback.likely_cause(
                grads[k], [(np.asarray(wrong[k]), hint, values) for hint, values, wrong in mistakes])) from None


# -- training ---------------------------------------------------------------------------
@probe
def seed_matters(student, fn, args=(), kwargs=None):
    """fn(..., seed=5) and fn(..., seed=6) start from different parameters (read with lr = 0)."""
    label = _label(fn, ())
    firsts = [feedback.pair(student.call(fn, *args, seed=seed, **(kwargs or {})), label, ("params", "losses"))[0]
              for seed in (5, 6)]
    feedback.require(not all(np.array_equal(firsts[0][k], firsts[1][k]) for k in firsts[0]),
                     f"fit(..., seed=5) and fit(..., seed=6) start from the same parameters: "
                     f"{feedback.hint('seed_not_passed')}")


@probe
def fit_logreg(student, fn="fit", args=(), kwargs=None, expected=None, batch=None):
    """fit(X, y, lr, epochs) ends at `expected` = (w, b), `epochs` gradient steps from zeros; or, where the
    student's own forward or backward is wrong (their own checks say so), where those steps lead."""
    X, y = args
    out = student.call(fn, *args, **kwargs)
    feedback.require(isinstance(out, (tuple, list)) and len(out) == 3,
                     f"fit(X, y, lr, epochs): expected (w, b, losses), got {feedback.fmt(out)}")
    lr, epochs = kwargs["lr"], kwargs["epochs"]
    losses = out[2]
    feedback.require(len(losses) == epochs, f"fit(X, y, epochs={epochs}): losses should hold one entry per epoch, "
                                            f"got {feedback.fmt(losses)}")
    b = feedback.scalar(out[1], "fit(...): b", consumed=True)
    try:
        feedback.gradient("w", -np.asarray(out[0]) / lr, -expected[0] / lr, f"fit(X, y, lr=0.5, epochs={epochs}), "
                          f"read as -w / lr,", 1e-5, batch=batch, lr=lr)
        feedback.gradient("b", np.array(-b / lr), np.array(-expected[1] / lr), f"fit(X, y, lr=0.5, "
                          f"epochs={epochs}), read as -b / lr,", 1e-5, batch=batch, lr=lr)
    except feedback.Failure:
        # As in the grader: fit may be right about a wrong forward or backward, which their own
        # checks flag; fit is then judged by whether it follows them.
        if not _logreg_follows_own(student, X, y, lr, epochs, out[0], b):
            raise


def _logreg_follows_own(student, X, y, lr, epochs, w, b):
    """Does fit(X, y, lr, epochs) end where `epochs` steps of the student's own forward and backward lead
    from 0?"""
    try:
        w_own, b_own = np.zeros(X.shape[1]), 0.0
        for _ in range(epochs):
            a = student.call("forward", X, w_own, b_own)
            dw, db = feedback.pair(student.call("backward", X, a, y), "backward(X, a, y)", ("dw", "db"))
            w_own, b_own = w_own - lr * np.asarray(dw, dtype=np.float64), b_own - lr * float(db)
    except Exception:  # noqa: BLE001 -- their own checks say what is wrong with them
        return False
    return np.allclose(w, w_own, rtol=1e-7, atol=1e-12) and np.isclose(b, b_own, rtol=1e-7, atol=1e-12) \
        and not np.allclose(w_own, 0.0)


@probe
def fit_step(student, fn="fit", args=(), kwargs=None, with_sgd_step=False):
    """(p0 - p1) / lr from fit must equal the student's own backward at p0 (fit's loop, not backward, is
    tested; with_sgd_step: p1 may also be their own sgd_step(p0, grads, lr), as the grader accepts)."""
    X, y = args
    lr = kwargs["lr"]
    p0, _ = feedback.pair(student.call(fn, X, y, **dict(kwargs, lr=0.0)), "fit(...)", ("params", "losses"))
    again, _ = feedback.pair(student.call(fn, X, y, **dict(kwargs, lr=0.0)), "fit(...)", ("params", "losses"))
    feedback.require(isinstance(p0, dict) and isinstance(again, dict) and set(p0) == set(again)
                     and all(np.array_equal(p0[k], again[k]) for k in p0),
                     f"fit(..., lr=0, seed={kwargs.get('seed')}) gave different parameters on two calls, so its step "
                     f"cannot be measured: {feedback.hint('init_unseeded')} in init_params, and pass fit's seed on "
                     f"to it")
    p1, _ = feedback.pair(student.call(fn, X, y, **kwargs), "fit(...)", ("params", "losses"))
    _, cache = feedback.pair(student.call("forward", p0, X), "forward(params, X)", ("output", "cache"))
    grads = feedback.mapping(student.call("backward", p0, cache, y), "backward(params, cache, y)", list(p0))
    if with_sgd_step:                  # fit steps with their sgd_step: its own check judges sgd_step
        try:
            mine = feedback.mapping(student.call("sgd_step", p0, grads, lr), "sgd_step(params, grads, lr)", list(p0))
            if all(np.allclose(np.asarray(p1[k], dtype=np.float64), np.asarray(mine[k], dtype=np.float64),
                               rtol=1e-7, atol=1e-10) for k in p0) and not all(
                    np.array_equal(p0[k], p1[k]) for k in p0):
                return
        except Exception:  # noqa: BLE001 -- sgd_step's own check says what is wrong with it
            pass
    for k in p0:
        step = feedback.harmless((np.asarray(p0[k]) - np.asarray(p1[k])) / lr, np.shape(grads[k]))
        feedback.gradient(k, step, grads[k],
                          f"fit(..., lr={lr}, epochs=1), read as (p0 - p1) / lr and compared with your backward,",
                          1e-6, batch=len(y), lr=lr)


@probe
def epochs(student, fn="fit", args=(), kwargs=None):
    """fit's epochs, replayed with the student's own forward, backward, sgd_step and cross_entropy: each epoch
    is one step per minibatch over a shuffle of all the rows (batches of 2, 2 and 1 for 5 rows), epoch 2
    starts where epoch 1 ended with a shuffle of its own, history[e] is epoch e's mean loss, and fit starts
    from init_params(layer_sizes, seed). Their functions are judged by their own checks; this one judges
    fit's loop, as the grader does with its own."""
    X, y = args
    sizes, size, lr = tuple(kwargs["layer_sizes"]), kwargs["batch_size"], kwargs["lr"]
    label = f"fit(X, y, layer_sizes={sizes}, batch_size={size}, lr={lr}) on {len(y)} rows"

    def fit(n_epochs, rate, seed):
        params, history = feedback.pair(student.call(fn, X, y, layer_sizes=sizes, epochs=n_epochs,
                                                     batch_size=size, lr=rate, seed=seed), label, ("params", "history"))
        feedback.require(len(history) == n_epochs, f"{label}, epochs={n_epochs}: history should hold one mean loss per "
                                                   f"epoch, got {feedback.fmt(history)}")
        return params, [float(h) for h in history]

    def loss(params, rows):
        logits, _ = feedback.pair(student.call("forward", params, X[rows]), "forward(params, X)",
                                  ("logits", "cache"))
        return feedback.scalar(student.call("cross_entropy", logits, y[rows]), "cross_entropy(logits, y)")

    def epoch(params, order):
        """Their step on each minibatch of `order`: (params after, [(batch loss, rows)])."""
        losses = []
        for first in range(0, len(order), size):
            rows = list(order[first:first + size])
            _, cache = feedback.pair(student.call("forward", params, X[rows]), "forward(params, X)",
                                     ("logits", "cache"))
            losses.append((loss(params, rows), len(rows)))
            grads = student.call("backward", params, cache, y[rows])
            params = student.call("sgd_step", params, grads, lr)
        return params, losses

    def same(a, b):
        # A fit that trains in float32 is SGD too, to float32's precision (the grader's sgd_close).
        single = any(np.asarray(v).dtype == np.float32 for v in [*a.values(), *b.values()])
        rtol, atol = (1e-4, 1e-6) if single else (1e-7, 1e-10)
        return set(a) == set(b) and all(np.allclose(a[k], b[k], rtol=rtol, atol=atol) for k in a)

    def mean_loss(value, losses, start, end):
        values = np.array([l for l, _ in losses])
        counts = np.array([n for _, n in losses])
        every = list(range(len(y)))
        return any(np.isclose(value, v, rtol=1e-6) for v in (values.mean(), (values * counts).sum() / counts.sum(),
                                                              loss(start, every), loss(end, every)))

    partitions = []
    for perm in itertools.permutations(range(len(y))):
        blocks = tuple(frozenset(perm[i:i + size]) for i in range(0, len(perm), size))
        if blocks not in [b for b, _ in partitions]:
            partitions.append((blocks, perm))
    firsts, reshuffled = [], False
    for seed in (0, 1, 2):
        p0, _ = fit(1, 0.0, seed)
        init = student.call("init_params", sizes, seed)
        if not (isinstance(init, dict) and same(p0, init)):
            default = student.call("init_params", sizes)
            why = feedback.hint("seed_not_passed") if isinstance(default, dict) and same(p0, default) \
                else "and not draw its own weights"
            raise feedback.Failure(f"{label}, lr=0, seed={seed} returned other parameters than init_params({sizes}, "
                                   f"seed={seed}): fit should start from init_params with the same seed ({why})")
        p1, history = fit(1, lr, seed)
        found = next(((blocks, perm, losses) for blocks, perm in partitions
                      for end, losses in [epoch(p0, perm)] if same(end, p1)), None)
        feedback.require(found is not None, f"{label}, seed={seed}: one epoch is not a step of your own backward and "
                         f"sgd_step per minibatch over any order of the rows (batches of 2, 2 and 1: the last batch is "
                         f"smaller)")
        blocks, perm, losses = found
        feedback.require(mean_loss(history[0], losses, p0, p1), f"{label}, seed={seed}: history[0] = "
                         f"{history[0]:.6g}, but the epoch's batch losses were "
                         f"{feedback.fmt(np.array([l for l, _ in losses]))}; {feedback.hint('epoch_mean_loss')}")
        p2, history = fit(2, lr, seed)
        second = None
        for blocks1, perm1 in [(blocks, perm)] + [pb for pb in partitions if pb[0] != blocks]:
            middle, _ = epoch(p0, perm1)
            second = next(((blocks1, b2, middle, l2) for b2, perm2 in partitions
                           for end, l2 in [epoch(middle, perm2)] if same(end, p2)), None)
            if second:
                break
        feedback.require(second is not None, f"{label}, epochs=2, seed={seed}: the result is not two epochs of steps "
                         f"of your own backward and sgd_step, the second starting where the first ended")
        blocks1, blocks2, middle, losses = second
        reshuffled |= blocks1 != blocks2
        feedback.require(mean_loss(history[1], losses, middle, p2), f"{label}, epochs=2, seed={seed}: history[1] = "
                         f"{history[1]:.6g}, but the second epoch's batch losses were "
                         f"{feedback.fmt(np.array([l for l, _ in losses]))}: each entry of history should hold its "
                         f"own epoch's mean loss ({feedback.hint('history_per_epoch')})")
        firsts.append(perm)
    feedback.require(any(tuple(p) != tuple(range(len(y))) for p in firsts), f"{label}: for seeds 0, 1 and 2 every "
                     f"epoch visited the rows in their original order; {feedback.hint('never_shuffles')}")
    feedback.require(reshuffled, f"{label}: for seeds 0, 1 and 2 the second epoch used the same minibatches as the "
                     f"first; {feedback.hint('shuffles_once')}")


@probe
def accuracy_logreg(student, fn="fit", args=(), expected=None):
    """fit(X, y) with its defaults, then predict, reaches the training accuracy `expected`."""
    X, y = args
    out = student.call(fn, X, y)
    feedback.require(isinstance(out, (tuple, list)) and len(out) == 3, "fit(X, y): expected (w, b, losses)")
    w, b = np.asarray(out[0]), feedback.scalar(out[1], "fit(...): b")
    acc = accuracy(student.call("predict", X, w, b), y, "predict(X, w, b)")
    feedback.require(acc >= expected, f"fit(X, y) with the defaults reaches {acc:.0%} training accuracy on "
                                      f"separable data; expected at least {expected:.0%}"
                                      + (f". b is still {b:g} after training: {feedback.hint('bias_not_updated')}"
                                         if b == 0 else ""))


@probe
def losses_per_epoch(student, fn="fit", args=(), kwargs=None):
    """fit(..., epochs=E) returns E finite losses, one per epoch, and the last is below the first (a few epochs
    of gradient descent on a small batch: every correct fit's loss goes down there)."""
    label = _label(fn, ("X", "y"), kwargs)
    _, losses = feedback.pair(student.call(fn, *args, **kwargs), f"{fn}(X, y)", ("params", "losses"))
    epochs = kwargs["epochs"]
    if isinstance(losses, np.ndarray):
        losses = list(losses.reshape(-1))
    feedback.require(isinstance(losses, (list, tuple)) and len(losses) == epochs,
                     f"{label}: expected {epochs} losses, one per epoch, got {feedback.fmt(losses)}; each epoch "
                     f"appends its loss to the list fit returns")
    values = [feedback.scalar(v, f"{label}: losses[{i}]", consumed=True) for i, v in enumerate(losses)]
    feedback.require(bool(np.all(np.isfinite(values))) and values[-1] < values[0],
                     f"{label}: the losses went from {values[0]:.6g} to {values[-1]:.6g}; they should go down")


@probe
def xor(student, fn="fit", args=(), kwargs=None):
    """fit(XOR) with its defaults, then predict, gives XOR on the four corners."""
    X, y = args
    params, _ = feedback.pair(student.call(fn, X, y, **kwargs), "fit(X, y)", ("params", "losses"))
    pred = np.asarray(student.call("predict", params, X))
    feedback.require(np.array_equal(pred.reshape(-1) >= 0.5, y.reshape(-1) >= 0.5),
                     f"fit(XOR, seed=0) with the defaults predicts {feedback.fmt(pred.reshape(-1))} for XOR's "
                     f"[0, 1, 1, 0]" + (f". Every output stayed within 0.05 of 0.5: {feedback.hint('init_too_small')}"
                                        if np.all(np.abs(pred - 0.5) < 0.05) else ""))


@probe
def mnist(student, fn="fit", kwargs=None, expected=None):
    """fit on the bundled MNIST sample, then predict, reaches the test accuracy `expected`."""
    from .datasets import load_mnist
    Xtr, ytr = load_mnist(split="train")
    Xte, yte = load_mnist(split="test")
    params, _ = feedback.pair(student.call(fn, Xtr, ytr, **kwargs), "fit(X_train, y_train)", ("params", "history"))
    acc = accuracy(student.call("predict", params, Xte), yte)
    feedback.require(acc >= expected, f"fit(X_train, y_train, seed=0) with the defaults reaches {acc:.1%} test "
                                      f"accuracy; expected at least {expected:.0%}")
