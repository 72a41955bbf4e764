"""`make report` (grader/instructor/report.py) on real grades.

Two batches: the bundled examples (shared fixture) plus submissions that hang,
crash and cannot be imported, graded here with short limits; and a class of 16
built from the catalog (catalog), each student carrying seeded catalog
bugs in some parts, from the session's gradings of the catalog (no grading
here but one module that does not import). The second answers "what did the
class get wrong, and who": its diagnosis groups must list exactly the students
who carry the bugs behind them, read from make grade's output, from the same
results as Gradescope gives them and as otter writes them.

Pages are checked parsed (tables, order, escaping, embedded PNGs, links) and
rendered by a headless Chromium: a screenshot must show the plots, and the DOM
Chromium builds must hold the groups.
"""
import base64
import io
import json
import random
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.engine.grade import grade, gradebook_row, write_gradebook
from grader.instructor.report import (Batch, anchor, diagnosis_groups, failures_per_test, load_batch, message_pattern,
                           render, write_report)
from grader.sandbox.client import Limits
from grader.parts import GRADED as PARTS
from grader.authoring.screenshots import chromium, screenshot

ROOT = Path(__file__).resolve().parent.parent
RELU = "    return np.maximum(x, 0.0)"
HISTOGRAM_BLUE = (0x3B, 0x75, 0xAF)      # the bars of the score and part plots (not used by the page's CSS)
FAILURE_RED = (0xC0, 0x39, 0x2B)


def troublemaker(folder, edits):
    """A submission holding only activations.py, with these (old, new) edits of the reference."""
    folder.mkdir(parents=True)
    text = (ROOT / "solutions" / "activations.py").read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "activations.py").write_text(text, encoding="utf-8")
    return str(folder)


@pytest.fixture(scope="module")
def grades(graded_examples, tmp_path_factory):
    """A batch directory: the three examples plus `hangs` (timeout), `crashes` (crashed) and `broken`
    (a syntax error: import error)."""
    src = tmp_path_factory.mktemp("troublemakers")
    hangs = troublemaker(src / "hangs", [(RELU, "    while True:\n        pass")])
    crashes = troublemaker(src / "crashes", [(RELU, "    import os\n    os._exit(3)")])
    broken = troublemaker(src / "broken", [(RELU, "    return np.maximum(x, 0.0")])
    # Short limits, so that the endless loop costs seconds, not minutes (each of the reference's
    # activations tests needs well under 0.1 s of CPU).
    trouble = grade([hangs, crashes, broken], tmp_path_factory.mktemp("trouble"), jobs=2,
                    names=["hangs", "crashes", "broken"], quiet=True, limits=Limits(test_seconds=2))
    examples_dir, examples = graded_examples
    out = tmp_path_factory.mktemp("batch")
    results = {**examples, **trouble}
    for name, result in results.items():
        (out / name).mkdir()
        (out / name / "results.json").write_text(json.dumps(result), encoding="utf-8")
    write_gradebook(out, [gradebook_row(name, r) for name, r in results.items()])
    return out, results


class Page(HTMLParser):
    """The report's images and tables, by section (h2) title."""

    def __init__(self):
        super().__init__()
        self.images, self.tables, self.section = [], {}, None
        self._in, self._text, self._row, self._cell = None, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append((self.section, attrs.get("src", "")))
        elif tag == "h2":
            self._in, self._text = "h2", []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "h2":
            self.section, self._in = "".join(self._text).strip(), None
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables.setdefault(self.section, []).append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._in == "h2":
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def report(grades):
    out, _ = grades
    path = write_report(out)
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return path, page


def test_the_report_embeds_three_nonblank_plots(report):
    _, page = report
    assert [section for section, _ in page.images] == [
        "Score distribution", "Mean score per part", "Tests most submissions fail"]
    for section, src in page.images:
        assert src.startswith("data:image/png;base64,"), section
        data = base64.b64decode(src.split(",", 1)[1])
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.width >= 600 and image.height >= 250, section
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 20, f"{section}: a blank plot"


