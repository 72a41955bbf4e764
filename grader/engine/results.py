"""The results of a grading, as types: what results.json holds, for the code that builds it and the
code that reads it.

    SubmissionResult    one submission: results.json, in Gradescope's format (score, max_score,
                        output, visibility, stdout_visibility, tests) with the kit's extra_data
                        (submission, parts, sandbox, fingerprint, time, container)
      .tests            [TestResult]: one per hidden test, "<part>: <title>"
      .parts            {part: PartResult}: extra_data["parts"], each part's sum and how its run went

    result = SubmissionResult.from_json(json.loads(text))     # ResultsError if it is not one
    result.parts["mlp"].status, result.tests_of("mlp"), result.tests[0].hints
    json.dumps(result.to_gradescope())                         # the same dict, key for key

from_json(d).to_gradescope() == d for everything the kit writes (tests/test_results.py), and a key
this module does not know is kept where it was (`other`), so a results.json of another tool or a
newer kit passes through unchanged. The format of Gradescope's results.json:
https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format").

Standard library only; the engine writes results.json through SubmissionResult (grade.results_json),
and the gradebook, Gradescope's run, the Canvas export, make mutants, the slip rule and make report
(grader/instructor/report.py, which reads otter's and Gradescope's results into these types too) read
it through them.
"""
from dataclasses import dataclass, field


class ResultsError(ValueError):
    """A dict that is not a results.json of this kit; str() says which key is wrong."""


def _number(d, key, where):
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResultsError(f"{where}: {key!r} should be a number, not {value!r}")
    return value


def _as_read(out, order, defaults):
    """`out` as the file it was read from had it: the keys in `order` (the file's own order) first, and a
    key the file did not have left out while it still holds what from_json put there in its absence
    (`defaults`); so a file read and written again is the same text. Without `order` (built in code),
    `out` as it is."""
    if not order:
        return out
    out = {k: v for k, v in out.items() if k in order or k not in defaults or v != defaults[k]}
    return {**{k: out[k] for k in order if k in out}, **out}


@dataclass
class TestResult:
    """One hidden test. `extra` is the test's extra_data: its time ({"seconds", "cpu_seconds", "limit",
    "reference"}), the likely causes its message names ("hints": ids of tooling/feedback.py's HINTS),
    and what the test recorded (record_property: an accuracy, a stand-in note)."""
    __test__ = False                      # not a pytest test class, whatever imports it

    name: str                             # "<part>: <title>"
    score: float | None                   # None: a record without points of its own (make report's records
    max_score: float | None               # of otter's single test cases, whose part's entry has the points)
    status: str | None = None             # "passed", "failed", "not graded"; None where a tool wrote none
    output: str = ""
    visibility: str | None = None
    extra: dict | None = None
    other: dict = field(default_factory=dict)
    order: tuple = field(default=(), repr=False, compare=False)      # the keys' order, as read

    KEYS = ("name", "score", "max_score", "status", "output", "visibility", "extra_data")

    @classmethod
    def from_json(cls, d: dict) -> "TestResult":
        if not isinstance(d, dict) or not isinstance(d.get("name"), str):
            raise ResultsError(f"a test should be a dict with a name, not {str(d)[:80]!r}")
        where = f"test {d['name']!r}"
        extra = d.get("extra_data")
        if extra is not None and not isinstance(extra, dict):
            raise ResultsError(f"{where}: 'extra_data' should be a dict")
        return cls(d["name"], _number(d, "score", where), _number(d, "max_score", where), d.get("status"),
                   d.get("output", ""), d.get("visibility"), extra,
                   {k: v for k, v in d.items() if k not in cls.KEYS}, tuple(d))

    def to_gradescope(self) -> dict:
        out = {"name": self.name, "score": self.score, "max_score": self.max_score}
        if self.status is not None:
            out["status"] = self.status
        out["output"] = self.output
        if self.visibility is not None:
            out["visibility"] = self.visibility
        if self.extra:
            out["extra_data"] = self.extra
        return _as_read({**out, **self.other}, self.order, {"output": ""})

    @property
    def part(self) -> str:
        return self.name.split(": ", 1)[0]

    @property
    def title(self) -> str:
        return self.name.split(": ", 1)[-1]

    @property
    def passed(self) -> bool:
        return self.status == "passed" if self.status is not None else self.score >= self.max_score

    @property
    def lost(self) -> float:
        return self.max_score - self.score

    @property
    def hints(self) -> list | None:
        """The ids of the likely causes the judge wrote into this test's message; None where the result
        has no record of them (otter's results, an older kit's): then only the text can tell."""
        return (self.extra or {}).get("hints")


