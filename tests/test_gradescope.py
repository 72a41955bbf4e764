"""The native Gradescope autograder (make gradescope) and the otter zip, as Gradescope runs them.

A fake /autograder tree is laid out in a temporary folder (the scripts take the root from
$AUTOGRADER_ROOT): the zip unpacked into source/, setup.sh run as Gradescope runs it at image
build time (here it finds this machine's Python 3.11, so only its Python steps run: the venv
and the pinned packages), then, per upload, submission/ filled with one layout and
run_autograder run from the root. results.json is checked against Gradescope's documented
schema (https://gradescope-autograders.readthedocs.io/en/latest/specs/) and against the
per-test scores of `make grade`: the reference (100), the starter (0), and one submission per
layout (loose files, nested folders, a repository, a folder holding only a zip).

The layouts other than the reference hold cheap modules (a part not submitted is not run), and
make grade's side is one batch over the same folders, so the whole file costs about 40 s. The
no-sandbox test (a container simulated by tests/hostsim.py) uploads one part and grades it twice.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.engine import visibility
from grader.platforms import gradescope
from grader.engine.grade import CALIBRATION_CACHE_ENV, CALIBRATION_NAME, ROOT, grade
from grader.platforms.otter import build as otter_build
from grader.parts import GRADED as PARTS
from tooling import submit

FORMATS = {"text", "html", "simple_format", "md", "ansi"}     # "Output String Formatting" of the spec
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}


def check_schema(data):
    """results.json as Gradescope's spec documents it: the keys, their types and their values."""
    assert set(data) <= TOP_KEYS, set(data) - TOP_KEYS
    assert isinstance(data["score"], (int, float))
    assert isinstance(data["execution_time"], int) and data["execution_time"] >= 0
    assert data["output_format"] in FORMATS and data["test_output_format"] in FORMATS
    assert data["test_name_format"] in FORMATS
    assert data["visibility"] in visibility.VALUES and data["stdout_visibility"] in visibility.VALUES
    assert isinstance(data["extra_data"], dict) and isinstance(data["output"], str)
    numbers = set()
    for t in data["tests"]:
        assert set(t) <= TEST_KEYS, set(t) - TEST_KEYS
        assert isinstance(t["name"], str) and isinstance(t["output"], str)
        assert 0 <= t["score"] <= t["max_score"]
        assert t["status"] in ("passed", "failed") and (t["status"] == "passed") == (t["score"] == t["max_score"])
        assert t["visibility"] in visibility.VALUES and t["output_format"] in FORMATS
        assert t["name_format"] in FORMATS and all(isinstance(tag, str) for tag in t["tags"])
        assert t["number"] not in numbers
        numbers.add(t["number"])
    assert abs(data["score"] - sum(t["score"] for t in data["tests"])) < 1e-9
    for entry in data.get("leaderboard", []):
        assert set(entry) <= {"name", "value", "order"} and entry.get("order", "desc") in ("asc", "desc")
        assert isinstance(entry["name"], str) and isinstance(entry["value"], (int, float, str))


def modules(kind, parts=PARTS):
    folder = {"reference": ROOT / "solutions", "starter": ROOT / "assignment",
              "partial": ROOT / "grader" / "examples" / "partial"}[kind]
    return {p: (folder / f"{p}.py").read_bytes() for p in parts}


