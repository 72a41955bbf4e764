"""The release: the handout students get, the instructor bundle, and the release check.

The check must pass on the handout `make dist` builds and fail as soon as
solution text or hidden-test code is pasted into any of its files, however
it is laid out: it compares token runs, not marker strings or lines.
"""
import json
import re
import subprocess
import sys
import zipfile

import nbformat
import pytest

from grader.authoring import notebook, release
from grader.engine.markers import solution_blocks
from grader.engine.grade import ROOT

HIDDEN_TEST = ("mlp", "test_fit_shuffled_minibatch_epoch")


@pytest.fixture(scope="module")
def protected():
    return release.Protected()


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    return release.build_handout(tmp_path_factory.mktemp("release") / "handout")


def fresh(handout, tmp_path):
    import shutil
    copy = tmp_path / "handout"
    shutil.copytree(handout, copy)
    return copy


def solution_body(module, function):
    """The code between the markers of solutions/<module>.py's `function`, as written there."""
    text = (ROOT / "solutions" / f"{module}.py").read_text(encoding="utf-8")
    lines = text.splitlines()
    for begin, end, _, name in solution_blocks(text):
        if name == function:
            return "\n".join(line for line in lines[begin + 1:end] if not line.strip().startswith("#"))
    raise KeyError(function)


def hidden_test(part, name):
    """The source of one test function of a hidden suite (decorators included)."""
    text = (ROOT / "grader" / "suites" / f"test_{part}.py").read_text(encoding="utf-8")
    match = re.search(rf"(?ms)^(@[^\n]*\n)*def {name}\b.*?(?=^\S)", text)
    assert match, name
    return match.group(0)


# -- what goes out -------------------------------------------------------------
def test_handout_has_what_students_need_and_nothing_of_the_grader(handout):
    files = {p.relative_to(handout).as_posix() for p in handout.rglob("*") if p.is_file()}
    for need in ("README.md", "Makefile", "requirements.txt", "requirements-grading.txt",
                 "assignment/activations.py", "assignment/logistic_regression.py", "assignment/two_layer_net.py",
                 "assignment/mlp.py", "assignment/warmup.py", "assignment/gradient_check.py",
                 "assignment/check.py", "assignment/feedback.py", "assignment/probes.py", "assignment/manifest.py",
                 "assignment/parts.json", "assignment/datasets.py", "assignment/submit.py",
                 f"assignment/{notebook.NAME}", "assignment/public_tests/mlp.json",
                 "data/mnist5k/train-images-idx3-ubyte.gz", "data/mnist5k/t10k-labels-idx1-ubyte.gz"):
        assert need in files, need
    assert not any(f.startswith(("grader/", "solutions/", "tests/")) for f in files)
    assert not any("__pycache__" in f for f in files)
    readme = (handout / "README.md").read_text(encoding="utf-8")
    for section in ("## Work", "## Check", "## Submit"):
        assert section in readme
    makefile = (handout / "Makefile").read_text(encoding="utf-8")
    assert "check:" in makefile and "submission:" in makefile
    grading = (handout / "requirements-grading.txt").read_text(encoding="utf-8")
    # The course CI grades with the kit's engine (gradescope.zip): its pins, not otter's 470 MB.
    assert [line.split("==")[0] for line in grading.splitlines() if line and not line.startswith("#")] == \
        ["numpy", "pytest", "hypothesis"]
    assert all("==" in line for line in grading.splitlines() if line and not line.startswith("#"))


