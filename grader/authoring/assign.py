"""Generate what derives from the sources: `python -m grader assign` (`make assignment`).

A chain of small steps, each giving {path under the kit's root: text}:

- starter: assignment/<part>.py from solutions/<part>.py, each marked block a
  TODO stub (grader/engine/markers.py), and the package's __init__.py;
- tooling: the student tooling of tooling/, copied as it is, and
  assignment/parts.json, the parts it reads (grader/parts.py) and the
  grader's Python (grader_python());
- public tests: assignment/public_tests/<part>.json, recorded from the public
  checks of the suites (grader/authoring/public_tests.py);
- notebook: assignment/mlp_backprop.ipynb (grader/authoring/notebook.py), and
  the assignment's Makefile;
- examples: the partly correct example, grader/examples/partial/
  (grader/authoring/examples.py);
- tables: the parts tables of README.md and of the handout's README, between
  their `parts` markers (grader/authoring/tables.py).

Nobody edits these files: `python -m grader assign --check` (and the drift
test) exits 1 when a committed one differs from what this writes. Text is
compared exactly. The public tests' numbers are compared within a stated
tolerance (NUMBER_ATOL, NUMBER_RTOL): they come from float64 arithmetic whose
last bits depend on the machine, so the committed copy, written on one
machine, must count as up to date on every other.
"""
import difflib
import json
import re
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import ROOT
from ..engine.grade import collected_tests
from ..engine.markers import stub
from ..parts import PARTS, PointsMismatch, check_points
from ..sandbox.client import Limits
from . import examples, notebook, public_tests, tables

SOURCE = ROOT / "solutions"
TOOLING = ROOT / "tooling"
TARGET = ROOT / "assignment"
PACKAGE = "assignment"

# assignment/Makefile: `make check` and the other targets from inside assignment/ (they run one folder up).
MAKEFILE = ROOT / "grader" / "templates" / "handout" / "assignment-Makefile"

PACKAGE_DOC = '''"""Starter code for the MLP and backpropagation assignment.

Fill in every ``TODO`` in the graded modules (parts.json lists the parts; the
warm-up is not graded). Check your backward passes with gradient_check.py; load
the data with datasets.py; run the public tests with check.py.
"""
'''
# How far a number in public_tests/*.json may differ from what the generator
# computes here and still be "the same". The expected values come from the
# oracle's float64 arithmetic, whose rounding depends on the CPU: OpenBLAS picks
# a kernel per CPU (OPENBLAS_CORETYPE) and numpy its SIMD loops (exp, tanh), and
# the finite-difference gradients (h = 1e-6) amplify last-bit differences of the
# loss about 1e6-fold. Measured over OpenBLAS Prescott, Sandybridge, Haswell,
# SkylakeX and Zen with 1 and 2 threads, and numpy's SSE, AVX2 and AVX-512 loops
# (tests/test_blas_kernels.py): the largest difference is 2.2e-10 absolute (an
# activations gradient under SSE loops); relative differences reach 1.7e-8 only
# on entries below 1e-3, where the absolute term decides. The tolerance is
# 4.5x that absolute difference; a real change (an edited seed, formula or shape)
# moves numbers by 1e-3 or more. What the public checks compare against these
# numbers keeps its margin: tests/test_blas_kernels.py also measures each check's
# own error metric between machines (at most 1/100 of its limit) and requires the
# same verdicts on the whole catalog under every kernel.
NUMBER_ATOL = 1e-9
NUMBER_RTOL = 1e-8


def hidden_counts():
    """{part: {"tests", "points"}} of each hidden suite (collected by judge processes). A suite whose
    points are not its part's (grader/parts.py) stops the generation."""
    graded = [p for p in PARTS if p.graded]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=4) as pool:
        collected = dict(zip([p.name for p in graded],
                             pool.map(lambda p: collected_tests(p.name, Limits(), tmp), graded)))
    counts = {}
    for part in graded:
        points = sum(t["max_score"] for t in collected[part.name])
        check_points(part.name, points)              # PointsMismatch, a ValueError
        counts[part.name] = {"tests": len(collected[part.name]), "points": points}
    return counts


