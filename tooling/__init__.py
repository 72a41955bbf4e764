"""The student tooling: copied as it is into the handout's assignment/ by `python -m grader
assign` (this file aside). The public checks' runner (check.py) and the probes it runs
(probes.py), the assertions whose messages teach (feedback.py, shared with the hidden suites),
the gradient-check helper, the MNIST loader, `make train` and `make submission`. It imports
nothing of the kit outside this folder: the handout has no grader."""
