"""Generate the student starter code (``assignment/``) from ``solutions/``.

``solutions/*.py`` is the single source. Inside a function, the lines between

    # BEGIN SOLUTION
    # TODO: what to compute (kept, with any ``#   `` continuation lines)
    ...reference code...
    # END SOLUTION

become the TODO comment followed by ``raise NotImplementedError(...)``.
Files without markers (the gradient-check helper, the data loader, the
checks and the public-test runner) are copied unchanged, the public test
cases are written to ``assignment/public_tests/`` (grader.public), and the
notebook handout to ``assignment/mlp_backprop.ipynb`` (grader.notebook). ``python -m grader assign --check`` exits 1 when the committed
``assignment/`` differs from what this would write.

Text is compared exactly. The public tests' numbers are compared within a
stated tolerance (NUMBER_ATOL, NUMBER_RTOL): they come from float64 arithmetic
whose last bits depend on the machine, so the committed copy, written on one
machine, must count as up to date on every other.
"""
import argparse
import difflib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "solutions"
TARGET = ROOT / "assignment"

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^(?P<indent>[ \t]*)# END SOLUTION\s*$")
DEF = re.compile(r"^[ \t]*def (?P<name>\w+)\(")
# assignment/Makefile: `make check` and the other targets from inside assignment/ (they run one folder up).
MAKEFILE = ROOT / "grader" / "templates" / "handout" / "assignment-Makefile"

PACKAGE_DOC = '''"""Starter code for the MLP and backpropagation assignment.

Fill in every ``TODO`` in activations.py, logistic_regression.py,
two_layer_net.py and mlp.py (warmup.py is an ungraded warm-up). Check your
backward passes with gradient_check.py; load the data with datasets.py.
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


class MarkerError(ValueError):
    """The solution markers in a source file are malformed."""


def solution_blocks(text):
    """Yield (begin, end, indent, function) for every marked block.

    `begin` and `end` are 0-based line indices of the two marker lines.
    """
    lines = text.splitlines()
    function = None
    begin = None
    for i, line in enumerate(lines):
        m = DEF.match(line)
        if m and begin is None:
            function = m.group("name")
        if BEGIN.match(line):
            if begin is not None:
                raise MarkerError(f"line {i + 1}: BEGIN SOLUTION inside another block")
            begin, indent = i, BEGIN.match(line).group("indent")
            if not indent:
                raise MarkerError(f"line {i + 1}: solution blocks must be inside a function")
        elif END.match(line):
            if begin is None:
                raise MarkerError(f"line {i + 1}: END SOLUTION without BEGIN")
            if END.match(line).group("indent") != indent:
                raise MarkerError(f"line {i + 1}: END SOLUTION indented differently from its BEGIN")
            yield begin, i, indent, function
            begin = None
    if begin is not None:
        raise MarkerError(f"line {begin + 1}: BEGIN SOLUTION is never closed")


def stub(text, module):
    """Return the starter version of a solution file's text."""
    lines = text.splitlines()
    out = []
    last = 0
    for begin, end, indent, function in solution_blocks(text):
        out.extend(lines[last:begin])
        todo = []
        for line in lines[begin + 1:end]:
            stripped = line.strip()
            if stripped.startswith("# TODO") or (todo and stripped.startswith("#  ")):
                todo.append(line)
            else:
                break
        if not todo:
            raise MarkerError(f"{module}.{function}: the block needs a '# TODO: ...' line first")
        out.extend(todo)
        out.append(f'{indent}raise NotImplementedError("TODO: {module}.{function}")')
        last = end + 1
    out.extend(lines[last:])
    return "\n".join(out) + "\n"


def solution_lines(text):
    """The code lines inside solution blocks (TODO comments excluded)."""
    lines = text.splitlines()
    code = []
    for begin, end, _, _ in solution_blocks(text):
        for line in lines[begin + 1:end]:
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                code.append(stripped)
    return code


def hidden_counts():
    """part -> {"tests", "points"} of each hidden suite (collected by a judge process)."""
    import tempfile

    from .grade import collected_tests
    from .sandbox.client import Limits
    from .sandbox.stage import PARTS
    from concurrent.futures import ThreadPoolExecutor
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=4) as pool:
        collected = pool.map(lambda part: collected_tests(part, Limits(), tmp), PARTS)
        return {part: {"tests": len(tests), "points": sum(t["max_score"] for t in tests)}
                for part, tests in zip(PARTS, collected)}


def generate(source=SOURCE, public=True):
    """Map each assignment file (relative path) to its generated text: the
    starter modules, and (public=True) the public test cases."""
    files = {}
    for path in sorted(source.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name == "__init__.py":
            files[path.name] = PACKAGE_DOC
        else:
            files[path.name] = stub(text, path.stem)
    if public:
        from .public import build
        for part, text in build(hidden_counts()).items():
            files[f"public_tests/{part}.json"] = text
    from . import notebook
    files[notebook.NAME] = notebook.text()
    files["Makefile"] = MAKEFILE.read_text(encoding="utf-8")
    return files


def _generated_paths(target):
    return sorted(list(target.glob("*.py")) + list(target.glob("*.ipynb")) + list(target.glob("public_tests/*.json"))
                  + list(target.glob("Makefile")))


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
        return (f"assignment/{name}: {len(found)} number(s) differ from the generator beyond the tolerance "
                f"({NUMBER_ATOL:g} + {NUMBER_RTOL:g} * |value|), the most at {where}: generated {g!r}, "
                f"committed {c!r}")
    diff = difflib.unified_diff(generated.splitlines(), committed.splitlines(),
                                f"generated/{name}", f"assignment/{name}", lineterm="", n=1)
    return "\n".join(list(diff)[:40])


def write(target=TARGET, source=SOURCE):
    """Write the generated files into `target`. A file that is already the same up to the
    numbers' tolerance is left as it is: regenerating on another machine changes nothing
    that does not need to change."""
    target.mkdir(exist_ok=True)
    files = generate(source)
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and same_content(name, text, path.read_text(encoding="utf-8")):
            continue
        path.write_text(text, encoding="utf-8")
    for stale in _generated_paths(target):
        if stale.relative_to(target).as_posix() not in files:
            stale.unlink()
    return sorted(files)


def drift(target=TARGET, source=SOURCE, public=True):
    """A list of human-readable differences between `target` and a fresh generation
    (text exactly, the public tests' numbers within NUMBER_ATOL + NUMBER_RTOL * |value|)."""
    problems = []
    files = generate(source, public)
    for name, text in files.items():
        path = target / name
        if not path.exists():
            problems.append(f"assignment/{name} is missing")
            continue
        have = path.read_text(encoding="utf-8")
        if not same_content(name, text, have):
            problems.append(_describe(name, text, have))
    for path in _generated_paths(target):
        name = path.relative_to(target).as_posix()
        if name not in files and (public or not name.startswith("public_tests/")):
            problems.append(f"assignment/{name} has no source in solutions/")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader assign", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift()
        for p in problems:
            print(p)
        print("assignment/ is up to date" if not problems else
              f"assignment/ differs from solutions/ in {len(problems)} place(s): run `make assignment`")
        return 1 if problems else 0
    names = write()
    print(f"wrote {len(names)} files to assignment/: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
