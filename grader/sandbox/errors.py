"""What can go wrong in a call to the student's module, as types (the judge turns each into a test's
verdict and message; grader.engine.judge).

- StudentError: something the student's code did on this input (the message says what); the
  test fails, and hypothesis may shrink the example.
- StudentAbort: a failure that does not depend on the input (not implemented, missing, an import
  error, a timeout, a crash); the test fails at once.
- SandboxFailure, HostOverloaded: the grader's or the host's problem, never the student's: not
  graded, and said so.
"""


class StudentError(Exception):
    """Something the student's code did on this input; str() is the message they see."""


class StudentAbort(BaseException):
    """A failure that does not depend on the input (not implemented, missing,
    import error, timeout, crash). A BaseException, so that hypothesis stops at
    once instead of shrinking an example that cannot matter."""


class NotImplementedYet(StudentAbort):
    pass


class StudentRaised(StudentError):
    def __init__(self, message, error):
        super().__init__(message)
        self.error = error


class StudentTimeout(StudentAbort):
    pass


class StudentCrashed(StudentAbort):
    pass


class ImportFailed(StudentAbort):
    pass


class MissingFunction(StudentAbort):
    pass


class BadReturn(StudentError):
    pass


class OverBudget(StudentError):
    """A call given a budget of its own (StudentModule.call's `_budget`) used it up and was stopped; the
    test goes on (a new worker serves its next call). What that means is the test's to say."""


class SandboxFailure(Exception):
    """The sandbox could not be built or verified: the grader's problem, never the student's."""


class HostOverloaded(BaseException):
    """A test reached its wall-clock backstop before using its time limit: the machine was too busy
    to grade it, so it is not graded (the batch grades it again), never failed. A BaseException, so
    that nothing treats it as the student's failure and hypothesis stops at once."""