def starter():
    files = {f"{PACKAGE}/__init__.py": PACKAGE_DOC}
    for part in PARTS:
        files[f"{PACKAGE}/{part.module}"] = stub((SOURCE / part.module).read_text(encoding="utf-8"), part.name)
    return files


def grader_python(pyproject=ROOT / "pyproject.toml"):
    """The Python students are told they are graded with ("3.11"): the kit's stated minimum,
    pyproject.toml's requires-python, its one source. Not the Python that runs this generator: every
    way the kit grades runs that version or a newer one (make grade refuses nothing older; the
    Gradescope autograder's setup.sh installs 3.11 on Gradescope's default image, Ubuntu 22.04, or
    takes a newer Python the image has; the otter zip and the course CI template ask for it), so code
    that runs on it runs wherever it is graded, and code that needs a newer one may not."""
    spec = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["requires-python"]
    m = re.fullmatch(r"\s*>=\s*(\d+)\.(\d+)\s*", spec)
    if not m:
        raise ValueError(f"{pyproject.name}: requires-python = {spec!r}; the generator reads a minimum "
                         f"of the form \">=3.11\"")
    return f"{m.group(1)}.{m.group(2)}"


# The first line of every copy of tooling/ in the handout: students and contributors who open one learn
# where its source is (the copy is overwritten by the next `python -m grader assign`).
TOOLING_HEADER = "# Generated from tooling/{name} by `python -m grader assign`: edit tooling/{name}, not this copy.\n"


def tooling():
    files = {f"{PACKAGE}/{path.name}": TOOLING_HEADER.format(name=path.name) + path.read_text(encoding="utf-8")
             for path in sorted(TOOLING.glob("*.py")) if path.name != "__init__.py"}
    manifest = {"python": grader_python(),
                "parts": [{"name": p.name, "graded": p.graded, "imports": list(p.imports)} for p in PARTS]}
    files[f"{PACKAGE}/parts.json"] = json.dumps(manifest, indent=1) + "\n"
    return files


def public(counts=None):
    counts = hidden_counts() if counts is None else counts
    return {f"{PACKAGE}/public_tests/{part}.json": text for part, text in public_tests.build(counts).items()}


def handout_files():
    return {f"{PACKAGE}/{notebook.NAME}": notebook.text(), f"{PACKAGE}/Makefile": MAKEFILE.read_text(encoding="utf-8")}


STEPS = (starter, tooling, public, handout_files, examples.files, tables.files)


def generate(with_public_tests=True):
    """{path under the kit's root: generated text} of every generated file (with_public_tests=False leaves
    out the public tests, which need the hidden suites collected)."""
    files = {}
    for step in STEPS:
        if step is public and not with_public_tests:
            continue
        files.update(step())
    return files


# Where generated files live: a file found here that the generator does not write is stale.
GENERATED = (f"{PACKAGE}/*.py", f"{PACKAGE}/*.ipynb", f"{PACKAGE}/*.json", f"{PACKAGE}/public_tests/*.json",
             f"{PACKAGE}/Makefile", f"{examples.FOLDER}/*.py")


def _generated_paths(root):
    return sorted({p for pattern in GENERATED for p in Path(root).glob(pattern)})


