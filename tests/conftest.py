"""Shared fixtures for the kit's own tests.

Grading is the slow part (a few seconds per part), so what several test
files need is graded once per session and shared:

- the bundled examples (reference, untouched starter, partial example);
- the catalog (catalog/): every bug and every correct alternative,
  graded with its own part's suite, lazily and once per part and kind.
  tests/test_catalog.py checks the verdicts; tests/test_otter.py compares
  otter's scores with these same gradings; tests/test_report.py builds a
  class from them;
- the public checks' outcomes on every catalog bug (tests/test_public_checks.py).
"""
import os

# One BLAS thread in the test processes, set before anything imports numpy. The in-process public checks
# (catalog/public.py) ran with OpenBLAS's default of a thread per core, whose threads spin while they wait
# for each other: beside one busy process (the other pytest worker) they took 68 s instead of 27 s, and in
# CI's loaded run 1,401 s. The grading engine sets the same for its judges and workers (grade.py,
# sandbox/client.py); the kernel sweep (test_blas_kernels.py) sets its own thread counts on purpose.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import pytest  # noqa: E402

from grader.__main__ import EXAMPLES  # noqa: E402
from grader.engine.grade import CALIBRATION_CACHE_ENV, grade  # noqa: E402
from catalog import alternative_folders, materialize  # noqa: E402
from catalog.bugs import BUGS  # noqa: E402

CATALOG_JOBS = 2

# `make test` runs pytest inside make, which exports MAKELEVEL and MAKEFLAGS (with -w): every `make`
# a test then starts prints "Entering/Leaving directory" lines that a student's terminal never shows.
# The handout tests run make as the student does.
for _name in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
    os.environ.pop(_name, None)

# `make test` runs two pytest workers (pytest-xdist, --dist loadgroup): the tests that use the
# catalog's gradings go to one worker, so the catalog is graded once; every other file goes whole
# to a worker, so a module's fixtures (the hostile catalog, the kernel sweep) are built once.
CATALOG_FIXTURES = {"bug_grades", "alternative_grades", "public_outcomes"}


# The longest groups start first (make test passes --no-loadscope-reorder, so xdist hands groups out in
# this order): the catalog on one worker, the kernel sweep and then the hostile catalog on the other,
# the rest to whichever worker is free. Measured on 2 cores with both workers busy: catalog ~600 s,
# kernel sweep ~340 s, hostile ~220 s, test_otter.py ~110 s, determinism ~50 s, the rest under 40 s each.
LONGEST_FIRST = ("catalog", "tests/test_blas_kernels.py", "tests/test_hostile.py", "tests/test_otter.py",
                 "tests/test_determinism.py", "tests/test_gradescope.py")


def _group(item):
    uses_catalog = CATALOG_FIXTURES & set(getattr(item, "fixturenames", ()))
    return "catalog" if uses_catalog else item.nodeid.split("::")[0]


@pytest.hookimpl(tryfirst=True)            # before xdist reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    rank = {group: k for k, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item), len(rank)))      # stable: file order within a group


@pytest.fixture(scope="session", autouse=True)
def _one_calibration(tmp_path_factory):
    """Every batch calibrates its time limits on the reference (grader.engine.grade.calibrate); the kit's
    tests grade many small batches on one machine with one kit, so they measure it once and share it
    (the workers of make test too: a file in their common temporary folder). The tests of the
    calibration itself take this variable away."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "calibration.json"
    os.environ[CALIBRATION_CACHE_ENV] = str(shared)
    yield shared


@pytest.fixture(scope="session")
def graded_examples(tmp_path_factory):
    """The reference, the untouched starter and the partial example, graded once."""
    out = tmp_path_factory.mktemp("examples")
    results = grade([str(p) for p in EXAMPLES.values()], out, jobs=2, names=list(EXAMPLES), quiet=True)
    return out, results


class LazyGrades:
    """Grades every submission of one kind for a part on first request; `-k activations`
    then grades only that part."""

    def __init__(self, factory, kind, folders):
        self.factory = factory
        self.kind = kind
        self.folders = folders            # part -> [(name, folder)]
        self.results = {}

    def part(self, part):
        if part not in self.results:
            items = self.folders.get(part, [])
            out = self.factory.mktemp(f"{self.kind}-{part}-graded")
            try:
                self.results[part] = grade([str(folder) for _, folder in items], out, jobs=CATALOG_JOBS,
                                           parts=(part,), names=[name for name, _ in items], quiet=True)
            except Exception as exc:      # remembered, so the part is not graded again per test
                self.results[part] = exc
        result = self.results[part]
        if isinstance(result, Exception):
            raise RuntimeError(f"grading the {self.kind} of {part} failed: {result!r}") from result
        return result


@pytest.fixture(scope="session")
def bug_grades(tmp_path_factory):
    """part -> {bug name: results.json} for every bug of catalog/bugs.py, graded on its part."""
    src = tmp_path_factory.mktemp("bug-submissions")
    folders = {}
    for bug in BUGS:
        folders.setdefault(bug.part, []).append((bug.name, materialize(bug, src / bug.part)))
    return LazyGrades(tmp_path_factory, "bugs", folders)


@pytest.fixture(scope="session")
def public_outcomes(tmp_path_factory):
    """bug name -> {public case title: (passed?, message)} for every bug of the catalog: its part's
    public cases run in this process (catalog/public.py), once per session (~45 s)."""
    from catalog.public import outcomes
    bugs = {f"bug:{bug.name}": bug.name for bug in BUGS}
    found = outcomes(tmp_path_factory.mktemp("public-catalog"), selected=set(bugs))
    return {bugs[name]: cases for name, cases in found.items()}


@pytest.fixture(scope="session")
def alternative_grades(tmp_path_factory):
    """part -> {alternative name: results.json} for every module of catalog/alternatives/."""
    folders = {}
    for name, (part, folder) in alternative_folders(tmp_path_factory.mktemp("alternative-submissions")).items():
        folders.setdefault(part, []).append((name, folder))
    return LazyGrades(tmp_path_factory, "alternatives", folders)
