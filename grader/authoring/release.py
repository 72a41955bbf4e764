"""The release: `make dist` builds what goes out, and checks the handout.

    dist/handout/      (and dist/handout.zip, whose files are at its top: unzipped into a folder,
                       that folder is the work folder): what students get
        README.md, Makefile (make check, make submission), requirements*.txt
        assignment/    the generated starter: the four graded modules, the warm-up,
                       the notebook, the public tests and their runner, the checks,
                       the gradient-check helper, the data loader, submit.py
        data/mnist5k/  the data sample (and its README)
    dist/instructor/   (and dist/instructor.zip): what graders get
        gradescope.zip         `make gradescope`: the native Gradescope autograder (also the course CI's)
        autograder.zip         `make otter`: for otter run and Gradescope
        otter_batch.py         otter run over many submissions, with limits; the gradebook
        autograde.yml          the course CI template (GitHub Actions)
        README.md

The release check fails when the handout carries solution text or hidden
tests. It compares token sequences, not marker strings: every run of
WINDOW tokens (grader.engine.redact) of the code inside the solution markers and of
the hidden suites' and the oracle's code is looked for in every text file of
the handout (the notebook's cells included), whatever the spacing, line
breaks or comments around it. Runs that also occur in what the generator writes
on purpose (the student tooling, copied as it is: the feedback and the probes
shared with the suites; the starter's docstrings) are allowed, except those of
solution bodies, which never are.

    python -m grader release dist [--out dist]
    python -m grader release check dist/handout
"""
import json
import shutil
import zipfile
from pathlib import Path

import nbformat

from .. import ROOT
from ..engine import markers
from ..engine.redact import HIDDEN, code_tokens, tokens, windows
from ..parts import PARTS
from ..platforms.kit import add as add_to_zip
from . import assign

DIST = ROOT / "dist"
TEMPLATES = ROOT / "grader" / "templates"
STUDENT_REQUIREMENTS = ("numpy", "matplotlib", "ipykernel", "jupyterlab")
GRADING_REQUIREMENTS = ("numpy", "pytest", "hypothesis", "otter-grader")     # the instructor bundle (otter_batch.py)
CI_REQUIREMENTS = ("numpy", "pytest", "hypothesis")     # the handout's requirements-grading.txt: the course CI's engine
TEXT_SUFFIXES = {".py", ".ipynb", ".json", ".md", ".txt", ".yml", ".yaml", ".cfg", ".toml", ".sh", ""}
HIDDEN_SOURCES = sorted(HIDDEN.glob("*.py"))
MARKERS = ("BEGIN SOLUTION", "END SOLUTION")


# -- what goes out ---------------------------------------------------------------
def pinned(names, path=ROOT / "requirements.txt"):
    """The lines of requirements.txt that pin `names` (an extra like [grading] kept)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("==")[0].split("[")[0].strip().lower()
        if name in names and "==" in line:
            lines.append(line.strip())
    missing = set(names) - {line.split("==")[0].split("[")[0].lower() for line in lines}
    if missing:
        raise ValueError(f"requirements.txt pins none of {sorted(missing)}")
    return "# Pinned versions (generated from the kit's requirements.txt).\n" + "\n".join(lines) + "\n"


def build_handout(dest):
    """Write the student handout into dest/ (replaced if it exists); returns dest."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    problems = assign.drift()
    if problems:
        raise SystemExit("the generated files are stale; run `make assignment` first:\n" + "\n".join(problems[:5]))
    shutil.copytree(assign.TARGET, dest / "assignment",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "figures"))
    shutil.copytree(ROOT / "data" / "mnist5k", dest / "data" / "mnist5k")
    shutil.copyfile(TEMPLATES / "handout" / "data-README.md", dest / "data" / "README.md")
    for name in ("README.md", "Makefile"):
        shutil.copyfile(TEMPLATES / "handout" / name, dest / name)
    shutil.copyfile(TEMPLATES / "handout" / "gitignore", dest / ".gitignore")
    (dest / "requirements.txt").write_text(pinned(STUDENT_REQUIREMENTS), encoding="utf-8")
    (dest / "requirements-grading.txt").write_text(pinned(CI_REQUIREMENTS), encoding="utf-8")
    return dest


def build_instructor(dest, autograder, gradescope=None):
    """Write the instructor bundle into dest/ (replaced if it exists); returns dest."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copyfile(autograder, dest / "autograder.zip")
    if gradescope is not None:
        shutil.copyfile(gradescope, dest / "gradescope.zip")
    shutil.copyfile(ROOT / "grader" / "platforms" / "otter" / "batch.py", dest / "otter_batch.py")
    shutil.copyfile(TEMPLATES / "ci" / "autograde.yml", dest / "autograde.yml")
    shutil.copyfile(TEMPLATES / "instructor" / "README.md", dest / "README.md")
    (dest / "requirements.txt").write_text(pinned(GRADING_REQUIREMENTS), encoding="utf-8")
    return dest


def zip_folder(folder, dest, top=True):
    """Zip `folder` with fixed timestamps and fixed permissions (0644, or 0755 for executables): the
    same bytes from any checkout, whatever its umask. top: the entries are under a folder named as
    `folder` (the instructor bundle); False puts them at the zip's top (the handout)."""
    folder = Path(folder)
    prefix = f"{folder.name}/" if top else ""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            add_to_zip(zf, prefix + path.relative_to(folder).as_posix(), path.read_bytes(),
                       executable=bool(path.stat().st_mode & 0o111))
    return dest


