"""The instructor's report on a graded batch: `python -m grader report [DIR]` (or `make report`).

Answers "what did the class get wrong, and who". Reads a folder of results:

- what `make grade` writes (DIR/gradebook.csv and DIR/<name>/results.json);
- what Gradescope gives (DIR/<name>/results.json in the engine's schema, with or
  without extra_data and a gradebook);
- what otter writes (`make otter-grade`: one entry per part, whose output lists
  each test case's result, which is read back into one record per test);

and writes DIR/report.html: one self-contained HTML file (the PNG plots are
embedded as data URIs, so it can be mailed or opened from anywhere, no server).
It shows

- the distribution of total scores and the mean score of each part;
- every test's failure rate, the test most submissions fail on top;
- what the class got wrong: every failure grouped by its diagnosis, the likely
  cause the message names (tooling/feedback.py HINTS, shared with the grader and
  `make check`) or else the test, with the submissions in each group, all groups,
  the largest first;
- the parts that were missing, could not be imported, timed out, crashed or hit
  a grader error, counted apart: a missing or unimportable part has no test
  results worth the name, so it is left out of the failure rates and the groups;
- the gradebook, each submission linked to its own section, and one section per
  submission: its scores and each failure with its diagnosis (and the sandbox's
  backend, when the results say which).

Everything is sorted deterministically, so the same grades give the same file.
"""
import base64
import csv
import io
import json
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tooling.feedback import HINTS, diagnoses

from ..engine.results import PartResult, SubmissionResult, TestResult
from ..parts import GRADED

TOP_TESTS_PLOTTED = 15
MESSAGE_CHARS = 300
LABEL_CHARS = 70
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w])")
PROBLEM_ORDER = ("timeout", "crashed", "import error", "not graded", "grader error", "missing")
# Parts whose tests say nothing about the code: out of the failure rates and the diagnosis groups.
NOT_GRADED = ("missing", "import error", "not graded", "grader error")
MISSING = re.compile(r"\b\w+\.py was not found in the submission|could not be read \(|"
                     r" entries; at most \d+ are read: ")
IMPORT_ERROR = re.compile(r"^(\w+\.py (could not be imported|has an? \w+Error|raised \w+ while being imported|"
                          r"called sys\.exit\(\) while being imported|: the process running your code did not "
                          r"start properly)|importing \w+\.py did not finish within)")
# The engine's results.json beside otter's in a make otter-grade folder (grader/platforms/otter/batch.py's
# ENGINE_RESULTS: that file runs alone, so the name is written twice; tests/test_report.py checks they agree).
ENGINE_RESULTS = "engine-results.json"
OTTER_SUMMARY = ("Public Tests", "Autograder Failed", "Autograder Exception", "PDF Generation Failed")


@dataclass
class Batch:
    """One graded batch, as read from disk, in the engine's types whatever wrote it
    (grader/engine/results.py). Each test's status is "passed" or "failed"; otter's records of single
    test cases carry no points (score and max_score None), their part's entry does."""
    folder: Path
    names: list                                  # submissions, in gradebook order
    results: dict                                # name -> SubmissionResult (a results.json's dict is read as one)
    parts: list = field(default_factory=list)    # parts present, in GRADED order
    source: str = "make grade"                   # "make grade", "Gradescope" or "otter"

    def __post_init__(self):
        self.results = {name: r if isinstance(r, SubmissionResult) else SubmissionResult.from_json(r)
                        for name, r in self.results.items()}


class ReportError(Exception):
    pass


# -- reading -------------------------------------------------------------------------
def load_batch(folder):
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder} does not exist: grade first (make grade OUT={folder})")
    gradebook = folder / "gradebook.csv"
    names = _gradebook_names(gradebook) if gradebook.is_file() else \
        sorted(p.name for p in folder.iterdir() if (p / "results.json").is_file())
    if not names:
        raise ReportError(f"{gradebook} does not exist and {folder} holds no <name>/results.json: grade first "
                          f"(make grade OUT={folder})")
    results, sources = {}, set()
    for name in names:
        path = folder / name / "results.json"
        if not path.is_file():
            raise ReportError(f"{path} is missing, but {gradebook} lists {name}: grade the batch again")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ReportError(f"{path} is not JSON ({exc})") from None
        source, result = normalize(raw, path)
        sources.add(source)
        results[name] = result
    _fill_passed_parts(results)
    present = {p for r in results.values() for p in r.parts}
    source = " and ".join(sorted(sources))
    return Batch(folder, names, results, [p for p in GRADED if p in present], source)


