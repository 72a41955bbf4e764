# Generated from tooling/feedback.py by `python -m grader assign`: edit tooling/feedback.py, not this copy.
"""Assertions whose messages teach: the harness of both the public tests
(`python -m assignment.check`) and the hidden grader.

Every check raises AssertionError with a message that says what was called
on which (small) input, what was expected and what came back, in the order
type → shape → finite → value → gradient, with a hint for the classic
mistakes (a factor of the batch size, a flipped sign, a missing 2). Messages
show numbers and shapes, never anyone's source code.
"""
import re

import numpy as np

from .gradient_check import relative_error


class Failure(AssertionError):
    """A check failed; str() is the student-facing message."""


# -- likely causes ---------------------------------------------------------------
# Every "likely cause" the hidden grader and the public checks name, in one place:
# both build their messages from these texts (hint(id)), and `make report` groups a
# class's failures by them: by the ids the grader recorded (hints_shown, results'
# extra_data "hints"), else by the texts a message contains (diagnoses(message)).
# A text is a phrase that a message contains; {name} marks a number filled in per message.
HINTS = {
    # factors of a gradient or a loss (ratio_hint)
    "batch_mean_missing": "did you forget to average over the batch?",
    "batch_divided_twice": "did you divide by the batch size twice?",
    "batch_summed_loss": "did you sum over the batch instead of averaging?",
    "outputs_averaged": "sum the squared errors over the outputs and average over the rows only",
    "wrong_sign": "the right size but the wrong sign",
    "dropped_two": "half the right size: did you drop the 2 from the derivative of the square?",
    "factor_two": "is a factor of 2 counted twice?",
    "half": "half the right size",
    "all_zeros": "is a term missing, or is the result never written?",
    "no_step": ("fit returned the parameters it started from: it took no step (is the result of the update "
                "assigned back to the parameters, and is a batch smaller than batch_size still used?)"),
    "lr_twice": "is the learning rate applied twice (once in fit and again in the update)?",
    "broadcast_column": ("a − y broadcast to shape (N, N): a and y must both have shape (N,) (is one of them a "
                         "column vector?)"),
    "transposed": "It matches the transpose: dW must line up with W, shape (out, in)",
    "no_return": "Did you forget a return statement?",
    "finite_differences": "that looks like finite differences, not backpropagation",
    "not_implemented": "not implemented yet (it raises NotImplementedError)",
    # backward passes of the activations
    "drops_dout": "it drops dout: the chain rule multiplies the local derivative by the upstream gradient dout",
    "sigmoid_from_x": "it computes x(1 − x) from the input; σ'(x) = σ(x)(1 − σ(x)) uses the output σ(x)",
    "sigmoid_only": "it multiplies by σ(x) only; σ'(x) = σ(x)(1 − σ(x))",
    "tanh_squares_x": "1 − tanh²(x) squares tanh(x), not x",
    "tanh_not_squared": "1 − tanh²(x) squares tanh(x)",
    "sigma_prime_at_activation": ("σ' is evaluated at the activation σ(z), not at the pre-activation z: "
                                  "sigmoid_backward(dout, x) takes the x that was given to sigmoid"),
    "relu_mask_reversed": "the mask is reversed: the gradient flows where x > 0",
    "relu_mask_on_dout": "the mask must come from the input x, not from dout",
    "relu_times_x": "it multiplies by x; relu'(x) is 1 where x > 0",
    "leaky_slopes_swapped": "the slopes are swapped: 1 where x > 0, α elsewhere",
    "leaky_returns_alpha": "where x < 0 it returns α instead of α·dout",
    "leaky_ignores_alpha": "it ignores the alpha argument (uses 0.01, not {alpha})",
    "float32_result": ("float32 keeps about 7 digits where float64 keeps 16: no dtype=np.float32 or "
                       ".astype(np.float32); np.zeros_like(x) and numpy's arithmetic keep float64"),
    # losses, training, initialisation
    "clip_before_log": "clip a into [eps, 1 − eps] before the log",
    "in_place": "work on a copy (y = x * 2, not x *= 2; p - lr * g, not p -= lr * g)",
    "bias_not_updated": "Is the bias b updated?",
    "init_too_small": ("are the initial weights too small? Weights of order 1 (N(0, 1), U(−1, 1)) break the "
                       "symmetry; 0.01·N(0, 1) does not"),
    "init_unseeded": "seed a generator with np.random.default_rng(seed)",
    "init_symmetric": "so those units would always learn the same thing; draw the weights at random",
    "seed_not_passed": "pass the seed on to init_params",
    "shuffle_X_and_y": "shuffle X and y together with one permutation",
    "never_shuffles": "shuffle the rows at the start of every epoch",
    "shuffles_once": "shuffle the rows again at the start of every epoch",
    "epoch_mean_loss": "history should hold each epoch's mean loss",
    "history_per_epoch": "start a new list of batch losses every epoch",
    "backward_first": "your backward does not match finite differences, and fit follows it: fix backward first",
    "softmax_axis0": ("each column sums to 1, not each row: normalise over axis=1 (each row is one example's "
                      "logits), np.sum(e, axis=1, keepdims=True)"),
    "softmax_first": "your softmax is wrong, and backward and fit use it: fix softmax first",
    "sgd_step_first": "your sgd_step does not return p − lr·dp, and fit uses it: fix sgd_step first",
    "loss_after_step": "record the loss before the update (each epoch: forward, record the loss, backward, update)",
    "integer_inputs": ("integer inputs must work too: create the weights as floats (np.zeros(D), not "
                       "np.zeros_like(X[0])) and never update an integer array in place"),
    "cache_modified": ("backward must leave the cache as forward returned it: compute new arrays "
                       "(d = 2 * (yhat - y) / n, not yhat -= y)"),
    "not_reproducible": ("the same seed must give the same result: draw every random number (the shuffling too) "
                         "from np.random.default_rng(seed), never from np.random's global generator"),
    "fit_step_first": ("fit's step on one full batch is not the step of your own backward and sgd_step: "
                       "shuffle X and y together with one permutation, and step once per batch"),
}


