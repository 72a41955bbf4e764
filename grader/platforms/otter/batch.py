"""Grade a batch of submissions with `otter run`, each within a time limit; write a gradebook.

    python -m grader otter run -a dist/autograder.zip --out grades-otter [-j 2] SUBMISSION...
    python -m grader otter gradebook grades-otter        # rebuild gradebook.csv from */results.json

The instructor bundle ships this file alone as otter_batch.py
(`python otter_batch.py run -a autograder.zip --out grades subs/*`): it needs
only the standard library, the autograder zip and otter-grader[grading].

For every submission (a folder or a zip, as for `make grade`):
1. it is rebuilt with only its four graded module files, in the layout of
   `make submission` (grader/platforms/otter/canonical.py, run from the kit inside the
   autograder zip, so the files taken are exactly those the engine takes);
   otter executes a submission's top-level .py unsandboxed and with no time
   limit, and this keeps a student's own from running at all;
2. `otter run -a AUTOGRADER -o OUT/<name> <zip>` grades it; if it runs past
   --timeout (otter has no limit of its own; the kit's engine bounds every
   part inside it) it is killed with every process below it;
3. OUT/<name>/results.json is otter's, and OUT/gradebook.csv has the columns
   of `make grade`'s: submission, one per part, total, status.
"""
import argparse
import csv
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

KIT = "mlp_kit"
SUMMARY_TEST = "Public Tests"        # otter's summary entry, which carries no score
DEFAULT_TIMEOUT = 1800.0
ENGINE_RESULTS = "engine-results.json"   # the kit engine's results.json, next to otter's


def extract_kit(autograder, dest):
    """Unpack the kit that the autograder zip carries; returns its root."""
    with zipfile.ZipFile(autograder) as zf:
        members = [m for m in zf.namelist() if m.startswith(f"files/{KIT}/")]
        if not members:
            raise SystemExit(f"{autograder} is not an autograder zip of this kit (no files/{KIT}/)")
        zf.extractall(dest, members)
    return Path(dest) / "files" / KIT