def _fill_passed_parts(results):
    """otter lists no test case of a part whose cases all passed ("All test cases passed!"): give such a
    part a passed record for each test the batch's other results name, so that it counts in the rates."""
    names = defaultdict(dict)
    for result in results.values():
        for t in result.tests:
            names[t.part].setdefault(t.name, None)
    for result in results.values():
        have = {t.part for t in result.tests}
        for part, info in result.parts.items():
            if part not in have and info.score == info.max_score:
                if not names.get(part):           # nobody failed a test of it: the suite's own names
                    names[part] = dict.fromkeys(_suite_names(part))
                result.tests += [TestResult(n, None, None, "passed") for n in names[part]]


def _suite_names(part):
    """The test names of a part's hidden suite (a collect-only run of the judge), or [] if it cannot run."""
    import tempfile

    from ..engine.grade import collected_tests
    from ..sandbox.client import Limits
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return [t["name"] for t in collected_tests(part, Limits(), tmp)]
    except Exception:  # noqa: BLE001 -- the rates then leave that part out, nothing worse
        return []


def _gradebook_names(path):
    with open(path, newline="", encoding="utf-8-sig") as f:      # -sig: re-saved by a spreadsheet
        rows = list(csv.DictReader(f))
    if rows and "submission" not in rows[0]:
        raise ReportError(f"{path} has no 'submission' column: is it a gradebook of make grade or otter?")
    return [row["submission"] for row in rows]


def normalize(raw, path):
    """(source, results in the engine's shape) from a results.json of make grade, Gradescope or otter."""
    tests = raw.get("tests")
    if not isinstance(tests, list):
        raise ReportError(f"{path} has no list of tests: is it a results.json of make grade, Gradescope or otter?")
    engine = [t for t in tests if isinstance(t, dict) and _part_of(t.get("name")) is not None]
    otter = [t for t in tests if isinstance(t, dict) and t.get("name") in GRADED and "max_score" in t]
    if engine:
        parts = (raw.get("extra_data") or {}).get("parts")
        source = "make grade" if isinstance(parts, dict) and parts else "Gradescope"
        records = [_record(t) for t in engine]
    elif otter:
        source = "otter"
        records = [r for t in otter for r in otter_records(t)]
        recorded = engine_hints(path)
        for r in records:
            if r.name in recorded:
                r.extra = {"hints": recorded[r.name]}
        parts = {t["name"]: {"score": float(t.get("score") or 0), "max_score": float(t["max_score"])} for t in otter}
    else:
        raise ReportError(f"{path} has no tests named after the parts ({', '.join(GRADED)}): not a results.json "
                          f"of make grade, Gradescope or otter")
    by_part = defaultdict(list)
    for r in records:
        by_part[r.part].append(r)
    infos = {}
    for part in [p for p in GRADED if p in by_part or (parts and p in parts)]:
        given = (parts or {}).get(part) or {}
        mine = by_part.get(part, [])
        infos[part] = PartResult(float(given.get("score", sum(r.score or 0 for r in mine))),
                                 float(given.get("max_score", sum(r.max_score or 0 for r in mine))),
                                 given.get("status") or infer_status(mine), given.get("seconds", 0.0))
    extra = raw.get("extra_data") if isinstance(raw.get("extra_data"), dict) else {}
    total = sum(i.score for i in infos.values())
    return source, SubmissionResult(float(raw.get("score", total)), sum(i.max_score for i in infos.values()),
                                    records, infos, sandbox=extra.get("sandbox"))


def engine_hints(path):
    """{test name: the ids of the likely causes the judge recorded} from the engine's results.json that
    make otter-grade leaves beside otter's (ENGINE_RESULTS): otter's own results carry only the message's
    text, which a student's exception message can forge. {} where there is none (otter run by hand)."""
    try:
        engine = SubmissionResult.from_json(json.loads((Path(path).parent / ENGINE_RESULTS).read_text(
            encoding="utf-8")))
    except (OSError, ValueError):                  # ResultsError is a ValueError
        return {}
    return {t.name: t.hints for t in engine.tests if isinstance(t.hints, list)}


