"""Fixtures, markers and the hypothesis profile shared by the suites.

Each test receives the student's module for its part as a proxy (`student`,
or the name its suite reads best with: `act`, `logreg`, `net`, `mlp`): calls
run in a sandboxed worker, results come back as plain numbers and arrays, and
every comparison happens here.
"""
import hashlib

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal.conjecture import providers as _providers

from grader.engine import context

# Derandomized: the same submission gets the same examples and the same score
# on every run. No example database, no deadline (timing is the sandbox's job).
# No "explain" phase: it reruns failing examples many times for a note
# students never see.
# 20 examples per property test, set by measurement (issue 20): the 80 catalog
# bugs and the 227 generated mutants, graded at 40 and at 20, give the same
# status and score in every one of their tests (307 results, no difference);
# a full reference grading with its calibration went from 30.4-35.6 to
# 23.9-26.9 CPU-seconds.
_COMMON = dict(database=None, deadline=None, print_blob=False, report_multiple_bugs=False,
               suppress_health_check=list(HealthCheck), max_examples=20,
               phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
settings.register_profile("grading", derandomize=True, **_COMMON)
settings.load_profile("grading")

# Hypothesis (since 6.131) also draws, now and then, the numbers and strings written in the source of the
# "local" modules this process has loaded: those outside site-packages and the standard library, and not in a
# folder named test or tests. In a judge those are the kit's own modules, so the examples a submission got
# depended on where the kit lies (a clone under ~/tests/ drew other examples than /autograder/source), on
# which of the kit's modules the judge had imported, and on every literal in them: an edit to a message could
# change every property test's examples. The suites draw none: their examples come from their strategies and
# the fixed seed alone (tests/test_suites.py runs a property test beside a local module full of constants).
# Hypothesis is pinned (requirements.txt), and that test fails if a new version draws them another way. Also,
# no judge writes hypothesis's cache of those constants (.hypothesis/constants/) into the kit's folder.
_NO_LOCAL_CONSTANTS = _providers.Constants()
_providers._get_local_constants = lambda: _NO_LOCAL_CONSTANTS


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the test is worth n points")
    config.addinivalue_line("markers", "public: students can run this test before the deadline")
    # Every other test says how a student learns why it failed (grader.engine.judge.visibility_of):
    config.addinivalue_line("markers", "covered_by(*checks): public checks (grader/suites/public.py) of this "
                                       "test's topic; its result is shown once grades are published")
    config.addinivalue_line("markers", "visible: no public case checks this topic, so its result is shown "
                                       "as soon as grading ends")
    config.addinivalue_line("markers", "last: runs after the suite's other tests (it also judges what their "
                                       "calls did)")
    config.addinivalue_line("markers", "consumes(*groups): the test runs functions of the part it does not aim "
                                       "at; each group is (its own tests' name prefixes, the functions served "
                                       "together): a slip costs once (see _stand_ins)")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)     # stable: file order otherwise
    # A consumer runs after the tests of what it consumes (else the rule below could not see them fail).
    seen = set()
    for item in items:
        marker = item.get_closest_marker("consumes")
        for prefixes, _ in (marker.args if marker else ()):
            later = [other.name for other in items if other.name.startswith(tuple(prefixes))
                     and other.nodeid not in seen]
            if later:
                raise pytest.UsageError(f"{item.name} consumes what {later[0]} tests, which runs after it")
        seen.add(item.nodeid)


# The tests that failed so far in this grading (node ids): the rule of a slip that costs once reads them.
_FAILED = {}


def pytest_sessionstart(session):
    _FAILED.clear()


def pytest_runtest_logreport(report):
    if report.failed and report.when in ("setup", "call"):
        _FAILED[report.nodeid] = True


@pytest.fixture(autouse=True)
def _stand_ins(student, request, _fresh_worker_state):
    """A slip costs once: a test marked `consumes` runs the part's functions it does not aim at (fit runs
    forward, backward, init_params, ...). Where one of those failed its own tests earlier in this grading,
    the grader computes it (and the functions served with it: forward and backward share the cache)
    from the reference for this test, outside the student's process, and says so in the test's result.
    The test still grades the student's own code around them (fit's loop, shuffling and update), so
    nothing is skipped and nothing is free: the slip was charged by the tests aimed at it. Every other
    test runs the student's functions only."""
    from grader.engine.judge import title_of
    from grader.engine.staging import own_reference
    marker = request.node.get_closest_marker("consumes")
    served, because = [], []
    for prefixes, functions in (marker.args if marker else ()):
        failed = [item for item in request.session.items if item.nodeid in _FAILED
                  and item.name.startswith(tuple(prefixes))]
        if failed:
            served += [f for f in functions if f not in served]
            because += [title_of(item) for item in failed if title_of(item) not in because]
    if student.stand_in(own_reference(student.part, served) if served else {}):
        names = served[0] if len(served) == 1 else f"{', '.join(served[:-1])} and {served[-1]}"
        shown = "; ".join(f"'{t}'" for t in because[:3]) + (f" and {len(because) - 3} more" if len(because) > 3
                                                              else "")
        request.node.user_properties.append(("stand_in", (
            f"Graded with the grader's {names} in place of yours, since yours failed {shown}: that slip "
            f"was charged there, once; this test grades the code that calls them.")))


@pytest.fixture(scope="session")
def student():
    return context.student()


@pytest.fixture(autouse=True)
def _fresh_worker_state(student, request):
    """Each test starts with its own time limit (the calibration knows it by the test's id, as the
    judge records it) and a worker that holds nothing from earlier tests."""
    student.begin_test(request.node.nodeid.split("::", 1)[-1])


@pytest.fixture
def rng(request):
    """A generator seeded by the test's id: order-independent. ("hidden:" salts the key: the public
    checks draw theirs under "public:", grader/suites/public.py.)"""
    key = f"hidden:{request.node.nodeid}".encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))


def _alias(name):
    @pytest.fixture(name=name)
    def alias(student):
        return student
    return alias


for _name in ("act", "logreg", "net", "mlp"):
    globals()[f"_{_name}"] = _alias(_name)