def test_handout_works_as_a_student_repository(handout, tmp_path):
    """make check and make submission work in the handout as shipped (the starter: 0 public tests pass)."""
    repo = fresh(handout, tmp_path)
    proc = subprocess.run(["make", "check", f"PYTHON={sys.executable}"], cwd=repo, capture_output=True,
                          text=True, timeout=900)
    # The last line is check's summary, not make's "Error 1" (STRICT=1 gives scripts the status).
    assert proc.returncode == 0 and "not implemented yet" in proc.stdout, proc.stdout[-2000:]
    cases = sum(len(json.loads(path.read_text(encoding="utf-8"))["cases"])
                for path in (repo / "assignment" / "public_tests").glob("*.json"))
    assert proc.stdout.splitlines()[-1].startswith(f"0 of {cases} public tests passed") and "make: ***" not in \
        proc.stderr
    strict = subprocess.run(["make", "check", "ARGS=warmup", "STRICT=1", f"PYTHON={sys.executable}"], cwd=repo,
                            capture_output=True, text=True, timeout=900)
    assert strict.returncode != 0 and "0 of 3 public tests passed" in strict.stdout, strict.stdout[-2000:]
    proc = subprocess.run(["make", "submission", f"PYTHON={sys.executable}"], cwd=repo, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(repo / "submission.zip") as zf:
        assert len(zf.namelist()) == 5


def test_instructor_bundle(tmp_path):
    fake = tmp_path / "autograder.zip"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("otter_config.json", "{}")
    bundle = release.build_instructor(tmp_path / "instructor", fake)
    assert sorted(p.name for p in bundle.iterdir()) == ["README.md", "autograde.yml", "autograder.zip",
                                                         "otter_batch.py", "requirements.txt"]
    assert (bundle / "otter_batch.py").read_bytes() == (ROOT / "grader" / "platforms" / "otter" / "batch.py").read_bytes()
    # The batch tool runs alone: it imports nothing outside the standard library.
    proc = subprocess.run([sys.executable, "-I", str(bundle / "otter_batch.py"), "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "gradebook" in proc.stdout, proc.stderr


def test_zips_are_reproducible(tmp_path, handout):
    """The same bytes every time, and from a checkout with another umask (group-writable files)."""
    a = release.zip_folder(handout, tmp_path / "a.zip").read_bytes()
    b = release.zip_folder(handout, tmp_path / "b.zip").read_bytes()
    assert a == b
    other = fresh(handout, tmp_path)
    for path in other.rglob("*"):
        path.chmod(path.stat().st_mode | 0o020)
    assert release.zip_folder(other, tmp_path / "c.zip").read_bytes() == a


# -- the release check -----------------------------------------------------------
def test_clean_handout_passes(handout, protected):
    assert release.check_handout(handout, protected) == []


def test_solution_body_pasted_into_a_module_fails(handout, protected, tmp_path):
    repo = fresh(handout, tmp_path)
    target = repo / "assignment" / "mlp.py"
    target.write_text(target.read_text() + "\n\ndef my_backward(params, cache, y):\n"
                      + solution_body("mlp", "backward") + "\n")
    problems = release.check_handout(repo, protected)
    assert problems and all(p.startswith("assignment/mlp.py:") for p in problems), problems
    assert "solution code of solutions/mlp.py" in problems[0]


@pytest.mark.parametrize("layout", ["squashed", "commented"])
def test_reformatted_solution_is_still_found(handout, protected, tmp_path, layout):
    """Statements joined with ';' and other spacing, or a comment between every two lines: still found."""
    repo = fresh(handout, tmp_path)
    body = [line.strip() for line in solution_body("two_layer_net", "backward").splitlines() if line.strip()]
    if layout == "squashed":
        code = "; ".join(body).replace(" = ", "=").replace(", ", ",")
    else:
        code = "\n    # and then\n    ".join(body)
    target = repo / "assignment" / "two_layer_net.py"
    target.write_text(target.read_text() + f"\n# my attempt\ndef f(params, cache, y):\n    {code}\n")
    problems = release.check_handout(repo, protected)
    assert any("solutions/two_layer_net.py" in p for p in problems), problems


def test_reference_module_copied_into_the_handout_fails(handout, protected, tmp_path):
    repo = fresh(handout, tmp_path)
    (repo / "assignment" / "activations.py").write_bytes((ROOT / "solutions" / "activations.py").read_bytes())
    problems = release.check_handout(repo, protected)
    assert any(p.startswith("assignment/activations.py") and "marker" in p for p in problems)
    assert any(p.startswith("assignment/activations.py") and "solution code" in p for p in problems)


def test_hidden_test_pasted_into_a_new_file_fails(handout, protected, tmp_path):
    repo = fresh(handout, tmp_path)
    (repo / "notes.py").write_text("# found this online\n" + hidden_test(*HIDDEN_TEST))
    problems = release.check_handout(repo, protected)
    assert any(p.startswith("notes.py:") and "grader/suites/test_mlp.py" in p for p in problems), problems


def test_hidden_test_in_a_notebook_cell_fails(handout, protected, tmp_path):
    repo = fresh(handout, tmp_path)
    path = repo / "assignment" / notebook.NAME
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(hidden_test("two_layer_net", "test_backward_is_backpropagation"),
                                              id="pasted"))
    nbformat.write(nb, path)
    problems = release.check_handout(repo, protected)
    assert any(p.startswith(f"assignment/{notebook.NAME}:") and "grader/suites" in p for p in problems), problems


def test_a_bytecode_file_or_zip_fails(handout, protected, tmp_path):
    repo = fresh(handout, tmp_path)
    (repo / "assignment" / "mlp.cpython-311.pyc").write_bytes(b"\x00" * 16)
    problems = release.check_handout(repo, protected)
    assert any("bytecode" in p for p in problems)


def test_release_check_command_line(handout, tmp_path):
    repo = fresh(handout, tmp_path)
    ok = subprocess.run([sys.executable, "-m", "grader", "release", "check", str(repo)], cwd=ROOT,
                        capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0 and "release check passed" in ok.stdout, ok.stdout + ok.stderr
    (repo / "assignment" / "extra.py").write_text(solution_body("logistic_regression", "fit"))
    bad = subprocess.run([sys.executable, "-m", "grader", "release", "check", str(repo)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1 and "assignment/extra.py" in bad.stdout, bad.stdout


def test_public_cases_and_metadata_are_data(handout):
    for path in sorted((handout / "assignment" / "public_tests").glob("*.json")):
        json.loads(path.read_text(encoding="utf-8"))
