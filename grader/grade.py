"""Grade a batch of submissions: `python -m grader grade SUBMISSION... --out DIR`.

A submission is a folder or a .zip. Only the four module files are taken from
it (found by name at any depth; the shallowest wins). Every (submission, part)
pair is graded by its own judge process (grader.judge), which runs that part's
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
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import preflight
from .sandbox.client import Limits, orphan_guard
from .sandbox.stage import PARTS, REMOTE

ROOT = Path(__file__).resolve().parent.parent
MAX_FILE_BYTES = 1 << 20
SKIP_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
GRADEBOOK_COLUMNS = ["submission", *PARTS, "total", "status", "sandbox"]
# What grade() writes into the output folder: no submission may take these names.
RESERVED_NAMES = {"gradebook.csv", "logs", "report.html", "report", "results.json"}
try:
    import lzma
    _ARCHIVE_ERRORS = (zlib.error, lzma.LZMAError)
except ImportError:                  # a Python built without lzma
    _ARCHIVE_ERRORS = (zlib.error,)
PART_WEIGHT = {"mlp": 4, "two_layer_net": 3, "activations": 2, "logistic_regression": 1}


@dataclass
class Submission:
    name: str
    source: str
    files: dict = field(default_factory=dict)      # part -> staged path (str) or None
    problems: dict = field(default_factory=dict)   # part -> why the file was not taken


def _safe_name(text):
    # Letters and digits of any script stay (a class list of 张伟 and 李娜 must stay tellable apart).
    name = re.sub(r"[^\w.-]+", "_", text).strip("._-") or "submission"
    name = name[:80]
    # A name the output folder needs for itself (a folder called gradebook.csv) gets a prefix.
    return f"submission-{name}" if name.lower() in RESERVED_NAMES else name


def _candidates(names):
    """names: iterable of relative posix paths. Returns part -> list of paths, shallowest first."""
    found = {part: [] for part in PARTS}
    for rel in names:
        parts = rel.split("/")
        if any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
            continue
        for part in PARTS:
            if parts[-1] == f"{part}.py":
                found[part].append(rel)
    for part in found:
        found[part].sort(key=lambda r: (r.count("/"), r))
    return found


def _through_symlink(root, path):
    """Is `path`, or any folder between `root` and it, a symbolic link?"""
    parts = path.relative_to(root).parts
    return any((root.joinpath(*parts[:i])).is_symlink() for i in range(1, len(parts) + 1))


def stage_submission(path, workdir, name=None, slot=None):
    """Copy the four module files of a folder or zip into workdir/<slot or name>/ (a slot of its own
    per submission: two submissions may clean to the same name). A zip that cannot be read costs
    that submission only."""
    path = Path(path)
    zipped = path.suffix.lower() == ".zip"
    sub = Submission(name=name or _safe_name(path.stem if zipped else path.name), source=str(path))
    dest = Path(workdir) / (slot if slot is not None else sub.name)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _take_files(sub, path, zipped, dest)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, ValueError,
            *_ARCHIVE_ERRORS) as exc:                  # a corrupt deflate or LZMA stream, too
        sub.files = {}
        for part in PARTS:
            sub.problems[part] = f"{path.name} could not be read ({type(exc).__name__}: {str(exc)[:200]})"
    for part in PARTS:
        if part not in sub.files and part not in sub.problems:
            sub.problems[part] = f"{part}.py was not found in the submission"
        sub.files.setdefault(part, None)
    return sub


def _take_files(sub, path, zipped, dest):
    def take(part, rel, size, read):
        if size > MAX_FILE_BYTES:
            sub.problems[part] = f"{rel} is {size} bytes; the limit is {MAX_FILE_BYTES}"
            return
        target = dest / f"{part}.py"
        target.write_bytes(read())
        sub.files[part] = str(target)

    if path.is_dir():
        # Never follow a symlink: a link named mlp.py could point at the reference.
        names = [p.relative_to(path).as_posix() for p in path.rglob("*.py")
                 if p.is_file() and not _through_symlink(path, p)]
        found = _candidates(names)
        if not any(found.values()):
            # A folder holding only the zip (an upload a platform kept as it was, a repository
            # with submission.zip committed): the shallowest zip, one level deep, no further.
            inner = _inner_zip(path)
            if inner is not None:
                return _take_files(sub, inner, True, dest)
        for part, rels in found.items():
            if rels:
                f = path / rels[0]
                take(part, rels[0], f.stat().st_size, f.read_bytes)
    elif zipped and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            # Windows tools may write hw\mlp.py; some write ./mlp.py.
            infos = {re.sub(r"^(\./)+", "", i.filename.replace("\\", "/")): i
                     for i in zf.infolist() if not i.is_dir()}
            for part, rels in _candidates(infos).items():
                if rels:
                    info = infos[rels[0]]
                    take(part, rels[0], info.file_size,
                         lambda info=info: zf.open(info).read(MAX_FILE_BYTES + 1))
    else:
        for part in PARTS:
            sub.problems[part] = f"{path.name} is neither a folder nor a zip file"


def _inner_zip(folder):
    """The shallowest .zip in `folder` (not through a symlink, not in a skipped folder), or None."""
    zips = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder).as_posix()
        if p.suffix.lower() == ".zip" and p.is_file() and not _through_symlink(folder, p) and \
                not any(d in SKIP_DIRS or d.startswith(".") for d in rel.split("/")[:-1]):
            zips.append(rel)
    zips.sort(key=lambda r: (r.count("/"), r))
    return folder / zips[0] if zips else None


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


def run_judge(part, student_file, results_path, limits, mode="hidden", collect_only=False, log=None, own=None):
    """Run one judge process; return (records, how it ended). `own`: {module: file} of the same
    submission's modules the part may import (used only where they behave like the reference)."""
    cmd = orphan_guard() + [sys.executable, "-m", "grader.judge", "--part", part, "--results", str(results_path),
           "--mode", mode, "--limits", json.dumps(asdict(limits))]
    if student_file:
        cmd += ["--student", str(student_file)]
    for module, path in (own or {}).items():
        if path:
            cmd += ["--own", f"{module}={path}"]
    if collect_only:
        cmd.append("--collect-only")
    # The judge itself is bounded too: the part's backstop (which grows with its number of tests, known
    # once the judge has collected them), the worker starts, and slack for pytest and the finite
    # differences.
    ended = "ok"
    start = time.monotonic()
    timeout = limits.for_part(part) + limits.start_seconds + 120
    tests = None
    with open(log or os.devnull, "ab") as logf:
        with _RUNNING_LOCK:
            if _STOP.is_set():
                raise Interrupted()
            proc = subprocess.Popen(cmd, cwd=ROOT, env=_judge_env(), stdout=logf, stderr=logf,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
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
                    tests = _collected_count(results_path)
                    if tests is not None:
                        timeout = limits.for_part(part, tests) + limits.start_seconds + 120
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


def _collected_count(results_path):
    """How many tests a running judge collected (its first record), or None before it has."""
    try:
        with open(results_path, encoding="utf-8") as f:
            first = f.readline()
        record = json.loads(first)
        return len(record["tests"]) if record.get("type") == "collected" else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


_COLLECTED = {}


def collected_tests(part, limits, workdir):
    """The canonical test list of a part (names and points), from a collect-only run."""
    if part not in _COLLECTED:
        out = Path(workdir) / f"collect-{part}.jsonl"
        records, ended = run_judge(part, None, out, limits, collect_only=True)
        tests = next((r["tests"] for r in records if r.get("type") == "collected"), None)
        if tests is None:
            raise RuntimeError(f"could not collect the hidden suite for {part}: {ended}")
        _COLLECTED[part] = tests
    return _COLLECTED[part]


def grade_part(sub, part, limits, workdir, mode="hidden", log_dir=None):
    """Grade one part of one staged submission. Returns a part result dict."""
    start = time.monotonic()
    if sub.files.get(part) is None:
        message = sub.problems.get(part, f"{part}.py was not found in the submission")
        tests = [dict(t, score=0.0, status="failed", output=message)
                 for t in collected_tests(part, limits, workdir)]
        return {"part": part, "tests": tests, "status": "missing", "seconds": 0.0}
    out = Path(workdir) / f"{sub.name}-{part}.jsonl"
    out.unlink(missing_ok=True)
    log = Path(log_dir) / f"{sub.name}-{part}.log" if log_dir else None
    records, ended = run_judge(part, sub.files[part], out, limits, mode, log=log,
                               own={m: sub.files.get(m) for m in REMOTE.get(part, ())})
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
            r = dict(t, score=0.0, status="failed", output=f"not graded: {why}")
        test = {k: r.get(k, t.get(k)) for k in ("name", "score", "max_score", "status", "output", "visibility")}
        if r.get("properties"):                 # what the test recorded (record_property), e.g. an accuracy
            test["extra_data"] = dict(r["properties"])
        tests.append(test)
    status = "grader error" if ended != "ok" else done.get("status", "grader error")
    return {"part": part, "tests": tests, "status": status, "sandboxed": done.get("sandboxed"),
            "sandbox": done.get("sandbox"), "dependencies": done.get("dependencies"),
            "seconds": round(time.monotonic() - start, 2)}


def results_json(sub, part_results, fingerprint=None, sandbox=None):
    tests = [t for p in part_results for t in p["tests"]]
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests)
    lines = [f"{p['part']}: {sum(t['score'] for t in p['tests']):g} / "
             f"{sum(t['max_score'] for t in p['tests']):g}"
             + ("" if p["status"] == "ok" else f" ({p['status']})") for p in part_results]
    extra = {"submission": sub.name, "parts": {
        p["part"]: {"score": round(sum(t["score"] for t in p["tests"]), 4),
                    "max_score": round(sum(t["max_score"] for t in p["tests"]), 4),
                    "status": p["status"], "seconds": p["seconds"],
                    **({"sandboxed": p["sandboxed"]} if p.get("sandboxed") is not None else {}),
                    **({"dependencies": p["dependencies"]} if p.get("dependencies") else {})}
        for p in part_results},
        "sandbox": sandbox or {"backend": _part_backend(part_results)}}
    if fingerprint:
        extra["fingerprint"] = fingerprint
    return {
        "score": round(score, 4),
        "max_score": round(max_score, 4),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": extra,
    }


