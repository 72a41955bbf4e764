"""Grading with otter-grader: the autograder zip and batch `otter run`.

    build.py     `make otter`: dist/autograder.zip with generated adapter tests
    runtime.py   what the adapters call inside otter's kernel (runs the kit's engine)
    batch.py     `otter run` over many submissions, with a time limit each, and a gradebook

The hidden pytest suites in grader/suites stay the only copy of the tests.
"""