def graded_counts(results):
    """test name -> (failed, graded) over the submissions whose part was graded (not missing, importable)."""
    counts = {}
    for result in results.values():
        parts = result["extra_data"]["parts"]
        for t in result["tests"]:
            part = t["name"].split(":")[0]
            if parts[part]["status"] in ("missing", "import error", "grader error") or \
                    t["output"].startswith("not graded:"):
                continue
            failed, graded = counts.get(t["name"], (0, 0))
            counts[t["name"]] = (failed + (t["status"] != "passed"), graded + 1)
    return counts


def test_tests_are_sorted_most_failed_first_out_of_the_graded_parts(report, grades):
    _, page = report
    rows = page.tables["Tests most submissions fail"][1:]
    rates = [(int(r[2].split(" / ")[0]), int(r[2].split(" / ")[1])) for r in rows]
    assert [f / n for f, n in rates] == sorted((f / n for f, n in rates), reverse=True)
    expected = {name: fn for name, fn in graded_counts(grades[1]).items() if fn[0]}
    assert {r[1]: tuple(map(int, r[2].split(" / "))) for r in rows} == expected
    # activations was graded for 5 of the 6 (broken did not import); the other parts for 4 (three lack them).
    assert expected["activations: relu matches max(0, x)"][1] == 5
    assert expected["mlp: softmax matches e^z / Σ e^z row by row, and rows sum to 1"][1] == 3


def test_part_means_match_the_gradebook(report, grades):
    _, page = report
    table = {r[0]: r for r in page.tables["Mean score per part"][1:]}
    for part in PARTS:
        scores = [r["extra_data"]["parts"][part]["score"] for r in grades[1].values()]
        assert float(table[part][1]) == pytest.approx(sum(scores) / len(scores), abs=0.005)


def test_missing_and_unimportable_parts_are_counted_apart(report):
    _, page = report
    rows = page.tables["Missing, not importable, timed out or crashed"][1:]
    assert rows[0][:3] == ["hangs", "activations", "timeout"]
    assert rows[1][:3] == ["crashes", "activations", "crashed"]
    assert rows[2][:3] == ["broken", "activations", "import error"]
    assert "went past this test's time limit" in rows[0][4] and "exited with status 3" in rows[1][4], rows[:2]
    assert "SyntaxError" in rows[2][4], rows[2]
    missing = {(r[0], r[1]) for r in rows if r[2] == "missing"}
    assert missing == {(n, p) for n in ("hangs", "crashes", "broken")
                       for p in ("logistic_regression", "two_layer_net", "mlp")}
    assert not any(r[0] in ("reference", "starter", "partial") for r in rows)
    # ... and none of their messages makes a diagnosis group.
    groups = page.tables["What the class got wrong"][1:]
    assert not any("was not found in the submission" in r[-1] or "SyntaxError" in r[-1] for r in groups), groups


def test_the_gradebook_links_each_submission_to_its_section(report, grades):
    path, page = report
    text = path.read_text(encoding="utf-8")
    names = [r[0] for r in page.tables["Gradebook"][1:]]
    assert sorted(names) == sorted(grades[1])
    for name in names:
        assert f'<a href="#{anchor(name)}">{name}</a>' in text
        assert text.count(f'id="{anchor(name)}"') == 1
    assert "Every test passed." in text.split(f'id="{anchor("reference")}"', 1)[1].split("<h3", 1)[0]


def one_test_result(output, status="ok", name="mlp: backward"):
    test = {"name": name, "score": 0, "max_score": 1, "status": "failed", "output": output}
    return {"score": 0, "max_score": 1, "tests": [test],
            "extra_data": {"parts": {"mlp": {"score": 0, "max_score": 1, "status": status, "seconds": 1}}}}


