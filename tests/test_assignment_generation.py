"""assignment/ is generated from solutions/ and never edited by hand."""
import json
import re

import pytest

from grader.authoring import assign
from grader.engine.markers import MarkerError, solution_lines, stub
from grader.parts import GRADED

SOLUTIONS = assign.SOURCE
ASSIGNMENT = assign.TARGET


def test_committed_assignment_matches_generator():
    problems = assign.drift()
    assert not problems, "assignment/ is stale; run `make assignment`:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.py")), ids=lambda p: p.name)
def test_no_solution_code_in_assignment(path):
    """No line of code from inside the solution markers appears in the starter."""
    generated = (ASSIGNMENT / path.name).read_text(encoding="utf-8")
    normalized = {re.sub(r"\s+", "", line) for line in generated.splitlines()}
    text = re.sub(r"\s+", "", generated)
    for line in solution_lines(path.read_text(encoding="utf-8")):
        compact = re.sub(r"\s+", "", line)
        if len(compact) < 12:
            continue  # `return out`, `b = 0.0`: too short to reveal anything
        assert compact not in normalized and compact not in text, f"{path.name}: leaks {line!r}"
    assert "BEGIN SOLUTION" not in generated and "END SOLUTION" not in generated


def test_every_graded_function_is_a_stub():
    for part in GRADED:
        text = (ASSIGNMENT / f"{part}.py").read_text(encoding="utf-8")
        functions = re.findall(r"^def (\w+)\(", text, re.M)
        stubs = re.findall(r'raise NotImplementedError\("TODO: \w+\.(\w+)"\)', text)
        assert functions and sorted(functions) == sorted(stubs), part
        assert text.count("# TODO") >= len(functions)


def test_stub_replaces_block_with_todo_and_raise():
    source = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    # BEGIN SOLUTION\n    # TODO: double x.\n"
              "    #   (continued)\n    y = 2 * x\n    return y\n    # END SOLUTION\n")
    assert stub(source, "m") == ("def f(x):\n    \"\"\"Doc.\"\"\"\n    # TODO: double x.\n    #   (continued)\n"
                                 "    raise NotImplementedError(\"TODO: m.f\")\n")


@pytest.mark.parametrize("source, problem", [
    ("def f():\n    # BEGIN SOLUTION\n    # TODO: x\n    pass\n", "never closed"),
    ("def f():\n    pass\n    # END SOLUTION\n", "without BEGIN"),
    ("# BEGIN SOLUTION\n# TODO: x\nx = 1\n# END SOLUTION\n", "inside a function"),
    ("def f():\n    # BEGIN SOLUTION\n    pass\n    # END SOLUTION\n", "TODO"),
    ("def f():\n    # BEGIN SOLUTION\n    # TODO: a\n      # END SOLUTION\n", "indented differently"),
])
def test_malformed_markers_are_rejected(source, problem):
    with pytest.raises(MarkerError, match=problem):
        stub(source, "m")


def test_drift_is_detected(tmp_path):
    root = _generated_copy(tmp_path)
    assert assign.drift(root=root) == []
    target = root / "assignment"
    (target / "mlp.py").write_text((target / "mlp.py").read_text() + "# edited by hand\n")
    (target / "extra.py").write_text("")
    (target / "public_tests" / "mlp.json").write_text("{}")
    (root / "grader" / "examples" / "partial" / "mlp.py").write_text("# edited by hand\n")
    problems = assign.drift(root=root)
    assert any("assignment/mlp.py" in p for p in problems) and any("extra.py" in p for p in problems)
    assert any("public_tests/mlp.json" in p for p in problems)
    assert any("grader/examples/partial/mlp.py" in p for p in problems)


