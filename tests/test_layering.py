"""The kit's layers and the rules their imports follow (README.md, "Layout"), read from the source
with ast: every `import` and `from ... import` statement, at any depth (an import inside a function
counts too).

    registry   grader/__init__.py (ROOT), grader/parts.py       nothing of the kit
    sandbox    grader/sandbox/                                   nothing of the kit outside itself
    tooling    tooling/ (the student tooling, feedback, probes)  nothing of the kit outside itself
    engine     grader/engine/                                    sandbox, tooling, registry, solutions/
    suites     grader/suites/ (the hidden suites)                engine, tooling, registry
    instructor grader/instructor/, platforms grader/platforms/  engine and what it may import, catalog/
    authoring  grader/authoring/                                 anything of the kit
    cli        grader/__main__.py                                engine (other commands by name, lazily)

and nothing imports the authoring code.
"""
import ast
import sys
from pathlib import Path

import pytest

from grader import ROOT

ALLOWED = {
    "registry": set(),
    "sandbox": set(),
    "tooling": set(),
    "solutions": set(),
    "engine": {"registry", "sandbox", "tooling", "solutions"},
    "suites": {"registry", "engine", "tooling"},
    "instructor": {"registry", "engine", "sandbox", "tooling", "catalog", "solutions"},
    "platforms": {"registry", "engine", "sandbox", "tooling", "solutions"},
    "authoring": {"registry", "engine", "sandbox", "tooling", "suites", "instructor", "platforms", "catalog",
                  "solutions"},
    "cli": {"registry", "engine", "sandbox"},
    "catalog": {"registry"},
}
SOURCES = ("grader", "tooling", "solutions", "catalog")


def layer(module):
    """The layer of a dotted module name of the kit, or None for anything else (numpy, the stdlib)."""
    parts = module.split(".")
    if parts[0] == "grader":
        if len(parts) == 1 or parts[1] == "parts" or not (
                (ROOT / "grader" / parts[1]).is_dir() or (ROOT / "grader" / f"{parts[1]}.py").is_file()):
            return "registry"                 # grader/__init__.py (ROOT) and grader/parts.py
        if parts[1] == "__main__":
            return "cli"
        if parts[1] == "examples":
            return "examples"
        return parts[1]                       # sandbox, engine, suites, instructor, platforms, authoring
    return parts[0] if parts[0] in ("tooling", "solutions", "catalog") else None


def module_of(path):
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """[(line, dotted module imported)] of every import statement in `path`, relative ones resolved."""
    module = module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                if node.module:
                    found.append((node.lineno, target))
                else:
                    found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def kit_files():
    files = []
    for top in SOURCES:
        files += [p for p in sorted((ROOT / top).rglob("*.py")) if "__pycache__" not in p.parts]
    return files


def violations():
    found = []
    for path in kit_files():
        own = layer(module_of(path))
        if own in ("examples", None) or path.parts[-2:-1] == ("alternatives",):
            continue                          # the bundled submissions: student code, not the kit
        for line, target in imports(path):
            other = layer(target)
            if other is None or other == own:
                continue
            if own == "tooling" and target == "tooling.mlp":
                continue                      # train.py's `from . import mlp`: the student's module in the handout
            if other == "authoring":
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target}: nothing imports the authoring code")
            elif other not in ALLOWED[own]:
                found.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {target} ({other}); "
                             f"{own} may import {', '.join(sorted(ALLOWED[own])) or 'nothing of the kit'}")
    return found


def test_every_import_follows_the_layering():
    problems = violations()
    assert not problems, "\n".join(problems)


def test_every_source_file_has_a_layer():
    unknown = [str(p.relative_to(ROOT)) for p in kit_files()
               if layer(module_of(p)) not in (*ALLOWED, "examples")]
    assert not unknown, unknown


@pytest.mark.parametrize("source, target, problem", [
    ("grader/sandbox/x.py", "from ..engine import grade\n", "(sandbox) imports grader.engine"),
    ("grader/engine/x.py", "def f():\n    from grader.authoring import assign\n", "nothing imports the authoring"),
    ("grader/engine/x.py", "from ..instructor import report\n", "(engine) imports grader.instructor"),
    ("tooling/x.py", "import grader.parts\n", "(tooling) imports grader.parts"),
])
def test_a_wrong_import_is_named(tmp_path, monkeypatch, source, target, problem):
    """The rule test sees relative imports and imports inside functions."""
    for sub in ("sandbox", "engine", "authoring", "instructor"):
        (tmp_path / "grader" / sub).mkdir(parents=True)
    fake = tmp_path / source
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(target, encoding="utf-8")
    here = sys.modules[__name__]
    monkeypatch.setattr(here, "ROOT", tmp_path)
    monkeypatch.setattr(here, "SOURCES", (Path(source).parts[0],))
    assert any(problem in v for v in violations()), violations()


def test_the_readme_draws_the_layering():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("sandbox", "engine", "suites", "authoring", "instructor", "platforms", "tooling", "parts.py"):
        assert name in text.split("## Layout", 1)[1].split("\n## ", 1)[0], name
