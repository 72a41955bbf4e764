"""otter-grader: the autograder zip, `make submission`, and parity with `make grade`.

The parity test grades the reference, the starter and catalog submissions
(catalog/) with `otter run` on one autograder zip (grader.platforms.otter.batch,
which runs `otter run` once per submission), and requires the per-part
scores and totals that `make grade` (grader.engine.grade.grade) gives them.

Each catalog bug is an edit of one reference module, and a part is graded
with the student's module for that part only (no double jeopardy), so one
submission can carry a bug in every part. otter adds no scoring of its own:
it stages the files, calls the same engine per part and maps each hidden
test's outcome into its own results. What parity must show is therefore
that every outcome the engine gives reaches otter's scores unchanged: every
part status (ok, error, timeout), and a hidden test failing outright and one
failing in part, as some catalog bug makes them under `make grade` (every
test's score is compared in every submission graded). The fewest bugs that
show all of them (a greedy cover over the session's own gradings,
tests/conftest.py) go through otter, with every part's first correct
alternative; the other alternatives fill free slots, the rest the starter or
a missing file. (A cover of every test's failure, not only of its kinds, took
about 20 submissions and 667 CPU-seconds once the catalog had 80 bugs.)
`KIT_OTTER_PARITY=full make test` sends the whole catalog through otter
(all 80 bugs and 10 alternatives, about twice as long).

Measured on the 2-core machine: the whole catalog through otter took 428 s
of wall time in a full `make test` (OTTER_JOBS x ENGINE_JOBS judges at
once), the cover 179 s (with the other pytest worker busy alongside); one `otter run` of the reference takes
16 s against 9.5 s for `make grade -j 2`.
"""
import ast
import csv
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.engine.grade import ROOT, grade
from grader.platforms.otter import batch, build as otter_build
from grader.platforms.otter.runtime import KIT
from grader.sandbox.client import Limits
from grader.parts import GRADED as PARTS, PARTS as REGISTRY
from tooling import submit
from catalog import ALTERNATIVES, apply_edits
from catalog.bugs import BUGS

JOBS = 4                  # make grade: the engine idles between calls, so 4 judges fill 2 cores
OTTER_JOBS, ENGINE_JOBS = 3, 2
# Free slots get cheap modules (the starter fails fast, a missing file is not run); the
# reference is graded on its own anyway.
FILLERS = ("starter", "missing")
PARITY_FULL = os.environ.get("KIT_OTTER_PARITY") == "full"
REMOTE_OF = {part: [p.name for p in REGISTRY if part in p.imports] for part in PARTS}   # who imports part


def module_source(kind, part):
    if kind == "reference":
        return (ROOT / "solutions" / f"{part}.py").read_bytes()
    if kind == "starter":
        return (ROOT / "assignment" / f"{part}.py").read_bytes()
    return None


def catalog_entries():
    """part -> [(label, source bytes)]: every bug, then every correct alternative."""
    entries = {part: [] for part in PARTS}
    for bug in BUGS:
        reference = (ROOT / "solutions" / f"{bug.part}.py").read_text(encoding="utf-8")
        entries[bug.part].append((f"bug:{bug.name}", apply_edits(reference, bug).encode()))
    for path in sorted(ALTERNATIVES.glob("*__*.py")):
        part = path.stem.split("__", 1)[0]
        entries[part].append((f"alternative:{path.stem}", path.read_bytes()))
    return entries


def outcomes(result, part):
    """What one grading shows on its part: the part's status, and whether a hidden test failed outright
    or in part. (Kinds, not tests: every graded submission's per-test scores are compared whole, so each
    test's mapping is checked wherever it passes; a cover of every (test, kind) pair needed about 20
    full otter runs, 667 CPU-seconds, a third of make test's budget. KIT_OTTER_PARITY=full sends all.)"""
    shown = {("status", result["extra_data"]["parts"][part]["status"])}
    for test in result["tests"]:
        if test["score"] < test["max_score"]:
            shown.add(("a test", "failed" if test["score"] == 0 else "partly passed"))
    return shown


