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


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)     # stable: file order otherwise


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
