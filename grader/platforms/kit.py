"""What a platform's autograder zip carries of the kit, and how its zips are written.

Both autograders (the native Gradescope one and otter's) carry the engine with
what it needs at grading time: the grader, the reference, the student tooling
the suites share (feedback, probes, gradient check, loader) and the data
sample, and pin the packages the engine imports.
"""
import zipfile
from pathlib import Path

from .. import ROOT

KIT_DIRS = ("grader", "solutions", "tooling", "data/mnist5k")
KIT_FILES = ("data/README.md",)
ENGINE_REQUIREMENTS = ("numpy", "pytest", "hypothesis")    # the packages the engine imports
STAMP = (1980, 1, 1, 0, 0, 0)                               # fixed: the same bytes from any checkout


def engine_requirements(path=ROOT / "requirements.txt"):
    """The pinned lines of requirements.txt for the packages the engine imports."""
    keep = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.split("==")[0].split("[")[0].strip().lower() in ENGINE_REQUIREMENTS and "==" in line]
    missing = set(ENGINE_REQUIREMENTS) - {k.split("==")[0].lower() for k in keep}
    if missing:
        raise ValueError(f"requirements.txt pins none of {sorted(missing)}")
    return keep


def kit_files():
    """[(path under the kit's root, file)] of everything grading needs, sorted (no bytecode, no hidden
    files, no handout templates)."""
    files = []
    for rel in KIT_DIRS:
        for path in sorted((ROOT / rel).rglob("*")):
            parts = path.relative_to(ROOT).parts
            if not path.is_file() or "__pycache__" in parts or any(p.startswith(".") for p in parts) \
                    or path.suffix == ".pyc" or parts[:2] == ("grader", "templates"):
                continue
            files.append((path.relative_to(ROOT).as_posix(), path))
    files += [(rel, ROOT / rel) for rel in KIT_FILES]
    return sorted(files)


def add(zf, name, data, executable=False):
    """Write `data` as `name` into the open zip `zf`, with a fixed timestamp and fixed permissions
    (0644, or 0755 for executables): the same bytes from any checkout, whatever its umask."""
    info = zipfile.ZipInfo(name, STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o755 if executable else 0o644) << 16
    zf.writestr(info, data)