# The likely causes this process has put into messages since forget_hints(): (id, text filled in).
_SHOWN = []


def hint(name, **values):
    """The text of a likely cause, with its numbers filled in (and remembered, for hints_shown)."""
    text = HINTS[name].format(**values)
    _SHOWN.append((name, text))
    return text


def forget_hints():
    _SHOWN.clear()


def hints_shown(message):
    """The ids of the likely causes that this process wrote with hint() since forget_hints() and that
    `message` contains, in the order of HINTS: a diagnosis as data, which text a student's own code
    puts into a message (an exception's) cannot forge."""
    ids = {name for name, text in _SHOWN if text and text in (message or "")}
    return _outermost([name for name in HINTS if name in ids])


def _pattern(text):
    parts = re.split(r"\{\w+\}", text)
    return re.compile(".+?".join(re.escape(p) for p in parts))


_PATTERNS = {name: _pattern(text) for name, text in HINTS.items()}


def diagnoses(message):
    """The likely causes a message names: [hint id], in the order of HINTS.

    A hint that another one contains ("half the right size" in "half the right size:
    did you drop the 2 ...") is left out when the longer one matches."""
    return _outermost([name for name, pattern in _PATTERNS.items() if pattern.search(message or "")])


def _outermost(found):
    """`found` without the hints whose text another one of `found` contains."""
    return [n for n in found if not any(m != n and HINTS[n] in HINTS[m] for m in found)]


def likely_cause(got, candidates, rtol=1e-6, atol=1e-12):
    """'. Likely cause: <text>' for the first (array, hint id) candidate that `got` matches, else ''.

    The candidates are what the classic mistakes give on the same input: the grader computes
    them, the public checks read them from their case file."""
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    for wrong, name, values in candidates:
        wrong = np.asarray(wrong, dtype=np.float64)
        if got.shape == wrong.shape and np.allclose(got, wrong, rtol=rtol, atol=atol):
            return f". Likely cause: {hint(name, **values)}"
    return ""


def for_example(call, inputs, expected, got):
    """'. For example, <call> at x=..., dout=...: expected ..., got ...' (a small input that shows the bug)."""
    return f". For example, {call} {describe_inputs(**inputs)}: expected {fmt(expected)}, got {fmt(got)}"


