"""Run the public tests on your code:  python -m assignment.check [PART ...] [-v]

(or `make check`, from the folder that holds assignment/ or from inside it;
`python3 check.py` inside assignment/ works too). Each part runs in its own
process with a time limit, so an endless loop in one part cannot hang the
others. The cases live in public_tests/*.json; they use other inputs than the
hidden tests but the same checks and messages (solutions/checks.py, with the
grader's likely causes), so passing them is a good sign, not a guarantee: the
hidden tests (property tests, more shapes, more seeds) run when you submit.

A part that imports another (two_layer_net and mlp use activations) is
checked with your own copy of it. When that copy fails its own checks, the
failures it causes say so, and the case runs again with a stand-in built from
your own forward function (finite differences), which tells whether the part
itself is right.
"""
import argparse
import importlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # `python3 check.py` (inside assignment/) or `python3 assignment/check.py`: run as the
    # package's module, which is what `python -m assignment.check` does.
    import runpy
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    runpy.run_module(f"{Path(__file__).resolve().parent.name}.check", run_name="__main__", alter_sys=True)
    sys.exit(0)

import numpy as np  # noqa: E402

from . import checks  # noqa: E402

HERE = Path(__file__).resolve().parent
PACKAGE = __package__ or "assignment"
PARTS = ("warmup", "activations", "logistic_regression", "two_layer_net", "mlp")
PART_TIMEOUT = float(os.environ.get("MLP_CHECK_TIMEOUT", 90))


class Problem(Exception):
    """The student's code raised, or is missing something; str() says what."""


def decode(value):
    if isinstance(value, dict):
        if "__nd__" in value:
            return np.array(value["__nd__"], dtype=value["dtype"]).reshape(value["shape"])
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def where(exc, module):
    """' (mlp.py, line 42, in backward: <line>)' for the innermost frame in the student's file."""
    path = getattr(module, "__file__", None)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if path and f.filename == path]
    if not frames:
        return ""
    f = frames[-1]
    return f" ({Path(f.filename).name}, line {f.lineno}, in {f.name}: {(f.line or '').strip()[:120]})"


def call(module, part, fn, *args, errstate=None, **kwargs):
    function = getattr(module, fn, None)
    if not callable(function):
        raise Problem(f"{part}.py has no function {fn}()")
    try:
        with np.errstate(**(errstate or {})):
            return function(*args, **kwargs)
    except NotImplementedError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        inner = f"{Path(frames[-1].filename).stem}.{frames[-1].name}" if frames else f"{part}.{fn}"
        if inner != f"{part}.{fn}" and frames[-1].name != "<module>":
            raise Problem(f"{part}.{fn} stopped at {inner}, which is {checks.hint('not_implemented')}") from None
        raise Problem(f"{part}.{fn} is {checks.hint('not_implemented')}") from None
    except SystemExit as exc:
        raise Problem(f"{part}.{fn} called exit() or sys.exit({exc.code!r}){where(exc, module)}: a graded "
                      f"function must return its result, never exit") from None
    except Exception as exc:
        raise Problem(f"{part}.{fn} raised {type(exc).__name__}: {str(exc)[:300]}{where(exc, module)}") from None


def accuracy(pred, labels, label="predict(params, X)"):
    pred = checks.array(pred, label, shape=labels.shape)
    return float(np.mean(pred == labels))