def number_drift(generated, committed, path=""):
    """Where two parsed JSON documents differ: [(path, generated, committed)].

    Keys, strings, booleans, null and integers must be equal; floats within
    NUMBER_ATOL + NUMBER_RTOL * |committed|. A list of another length, or a value
    of another kind, is one difference at that path."""
    def kind(v):
        return "number" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__

    if kind(generated) != kind(committed):
        return [(path or "/", generated, committed)]
    if isinstance(generated, dict):
        if list(generated) != list(committed):
            return [(path or "/", list(generated), list(committed))]
        return [d for k in generated for d in number_drift(generated[k], committed[k], f"{path}/{k}")]
    if isinstance(generated, list):
        if len(generated) != len(committed):
            return [(path or "/", f"{len(generated)} items", f"{len(committed)} items")]
        return [d for i, (g, c) in enumerate(zip(generated, committed))
                for d in number_drift(g, c, f"{path}[{i}]")]
    if kind(generated) == "number" and (isinstance(generated, float) or isinstance(committed, float)):
        close = abs(generated - committed) <= NUMBER_ATOL + NUMBER_RTOL * abs(committed)
        return [] if close else [(path, generated, committed)]
    return [] if generated == committed else [(path or "/", generated, committed)]


def same_content(name, generated, committed):
    """Is the committed text of `name` what the generator wrote, up to the numbers' tolerance?"""
    if generated == committed:
        return True
    if not name.endswith(".json"):
        return False
    try:
        return not number_drift(json.loads(generated), json.loads(committed))
    except ValueError:
        return False


def _describe(name, generated, committed):
    """A readable account of how the committed `name` differs from the generated text."""
    found = None
    if name.endswith(".json"):
        try:
            found = number_drift(json.loads(generated), json.loads(committed))
        except ValueError:
            pass
    numbers = found and all(isinstance(g, (int, float)) and isinstance(c, (int, float)) for _, g, c in found)
    if numbers:
        where, g, c = max(found, key=lambda d: abs(d[1] - d[2]))
        return (f"{name}: {len(found)} number(s) differ from the generator beyond the tolerance "
                f"({NUMBER_ATOL:g} + {NUMBER_RTOL:g} * |value|), the most at {where}: generated {g!r}, "
                f"committed {c!r}")
    diff = difflib.unified_diff(generated.splitlines(), committed.splitlines(),
                                f"generated/{name}", name, lineterm="", n=1)
    return "\n".join(list(diff)[:40])


def write(root=ROOT):
    """Write the generated files under `root`. A file that is already the same up to the numbers'
    tolerance is left as it is: regenerating on another machine changes nothing that does not need to
    change. Stale generated files (a part removed) are deleted. Returns the paths written or kept."""
    files = generate()
    for name, text in files.items():
        path = Path(root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and same_content(name, text, path.read_text(encoding="utf-8")):
            continue
        path.write_text(text, encoding="utf-8")
    for stale in _generated_paths(root):
        if stale.relative_to(root).as_posix() not in files:
            stale.unlink()
    return sorted(files)


def drift(root=ROOT, with_public_tests=True):
    """A list of human-readable differences between the generated files under `root` and a fresh
    generation (text exactly, the public tests' numbers within NUMBER_ATOL + NUMBER_RTOL * |value|)."""
    problems = []
    files = generate(with_public_tests)
    for name, text in files.items():
        path = Path(root) / name
        if not path.exists():
            problems.append(f"{name} is missing")
            continue
        have = path.read_text(encoding="utf-8")
        if not same_content(name, text, have):
            problems.append(_describe(name, text, have))
    for path in _generated_paths(root):
        name = path.relative_to(root).as_posix()
        if name not in files and (with_public_tests or "/public_tests/" not in name):
            problems.append(f"{name} is generated by nothing (a part was removed?): delete it, or run "
                            f"`python -m grader assign`")
    return problems


def configure(parser):
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")


def command(args):
    """`python -m grader assign [--check]`."""
    import sys
    try:
        return _command(args)
    except PointsMismatch as exc:           # nothing written: the tables would state points no grading gives
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _command(args):
    if args.check:
        problems = drift()
        for p in problems:
            print(p)
        print("the generated files are up to date" if not problems else
              f"{len(problems)} generated file(s) differ from their sources: run `make assignment`")
        return 1 if problems else 0
    names = write()
    print(f"wrote {len(names)} generated files (assignment/, {examples.FOLDER}/, the READMEs' parts tables)")
    return 0
