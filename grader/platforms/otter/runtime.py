"""What the generated otter tests call, inside otter's grading kernel.

    outcome("mlp", "mlp: softmax matches ...")   ->  (passed, feedback)

The first call grades the whole submission once, with the kit's own engine
(`python -m grader grade`, in a child process, with the kit's limits and
sandbox), and keeps the results for the calls that follow. Nothing here
imports or runs student code: the engine does that in its sandboxed workers.

Where things are, when otter grades (`otter run` or Gradescope): the kernel's
working directory is <autograder>/submission, which holds the student's files
plus what otter copied in (the tests/ folder and the autograder's support
files). The kit itself is read from <autograder>/source/files/<KIT>, which
the student's zip cannot replace (otter does not overwrite a support folder
the submission already has, so the copy in submission/ is never used).

Standard library only: this runs in whatever environment otter grades in.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = "mlp_kit"                      # the support folder of the autograder zip
LIMITS_FILE = "limits.json"          # optional, in KIT: JSON overrides of the engine's limits
TIMEOUT_SECONDS = 30 * 60            # a safety net: the engine bounds each part itself
ENGINE_RESULTS_ENV = "MLP_KIT_ENGINE_RESULTS"   # where to leave a copy of the engine's results.json, if set
_RESULTS = {}                        # submission folder -> {test name: record} or an error string


def load_kit_module(kit, relative, name):
    """A standard-library-only file of the kit (e.g. grader/sandbox/proctree.py), loaded by its path
    from the kit at `kit`: this runs where the kit is not an installed package."""
    spec = importlib.util.spec_from_file_location(name, Path(kit) / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kill_tree(kit, pid):
    """SIGKILL `pid` and every process below it, whatever session or group they moved to (otter's
    kernel, the engine, its judges and their workers all start their own): the kit's
    grader/sandbox/proctree.py, which stops the tree before it kills it."""
    load_kit_module(kit, "grader/sandbox/proctree.py", "_mlp_kit_proctree").kill_tree(pid)


def kit_root(submission_dir):
    root = Path(submission_dir).resolve().parent / "source" / "files" / KIT
    if not (root / "grader" / "engine" / "grade.py").is_file():
        raise RuntimeError(f"the grading kit is missing from the autograder ({root} not found)")
    return root


def stage_student_files(submission_dir, support_names, dest):
    """Copy the .py files the student submitted into dest (the engine looks at nothing else):
    everything in the submission folder but what otter put there (tests/, __init__.py, the
    support files). Symbolic links are not followed."""
    root = Path(submission_dir)
    skip = {"tests", "__init__.py", *support_names}
    dest.mkdir(parents=True)
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if d not in skip]
            files = [f for f in files if f not in skip]
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
        for name in files:
            path = here / name
            if name.endswith(".py") and path.is_file() and not path.is_symlink():
                target = dest / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    return dest


def grade_submission(submission_dir):
    """{test name: engine record} for every hidden test of every part."""
    root = kit_root(submission_dir)
    support = os.listdir(root.parent)
    # otter also copied the support files (the kit: the reference, the hidden suites) next to the
    # student's files; the engine hides its own copy from student code, and this one goes.
    shutil.rmtree(Path(submission_dir) / KIT, ignore_errors=True)
    jobs = os.environ.get("MLP_KIT_JOBS", "2")
    with tempfile.TemporaryDirectory(prefix="mlp-kit-otter-") as tmp:
        staged = stage_student_files(submission_dir, support, Path(tmp) / "submission")
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "grader", "grade", "--out", str(out), "-j", jobs]
        if os.environ.get("MLP_KIT_ALLOW_UNSANDBOXED") == "1":   # the instructor's choice, for a trusted batch
            cmd.append("--allow-unsandboxed")
        timeout = TIMEOUT_SECONDS
        limits = root / LIMITS_FILE
        if limits.is_file():
            overrides = json.loads(limits.read_text(encoding="utf-8"))
            cmd += ["--limits", json.dumps(overrides)]
        cmd += ["--", str(staged)]
        started = time.monotonic()
        log = Path(tmp) / "engine.log"
        with open(log, "wb") as logf:
            proc = subprocess.Popen(cmd, cwd=root, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = f"killed after {timeout} s"
                kill_tree(root, proc.pid)
                proc.wait()
        results = out / "submission" / "results.json"
        if not results.is_file():
            tail = log.read_text(encoding="utf-8", errors="replace").strip()[-800:]
            raise RuntimeError(f"the grading engine stopped ({code}) after "
                               f"{time.monotonic() - started:.0f} s: {tail}")
        data = json.loads(results.read_text(encoding="utf-8"))
        keep = os.environ.get(ENGINE_RESULTS_ENV)
        if keep:       # for the part statuses and the public-test summary (batch.py, platform.py)
            try:
                shutil.copyfile(results, keep)
            except OSError:
                pass
    # Which sandbox the engine graded under (results.json's extra_data): on every case's feedback line
    # and in the engine's own output, so that it reaches otter's results and the instructor.
    backend = (data.get("extra_data", {}).get("sandbox") or {}).get("backend", "unknown")
    print(f"mlp-kit: graded with sandbox {backend}", flush=True)
    return {t["name"]: dict(t, sandbox=backend) for t in data["tests"]}


def outcome(part, name, submission_dir=None):
    """(passed, feedback) of the hidden test `name` (graded on first use)."""
    key = str(Path(submission_dir or os.getcwd()).resolve())
    if key not in _RESULTS:
        try:
            _RESULTS[key] = grade_submission(key)
        except Exception as exc:           # every case then fails with the reason
            _RESULTS[key] = f"grading did not run: {type(exc).__name__}: {exc}"
    results = _RESULTS[key]
    if isinstance(results, str):
        return False, results
    record = results.get(name)
    if record is None:
        return False, f"{name}: not graded (the autograder's tests and its engine do not match; rebuild it)"
    feedback = record.get("output") or ""
    if record.get("sandbox") == "none":
        feedback = (feedback + "\n" if feedback else "") + "(graded without a sandbox: --allow-unsandboxed)"
    return record.get("status") == "passed", feedback
