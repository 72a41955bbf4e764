"""The glue to grading platforms: the native Gradescope autograder and otter-grader. Built on
the engine."""
