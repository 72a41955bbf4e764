"""What the running judge is grading: set by grader.engine.judge before pytest starts.

The suites read it through the fixtures in grader/suites/conftest.py.
"""
from ..sandbox.client import OverBudget, StudentModule

__all__ = ["OverBudget", "STUDENT", "student"]     # OverBudget: a call's own budget ran out (the suites catch it)

STUDENT: StudentModule | None = None


def student() -> StudentModule:
    if STUDENT is None:
        raise RuntimeError("the hidden suites run only under `python -m grader` "
                           "(no submission is configured)")
    return STUDENT
