"""docs/adding-a-part.md, followed step by step: a toy fifth part, softplus, added to a temporary
copy of the kit, from its reference to its hidden suite, then generated and graded.

The test writes exactly the files the doc tells a TA to write or edit, runs the one command the
doc names (`python -m grader assign`), and counts what changed: the files touched by hand must
be at most MAX_BY_HAND (the doc states the count), and every other change must be a generated
file. It then grades the reference, the untouched starter and a buggy softplus.py with
`python -m grader grade --parts softplus`, and runs the kit's own checks of a part (the clauses,
the suites' rules, the generated files' drift, the layering) in the copy.
"""
import hashlib
import json
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from grader import ROOT

MAX_BY_HAND = 8
DOC = ROOT / "docs" / "adding-a-part.md"
SKIP = {".git", "__pycache__", "dist", "grades", ".pytest_cache", ".ruff_cache", ".hypothesis"}

# Step 1 of the doc: the part's line in grader/parts.py.
PART_LINE = '    Part("softplus", "softplus, a smooth ReLU, and its backward pass", 4),\n'

# Step 2: the reference, solutions/softplus.py (solution code between the markers).
REFERENCE = '''\
"""Part 5: softplus, a smooth ReLU.

softplus(x) = log(1 + e^x) is a smooth approximation of max(0, x); its
derivative is the sigmoid.
"""
import numpy as np


def softplus(x):
    """Softplus, log(1 + e^x), computed without overflow.

    Args:
        x: np.ndarray of any shape.

    Returns:
        np.ndarray with the shape of x, values >= 0.
    """
    # BEGIN SOLUTION
    # TODO: return log(1 + e^x) as max(x, 0) + log(1 + e^(-|x|)) (np.log1p), which never overflows.
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    # END SOLUTION


def softplus_backward(dout, x):
    """Backward pass of softplus: dL/dx = dout * σ(x).

    Args:
        dout: np.ndarray, upstream gradient, same shape as x.
        x: np.ndarray, the input that was given to softplus(x).

    Returns:
        np.ndarray dL/dx with the shape of x.
    """
    # BEGIN SOLUTION
    # TODO: apply the chain rule with softplus'(x) = σ(x), computed without overflow.
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return dout * np.where(x >= 0, 1.0, e) / (1.0 + e)
    # END SOLUTION
'''

# Step 3: the hidden tests and the public checks, side by side, grader/suites/test_softplus.py.
SUITE = '''\
"""Part 5, softplus: the hidden tests (4 points) and the public checks."""
import numpy as np
import pytest

from grader.suites.public import covered_by, rng_for
from tooling import feedback, probes
from tooling.gradient_check import numerical_gradient

RAISE = {"over": "raise", "invalid": "raise", "divide": "raise"}
BIG = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])


def softplus(x):
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def backward_check(student, x, dout):
    numeric = numerical_gradient(lambda v: np.sum(dout * softplus(v)), x.copy())
    probes.call_gradient(student, fn="softplus_backward", args=(dout, x), expected=numeric, argnames=("dout", "x"))


# -- public checks: what `make check` runs on the student's own code ------------------
def public_softplus_values(student):
    """softplus matches log(1 + e^x)"""
    x = rng_for("softplus values").normal(0, 3, size=(2, 4))
    probes.call_close(student, fn="softplus", args=(x,), expected=softplus(x), argnames=("x",), rtol=1e-9)


def public_softplus_backward(student):
    """softplus_backward matches finite differences"""
    r = rng_for("softplus backward")
    backward_check(student, r.normal(size=(2, 3)), r.normal(size=(2, 3)))


# -- hidden tests ---------------------------------------------------------------------
@pytest.mark.public
@pytest.mark.points(1)
def test_softplus_values(student, rng):
    """softplus matches log(1 + e^x)"""
    x = rng.normal(0.0, 4.0, size=(3, 4))
    feedback.close(student.softplus(x), softplus(x), "softplus(x)", {"x": x}, rtol=1e-9)


@pytest.mark.visible
@pytest.mark.points(0.5)
def test_softplus_stable(student):
    """softplus is stable at ±1e4 (no overflow) and never negative"""
    probes.call_close(student, fn="softplus", args=(BIG,), expected=softplus(BIG), argnames=("x",), rtol=1e-9,
                      atol=1e-15, errstate=RAISE)


@pytest.mark.public
@pytest.mark.points(1.5)
def test_softplus_backward_gradient(student, rng):
    """softplus_backward matches finite differences"""
    backward_check(student, rng.normal(0.0, 2.0, size=(3, 4)), rng.normal(size=(3, 4)))


@covered_by(public_softplus_backward)
@pytest.mark.points(0.5)
def test_softplus_backward_extremes(student):
    """softplus_backward is finite and exact at ±1e4"""
    dout = np.array([1.0, -2.0, 3.0, 0.5, -1.0])
    probes.call_close(student, fn="softplus_backward", args=(dout, BIG), expected=dout * sigmoid(BIG),
                      argnames=("dout", "x"), rtol=1e-9, atol=1e-300)


@pytest.mark.public
@pytest.mark.points(0.5)
def test_softplus_shape_and_dtype(student, rng):
    """softplus and softplus_backward keep the shape and return float64"""
    x = rng.normal(size=(2, 3, 2))
    feedback.float64(feedback.array(student.softplus(x), "softplus(x)", shape=x.shape), "softplus(x)")
    got = student.softplus_backward(np.ones_like(x), x)
    feedback.float64(feedback.array(got, "softplus_backward(dout, x)", shape=x.shape), "softplus_backward(dout, x)")
'''