def zip_handout(handout, dest):
    """The handout's zip: README.md, Makefile and assignment/ at its top, so that the folder it is
    unzipped into (`unzip handout.zip -d mlp`) is the work folder, not a folder with handout/ inside."""
    return zip_folder(handout, dest, top=False)


# -- the release check --------------------------------------------------------------
class Protected:
    """Token runs that must not reach students, each with where it comes from."""

    def __init__(self):
        self.runs = {}             # window -> label
        solution = set()
        for path in sorted((ROOT / "solutions").glob("*.py")):
            lines = markers.solution_lines(path.read_text(encoding="utf-8"))
            for w in windows(normalized(tokens("\n".join(lines)))):
                self.runs.setdefault(w, f"the solution code of solutions/{path.name}")
                solution.add(w)
        for path in HIDDEN_SOURCES:
            for w in windows(normalized(code_tokens(path.read_text(encoding="utf-8")))):
                self.runs.setdefault(w, f"the hidden grader code of {path.relative_to(ROOT)}")
        # What the generator writes on purpose is public: the student tooling it copies as
        # it is (tooling/: the feedback and probes the suites share, the gradient-check
        # helper, the loader), and the starter modules around their TODOs (docstrings,
        # signatures), there never a run of a solution body.
        for path in sorted((ROOT / "tooling").glob("*.py")):
            for w in runs_of(path.read_text(encoding="utf-8")):
                self.runs.pop(w, None)
        for path in sorted((ROOT / "solutions").glob("*.py")):
            for w in runs_of(markers.stub(path.read_text(encoding="utf-8"), path.stem)):
                if w not in solution:
                    self.runs.pop(w, None)

    def found_in(self, text, python=True):
        return [(w, self.runs[w]) for w in sorted(runs_of(text, python) & set(self.runs))]


def normalized(seq):
    """Tokens without statement separators: `a = 1; b = 2` reads as the two lines would."""
    return [t for t in seq if t != ";"]


def runs_of(text, python=True):
    """The WINDOW-token runs of `text`: of all its tokens, and (Python) of its code alone, so
    that comments put between the lines of pasted code do not hide it."""
    found = windows(normalized(tokens(text)))
    if python:
        found |= windows(normalized(code_tokens(text)))
    return found


def text_of(path):
    """The text a student sees in `path` (a notebook's cell sources), or None if binary."""
    if path.suffix.lower() not in TEXT_SUFFIXES and path.name != "Makefile":
        return None
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix == ".ipynb":
        try:
            nb = nbformat.reads(raw, as_version=4)
        except Exception:        # unreadable as a notebook: check the raw text
            return raw
        return "\n".join(cell.source for cell in nb.cells) + "\n" + json.dumps(nb.metadata)
    return raw


def check_handout(folder, protected=None):
    """A list of problems (empty when the handout is clean)."""
    folder = Path(folder)
    protected = protected or Protected()
    problems = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".zip" or path.suffix == ".pyc":
            problems.append(f"{rel}: archives and bytecode do not belong in the handout")
            continue
        text = text_of(path)
        if text is None:
            continue
        for marker in MARKERS:
            if marker in text:
                problems.append(f"{rel}: contains the marker '{marker}'")
        found = protected.found_in(text, python=path.suffix in (".py", ".ipynb"))
        if found:
            sources = sorted({label for _, label in found})
            sample = " ".join(found[0][0])
            problems.append(f"{rel}: {len(found)} token run(s) of {', '.join(sources)}, e.g. '{sample}'")
    for part in PARTS:
        if not (folder / "assignment" / part.module).is_file():
            problems.append(f"assignment/{part.module} is missing")
    return problems


# -- make dist -------------------------------------------------------------------------
def dist(out=DIST, autograder=None):
    """Build the handout and the instructor bundle under `out`; exit 1 if the check fails."""
    from ..platforms.otter.build import build as build_autograder
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    autograder = Path(autograder) if autograder else build_autograder(out / "autograder.zip")
    handout = build_handout(out / "handout")
    problems = check_handout(handout)
    if problems:
        print("release check FAILED: the handout carries solution or hidden-test code:")
        for p in problems:
            print(f"  {p}")
        return 1
    from ..platforms.gradescope import build as build_gradescope
    instructor = build_instructor(out / "instructor", autograder, build_gradescope(out / "gradescope.zip", quiet=True))
    zip_handout(handout, out / "handout.zip")
    zip_folder(instructor, out / "instructor.zip")
    count = sum(1 for p in handout.rglob("*") if p.is_file())
    print(f"release check passed: {count} handout files, no solution or hidden-test code")
    print(f"wrote {out / 'handout'}/ and {out / 'handout.zip'} (students; the zip holds the work folder's "
          f"files at its top)")
    print(f"wrote {out / 'instructor'}/ and {out / 'instructor.zip'} (graders: gradescope.zip, autograder.zip, "
          f"otter_batch.py, autograde.yml)")
    return 0


def configure(parser):
    sub = parser.add_subparsers(dest="release", required=True)
    d = sub.add_parser("dist", help="build dist/handout and dist/instructor (with the release check)")
    d.add_argument("--out", default=str(DIST))
    d.add_argument("--autograder", help="an autograder zip already built (default: build one)")
    c = sub.add_parser("check", help="check a handout folder for solution and hidden-test code")
    c.add_argument("folder")


def command(args):
    """`python -m grader release dist|check`."""
    if args.release == "dist":
        return dist(args.out, args.autograder)
    problems = check_handout(args.folder)
    for p in problems:
        print(p)
    print("release check passed" if not problems else f"release check FAILED: {len(problems)} problem(s)")
    return 1 if problems else 0
