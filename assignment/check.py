"""Run the public tests on your code:  python -m assignment.check [PART ...] [-v]

(or `make check` in the kit). Each part runs in its own process with a time
limit, so an endless loop in one part cannot hang the others. The cases live
in public_tests/*.json; they use other inputs than the hidden tests but the
same checks and messages, so passing them is a good sign, not a guarantee:
the hidden tests (property tests, more shapes, more seeds) run when you submit.
"""
import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import checks

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
            raise Problem(f"{part}.{fn} stopped at {inner}, which is not implemented yet "
                          f"(it raises NotImplementedError)") from None
        raise Problem(f"{part}.{fn} is not implemented yet (it raises NotImplementedError)") from None
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
                                        f"finite (clip a into [eps, 1 - eps] before the log)")
    elif kind == "no_mutation":
        for fn_name, fn_args in opts["calls"]:
            before = [_copy(a) for a in fn_args]
            call(module, part, fn_name, *fn_args)
            for i, (b, a) in enumerate(zip(before, fn_args)):
                checks.that(_same(a, b), f"{fn_name}(...) modified its argument number {i + 1} in place; "
                                         f"work on a copy (y = x * 2, not x *= 2)")
    elif kind == "seed_matters":
        firsts = [checks.pair(run(*args, seed=seed, **kwargs), label, ("params", "losses"))[0] for seed in (5, 6)]
        checks.that(not all(np.array_equal(firsts[0][k], firsts[1][k]) for k in firsts[0]),
                    "fit(..., seed=5) and fit(..., seed=6) start from the same parameters: pass the seed on "
                    "to init_params")
    elif kind == "close_dict":
        got = checks.mapping(run(*args, **kwargs), label, list(expected))
        for k in expected:
            checks.close(got[k], expected[k], f"{label}['{k}']", rtol=1e-12, atol=1e-15)
    elif kind == "gradient":
        got = run(*args, **kwargs)
        params = opts["param"]
        if isinstance(params, str):
            checks.gradient(params, got, expected, label, batch=opts.get("batch"), inputs=inputs)
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
        checks.gradient("w", -np.asarray(out[0]) / lr, -expected[0] / lr, f"fit(X, y, lr=0.5, epochs={epochs}), read "
                        f"as -w / lr,", 1e-5, batch=opts.get("batch"))
        b = checks.scalar(out[1], "fit(...): b")
        checks.gradient("b", np.array(-b / lr), np.array(-expected[1] / lr), f"fit(X, y, lr=0.5, epochs={epochs}), read "
                        f"as -b / lr,", 1e-5, batch=opts.get("batch"))
    elif kind == "fit_step":
        fit_step(module, part, args, kwargs, opts["model"])
    elif kind == "accuracy_logreg":
        out = run(*args)
        checks.that(isinstance(out, (tuple, list)) and len(out) == 3, f"fit(X, y): expected (w, b, losses)")
        w, b = np.asarray(out[0]), checks.scalar(out[1], "fit(...): b")
        acc = accuracy(call(module, part, "predict", args[0], w, b), args[1], "predict(X, w, b)")
        checks.that(acc >= expected, f"fit(X, y) with the defaults reaches {acc:.0%} training accuracy on "
                                     f"separable data; expected at least {expected:.0%}. Is the bias updated?")
    elif kind == "xor":
        params, _ = checks.pair(run(*args, **kwargs), "fit(X, y)", ("params", "losses"))
        pred = np.asarray(call(module, part, "predict", params, args[0]))
        checks.that(np.array_equal(pred.reshape(-1) >= 0.5, args[1].reshape(-1) >= 0.5),
                    f"fit(XOR, seed=0) with the defaults predicts {checks.fmt(pred.reshape(-1))} for XOR's "
                    f"[0, 1, 1, 0]" + (". Every output stayed near 0.5: are the initial weights too small? "
                                       "Weights of order 1 (N(0, 1), U(-1, 1)) break the symmetry"
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


def _copy(value):
    if isinstance(value, dict):
        return {k: np.copy(v) for k, v in value.items()}
    return np.copy(value)


def _same(a, b):
    if isinstance(b, dict):
        return isinstance(a, dict) and all(np.array_equal(a.get(k), v) for k, v in b.items())
    return np.array_equal(a, b)


def fit_step(module, part, args, kwargs, model):
    """(p0 - p1) / lr from fit must equal your own backward at p0 (fit's loop, not backward, is tested)."""
    X, y = args
    lr = kwargs["lr"]
    p0, _ = checks.pair(call(module, part, "fit", X, y, **dict(kwargs, lr=0.0)), "fit(...)", ("params", "losses"))
    p1, _ = checks.pair(call(module, part, "fit", X, y, **kwargs), "fit(...)", ("params", "losses"))
    _, cache = checks.pair(call(module, part, "forward", p0, X), "forward(params, X)", ("output", "cache"))
    grads = checks.mapping(call(module, part, "backward", p0, cache, y), "backward(params, cache, y)", list(p0))
    for k in p0:
        checks.gradient(k, (np.asarray(p0[k]) - np.asarray(p1[k])) / lr, grads[k],
                        f"fit(..., lr={lr}, epochs=1), read as (p0 - p1) / lr and compared with your backward,",
                        1e-6, batch=len(y))


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
        try:
            run_case(module, part, case)
            results.append({"title": case["title"], "passed": True, "message": ""})
        except (AssertionError, Problem) as exc:
            results.append({"title": case["title"], "passed": False, "message": str(exc)})
        except Exception as exc:          # the check's own trouble (no data folder, ...): this case only
            results.append({"title": case["title"], "passed": False,
                            "message": f"the check could not run: {type(exc).__name__}: {str(exc)[:400]}"})
        note({"done": i, "result": results[-1]})
    return {"part": part, "graded": cases["graded"], "hidden": cases["hidden"], "results": results}


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
        lines.append(f"{name:<22}{f'{ok}/{len(res)}':<9}{failures[0]['title'] if failures else '-'}")
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
