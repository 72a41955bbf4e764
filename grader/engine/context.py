"""What the running judge is grading: set by grader.engine.judge before pytest starts.

The suites read it through the fixtures in grader/suites/conftest.py.
"""
STUDENT = None       # a grader.sandbox.client.StudentModule


def student():
    if STUDENT is None:
        raise RuntimeError("the hidden suites run only under `python -m grader` "
                           "(no submission is configured)")
    return STUDENT