def parity_entries(bug_grades, alternative_grades, full=PARITY_FULL):
    """part -> [(label, source)] that otter grades: every entry when `full`; else the fewest bugs
    (greedy) that show every outcome the part's catalog bugs show under make grade, then the
    part's correct alternatives (the first always, the others where a slot is free)."""
    entries = catalog_entries()
    if full:
        return entries
    chosen, bugs = {}, {}
    for part in PARTS:
        shown = {label: outcomes(bug_grades.part(part)[label.partition(":")[2]], part)
                 for label, _ in entries[part] if label.startswith("bug:")}
        wanted, seen, picked = set().union(*shown.values()), set(), []
        while seen != wanted:      # the bug that shows the most not yet seen; ties by name, so the pick is stable
            label = max(sorted(shown), key=lambda b: len(shown[b] - seen))
            picked.append(label)
            seen |= shown[label]
        bugs[part] = picked
    slots = max(len(picked) + 1 for picked in bugs.values())
    for part in PARTS:
        alternatives = [e for e in entries[part] if e[0].startswith("alternative:")]
        keep = max(1, slots - len(bugs[part]))
        chosen[part] = [e for e in entries[part] if e[0] in bugs[part]] + alternatives[:keep]
    return chosen


def combined_submissions(dest, entries):
    """Write the parity submissions as `make submission` zips; returns {name: {part: label}}."""
    dest.mkdir(parents=True, exist_ok=True)
    plan = {"reference": {p: "reference" for p in PARTS}, "starter": {p: "starter" for p in PARTS}}
    sources = {"reference": {p: module_source("reference", p) for p in PARTS},
               "starter": {p: module_source("starter", p) for p in PARTS}}
    slots = max(len(e) for e in entries.values())
    for i in range(slots):
        name = f"catalog-{i + 1:02d}"
        plan[name], sources[name] = {}, {}
        for k, part in enumerate(PARTS):
            if i < len(entries[part]):
                label, source = entries[part][i]
            elif REMOTE_OF.get(part):
                # a part other parts import: its reference, as a student whose activations are right
                # (the grader then runs them in the worker; the judge-served path is tested elsewhere)
                label, source = "reference", module_source("reference", part)
            else:
                label = FILLERS[(i + k) % len(FILLERS)]
                source = module_source(label, part)
            plan[name][part] = label
            if source is not None:
                sources[name][part] = source
    for name, modules in sources.items():
        submit.write_zip(modules, dest / f"{name}.zip")
    return plan


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    return otter_build.build(tmp_path_factory.mktemp("otter") / "autograder.zip", quiet=True)


# -- the autograder zip -----------------------------------------------------------
def test_autograder_zip_holds_adapters_and_the_kit_but_no_copy_of_the_tests(autograder):
    with zipfile.ZipFile(autograder) as zf:
        names = set(zf.namelist())
        adapters = {n: zf.read(n).decode() for n in names if n.startswith("tests/")}
        config = json.loads(zf.read("otter_config.json"))
        environment = zf.read("environment.yml").decode()
        run_otter = zf.read("run_otter.py").decode()
        policy = json.loads(zf.read(f"files/{KIT}/platform.json"))
    # Gradescope's entry point is the kit's: its layout rule before otter, its visibility policy after.
    assert "platform.normalize_submission(ROOT)" in run_otter and "platform.apply_policy(ROOT)" in run_otter
    assert config["show_hidden"] is True and policy == {"hidden_visibility": "after_published"}
    assert sorted(adapters) == [f"tests/{otter_build.adapter_name(p)}.py" for p in PARTS]
    for rel in ("grader/engine/grade.py", "grader/engine/judge.py", "grader/platforms/otter/runtime.py", "solutions/mlp.py",
                "data/mnist5k/train-images-idx3-ubyte.gz", *[f"grader/suites/test_{p}.py" for p in PARTS]):
        assert f"files/{KIT}/{rel}" in names, rel
    assert not any("__pycache__" in n for n in names)
    assert config["lang"] == "python"
    for pin in otter_build.engine_requirements():
        assert f"- {pin}" in environment, pin
    for part in PARTS:
        source = adapters[f"tests/{otter_build.adapter_name(part)}.py"]
        tree = ast.parse(source)
        # Thin: no assertion of its own beyond "the engine said passed"; no numpy, no pytest.
        imports = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                   for a in n.names} | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert imports <= {"otter.test_files", "test_case", "importlib.util", "os", "sys"}, imports
        asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
        assert all(ast.unparse(a) == "assert passed, feedback" for a in asserts)