@dataclass
class PartResult:
    """extra_data["parts"][part]: the part's score and points, and how its run went."""
    score: float
    max_score: float
    status: str = "ok"                    # ok, missing, import error, timeout, crash, not graded, ...
    seconds: float | None = None          # the part's wall time in the batch
    sandboxed: bool | None = None
    judge_memory_mb: float | None = None
    dependencies: dict | None = None      # {module: "own", "reference", "own, except ..."}
    other: dict = field(default_factory=dict)
    order: tuple = field(default=(), repr=False, compare=False)

    KEYS = ("score", "max_score", "status", "seconds", "sandboxed", "judge_memory_mb", "dependencies")

    @classmethod
    def from_json(cls, d: dict, part: str = "a part") -> "PartResult":
        if not isinstance(d, dict):
            raise ResultsError(f"extra_data.parts.{part} should be a dict")
        where = f"extra_data.parts.{part}"
        return cls(_number(d, "score", where), _number(d, "max_score", where), d.get("status", "ok"),
                   d.get("seconds"), d.get("sandboxed"), d.get("judge_memory_mb"), d.get("dependencies"),
                   {k: v for k, v in d.items() if k not in cls.KEYS}, tuple(d))

    def to_gradescope(self) -> dict:
        out = {"score": self.score, "max_score": self.max_score, "status": self.status}
        if self.seconds is not None:
            out["seconds"] = self.seconds
        if self.sandboxed is not None:
            out["sandboxed"] = self.sandboxed
        if self.judge_memory_mb:
            out["judge_memory_mb"] = self.judge_memory_mb
        if self.dependencies:
            out["dependencies"] = self.dependencies
        return _as_read({**out, **self.other}, self.order, {"status": "ok"})


@dataclass
class SubmissionResult:
    """One submission's results.json."""
    score: float
    max_score: float
    tests: list[TestResult]
    parts: dict[str, PartResult]
    submission: str | None = None
    output: str = ""
    visibility: str = "visible"
    stdout_visibility: str = "hidden"
    sandbox: dict | None = None           # {"backend", "enforces", "cannot", ...}
    fingerprint: str | None = None        # what resume compares (grade.py)
    time: dict | None = None              # the batch's timing of this submission
    container: dict | None = None         # the limits read on a platform's container, and the sizing
    other: dict = field(default_factory=dict)          # other top-level keys
    other_extra: dict = field(default_factory=dict)    # other keys of extra_data
    order: tuple = field(default=(), repr=False, compare=False)
    extra_order: tuple = field(default=(), repr=False, compare=False)

    KEYS = ("score", "max_score", "output", "visibility", "stdout_visibility", "tests", "extra_data")
    EXTRA_KEYS = ("submission", "parts", "sandbox", "fingerprint", "time", "container")

    @classmethod
    def from_json(cls, d: dict) -> "SubmissionResult":
        if not isinstance(d, dict):
            raise ResultsError(f"a results.json should hold a dict, not {type(d).__name__}")
        extra = d.get("extra_data")
        if not isinstance(extra, dict) or not isinstance(extra.get("parts"), dict):
            raise ResultsError("not a results.json of make grade: no extra_data.parts")
        if not isinstance(d.get("tests"), list):
            raise ResultsError("'tests' should be a list")
        return cls(_number(d, "score", "results.json"), _number(d, "max_score", "results.json"),
                   [TestResult.from_json(t) for t in d["tests"]],
                   {part: PartResult.from_json(info, part) for part, info in extra["parts"].items()},
                   extra.get("submission"), d.get("output", ""), d.get("visibility", "visible"),
                   d.get("stdout_visibility", "hidden"), extra.get("sandbox"), extra.get("fingerprint"),
                   extra.get("time"), extra.get("container"),
                   {k: v for k, v in d.items() if k not in cls.KEYS},
                   {k: v for k, v in extra.items() if k not in cls.EXTRA_KEYS}, tuple(d), tuple(extra))

    def to_gradescope(self) -> dict:
        extra = {}
        if self.submission is not None:
            extra["submission"] = self.submission
        extra["parts"] = {part: info.to_gradescope() for part, info in self.parts.items()}
        if self.sandbox is not None:
            extra["sandbox"] = self.sandbox
        for key in ("fingerprint", "time", "container"):
            if getattr(self, key):
                extra[key] = getattr(self, key)
        return _as_read({"score": self.score, "max_score": self.max_score, "output": self.output,
                         "visibility": self.visibility, "stdout_visibility": self.stdout_visibility,
                         "tests": [t.to_gradescope() for t in self.tests],
                         "extra_data": _as_read({**extra, **self.other_extra}, self.extra_order, {}), **self.other},
                        self.order, {"output": "", "visibility": "visible", "stdout_visibility": "hidden"})

    def tests_of(self, part: str) -> list[TestResult]:
        return [t for t in self.tests if t.part == part]

    def status_of(self, part: str) -> str | None:
        """The part's status ("ok", "missing", ...), or None where the part was not graded in this batch."""
        info = self.parts.get(part)
        return None if info is None else info.status