def write_layout(kind, dest):
    """One upload of each layout, as Gradescope puts it in /autograder/submission."""
    dest.mkdir(parents=True)
    if kind in ("loose", "reference"):        # files dragged into the upload dialog
        parts = PARTS if kind == "reference" else ["activations", "logistic_regression"]
        for part, source in modules("reference", parts).items():
            (dest / f"{part}.py").write_bytes(source)
        if kind == "loose":
            (dest / "notes.py").write_text("# my notes\n")
    elif kind == "nested":                    # a folder of folders, other .py files around
        deep = dest / "hw3" / "work" / "assignment"
        deep.mkdir(parents=True)
        (deep / "activations.py").write_bytes(modules("partial", ["activations"])["activations"])
        (dest / "hw3" / "scratch.py").write_text("print('not graded')\n")
        (dest / "hw3" / "old" / "deeper" / "still").mkdir(parents=True)
        (dest / "hw3" / "old" / "deeper" / "still" / "activations.py").write_text("raise SystemExit\n")  # deeper
    elif kind == "repository":                # Gradescope's GitHub integration: the repository's files
        for rel in ("README.md", ".gitignore", "requirements.txt"):
            (dest / rel).write_text("from the handout\n")
        (dest / ".git" / "objects").mkdir(parents=True)
        (dest / ".git" / "mlp.py").write_text("raise SystemExit\n")                 # never taken from .git
        (dest / ".github" / "workflows").mkdir(parents=True)
        (dest / "assignment").mkdir()
        for part, source in modules("starter").items():
            (dest / "assignment" / f"{part}.py").write_bytes(source)
        (dest / "assignment" / "logistic_regression.py").write_bytes(
            modules("reference", ["logistic_regression"])["logistic_regression"])
        (dest / "assignment" / "mlp.py").unlink()                                   # not done yet
        (dest / "assignment" / "activations.py").unlink()
        (dest / "assignment" / "two_layer_net.py").unlink()
    elif kind == "zip":                       # an upload kept as its zip (make submission's)
        submit.write_zip({"logistic_regression": modules("partial", ["logistic_regression"])["logistic_regression"],
                          "activations": modules("reference", ["activations"])["activations"]},
                         dest / "submission.zip")
    return dest


LAYOUTS = ("loose", "nested", "repository", "zip")


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """The four uploads, and make grade's results for each (one batch)."""
    base = tmp_path_factory.mktemp("layouts")
    folders = {kind: write_layout(kind, base / kind) for kind in LAYOUTS}
    expected = grade([str(folders[k]) for k in LAYOUTS], base / "make-grade", jobs=2, names=list(LAYOUTS),
                     quiet=True)
    return folders, expected


def per_test(results):
    return {t["name"]: t["score"] for t in results["tests"]}


def gradescope_env(root):
    """Gradescope's environment: AUTOGRADER_ROOT for /autograder, and not the kit's shared calibration."""
    env = dict(os.environ, AUTOGRADER_ROOT=str(root))
    env.pop(CALIBRATION_CACHE_ENV, None)
    return env


@pytest.fixture(scope="module")
def gradescope_root(tmp_path_factory):
    """A fake /autograder with dist/gradescope.zip unpacked and setup.sh run."""
    base = tmp_path_factory.mktemp("gradescope")
    zip_path = gradescope.build(base / "gradescope.zip", quiet=True)
    root = base / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        assert {"setup.sh", "run_autograder"} <= set(zf.namelist())          # at the root of the zip
        for info in zf.infolist():
            zf.extract(info, root / "source")
            mode = info.external_attr >> 16
            if mode:
                (root / "source" / info.filename).chmod(mode & 0o777)
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=gradescope_env(root), cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "numpy 2." in proc.stdout
    # The calibration, measured once at build time, for every submission graded on a machine like this.
    assert "setup.sh: calibration measured" in proc.stdout, proc.stdout[-2000:]
    assert set(json.loads((root / "source" / CALIBRATION_NAME).read_text(encoding="utf-8"))["parts"]) == set(PARTS)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")     # where Gradescope copies it
    return root


def run_autograder(root, upload):
    """What Gradescope does per submission: a fresh submission/ and results/, run_autograder from root."""
    for sub in ("submission", "results"):
        shutil.rmtree(root / sub, ignore_errors=True)
    shutil.copytree(upload, root / "submission", symlinks=True)
    (root / "results").mkdir()
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=gradescope_env(root),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8")), proc.stdout