def test_adapters_mirror_the_hidden_suites(tmp_path):
    """One otter case per pytest test: same title, same points, hidden unless public."""
    collected = otter_build.write_tests(tmp_path)
    total = 0.0
    for part in PARTS:
        path = tmp_path / f"{otter_build.adapter_name(part)}.py"
        from otter.test_files import create_test_file
        from otter.nbmeta_config import NBMetadataConfig
        test_file = create_test_file(str(path), NBMetadataConfig())
        cases = test_file.test_cases
        assert test_file.name == part
        assert [c.name for c in cases] == [t["name"] for t in collected[part]]
        assert [c.points for c in cases] == [t["max_score"] for t in collected[part]]
        assert [c.hidden for c in cases] == [t["visibility"] != "visible" for t in collected[part]]
        assert any(not c.hidden for c in cases) and any(c.hidden for c in cases)
        total += test_file.possible
    assert total == 100


def test_engine_requirements_are_the_pinned_ones():
    pins = otter_build.engine_requirements()
    assert [p.split("==")[0] for p in pins] == ["numpy", "pytest", "hypothesis"]
    assert all("==" in p for p in pins)


# -- make submission ------------------------------------------------------------------
def test_make_submission_writes_one_top_level_file_and_the_four_modules(tmp_path):
    work = tmp_path / "student"
    shutil.copytree(ROOT / "assignment", work / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "assignment" / "mlp.py").write_bytes((ROOT / "solutions" / "mlp.py").read_bytes())
    (work / "assignment" / "two_layer_net.py").unlink()
    proc = subprocess.run([sys.executable, "-m", "assignment.submit"], cwd=work, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(work / "submission.zip") as zf:
        names = zf.namelist()
        top_level = zf.read("submission.py").decode()
        assert zf.read("assignment/mlp.py") == (ROOT / "solutions" / "mlp.py").read_bytes()
    assert names == ["submission.py", "assignment/activations.py", "assignment/logistic_regression.py",
                     "assignment/mlp.py"]
    assert [n for n in names if "/" not in n] == ["submission.py"]          # otter: one top-level .py
    assert ast.parse(top_level).body and all(isinstance(n, ast.Expr) for n in ast.parse(top_level).body)
    assert "two_layer_net.py is missing" in proc.stdout
    assert "activations.py still has 8 TODO function(s)" in proc.stdout
    assert "mlp.py still has" not in proc.stdout
    first = (work / "submission.zip").read_bytes()
    subprocess.run([sys.executable, "-m", "assignment.submit"], cwd=work, capture_output=True, timeout=600)
    assert (work / "submission.zip").read_bytes() == first, "the same files must give the same zip"


def test_canonical_zips_take_the_files_the_engine_takes(tmp_path):
    """batch rebuilds each submission from the engine's own choice of files."""
    sub = tmp_path / "carol"
    (sub / "nested" / "deeper").mkdir(parents=True)
    (sub / "nested" / "mlp.py").write_text("shallow = True\n")
    (sub / "nested" / "deeper" / "mlp.py").write_text("shallow = False\n")
    (sub / "activations.py").write_text("top = True\n")
    (sub / "run_me.py").write_text("while True:\n    pass\n")
    from grader.platforms.otter.canonical import canonicalize
    made = canonicalize([sub, sub], tmp_path / "out")
    assert sorted(made) == ["carol", "carol-2"]
    with zipfile.ZipFile(made["carol"]["zip"]) as zf:
        assert zf.namelist() == ["submission.py", "assignment/activations.py", "assignment/mlp.py"]
        assert zf.read("assignment/mlp.py") == b"shallow = True\n"
        assert zf.read("submission.py").decode() == submit.NOTE
    assert set(made["carol"]["problems"]) == {"logistic_regression", "two_layer_net"}


def test_batch_gradebook_reads_otters_results(tmp_path):
    """gradebook.csv from otter's results.json files: one column per part, the total, the status."""
    def results(scores):
        tests = [{"name": "Public Tests", "visibility": "visible", "output": "...", "status": "passed"}]
        tests += [{"name": p, "score": s, "max_score": m, "visibility": "hidden", "output": ""} for p, s, m in scores]
        return json.dumps({"tests": tests})
    for name, scores in {"ann": [("activations", 20, 20), ("mlp", 7.5, 35)],
                         "ben": [("activations", 0, 20), ("mlp", 35.0, 35)]}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(results(scores))
    (tmp_path / "cat").mkdir()                                   # a run that left no results
    rows, columns = batch.gradebook(tmp_path, {"cat": "otter run did not finish within 5 s"})
    assert columns == ["submission", "activations", "mlp", "total", "status"]
    with open(tmp_path / "gradebook.csv", newline="", encoding="utf-8") as f:
        table = {r["submission"]: r for r in csv.DictReader(f)}
    assert table["ann"] == {"submission": "ann", "activations": "20", "mlp": "7.5", "total": "27.5", "status": "ok"}
    assert table["ben"]["total"] == "35"
    assert table["cat"]["total"] == "0" and table["cat"]["status"] == "otter run did not finish within 5 s"
    proc = subprocess.run([sys.executable, "-m", "grader", "otter", "gradebook", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "3 submissions" in proc.stdout, proc.stderr
    # With the engine's own results next to otter's (the runtime leaves them there), each part's
    # status reaches the gradebook: an import error and a timeout are not "ok".
    (tmp_path / "ben" / batch.ENGINE_RESULTS).write_text(json.dumps({"extra_data": {"parts": {
        "activations": {"status": "import error"}, "mlp": {"status": "timeout"}}}}))
    (tmp_path / "ann" / batch.ENGINE_RESULTS).write_text(json.dumps({"extra_data": {"parts": {
        "activations": {"status": "ok"}, "mlp": {"status": "ok"}}}}))
    rows, _ = batch.gradebook(tmp_path)
    status = {r["submission"]: r["status"] for r in rows}
    assert status == {"ann": "ok", "ben": "activations: import error; mlp: timeout", "cat": "no results"}


def test_runtime_hands_the_engine_only_what_the_student_submitted(tmp_path):
    """In otter's submission folder: the student's files, plus tests/, __init__.py and the kit's
    support folder that otter copied in. Only the student's .py files reach the engine."""
    from grader.platforms.otter import runtime
    sub = tmp_path / "autograder" / "submission"
    (sub / "assignment").mkdir(parents=True)
    (sub / "assignment" / "mlp.py").write_text("student = True\n")
    (sub / "assignment" / "notes.txt").write_text("not code\n")
    (sub / "submission.py").write_text('"""note"""\n')
    (sub / "__init__.py").write_text("")
    (sub / "tests").mkdir()
    (sub / "tests" / "part4_mlp.py").write_text("adapter = True\n")
    (sub / KIT / "solutions").mkdir(parents=True)
    (sub / KIT / "solutions" / "mlp.py").write_text("reference = True\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "activations.py").write_text("linked = True\n")
    (sub / "linked").symlink_to(tmp_path / "elsewhere")
    staged = runtime.stage_student_files(sub, [KIT], tmp_path / "staged")
    files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert files == ["assignment/mlp.py", "submission.py"]


def test_runtime_fails_every_case_with_the_reason_when_the_kit_is_missing(tmp_path):
    from grader.platforms.otter import runtime
    sub = tmp_path / "autograder" / "submission"
    sub.mkdir(parents=True)
    passed, feedback = runtime.outcome("mlp", "mlp: anything", submission_dir=sub)
    assert not passed and "grading did not run" in feedback and "kit is missing" in feedback


# -- parity --------------------------------------------------------------------------
def make_grade_scores(label, part, graded_examples, bug_grades, alternative_grades):
    """What `make grade` gave this entry on its part: the part is graded with the student's
    module for that part only, so the catalog's gradings (tests/conftest.py) are the answer."""
    kind, _, name = label.partition(":")
    if kind == "missing":
        return 0
    if kind in ("reference", "starter"):
        result = graded_examples[1][kind]
    else:
        result = (bug_grades if kind == "bug" else alternative_grades).part(part)[name]
    return result["extra_data"]["parts"][part]["score"]


def test_otter_run_gives_the_scores_of_make_grade(autograder, tmp_path, graded_examples, bug_grades,
                                                  alternative_grades):
    entries = parity_entries(bug_grades, alternative_grades)
    plan = combined_submissions(tmp_path / "subs", entries)
    zips = sorted(str(p) for p in (tmp_path / "subs").glob("*.zip"))
    labels = {label for parts in plan.values() for label in parts.values()}
    # Every outcome the catalog's bugs show under make grade is shown by a bug that otter grades.
    for part in PARTS:
        everything = set().union(*(outcomes(r, part) for r in bug_grades.part(part).values()))
        graded = set().union(*(outcomes(bug_grades.part(part)[label[4:]], part)
                               for label, _ in entries[part] if label.startswith("bug:")))
        assert graded == everything, (part, everything - graded)
        assert any(label.startswith("alternative:") for label, _ in entries[part]), part
    if PARITY_FULL:
        assert {f"bug:{b.name}" for b in BUGS} <= labels, "every catalog bug is graded"
        assert {f"alternative:{p.stem}" for p in ALTERNATIVES.glob("*__*.py")} <= labels

    started = time.monotonic()
    got = batch.run(zips, autograder, tmp_path / "otter", jobs=OTTER_JOBS, engine_jobs=ENGINE_JOBS, quiet=True)
    print(f"\nparity: {len(zips)} submissions through otter run in {time.monotonic() - started:.0f} s")

    assert sorted(got) == sorted(plan)
    mismatches = []
    for name in sorted(plan):
        want = {part: make_grade_scores(label, part, graded_examples, bug_grades, alternative_grades)
                for part, label in plan[name].items()}
        have = got[name]["parts"]
        if have != want or round(got[name]["total"], 6) != round(sum(want.values()), 6):
            mismatches.append(f"{name} ({plan[name]}): make grade {want} = {sum(want.values()):g}, "
                              f"otter run {have} = {got[name]['total']} ({got[name]['status']})")
    assert not mismatches, "\n".join(mismatches)
    assert got["reference"]["total"] == 100 and got["starter"]["total"] == 0
    # Every bug lost points on its part under otter too (the catalog's own test says so for make grade).
    max_score = {p: info["max_score"] for p, info in graded_examples[1]["reference"]["extra_data"]["parts"].items()}
    for name, parts in plan.items():
        for part, label in parts.items():
            if label.startswith("bug:"):
                assert got[name]["parts"][part] < max_score[part], (name, part, label)

    with open(tmp_path / "otter" / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    assert list(next(iter(rows.values()))) == ["submission", *PARTS, "total", "status"]
    assert rows["reference"]["total"] == "100"


# -- hangs -----------------------------------------------------------------------------
# Short limits, so that the hangs below (an import, a call) cost seconds: 10x the reference's time per
# test, at least 1 s. They are on the student's clock, so the scores do not depend on how busy the
# machine is; relative to the reference, so that the two-layer net, which trains on judge-served
# activations here (its activations.py hangs), keeps its full marks (it needs about 2x the reference).
# 3 s to import a module: the student's import alone is charged (the reference's takes milliseconds).
HANG_LIMITS = {"multiple": 10.0, "floor_seconds": 1.0, "start_seconds": 3.0}


def test_hangs_end_within_the_kits_limits_under_otter(tmp_path):
    """Endless loops in student code cost what they cost under make grade, no more, and end in time;
    a top-level .py that never ends is not run at all (batch keeps only the graded files)."""
    autograder = otter_build.build(tmp_path / "short-limits.zip", limits=HANG_LIMITS, quiet=True)
    modules = {"two_layer_net": module_source("reference", "two_layer_net"),       # graded as usual
               "mlp": module_source("starter", "mlp")}
    modules["activations"] = b"while True:\n    pass\n"                       # hangs on import
    modules["logistic_regression"] = module_source("reference", "logistic_regression").replace(
        b"    return (forward(X, w, b) >= 0.5).astype(np.int64)", b"    while True:\n        pass")  # predict
    assert modules["logistic_regression"] != module_source("reference", "logistic_regression")
    subs = tmp_path / "subs"
    subs.mkdir()
    submit.write_zip(modules, subs / "hangs.zip")
    with zipfile.ZipFile(subs / "hangs.zip", "a") as zf:                         # otter would run this forever
        zf.writestr("extra/spin.py", "while True:\n    pass\n")
    with zipfile.ZipFile(subs / "top-level-spin.zip", "w") as zf:
        zf.writestr("spin.py", "while True:\n    pass\n")
        zf.writestr("work/logistic_regression.py", module_source("reference", "logistic_regression"))

    expected = grade(sorted(str(p) for p in subs.glob("*.zip")), tmp_path / "make-grade", jobs=JOBS,
                     limits=Limits(**HANG_LIMITS), quiet=True)
    got = batch.run(sorted(str(p) for p in subs.glob("*.zip")), autograder, tmp_path / "otter", jobs=2,
                    engine_jobs=ENGINE_JOBS, timeout=600, quiet=True)
    for name in expected:
        want = {p: info["score"] for p, info in expected[name]["extra_data"]["parts"].items()}
        why = {p: (info["status"], next((t["output"][:300] for t in expected[name]["tests"]
                                         if t["name"].startswith(p) and t["status"] != "passed"), ""))
               for p, info in expected[name]["extra_data"]["parts"].items()}
        assert got[name]["parts"] == want, (name, got[name], want, why)
    assert got["hangs"]["parts"]["activations"] == 0 and got["hangs"]["parts"]["two_layer_net"] == 25
    assert 0 < got["hangs"]["parts"]["logistic_regression"] < 20
    assert got["top-level-spin"]["total"] == 20 and got["top-level-spin"]["status"] != "ok"   # 3 parts missing
    # The kit's limits ended the hangs (import error, timeout), not otter's own timeout.
    assert "did not finish" not in got["hangs"]["status"], got["hangs"]


def test_an_otter_run_past_its_timeout_is_killed_with_everything_below_it(autograder, tmp_path, monkeypatch):
    marker = f"MLP_KIT_TEST_{os.getpid()}_{time.monotonic_ns()}"
    monkeypatch.setenv(marker, "1")                # inherited by otter, its kernel and the engine
    got = batch.run([str(ROOT / "solutions")], autograder, tmp_path / "out", jobs=1, timeout=8, quiet=True)
    assert got["solutions"]["status"] == "otter run did not finish within 8 s"
    assert got["solutions"]["total"] == 0 and not (tmp_path / "out" / "solutions" / "results.json").exists()

    def survivors():
        found = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if f"{marker}=1".encode() in environ.read_bytes() and int(environ.parent.name) != os.getpid():
                    found.append((environ.parent / "cmdline").read_bytes().replace(b"\0", b" ")[:200])
            except OSError:
                pass
        return found
    deadline = time.monotonic() + 120          # killed processes take a moment to be reaped on a busy machine
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not survivors(), survivors()
