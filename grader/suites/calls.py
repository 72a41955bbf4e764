"""The calls of the hidden suites' "no function modifies its inputs" tests.

Each call runs in the sandbox with its arguments sent back as the call left them
(`_return_args`), to be compared with copies taken before. A call that raises is
skipped: the tests of that function charge the error, and a mutation test that
failed on it would charge the same mistake twice (a fit that crashes on a
backward without 'b1'). At least one call must run, or nothing was checked.
"""
from tooling import feedback


class Calls:
    def __init__(self):
        self.errors = []
        self.ran = 0

    def after(self, student, name, *args, **kwargs):
        """The arguments as `name`(*args, **kwargs) left them, or None if the call raised."""
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