def test_gradescope_zip_grades_the_reference_and_the_starter_as_make_grade(gradescope_root, graded_examples,
                                                                            tmp_path):
    made = graded_examples[1]
    reference = write_layout("reference", tmp_path / "reference")                  # loose files
    calibration = gradescope_root / "source" / CALIBRATION_NAME
    measured = calibration.read_bytes()
    results, stdout = run_autograder(gradescope_root, reference)
    assert calibration.read_bytes() == measured, "run_autograder measured the calibration again on the same machine"
    check_schema(results)
    assert results["score"] == 100 and per_test(results) == per_test(made["reference"])
    assert results["leaderboard"][0]["name"] == "MNIST test accuracy"
    assert 0.85 <= results["leaderboard"][0]["value"] <= 1.0 and results["leaderboard"][0]["order"] == "desc"
    backend = results["extra_data"]["sandbox"]["backend"]
    assert backend not in ("", "unknown", "none") and f"isolation {backend}" in stdout
    assert results["extra_data"]["sandbox"]["allow_unsandboxed"] is False          # the zip's default
    assert f"Isolation of your code while it was graded: {backend}" in results["output"]
    # The visibility policy: public tests visible, the hidden ones after_published; no total where
    # students always see it while hidden tests are not shown.
    for t, engine in zip(results["tests"], made["reference"]["tests"]):
        assert t["visibility"] == ("visible" if engine["visibility"] == "visible" else "after_published")
        assert t["output_format"] == "text"
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert "100" not in results["output"]

    starter = write_layout("repository", tmp_path / "starter-repo")               # the untouched starter
    for part, source in modules("starter").items():
        (starter / "assignment" / f"{part}.py").write_bytes(source)
    results, _ = run_autograder(gradescope_root, starter)
    check_schema(results)
    assert results["score"] == 0 and per_test(results) == per_test(made["starter"])
    assert "leaderboard" not in results                      # fit never ran: no accuracy to rank
    failing = next(t for t in results["tests"] if t["name"].startswith("mlp:"))
    assert "not implemented yet" in failing["output"]


def test_gradescope_zip_grades_every_layout_as_make_grade(gradescope_root, layouts):
    folders, expected = layouts
    for kind in LAYOUTS:
        results, _ = run_autograder(gradescope_root, folders[kind])
        check_schema(results)
        assert per_test(results) == per_test(expected[kind]), kind
        assert results["score"] == expected[kind]["score"], kind
    # Each layout's files were found: points where make grade gives them, and none from decoys.
    assert expected["nested"]["extra_data"]["parts"]["activations"]["score"] > 0
    assert expected["repository"]["extra_data"]["parts"]["logistic_regression"]["score"] == 20
    assert expected["repository"]["extra_data"]["parts"]["mlp"]["status"] == "missing"
    assert expected["zip"]["extra_data"]["parts"]["activations"]["score"] == 20
    assert expected["loose"]["extra_data"]["parts"]["logistic_regression"]["score"] == 20


def test_gradescope_visibility_is_the_instructors_choice(tmp_path, graded_examples):
    """The same engine results under each choice; the summary shows part scores only when visible."""
    partial = graded_examples[1]["partial"]
    for choice in visibility.VALUES:
        results = gradescope.gradescope_results(partial, choice, 3.2)
        check_schema(results)
        hidden = [t for t, e in zip(results["tests"], partial["tests"]) if e["visibility"] != "visible"]
        assert hidden and {t["visibility"] for t in hidden} == {choice}
        assert ("two_layer_net: " in results["output"]) == (choice == "visible")
        assert "are shown hidden" not in results["output"] and "shown after_" not in results["output"]
        if choice != "visible":
            assert f"your score are {visibility.when_shown(choice)}." in results["output"]
    assert "not shown to students" in gradescope.gradescope_results(partial, "hidden", 1)["output"]
    with pytest.raises(ValueError):
        gradescope.build(tmp_path / "x.zip", hidden_visibility="sometimes", quiet=True)


