"""Grade a batch of submissions: `python -m grader grade SUBMISSION... --out DIR`.

A submission is a folder or a .zip. Only the graded module files are taken from
it (grader.engine.submission). Every (submission, part) pair is graded by its
own judge process (grader.engine.judge), which runs that part's
hidden suite with the student's code in a sandboxed worker. A part that
crashes, hangs or cannot be imported costs that part only; the batch always
finishes.

Writes DIR/<name>/results.json (Gradescope schema) as soon as a submission is graded, and
DIR/gradebook.csv with every submission graded into DIR so far (a re-grading merges by name).
A batch shows a progress bar and a line per submission that times out, crashes or fails to
stage; Ctrl-C keeps what was written (BatchInterrupted); the same command then resumes, skipping
submissions whose files and kit are unchanged (`force` grades them again).
"""
import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path

from .. import ROOT
from ..parts import GRADED, PointsMismatch, check_points, part as part_named
from ..sandbox.client import Limits
from ..sandbox.workerproc import orphan_guard
from . import forkserver, preflight
from .results import PartResult, SubmissionResult, TestResult
from .submission import Submission, read_submission

GRADEBOOK_COLUMNS = ["submission", *GRADED, "total", "status", "sandbox"]
# The bundled examples (`python -m grader grade` with no submission): the reference, the untouched
# starter and a partly correct submission (generated from the catalog's bugs).
EXAMPLES = {
    "reference": ROOT / "solutions",
    "starter": ROOT / "assignment",
    "partial": ROOT / "grader" / "examples" / "partial",
}
_SANDBOX = {}      # the preflight's verified backend, passed to every judge


def _judge_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    if _SANDBOX.get("backend"):
        env["GRADER_SANDBOX"] = _SANDBOX["backend"]
    return env


class Interrupted(Exception):
    """The batch was interrupted (Ctrl-C): no new judge starts."""


_STOP = threading.Event()            # set on Ctrl-C: no judge starts, the running ones are killed
_RUNNING = set()                     # Popen objects of the judges running now
_RUNNING_LOCK = threading.Lock()


def _kill_running_judges():
    with _RUNNING_LOCK:
        procs = list(_RUNNING)
    for proc in procs:
        try:
            proc.kill()              # its workers die with it (orphan guard, unshare --kill-child)
        except OSError:
            pass


# How a part's grading can end without a verdict on the student's code: the part is graded again at
# the end of the batch, one judge at a time, and a later run of the same command grades it again.
NOT_GRADED = ("not graded", "grader error")
RETRIES = 2
JUDGE_SLACK_SECONDS = 300      # the judge's own work (pytest, hypothesis, comparisons) on top of its tests'


def judge_wall_bound(limits: Limits, calibration: dict | None, tests: list) -> float:
    """The wall-clock seconds a judge may run in all: every test's backstop, a worker start's, and slack
    for the judge's own work. Only a broken judge or a host far beyond overloaded reaches it."""
    calibration = calibration or {}
    total = sum(limits.backstop(limits.for_test(calibration.get(t))) for t in tests)
    return total + 2 * limits.backstop(limits.start_seconds) + JUDGE_SLACK_SECONDS