def test_failures_that_name_the_same_cause_count_together_whatever_the_test(tmp_path):
    forgot = "did you forget to average over the batch?"
    batch = Batch(tmp_path, ["a", "b", "c", "d"], {
        "a": one_test_result(f"dW1 ...: It looks 4 times too large, and 4 is the batch size: {forgot}",
                             name="mlp: backward matches finite differences (W1)"),
        "b": one_test_result(f"db2 ...: It looks 7 times too large, and 7 is the batch size: {forgot}",
                             name="mlp: backward matches finite differences (b2)"),
        "c": one_test_result("expected shape (3,), got (3, 4)", name="mlp: predict returns the integer label"),
        "d": one_test_result("mlp.py was not found in the submission", status="missing")}, ["mlp"])
    groups = diagnosis_groups(batch)
    assert [(g.key, g.students, g.failures) for g in groups] == [
        (("hint", "batch_mean_missing"), ["a", "b"], 2),
        (("test", "mlp: predict returns the integer label"), ["c"], 1)]
    assert groups[0].tests == ["mlp: backward matches finite differences (W1)",
                               "mlp: backward matches finite differences (b2)"]
    assert failures_per_test(batch) == [("mlp: backward matches finite differences (W1)", 1, 1),
                                        ("mlp: backward matches finite differences (b2)", 1, 1),
                                        ("mlp: predict returns the integer label", 1, 1)]


def test_a_cause_is_read_from_what_the_grader_recorded_not_from_text_a_student_can_write(tmp_path):
    """The judge records the likely causes it wrote (extra_data "hints"): a student whose exception
    message quotes a hint's text is not put in that group; a recorded cause is, whatever the text.
    Results without the record (otter's) are read from the message's text."""
    forgot = "did you forget to average over the batch?"
    forged = one_test_result(f"backward raised ValueError: {forgot}", name="mlp: backward matches finite differences (W1)")
    forged["tests"][0]["extra_data"] = {"hints": []}
    recorded = one_test_result("dW1 ...: It looks 4 times too large", name="mlp: backward matches finite differences (W1)")
    recorded["tests"][0]["extra_data"] = {"hints": ["batch_mean_missing", "no_such_hint"]}
    unrecorded = one_test_result(f"dW1 ...: {forgot}", name="mlp: backward matches finite differences (W1)")
    results = {"a": forged, "b": recorded, "c": unrecorded}
    # As make report reads them: from results.json files (load_batch). Built in memory, the batch once hid
    # that reading the files dropped each test's extra_data, so a forged text formed its group there.
    for name, result in results.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(result), encoding="utf-8")
    for batch in (Batch(tmp_path, ["a", "b", "c"], results, ["mlp"]), load_batch(tmp_path)):
        assert [(g.key, g.students) for g in diagnosis_groups(batch)] == [
            (("hint", "batch_mean_missing"), ["b", "c"]),
            (("test", "mlp: backward matches finite differences (W1)"), ["a"])]


def test_otters_results_take_the_causes_the_engine_recorded_beside_them(tmp_path):
    """make otter-grade leaves the engine's results.json beside otter's (engine-results.json): the report
    takes the recorded causes from it, so a message that quotes a hint's text forges nothing there either.
    Without that file (otter run by hand) the text is all there is."""
    from grader.instructor import report
    from grader.platforms.otter import batch as otter_batch
    assert report.ENGINE_RESULTS == otter_batch.ENGINE_RESULTS
    forgot = "did you forget to average over the batch?"
    name = "mlp: backward matches finite differences (W1)"
    forged = one_test_result(f"backward raised ValueError: {forgot}", name=name)
    forged["tests"][0]["visibility"] = "hidden"
    forged["tests"][0]["extra_data"] = {"hints": []}
    for student, beside in (("with-engine", True), ("by-hand", False)):
        (tmp_path / student).mkdir()
        (tmp_path / student / "results.json").write_text(json.dumps(otter_results(forged)), encoding="utf-8")
        if beside:
            (tmp_path / student / report.ENGINE_RESULTS).write_text(json.dumps(forged), encoding="utf-8")
    batch = load_batch(tmp_path)
    assert batch.source == "otter"
    assert [(g.key, g.students) for g in diagnosis_groups(batch)] == [
        (("hint", "batch_mean_missing"), ["by-hand"]), (("test", name), ["with-engine"])]


