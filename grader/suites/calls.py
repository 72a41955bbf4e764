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
from tooling import feedback


class Calls:
    def __init__(self):
        self.errors = []
        self.ran = 0
        self.names = []
        self.student = None

    def after(self, student, name, *args, **kwargs):
        """The arguments as `name`(*args, **kwargs) left them, or None if the call raised."""
        self.student = student
        if name not in self.names:
            self.names.append(name)
        try:
            _, after, _ = student.call(name, *args, _return_args=True, **kwargs)
        except feedback.Failure:
            raise
        except Exception as exc:  # noqa: BLE001 -- the student's error: charged by that function's tests
            self.errors.append(exc)
            return None
        self.ran += 1
        return after

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


def timed(student, name, *args):
    """The seconds the grader charged one more call (the fastest of several is the one compared); inf if
    it raised this time (a backward that consumes its cache: its first call is the one that counts)."""
    try:
        student.call(name, *args)
    except Exception:  # noqa: BLE001 -- the student's error on a repeated call: not this test's subject
        return float("inf")
    return student.last_seconds