def run_judge(part: str, student_file, results_path, limits: Limits, collect_only: bool = False, log=None,
              own: dict = None, calibration: dict | None = None) -> tuple:
    """Run one judge process; return (records, how it ended). `own`: {module: file} of the same
    submission's modules the part may import (used only where they behave like the reference).
    `calibration`: {test id: the reference's seconds on this host} (None: every test gets
    Limits.for_test(None))."""
    cmd = ["--part", part, "--results", str(results_path), "--limits", json.dumps(asdict(limits))]
    if student_file:
        cmd += ["--student", str(student_file)]
    for module, path in (own or {}).items():
        if path:
            cmd += ["--own", f"{module}={path}"]
    if calibration:
        calibration_file = Path(results_path).with_suffix(".calibration.json")
        calibration_file.write_text(json.dumps(calibration), encoding="utf-8")
        cmd += ["--calibration", str(calibration_file)]
    if collect_only:
        cmd.append("--collect-only")
    # The judge itself is bounded too (judge_wall_bound), by its collected tests once it has them.
    ended = "ok"
    start = time.monotonic()
    timeout = judge_wall_bound(limits, calibration, [])
    tests = None
    with open(log or os.devnull, "ab") as logf:
        with _RUNNING_LOCK:
            if _STOP.is_set():
                raise Interrupted()
            try:
                proc = _start_judge(cmd, logf, log)
            except OSError as exc:        # EAGAIN (no process left), ENOMEM: this part, graded again later
                return [], f"the grader could not start a judge ({exc.strerror or exc})"
            _RUNNING.add(proc)
        try:
            while True:
                try:
                    code = proc.wait(timeout=0.5)
                    if code not in (0, 1):
                        ended = f"judge exited with status {code}"
                    break
                except subprocess.TimeoutExpired:
                    pass
                if tests is None:
                    tests = _collected_ids(results_path)
                    if tests is not None:
                        timeout = judge_wall_bound(limits, calibration, tests)
                if time.monotonic() - start > timeout:
                    proc.kill()
                    proc.wait()
                    ended = f"judge did not finish within {timeout:.0f} s"
                    break
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc)
    if _STOP.is_set():
        raise Interrupted()
    records = []
    if Path(results_path).exists():
        for line in Path(results_path).read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
    return records, ended


_SERVER = []


