"""Shared fixtures for the kit's own tests.

Grading is the slow part (a few seconds per part), so the bundled examples
are graded once per session and shared.
"""
import pytest

from grader.__main__ import EXAMPLES
from grader.grade import grade


@pytest.fixture(scope="session")
def graded_examples(tmp_path_factory):
    """The reference, the untouched starter and the partial example, graded once."""
    out = tmp_path_factory.mktemp("examples")
    results = grade([str(p) for p in EXAMPLES.values()], out, jobs=2, names=list(EXAMPLES), quiet=True)
    return out, results
