"""A slip costs once: the rule the README and the handout state, measured on graded bugs.

A bug in one function loses at most the points of the tests aimed at that function (the tests its
clauses name in grader/authoring/clauses.py, the module's own clauses included) plus SLIP_CAP. The
rest of a part's tests must not charge it again: downstream tests accept harmless representations
of what they consume, and the tests marked `consumes` run on the reference's functions where the
student's failed their own tests (grader/suites/conftest.py _stand_ins).

tests/test_catalog.py holds every catalog bug to the rule; `python -m grader slips DIR` holds the
bugs and generated mutants graded by `python -m grader mutants --out DIR` to it (`make mutants`
runs both).
"""
import ast
import json
import re
import sys
from pathlib import Path

from catalog.bugs import BUGS

from .. import ROOT
from ..engine.results import SubmissionResult
from ..parts import GRADED
from .clauses import CLAUSES, Note

SLIP_CAP = 2.0      # points; measured on the catalog and the generated mutants at issue 19: worst 1.5


def edited_functions(part, edits):
    """The functions of solutions/<part>.py that `edits` ((old, new) text pairs) change (None: module level)."""
    source = (ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")
    spans = [(n.name, n.lineno, n.end_lineno) for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    found = set()
    for old, _ in edits:
        first = source[:source.index(old)].count("\n") + 1
        last = first + old.count("\n")
        found |= {name for name, a, b in spans if a <= last and first <= b} or {None}
    return found


def aimed_tests(part, functions):
    """The hidden test functions that the clauses of `functions` (and the module's own) name."""
    tests = set()
    for function in {None, *functions}:
        for _, checked_by in CLAUSES[part].get(function, ()):
            if not isinstance(checked_by, Note):
                tests.update(checked_by)
    return tests


def suite_function_of(part):
    """A lookup: a result's test name ("<part>: <title>") -> the test function of the part's suite, read
    off the suite's docstrings ({key} in a title matches a parameter); None if no title matches."""
    tree = ast.parse((ROOT / "grader" / "suites" / f"test_{part}.py").read_text(encoding="utf-8"))
    patterns = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            title = (ast.get_docstring(node) or "").strip().splitlines()[0]
            patterns.append((re.compile("^" + re.sub(r"\\\{\w+\\\}", ".+", re.escape(title)) + "$"), node.name))

    def lookup(name):
        title = name.split(": ", 1)[1]
        return next((fn for pattern, fn in patterns if pattern.match(title)), None)
    return lookup


def beyond_aimed(part, functions, result, lookup=None):
    """{test name: points lost} for the tests of `part` in `result` (a results.json dict) that lost points
    and are not aimed at `functions`."""
    lookup = lookup or suite_function_of(part)
    aimed = aimed_tests(part, functions)
    return {t.name: t.lost for t in SubmissionResult.from_json(result).tests_of(part)
            if t.lost > 0 and lookup(t.name) not in aimed}


def _graded(folder):
    """(part, bug name, edited functions, results.json dict) for each bug graded under `folder`, the --out
    folder of `python -m grader mutants` (catalog/<part>/<bug>/ and generated/<part>/<mutant>/)."""
    catalog = {bug.name: bug for bug in BUGS}
    for kind in ("catalog", "generated"):
        for part in GRADED:
            for path in sorted((folder / kind / part).glob("*/results.json")):
                name = path.parent.name
                if kind == "catalog":
                    if name not in catalog:
                        continue
                    functions = edited_functions(part, catalog[name].edits)
                else:           # gen_<part>__<function>__<operator>__<hash> (catalog/generated.py)
                    functions = {name.split("__")[1]}
                yield part, name, functions, json.loads(path.read_text(encoding="utf-8"))


def check(folder, cap=SLIP_CAP):
    """[(points beyond, part, bug name, {test: points})] for every graded bug of `folder`, worst first."""
    lookups = {part: suite_function_of(part) for part in GRADED}
    rows = []
    for part, name, functions, result in _graded(Path(folder)):
        beyond = beyond_aimed(part, functions, result, lookups[part])
        rows.append((sum(beyond.values()), part, name, beyond))
    return sorted(rows, key=lambda r: (-r[0], r[1], r[2]))


def configure(parser):
    parser.add_argument("folder", help="the --out folder of python -m grader mutants")
    parser.add_argument("--cap", type=float, default=SLIP_CAP,
                        help=f"points a bug may lose beyond its function's tests (default: {SLIP_CAP:g})")


def command(args):
    """`python -m grader slips DIR`: exit 1 if a graded bug costs more than the cap beyond its function's tests."""
    rows = check(args.folder, args.cap)
    if not rows:
        print(f"error: no graded bugs under {args.folder} (python -m grader mutants --out {args.folder})",
              file=sys.stderr)
        return 2
    over = [r for r in rows if r[0] > args.cap]
    print(f"a slip costs once: {len(rows)} graded bug(s), {len(over)} losing more than {args.cap:g} point(s) "
          f"beyond the tests aimed at the function they break (worst: {rows[0][0]:g})")
    for lost, part, name, beyond in over:
        print(f"OVER  {part}/{name}: {lost:g} in " + "; ".join(f"'{t}' {p:g}" for t, p in beyond.items()))
    return 1 if over else 0