def _start_judge(args, logf, log):
    """A judge process for `args` (grader.engine.judge's command line): forked by this process's judge
    server (grader.engine.forkserver: no start-up per judge), or, where that server cannot run, started."""
    if not _SERVER or not _SERVER[0].alive():
        _SERVER.clear()
        try:
            _SERVER.append(forkserver.JudgeServer(_judge_env(), ROOT))
        except OSError:
            pass
    if _SERVER:
        try:
            return _SERVER[0].spawn(args, _judge_env(), log or os.devnull, ROOT)
        except OSError:
            if _SERVER[0].alive():
                raise                    # the machine refused a process: the caller says so
    return subprocess.Popen(orphan_guard() + [sys.executable, "-m", "grader.engine.judge", *args], cwd=ROOT,
                            env=_judge_env(), stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def _collected_ids(results_path):
    """The ids of the tests a running judge collected (its first record), or None before it has."""
    try:
        with open(results_path, encoding="utf-8") as f:
            first = f.readline()
        record = json.loads(first)
        return [t["id"] for t in record["tests"]] if record.get("type") == "collected" else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


_COLLECTED = {}


def collected_tests(part: str, limits: Limits, workdir: str | os.PathLike) -> list[dict]:
    """The canonical test list of a part (names and points), from a collect-only run."""
    if part not in _COLLECTED:
        out = Path(workdir) / f"collect-{part}.jsonl"
        records, ended = run_judge(part, None, out, limits, collect_only=True)
        tests = next((r["tests"] for r in records if r.get("type") == "collected"), None)
        if not tests:
            why = ended if tests is None else "no tests (an error while importing it? python -m " \
                f"grader.engine.judge --part {part} --results /dev/null --collect-only says)"
            raise RuntimeError(f"could not collect the hidden suite of {part}: {why}")
        _COLLECTED[part] = tests
    return _COLLECTED[part]


def grade_part(sub: Submission, part: str, limits: Limits, workdir, log_dir=None,
               calibration: dict | None = None) -> dict:
    """Grade one part of one staged submission. Returns a part result dict. `calibration`: the part's
    {test id: reference seconds on this host}."""
    start = time.monotonic()
    if sub.files.get(part) is None:
        message = sub.problems.get(part, f"{part}.py was not found in the submission")
        tests = [dict(t, score=0.0, status="failed", output=message)
                 for t in collected_tests(part, limits, workdir)]
        return {"part": part, "tests": tests, "status": "missing", "seconds": 0.0}
    out = Path(workdir) / f"{sub.name}-{part}.jsonl"
    out.unlink(missing_ok=True)
    log = Path(log_dir) / f"{sub.name}-{part}.log" if log_dir else None
    records, ended = run_judge(part, sub.files[part], out, limits, log=log,
                               own={m: sub.files.get(m) for m in part_named(part).imports},
                               calibration=calibration)
    canonical = next((r["tests"] for r in records if r.get("type") == "collected"), None)
    if canonical is None:           # the judge died before collecting: ask a fresh one
        canonical = collected_tests(part, limits, workdir)
    done = next((r for r in records if r.get("type") == "done"), {})
    by_id = {r["id"]: r for r in records if r.get("type") == "result"}
    tests = []
    for t in canonical:
        r = by_id.get(t["id"])
        if r is None:
            why = ended if ended != "ok" else "the test did not run"
            r = dict(t, score=0.0, status="not graded", output=f"not graded: {why}. This is not your fault; "
                     f"it is graded again")
        test = {k: r.get(k, t.get(k)) for k in ("name", "score", "max_score", "status", "output", "visibility")}
        extra = dict(r.get("properties") or {})   # what the test recorded (record_property), e.g. an accuracy
        if r.get("time"):                         # its time, its limit and the calibration it came from
            extra["time"] = r["time"]
        if extra:
            test["extra_data"] = extra
        tests.append(test)
    status = "grader error" if ended != "ok" else done.get("status", "grader error")
    if status == "ok" and any(t["status"] == "not graded" for t in tests):
        status = "not graded"
    return {"part": part, "tests": tests, "status": status, "sandboxed": done.get("sandboxed"),
            "sandbox": done.get("sandbox"), "dependencies": done.get("dependencies"),
            "judge_memory_mb": done.get("judge_memory_mb"),
            "seconds": round(time.monotonic() - start, 2)}


CALIBRATION_TEST_SECONDS = 120.0     # each reference test's own limit while it is measured


class Calibration(dict):
    """{part: {test id: seconds}}: what the reference's calls take in each test on this host (the
    student's clock of grader.sandbox.meter), measured once per batch by grading the reference
    (solutions/) as a submission; `summary` goes into every results.json."""

    summary: dict = {}


def host_description() -> dict:
    """The machine the calibration was measured on (results.json: a TA answering a dispute)."""
    import platform
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    import numpy
    return {"cpu": model or platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": numpy.__version__}


def calibrate(limits: Limits, parts, jobs: int, workdir: str | os.PathLike, log_dir=None, cache=None,
              reuse: bool = True) -> Calibration:
    """Grade the reference on this host, one judge per part, and return what each test's calls took
    (Calibration): each test's limit is then Limits.for_test(that). The reference must score full
    marks here, or grading is refused (preflight.GradingRefused): a machine that fails the reference
    would blame every student for its own fault. With a fixed Limits.test_seconds nothing is measured.
    `cache`: a file that keeps the calibration for this kit on this host (the variable
    MLP_KIT_CALIBRATION_FILE takes precedence); it is read when `reuse`, and always written."""
    found = Calibration()
    if limits.test_seconds is not None:
        found.summary = {"rule": limits.rule()}
        return found
    if os.environ.get(CALIBRATION_CACHE_ENV):
        cache, reuse = os.environ[CALIBRATION_CACHE_ENV], True
    key = {"kit": kit_version(), "host": host_description()}
    cached = _read_cache(cache, key) if cache and reuse else {}
    if all(p in cached.get("parts", {}) for p in parts):
        found.update({p: cached["parts"][p] for p in parts})
        found.summary = dict(cached["summary"], rule=limits.rule(), multiple=limits.multiple,
                             floor_seconds=limits.floor_seconds,
                             reference_seconds={p: round(sum(t.values()), 3) for p, t in found.items()})
        return found
    workdir = Path(workdir) / "calibration"
    sub = read_submission(ROOT / "solutions", workdir / "staged", name="calibration")
    measuring = replace(limits, test_seconds=CALIBRATION_TEST_SECONDS)
    started = time.monotonic()

    def one(part):
        ended, records = "ok", []
        for attempt in range(RETRIES + 1):
            out = workdir / f"{part}-{attempt}.jsonl"
            log = Path(log_dir) / f"calibration-{part}.log" if log_dir else None
            records, ended = run_judge(part, sub.files[part], out, measuring, log=log,
                                       own={m: sub.files.get(m) for m in part_named(part).imports})
            results = [r for r in records if r.get("type") == "result"]
            collected = next((r["tests"] for r in records if r.get("type") == "collected"), None)
            if collected:
                _COLLECTED.setdefault(part, collected)
            if ended == "ok" and results and not any(r.get("status") == "not graded" for r in results):
                break
        failed = [r for r in results if r.get("status") != "passed"]
        if ended != "ok" or not results or failed:
            why = ended if ended != "ok" else "no test ran" if not results else \
                f"{failed[0]['name']}: {str(failed[0].get('output'))[:300]}"
            raise preflight.GradingRefused(
                f"refusing to grade: the reference does not score full marks on this machine ({part}: {why}), "
                f"so every student would be marked wrong for the machine's fault. Check the installation "
                f"(python -m grader grade with no submission grades the bundled examples; logs in "
                f"{log_dir or 'the output folder'}/calibration-{part}.log)")
        return part, {r["id"]: float((r.get("time") or {}).get("seconds") or 0.0) for r in results}

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for part, times in pool.map(one, parts):
            found[part] = times
    found.summary = {"rule": limits.rule(), "multiple": limits.multiple, "floor_seconds": limits.floor_seconds,
                     "host": key["host"],
                     "reference_seconds": {p: round(sum(t.values()), 3) for p, t in found.items()},
                     "seconds": round(time.monotonic() - started, 1)}
    if cache:
        merged = {**(cached or _read_cache(cache, key)).get("parts", {}), **found}
        try:
            path = Path(cache)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": key, "parts": merged, "summary": found.summary}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass
    return found


# A file that keeps a calibration for later batches on the same machine with the same kit (the kit's own
# tests grade hundreds of small batches; a course grades one batch, and calibrates it). Without it, a
# batch keeps its calibration in its output folder (CALIBRATION_NAME): a re-run of the same command
# (resume) grades with the limits of the first run, and measures again only on another machine or kit,
# or with --force. The Gradescope autograder measures it when its image is built (setup.sh).
CALIBRATION_CACHE_ENV = "MLP_KIT_CALIBRATION_FILE"
CALIBRATION_NAME = "calibration.json"


def calibrate_host(cache, limits: Limits = None, jobs: int = 1, parts=GRADED, allow_unsandboxed: bool = False):
    """Measure this host's calibration into `cache` (the preflight first, as a batch does); returns
    the Calibration. Raises preflight.GradingRefused as grade() does."""
    limits = limits or Limits()
    workdir = Path(tempfile.mkdtemp(prefix="calibrate-"))
    try:
        sandbox = preflight.check(allow_unsandboxed, workdir, limits)
        _SANDBOX["backend"] = sandbox["backend"]
        return calibrate(limits, parts, jobs, workdir, cache=cache, reuse=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def check_suite_points(parts=GRADED, limits: Limits = None, jobs: int = 4) -> None:
    """Collect each part's hidden suite (a judge process per part, about 2 s each, `jobs` at once) and
    check that its tests add up to the part's points (grader.parts.check_points): what an autograder's
    build checks before it writes a zip. Raises PointsMismatch (a ValueError), or RuntimeError when a
    suite cannot be collected."""
    limits = limits or Limits()
    with tempfile.TemporaryDirectory(prefix="points-") as tmp, ThreadPoolExecutor(max_workers=jobs) as pool:
        collected = dict(zip(parts, pool.map(lambda p: collected_tests(p, limits, tmp), parts)))
    for part in parts:
        check_points(part, sum(t["max_score"] for t in collected[part]))


def _read_cache(path, key):
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("key") == key and isinstance(data.get("parts"), dict) \
        and isinstance(data.get("summary"), dict) else {}


def results_json(sub: Submission, part_results: list[dict], fingerprint: str | None = None,
                 sandbox: dict | None = None, timing: dict | None = None, container: dict | None = None) -> dict:
    """results.json for `sub` (grader/engine/results.py's SubmissionResult, in Gradescope's format) from the
    parts' runs (_grade_part's dicts)."""
    tests = [TestResult.from_json(t) for p in part_results for t in p["tests"]]
    parts = {p["part"]: PartResult(round(sum(t["score"] for t in p["tests"]), 4),
                                   round(sum(t["max_score"] for t in p["tests"]), 4), p["status"], p["seconds"],
                                   p.get("sandboxed"), p.get("judge_memory_mb"), p.get("dependencies"))
             for p in part_results}
    lines = [f"{p['part']}: {sum(t['score'] for t in p['tests']):g} / "
             f"{sum(t['max_score'] for t in p['tests']):g}"
             + ("" if p["status"] == "ok" else f" ({p['status']})") for p in part_results]
    return SubmissionResult(
        score=round(sum(t.score for t in tests), 4), max_score=round(sum(t.max_score for t in tests), 4),
        tests=tests, parts=parts, submission=sub.name, output="\n".join(lines),
        sandbox=sandbox or {"backend": _part_backend(part_results)}, fingerprint=fingerprint, time=timing,
        container=container).to_gradescope()


def _part_backend(part_results):
    """The backend the judges used (the same for every part of a batch), or "none"."""
    used = {p.get("sandbox") for p in part_results if p.get("sandbox")}
    return used.pop() if len(used) == 1 else ("none" if not used else "mixed: " + ", ".join(sorted(used)))


def sandbox_backend(result: dict) -> str:
    """The isolation student code ran under, for display: the engine's own word when it gives one
    (extra_data["sandbox"]["backend"]), else what the parts' workers reported, else "unknown"."""
    extra = result.get("extra_data", {})
    backend = (extra.get("sandbox") or {}).get("backend")
    if backend:
        return str(backend)
    flags = [info.get("sandboxed") for info in extra.get("parts", {}).values() if "sandboxed" in info]
    if flags and all(flags):
        return "namespaces"
    if any(f is False for f in flags):
        return "none"
    return "unknown"


def gradebook_row(name: str, result: dict) -> dict:
    typed = SubmissionResult.from_json(result)
    bad = [f"{p}: {typed.parts[p].status}" for p in GRADED if p in typed.parts and typed.parts[p].status != "ok"]
    row = {"submission": name, "total": _num(typed.score), "status": "ok" if not bad else "; ".join(bad),
           "sandbox": sandbox_backend(result)}
    for p in GRADED:
        row[p] = _num(typed.parts[p].score) if p in typed.parts else ""
    return row


def _num(x):
    return f"{x:g}" if isinstance(x, float) else str(x)


def _write_atomic(path, text):
    """Write `path` whole or not at all (a Ctrl-C or a crash never leaves half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_gradebook(out_dir: str | os.PathLike, rows: list[dict]) -> Path:
    path = Path(out_dir) / "gradebook.csv"
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=GRADEBOOK_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    _write_atomic(path, buf.getvalue())
    return path


def read_results(out_dir: str | os.PathLike) -> dict[str, dict]:
    """{name: results.json contents} of every submission folder of `out_dir` that holds a results.json
    written by make grade (logs/ and anything else is left out)."""
    out_dir = Path(out_dir)
    found = {}
    if not out_dir.is_dir():
        return found
    for sub_dir in sorted(p for p in out_dir.iterdir() if p.is_dir() and p.name != "logs"):
        path = sub_dir / "results.json"
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "parts" in data.get("extra_data", {}):
            found[sub_dir.name] = data
    return found


def _gradebook_order(out_dir):
    """The submissions of an existing gradebook.csv, in its order."""
    path = Path(out_dir) / "gradebook.csv"
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return [row["submission"] for row in csv.DictReader(f) if row.get("submission")]
    except (OSError, KeyError, csv.Error):
        return []


def _merged_rows(results, order_before, first=()):
    order = []
    for name in [*order_before, *first, *sorted(results)]:
        if name in results and name not in order:
            order.append(name)
    return [gradebook_row(name, results[name]) for name in order]


def rebuild_gradebook(out_dir: str | os.PathLike, first: tuple = ()) -> list[dict]:
    """Write out_dir/gradebook.csv from the results.json files present: the submissions of the
    existing gradebook keep their order, then `first`, then the others by name. Returns the rows."""
    rows = _merged_rows(read_results(out_dir), _gradebook_order(out_dir), first)
    write_gradebook(out_dir, rows)
    return rows


def format_gradebook(rows: list[dict], max_scores: dict[str, float]) -> str:
    header = GRADEBOOK_COLUMNS
    table = [header, ["(max)", *[_num(max_scores.get(p, "")) for p in GRADED],
                      _num(sum(max_scores.values())), "", ""]]
    table += [[row.get(c, "") for c in header] for row in rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in table)


_KIT_VERSION = None


def kit_version() -> str:
    """A hash of the grading code, the hidden suites, the feedback code and the reference: a
    submission graded by another version of the kit is graded again when a batch resumes."""
    global _KIT_VERSION
    if _KIT_VERSION is None:
        h = hashlib.sha256()
        files = [*(ROOT / "grader").rglob("*.py"), *(ROOT / "grader").rglob("*.ini"),
                 *(ROOT / "solutions").glob("*.py"), *(ROOT / "tooling").glob("*.py")]
        for path in sorted(f for f in files if "__pycache__" not in f.parts and "templates" not in f.parts):
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        _KIT_VERSION = h.hexdigest()[:16]
    return _KIT_VERSION


def fingerprint(sub: Submission, parts, limits: Limits) -> str:
    """What decides a grade: the files taken (or why none was), the parts, the limits, the kit."""
    h = hashlib.sha256(json.dumps([kit_version(), list(parts), asdict(limits)]).encode())
    for part in parts:
        f = sub.files.get(part)
        h.update(f"\0{part}\0".encode())
        h.update(Path(f).read_bytes() if f else ("missing: " + sub.problems.get(part, "")).encode())
    return h.hexdigest()[:32]


class BatchInterrupted(Exception):
    """Ctrl-C during a batch. `summary` is one line on what was written."""

    def __init__(self, summary, results):
        super().__init__(summary)
        self.summary = summary
        self.results = results


class _NoBar:
    """The progress bar's stand-in where none is shown (quiet, or tqdm not installed: the
    Gradescope autograder's venv has only the engine's packages). Lines still get printed."""

    def __init__(self, quiet):
        self.quiet = quiet

    def update(self, n=1):
        pass

    def write(self, line, file=None):
        if not self.quiet:
            print(line, file=file or sys.stderr)

    def close(self):
        pass


class _LineProgress(_NoBar):
    """Progress as plain lines, one per graded submission, where no bar can be drawn: stderr is not a
    terminal (a CI log, a file) or a terminal that reports no size (under `script`, where tqdm's
    dynamic width is 0 columns and it draws nothing)."""

    def __init__(self, total, quiet=False, stream=None, clock=time.monotonic):
        super().__init__(quiet)
        self.total, self.done, self.stream, self.clock = total, 0, stream, clock
        self.started = clock()

    def update(self, n=1):
        self.done += n
        elapsed = self.clock() - self.started
        line = f"graded {self.done} of {self.total} submission(s)"
        if self.done and elapsed > 0:
            left = (self.total - self.done) * elapsed / self.done
            line += f" in {elapsed:.0f} s" + (f", about {left:.0f} s left" if self.done < self.total else "")
        # One write, the newline with it: print() writes the end separately, and a Ctrl-C between the two left
        # the line open, so that the summary of the interruption was printed on the end of it.
        stream = self.stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()


def terminal_columns(stream) -> int:
    """The width of the terminal `stream` writes to; 0 when it is not a terminal or reports no size."""
    try:
        return os.get_terminal_size(stream.fileno()).columns if stream.isatty() else 0
    except (OSError, ValueError, AttributeError):
        return 0


def _progress(total, quiet):
    """A progress bar with the rate and the time left (tqdm), on stderr; plain lines where stderr is no
    terminal with a size (_LineProgress)."""
    if quiet or total == 0:
        return _NoBar(quiet)
    if not terminal_columns(sys.stderr):
        return _LineProgress(total)
    try:
        from tqdm import tqdm
    except ImportError:
        return _LineProgress(total)
    return tqdm(total=total, unit="submission", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def _problem_line(name, res, sub):
    """One line for a submission whose parts timed out, crashed, did not import or were not staged."""
    parts = res["extra_data"]["parts"]
    bad = []
    for part, info in parts.items():
        if info["status"] == "ok":
            continue
        why = info["status"]
        if why == "missing" and part in sub.problems and "was not found" not in sub.problems[part]:
            why = f"not staged: {sub.problems[part]}"
        elif why == "missing":
            continue                     # a file not submitted is no surprise
        bad.append(f"{part} {why}")
    return f"{name}: " + "; ".join(bad) if bad else None


def grade(paths, out_dir, jobs: int = 1, limits: Limits = None, parts=GRADED, names=None, quiet: bool = False,
          force: bool = False, allow_unsandboxed: bool = False, calibration_file=None, container: dict = None) -> dict:
    """Grade every submission in `paths`; returns {name: results dict}.

    Each submission's results.json and its gradebook row are written as soon as its last part is
    graded; out_dir/gradebook.csv keeps the rows of submissions graded earlier into the same folder.
    A submission whose files, parts, limits and kit are those of its results.json already
    there is not graded again (`force` grades it anyway; a result graded without a sandbox is kept
    only while `allow_unsandboxed`). Ctrl-C kills the running judges, keeps what was written and
    raises BatchInterrupted.

    Before anyone is graded, the preflight (grader.engine.preflight) picks the sandbox backend, verifies
    it and grades the reference through it: it raises preflight.GradingRefused (nothing graded)
    when no sandbox works on this host and `allow_unsandboxed` is false, or when the reference
    does not grade correctly here. The calibration is kept in `calibration_file` (default:
    out_dir/calibration.json) and reused by later batches with this kit on this host, unless `force`.
    `container`: what the batch was sized to (grader.engine.container.Sizing.as_dict()), recorded in
    every results.json (extra_data["container"])."""
    limits = limits or Limits()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="grade-"))
    log_dir = out_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    _STOP.clear()
    results, graded, skipped, done = {}, [], [], []
    subs, todo = [], []
    try:
        taken = set()
        for i, p in enumerate(paths):
            sub = read_submission(p, workdir / "staged", name=(names[i] if names else None), slot=str(i))
            base, k = sub.name, 2
            while sub.name in taken:
                sub.name = f"{base}-{k}"
                k += 1
            taken.add(sub.name)
            subs.append(sub)
        for sub in subs:
            sub.fingerprint = fingerprint(sub, parts, limits)
            previous = None if force else read_results_file(out_dir / sub.name / "results.json")
            if previous is not None and previous["extra_data"].get("fingerprint") == sub.fingerprint and \
                    (allow_unsandboxed or sandbox_backend(previous) != "none") and not _not_graded(previous):
                results[sub.name] = previous
                skipped.append(sub.name)
            else:
                todo.append(sub)
        if skipped and not quiet:
            print(f"{len(skipped)} submission(s) already graded with these files and this kit: kept "
                  f"(--force grades them again)", file=sys.stderr)
        sandbox, calibration = None, Calibration()
        if todo:
            sandbox = preflight.check(allow_unsandboxed, out_dir, limits)
            _SANDBOX["backend"] = sandbox["backend"]
            # Every part's list of tests, before any student code runs: a part whose judge cannot start
            # later (the machine out of processes) is then "not graded" test by test, never a crash.
            # One source for points: a part's tests must add up to its points in grader/parts.py (checked
            # before the calibration, which may take a minute on a fresh host).
            try:
                check_suite_points(parts, limits, jobs=max(1, jobs))
            except (RuntimeError, PointsMismatch) as exc:
                raise preflight.GradingRefused(f"refusing to grade: {exc}") from None
            calibration = calibrate(limits, parts, jobs, workdir, log_dir,
                                    cache=calibration_file or out_dir / CALIBRATION_NAME, reuse=not force)
        # Longest parts first (the reference's time here), so that parallel jobs finish together.
        order = sorted(parts, key=lambda p: -sum(calibration.get(p, {}).values()))
        pending = {s.name: len(order) for s in todo}
        by_sub = {s.name: [] for s in todo}
        finished = {}                   # name -> its part results, for the retries
        # The class so far: every results.json of out_dir, read once; each graded submission updates it.
        book, book_order = read_results(out_dir), _gradebook_order(out_dir)
        first = [x.name for x in subs]

        def flush_gradebook():
            write_gradebook(out_dir, _merged_rows(book, book_order, first))

        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        bar = _progress(len(todo), quiet)
        try:
            def write(s, part_results, first_time=True):
                res = results_json(s, part_results, s.fingerprint, sandbox, calibration.summary, container)
                sub_dir = out_dir / s.name
                sub_dir.mkdir(exist_ok=True)
                _write_atomic(sub_dir / "results.json", json.dumps(res, indent=2, ensure_ascii=False) + "\n")
                results[s.name] = book[s.name] = res
                if first_time:
                    graded.append(s.name)
                flush_gradebook()
                return res

            futures = {pool.submit(grade_part, s, p, limits, workdir, log_dir, calibration.get(p)): s
                       for s in todo for p in order}
            for fut in as_completed(futures):
                s = futures[fut]
                r = fut.result()
                done.append(r)
                by_sub[s.name].append(r)
                pending[s.name] -= 1
                if pending[s.name]:
                    continue
                finished[s.name] = sorted(by_sub.pop(s.name), key=lambda r: parts.index(r["part"]))
                res = write(s, finished[s.name])
                line = _problem_line(s.name, res, s)
                if line and not quiet and not _not_graded(res):
                    bar.write(line, file=sys.stderr)
                bar.update(1)
            # A part the host could not grade (overloaded, a judge that died) is graded again, one judge
            # at a time, never kept as the student's result.
            for _ in range(RETRIES):
                again = [(s, i) for s in todo for i, r in enumerate(finished.get(s.name, ()))
                         if r["status"] in NOT_GRADED]
                if not again:
                    break
                if not quiet:
                    bar.write(f"grading {len(again)} part(s) again, one at a time: the machine could not grade "
                              f"them the first time ({', '.join(sorted({s.name for s, _ in again}))})",
                              file=sys.stderr)
                for s, i in again:
                    part = finished[s.name][i]["part"]
                    finished[s.name][i] = grade_part(s, part, limits, workdir, log_dir, calibration.get(part))
                    write(s, finished[s.name], first_time=False)
            for s in todo:
                if s.name in finished:
                    line = _problem_line(s.name, results[s.name], s)
                    if line and not quiet and _not_graded(results[s.name]):
                        bar.write(line + " (run the same command again to grade it again)", file=sys.stderr)
        except (KeyboardInterrupt, Interrupted):
            previous_handler = signal.signal(signal.SIGINT, signal.SIG_IGN) \
                if threading.current_thread() is threading.main_thread() else None
            try:
                _STOP.set()
                pool.shutdown(wait=False, cancel_futures=True)
                _kill_running_judges()
                pool.shutdown(wait=True)
                flush_gradebook()
            finally:
                bar.close()
                if previous_handler is not None:
                    signal.signal(signal.SIGINT, previous_handler)
            left = len(todo) - len(graded)
            raise BatchInterrupted(
                f"interrupted: {len(graded)} submission(s) graded and written to {out_dir}/ "
                f"({len(skipped)} kept from before, {left} not graded); run the same command again to resume",
                results) from None
        except BaseException:
            _STOP.set()
            pool.shutdown(wait=False, cancel_futures=True)
            _kill_running_judges()
            bar.close()
            raise
        bar.close()
        pool.shutdown(wait=True)
        flush_gradebook()
        if sandbox is not None and sandbox["backend"] == "none":
            print("warning: graded WITHOUT a sandbox (--allow-unsandboxed): student code could read other "
                  "submissions, the reference and the outputs, and run classmates' code. Every result says "
                  "sandbox \"none\". Only for a batch you trust (see docs/threat-model.md)", file=sys.stderr)
        if not quiet:
            rows = [gradebook_row(s.name, results[s.name]) for s in subs]
            first = results[subs[0].name]["extra_data"]["parts"] if subs else {}
            max_scores = {p: first[p]["max_score"] for p in parts if p in first}
            print(format_gradebook(rows, max_scores))
            total = len(book)
            if sandbox is not None:
                print(f"\nsandbox: {sandbox['backend']} ({'; '.join(sandbox['enforces'])})")
            print(f"\nwrote {len(graded)} results.json file(s) under {out_dir}/"
                  + (f" ({len(skipped)} unchanged since they were graded: kept)" if skipped else "")
                  + f"; {out_dir / 'gradebook.csv'} lists {total} submission(s)")
        return {s.name: results[s.name] for s in subs}
    finally:
        _STOP.clear()
        _SANDBOX.clear()
        shutil.rmtree(workdir, ignore_errors=True)


def _not_graded(result: dict) -> bool:
    """Did a part of this results.json end without a verdict (the host, not the student)?"""
    return any(info.get("status") in NOT_GRADED for info in result["extra_data"].get("parts", {}).values())


def not_graded(results: dict) -> list[str]:
    """The submissions of {name: results.json} with a part the host could not grade."""
    return [name for name, res in results.items() if _not_graded(res)]


def read_results_file(path: str | os.PathLike) -> dict | None:
    """A results.json written by make grade, or None (absent, unreadable, someone else's, or not of the
    schema: grader/engine/results.py)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        SubmissionResult.from_json(data)
    except (OSError, ValueError):                  # ResultsError is a ValueError
        return None
    return data
