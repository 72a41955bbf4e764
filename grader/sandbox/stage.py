"""Build the package a worker imports: the student's module for one part, and
nothing of the reference.

Grading part P with the student's P resolves every other part P may import
(`from .activations import relu`) to the reference, so a bug in
activations.py cannot cost points in two_layer_net or mlp (no double
jeopardy). The reference never enters the worker: those modules are stubs
the worker makes (REMOTE below), and each call to them is computed by the
judge (grader.judge passes the reference's functions to the client). The
handout's public helpers (gradient_check, datasets) are copied as they are.

This file holds the kit's data about its parts and imports nothing else of
the kit.
"""
import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
PARTS = ("activations", "logistic_regression", "two_layer_net", "mlp")
PLAIN = ("gradient_check", "datasets")  # handed to students anyway
# The parts each part may import (each computed outside the worker, by the judge).
REMOTE = {"activations": (), "logistic_regression": ("activations",), "two_layer_net": ("activations",),
          "mlp": ("activations",)}


def public_functions(module):
    """The names of the public functions the reference `module` defines (read, never imported)."""
    tree = ast.parse((SOLUTIONS / f"{module}.py").read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


def stage_package(part, student_file, dest, own=None):
    """Write dest/assignment/ for grading `part` with `student_file`.

    `student_file` may be None (nothing submitted): the package then lacks
    the module, and importing it fails with a clear message. `own`: {module:
    file} of the same student's modules that `part` may import (REMOTE); they
    are staged as they are, and used only if they behave like the reference.
    """
    pkg = Path(dest) / "assignment"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    for name in PLAIN:
        src = SOLUTIONS / f"{name}.py"
        if src.exists():
            shutil.copyfile(src, pkg / f"{name}.py")
    if student_file is not None:
        shutil.copyfile(student_file, pkg / f"{part}.py")
    for module, path in (own or {}).items():
        if module in REMOTE.get(part, ()) and path is not None:
            shutil.copyfile(path, pkg / f"{module}.py")
    for path in [Path(dest), pkg, *pkg.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Path(dest)