# Step 4: what the docstrings promise, clause by clause, appended to grader/authoring/clauses.py.
CLAUSES = '''

CLAUSES["softplus"] = {
    None: [
        ("Part 5: softplus, a smooth ReLU.", note("a title")),
        ("softplus(x) = log(1 + e^x) is a smooth approximation of max(0, x); its derivative is the sigmoid.",
         EXPLAINS),
    ],
    "softplus": [
        ("Softplus, log(1 + e^x),", ("test_softplus_values",)),
        ("computed without overflow.", ("test_softplus_stable",)),
        ("Args: x: np.ndarray of any shape.", ("test_softplus_shape_and_dtype",)),
        ("Returns: np.ndarray with the shape of x,", ("test_softplus_shape_and_dtype",)),
        ("values >= 0.", ("test_softplus_stable",)),
    ],
    "softplus_backward": [
        ("Backward pass of softplus: dL/dx = dout * σ(x).",
         ("test_softplus_backward_gradient", "test_softplus_backward_extremes")),
        ("Args: dout: np.ndarray, upstream gradient, same shape as x.", ARG),
        ("x: np.ndarray, the input that was given to softplus(x).", ARG),
        ("Returns: np.ndarray dL/dx with the shape of x.", ("test_softplus_shape_and_dtype",)),
    ],
}
'''

# What `python -m grader assign` may write for a new part, and nothing else.
GENERATED = re.compile(r"^(assignment/.*|grader/examples/partial/.*|README\.md|grader/templates/handout/README\.md)$")


def copy_kit(dest):
    def ignore(folder, names):
        return [n for n in names if n in SKIP or n.endswith(".pyc")]
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


def snapshot(root):
    """{path under root: sha256} of every file of the copy."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not SKIP & set(p.relative_to(root).parts)
            and p.suffix != ".pyc"}


def changed(before, after):
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def run(kit, *args, timeout=600):
    return subprocess.run([sys.executable, *args], cwd=kit, capture_output=True, text=True, timeout=timeout)


def add_softplus(kit):
    """The doc's steps 1-4 (every file a TA writes or edits by hand)."""
    parts = kit / "grader" / "parts.py"
    text = parts.read_text(encoding="utf-8")
    end = text.index("\n)\n", text.index("PARTS = ("))
    parts.write_text(text[:end + 1] + PART_LINE + text[end + 1:], encoding="utf-8")
    (kit / "solutions" / "softplus.py").write_text(REFERENCE, encoding="utf-8")
    (kit / "grader" / "suites" / "test_softplus.py").write_text(SUITE, encoding="utf-8")
    clauses = kit / "grader" / "authoring" / "clauses.py"
    clauses.write_text(clauses.read_text(encoding="utf-8") + CLAUSES, encoding="utf-8")


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """The copy with softplus added and generated: (root, files by hand, generated files)."""
    root = copy_kit(tmp_path_factory.mktemp("kit") / "kit")
    before = snapshot(root)
    add_softplus(root)
    by_hand = changed(before, snapshot(root))
    generated = run(root, "-m", "grader", "assign")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return root, by_hand, [p for p in changed(before, snapshot(root)) if p not in by_hand]


def test_adding_a_part_touches_few_files(kit):
    root, by_hand, generated = kit
    assert by_hand == sorted(["grader/parts.py", "solutions/softplus.py", "grader/suites/test_softplus.py",
                              "grader/authoring/clauses.py"])
    assert len(by_hand) <= MAX_BY_HAND
    unexpected = [p for p in generated if not GENERATED.match(p)]
    assert not unexpected, f"`python -m grader assign` changed files it does not generate: {unexpected}"
    assert {"assignment/softplus.py", "assignment/public_tests/softplus.json", "assignment/parts.json",
            "grader/examples/partial/softplus.py", "README.md"} <= set(generated), generated
    # The doc states the counts this test measures.
    doc = DOC.read_text(encoding="utf-8")
    assert f"touches {len(by_hand)} files by hand" in doc, "docs/adding-a-part.md states another count"
    assert f"rewrites {len(generated)} generated files" in doc, ("docs/adding-a-part.md", generated)


