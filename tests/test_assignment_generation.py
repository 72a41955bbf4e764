"""assignment/ is generated from solutions/ and never edited by hand."""
import re

import pytest

from grader import assign
from grader.assign import MarkerError, solution_lines, stub

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
    for part in ("activations", "logistic_regression", "two_layer_net", "mlp"):
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
    for name, text in assign.generate().items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert assign.drift(target=tmp_path) == []
    (tmp_path / "mlp.py").write_text((tmp_path / "mlp.py").read_text() + "# edited by hand\n")
    (tmp_path / "extra.py").write_text("")
    (tmp_path / "public_tests" / "mlp.json").write_text("{}")
    problems = assign.drift(target=tmp_path)
    assert any("mlp.py" in p for p in problems) and any("extra.py" in p for p in problems)
    assert any("public_tests/mlp.json" in p for p in problems)


def test_public_cases_ship_numbers_not_code():
    """The public cases are data: no grader or solution source goes to students."""
    from grader.redact import Redactor
    redactor = Redactor.default()
    for path in sorted((ASSIGNMENT / "public_tests").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert not redactor.leaks(text), path.name
        assert "def " not in text and "import " not in text
