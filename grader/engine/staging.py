"""Build the package a worker imports: the student's module for one part, and
nothing of the reference.

Grading part P with the student's P resolves every other part P may import
(`from .activations import relu`, grader/parts.py's `imports`) to the
reference, so a bug in activations.py cannot cost points in two_layer_net or
mlp (no double jeopardy). The reference never enters the worker: those
modules are stubs the worker makes, and each call to them is computed by the
judge (reference_functions). The handout's public helpers (PLAIN) are copied
as they are.

The sandbox gets from here only "import this package's module X; these
modules are served remotely": it knows nothing of the parts.
"""
import ast
import importlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from .. import ROOT
from ..parts import part as part_named

SOLUTIONS = ROOT / "solutions"
TOOLING = ROOT / "tooling"
PLAIN = ("gradient_check", "datasets")  # handed to students anyway: copied into every package


def public_functions(module: str) -> list[str]:
    """The names of the public functions the reference `module` defines (read, never imported)."""
    tree = ast.parse((SOLUTIONS / f"{module}.py").read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


def reference_functions(part: str) -> dict[str, dict[str, Callable]]:
    """{module: {name: function}}: the reference of every part `part` may import, run by the judge
    (trusted) whenever the student's module calls it."""
    return {module: {name: getattr(importlib.import_module(f"solutions.{module}"), name)
                     for name in public_functions(module)} for module in part_named(part).imports}


def own_reference(part: str, names) -> dict[str, Callable]:
    """{name: function}: the reference of `part`'s own functions `names`, which the judge computes in the
    student's place when those functions failed their own tests (StudentModule.stand_in)."""
    module = importlib.import_module(f"solutions.{part}")
    return {name: getattr(module, name) for name in names}


def stage_package(part: str, student_file: str | os.PathLike | None, dest: str | os.PathLike,
                  own: dict[str, str] | None = None) -> Path:
    """Write dest/assignment/ for grading `part` with `student_file`; returns dest.

    `student_file` may be None (nothing submitted): the package then lacks
    the module, and importing it fails with a clear message. `own`: {module:
    file} of the same student's modules that `part` may import; they are
    staged as they are, and used only if they behave like the reference.
    """
    imports = part_named(part).imports
    pkg = Path(dest) / "assignment"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    for name in PLAIN:
        shutil.copyfile(TOOLING / f"{name}.py", pkg / f"{name}.py")
    if student_file is not None:
        shutil.copyfile(student_file, pkg / f"{part}.py")
    for module, path in (own or {}).items():
        if module in imports and path is not None:
            shutil.copyfile(path, pkg / f"{module}.py")
    for path in [Path(dest), pkg, *pkg.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Path(dest)
