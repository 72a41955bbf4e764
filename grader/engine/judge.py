"""The judge: grades one part of one submission. Trusted; never runs student code.

    python -m grader.engine.judge --part mlp --student path/to/mlp.py --results out.jsonl

It stages the student's module with the reference for its dependencies,
starts the hidden suite for the part under pytest, and streams one JSON line
per test to --results as soon as the test ends, so a crash of this process
loses nothing already graded. Student code runs only in sandbox workers
(grader.sandbox), which cannot write to --results.
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import traceback
from pathlib import Path

import pytest

from .. import ROOT
from ..parts import GRADED, part as part_named
from ..sandbox import workerproc
from ..sandbox.client import HostOverloaded, Limits, SandboxFailure, StudentAbort, StudentError, StudentModule
from . import context, dependencies
from .redact import LAST_RESORT, Redactor
from .staging import reference_functions, stage_package
from tooling import feedback

SUITES = ROOT / "grader" / "suites"
OUTPUT_LIMIT = 1500


def suite_file(part: str) -> Path:
    return SUITES / f"test_{part}.py"


def title_of(item: pytest.Item) -> str:
    doc = (getattr(item.obj, "__doc__", None) or "").strip()
    if not doc:
        raise pytest.UsageError(f"{item.nodeid}: every graded test needs a docstring title")
    title = doc.splitlines()[0].strip()
    params = getattr(getattr(item, "callspec", None), "params", {})
    try:
        return title.format(**{k: v for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return title


def visibility_of(item: pytest.Item) -> str:
    """When the student sees the test's result (Gradescope's visibility), from its markers:

    - @pytest.mark.public: "visible" (students can also run it before the deadline);
    - @covered_by(public check, ...): "after_published"; a public check of the suite covers its
      topic, so `make check` already told the student;
    - otherwise (@pytest.mark.visible says it was decided): "visible", so that a failure nothing
      public explains is explained as soon as grading ends."""
    if item.get_closest_marker("public") is None and item.get_closest_marker("covered_by") is not None:
        return "after_published"
    return "visible"


def covered_by(item: pytest.Item) -> list[str]:
    """The titles of the public checks a hidden test names as covering its topic ([] if none): the first
    line of each check's docstring."""
    mark = item.get_closest_marker("covered_by")
    if mark is None:
        return []
    titles = []
    for check in mark.args:
        doc = getattr(check, "__doc__", None) if callable(check) else None
        if not doc or not doc.strip():
            raise pytest.UsageError(f"{item.nodeid}: covered_by takes public checks (public_* functions with a "
                                    f"docstring title), not {check!r}")
        titles.append(doc.strip().splitlines()[0].strip())
    return titles


def points_of(item: pytest.Item) -> float:
    mark = item.get_closest_marker("points")
    if mark is None or not mark.args:
        raise pytest.UsageError(f"{item.nodeid}: every graded test needs @pytest.mark.points(n)")
    return float(mark.args[0])


class Collector:
    """pytest plugin: turns each test outcome into a Gradescope test record."""

    def __init__(self, part, out, redactor, student=None):
        self.part = part
        self.out = out
        self.redactor = redactor
        self.student = student
        self.meta = {}

    def write(self, record):
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        tests = []
        for item in items:
            meta = {
                "id": item.nodeid.split("::", 1)[-1],
                "name": f"{self.part}: {title_of(item)}",
                "max_score": points_of(item),
                "visibility": visibility_of(item),
                "covered_by": covered_by(item),
            }
            self.meta[item.nodeid] = meta
            tests.append(meta)
        names = [t["name"] for t in tests]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise pytest.UsageError(f"duplicate test titles: {duplicates}")
        self.write({"type": "collected", "part": self.part, "tests": tests})

    def pytest_runtest_logstart(self, nodeid, location):
        feedback.forget_hints()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if item.nodeid not in self.meta:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            passed = report.passed
            exc = call.excinfo.value if call.excinfo else None
            overloaded = isinstance(exc, HostOverloaded)
            message = "" if passed else self.message(item, call)
            stand_in = dict(report.user_properties).get("stand_in")    # grader/suites/conftest.py _stand_ins
            if stand_in:
                message = f"{message}\n\n{stand_in}" if message else stand_in
            meta = self.meta[item.nodeid]
            properties = {k: v for k, v in report.user_properties}
            if not passed:
                # The likely causes the suite wrote into this message, as ids (make report groups by them).
                properties["hints"] = feedback.hints_shown(message)
            record = {"type": "result", "id": meta["id"], "name": meta["name"],
                      "score": meta["max_score"] if passed else 0.0, "max_score": meta["max_score"],
                      "status": "not graded" if overloaded else "passed" if passed else "failed",
                      "output": message, "visibility": meta["visibility"], "properties": properties}
            if self.student is not None and self.student.test_id == meta["id"]:
                record["time"] = self.student.test_time()
            self.write(record)

    def message(self, item, call):
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, HostOverloaded):
            text = str(exc)
        elif isinstance(exc, SandboxFailure):
            text = (f"not graded: {exc}. This is not your fault; your instructor has been told "
                    f"(the gradebook says 'sandbox error')")
        elif isinstance(exc, (StudentError, StudentAbort, AssertionError)) and str(exc):
            text = str(exc)
        elif exc is not None and _is_flaky(exc):
            text = ("your code gave different results when called twice with the same input "
                    "(does it use unseeded randomness or keep state between calls?)")
        elif isinstance(exc, AssertionError):
            text = "a check failed"
        else:
            # A bug in the grader, not the student's: say so, log the details.
            sys.stderr.write(f"INTERNAL ERROR in {item.nodeid}:\n")
            if call.excinfo is not None:
                traceback.print_exception(call.excinfo.type, call.excinfo.value, call.excinfo.tb,
                                          file=sys.stderr)
            text = (f"internal grader error ({type(exc).__name__ if exc else 'unknown'}); "
                    f"this is not your fault, please tell your instructor")
        text = self.redactor.clean(text)
        if len(text) > OUTPUT_LIMIT:
            text = text[:OUTPUT_LIMIT] + " ... (cut)"
        return text