def unchanged(call, names, before, after):
    """Fail if a call modified an argument in place. names: the arguments' names, in order;
    before: copies taken before the call; after: the arguments as the call left them.
    Dicts of arrays are compared key by key ("modified params['W1'] in place")."""
    for name, b, a in zip(names, before, after):
        if isinstance(b, dict):
            changed = [k for k in b if not (isinstance(a, dict) and _same_array(b[k], a.get(k)))]
            if changed:
                raise Failure(f"{call} modified {name}[{changed[0]!r}] in place; {hint('in_place')}")
        elif isinstance(b, np.ndarray) and not _same_array(b, a):
            raise Failure(f"{call} modified its input {name} in place; {hint('in_place')}")


def _same_array(b, a):
    if not (isinstance(a, np.ndarray) and a.shape == np.shape(b)):
        return False
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:                 # not numbers: nan cannot occur
        return bool(np.array_equal(a, b))


def fmt(a, limit=160):
    """A short, readable rendering of a value (numbers and shapes, never student text)."""
    if hasattr(a, "type_name") and not isinstance(a, np.ndarray):   # an object kept in the sandbox
        return f"a {type_name(a)} object"
    if isinstance(a, (float, np.floating)):
        return f"{float(a):.6g}"
    if isinstance(a, (bool, int, np.integer, np.bool_)):
        return repr(a.item() if hasattr(a, "item") else a)
    if isinstance(a, np.ndarray):
        if a.dtype.kind in "biufc":
            text = np.array2string(a, precision=4, threshold=12, edgeitems=3, separator=", ",
                                   max_line_width=10_000, suppress_small=False)
            text = " ".join(text.split())
            return text if len(text) <= limit else text[:limit] + " ...]"
        return f"an array of dtype {a.dtype}"
    if isinstance(a, (list, tuple)):
        return f"a {type(a).__name__} of length {len(a)}"
    if isinstance(a, dict):
        # Keys are the student's strings: letters, digits and _ only, 20 of them at most (a key
        # can carry anything, e.g. a line read from a file the grader would not show).
        keys = [re.sub(r"[^A-Za-z0-9_]", "", k)[:20] for k in sorted(map(str, a))[:8]]
        return f"a dict with keys {keys}" + (" ..." if len(a) > 8 else "")
    if a is None:
        return "None"
    return f"a {type(a).__name__}"


def describe_inputs(**inputs):
    """'at x=[-1., 2.], dout=[3., 3.]' for small inputs; shapes for large ones."""
    parts = []
    for name, value in inputs.items():
        arr = np.asarray(value) if not isinstance(value, dict) else None
        if arr is not None and arr.dtype.kind in "biuf" and arr.size <= 8:
            parts.append(f"{name}={fmt(arr)}")
        elif arr is not None and arr.dtype.kind in "biuf":
            parts.append(f"{name} of shape {arr.shape}")
        elif isinstance(value, dict):
            shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in value.items())
            parts.append(f"{name} with {shapes}")
        else:
            parts.append(f"{name}={fmt(value)}")
    return ("at " + ", ".join(parts)) if parts else ""


def _where(call, inputs):
    """'call at x=..., dout=...': written only when a check fails (a judge checks thousands of values that pass,
    and formatting each one's inputs took about 0.1 CPU-seconds of a reference's grading, in a py-spy profile)."""
    text = describe_inputs(**inputs) if inputs else ""
    return f"{call} {text}".strip()


def type_name(value):
    name = getattr(value, "type_name", None) or type(value).__name__
    return re.sub(r"[^A-Za-z0-9_.]", "", name)[:60] or "object"


def array(got, call, shape=None, inputs=None):
    """Check that `got` is an ndarray (of `shape`) of numbers; return it."""
    if got is None:
        raise Failure(f"{_where(call, inputs or {})}: returned None. {hint('no_return')}")
    if not isinstance(got, np.ndarray):
        if isinstance(got, (float, int, np.number)) and shape == ():
            got = np.asarray(got)
        else:
            raise Failure(f"{_where(call, inputs or {})}: expected a numpy array, got {type_name(got)}")
    if got.dtype.kind not in "biuf":
        raise Failure(f"{_where(call, inputs or {})}: expected an array of numbers, got dtype {got.dtype}")
    if shape is not None and tuple(got.shape) != tuple(shape):
        raise Failure(f"{_where(call, inputs or {})}: expected shape {tuple(shape)}, got {tuple(got.shape)}")
    return got


