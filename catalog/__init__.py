"""The kit's catalog of student submissions with known verdicts.

- bugs.py: realistic buggy submissions, each an edit of one reference module.
  Every bug must be caught on its own part.
- alternatives/: correct implementations written differently from the
  reference (loops, other stable forms, other initialisations, relu'(0) = 1).
  Each must keep full marks.

A submission folder holds the entry's module and, for a part that imports
other parts (two_layer_net imports activations), the reference of those as
the student's own correct files, as students hand in every file. The grader
then runs those files inside the worker (grader/engine/dependencies.py: they behave
like the reference), which is the same numbers as the judge serving them and
about 8x faster for the two-layer net; the judge-served path has tests of its
own (tests/test_sandbox.py, tests/test_hostile.py).
"""
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from grader.parts import part as registered

ROOT = Path(__file__).resolve().parents[1]


def _with_correct_imports(folder, part):
    """Put the reference of the modules `part` imports into `folder`, as the student's own files."""
    for module in registered(part).imports:
        shutil.copyfile(ROOT / "solutions" / f"{module}.py", Path(folder) / f"{module}.py")


ALTERNATIVES = Path(__file__).resolve().parent / "alternatives"


@dataclass(frozen=True)
class Bug:
    part: str                 # a graded part of grader/parts.py
    name: str                 # short slug, unique
    story: str                # what the student got wrong, in one sentence
    edits: tuple              # ((old, new), ...) applied to solutions/<part>.py; each old occurs once
    caught_by: tuple = ()     # substrings of test names that must fail
    hint: str = ""            # substring expected in the output of a failing test
    causes: tuple = ()        # the likely causes (ids of tooling/feedback.py HINTS) its failures name, exactly
    extra: dict = field(default_factory=dict, compare=False)


def apply_edits(source, bug):
    text = source
    for old, new in bug.edits:
        count = text.count(old)
        if count != 1:
            raise ValueError(f"{bug.name}: {old!r} occurs {count} times in solutions/{bug.part}.py")
        text = text.replace(old, new)
    return text


def materialize(bug, dest):
    """Write the buggy module as dest/<bug.name>/<part>.py; return the folder."""
    folder = Path(dest) / bug.name
    folder.mkdir(parents=True, exist_ok=True)
    source = (ROOT / "solutions" / f"{bug.part}.py").read_text(encoding="utf-8")
    (folder / f"{bug.part}.py").write_text(apply_edits(source, bug), encoding="utf-8")
    _with_correct_imports(folder, bug.part)
    return folder


def alternative_folders(dest):
    """One folder per alternatives/<part>__<variant>.py, holding <part>.py."""
    out = {}
    for path in sorted(ALTERNATIVES.glob("*__*.py")):
        part, variant = path.stem.split("__", 1)
        folder = Path(dest) / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / f"{part}.py")
        _with_correct_imports(folder, part)
        out[path.stem] = (part, folder)
    return out
