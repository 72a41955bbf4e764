"""The hidden suites themselves: points, titles, coverage of the contract, visibility."""
import ast
import functools
import re

import pytest

from grader.engine.grade import collected_tests
from grader.sandbox.client import Limits
from grader import ROOT
from grader.parts import GRADED as PARTS
from grader.parts import PARTS as REGISTRY

POINTS = {p.name: p.points for p in REGISTRY if p.graded}


def backward_and_fit(part):
    """The functions of solutions/<part>.py that need a gradient check: each *backward and fit."""
    tree = ast.parse((ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
            and (n.name.endswith("backward") or n.name == "fit")]


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    work = tmp_path_factory.mktemp("collect")
    return {part: collected_tests(part, Limits(), work) for part in PARTS}


def test_points_add_up_to_the_registrys(suites):
    for part, tests in suites.items():
        assert sum(t["max_score"] for t in tests) == POINTS[part], part
        assert all(t["max_score"] > 0 for t in tests)


def test_titles_name_their_part_and_are_unique(suites):
    names = [t["name"] for tests in suites.values() for t in tests]
    assert len(names) == len(set(names))
    for part, tests in suites.items():
        assert all(t["name"].startswith(f"{part}: ") for t in tests)
        assert all("{" not in t["name"] for t in tests), "unformatted title placeholder"


def test_every_part_has_public_tests(suites):
    for part, tests in suites.items():
        functions = suite_functions(part)
        public = sum(("public" in marks) * max(len(params), 1) + sum("public" in p for p in params)
                     for marks, params in functions.values())
        assert 3 <= public < len(tests), part


@pytest.mark.parametrize("part, function", [(p, f) for p in PARTS for f in backward_and_fit(p)])
def test_every_backward_and_fit_has_a_gradient_check(suites, part, function):
    """A finite-difference check per backward, and a gradient-step check per fit."""
    pattern = re.compile(rf"\b{function}\b.*(finite differences|gradient.*step|step.*gradient)")
    assert any(pattern.search(t["name"]) for t in suites[part]), (part, function)


def test_per_tensor_gradient_checks(suites):
    names = {t["name"] for t in suites["two_layer_net"] + suites["mlp"]}
    for key in ("W1", "b1", "W2", "b2"):
        assert f"two_layer_net: backward matches finite differences ({key})" in names
    for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
        assert f"mlp: backward matches finite differences ({key})" in names
    assert any("784-128-256-10" in n and "directional" in n for n in names)


# -- who sees what, and when (issue 12) ---------------------------------------------------
@functools.lru_cache(maxsize=None)
def suite_functions(part):
    """{test function name: (function marks, [per-parameter marks])} of grader/suites/test_<part>.py
    (imported here, not collected: its marks are registered by the suites' own conftest)."""
    import importlib.util
    import warnings
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "grader" / "suites" / f"test_{part}.py"
    spec = importlib.util.spec_from_file_location(f"_suite_{part}", path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        spec.loader.exec_module(module)
    out = {}
    for name, fn in vars(module).items():
        if name.startswith("test_") and callable(fn):
            marks = list(getattr(fn, "pytestmark", []))
            params = [list(getattr(v, "marks", ())) for m in marks if m.name == "parametrize" for v in m.args[1]]
            out[name] = ({m.name for m in marks}, [{m.name for m in p} for p in params])
    return out


def public_titles(part):
    import json
    from pathlib import Path
    cases = Path(__file__).resolve().parent.parent / "assignment" / "public_tests" / f"{part}.json"
    return {c["title"] for c in json.loads(cases.read_text(encoding="utf-8"))["cases"]}


@pytest.mark.parametrize("part", PARTS)
def test_every_hidden_test_says_how_its_failure_is_explained(part):
    """Each hidden test is public, names the public cases that cover its topic (covered_by), or is
    marked visible (its message is shown as soon as grading ends): decided per test, next to it."""
    decisions = {"public", "covered_by", "visible"}
    for name, (marks, params) in suite_functions(part).items():
        if marks & decisions:
            assert len(marks & decisions) == 1 or marks & decisions == {"public"}, (name, marks)
            continue
        assert params and all(len(p & decisions) == 1 for p in params), \
            f"{part}: {name} declares neither @pytest.mark.covered_by(public case) nor @pytest.mark.visible"


def test_covered_by_names_public_cases_and_sets_the_visibility(suites):
    for part, tests in suites.items():
        titles = public_titles(part)
        for t in tests:
            unknown = [c for c in t["covered_by"] if c not in titles]
            assert not unknown, f"{t['name']}: covered_by names no public case of {part}: {unknown}"
            assert t["visibility"] == ("after_published" if t["covered_by"] else "visible"), t
        covered = sum(bool(t["covered_by"]) for t in tests)
        assert 0 < covered < len(tests), part


_EXAMPLES = '''
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])
    import literals  # noqa: F401 -- a module of the kind hypothesis calls local, full of numbers
import conftest  # noqa: F401 -- the suites' hypothesis profile, as a judge loads it
from hypothesis import given, settings, strategies as st
seen = []
@settings(max_examples=200)
@given(st.floats(-1e4, 1e4), st.integers(-10**6, 10**6))
def prop(x, n):
    seen.append((x, n))
prop()
print(repr(seen))
'''


def test_a_property_tests_examples_do_not_depend_on_the_numbers_in_local_modules(tmp_path):
    """Hypothesis draws now and then the literals of the "local" modules a process has loaded (the kit's own,
    in a judge, unless the kit lies under a folder named tests): the suites' profile turns that off, so a
    submission's examples do not depend on where the kit lies or on what its modules say."""
    import subprocess
    import sys
    local = tmp_path / "local"
    local.mkdir()
    (local / "literals.py").write_text("VALUES = [1234.5678, -9876.125, 4242.0, 0.3125, 424242, -131313]\n")
    script = tmp_path / "examples.py"
    script.write_text(_EXAMPLES)
    suites = ROOT / "grader" / "suites"
    runs = [subprocess.run([sys.executable, str(script), str(ROOT), str(suites), *extra], capture_output=True,
                           text=True, cwd=tmp_path, check=True).stdout for extra in ([], [str(local)])]
    assert runs[0] == runs[1] and len(ast.literal_eval(runs[0])) == 200
    assert not (tmp_path / ".hypothesis" / "constants").exists()