def float64(got, call, inputs=None):
    """Check that `got` is a float64 array (float64 in, float64 out); return it. A narrower float
    (float32, float16) is named as the likely cause."""
    got = array(got, call, inputs=inputs)
    if got.dtype != np.float64:
        why = f". Likely cause: {hint('float32_result')}" if got.dtype.kind == "f" and got.dtype.itemsize < 8 else ""
        raise Failure(f"{_where(call, inputs or {})}: float64 input should give float64 output, "
                      f"got {got.dtype}{why}")
    return got


def finite(got, call, inputs=None):
    bad = ~np.isfinite(got)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        value = got[idx] if got.ndim else got
        raise Failure(f"{_where(call, inputs or {})}: got {fmt(value)} at index {idx}; "
                      f"every entry should be finite ({int(bad.sum())} are not)")
    return got


def close(got, expected, call, inputs=None, rtol=1e-6, atol=1e-9, shape_strict=True):
    """type → shape → finite → value, against the grader's expected array."""
    expected = np.asarray(expected, dtype=np.float64)
    if shape_strict:
        got = array(got, call, shape=expected.shape, inputs=inputs)
    else:
        got = array(got, call, inputs=inputs)
        if got.size != expected.size:
            raise Failure(f"{_where(call, inputs or {})}: expected {expected.size} values "
                          f"(shape {expected.shape}), got shape {got.shape}")
        got = got.reshape(expected.shape)
    if np.all(np.isfinite(expected)):
        finite(got, call, inputs)
    got = got.astype(np.float64)
    diff = np.abs(got - expected)
    ok = diff <= atol + rtol * np.abs(expected)
    if not np.all(ok):
        idx = tuple(int(i) for i in np.unravel_index(np.argmax(diff - rtol * np.abs(expected)), diff.shape)) \
            if diff.ndim else ()
        if expected.size <= 8:
            detail = f"expected {fmt(expected)}, got {fmt(got)}"
        else:
            detail = (f"at index {idx} expected {fmt(expected[idx])}, got {fmt(got[idx])} "
                      f"({int((~ok).sum())} of {ok.size} entries are off)")
        raise Failure(f"{_where(call, inputs or {})}: {detail}")
    return got


def harmless(got, shape):
    """`got` reshaped to `shape` when it differs from it only by axes of length 1 ((1, H) or (H, 1) for
    (H,), (1,) for a scalar), else `got` as it is. A slip costs once: a test that *consumes* a value
    (fit's tests, reading what fit returns) accepts such a representation when the values are right;
    the test of the function that should have returned the shape charges it."""
    if isinstance(got, np.ndarray) and got.shape != tuple(shape) and got.size == int(np.prod(shape, dtype=int)) \
            and [d for d in got.shape if d != 1] == [d for d in shape if d != 1]:
        return got.reshape(shape)
    return got


def scalar(got, call, inputs=None, consumed=False):
    """Accept a Python or numpy float (or a 0-d array); return a float. consumed: a value a test reads
    downstream (see harmless): an array of one element is accepted too."""
    if got is None:
        raise Failure(f"{_where(call, inputs or {})}: returned None. {hint('no_return')}")
    if consumed:
        got = harmless(got, ())
    if isinstance(got, np.ndarray):
        if got.shape != ():
            raise Failure(f"{_where(call, inputs or {})}: expected a single float, got an array of shape {got.shape}")
        got = got[()]
    if not isinstance(got, (float, int, np.floating, np.integer)) or isinstance(got, (bool, np.bool_)):
        raise Failure(f"{_where(call, inputs or {})}: expected a single float, got {type_name(got)}")
    return float(got)


def scalar_close(got, expected, call, inputs=None, rtol=1e-6, atol=1e-9, batch=None, outputs=None):
    """A float close to `expected`; hints name a factor of the batch size or the outputs."""
    value = scalar(got, call, inputs)
    if not np.isfinite(value):
        raise Failure(f"{_where(call, inputs or {})}: got {value}, expected the finite value {expected:.6g}")
    if abs(value - expected) > atol + rtol * abs(expected):
        raise Failure(f"{_where(call, inputs or {})}: expected {expected:.6g}, got {value:.6g}"
                      + ratio_hint(value, expected, batch=batch, outputs=outputs, kind="loss"))
    return value


