"""The limits of grading one module, which an instructor may change (`--limits '{"multiple": 5}'`,
limits.json in an autograder, `make grade LIMITS=...`), and their meaning.

    limits = Limits(multiple=5)
    limits.for_test(reference=0.2)        # a test's limit, in the student's seconds
    limits.backstop(limit)                # its wall-clock backstop

Every time limit is on the student's own time (grader.sandbox.meter); the wall clock is only a
backstop against an overloaded host. Standard library only.
"""
from dataclasses import dataclass

UNCALIBRATED_SECONDS = 60.0   # a test the calibration does not know (grading outside a batch, a new test)
KIT_CALL_SECONDS = 60.0       # the kit's own requests (reset, probes, checking own modules): not charged


@dataclass
class Limits:
    """Resource limits for grading one module (instructor-tunable).

    Every time limit is on the student's own time (grader.sandbox.meter): the CPU time of the
    worker's processes, plus any time they spend waiting on their own account (sleep, a blocking
    read), never time spent waiting for a core or for the judge. A test may use `multiple` times
    what the reference needs for it on this host (measured once per batch: the calibration), and
    at least `floor_seconds`; `test_seconds` sets one fixed limit for every test instead. The wall
    clock is only a backstop against an overloaded host: a test still running after
    `backstop_multiple` x its limit + `backstop_seconds` of wall time is stopped and, if it had
    not used up its limit, reported as not graded (and graded again), never as the student's
    failure."""

    # A test may take `multiple` times the reference's time on this host, and at least `floor_seconds`.
    # Calibrated on the catalog's correct alternatives: the slowest, the MLP written with Python loops
    # over the batch (catalog/alternatives/mlp__loops_object_cache.py), needs 12.8x the reference in
    # the MNIST fit test here, so 30x leaves it 2.3x; the others need at most 3x (tests/test_catalog.py
    # grades them all with this rule).
    multiple: float = 30.0
    floor_seconds: float = 2.0
    test_seconds: float = None        # one fixed limit for every test instead of the calibrated ones
    start_seconds: float = 30.0       # starting the worker and importing the module
    backstop_multiple: float = 20.0   # wall-clock backstop of a test: this many times its limit ...
    backstop_seconds: float = 60.0    # ... plus this
    memory_bytes: int = 4 << 30       # the worker's whole process tree (resident), and each process's address space
    output_bytes: int = 64 << 10      # how much of what the student prints is kept

    def for_test(self, reference=None):
        """The limit of a test whose calls take the reference `reference` seconds on this host (None:
        not calibrated)."""
        if self.test_seconds is not None:
            return float(self.test_seconds)
        if reference is None:
            return UNCALIBRATED_SECONDS
        return max(self.floor_seconds, self.multiple * reference)

    def backstop(self, limit):
        """The wall-clock seconds after which a test with `limit` is stopped whatever it did."""
        return self.backstop_multiple * limit + self.backstop_seconds

    def rule(self):
        """The rule in words, for students and results.json."""
        if self.test_seconds is not None:
            return f"each test may use {self.test_seconds:g} s of CPU time"
        return (f"each test may take {self.multiple:g}x the CPU time the reference needs for it on the "
                f"grading machine (at least {self.floor_seconds:g} s)")


def limits_from(overrides) -> Limits:
    """Limits from an instructor's overrides ({"multiple": 5} or its JSON text), with a clear error for a
    key that is not a limit (ValueError)."""
    import dataclasses
    import json
    if isinstance(overrides, str):
        try:
            overrides = json.loads(overrides)
        except ValueError as exc:
            raise ValueError(f"the limits are not valid JSON ({exc})") from None
    if not isinstance(overrides, dict):
        raise ValueError('the limits must be a JSON object, e.g. {"multiple": 5}')
    known = [f.name for f in dataclasses.fields(Limits)]
    unknown = [k for k in overrides if k not in known]
    if unknown:
        raise ValueError(f"unknown limit {unknown[0]!r}; the limits are {', '.join(known)} (docs/threat-model.md)")
    return Limits(**overrides)
