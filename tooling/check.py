"""Run the public tests on your code:  python -m assignment.check [PART ...] [-v]

(or `make check`, from the folder that holds assignment/ or from inside it;
`python3 check.py` inside assignment/ works too). Each part runs in its own
process with a time limit, so an endless loop in one part cannot hang the
others. The cases live in public_tests/*.json: each names a probe (probes.py)
and the numbers it checks your code against. They use other inputs than the
hidden tests but the same checks and messages (feedback.py, with the grader's
likely causes), so passing them is a good sign, not a guarantee: the hidden
tests (property tests, more shapes, more seeds) run when you submit.

A part that imports another (two_layer_net and mlp use activations) is
checked with your own copy of it. When that copy fails its own checks, the
failures it causes say so, and the case runs again with a stand-in built from
your own forward function (finite differences), which tells whether the part
itself is right.
"""
import argparse
import importlib
import json
import os
import random
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

from . import feedback, manifest, probes  # noqa: E402

HERE = Path(__file__).resolve().parent
PACKAGE = __package__ or "assignment"
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


def seed_for_call(n):
    """The seed of numpy's and random's global generators before the n-th call of a case: the grader's
    worker seeds them the same way before the n-th call of a test (grader/sandbox/worker.py, tested
    equal). Distinct for every n < 2**32, so code that draws from np.random where it promised its
    `seed` still gives two results for one seed, and the verdict is the same on every run."""
    return (0x9E3779B1 * n) % (1 << 32)


class InProcessModule:
    """Your module as the probes see it, called in this process (the grader's judge calls it in a
    sandbox, through the same `call`). What your code raises becomes a Problem that says where.
    Each case gets a new one, whose calls seed the global generators with seed_for_call(1, 2, ...)."""

    def __init__(self, module, part):
        self.module, self.part = module, part
        self.calls = 0

    def call(self, fn, *args, _errstate=None, _return_args=False, **kwargs):
        """module.fn(*args, **kwargs); with _return_args, (value, args, kwargs) as the call left them."""
        self.calls += 1
        np.random.seed(seed_for_call(self.calls))
        random.seed(seed_for_call(self.calls))
        value = call(self.module, self.part, fn, *args, errstate=_errstate, **kwargs)
        return (value, list(args), kwargs) if _return_args else value


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
            raise Problem(f"{part}.{fn} stopped at {inner}, which is {feedback.hint('not_implemented')}") from None
        raise Problem(f"{part}.{fn} is {feedback.hint('not_implemented')}") from None
    except SystemExit as exc:
        raise Problem(f"{part}.{fn} called exit() or sys.exit({exc.code!r}){where(exc, module)}: a graded "
                      f"function must return its result, never exit") from None
    except Exception as exc:
        raise Problem(f"{part}.{fn} raised {type(exc).__name__}: {str(exc)[:300]}{where(exc, module)}") from None


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
        results.append(attempt(InProcessModule(module, part), case))
        note({"done": i, "result": results[-1]})
    if module is not None:
        explain_training(cases["cases"], results)
        blame_imports(module, part, package, cases_dir, cases["cases"], results)
    return {"part": part, "graded": cases["graded"], "hidden": cases["hidden"], "results": results}


def attempt(student, case):
    """One case's result: {"title", "passed", "message"}: its probe run on `student` with its numbers."""
    try:
        probes.PROBES[case["kind"]](student, **decode(case["data"]))
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
                result["message"] += f". Likely cause: {feedback.hint(name)}"
                break


def blame_imports(module, part, package, cases_dir, cases, results):
    """When a part fails where it calls your own copy of another part (activations) and that copy fails
    its own checks, say so; where a stand-in for the broken backward (finite differences of your own
    forward, which passes its checks) makes the case pass, say that the part itself looks right."""
    for dep_part in manifest.imports(part):
        if any(r.get("blocked_by") for r in results) or all(r["passed"] for r in results):
            return
        _blame(module, part, dep_part, package, cases_dir, cases, results)


def _blame(module, part, dep_part, package, cases_dir, cases, results):
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
            own[case["fn"]] = own.get(case["fn"], True) and attempt(InProcessModule(dep, dep_part), case)["passed"]
    broken = sorted(fn for fn, ok in own.items() if not ok and fn in used)
    if not broken:
        return
    stand_ins = {fn: _finite_difference_backward(getattr(dep, fn[:-len("_backward")]))
                 for fn in broken if fn.endswith("_backward") and own.get(fn[:-len("_backward")]) is True}
    names = ", ".join(f"{dep_part}.{fn}" for fn in broken)
    fix_first = f"your {names} fail{'s' if len(broken) == 1 else ''} {'its' if len(broken) == 1 else 'their'} " \
                f"own checks; fix {'that' if len(broken) == 1 else 'those'} first"
    for case, result in zip(cases, results):
        if result["passed"] or feedback.hint("not_implemented") in result["message"]:
            continue                     # an unfinished function says so already
        passes = False
        if stand_ins and len(stand_ins) == len(broken):
            saved = {(m, fn): getattr(m, fn) for fn in stand_ins for m in (module, dep) if hasattr(m, fn)}
            try:
                for (m, fn) in saved:
                    setattr(m, fn, stand_ins[fn])
                passes = attempt(InProcessModule(module, part), case)["passed"]
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
    grader = manifest.grader_python()
    newer = python_warning(grader, sys.version_info[:2])
    if newer:
        lines.append(newer)
    on = f", on Python {grader[0]}.{grader[1]}" if grader else ""
    if passed == total:
        lines.append(f"All {total} public tests passed. Only the public tests ran here"
                     + (f": the grader's {hidden_tests} tests ({hidden_points:g} points) run when you submit{on}."
                        if hidden_tests else " (the warm-up is not graded)."))
    else:
        lines.append(f"{passed} of {total} public tests passed."
                     + (f" The grader's {hidden_tests} tests ({hidden_points:g} points) run when you submit{on}."
                        if hidden_tests else " (The warm-up is not graded.)")
                     + ("" if verbose else " Use -v to see every failure."))
    return "\n".join(lines)


def python_warning(grader, mine):
    """A warning when this Python (`mine`, e.g. (3, 12)) is newer than the grader's (parts.json), else None:
    code that only a newer Python accepts passes here and fails when graded."""
    mine, grader = tuple(mine)[:2], tuple(grader or ())[:2]
    if not grader or mine <= grader:
        return None
    example = " (an f-string that reuses its quotes inside {}, say)" if grader < (3, 12) <= mine else ""
    mine, grader = "%d.%d" % mine, "%d.%d" % grader
    return (f"Warning: this is Python {mine}, and the grader runs Python {grader}: code that needs {mine}"
            f"{example} fails when graded, and a SyntaxError costs the whole file.")


def main(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {PACKAGE}.check", description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="PART", help="any of the parts (default: all)")
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
    known = manifest.names()
    parts = args.parts or known
    unknown = [p for p in parts if p not in known]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {', '.join(known)}")
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda p: run_isolated(p, args.cases), parts))
    print(json.dumps(outcomes, indent=1) if args.json else report(outcomes, args.verbose))
    return 0 if all(r["passed"] for o in outcomes for r in o["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
