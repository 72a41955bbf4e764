"""The public checks' verdicts on the catalog, case by case.

Each entry (the reference, every bug, every correct alternative) becomes a
package of its own (a copy of assignment/ with the reference modules and
the entry's module) and its part's public cases run in this process through
the package's own runner, as `python -m assignment.check` would run them.
Used by tests/test_public_checks.py and by the kernel sweep
(tests/test_blas_kernels.py), which compares the verdicts across machines.
"""
import importlib
import os
import shutil
import sys
from pathlib import Path

from grader.parts import GRADED, NAMES

from . import ALTERNATIVES, ROOT, apply_edits
from .bugs import BUGS

MODULES = NAMES


def entries():
    """(name, part, module source) for the reference parts, every bug and every alternative."""
    reference = {m: (ROOT / "solutions" / f"{m}.py").read_text(encoding="utf-8") for m in MODULES}
    out = [(f"reference:{part}", part, reference[part]) for part in GRADED]
    out += [(f"bug:{bug.name}", bug.part, apply_edits(reference[bug.part], bug)) for bug in BUGS]
    for path in sorted(ALTERNATIVES.glob("*__*.py")):
        out.append((f"alternative:{path.stem}", path.stem.split("__", 1)[0], path.read_text(encoding="utf-8")))
    return out


def verdicts(workdir, cases_dir=None, selected=None, prepare=None):
    """{entry name: {case title: passed?}} for every public case of the entry's part, run in this process.

    cases_dir: the public cases to use (default: the committed assignment/public_tests).
    selected: the entry names to run (default: all). prepare(runner): called with each
    package's check module before its cases run."""
    return {name: {title: passed for title, (passed, _) in cases.items()}
            for name, cases in outcomes(workdir, cases_dir, selected, prepare).items()}


def outcomes(workdir, cases_dir=None, selected=None, prepare=None):
    """{entry name: {case title: (passed?, message)}}, as verdicts() runs them."""
    workdir = Path(workdir)
    cases_dir = Path(cases_dir or ROOT / "assignment" / "public_tests")
    os.environ.setdefault("MLP_KIT_DATA", str(ROOT / "data" / "mnist5k"))
    sys.path.insert(0, str(workdir))
    out = {}
    try:
        for i, (name, part, source) in enumerate(entries()):
            if selected is not None and name not in selected:
                continue
            package = f"catalogpkg{i}"
            pkg = workdir / package
            pkg.mkdir(parents=True)
            for path in [*(ROOT / "assignment").glob("*.py"), ROOT / "assignment" / "parts.json"]:  # the tooling
                shutil.copyfile(path, pkg / path.name)
            for module in MODULES:
                shutil.copyfile(ROOT / "solutions" / f"{module}.py", pkg / f"{module}.py")
            (pkg / f"{part}.py").write_text(source, encoding="utf-8")
            runner = importlib.import_module(f"{package}.check")
            if prepare is not None:
                prepare(runner)
            result = runner.run_part(part, cases_dir, package=package)
            out[name] = {r["title"]: (r["passed"], r["message"]) for r in result["results"]}
    finally:
        sys.path.remove(str(workdir))
    return out
