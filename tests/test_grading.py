"""End to end: `python -m grader grade` on the bundled examples.

The reference must score 100%, the untouched starter 0 without any part
crashing, and the partly correct example in between, with the failures on
the right tests.
"""
import csv
import json
import os
import subprocess
import sys

from grader.engine.grade import GRADEBOOK_COLUMNS, ROOT
from grader.engine.redact import Redactor
from grader.engine.results import SubmissionResult
from grader.parts import GRADED as PARTS

PART_POINTS = {"activations": 20, "logistic_regression": 20, "two_layer_net": 25, "mlp": 35}


def failed(result):
    return {t["name"]: t["output"] for t in result["tests"] if t["status"] != "passed"}


def test_reference_scores_full_marks(graded_examples):
    _, results = graded_examples
    ref = results["reference"]
    assert failed(ref) == {}
    assert ref["score"] == ref["max_score"] == 100
    for part, points in PART_POINTS.items():
        assert ref["extra_data"]["parts"][part] == {**ref["extra_data"]["parts"][part],
                                                   "score": points, "max_score": points, "status": "ok"}


def test_starter_scores_zero_without_crashing(graded_examples):
    _, results = graded_examples
    starter = results["starter"]
    assert starter["score"] == 0 and starter["max_score"] == 100
    assert all(t["status"] == "failed" for t in starter["tests"])
    assert {p["status"] for p in starter["extra_data"]["parts"].values()} == {"ok"}
    for t in starter["tests"]:
        assert "not implemented yet" in t["output"], t


def test_partial_example_loses_points_where_it_is_wrong(graded_examples):
    _, results = graded_examples
    parts = results["partial"]["extra_data"]["parts"]
    assert parts["logistic_regression"]["score"] == 20
    assert 0 < parts["activations"]["score"] < 20
    assert 0 < parts["two_layer_net"]["score"] < 25
    assert 0 < parts["mlp"]["score"] < 35
    fails = failed(results["partial"])
    assert "activations: tanh_backward matches finite differences" in fails
    assert "relative error" in fails["activations: tanh_backward matches finite differences"]
    assert "two_layer_net: backward matches finite differences (W2)" in fails
    assert "mlp: softmax matches e^z / Σ e^z row by row, and rows sum to 1" not in fails
    backward = fails["mlp: backward matches finite differences (W1)"]
    assert "forward is not implemented" in backward and "cache your forward returns" in backward


def test_results_json_follows_the_gradescope_schema(graded_examples):
    out, results = graded_examples
    names = None
    for name in results:
        data = json.loads((out / name / "results.json").read_text(encoding="utf-8"))
        assert {"score", "max_score", "tests", "output"} <= set(data)
        # The schema reads it back as written (grader/engine/results.py): the same text, key for key.
        assert json.dumps(SubmissionResult.from_json(data).to_gradescope()) == json.dumps(data)
        for t in data["tests"]:
            assert set(t) >= {"name", "score", "max_score", "output", "visibility", "status"}
            assert t["name"].split(": ", 1)[0] in PARTS
            assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
            assert 0 <= t["score"] <= t["max_score"]
        assert abs(data["score"] - sum(t["score"] for t in data["tests"])) < 1e-9
        test_names = [t["name"] for t in data["tests"]]
        assert len(test_names) == len(set(test_names))
        names = names or test_names
        assert test_names == names, "every submission gets the same list of tests"
    assert sum(1 for t in results["reference"]["tests"] if t["visibility"] == "visible") >= 8


def test_gradebook_csv(graded_examples):
    out, results = graded_examples
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == GRADEBOOK_COLUMNS
    by_name = {r["submission"]: r for r in rows}
    assert set(by_name) == {"reference", "starter", "partial"}
    assert by_name["reference"]["total"] == "100" and by_name["starter"]["total"] == "0"
    for row in rows:
        assert float(row["total"]) == sum(float(row[p]) for p in PARTS)
        assert row["status"] == "ok"


def test_feedback_never_repeats_hidden_code(graded_examples):
    _, results = graded_examples
    redactor = Redactor.default()
    for result in results.values():
        for t in result["tests"]:
            assert not redactor.leaks(t["output"]), t
            assert len(t["output"]) <= 1600


def test_command_line_grades_the_bundled_examples(tmp_path):
    """`python -m grader grade --out DIR` with no submissions works on a fresh clone, and pytest options or
    plugins in the grader's environment (an instructor's shell) have no say in the hidden suites: with them
    leaking in, no test would run (--collect-only) or the judge would not start (an unknown plugin)."""
    env = dict(os.environ, PYTEST_ADDOPTS="--collect-only", PYTEST_PLUGINS="no_such_plugin_of_an_instructor")
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--out", str(tmp_path), "-j", "2",
                           "--parts", "logistic_regression"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "reference" in proc.stdout and "starter" in proc.stdout and "partial" in proc.stdout
    assert (tmp_path / "gradebook.csv").exists()
    for name in ("reference", "starter", "partial"):
        assert (tmp_path / name / "results.json").exists()
    reference = json.loads((tmp_path / "reference" / "results.json").read_text(encoding="utf-8"))
    assert reference["tests"] and reference["score"] == reference["max_score"] == 20, reference["output"]


def test_names_in_any_script_stay_apart(tmp_path):
    """Folder names become result folders and gradebook rows; a class list in another script
    must not collapse into submission, submission-2, ..."""
    from grader.engine.submission import read_submission as stage_submission
    names = []
    for folder in ("张伟", "李娜", "José Núñez", "../..", "a/b"):
        path = tmp_path / "subs" / folder
        path.mkdir(parents=True, exist_ok=True)
        names.append(stage_submission(path, tmp_path / "staged").name)
    assert names[:3] == ["张伟", "李娜", "José_Núñez"]
    assert all("/" not in n and n not in ("", ".", "..") for n in names)


def test_same_names_and_a_corrupt_zip_cost_nobody_else(tmp_path):
    """Two folders called alice keep their own files; a zip with a bad CRC costs only itself."""
    import shutil
    import zipfile
    from grader.engine.grade import grade
    for who, source in (("a", "solutions"), ("b", "assignment")):
        (tmp_path / who / "alice").mkdir(parents=True)
        shutil.copyfile(ROOT / source / "activations.py", tmp_path / who / "alice" / "activations.py")
    bad = tmp_path / "bob.ZIP"
    with zipfile.ZipFile(bad, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("hw/activations.py", (ROOT / "solutions" / "activations.py").read_text())
    data = bytearray(bad.read_bytes())
    at = data.index(b"import numpy")
    data[at] ^= 0x20                                    # the stored bytes no longer match their CRC
    bad.write_bytes(bytes(data))
    windows = tmp_path / "carol.zip"
    with zipfile.ZipFile(windows, "w") as zf:           # as PowerShell's Compress-Archive writes it
        zf.writestr("hw\\activations.py", (ROOT / "solutions" / "activations.py").read_text())
    paths = [tmp_path / "a" / "alice", tmp_path / "b" / "alice", bad, windows]
    results = grade([str(p) for p in paths], tmp_path / "out", jobs=2, parts=("activations",), quiet=True)
    assert results["alice"]["score"] == 20 and results["alice-2"]["score"] == 0
    assert results["bob"]["score"] == 0
    assert "bob.ZIP could not be read (BadZipFile" in json.dumps(results["bob"])
    assert results["carol"]["score"] == 20