def test_the_new_part_is_everywhere_the_registry_reaches(kit):
    root = kit[0]
    starter = (root / "assignment" / "softplus.py").read_text(encoding="utf-8")
    assert 'raise NotImplementedError("TODO: softplus.softplus")' in starter and "log1p(np.exp" not in starter
    manifest = json.loads((root / "assignment" / "parts.json").read_text(encoding="utf-8"))
    assert manifest["parts"][-1] == {"name": "softplus", "graded": True, "imports": []}
    cases = json.loads((root / "assignment" / "public_tests" / "softplus.json").read_text(encoding="utf-8"))
    assert [c["title"] for c in cases["cases"]] == ["softplus matches log(1 + e^x)",
                                                    "softplus_backward matches finite differences"]
    assert cases["hidden"] == {"tests": 5, "points": 4}
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "| 5 | `softplus.py` | softplus, a smooth ReLU, and its backward pass | 4 |" in readme
    assert "| | | total | 104 |" in readme
    notebook = (root / "assignment" / "mlp_backprop.ipynb").read_text(encoding="utf-8")
    assert "Part 5" in notebook and 'check(\\"softplus\\")' in notebook


def test_the_new_part_is_graded(kit, tmp_path):
    root = kit[0]
    buggy = tmp_path / "buggy"
    buggy.mkdir()
    reference = (root / "solutions" / "softplus.py").read_text(encoding="utf-8")
    (buggy / "softplus.py").write_text(reference.replace("return dout * np.where", "return -dout * np.where"),
                                       encoding="utf-8")
    out = tmp_path / "grades"
    proc = run(root, "-m", "grader", "grade", "--out", str(out), "--parts", "softplus", "--",
               str(root / "solutions"), str(root / "assignment"), str(buggy))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scores = {}
    for name in ("solutions", "assignment", "buggy"):
        result = json.loads((out / name / "results.json").read_text(encoding="utf-8"))
        scores[name] = {t["name"]: t["score"] for t in result["tests"] if t["name"].startswith("softplus: ")}
        assert len(scores[name]) == 5, result["tests"]
    assert sum(scores["solutions"].values()) == 4
    assert sum(scores["assignment"].values()) == 0
    assert scores["buggy"]["softplus: softplus_backward matches finite differences"] == 0
    assert scores["buggy"]["softplus: softplus matches log(1 + e^x)"] == 1
    # The student's own `make check` on the starter and on the reference, in the handout's layout.
    handout = tmp_path / "handout"
    shutil.copytree(root / "assignment", handout / "assignment")
    check = subprocess.run([sys.executable, "-m", "assignment.check", "softplus"], cwd=handout,
                           capture_output=True, text=True, timeout=900)
    assert check.returncode == 1 and re.search(r"^softplus +0/2 ", check.stdout, re.M), check.stdout
    shutil.copyfile(root / "solutions" / "softplus.py", handout / "assignment" / "softplus.py")
    check = subprocess.run([sys.executable, "-m", "assignment.check", "softplus"], cwd=handout,
                           capture_output=True, text=True, timeout=900)
    assert check.returncode == 0 and "All 2 public tests passed" in check.stdout, check.stdout
    assert "the grader's 5 tests (4 points)" in check.stdout, check.stdout


def test_the_kits_own_checks_of_a_part_pass_in_the_copy(kit):
    root = kit[0]
    proc = run(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_clauses.py",
               "tests/test_suites.py", "tests/test_layering.py",
               "tests/test_assignment_generation.py::test_committed_assignment_matches_generator",
               "tests/test_assignment_generation.py::test_every_graded_function_is_a_stub",
               "tests/test_assignment_generation.py::test_no_solution_code_in_assignment", timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "softplus" in run(root, "-m", "pytest", "-q", "--co", "-p", "no:cacheprovider",
                             "tests/test_clauses.py").stdout


def test_the_doc_walks_through_the_same_steps():
    doc = DOC.read_text(encoding="utf-8")
    for step in ("grader/parts.py", "solutions/<name>.py", "grader/suites/test_<name>.py",
                 "grader/authoring/clauses.py", "python -m grader assign"):
        assert step in doc, step
    assert textwrap.dedent(PART_LINE).strip() in doc