def _part_of(name):
    part = str(name or "").split(":", 1)[0]
    return part if part in GRADED and ":" in str(name) else None


def _record(t):
    """A test of the engine's (make grade's, Gradescope's), its status "passed" or "failed", with its extra_data:
    the likely causes the judge recorded (diagnosis_of)."""
    status = t.get("status") or ("passed" if t.get("score") == t.get("max_score") else "failed")
    return TestResult(t["name"], t.get("score"), t.get("max_score"), "passed" if status == "passed" else "failed",
                      t.get("output") or "", t.get("visibility"),
                      t["extra_data"] if isinstance(t.get("extra_data"), dict) else None)


def otter_records(entry):
    """One record per test case from otter's entry of a part: its output lists every case as
    `<name> result:` and then `✅ Test case passed` or `❌ Test case failed` with the assertion."""
    part, text = entry["name"], entry.get("output") or ""
    found = []
    pattern = re.compile(rf"^[ \t]*({re.escape(part)}: .+?) result:[ \t]*$", re.M)
    marks = list(pattern.finditer(text))
    for i, m in enumerate(marks):
        body = text[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        passed = "✅" in body.split("\n", 2)[1] if body.count("\n") >= 1 else "✅" in body
        message = ""
        if not passed:
            after = re.split(r"^[ \t]*AssertionError: ?", body, maxsplit=1, flags=re.M)
            message = " ".join((after[1] if len(after) > 1 else body).split())
        found.append(TestResult(m.group(1), None, None, "passed" if passed else "failed", message,
                                entry.get("visibility")))
    if not found and "All test cases passed" not in text:      # otter said nothing per case
        found.append(TestResult(f"{part}: (every test)", entry.get("score"), entry.get("max_score"),
                                "passed" if entry.get("score") == entry.get("max_score") else "failed",
                                " ".join(text.split())[:MESSAGE_CHARS], entry.get("visibility")))
    return found


def infer_status(records):
    """A part's status from its tests, for results without one (Gradescope, otter)."""
    failed = [r.output for r in records if not r.passed]
    if not records or len(failed) < len(records):
        return "ok"
    if all(MISSING.search(o) for o in failed):
        return "missing"
    if all(IMPORT_ERROR.search(o) for o in failed):
        return "import error"
    return "ok"


# -- statistics ------------------------------------------------------------------
def part_status(batch, name, part):
    return batch.results[name].status_of(part) or "ok"


def graded_failures(batch):
    """[(submission, test record)] of the failures that say something about the code: not in a part
    that is missing, could not be imported or hit a grader error, nor a test that did not run."""
    out = []
    for name in batch.names:
        for t in batch.results[name].tests:
            if t.passed or part_status(batch, name, t.part) in NOT_GRADED:
                continue
            if (t.output or "").startswith("not graded:"):
                continue
            out.append((name, t))
    return out


def part_scores(batch):
    """part -> (max_score, [score of each submission that has the part])."""
    out = {}
    for part in batch.parts:
        infos = [r.parts[part] for r in batch.results.values() if part in r.parts]
        out[part] = (max(i.max_score for i in infos), [i.score for i in infos])
    return out


def failures_per_test(batch):
    """[(test name, failed, graded)] for every test, most failed first (then by name). A part that
    was missing or could not be imported does not count (graded is then smaller than the class)."""
    failed, graded = Counter(), Counter()
    for name in batch.names:
        for t in batch.results[name].tests:
            if part_status(batch, name, t.part) in NOT_GRADED or (t.output or "").startswith("not graded:"):
                continue
            graded[t.name] += 1
            failed[t.name] += not t.passed
    rows = [(name, failed[name], graded[name]) for name in graded]
    return sorted(rows, key=lambda r: (-r[1] / r[2], -r[1], r[0]))


def diagnosis_of(test):
    """The diagnosis of a failure: ("hint", id) for each likely cause the grader wrote into its message
    (extra_data "hints", recorded by the judge; for otter's, from the engine's results beside them;
    results without it, otter's run by hand, are read from the message's text), or [("test", name)]
    when it names none."""
    recorded = test.hints
    found = [h for h in recorded if h in HINTS] if isinstance(recorded, list) else diagnoses(test.output or "")
    return [("hint", h) for h in found] or [("test", test.name)]


@dataclass
class Group:
    key: tuple                                    # ("hint", id) or ("test", name)
    students: list = field(default_factory=list)  # submissions, in gradebook order
    failures: int = 0
    tests: list = field(default_factory=list)     # sorted test names
    example: str = ""                             # one message, the first in gradebook order

    @property
    def label(self):
        kind, value = self.key
        return HINTS[value] if kind == "hint" else value


def diagnosis_groups(batch):
    """Every diagnosis of the class's failures, with who has it: the most submissions first."""
    groups = {}
    students, tests = defaultdict(set), defaultdict(set)
    for name, t in graded_failures(batch):
        for key in diagnosis_of(t):
            group = groups.setdefault(key, Group(key, example=" ".join((t.output or "").split())))
            group.failures += 1
            students[key].add(name)
            tests[key].add(t.name)
    order = {n: i for i, n in enumerate(batch.names)}
    for key, group in groups.items():
        group.students = sorted(students[key], key=order.get)
        group.tests = sorted(tests[key])
    return sorted(groups.values(), key=lambda g: (-len(g.students), -g.failures, g.key[0] != "hint", g.label))


def message_pattern(text):
    """A failure message with its numbers replaced by '#', whitespace collapsed."""
    flat = " ".join((text or "").split())
    flat = NUMBER.sub("#", flat)
    return flat if len(flat) <= MESSAGE_CHARS else flat[:MESSAGE_CHARS] + " …"


def troubled_parts(batch):
    """[(submission, part, status, seconds, first failing output)] for parts whose status is not ok."""
    rows = []
    for name in batch.names:
        result = batch.results[name]
        for part, info in result.parts.items():
            if info.status == "ok":
                continue
            first = next((t.output or "" for t in result.tests_of(part) if not t.passed), "")
            rows.append((name, part, info.status, info.seconds or 0.0, " ".join(first.split())))
    rank = {s: i for i, s in enumerate(PROBLEM_ORDER)}
    return sorted(rows, key=lambda r: (rank.get(r[2], -1), GRADED.index(r[1]) if r[1] in GRADED else 99,
                                       batch.names.index(r[0])))


# -- plots -----------------------------------------------------------------------
def _figure(width, height):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=100)


