"""Grade a batch of submissions: `python -m grader grade SUBMISSION... --out DIR`.

A submission is a folder or a .zip. Only the four module files are taken from
it (found by name at any depth; the shallowest wins). Every (submission, part)
pair is graded by its own judge process (grader.judge), which runs that part's
hidden suite with the student's code in a sandboxed worker. A part that
crashes, hangs or cannot be imported costs that part only; the batch always
finishes.

Writes DIR/<name>/results.json (Gradescope schema) and DIR/gradebook.csv.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
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
        for part, rels in _candidates(names).items():
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


_SANDBOX = {}      # the preflight's verified backend, passed to every judge


def _judge_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    if _SANDBOX.get("backend"):
        env["GRADER_SANDBOX"] = _SANDBOX["backend"]
    return env


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
        proc = subprocess.Popen(cmd, cwd=ROOT, env=_judge_env(), stdout=logf, stderr=logf,
                                stdin=subprocess.DEVNULL)
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
        tests.append({k: r.get(k, t.get(k)) for k in
                      ("name", "score", "max_score", "status", "output", "visibility")})
    status = "grader error" if ended != "ok" else done.get("status", "grader error")
    return {"part": part, "tests": tests, "status": status, "sandboxed": done.get("sandboxed"),
            "sandbox": done.get("sandbox"), "dependencies": done.get("dependencies"),
            "seconds": round(time.monotonic() - start, 2)}


def results_json(sub, part_results, sandbox=None):
    tests = [t for p in part_results for t in p["tests"]]
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests)
    lines = [f"{p['part']}: {sum(t['score'] for t in p['tests']):g} / "
             f"{sum(t['max_score'] for t in p['tests']):g}"
             + ("" if p["status"] == "ok" else f" ({p['status']})") for p in part_results]
    return {
        "score": round(score, 4),
        "max_score": round(max_score, 4),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"submission": sub.name, "parts": {
            p["part"]: {"score": round(sum(t["score"] for t in p["tests"]), 4),
                        "max_score": round(sum(t["max_score"] for t in p["tests"]), 4),
                        "status": p["status"], "seconds": p["seconds"],
                        **({"dependencies": p["dependencies"]} if p.get("dependencies") else {})}
                     for p in part_results},
            "sandbox": sandbox or {"backend": _part_backend(part_results)}},
    }


def _part_backend(part_results):
    """The backend the judges used (the same for every part of a batch), or "none"."""
    used = {p.get("sandbox") for p in part_results if p.get("sandbox")}
    return used.pop() if len(used) == 1 else ("none" if not used else "mixed: " + ", ".join(sorted(used)))


def gradebook_row(name, result):
    parts = result["extra_data"]["parts"]
    bad = [f"{p}: {parts[p]['status']}" for p in PARTS if p in parts and parts[p]["status"] != "ok"]
    row = {"submission": name, "total": _num(result["score"]), "status": "ok" if not bad else "; ".join(bad),
           "sandbox": (result["extra_data"].get("sandbox") or {}).get("backend", "")}
    for p in PARTS:
        row[p] = _num(parts[p]["score"]) if p in parts else ""
    return row


def _num(x):
    return f"{x:g}" if isinstance(x, float) else str(x)


def write_gradebook(out_dir, rows):
    path = Path(out_dir) / "gradebook.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=GRADEBOOK_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def format_gradebook(rows, max_scores):
    header = GRADEBOOK_COLUMNS
    table = [header, ["(max)", *[_num(max_scores.get(p, "")) for p in PARTS],
                      _num(sum(max_scores.values())), "", ""]]
    table += [[row[c] for c in header] for row in rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in table)


def grade(paths, out_dir, jobs=1, limits=None, mode="hidden", parts=PARTS, names=None, quiet=False,
          allow_unsandboxed=False):
    """Grade every submission in `paths`; returns {name: results dict}.

    Raises preflight.GradingRefused (nothing graded) when no sandbox works on this host and
    `allow_unsandboxed` is false, or when the reference does not grade correctly here."""
    limits = limits or Limits()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sandbox = preflight.check(allow_unsandboxed, out_dir, limits)
    _SANDBOX["backend"] = sandbox["backend"]
    workdir = Path(tempfile.mkdtemp(prefix="grade-"))
    log_dir = out_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    try:
        subs = []
        taken = set()
        for i, p in enumerate(paths):
            sub = stage_submission(p, workdir / "staged", name=(names[i] if names else None), slot=str(i))
            base, k = sub.name, 2
            while sub.name in taken:
                sub.name = f"{base}-{k}"
                k += 1
            taken.add(sub.name)
            subs.append(sub)
        # Longest parts first, so that parallel jobs finish together.
        order = sorted(parts, key=lambda p: -PART_WEIGHT.get(p, 1))
        tasks = [(s, p) for s in subs for p in order]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            done = list(pool.map(lambda t: grade_part(t[0], t[1], limits, workdir, mode, log_dir), tasks))
        by_sub = {}
        for (s, _), r in zip(tasks, done):
            by_sub.setdefault(s.name, []).append(r)
        for name in by_sub:
            by_sub[name].sort(key=lambda r: parts.index(r["part"]))
        results, rows = {}, []
        for s in subs:
            res = results_json(s, by_sub[s.name], sandbox)
            sub_dir = out_dir / s.name
            sub_dir.mkdir(exist_ok=True)
            (sub_dir / "results.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
            results[s.name] = res
            rows.append(gradebook_row(s.name, res))
        write_gradebook(out_dir, rows)
        if sandbox["backend"] == "none":
            print("warning: graded WITHOUT a sandbox (--allow-unsandboxed): student code could read other "
                  "submissions, the reference and the outputs, and run classmates' code. Every result says "
                  "sandbox \"none\". Only for a batch you trust (see docs/threat-model.md)", file=sys.stderr)
        if not quiet:
            first = results[subs[0].name]["extra_data"]["parts"] if subs else {}
            max_scores = {p: first[p]["max_score"] for p in parts if p in first}
            print(format_gradebook(rows, max_scores))
            print(f"\nsandbox: {sandbox['backend']} ({'; '.join(sandbox['enforces'])})")
            print(f"wrote {out_dir / 'gradebook.csv'} and {len(subs)} results.json file(s) under {out_dir}/")
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
