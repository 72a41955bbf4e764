"""Public checks: declared next to the hidden tests of their part, in grader/suites/test_<part>.py.

    def public_sigmoid_stable(act):
        \"\"\"sigmoid is stable at ±1e4 (no overflow)\"\"\"
        x = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
        probes.call_close(act, fn="sigmoid", args=(x,), expected=oracle.sigmoid(x), argnames=("x",),
                          rtol=1e-9, atol=1e-15, errstate=RAISE)

A public check is a function named public_* whose docstring's first line is
the title students see, and whose body calls exactly one probe
(tooling/probes.py) with inputs drawn here (rng_for) and expected values
computed by the oracle. It reads like a hidden test, and a hidden test that
checks the same thing calls the same probe. `python -m grader assign`
(grader/authoring/public_tests.py) calls each public check with a recorder
and writes the probe's name and its numbers into
assignment/public_tests/<part>.json, which `make check` replays on the
student's own code: no oracle or suite code reaches students, only numbers.

pytest never collects these functions (they are not test_*). A hidden test
names the public checks of its topic with @covered_by(public_..., ...): its
result is then shown to the student once grades are published
(grader/engine/judge.py).
"""
import hashlib
import inspect

import numpy as np
import pytest

PREFIX = "public_"


def rng_for(key):
    """A generator for public inputs, seeded by `key` under the "public" salt (the hidden tests'
    rng fixture uses "hidden"), so that the public inputs are never the hidden ones."""
    return np.random.default_rng(int.from_bytes(hashlib.sha256(f"public:{key}".encode()).digest()[:8], "little"))


def title(check):
    """The title of a public check: its docstring's first line."""
    doc = (check.__doc__ or "").strip()
    if not doc:
        raise ValueError(f"{check.__module__}.{check.__name__}: a public check needs a docstring title")
    return doc.splitlines()[0].strip()


def checks_of(module):
    """The public checks of a suite module, in the order they are written."""
    found = [f for name, f in vars(module).items() if name.startswith(PREFIX) and inspect.isfunction(f)
             and f.__module__ == module.__name__]
    return sorted(found, key=lambda f: f.__code__.co_firstlineno)


def covered_by(*checks):
    """Mark a hidden test as covered by these public checks (functions, not titles: the link cannot go
    stale). The judge reads their titles (pytest.mark.covered_by would take a lone function as the
    test it decorates, hence with_args)."""
    return pytest.mark.covered_by.with_args(*checks)