def test_public_cases_ship_numbers_not_code():
    """The public cases are data: no grader or solution source goes to students."""
    from grader.engine.redact import Redactor
    redactor = Redactor.default()
    for path in sorted((ASSIGNMENT / "public_tests").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert not redactor.leaks(text), path.name
        assert "def " not in text and "import " not in text


def _generated_copy(tmp_path):
    """A root holding every generated file (assignment/, the partial example, the READMEs)."""
    for name, text in assign.generate().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _nudge_first_float(path, factor):
    """Multiply the first non-integral number of a public-tests file by `factor`; return (old, new)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, float) and v != int(v) and not found:
                    node[k] = v * factor
                    found.append((v, node[k]))
                walk(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, float) and v != int(v) and not found:
                    node[i] = v * factor
                    found.append((v, node[i]))
                walk(v)
    walk(doc)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return found[0]


def test_machine_rounding_in_the_numbers_is_not_drift(tmp_path):
    """Numbers that differ in their last bits (another CPU's BLAS) count as the same; text does not."""
    target = _generated_copy(tmp_path) / "assignment"
    old, new = _nudge_first_float(target / "public_tests" / "two_layer_net.json", 1 + 1e-12)
    assert old != new
    assert assign.drift(root=target.parent) == []


def test_a_real_change_in_the_numbers_is_drift_and_named(tmp_path):
    """A number off by a millionth (an edited seed or formula, never rounding) is stale, with where and by how much."""
    target = _generated_copy(tmp_path) / "assignment"
    old, new = _nudge_first_float(target / "public_tests" / "mlp.json", 1 + 1e-6)
    problems = assign.drift(root=target.parent)
    assert len(problems) == 1 and "assignment/public_tests/mlp.json: 1 number(s) differ" in problems[0], problems
    assert repr(new) in problems[0] and "/cases[" in problems[0]


@pytest.mark.parametrize("edit", ["title", "integer", "shape"])
def test_text_integers_and_shapes_in_the_public_tests_compare_exactly(tmp_path, edit):
    target = _generated_copy(tmp_path) / "assignment"
    path = target / "public_tests" / "activations.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    if edit == "title":
        doc["cases"][0]["title"] += " "
    elif edit == "integer":
        doc["hidden"]["tests"] += 1
    else:
        doc["cases"][0]["data"]["args"]["__tuple__"][0]["shape"] = [10]
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert any("public_tests/activations.json" in p for p in assign.drift(root=target.parent))


def test_regenerating_leaves_files_that_differ_only_by_rounding(tmp_path):
    """make assignment on another machine rewrites nothing that is up to date (no churn in git)."""
    target = _generated_copy(tmp_path) / "assignment"
    path = target / "public_tests" / "logistic_regression.json"
    _nudge_first_float(path, 1 + 1e-12)
    nudged = path.read_text(encoding="utf-8")
    assign.write(root=target.parent)
    assert path.read_text(encoding="utf-8") == nudged
    _nudge_first_float(path, 1 + 1e-3)
    assign.write(root=target.parent)
    assert path.read_text(encoding="utf-8") == assign.generate()["assignment/public_tests/logistic_regression.json"]


def test_every_copy_of_tooling_says_where_its_source_is():
    """The handout's copies of tooling/ open with a line that names their source and the command that wrote
    them, and are otherwise the source as it is (the starter modules, which students edit, carry none)."""
    files = assign.generate(with_public_tests=False)
    copies = {path: text for path, text in files.items()
              if path.startswith(f"{assign.PACKAGE}/") and path.split("/", 1)[1] != "__init__.py"
              and (assign.TOOLING / path.split("/", 1)[1]).exists()}
    assert len(copies) == len([p for p in assign.TOOLING.glob("*.py") if p.name != "__init__.py"]), sorted(copies)
    for path, text in copies.items():
        name = path.split("/", 1)[1]
        first, rest = text.split("\n", 1)
        assert first == f"# Generated from tooling/{name} by `python -m grader assign`: edit tooling/{name}, not " \
                        f"this copy.", (path, first)
        assert rest == (assign.TOOLING / name).read_text(encoding="utf-8"), path
    for part in GRADED:
        assert not files[f"{assign.PACKAGE}/{part}.py"].startswith("# Generated"), part