def test_student_text_is_escaped(tmp_path):
    """Messages quote what student code raised, and submission names come from folder names."""
    name = "<b>eve</b>"
    batch = Batch(tmp_path, [name], {name: one_test_result("ValueError: <script>alert(1)</script> & more",
                                                           status="crashed")}, ["mlp"])
    text = render(batch)
    assert "<script>" not in text and "<b>eve" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text
    assert f'id="{anchor(name)}"' in text and not re.search(r'id="[^"]*[<>&][^"]*"', text)
    page = Page()
    page.feed(text)
    assert page.tables["Missing, not importable, timed out or crashed"][1][:3] == [name, "mlp", "crashed"]


def test_the_report_is_deterministic(grades, report):
    path, _ = report
    assert render(load_batch(grades[0])) == path.read_text(encoding="utf-8")


def test_message_pattern_blanks_numbers_not_names():
    assert message_pattern("dW1 from f(x): relative error 0.69 (limit 1e-06) at x=[-2. , 0.5]") == \
        "dW1 from f(x): relative error # (limit #) at x=[# , #]"


def test_report_command_explains_a_missing_batch(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grader", "report", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "gradebook.csv does not exist" in proc.stderr and "make grade" in proc.stderr


def test_report_command_writes_the_page(grades, tmp_path):
    batch = tmp_path / "grades"
    shutil.copytree(grades[0], batch)
    proc = subprocess.run([sys.executable, "-m", "grader", "report", str(batch)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (batch / "report.html").stat().st_size > 10_000


@pytest.mark.skipif(chromium() is None, reason="no Chromium: apt-get install chromium (make install-system)")
def test_headless_chromium_shows_the_plots(report, tmp_path):
    path, _ = report
    png = screenshot(path, tmp_path / "report.png", width=1100, height=2400, trim=False)
    with Image.open(png) as image:
        assert image.size == (1100, 2400)
        pixels = np.asarray(image.convert("RGB"))
    # These colours exist only inside the PNGs: the page's own CSS never uses them.
    assert np.all(pixels == HISTOGRAM_BLUE, axis=-1).sum() > 5_000, "the score and part plots did not render"
    assert np.all(pixels == FAILURE_RED, axis=-1).sum() > 5_000, "the failure-rate plot did not render"


# -- a class built from the catalog ----------------------------------------------------------
CLASS_SIZE = 16
CLASS_SEED = 12
BUG_RATE = 0.4            # the chance that a student carries a bug in a given part
# The bugs that forget the mean over the batch in a gradient: the diagnosis "did you forget to
# average over the batch?" must list exactly the students who carry one of them.
BATCH_MEAN_BUGS = {"gradient_summed_not_averaged", "backward_forgets_batch_mean"}


def catalog_class():
    """{student: {part: bug name}}: seeded, each student with a catalog bug in some parts (or none).
    Two students are given a bug that forgets the batch mean, so that the group is never empty."""
    from catalog.bugs import BUGS
    rng = random.Random(CLASS_SEED)
    by_part = {p: sorted(b.name for b in BUGS if b.part == p) for p in PARTS}
    plan = {}
    for i in range(CLASS_SIZE):
        plan[f"student{i + 1:02d}"] = {p: rng.choice(by_part[p]) for p in PARTS if rng.random() < BUG_RATE}
    plan["student01"]["mlp"] = "backward_forgets_batch_mean"
    plan["student02"]["logistic_regression"] = "gradient_summed_not_averaged"
    return plan


@pytest.fixture(scope="module")
def catalog_batch(bug_grades, graded_examples, tmp_path_factory):
    """The class as make grade writes it: a folder per student (results.json) and gradebook.csv.
    Each part's results come from the session's grading of that bug (or of the reference): a part is
    graded with the student's module for that part only, so the combination is what make grade gives.
    student03 has no mlp.py and student04 an activations.py that does not import."""
    plan = catalog_class()
    reference = graded_examples[1]["reference"]
    src = tmp_path_factory.mktemp("catalog-class-src")
    broken = troublemaker(src / "student04", [(RELU, "    return np.maximum(x, 0.0")])
    unimportable = grade([broken], tmp_path_factory.mktemp("catalog-class-broken"), parts=("activations",),
                         names=["student04"], quiet=True)["student04"]
    out = tmp_path_factory.mktemp("catalog-class")
    results = {}
    for name, bugs in plan.items():
        tests, parts = [], {}
        for part in PARTS:
            if name == "student03" and part == "mlp":
                source = dict(reference, tests=[dict(t, score=0.0, status="failed", output="mlp.py was not found "
                                                     "in the submission") for t in reference["tests"]
                                                if t["name"].startswith("mlp:")])
                info = {"score": 0.0, "max_score": 35.0, "status": "missing", "seconds": 0.0}
            elif name == "student04" and part == "activations":
                source, info = unimportable, unimportable["extra_data"]["parts"][part]
            else:
                source = bug_grades.part(part)[bugs[part]] if part in bugs else reference
                info = source["extra_data"]["parts"][part]
            tests += [t for t in source["tests"] if t["name"].startswith(f"{part}:")]
            parts[part] = info
        result = {"score": round(sum(i["score"] for i in parts.values()), 4), "max_score": 100.0, "tests": tests,
                  "extra_data": {"submission": name, "parts": parts}}
        (out / name).mkdir()
        (out / name / "results.json").write_text(json.dumps(result), encoding="utf-8")
        results[name] = result
    write_gradebook(out, [gradebook_row(n, r) for n, r in results.items()])
    return out, plan, results


def carriers(plan, bugs, *, exclude=()):
    return sorted(n for n, parts in plan.items() for part, bug in parts.items()
                  if bug in bugs and (n, part) not in exclude)


def test_the_batch_mean_diagnosis_lists_exactly_the_students_who_carry_that_bug(catalog_batch):
    out, plan, _ = catalog_batch
    groups = {g.key: g for g in diagnosis_groups(load_batch(out))}
    group = groups[("hint", "batch_mean_missing")]
    expected = carriers(plan, BATCH_MEAN_BUGS)
    assert group.students == expected and len(expected) >= 2, (group.students, expected)
    assert group.label == "did you forget to average over the batch?"
    # It gathers the tests of two parts and several tensors in one group (not one row per message).
    assert {t.split(":")[0] for t in group.tests} == {"logistic_regression", "mlp"} and len(group.tests) >= 8


def test_every_group_lists_the_students_whose_bugs_it_names(catalog_batch, bug_grades):
    """No reference part fails, so a group's students are the carriers of the bugs whose grading
    gives that diagnosis; missing and unimportable parts form no group."""
    from grader.engine.results import SubmissionResult
    from grader.instructor.report import diagnosis_of
    out, plan, _ = catalog_batch
    groups = diagnosis_groups(load_batch(out))
    for g in groups:
        causing = set()
        for name, parts in plan.items():
            for part, bug in parts.items():
                if (name, part) in (("student03", "mlp"), ("student04", "activations")):
                    continue
                result = SubmissionResult.from_json(bug_grades.part(part)[bug])
                if any(g.key in diagnosis_of(t) for t in result.tests if not t.passed):
                    causing.add(name)
        assert g.students == sorted(causing), (g.key, g.students, sorted(causing))
    assert groups == sorted(groups, key=lambda g: (-len(g.students), -g.failures, g.key[0] != "hint", g.label))


def otter_results(result):
    """The results.json otter writes for the same grading: one entry per part, whose output is otter's
    own summary of the part's test cases (built with otter's classes), after its "Public Tests"."""
    from otter.test_files.abstract_test import TestCase, TestCaseResult
    from otter.test_files.exception_test import ExceptionTestFile
    tests = [{"name": "Public Tests", "visibility": "visible", "output": "...", "status": "passed"}]
    for part in result["extra_data"]["parts"]:
        records = [t for t in result["tests"] if t["name"].startswith(f"{part}:")]
        cases = [TestCase(t["name"], None, t["visibility"] != "visible", t["max_score"], None, None) for t in records]
        test_file = ExceptionTestFile(part, "", cases, all_or_nothing=False)
        failed = f"❌ Test case failed\nError at line 30 in test {part}:\n      assert passed, feedback\nAssertionError: "
        test_file.test_case_results = [TestCaseResult(c, "✅ Test case passed" if t["status"] == "passed"
                                                      else failed + t["output"], t["status"] == "passed")
                                       for c, t in zip(cases, records)]
        tests.append({"name": part, "score": round(test_file.score, 5), "max_score": round(test_file.possible, 5),
                      "visibility": "hidden", "output": test_file.summary()})
    return {"tests": tests}


def test_otter_and_gradescope_results_give_the_same_groups(catalog_batch, tmp_path):
    out, plan, results = catalog_batch
    want = [(g.key, g.students, g.failures) for g in diagnosis_groups(load_batch(out))]
    rates = failures_per_test(load_batch(out))
    for kind in ("gradescope", "otter"):
        folder = tmp_path / kind
        for name, result in results.items():
            (folder / name).mkdir(parents=True)
            data = otter_results(result) if kind == "otter" else {k: v for k, v in result.items() if k != "extra_data"}
            (folder / name / "results.json").write_text(json.dumps(data), encoding="utf-8")
        batch = load_batch(folder)                # no gradebook.csv: the folders are the class
        assert batch.source == {"gradescope": "Gradescope", "otter": "otter"}[kind]
        assert [(g.key, g.students, g.failures) for g in diagnosis_groups(batch)] == want, kind
        # Every test is there, also where otter only says "All test cases passed!" for a part.
        assert failures_per_test(batch) == rates, kind
        assert all(len(batch.results[n].tests) == len(r["tests"]) for n, r in results.items()), kind
        for name, result in results.items():
            got = batch.results[name].parts
            assert {p: (i.score, i.status) for p, i in got.items()} == \
                {p: (i["score"], i["status"]) for p, i in result["extra_data"]["parts"].items()}, (kind, name)
        assert "student03" in render(batch)


def dom(page):
    """The page as headless Chromium parsed it (--dump-dom)."""
    import tempfile
    from grader.authoring.screenshots import CHROMIUM_FLAGS
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        proc = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                               Path(page).resolve().as_uri()], capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-1000:]
    return proc.stdout


@pytest.mark.skipif(chromium() is None, reason="no Chromium: apt-get install chromium (make install-system)")
def test_headless_chromium_shows_every_group_with_its_students(catalog_batch):
    out, plan, _ = catalog_batch
    page = Page()
    page.feed(dom(write_report(out)))
    rows = page.tables["What the class got wrong"][1:]
    groups = diagnosis_groups(load_batch(out))
    assert len(rows) == len(groups) > 10                          # all of them, not a top 15
    assert [int(r[2]) for r in rows] == [len(g.students) for g in groups]
    mean = next(r for r in rows if r[1].startswith("did you forget to average over the batch?"))
    assert mean[3].split(", ") == carriers(plan, BATCH_MEAN_BUGS)
    gradebook = [r[0] for r in page.tables["Gradebook"][1:]]
    assert gradebook == sorted(plan)
