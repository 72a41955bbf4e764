"""What the running judge is grading: set by grader.judge before pytest starts.

The suites read it through the fixtures in grader/suites/conftest.py.
"""
PART = None          # "activations", "logistic_regression", "two_layer_net" or "mlp"
MODE = "hidden"      # "hidden" (the grade) or "public" (a student's own check)
STUDENT = None       # a grader.sandbox.client.StudentModule


def student():
    if STUDENT is None:
        raise RuntimeError("the hidden suites run only under `python -m grader` "
                           "(no submission is configured)")
    return STUDENT
