"""Calls the hidden suites make in a particular way: the "no function modifies its inputs" tests'
(Calls), and calls whose time the grader compares (timed).

Each call of a mutation test runs in the sandbox with its arguments sent back as the call left
them (`_return_args`), to be compared with copies taken before. These calls look like every
other call to the student's code, and the grader also watches every call of the part for
in-place changes (StudentModule.mutations): the mutation tests run last (@pytest.mark.last)
and fail too when an earlier test's call changed an argument of a function they cover, so
that behaving well only inside them gains nothing. A call that raises is skipped: the tests of
that function charge the error, and a mutation test that failed on it would charge the same
mistake twice (a fit that crashes on a backward without 'b1'). At least one call must run, or
nothing was checked.
"""
import numpy as np

from grader.engine.context import OverBudget
from tooling import feedback

# The first backward call of a backprop check may use BACKPROP_RATIO forward passes' time, and at least this
# (an honest backward of these nets takes a few forward passes, well under a millisecond here); past it, it is
# stopped and reported as finite differences. Without this budget a finite-difference backward ran into the
# test's own limit on a slower machine (CI, 2 December 2026) and was reported as a timeout, not as what it is.
BACKWARD_FLOOR_SECONDS = 0.5


class Calls:
    def __init__(self):
        self.errors = []
        self.ran = 0
        self.names = []
        self.student = None
        self.value = None                # what the last call that ran returned

    def after(self, student, name, *args, **kwargs):
        """The arguments as `name`(*args, **kwargs) left them, or None if the call raised."""
        self.student = student
        if name not in self.names:
            self.names.append(name)
        try:
            value, after, _ = student.call(name, *args, _return_args=True, **kwargs)
        except feedback.Failure:
            raise
        except Exception as exc:  # noqa: BLE001 -- the student's error: charged by that function's tests
            self.errors.append(exc)
            return None
        self.ran += 1
        self.value = value
        return after

    def same_again(self, student, name, *args, **kwargs):
        """Call `name` again, with arguments equal to the last call's (the same cache), and fail if it
        returns other numbers: the first call changed something that reached it, though not as an
        argument the grader could compare (a cache kept in the student's process, e.g. a namedtuple or
        an object, whose arrays backward overwrote in place). A call that raises is skipped, as above."""
        first = self.value
        if self.after(student, name, *args, **kwargs) is None:
            return
        if not _same_numbers(first, self.value):
            raise feedback.Failure(f"{name}(params, cache, y) returned other gradients when called a second time "
                                   f"with the same cache (and equal params and y): the first call changed what "
                                   f"forward put in the cache; {feedback.hint('cache_modified')}")

    def finish(self):
        if not self.ran and self.errors:
            raise self.errors[0]
        seen = [(name, inputs) for name, inputs in getattr(self.student, "mutations", ()) if name in self.names]
        if seen:
            name, inputs = seen[0]
            what = inputs[0] if inputs else "an input"
            what = what if "[" in what or what.startswith(("an ", "argument")) else f"its input {what}"
            raise feedback.Failure(f"{name}(...) modified {what} in place, in another test of this part; "
                                   f"{feedback.hint('in_place')}")


def _same_numbers(a, b):
    """Are a and b the same numbers: dicts with the same keys, or arrays, close to 1e-9? Anything else
    (a backward that returned None) is left to that function's own tests."""
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same_numbers(a[k], b[k]) for k in a)
    try:
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return True
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True))


def timed(student, name, *args):
    """The seconds the grader charged one more call (the fastest of several is the one compared); inf if
    it raised this time (a backward that consumes its cache: its first call is the one that counts)."""
    try:
        student.call(name, *args)
    except Exception:  # noqa: BLE001 -- the student's error on a repeated call: not this test's subject
        return float("inf")
    return student.last_seconds


def backward_within_budget(student, forward_seconds, n_params, *args):
    """The first call of `backward`(*args), stopped once it has used BACKPROP_RATIO forward passes' time (at
    least BACKWARD_FLOOR_SECONDS): what it returned, or the finite-difference failure. Later calls are
    timed as usual (timed), and the fastest is compared by feedback.backprop_not_finite_differences."""
    budget = max(feedback.BACKPROP_RATIO * forward_seconds, BACKWARD_FLOOR_SECONDS)
    try:
        return student.call("backward", *args, _budget=budget)
    except OverBudget:
        feedback.backprop_not_finite_differences(float("inf"), forward_seconds, "backward(params, cache, y)",
                                                 n_params)
        raise          # (not reached: the check above fails)