def png(fig):
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def score_histogram(totals, max_total):
    fig = _figure(9.5, 2.7)
    ax = fig.subplots()
    width = max(max_total / 20, 1)
    edges = [i * width for i in range(21)]
    ax.hist(totals, bins=edges, color="#3b75af", edgecolor="white")
    mean = statistics.fmean(totals)
    ax.axvline(mean, color="#c0392b", linestyle="--", label=f"mean {mean:.1f}")
    ax.axvline(statistics.median(totals), color="#555555", linestyle=":",
               label=f"median {statistics.median(totals):.1f}")
    ax.set(xlim=(0, max_total), xlabel=f"total score (of {max_total:g})", ylabel="submissions",
           title=f"Score distribution ({len(totals)} submissions)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left")
    return png(fig)


def part_means(scores):
    fig = _figure(9.5, 2.5)
    ax = fig.subplots()
    parts = list(scores)
    pct = [100 * statistics.fmean(s) / m if s and m else 0.0 for m, s in scores.values()]
    bars = ax.barh(parts[::-1], pct[::-1], color="#3b75af")
    for bar, (m, s) in zip(bars, list(scores.values())[::-1]):
        ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2,
                f"{statistics.fmean(s):.1f} / {m:g}", va="center", fontsize=9)
    ax.set(xlim=(0, 115), xlabel="mean score (% of the part's points)", title="Mean score per part")
    return png(fig)


def failure_rates(rows):
    shown = [r for r in rows if r[1]][:TOP_TESTS_PLOTTED]
    fig = _figure(9.5, 0.9 + 0.26 * max(len(shown), 1))
    ax = fig.subplots()
    if not shown:
        ax.text(0.5, 0.5, "no test failed", ha="center", va="center")
        ax.set_axis_off()
        return png(fig)
    labels = [_short(name) for name, _, _ in shown][::-1]
    rates = [100 * f / n for _, f, n in shown][::-1]
    ax.barh(range(len(shown)), rates, color="#c0392b")
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.set(xlim=(0, 100), xlabel="submissions failing the test (%)",
           title=f"The {len(shown)} most failed tests")
    return png(fig)


