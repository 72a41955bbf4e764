"""Build the package a worker imports: the student's module for one part, and
the reference for everything it may depend on.

Grading part P resolves every other module to the reference, so a bug in
activations.py cannot cost points in two_layer_net or mlp (no double
jeopardy). The reference modules are staged as sourceless, docstring-free
bytecode, which keeps solution text out of tracebacks and out of reach of a
plain file read from the staging folder.
"""
import py_compile
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
PARTS = ("activations", "logistic_regression", "two_layer_net", "mlp")
REFERENCE_ONLY = ("warmup",)          # compiled like the parts
PLAIN = ("gradient_check", "datasets")  # handed to students anyway


def stage_package(part, student_file, dest):
    """Write dest/assignment/ for grading `part` with `student_file`.

    `student_file` may be None (nothing submitted): the package then lacks
    the module, and importing it fails with a clear message.
    """
    pkg = Path(dest) / "assignment"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    for name in PARTS + REFERENCE_ONLY:
        if name == part:
            continue
        src = SOLUTIONS / f"{name}.py"
        py_compile.compile(str(src), cfile=str(pkg / f"{name}.pyc"), dfile=f"<reference {name}>",
                           doraise=True, optimize=2,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    for name in PLAIN:
        src = SOLUTIONS / f"{name}.py"
        if src.exists():
            shutil.copyfile(src, pkg / f"{name}.py")
    if student_file is not None:
        shutil.copyfile(student_file, pkg / f"{part}.py")
    for path in [Path(dest), pkg, *pkg.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Path(dest)