def canonical_zips(kit, paths, out):
    """{name: {"source", "zip", "problems"}}: each submission rebuilt by the kit's own rule."""
    proc = subprocess.run([sys.executable, "-m", "grader.platforms.otter.canonical", "--out", str(out),
                           *[os.path.abspath(p) for p in paths]],
                          cwd=kit, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise SystemExit(f"could not read the submissions:\n{proc.stderr}")
    return json.loads(proc.stdout)


def load_proctree(kit):
    """The kit's grader/sandbox/proctree.py (for kill_tree), loaded from the autograder's copy: this file
    also runs alone, as the instructor bundle's otter_batch.py."""
    path = kit / "grader" / "sandbox" / "proctree.py"
    spec = importlib.util.spec_from_file_location("_mlp_kit_batch_proctree", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def otter_run(autograder, submission, out_dir, timeout, engine_jobs, kill_tree):
    """Run `otter run` once; returns (how it ended, seconds)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(autograder), "-o", str(out_dir),
           str(submission)]
    # The runtime leaves the engine's own results.json there: the parts' statuses for the gradebook.
    (out_dir / ENGINE_RESULTS).unlink(missing_ok=True)
    env = dict(os.environ, MLP_KIT_JOBS=str(engine_jobs), PYTHONDONTWRITEBYTECODE="1",
               MLP_KIT_ENGINE_RESULTS=str((out_dir / ENGINE_RESULTS).resolve()))
    started = time.monotonic()
    with open(out_dir / "otter.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            code = proc.wait(timeout=timeout)
            ended = "ok" if code == 0 else f"otter run exited with status {code}"
        except subprocess.TimeoutExpired:
            ended = f"otter run did not finish within {timeout:g} s"
            kill_tree(proc.pid)                   # otter, its kernel, the engine, its judges, their workers
            proc.wait()
    return ended, round(time.monotonic() - started, 1)


def part_scores(results_path):
    """[(part, score, max_score)] from otter's results.json, in its order."""
    data = json.loads(Path(results_path).read_text(encoding="utf-8"))
    return [(t["name"], float(t["score"]), float(t["max_score"]))
            for t in data.get("tests", []) if t.get("name") != SUMMARY_TEST and "max_score" in t]


def _num(x):
    return f"{x:g}"


def part_statuses(sub_dir):
    """'ok', or 'part: status; ...' for the parts that did not run normally (timeout, crashed,
    import error, missing), from the engine's results.json the runtime left; None without it."""
    try:
        parts = json.loads((Path(sub_dir) / ENGINE_RESULTS).read_text(encoding="utf-8"))["extra_data"]["parts"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    bad = [f"{p}: {info.get('status')}" for p, info in parts.items() if info.get("status") != "ok"]
    return "; ".join(bad) or "ok"


def gradebook(out_dir, statuses=None, names=None):
    """Write OUT/gradebook.csv from OUT/<name>/results.json (every folder of OUT, or `names`);
    returns (rows, columns)."""
    out_dir = Path(out_dir)
    statuses = statuses or {}
    folders = [out_dir / n for n in names] if names is not None else sorted(p for p in out_dir.iterdir() if p.is_dir())
    rows, parts = [], []
    for sub_dir in folders:
        results = sub_dir / "results.json"
        scores = part_scores(results) if results.is_file() else []
        for part, _, _ in scores:
            if part not in parts:
                parts.append(part)
        row = {"submission": sub_dir.name, **{p: _num(s) for p, s, _ in scores},
               "total": _num(sum(s for _, s, _ in scores)) if scores else "0",
               "status": statuses.get(sub_dir.name) or part_statuses(sub_dir) or ("ok" if scores else "no results")}
        rows.append(row)
    columns = ["submission", *parts, "total", "status"]
    with open(out_dir / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="0")
        writer.writeheader()
        writer.writerows(rows)
    return rows, columns


def run(paths, autograder, out, jobs=2, engine_jobs=1, timeout=DEFAULT_TIMEOUT, quiet=False):
    """Grade every submission; returns {name: {"parts": {part: score}, "total", "status", "seconds"}}."""
    autograder, out = Path(autograder).resolve(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="otter-batch-") as tmp:
        kit = extract_kit(autograder, Path(tmp) / "autograder")
        made = canonical_zips(kit, paths, Path(tmp) / "submissions")
        kill_tree = load_proctree(kit).kill_tree

        def one(name):
            (out / name / "results.json").unlink(missing_ok=True)
            ended, seconds = otter_run(autograder, made[name]["zip"], out / name, timeout, engine_jobs, kill_tree)
            results = out / name / "results.json"
            if ended != "ok":              # a partial results.json must not stand for a failed run
                results.unlink(missing_ok=True)
                return name, ended, seconds
            if not results.is_file() or not part_scores(results):
                return name, f"otter run gave no scores (see {out / name / 'otter.log'})", seconds
            statuses = part_statuses(out / name)
            if statuses is None:           # no word from the engine: at least the parts not submitted
                statuses = "; ".join(f"{p}: missing" for p in made[name]["problems"]) or "ok"
            return name, statuses, seconds

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            finished = list(pool.map(one, made))
    statuses = {name: status for name, status, _ in finished}
    seconds = {name: s for name, _, s in finished}
    rows, columns = gradebook(out, statuses, names=list(made))
    report = {row["submission"]: {"parts": {p: float(row[p]) for p in columns[1:-2] if p in row},
                                  "total": float(row["total"]), "status": row["status"],
                                  "seconds": seconds[row["submission"]]} for row in rows}
    if not quiet:
        widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
        for r in rows:
            print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths)).rstrip())
        print(f"\nwrote {out / 'gradebook.csv'} and otter's results.json for {len(made)} submission(s) under {out}/")
    return report


def configure(sub):
    """The `run` and `gradebook` commands, on `sub` (argparse subparsers)."""
    r = sub.add_parser("run", help="grade submissions (folders or zips) with otter run")
    r.add_argument("submissions", nargs="+")
    r.add_argument("-a", "--autograder", required=True, help="the autograder zip (make otter)")
    r.add_argument("--out", default="grades-otter")
    r.add_argument("-j", "--jobs", type=int, default=2, help="otter runs at once (default 2)")
    r.add_argument("--engine-jobs", type=int, default=1, help="parts graded at once inside each run")
    r.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per otter run")
    g = sub.add_parser("gradebook", help="rebuild OUT/gradebook.csv from OUT/*/results.json")
    g.add_argument("out")


def command(args):
    if args.otter == "run":
        run(args.submissions, args.autograder, args.out, args.jobs, args.engine_jobs, args.timeout)
    else:
        rows, _ = gradebook(args.out)
        print(f"wrote {Path(args.out) / 'gradebook.csv'} ({len(rows)} submissions)")
    return 0


def main(argv=None):
    """otter_batch.py, alone in the instructor bundle: `python otter_batch.py run|gradebook ...`."""
    parser = argparse.ArgumentParser(prog="otter_batch", description=__doc__.splitlines()[0])
    configure(parser.add_subparsers(dest="otter", required=True))
    return command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
