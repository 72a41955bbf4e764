"""What the otter autograder zip does on Gradescope around otter's own run (its run_otter.py).

    normalize_submission(root)   before otter: the upload, whatever its layout, becomes the
                                 layout of `make submission` (one top-level .py and assignment/)
    apply_policy(root)           after otter: results.json follows the kit's visibility policy

otter grades only a submission with exactly one top-level .py file (or notebook): four module
files uploaded loose give "More than one Python file found in submission", and a repository from
Gradescope's GitHub integration gives "No gradable files found in submission". The kit takes the
four module files by its own rule (grader.engine.submission: by name at any depth, or inside
the zip a folder holds) and rewrites the submission folder with only those, as `make otter-grade`
does for each submission (grader.platforms.otter.canonical). The student's other files are kept in
submission-original/ next to it, out of otter's way.

otter's results.json shows the hidden tests' results per part ("hidden", or "after_published"
with show_hidden); its "Public Tests" box says "activations results: All test cases passed!"
when the public tests pass, next to a part score that lost points on hidden tests. apply_policy
sets each part's visibility from grader.engine.visibility (the same policy as the native Gradescope
autograder), writes the public-test summary from the engine's own per-test results (the
runtime leaves them in results/mlp_kit_engine.json), and adds each part's status (timeout,
crashed, import error) to the part's output.
"""
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from ...engine import visibility

ENGINE_RESULTS = "mlp_kit_engine.json"        # in <root>/results/: the engine's results.json, from the runtime
POLICY_FILE = "platform.json"                 # in the kit folder of the zip: {"hidden_visibility": ...}
SUMMARY_TEST = "Public Tests"


def normalize_submission(root):
    """Rewrite root/submission in the layout of `make submission`; the upload goes to
    root/submission-original. Returns {part: why it is missing} for the parts not found."""
    from .canonical import canonicalize
    root = Path(root)
    submission, original = root / "submission", root / "submission-original"
    if original.exists():
        shutil.rmtree(original)
    submission.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlp-kit-normalize-") as tmp:
        made = canonicalize([str(submission)], tmp)["submission"]
        shutil.move(str(submission), str(original))
        submission.mkdir()
        with zipfile.ZipFile(made["zip"]) as zf:
            zf.extractall(submission)
    return made["problems"]


def _policy(root):
    path = Path(root) / "source" / "files" / "mlp_kit" / POLICY_FILE
    try:
        return visibility.check(json.loads(path.read_text(encoding="utf-8"))["hidden_visibility"])
    except (OSError, ValueError, KeyError):
        return visibility.DEFAULT_HIDDEN


def public_summary(engine):
    """The results of the tests students see now, per part, from the engine's per-test records: the
    public tests, and the hidden tests whose topic no public check covers (grader.engine.judge.visibility_of)."""
    lines, passed_all = [], True
    by_part = {}
    for t in engine["tests"]:
        by_part.setdefault(t["name"].split(": ", 1)[0], []).append(t)
    for part, tests in by_part.items():
        public = [t for t in tests if t.get("visibility") == "visible"]
        failed = [t for t in public if t.get("status") != "passed"]
        passed_all &= not failed
        lines.append(f"{part}: {len(public) - len(failed)} of {len(public)} visible tests passed")
        for t in failed:
            lines.append(f"    {t['name']}: " + (t.get("output") or "failed").replace("\n", "\n    "))
    hidden = sum(1 for t in engine["tests"] if t.get("visibility") != "visible")
    lines.append(f"\nVisible tests: the public ones, and hidden ones whose topic no public check covers. The score "
                 f"also counts {hidden} hidden tests; their results are not part of this summary.")
    return "\n".join(lines), passed_all


def apply_policy(root, hidden_visibility=None):
    """Rewrite root/results/results.json (otter's) under the kit's visibility policy."""
    root = Path(root)
    hidden_visibility = visibility.check(hidden_visibility or _policy(root))
    path = root / "results" / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    try:
        engine = json.loads((root / "results" / ENGINE_RESULTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        engine = None
    parts = (engine or {}).get("extra_data", {}).get("parts", {})
    for t in results.get("tests", []):
        if t.get("name") == SUMMARY_TEST:
            if engine is not None:
                t["output"], passed = public_summary(engine)
                t["status"] = "passed" if passed else "failed"
            t["visibility"] = "visible"
        elif "max_score" in t:
            t["visibility"] = hidden_visibility
            status = parts.get(t.get("name"), {}).get("status", "ok")
            if status != "ok":
                t["output"] = f"{t['name']}: {status}\n\n" + (t.get("output") or "")
    if engine is not None:
        results.setdefault("extra_data", {})["sandbox"] = {"backend": _backend(engine)}
    tmp = path.with_name(".results.json.tmp")
    tmp.write_text(json.dumps(results, indent=4), encoding="utf-8")
    os.replace(tmp, path)
    return results


def _backend(engine):
    from ...engine.grade import sandbox_backend
    return sandbox_backend(engine)


RUN_OTTER = '''"""Gradescope's entry point of this otter autograder (written by the MLP kit's `make otter`,
grader/platforms/otter/build.py, in place of otter's own run_otter.py): the kit puts the upload in the layout
otter grades, otter grades it, and the kit applies its visibility policy to the results
(grader/platforms/otter/platform.py). $AUTOGRADER_ROOT stands for /autograder in the kit's tests."""
import os
import sys

ROOT = os.environ.get("AUTOGRADER_ROOT", "/autograder")
sys.path.insert(0, os.path.join(ROOT, "source", "files", "mlp_kit"))
os.environ["MLP_KIT_ENGINE_RESULTS"] = os.path.join(ROOT, "results", "mlp_kit_engine.json")

from grader.platforms.otter import platform  # noqa: E402
from otter.run.run_autograder import main as run_autograder  # noqa: E402

if __name__ == "__main__":
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    platform.normalize_submission(ROOT)
    try:
        run_autograder(ROOT)
    finally:
        if os.path.isfile(os.path.join(ROOT, "results", "results.json")):
            platform.apply_policy(ROOT)
'''
