"""Every requirement a stub's docstring states is checked by some hidden test (grader/authoring/clauses.py).

The clauses must quote the docstrings of solutions/<part>.py (the starter
code's docstrings are copies) word for word, cover every word of them, and
name, for each requirement, hidden tests that exist. A docstring edit that
adds a promise therefore fails here until a test is named for it.
"""
import ast
import re
import pytest

from grader.authoring.clauses import CLAUSES, Note

from grader import ROOT
from grader.parts import GRADED as PARTS


def flat(text):
    return " ".join(text.split())


def docstrings(part):
    """{None: module docstring, function name: its docstring} of solutions/<part>.py, whitespace collapsed."""
    tree = ast.parse((ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8"))
    out = {None: flat(ast.get_docstring(tree) or "")}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            out[node.name] = flat(ast.get_docstring(node) or "")
    return out


def hidden_tests(part):
    tree = ast.parse((ROOT / "grader" / "suites" / f"test_{part}.py").read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


@pytest.mark.parametrize("part", PARTS)
def test_every_function_of_the_part_has_its_clauses(part):
    differ = set(CLAUSES[part]) ^ set(docstrings(part))
    assert not differ, f"grader/authoring/clauses.py and solutions/{part}.py disagree on the functions: {differ}"


@pytest.mark.parametrize("part", PARTS)
def test_the_clauses_quote_each_docstring_word_for_word_and_cover_it(part):
    for function, doc in docstrings(part).items():
        rest, position = doc, 0
        where = f"{part}.{function or '(module)'}"
        for quote, _ in CLAUSES[part][function]:
            quote = flat(quote)
            found = doc.find(quote, position)
            assert found >= 0, f"{where}: the clause {quote!r} is not in the docstring (in this order)"
            position = found + len(quote)
            rest = rest.replace(quote, " ", 1)
        leftover = re.sub(r"\b(Args|Returns):", " ", rest)
        assert not re.search(r"\w", leftover), \
            f"{where}: words of the docstring that no clause quotes: {flat(leftover)!r}; add them to grader/authoring/clauses.py"


@pytest.mark.parametrize("part", PARTS)
def test_every_requirement_names_hidden_tests_that_exist(part):
    tests = hidden_tests(part)
    for function, clauses in CLAUSES[part].items():
        for quote, checked_by in clauses:
            where = f"{part}.{function or '(module)'}: {quote!r}"
            if isinstance(checked_by, Note):
                assert checked_by.strip(), f"{where}: a note must say why the clause asks for nothing"
                continue
            assert isinstance(checked_by, tuple) and checked_by, f"{where}: no hidden test checks this clause"
            unknown = [t for t in checked_by if t not in tests]
            assert not unknown, f"{where}: no test named {unknown} in grader/suites/test_{part}.py"


def test_notes_are_the_exception():
    """Most clauses are requirements: a clause list made of notes would pass the tests above."""
    kinds = [isinstance(c, Note) for part in PARTS for clauses in CLAUSES[part].values() for _, c in clauses]
    assert sum(not k for k in kinds) >= 2 * sum(kinds), (sum(kinds), len(kinds))