def ratio_hint(got, expected, batch=None, outputs=None, kind="gradient", square=False, lr=None):
    """A targeted hint when `got` is a simple multiple of `expected`.

    kind: "gradient" or "loss". batch: N of the batch. outputs: K, the number of
    outputs summed over (MSE). square: the loss is a square, so a missing 2 in
    its derivative is a likely cause of a factor 1/2. lr: `got` is a gradient read
    off a training step, (p0 - p1) / lr: all zeros is then a step never taken, and a
    factor lr a learning rate applied twice (unless lr is also another candidate's
    factor: a hint that could name either cause names none).
    """
    g = np.ravel(np.asarray(got, dtype=np.float64))
    e = np.ravel(np.asarray(expected, dtype=np.float64))
    if g.shape != e.shape or not np.all(np.isfinite(g)):
        return ""
    ne = float(e @ e)
    if ne < 1e-300:
        return ""
    if float(g @ g) < 1e-24 * ne:
        return f". It is all zeros: {hint('no_step' if lr else 'all_zeros')}"
    c = float(g @ e) / ne
    residual = np.linalg.norm(g - c * e) / (np.linalg.norm(g) + 1e-300)
    if residual > 1e-3:
        return ""
    candidates = []
    if batch and batch > 1:
        if kind == "loss":
            candidates.append((batch, f"{batch} times too large, and {batch} is the batch size: "
                                      f"{hint('batch_summed_loss')}"))
        else:
            candidates += [(batch, f"{batch} times too large, and {batch} is the batch size: "
                                   f"{hint('batch_mean_missing')}"),
                           (1.0 / batch, f"{batch} times too small, and {batch} is the batch size: "
                                         f"{hint('batch_divided_twice')}")]
    if outputs and outputs > 1:
        candidates.append((1.0 / outputs, f"{outputs} times too small, and {outputs} is the number of "
                                          f"outputs: {hint('outputs_averaged')}"))
    if e.size > 1:
        # A single number is a multiple of any other: a factor of -1, 2 or 1/2 between two of them
        # says nothing (a missing square gives -1 where y - ŷ = -1). The batch size and the number of
        # outputs above still do: they come from the shape of the input.
        candidates.append((-1.0, f"{hint('wrong_sign')}: check the order in (prediction - target)"
                                 if kind == "gradient" else hint("wrong_sign")))
        if square and kind == "gradient":
            candidates.append((0.5, hint("dropped_two")))
        candidates.append((2.0, f"twice too large: {hint('factor_two')}"))
        if not any(abs(0.5 - f) < 1e-9 for f, _ in candidates):
            candidates.append((0.5, hint("half")))
    if lr:
        others = len(candidates)
        candidates = [(f, t) for f, t in candidates if abs(f - lr) > 1e-3 * abs(lr)]
        if len(candidates) == others:
            candidates.append((lr, f"{lr:g} times the gradient, and {lr:g} is the learning rate: {hint('lr_twice')}"))
    for factor, text in candidates:
        if abs(c - factor) <= 1e-3 * abs(factor):
            return f". It looks {text}"
    return ""


def step_hint(p, g, new, lr):
    """For sgd_step: '. It looks ...' when the step (p - new) / lr is a simple multiple of g."""
    try:
        step = (np.asarray(p, dtype=np.float64) - np.asarray(new, dtype=np.float64)) / lr
    except (TypeError, ValueError):
        return ""
    return ratio_hint(step, g, kind="step").replace(". It looks", ". The step p − new looks", 1)