def _part_backend(part_results):
    """The backend the judges used (the same for every part of a batch), or "none"."""
    used = {p.get("sandbox") for p in part_results if p.get("sandbox")}
    return used.pop() if len(used) == 1 else ("none" if not used else "mixed: " + ", ".join(sorted(used)))


def sandbox_backend(result):
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


def gradebook_row(name, result):
    parts = result["extra_data"]["parts"]
    bad = [f"{p}: {parts[p]['status']}" for p in PARTS if p in parts and parts[p]["status"] != "ok"]
    row = {"submission": name, "total": _num(result["score"]), "status": "ok" if not bad else "; ".join(bad),
           "sandbox": sandbox_backend(result)}
    for p in PARTS:
        row[p] = _num(parts[p]["score"]) if p in parts else ""
    return row


def _num(x):
    return f"{x:g}" if isinstance(x, float) else str(x)


def _write_atomic(path, text):
    """Write `path` whole or not at all (a Ctrl-C or a crash never leaves half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_gradebook(out_dir, rows):
    path = Path(out_dir) / "gradebook.csv"
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=GRADEBOOK_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    _write_atomic(path, buf.getvalue())
    return path


def read_results(out_dir):
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


def rebuild_gradebook(out_dir, first=()):
    """Write out_dir/gradebook.csv from the results.json files present: the submissions of the
    existing gradebook keep their order, then `first`, then the others by name. Returns the rows."""
    rows = _merged_rows(read_results(out_dir), _gradebook_order(out_dir), first)
    write_gradebook(out_dir, rows)
    return rows


def format_gradebook(rows, max_scores):
    header = GRADEBOOK_COLUMNS
    table = [header, ["(max)", *[_num(max_scores.get(p, "")) for p in PARTS],
                      _num(sum(max_scores.values())), "", ""]]
    table += [[row.get(c, "") for c in header] for row in rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in table)


_KIT_VERSION = None


def kit_version():
    """A hash of the grading code, the hidden suites and the reference: a submission graded by
    another version of the kit is graded again when a batch resumes."""
    global _KIT_VERSION
    if _KIT_VERSION is None:
        h = hashlib.sha256()
        files = [*(ROOT / "grader").rglob("*.py"), *(ROOT / "grader").rglob("*.ini"), *(ROOT / "solutions").glob("*.py")]
        for path in sorted(f for f in files if "__pycache__" not in f.parts and "templates" not in f.parts):
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        _KIT_VERSION = h.hexdigest()[:16]
    return _KIT_VERSION


def fingerprint(sub, parts, mode, limits):
    """What decides a grade: the files taken (or why none was), the parts, the mode, the limits, the kit."""
    h = hashlib.sha256(json.dumps([kit_version(), list(parts), mode, asdict(limits)]).encode())
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


def _progress(total, quiet):
    """A progress bar with the rate and the time left (tqdm), on stderr."""
    if quiet or total == 0:
        return _NoBar(quiet)
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar(quiet)
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


def grade(paths, out_dir, jobs=1, limits=None, mode="hidden", parts=PARTS, names=None, quiet=False,
          force=False, allow_unsandboxed=False):
    """Grade every submission in `paths`; returns {name: results dict}.

    Each submission's results.json and its gradebook row are written as soon as its last part is
    graded; out_dir/gradebook.csv keeps the rows of submissions graded earlier into the same folder.
    A submission whose files, parts, mode, limits and kit are those of its results.json already
    there is not graded again (`force` grades it anyway; a result graded without a sandbox is kept
    only while `allow_unsandboxed`). Ctrl-C kills the running judges, keeps what was written and
    raises BatchInterrupted.

    Before anyone is graded, the preflight (grader.preflight) picks the sandbox backend, verifies
    it and grades the reference through it: it raises preflight.GradingRefused (nothing graded)
    when no sandbox works on this host and `allow_unsandboxed` is false, or when the reference
    does not grade correctly here."""
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
            sub = stage_submission(p, workdir / "staged", name=(names[i] if names else None), slot=str(i))
            base, k = sub.name, 2
            while sub.name in taken:
                sub.name = f"{base}-{k}"
                k += 1
            taken.add(sub.name)
            subs.append(sub)
        for sub in subs:
            sub.fingerprint = fingerprint(sub, parts, mode, limits)
            previous = None if force else read_results_file(out_dir / sub.name / "results.json")
            if previous is not None and previous["extra_data"].get("fingerprint") == sub.fingerprint and \
                    (allow_unsandboxed or sandbox_backend(previous) != "none"):
                results[sub.name] = previous
                skipped.append(sub.name)
            else:
                todo.append(sub)
        if skipped and not quiet:
            print(f"{len(skipped)} submission(s) already graded with these files and this kit: kept "
                  f"(--force grades them again)", file=sys.stderr)
        sandbox = None
        if todo:
            sandbox = preflight.check(allow_unsandboxed, out_dir, limits)
            _SANDBOX["backend"] = sandbox["backend"]
        # Longest parts first, so that parallel jobs finish together.
        order = sorted(parts, key=lambda p: -PART_WEIGHT.get(p, 1))
        pending = {s.name: len(order) for s in todo}
        by_sub = {s.name: [] for s in todo}
        # The class so far: every results.json of out_dir, read once; each graded submission updates it.
        book, book_order = read_results(out_dir), _gradebook_order(out_dir)
        first = [x.name for x in subs]

        def flush_gradebook():
            write_gradebook(out_dir, _merged_rows(book, book_order, first))

        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        bar = _progress(len(todo), quiet)
        try:
            futures = {pool.submit(grade_part, s, p, limits, workdir, mode, log_dir): s for s in todo for p in order}
            for fut in as_completed(futures):
                s = futures[fut]
                r = fut.result()
                done.append(r)
                by_sub[s.name].append(r)
                pending[s.name] -= 1
                if pending[s.name]:
                    continue
                part_results = sorted(by_sub.pop(s.name), key=lambda r: parts.index(r["part"]))
                res = results_json(s, part_results, s.fingerprint, sandbox)
                sub_dir = out_dir / s.name
                sub_dir.mkdir(exist_ok=True)
                _write_atomic(sub_dir / "results.json", json.dumps(res, indent=2, ensure_ascii=False) + "\n")
                results[s.name] = book[s.name] = res
                graded.append(s.name)
                flush_gradebook()
                line = _problem_line(s.name, res, s)
                if line and not quiet:
                    bar.write(line, file=sys.stderr)
                bar.update(1)
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


def read_results_file(path):
    """A results.json written by make grade, or None (absent, unreadable, or someone else's)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "parts" in data.get("extra_data", {}) else None
