"""What the running judge is grading: set by grader.engine.judge before pytest starts.

The suites read it through the fixtures in grader/suites/conftest.py.
"""
from ..sandbox.client import StudentModule

STUDENT: StudentModule | None = None


def student() -> StudentModule:
    if STUDENT is None:
        raise RuntimeError("the hidden suites run only under `python -m grader` "
                           "(no submission is configured)")
    return STUDENT