def run(part: str, student_file, results_path, limits: Limits = None, collect_only: bool = False,
        own: dict = None, calibration: dict = None) -> int:
    """Grade one part; returns pytest's exit code. Records go to results_path. `calibration`: {test id:
    the reference's seconds for that test on this host}, from which each test's limit follows."""
    if part not in GRADED:
        raise SystemExit(f"unknown part {part!r}; expected one of {GRADED}")
    imports = part_named(part).imports
    limits = limits or Limits()
    with tempfile.TemporaryDirectory(prefix=f"grade-{part}-") as tmp, \
            open(results_path, "a", encoding="utf-8") as out:
        own = {m: f for m, f in (own or {}).items() if f and os.path.exists(f) and m in imports}
        root = stage_package(part, student_file, Path(tmp) / "pkg", own=own)
        workerproc.adopt_orphans()
        workerproc.pin_workers()
        student = StudentModule(part, root, limits, remote=reference_functions(part),
                                clean=Redactor.default().clean,
                                own={m: dependencies.CHECKS[m] for m in own if m in dependencies.CHECKS},
                                calibration=calibration)
        context.STUDENT = student
        collector = Collector(part, out, Redactor.default(LAST_RESORT), student)
        # Only the plugins grading needs: third-party pytest plugins installed on
        # the machine neither load (faster) nor get a say in the results.
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        # ... nor options or plugins from the grader's environment (an instructor's PYTEST_ADDOPTS="-x" or
        # "-p some_plugin" would change what the hidden suites run, and so the scores).
        for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
            os.environ.pop(name, None)
        # hypothesis's pytest plugin, on each failing property test, imports hypothesis.extra._patching (libcst,
        # 95 modules: 0.5-0.9 CPU-seconds) to write a patch that adds the failing example to the suite's source,
        # for a terminal summary no grade reads. Its own fallback for a missing module skips that.
        if "hypothesis.extra._patching" not in sys.modules:
            sys.modules["hypothesis.extra._patching"] = None
        args = [str(suite_file(part)), "-c", str(SUITES / "pytest.ini"), "--rootdir", str(SUITES),
                "-q", "--no-header", "--assert=plain", "--tb=no", "-p", "no:cacheprovider",
                # (no:unraisableexception: its five gc.collect() at the end cost ~0.25 CPU-seconds a judge, for
                # warnings no grade reads)
                "-p", "no:unraisableexception",
                "-p", "hypothesis.extra.pytestplugin", "-W", "ignore::DeprecationWarning"]
        if collect_only:
            args.append("--collect-only")
        try:
            code = pytest.main(args, plugins=[collector])
        finally:
            student.close()
        collector.write({"type": "done", "exit": int(code), "status": student.status(),
                         "sandbox": student.backend, "sandboxed": student.sandboxed,
                         "dependencies": student.dependency_modes(),
                         "seconds_used": round(student.charged, 3),
                         "judge_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
        return int(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.engine.judge")
    parser.add_argument("--part", required=True, choices=GRADED)
    parser.add_argument("--student", help="the student's module file (omit if not submitted)")
    parser.add_argument("--results", required=True)
    parser.add_argument("--limits", default="{}", help="JSON overrides for grader.sandbox.limits.Limits")
    parser.add_argument("--collect-only", action="store_true")
    parser.add_argument("--calibration", help="a JSON file: {test id: the reference's seconds on this host}")
    parser.add_argument("--own", action="append", default=[],
                        help="MODULE=FILE: the student's own module that the part may import")
    args = parser.parse_args(argv)
    # Should a container run out of memory (grader.engine.container), the kernel's OOM killer takes the
    # workers first (1000: student code, grader/sandbox/worker.py), then a judge (this part is then
    # not graded), and never before them the orchestrator, which writes results.json.
    try:
        with open("/proc/self/oom_score_adj", "w", encoding="ascii") as f:
            f.write("500")
    except OSError:
        pass
    limits = Limits(**json.loads(args.limits))
    student = args.student if args.student and os.path.exists(args.student) else None
    own = dict(spec.split("=", 1) for spec in args.own if "=" in spec)
    calibration = json.loads(Path(args.calibration).read_text(encoding="utf-8")) if args.calibration else None
    run(args.part, student, args.results, limits, args.collect_only, own=own, calibration=calibration)
    return 0


def _is_flaky(exc):
    """hypothesis saw a different outcome on replaying the same example (FlakyFailure in 6.x)."""
    try:
        from hypothesis.errors import Flaky
    except ImportError:              # pragma: no cover
        return type(exc).__name__.startswith("Flaky")
    return isinstance(exc, Flaky)


if __name__ == "__main__":
    sys.exit(main())

