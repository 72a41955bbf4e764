"""`make report` (grader/report.py) on real grades: the bundled examples (shared
fixture) plus two submissions that hang and crash, graded here with short limits.

The page is checked twice: parsed (tables, order, escaping, embedded PNGs) and
rendered by a headless Chromium, whose screenshot must show the plots.
"""
import base64
import io
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.grade import grade, gradebook_row, write_gradebook
from grader.report import Batch, common_messages, load_batch, message_pattern, render, write_report
from grader.sandbox.client import Limits
from grader.screenshots import chromium, screenshot

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
    """A batch directory: the three examples plus `hangs` (timeout) and `crashes` (crashed)."""
    src = tmp_path_factory.mktemp("troublemakers")
    hangs = troublemaker(src / "hangs", [(RELU, "    while True:\n        pass")])
    crashes = troublemaker(src / "crashes", [(RELU, "    import os\n    os._exit(3)")])
    # Short limits, so that the endless loop costs seconds, not minutes (the reference's
    # activations need about 1 s of calls).
    trouble = grade([hangs, crashes], tmp_path_factory.mktemp("trouble"), jobs=2, names=["hangs", "crashes"],
                    quiet=True, limits=Limits(call_seconds=2, part_seconds=10))
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


def test_tests_are_sorted_most_failed_first(report, grades):
    _, page = report
    rows = page.tables["Tests most submissions fail"][1:]
    counts = [int(r[2].split(" / ")[0]) for r in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    failed = {}
    for result in grades[1].values():
        for t in result["tests"]:
            failed[t["name"]] = failed.get(t["name"], 0) + (t["status"] != "passed")
    assert counts[0] == max(failed.values())
    assert {r[1] for r in rows} == {name for name, n in failed.items() if n}
    assert rows[0][2] == f"{counts[0]} / 5"


def test_part_means_match_the_gradebook(report, grades):
    _, page = report
    table = {r[0]: r for r in page.tables["Mean score per part"][1:]}
    for part in ("activations", "logistic_regression", "two_layer_net", "mlp"):
        scores = [r["extra_data"]["parts"][part]["score"] for r in grades[1].values()]
        assert float(table[part][1]) == pytest.approx(sum(scores) / len(scores), abs=0.005)


def test_timeouts_and_crashes_are_listed_first(report):
    _, page = report
    rows = page.tables["Timed out, crashed or not graded"][1:]
    assert rows[0][:3] == ["hangs", "activations", "timeout"]
    assert rows[1][:3] == ["crashes", "activations", "crashed"]
    assert "did not finish within 2 s" in rows[0][4] and "exited with status 3" in rows[1][4], rows[:2]
    missing = {(r[0], r[1]) for r in rows if r[2] == "missing"}
    assert missing == {(n, p) for n in ("hangs", "crashes") for p in ("logistic_regression", "two_layer_net", "mlp")}
    assert not any(r[0] in ("reference", "starter", "partial") for r in rows)


def test_common_messages_are_ranked_by_submissions(report):
    _, page = report
    rows = page.tables["Most common failure messages"][1:]
    ranks = [(int(r[0]), int(r[1])) for r in rows]
    assert ranks == sorted(ranks, reverse=True)
    submissions = {r[2]: int(r[0]) for r in rows}
    # No message is shared by 3 of the 5 submissions; these are shared by 2 (hangs and crashes; starter and partial).
    assert ranks[0][0] == 2
    assert submissions["mlp.py was not found in the submission"] == 2
    assert submissions["mlp.fit is not implemented yet (it raises NotImplementedError)"] == 2


def one_test_result(output, status="ok"):
    test = {"name": "mlp: backward", "score": 0, "max_score": 1, "status": "failed", "output": output}
    return {"score": 0, "max_score": 1, "tests": [test],
            "extra_data": {"parts": {"mlp": {"score": 0, "max_score": 1, "status": status, "seconds": 1}}}}


def test_messages_that_differ_only_in_numbers_count_together(tmp_path):
    batch = Batch(tmp_path, ["a", "b", "c"], {"a": one_test_result("dW1: relative error 0.69 (limit 1e-06)"),
                                              "b": one_test_result("dW1: relative error 0.71 (limit 1e-06)"),
                                              "c": one_test_result("dW2: relative error 0.5 (limit 1e-06)")}, ["mlp"])
    assert common_messages(batch) == [("dW1: relative error # (limit #)", 2, 2, ["mlp: backward"]),
                                      ("dW2: relative error # (limit #)", 1, 1, ["mlp: backward"])]


def test_student_text_is_escaped(tmp_path):
    """Messages quote what student code raised, and submission names come from folder names."""
    name = "<b>eve</b>"
    batch = Batch(tmp_path, [name], {name: one_test_result("ValueError: <script>alert(1)</script> & more",
                                                           status="crashed")}, ["mlp"])
    text = render(batch)
    assert "<script>" not in text and "<b>eve" not in text
    assert "&lt;script&gt;alert(#)&lt;/script&gt; &amp; more" in text                 # the messages table
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text                 # the trouble table
    page = Page()
    page.feed(text)
    assert page.tables["Timed out, crashed or not graded"][1][:3] == [name, "mlp", "crashed"]


def test_the_report_is_deterministic(grades, report):
    path, _ = report
    assert render(load_batch(grades[0])) == path.read_text(encoding="utf-8")


def test_message_pattern_blanks_numbers_not_names():
    assert message_pattern("dW1 from f(x): relative error 0.69 (limit 1e-06) at x=[-2. , 0.5]") == \
        "dW1 from f(x): relative error # (limit #) at x=[# , #]"


def test_report_command_explains_a_missing_batch(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grader.report", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "gradebook.csv does not exist" in proc.stderr and "make grade" in proc.stderr


def test_report_command_writes_the_page(grades, tmp_path):
    batch = tmp_path / "grades"
    shutil.copytree(grades[0], batch)
    proc = subprocess.run([sys.executable, "-m", "grader.report", str(batch)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
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