def gradient(param, analytic, numeric, call, limit=1e-6, batch=None, inputs=None, square=False, lr=None):
    """Compare an analytic gradient with the grader's finite differences.

    The relative error is ‖a − n‖ / (‖a‖ + ‖n‖) over the whole tensor. lr: the gradient was read off a
    training step with this learning rate (see ratio_hint).
    """
    numeric = np.asarray(numeric, dtype=np.float64)
    try:
        got = array(analytic, f"{call}['{param}']" if param else call, shape=numeric.shape, inputs=inputs)
    except Failure as failure:
        if batch and batch > 1 and broadcast_shape(analytic, numeric.shape, batch):
            raise Failure(f"{failure}: {hint('broadcast_column')}") from None
        raise
    finite(got, f"{call}['{param}']" if param else call, inputs)
    err = relative_error(got, numeric)
    if err > limit:
        extra = ratio_hint(got, numeric, batch, square=square, lr=lr)
        if not extra and got.ndim == 2 and got.shape[0] == got.shape[1] \
                and relative_error(got.T, numeric) < limit:
            extra = f". {hint('transposed')}"
        label = f"d{param}" if param else "the gradient"
        raise Failure(f"{label} from {call} does not match finite differences: relative error "
                      f"{err:.2g} (limit {limit:g}){extra}")
    return err


def broadcast_shape(got, shape, batch):
    """Is `got` shaped like a value of `shape` with an extra axis of the batch size (dw of shape (D, N) for
    (D,)): what a − y of shape (N, N), from a column vector, gives?"""
    return isinstance(got, np.ndarray) and len(shape) == 1 and shape[0] != batch and got.shape == (shape[0], batch)


BACKPROP_RATIO = 50


def backprop_not_finite_differences(backward_seconds, forward_seconds, call, n_params, limit=BACKPROP_RATIO):
    """Fail if one backward took more than `limit` forward passes' time (both as the grader measures a
    call's time: the CPU time of the student's process, whatever else the machine is doing).

    Backpropagation reuses the cache: a backward costs a few forward passes, or a few per example
    for a loop over the batch (under 10 here). Finite differences evaluate the forward pass twice
    per parameter: over 2,000 passes for the nets these checks use. The message quotes no
    measurement, so that it is the same on every machine.
    """
    if backward_seconds > limit * max(forward_seconds, 1e-6):
        raise Failure(f"{call} took more than {limit} times as long as one forward pass on the same batch, for "
                      f"one gradient of {n_params} parameters: {hint('finite_differences')}. "
                      f"Apply the chain rule layer by layer, reusing what forward stored in the cache")


def mapping(got, call, keys, shapes=None, consumed=False):
    """A dict with exactly `keys` (and, if given, those shapes); returned as it is or, consumed (a value a
    test reads downstream), as a new dict whose arrays of harmless shapes are reshaped (see harmless)."""
    if got is None:
        raise Failure(f"{call}: returned None. {hint('no_return')}")
    if not isinstance(got, dict):
        raise Failure(f"{call}: expected a dict with keys {sorted(keys)}, got {type_name(got)}")
    missing = [k for k in keys if k not in got]
    extra = [k for k in got if k not in keys]
    if missing or extra:
        shown = [re.sub(r"[^A-Za-z0-9_]", "", str(k))[:20] for k in extra[:6]]
        raise Failure(f"{call}: expected keys {list(keys)}; missing {missing}, unexpected {shown}"
                      + (" ..." if len(extra) > 6 else ""))
    if consumed and shapes is not None:
        got = {k: harmless(got[k], shapes[k]) for k in keys}
    for k in keys:
        if shapes is not None:
            array(got[k], f"{call}['{k}']", shape=shapes[k])
    return got


def pair(got, call, what=("first", "second")):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        n = len(got) if isinstance(got, (tuple, list)) else None
        raise Failure(f"{call}: expected a tuple of 2 ({what[0]}, {what[1]}), got "
                      + (f"a {type_name(got)} of length {n}" if n is not None else type_name(got)))
    return got


def require(condition, message):
    """A check: raise Failure(message), the student's feedback, unless `condition` holds."""
    if not condition:
        raise Failure(message)


class prerequisite:
    """Context manager: a failure inside says which later check it blocked.

        with checks.prerequisite("backward is checked with the cache your forward returns"):
            _, cache = net.forward(params, X)
    """

    def __init__(self, why):
        self.why = why

    def __enter__(self):
        return self

    def __exit__(self, etype, exc, tb):
        if exc is not None and exc.args and isinstance(exc.args[0], str):
            exc.args = (f"{exc.args[0]} ({self.why})",) + exc.args[1:]
        return False