def _short(name):
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"


# -- HTML ------------------------------------------------------------------------
def anchor(name):
    """The id of a submission's section: letters, digits, - and _ only (names come from folder names)."""
    return "student-" + (re.sub(r"[^A-Za-z0-9_-]", lambda m: f"_{ord(m.group()):x}", name) or "_")


def _base64(data):
    """PNG bytes as the base64 text of a data URI."""
    return base64.b64encode(data).decode()


def _backend(result):
    sandbox = result.sandbox
    return str(sandbox.get("backend", "unknown")) if isinstance(sandbox, dict) else "unknown"


def _group_view(g):
    """What the page shows of a diagnosis group: its message cut to MESSAGE_CHARS."""
    example = g.example[:MESSAGE_CHARS] + ("…" if len(g.example) > MESSAGE_CHARS else "")
    return {"label": g.label, "hint": g.key[0] == "hint", "students": g.students, "failures": g.failures,
            "tests": g.tests, "example": example}


def _student_view(batch, name):
    """A submission's section: its scores, its sandbox's backend (when the results say) and its failures,
    each with the status of its part when that part was not graded, or else the causes its message names."""
    result = batch.results[name]
    backend = result.sandbox.get("backend") if isinstance(result.sandbox, dict) else None
    failed = []
    for t in result.tests:
        if t.passed:
            continue
        status = part_status(batch, name, t.part)
        failed.append({"name": t.name, "not_graded": status if status in NOT_GRADED else None,
                       "causes": [HINTS[v] for k, v in diagnosis_of(t) if k == "hint"],
                       "message": " ".join((t.output or "").split())[:MESSAGE_CHARS]})
    return {"name": name, "score": result.score, "max_score": result.max_score,
            "parts": result.parts, "backend": str(backend) if backend else None, "failed": failed}


def render(batch):
    """The report as an HTML string (grader/templates/reports/report.html.j2)."""
    from .similarity import jinja_environment
    totals = [batch.results[n].score for n in batch.names]
    max_total = max(batch.results[n].max_score for n in batch.names)
    trouble = [(n, p, s, sec, first[:MESSAGE_CHARS]) for n, p, s, sec, first in troubled_parts(batch)]
    scores = part_scores(batch)
    failures = failures_per_test(batch)
    env = jinja_environment()
    env.filters.update(g="{:g}".format, anchor=anchor)
    return env.get_template("report.html.j2").render(
        folder=batch.folder.name, source=batch.source,
        totals={"n": len(totals), "mean": statistics.fmean(totals), "median": statistics.median(totals),
                "min": min(totals), "max": max(totals), "of": max_total},
        trouble=trouble, problems=sorted(Counter(s for _, _, s, _, _ in trouble).items()),
        backends=sorted({_backend(r) for r in batch.results.values()}),
        plots={"scores": _base64(score_histogram(totals, max_total)), "parts": _base64(part_means(scores)),
               "failures": _base64(failure_rates(failures))},
        parts=[{"part": p, "mean": statistics.fmean(s), "median": statistics.median(s),
                "full": sum(v >= m for v in s), "graded": len(s), "points": m} for p, (m, s) in scores.items()],
        failing=[r for r in failures if r[1]], tests=len(failures),
        groups=[_group_view(g) for g in diagnosis_groups(batch)],
        part_names=batch.parts,
        gradebook=[{"name": n, "parts": [batch.results[n].parts.get(p) for p in batch.parts],
                    "total": batch.results[n].score} for n in batch.names],
        students=[_student_view(batch, n) for n in batch.names])


def write_report(folder):
    """Write folder/report.html from the grades in folder; return its path."""
    batch = load_batch(folder)
    path = Path(folder) / "report.html"
    path.write_text(render(batch), encoding="utf-8")
    return path


def configure(parser):
    parser.add_argument("folder", nargs="?", default="grades",
                        help="what make grade, make otter-grade or Gradescope wrote (default: grades/)")


def command(args):
    """`python -m grader report [FOLDER]`."""
    try:
        path = write_report(args.folder)
    except ReportError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