def test_gradescope_reports_an_engine_failure_instead_of_a_score(gradescope_root, tmp_path):
    """No results.json (Gradescope then shows an autograder error), the reason on stdout."""
    broken = tmp_path / "root"
    shutil.copytree(gradescope_root / "source", broken / "source", symlinks=True,
                    ignore=shutil.ignore_patterns("kit"))
    (broken / "source" / "kit").symlink_to(gradescope_root / "source" / "kit")
    (broken / "source" / "config.json").write_text(json.dumps({"limits": {"no_such_limit": 1}}))
    (broken / "venv").symlink_to(gradescope_root / "venv")
    (broken / "submission").mkdir()
    proc = subprocess.run([str(gradescope_root / "run_autograder")], cwd=broken,
                          env=dict(os.environ, AUTOGRADER_ROOT=str(broken)), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 1 and "could not grade" in proc.stdout and "no_such_limit" in proc.stdout
    assert not (broken / "results" / "results.json").exists()


# -- the otter zip on Gradescope --------------------------------------------------------------
def run_otter_on_gradescope(autograder, upload, root):
    """Gradescope's run of the otter zip (its run_otter.py), in a fake tree, with this machine's otter."""
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder) as zf:
        zf.extractall(root / "source")
    (root / "submission_metadata.json").write_text("{}")
    shutil.copytree(upload, root / "submission", symlinks=True)
    (root / "results").mkdir()
    proc = subprocess.run([sys.executable, str(root / "source" / "run_otter.py")], cwd=root,
                          env=dict(os.environ, AUTOGRADER_ROOT=str(root), MLP_KIT_JOBS="1"),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_otter_zip_on_gradescope_takes_every_layout(tmp_path, layouts):
    """otter alone refuses loose files ("More than one Python file found in submission"), and
    repositories, nested folders and kept zips ("No gradable files found in submission"). The kit's
    run_otter.py puts every upload in the layout otter grades: two full otter runs (the two layouts
    the issue saw refused) give make grade's scores per part, with the policy's visibility, a
    truthful public-tests box and each part's status; for the other two the normalized folder is
    checked file by file (an otter run costs ~15 s)."""
    from grader.platforms.otter.platform import normalize_submission
    folders, expected = layouts
    autograder = otter_build.build(tmp_path / "autograder.zip", quiet=True)
    kinds = ("loose", "repository")
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = dict(zip(kinds, pool.map(lambda k: run_otter_on_gradescope(autograder, folders[k], tmp_path / k),
                                       kinds)))
    for kind in kinds:
        parts = {t["name"]: t for t in got[kind]["tests"] if "max_score" in t}
        want = expected[kind]["extra_data"]["parts"]
        assert {p: t["score"] for p, t in parts.items()} == {p: info["score"] for p, info in want.items()}, kind
        assert {t["visibility"] for t in parts.values()} == {"after_published"}
        for part, info in want.items():
            assert (f"{part}: {info['status']}" in parts[part]["output"]) == (info["status"] != "ok")
        summary = next(t for t in got[kind]["tests"] if t["name"] == "Public Tests")
        assert summary["visibility"] == "visible" and "All test cases passed" not in summary["output"]
        assert "hidden tests" in summary["output"]
        assert got[kind]["extra_data"]["sandbox"]["backend"] not in ("", "unknown")
    assert (tmp_path / "repository" / "submission-original" / "README.md").is_file()
    box = next(t for t in got["repository"]["tests"] if t["name"] == "Public Tests")
    shown = [t for t in expected["repository"]["tests"]
             if t["name"].startswith("logistic_regression:") and t["visibility"] == "visible"]
    assert len(shown) >= 4 and all(t["status"] == "passed" for t in shown)
    assert box["status"] == "failed" and f"logistic_regression: {len(shown)} of {len(shown)} visible tests passed" \
        in box["output"]

    for kind in ("nested", "zip"):
        root = tmp_path / kind
        shutil.copytree(folders[kind], root / "submission")
        problems = normalize_submission(root)
        files = sorted(p.relative_to(root / "submission").as_posix() for p in (root / "submission").rglob("*")
                       if p.is_file())
        taken = [p for p, info in expected[kind]["extra_data"]["parts"].items() if info["status"] != "missing"]
        assert files == sorted(["submission.py", *[f"assignment/{p}.py" for p in taken]]), kind
        assert set(problems) == set(PARTS) - set(taken)
        assert [p for p in (root / "submission").glob("*.py")] == [root / "submission" / "submission.py"]


# -- no sandbox in Gradescope's container -------------------------------------------------------------
HOSTSIM = ROOT / "tests" / "hostsim.py"


def test_allow_unsandboxed_is_a_build_option_written_into_the_config(tmp_path):
    """`make gradescope ALLOW_UNSANDBOXED=1` runs `gradescope build --allow-unsandboxed` (its expansion is
    tests/test_documented_commands.py's): config.json says so; without it, false."""
    from grader.__main__ import main
    for extra, want in (([], False), (["--allow-unsandboxed"], True)):
        out = tmp_path / f"gradescope-{want}.zip"
        assert main(["gradescope", "build", "--out", str(out), *extra]) == 0
        with zipfile.ZipFile(out) as zf:
            assert json.loads(zf.read("config.json"))["allow_unsandboxed"] is want


def autograder_on(host, gradescope_root, base, config, upload):
    """run_autograder in a copy of the fake /autograder whose config.json is `config`, on `host`
    (tests/hostsim.py: "bare" is a container as root without CAP_SYS_ADMIN and without Landlock)."""
    root = base / "root"
    shutil.copytree(gradescope_root / "source", root / "source", symlinks=True, ignore=shutil.ignore_patterns("kit"))
    (root / "source" / "kit").symlink_to(gradescope_root / "source" / "kit")
    (root / "source" / "config.json").write_text(json.dumps(config))
    (root / "venv").symlink_to(gradescope_root / "venv")
    shutil.copytree(upload, root / "submission")
    (root / "results").mkdir()
    cmd = [str(gradescope_root / "run_autograder")]
    if host != "native":
        cmd = [sys.executable, str(HOSTSIM), host, "--"] + cmd
    env = gradescope_env(root)
    env.pop("GRADER_SANDBOX", None)
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    path = root / "results" / "results.json"
    return proc, (json.loads(path.read_text(encoding="utf-8")) if path.exists() else None)


def test_no_sandbox_on_gradescope_is_the_instructors_recorded_choice(gradescope_root, tmp_path):
    """In a container where no sandbox works (root without CAP_SYS_ADMIN, no Landlock): built as usual, an
    autograder error whose output names this container's causes and the two ways out, never "run as
    root" (it is root) nor make grade's option alone; built with --allow-unsandboxed, graded with backend
    "none" and the choice in results.json. Where a sandbox works, the option changes nothing but the
    record. One part uploaded (activations), so that each run grades one part."""
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "activations.py").write_bytes(modules("reference", ["activations"])["activations"])
    config = {"hidden_visibility": "after_published", "limits": {}, "jobs": 2}

    proc, results = autograder_on("bare", gradescope_root, tmp_path / "refused", config, upload)
    assert proc.returncode == 1 and results is None, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "no sandbox works in this container" in out and "Traceback" not in out, out[-3000:]
    assert "root, but without CAP_SYS_ADMIN" in out and "answer ENOSYS" in out           # this host's causes
    assert "make gradescope ALLOW_UNSANDBOXED=1" in out and "gradescope build --allow-unsandboxed" in out
    assert "run the grader as root" not in out and "make grade ALLOW_UNSANDBOXED" not in out

    allowed = dict(config, allow_unsandboxed=True)
    proc, results = autograder_on("bare", gradescope_root, tmp_path / "allowed", allowed, upload)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check_schema(results)
    assert results["extra_data"]["sandbox"] == {"backend": "none", "allow_unsandboxed": True}
    assert results["extra_data"]["parts"]["activations"]["score"] == 20
    assert "Isolation of your code while it was graded: none (no sandbox works on this host; your instructor " \
        "chose to grade without one)." in results["output"]
    assert "graded WITHOUT a sandbox" in proc.stdout

    proc, results = autograder_on("native", gradescope_root, tmp_path / "native", allowed, upload)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert results["extra_data"]["sandbox"]["backend"] not in ("none", "unknown")
    assert results["extra_data"]["sandbox"]["allow_unsandboxed"] is True
    assert results["extra_data"]["parts"]["activations"]["score"] == 20

