"""Write the public tests, assignment/public_tests/<part>.json, from the public checks of the suites.

Each public check (a public_* function of grader/suites/test_<part>.py, see
grader/suites/public.py) is called with a Recorder in place of the student's
module: the one probe it calls (tooling/probes.py) is recorded, not run, and
its name and numbers become one case {"title", "kind", "fn", "data"}. The
student's `make check` (tooling/check.py) replays each case's probe on their
own code. Only numbers are shipped: the oracle and the suites stay here (the
release check makes sure of it).

`python -m grader assign` writes them; the drift test compares them within a
measured tolerance (grader/authoring/assign.py).
"""
import importlib
import inspect
import json

import numpy as np

from tooling import probes

from ..parts import PARTS
from ..suites import public


class Recorder:
    """Stands for the student's module while a public check is declared: records its probe call."""

    def __init__(self, where):
        self.where = where
        self.calls = []

    def _record_probe(self, kind, data):
        self.calls.append((kind, data))

    def __getattr__(self, name):
        raise TypeError(f"{self.where} uses the student's module directly ({name}); a public check calls one "
                        f"probe of tooling/probes.py, which gets the numbers")


def encode(value):
    """JSON for numbers, arrays, tuples, lists and dicts; check.py's decode() reverses it."""
    if isinstance(value, np.ndarray):
        return {"__nd__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def suite(part):
    """The module that declares `part`'s hidden tests and public checks."""
    return importlib.import_module(f"grader.suites.test_{part}")


def case(check):
    """The JSON case of one public check."""
    where = f"grader/suites/{check.__module__.rsplit('.', 1)[-1]}.py: {check.__name__}"
    recorder = Recorder(where)
    check(recorder)
    if len(recorder.calls) != 1:
        raise ValueError(f"{where} calls {len(recorder.calls)} probes; a public check calls exactly one")
    kind, data = recorder.calls[0]
    default = inspect.signature(probes.PROBES[kind]).parameters.get("fn")
    fn = data.get("fn", default.default if default is not None else "")
    return {"title": public.title(check), "kind": kind, "fn": fn, "data": encode(data)}


def cases(part):
    """The public cases of `part`, in the order its suite declares them."""
    found = [case(check) for check in public.checks_of(suite(part))]
    titles = [c["title"] for c in found]
    repeated = sorted({t for t in titles if titles.count(t) > 1})
    if repeated:
        raise ValueError(f"{part}: public checks with the same title: {repeated}")
    return found


def build(hidden_counts):
    """{part: JSON text} for every part. hidden_counts: {part: {"tests": n, "points": p}} of the hidden
    suites (an ungraded part has none)."""
    files = {}
    for part in PARTS:
        doc = {"part": part.name, "graded": part.graded,
               "hidden": hidden_counts.get(part.name, {"tests": 0, "points": 0}), "cases": cases(part.name)}
        files[part.name] = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    return files