def run_case(module, part, case):
    kind, fn = case["kind"], case["fn"]
    args, kwargs = decode(case["args"]), decode(case["kwargs"])
    expected, opts = decode(case["expected"]), decode(case["opts"])
    names = case["argnames"]
    label = f"{fn}({', '.join(names)})"
    inputs = {n: a for n, a in zip(names, args) if isinstance(a, np.ndarray) or np.isscalar(a)}
    tol = {k: opts[k] for k in ("rtol", "atol") if k in opts}
    run = lambda *a, **k: call(module, part, fn, *a, **k)  # noqa: E731

    if kind == "close":
        checks.close(run(*args, errstate=opts.get("errstate"), **kwargs), expected, label, inputs, **tol)
    elif kind == "forward_close":
        out = checks.pair(run(*args, **kwargs), label, ("output", "cache"))
        checks.close(out[0], expected, label, inputs, **tol)
    elif kind == "scalar":
        checks.scalar_close(run(*args, **kwargs), expected, label, inputs, batch=opts.get("batch"),
                            outputs=opts.get("outputs"), **tol)
    elif kind == "tuple_close":
        got = run(*args, **kwargs)
        checks.that(isinstance(got, (tuple, list)) and len(got) == len(expected),
                    f"{label}: expected a tuple of {len(expected)}, got {checks.fmt(got)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            if np.ndim(e) == 0:
                checks.scalar_close(g, float(e), f"{label}[{i}]")
            else:
                checks.close(g, e, f"{label}[{i}]", rtol=1e-9, atol=1e-12)
    elif kind == "finite_scalar":
        value = checks.scalar(run(*args, **kwargs), label, inputs)
        checks.that(np.isfinite(value), f"{label} {checks.describe_inputs(**inputs)}: got {value}; it should be "
                                        f"finite ({checks.hint('clip_before_log')})")
    elif kind == "no_mutation":
        for fn_name, fn_args, fn_names in opts["calls"]:
            before = [_copy(a) for a in fn_args]
            call(module, part, fn_name, *fn_args)
            checks.unchanged(f"{fn_name}({', '.join(fn_names)})", fn_names, before, fn_args)
    elif kind == "seed_matters":
        firsts = [checks.pair(run(*args, seed=seed, **kwargs), label, ("params", "losses"))[0] for seed in (5, 6)]
        checks.that(not all(np.array_equal(firsts[0][k], firsts[1][k]) for k in firsts[0]),
                    f"fit(..., seed=5) and fit(..., seed=6) start from the same parameters: "
                    f"{checks.hint('seed_not_passed')}")
    elif kind == "close_dict":
        got = checks.mapping(run(*args, **kwargs), label, list(expected))
        for k in expected:
            try:
                checks.close(got[k], expected[k], f"{label}['{k}']", rtol=1e-12, atol=1e-15)
            except checks.Failure as failure:
                if fn != "sgd_step":
                    raise
                params, grads, lr = args
                raise checks.Failure(str(failure) + checks.step_hint(params[k], grads[k], got[k], lr)) from None
    elif kind == "gradient":
        got = run(*args, **kwargs)
        params = opts["param"]
        if isinstance(params, str):
            try:
                checks.gradient(params, got, expected, label, batch=opts.get("batch"), inputs=inputs)
            except checks.Failure as failure:
                raise checks.Failure(str(failure) + _diagnosis(module, part, fn, label, got, args, opts)) from None
        else:
            got = checks.pair(got, label, tuple(f"d{p}" for p in params))
            for p, g, e in zip(params, got, expected):
                if np.ndim(e) == 0:
                    g = np.asarray(checks.scalar(g, f"{label}: d{p}"))
                checks.gradient(p, g, np.asarray(e), label, batch=opts.get("batch"))
    elif kind == "backward":
        params, X, y = args
        _, cache = checks.pair(call(module, part, "forward", params, X), "forward(params, X)",
                               ("output", "cache"))
        grads = checks.mapping(run(params, cache, y), "backward(params, cache, y)", list(params))
        for k in params:
            checks.gradient(k, grads[k], expected[k], "backward(params, cache, y)", batch=opts.get("batch"),
                            square=opts.get("square", False))
    elif kind == "mapping_shapes":
        checks.mapping(run(*args, **kwargs), label, list(expected), {k: tuple(v) for k, v in expected.items()})
    elif kind == "scalar_at_least":
        value = checks.scalar(run(*args, **kwargs), label, inputs)
        checks.that(value >= expected, f"{label} {checks.describe_inputs(**inputs)}: got {value:.6g}; a prediction "
                                       f"that is certain and wrong should cost at least {expected:g} (−log(eps) "
                                       f"with eps ≤ 1e-7, e.g. 27.6 for eps = 1e-12): is eps too large?")
    elif kind == "zero_biases":
        got = run(*args, **kwargs)
        checks.that(isinstance(got, dict), f"{label}: expected a dict, got {checks.fmt(got)}")
        for k, shape in expected.items():
            b = checks.array(got.get(k), f"{label}['{k}']", shape=tuple(shape))
            checks.that(np.all(b == 0), f"{label}['{k}'] = {checks.fmt(b)}; the docstring asks for bˡ = 0 "
                                        f"(biases start at zero; only the weights are random)")
    elif kind == "epochs":
        epochs_case(module, part, args, kwargs)
    elif kind == "labels":
        got = checks.array(run(*args, **kwargs), label, shape=expected.shape, inputs=inputs)
        checks.that(got.dtype.kind in "iu", f"{label}: expected integer labels, got dtype {got.dtype}")
        checks.that(np.array_equal(got, expected), f"{label}: expected {checks.fmt(expected)}, got {checks.fmt(got)}")
    elif kind == "fit_logreg":
        out = run(*args, **kwargs)
        checks.that(isinstance(out, (tuple, list)) and len(out) == 3,
                    f"fit(X, y, lr, epochs): expected (w, b, losses), got {checks.fmt(out)}")
        lr, epochs = kwargs["lr"], kwargs["epochs"]
        losses = out[2]
        checks.that(len(losses) == epochs, f"fit(X, y, epochs={epochs}): losses should hold one entry per epoch, "
                                           f"got {checks.fmt(losses)}")
        b = checks.scalar(out[1], "fit(...): b")
        try:
            checks.gradient("w", -np.asarray(out[0]) / lr, -expected[0] / lr, f"fit(X, y, lr=0.5, epochs={epochs}), "
                            f"read as -w / lr,", 1e-5, batch=opts.get("batch"))
            checks.gradient("b", np.array(-b / lr), np.array(-expected[1] / lr), f"fit(X, y, lr=0.5, "
                            f"epochs={epochs}), read as -b / lr,", 1e-5, batch=opts.get("batch"))
        except checks.Failure:
            # As in the grader: fit may be right about a wrong forward or backward, which their own
            # cases flag; fit is then judged by whether it follows them.
            if not _logreg_follows_own(module, part, args[0], args[1], lr, epochs, out[0], b):
                raise
    elif kind == "fit_step":
        fit_step(module, part, args, kwargs, opts["model"])
    elif kind == "accuracy_logreg":
        out = run(*args)
        checks.that(isinstance(out, (tuple, list)) and len(out) == 3, f"fit(X, y): expected (w, b, losses)")
        w, b = np.asarray(out[0]), checks.scalar(out[1], "fit(...): b")
        acc = accuracy(call(module, part, "predict", args[0], w, b), args[1], "predict(X, w, b)")
        checks.that(acc >= expected, f"fit(X, y) with the defaults reaches {acc:.0%} training accuracy on "
                                     f"separable data; expected at least {expected:.0%}"
                                     + (f". b is still {b:g} after training: {checks.hint('bias_not_updated')}"
                                        if b == 0 else ""))
    elif kind == "xor":
        params, _ = checks.pair(run(*args, **kwargs), "fit(X, y)", ("params", "losses"))
        pred = np.asarray(call(module, part, "predict", params, args[0]))
        checks.that(np.array_equal(pred.reshape(-1) >= 0.5, args[1].reshape(-1) >= 0.5),
                    f"fit(XOR, seed=0) with the defaults predicts {checks.fmt(pred.reshape(-1))} for XOR's "
                    f"[0, 1, 1, 0]" + (f". Every output stayed within 0.05 of 0.5: {checks.hint('init_too_small')}"
                                       if np.all(np.abs(pred - 0.5) < 0.05) else ""))
    elif kind == "mnist":
        from .datasets import load_mnist
        Xtr, ytr = load_mnist(split="train")
        Xte, yte = load_mnist(split="test")
        params, _ = checks.pair(run(Xtr, ytr, **kwargs), "fit(X_train, y_train)", ("params", "history"))
        acc = accuracy(call(module, part, "predict", params, Xte), yte)
        checks.that(acc >= expected, f"fit(X_train, y_train, seed=0) with the defaults reaches {acc:.1%} test "
                                     f"accuracy; expected at least {expected:.0%}")
    else:
        raise ValueError(f"unknown case kind {kind!r}")


def _diagnosis(module, part, fn, label, got, args, opts):
    """The grader's likely cause (shipped as numbers: what each classic mistake gives on this case's
    input) and, for the activations, the same function on a 3-number example."""
    text = checks.likely_cause(got, [(np.asarray(wrong), hint, values) for hint, values, wrong in
                                     (decode(m) for m in opts.get("mistakes", []))])
    example = decode(opts.get("example"))
    if example:
        try:
            small = call(module, part, fn, example["dout"], example["x"])
        except Problem:
            return text
        if isinstance(small, np.ndarray) and small.shape == example["x"].shape \
                and not np.allclose(small, example["expected"]):
            text += checks.for_example(label, {"x": example["x"], "dout": example["dout"]}, example["expected"],
                                       small)
    return text


def _logreg_follows_own(module, part, X, y, lr, epochs, w, b):
    """Does fit(X, y, lr, epochs) end where `epochs` steps of your own forward and backward lead from 0?"""
    try:
        w_own, b_own = np.zeros(X.shape[1]), 0.0
        for _ in range(epochs):
            a = call(module, part, "forward", X, w_own, b_own)
            dw, db = checks.pair(call(module, part, "backward", X, a, y), "backward(X, a, y)", ("dw", "db"))
            w_own, b_own = w_own - lr * np.asarray(dw, dtype=np.float64), b_own - lr * float(db)
    except (AssertionError, Problem, TypeError, ValueError):
        return False
    return np.allclose(w, w_own, rtol=1e-7, atol=1e-12) and np.isclose(b, b_own, rtol=1e-7, atol=1e-12) \
        and not np.allclose(w_own, 0.0)


def _copy(value):
    if isinstance(value, dict):
        return {k: np.copy(v) for k, v in value.items()}
    return np.copy(value) if isinstance(value, np.ndarray) else value


def fit_step(module, part, args, kwargs, model):
    """(p0 - p1) / lr from fit must equal your own backward at p0 (fit's loop, not backward, is tested;
    for the MLP, p1 may also be your own sgd_step(p0, grads, lr), as the grader accepts)."""
    X, y = args
    lr = kwargs["lr"]
    p0, _ = checks.pair(call(module, part, "fit", X, y, **dict(kwargs, lr=0.0)), "fit(...)", ("params", "losses"))
    again, _ = checks.pair(call(module, part, "fit", X, y, **dict(kwargs, lr=0.0)), "fit(...)", ("params", "losses"))
    checks.that(isinstance(p0, dict) and isinstance(again, dict) and set(p0) == set(again)
                and all(np.array_equal(p0[k], again[k]) for k in p0),
                f"fit(..., lr=0, seed={kwargs.get('seed')}) gave different parameters on two calls, so its step cannot "
                f"be measured: {checks.hint('init_unseeded')} in init_params, and pass fit's seed on to it")
    p1, _ = checks.pair(call(module, part, "fit", X, y, **kwargs), "fit(...)", ("params", "losses"))
    _, cache = checks.pair(call(module, part, "forward", p0, X), "forward(params, X)", ("output", "cache"))
    grads = checks.mapping(call(module, part, "backward", p0, cache, y), "backward(params, cache, y)", list(p0))
    if model == "mlp":                  # fit steps with your sgd_step: its own case judges sgd_step
        try:
            mine = checks.mapping(call(module, part, "sgd_step", p0, grads, lr), "sgd_step(params, grads, lr)",
                                  list(p0))
            if all(np.allclose(np.asarray(p1[k], dtype=np.float64), np.asarray(mine[k], dtype=np.float64),
                               rtol=1e-7, atol=1e-10) for k in p0) and not all(
                    np.array_equal(p0[k], p1[k]) for k in p0):
                return
        except (AssertionError, Problem, TypeError, ValueError):
            pass
    for k in p0:
        checks.gradient(k, (np.asarray(p0[k]) - np.asarray(p1[k])) / lr, grads[k],
                        f"fit(..., lr={lr}, epochs=1), read as (p0 - p1) / lr and compared with your backward,",
                        1e-6, batch=len(y))


def epochs_case(module, part, args, kwargs):
    """fit's epochs, replayed with your own forward, backward, sgd_step and cross_entropy: each epoch is
    one step per minibatch over a shuffle of all the rows (batches of 2, 2 and 1 for 5 rows), epoch 2
    starts where epoch 1 ended with a shuffle of its own, history[e] is epoch e's mean loss, and fit
    starts from init_params(layer_sizes, seed). Your functions are judged by their own cases; this one
    judges fit's loop, as the grader does with its own."""
    X, y = args
    sizes, size, lr = tuple(kwargs["layer_sizes"]), kwargs["batch_size"], kwargs["lr"]
    label = f"fit(X, y, layer_sizes={sizes}, batch_size={size}, lr={lr}) on {len(y)} rows"

    def fit(epochs, rate, seed):
        params, history = checks.pair(call(module, part, "fit", X, y, layer_sizes=sizes, epochs=epochs,
                                           batch_size=size, lr=rate, seed=seed), label, ("params", "history"))
        checks.that(len(history) == epochs, f"{label}, epochs={epochs}: history should hold one mean loss per "
                                            f"epoch, got {checks.fmt(history)}")
        return params, [float(h) for h in history]

    def loss(params, rows):
        logits, _ = checks.pair(call(module, part, "forward", params, X[rows]), "forward(params, X)",
                                ("logits", "cache"))
        return checks.scalar(call(module, part, "cross_entropy", logits, y[rows]), "cross_entropy(logits, y)")

    def epoch(params, order):
        """Your step on each minibatch of `order`: (params after, [(batch loss, rows)])."""
        losses = []
        for first in range(0, len(order), size):
            rows = list(order[first:first + size])
            _, cache = checks.pair(call(module, part, "forward", params, X[rows]), "forward(params, X)",
                                   ("logits", "cache"))
            losses.append((loss(params, rows), len(rows)))
            grads = call(module, part, "backward", params, cache, y[rows])
            params = call(module, part, "sgd_step", params, grads, lr)
        return params, losses

    def same(a, b):
        return set(a) == set(b) and all(np.allclose(a[k], b[k], rtol=1e-7, atol=1e-10) for k in a)

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
    starts, firsts, reshuffled = [], [], False
    for seed in (0, 1, 2):
        p0, _ = fit(1, 0.0, seed)
        init = call(module, part, "init_params", sizes, seed)
        if not (isinstance(init, dict) and same(p0, init)):
            default = call(module, part, "init_params", sizes)
            why = checks.hint("seed_not_passed") if isinstance(default, dict) and same(p0, default) \
                else "and not draw its own weights"
            raise checks.Failure(f"{label}, lr=0, seed={seed} returned other parameters than init_params({sizes}, "
                                 f"seed={seed}): fit should start from init_params with the same seed ({why})")
        p1, history = fit(1, lr, seed)
        found = next(((blocks, perm, losses) for blocks, perm in partitions
                      for end, losses in [epoch(p0, perm)] if same(end, p1)), None)
        checks.that(found is not None, f"{label}, seed={seed}: one epoch is not a step of your own backward and "
                    f"sgd_step per minibatch over any order of the rows (batches of 2, 2 and 1: the last batch is "
                    f"smaller)")
        blocks, perm, losses = found
        checks.that(mean_loss(history[0], losses, p0, p1), f"{label}, seed={seed}: history[0] = {history[0]:.6g}, "
                    f"but the epoch's batch losses were {checks.fmt(np.array([l for l, _ in losses]))}; "
                    f"{checks.hint('epoch_mean_loss')}")
        p2, history = fit(2, lr, seed)
        second = None
        for blocks1, perm1 in [(blocks, perm)] + [pb for pb in partitions if pb[0] != blocks]:
            middle, _ = epoch(p0, perm1)
            second = next(((blocks1, b2, middle, l2) for b2, perm2 in partitions
                           for end, l2 in [epoch(middle, perm2)] if same(end, p2)), None)
            if second:
                break
        checks.that(second is not None, f"{label}, epochs=2, seed={seed}: the result is not two epochs of steps of "
                    f"your own backward and sgd_step, the second starting where the first ended")
        blocks1, blocks2, middle, losses = second
        reshuffled |= blocks1 != blocks2
        checks.that(mean_loss(history[1], losses, middle, p2), f"{label}, epochs=2, seed={seed}: history[1] = "
                    f"{history[1]:.6g}, but the second epoch's batch losses were "
                    f"{checks.fmt(np.array([l for l, _ in losses]))}: each entry of history should hold its own "
                    f"epoch's mean loss ({checks.hint('history_per_epoch')})")
        starts.append(p0)
        firsts.append(perm)
    checks.that(any(tuple(p) != tuple(range(len(y))) for p in firsts), f"{label}: for seeds 0, 1 and 2 every "
                f"epoch visited the rows in their original order; {checks.hint('never_shuffles')}")
    checks.that(reshuffled, f"{label}: for seeds 0, 1 and 2 the second epoch used the same minibatches as the "
                f"first; {checks.hint('shuffles_once')}")


def run_part(part, cases_dir, package=PACKAGE, progress=None):
    """Run one part's cases in this process; returns its outcome dict. `progress` (a file, in
    the child process) gets a JSON line as each case starts and ends, so that a case that
    hangs or ends the process costs that case only."""
    def note(record):
        if progress is not None:
            progress.write(json.dumps(record) + "\n")
            progress.flush()

    cases = json.loads((Path(cases_dir) / f"{part}.json").read_text(encoding="utf-8"))
    try:
        module = importlib.import_module(f"{package}.{part}")
        problem = None
    except SystemExit as exc:
        module, problem = None, f"{part}.py called exit() or sys.exit({exc.code!r}) while being imported"
    except Exception as exc:
        module, problem = None, f"{part}.py could not be imported: {type(exc).__name__}: {str(exc)[:300]}"
    results = []
    for i, case in enumerate(cases["cases"]):
        if problem:
            results.append({"title": case["title"], "passed": False, "message": problem})
            continue
        note({"start": i})
        results.append(attempt(module, part, case))
        note({"done": i, "result": results[-1]})
    if module is not None:
        explain_training(cases["cases"], results)
        blame_imports(module, part, package, cases_dir, cases["cases"], results)
    return {"part": part, "graded": cases["graded"], "hidden": cases["hidden"], "results": results}


def attempt(module, part, case):
    """One case's result: {"title", "passed", "message"}."""
    try:
        run_case(module, part, case)
        return {"title": case["title"], "passed": True, "message": ""}
    except (AssertionError, Problem) as exc:
        return {"title": case["title"], "passed": False, "message": str(exc)}
    except Exception as exc:          # the check's own trouble (no data folder, ...): this case only
        return {"title": case["title"], "passed": False,
                "message": f"the check could not run: {type(exc).__name__}: {str(exc)[:400]}"}


def explain_training(cases, results):
    """A training case that fails names the likely cause when another case of the part has found it,
    in the order training uses them (backward, then sgd_step, then fit's own step), as the grader does."""
    failed = {c["kind"] + ":" + c["fn"] for c, r in zip(cases, results) if not r["passed"]}
    for case, result in zip(cases, results):
        if case["kind"] != "mnist" or result["passed"] or "Likely cause" in result["message"]:
            continue
        for key, name in (("backward:backward", "backward_first"), ("close_dict:sgd_step", "sgd_step_first"),
                          ("fit_step:fit", "fit_step_first")):
            if key in failed:
                result["message"] += f". Likely cause: {checks.hint(name)}"
                break


# What each part imports from another (its own copy, in `make check`; the grader uses the reference).
IMPORTED_PARTS = {"logistic_regression": "activations", "two_layer_net": "activations", "mlp": "activations"}


def blame_imports(module, part, package, cases_dir, cases, results):
    """When a part fails where it calls your own copy of another part (activations) and that copy fails
    its own checks, say so; where a stand-in for the broken backward (finite differences of your own
    forward, which passes its checks) makes the case pass, say that the part itself looks right."""
    if part not in IMPORTED_PARTS or all(r["passed"] for r in results):
        return
    dep_part = IMPORTED_PARTS[part]
    dep = sys.modules.get(f"{package}.{dep_part}")
    if dep is None:
        return
    used = {name for name, obj in vars(module).items()
            if callable(obj) and getattr(obj, "__module__", None) == dep.__name__}
    if any(obj is dep for obj in vars(module).values()):        # `from . import activations`
        used |= {name for name, obj in vars(dep).items() if callable(obj) and not name.startswith("_")}
    if not used:
        return
    dep_cases = json.loads((Path(cases_dir) / f"{dep_part}.json").read_text(encoding="utf-8"))["cases"]
    own = {}
    for case in dep_cases:
        needed = case["fn"] in used or (case["fn"] and case["fn"] + "_backward" in used)
        if needed:
            own[case["fn"]] = own.get(case["fn"], True) and attempt(dep, dep_part, case)["passed"]
    broken = sorted(fn for fn, ok in own.items() if not ok and fn in used)
    if not broken:
        return
    stand_ins = {fn: _finite_difference_backward(getattr(dep, fn[:-len("_backward")]))
                 for fn in broken if fn.endswith("_backward") and own.get(fn[:-len("_backward")]) is True}
    names = ", ".join(f"{dep_part}.{fn}" for fn in broken)
    fix_first = f"your {names} fail{'s' if len(broken) == 1 else ''} {'its' if len(broken) == 1 else 'their'} " \
                f"own checks; fix {'that' if len(broken) == 1 else 'those'} first"
    for case, result in zip(cases, results):
        if result["passed"] or checks.hint("not_implemented") in result["message"]:
            continue                     # an unfinished function says so already
        passes = False
        if stand_ins and len(stand_ins) == len(broken):
            saved = {(m, fn): getattr(m, fn) for fn in stand_ins for m in (module, dep) if hasattr(m, fn)}
            try:
                for (m, fn) in saved:
                    setattr(m, fn, stand_ins[fn])
                passes = attempt(module, part, case)["passed"]
            finally:
                for (m, fn), original in saved.items():
                    setattr(m, fn, original)
        result["blocked_by"] = [f"{dep_part}.{fn}" for fn in broken]
        result["passes_with_stand_in"] = passes
        if passes:
            result["message"] += (f" ({fix_first}: with a stand-in for it, finite differences of your own "
                                  f"{', '.join(fn[:-len('_backward')] for fn in stand_ins)}, this case passes, "
                                  f"so {part} itself looks right here)")
        else:
            result["message"] += f" (note: {fix_first}; it may be the cause)"


def _finite_difference_backward(forward, h=1e-6):
    """dout * f'(x) by central differences of an elementwise forward: a stand-in for its backward."""
    def backward(dout, x, *args, **kwargs):
        x = np.asarray(x, dtype=np.float64)
        above = np.asarray(forward(x + h, *args, **kwargs), dtype=np.float64)
        below = np.asarray(forward(x - h, *args, **kwargs), dtype=np.float64)
        return dout * (above - below) / (2 * h)
    return backward


def read_progress(path):
    """(finished results by case index, index of the case that started last) from a progress file."""
    done, started = {}, None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:                 # a line cut short when the process died
            continue
        if "start" in record:
            started = record["start"]
        elif "done" in record:
            done[record["done"]] = record["result"]
    return done, started


def run_isolated(part, cases_dir):
    """Run one part in a child process with a time limit. If the process hangs or dies, the cases
    it finished keep their results, and the case it was in is the one that fails."""
    cases = json.loads((Path(cases_dir) / f"{part}.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        out, progress = Path(tmp) / "result.json", Path(tmp) / "progress.jsonl"
        cmd = [sys.executable, "-m", f"{PACKAGE}.check", "--run", part, "--out", str(out),
               "--cases", str(cases_dir)]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        try:
            proc = subprocess.run(cmd, cwd=HERE.parent, env=env, capture_output=True, text=True,
                                  timeout=PART_TIMEOUT)
            if out.exists():
                return json.loads(out.read_text(encoding="utf-8"))
            last = (proc.stderr.strip().splitlines() or ["(no error message)"])[-1]
            why = f"it stopped with status {proc.returncode}: {last[:300]}"
        except subprocess.TimeoutExpired:
            why = f"it did not finish within {PART_TIMEOUT:g} s (an endless loop?)"
        done, started = read_progress(progress)
    results = []
    for i, case in enumerate(cases["cases"]):
        if i in done:
            results.append(done[i])
        elif i == started:
            fn = case.get("fn")
            results.append({"title": case["title"], "passed": False,
                            "message": f"checking {part} failed here, in a case that calls {part}.{fn}: {why}"})
        else:
            results.append({"title": case["title"], "passed": False,
                            "message": f"not checked: checking {part} failed before this case: {why}"})
    return {"part": part, "graded": cases["graded"], "hidden": cases["hidden"], "results": results}


def report(outcomes, verbose=False):
    """The per-part table (part, public tests passed, what to look at next), then the details."""
    lines = [f"{'part':<22}{'public':<9}next"]
    details = []
    total = passed = hidden_tests = hidden_points = 0
    for o in outcomes:
        res = o["results"]
        ok = sum(r["passed"] for r in res)
        total, passed = total + len(res), passed + ok
        hidden_tests += o["hidden"]["tests"]
        hidden_points += o["hidden"]["points"]
        failures = [r for r in res if not r["passed"]]
        name = o["part"] + ("" if o["graded"] else " (ungraded)")
        nxt = failures[0]["title"] if failures else "-"
        blocked = sorted({b for r in failures for b in r.get("blocked_by", [])})
        if failures and blocked and all(r.get("passes_with_stand_in") for r in failures):
            nxt = f"fix {', '.join(blocked)} first (with a stand-in for it, every case here passes)"
        lines.append(f"{name:<22}{f'{ok}/{len(res)}':<9}{nxt}")
        for r in failures if verbose else failures[:1]:
            message = r["message"] if verbose or len(r["message"]) <= 400 else r["message"][:400] + " ..."
            details.append(f"  {o['part']}: {r['title']}\n      {message}")
    if details:
        lines += ["", "What to look at next:" if not verbose else "Every failure:"] + details
    lines.append("")
    if passed == total:
        lines.append(f"All {total} public tests passed. Only the public tests ran here"
                     + (f": the grader's {hidden_tests} tests ({hidden_points:g} points) run when you submit."
                        if hidden_tests else " (the warm-up is not graded)."))
    else:
        lines.append(f"{passed} of {total} public tests passed."
                     + (f" The grader's {hidden_tests} tests ({hidden_points:g} points) run when you submit."
                        if hidden_tests else " (The warm-up is not graded.)")
                     + ("" if verbose else " Use -v to see every failure."))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {PACKAGE}.check", description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)} (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every failing case")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    parser.add_argument("--cases", default=str(HERE / "public_tests"), help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):   # σ, Σ and ≥ on a console that cannot show them
        sys.stdout.reconfigure(errors="replace")
    if args.run:                      # the child: one part, results to a file
        with open(Path(args.out).with_name("progress.jsonl"), "w", encoding="utf-8") as progress:
            outcome = run_part(args.run, args.cases, progress=progress)
        Path(args.out).write_text(json.dumps(outcome), encoding="utf-8")
        return 0
    parts = args.parts or list(PARTS)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda p: run_isolated(p, args.cases), parts))
    print(json.dumps(outcomes, indent=1) if args.json else report(outcomes, args.verbose))
    return 0 if all(r["passed"] for o in outcomes for r in o["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
