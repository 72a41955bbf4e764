"""Batches that show progress, survive interruption and merge into the class gradebook.

Every batch here grades one cheap part (logistic_regression, ~1 s per submission), so that the
behaviour is tested, not the throughput (tests/bench/bench_grading.py measures that).
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader.engine.grade import GRADEBOOK_COLUMNS, ROOT, grade, rebuild_gradebook

PART = "logistic_regression"


def rows_of(folder):
    with open(folder / "gradebook.csv", newline="", encoding="utf-8") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


def students(tmp_path, n, slow_from=None):
    """n submissions: even ones the reference module, odd ones the starter's. From `slow_from` on, each
    module takes 3 s of wall-clock time to import (it sleeps), on any machine."""
    subs = []
    for i in range(n):
        folder = tmp_path / "subs" / f"student{i:02d}"
        folder.mkdir(parents=True)
        source = "solutions" if i % 2 == 0 else "assignment"
        text = (ROOT / source / f"{PART}.py").read_text(encoding="utf-8")
        if slow_from is not None and i >= slow_from:
            text = "import time\ntime.sleep(3)\n" + text
        (folder / f"{PART}.py").write_text(text, encoding="utf-8")
        subs.append(folder)
    return subs


def test_regrading_one_student_keeps_the_others_and_resumes_without_work(tmp_path):
    subs = students(tmp_path, 3)
    out = tmp_path / "out"
    grade([str(s) for s in subs], out, jobs=2, parts=(PART,), quiet=True)
    assert list(rows_of(out)) == ["student00", "student01", "student02"]
    assert rows_of(out)["student01"]["total"] == "0"
    first = {name: (out / name / "results.json").stat().st_mtime_ns for name in rows_of(out)}

    # student01 fixes the bug and is graded again, alone, into the same folder.
    shutil.copyfile(ROOT / "solutions" / f"{PART}.py", subs[1] / f"{PART}.py")
    again = grade([str(subs[1])], out, jobs=2, parts=(PART,), quiet=True)
    assert again["student01"]["score"] == 20
    rows = rows_of(out)
    assert list(rows) == ["student00", "student01", "student02"]            # the class, in its order
    assert rows["student01"]["total"] == "20" and rows["student00"]["total"] == "20"
    assert list(next(iter(rows.values()))) == GRADEBOOK_COLUMNS

    # The same command again: nothing changed, nothing is graded (the files are not rewritten).
    kept = grade([str(s) for s in subs], out, jobs=2, parts=(PART,), quiet=True)
    assert kept["student01"]["score"] == 20
    assert (out / "student00" / "results.json").stat().st_mtime_ns == first["student00"]
    # --force grades it anyway; another part list or other files are another grading.
    grade([str(subs[0])], out, jobs=2, parts=(PART,), quiet=True, force=True)
    assert (out / "student00" / "results.json").stat().st_mtime_ns != first["student00"]

    # make report's input rebuilt from the results.json files alone (logs/ and strays ignored).
    (out / "gradebook.csv").unlink()
    (out / "notes").mkdir()
    (out / "notes" / "results.json").write_text('{"tests": []}')               # not make grade's
    proc = subprocess.run([sys.executable, "-m", "grader", "gradebook", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0 and "3 submissions" in proc.stdout, proc.stderr
    assert sorted(rows_of(out)) == ["student00", "student01", "student02"]
    assert rebuild_gradebook(out)[1]["total"] == "20"


def test_ctrl_c_keeps_what_was_graded_and_the_same_command_resumes(tmp_path):
    """8 submissions, Ctrl-C once a few results.json exist: a one-line summary, no traceback, the
    graded ones written with their gradebook rows; the same command then grades only the rest. The six
    last ones take 3 s each to import, so that the batch is still running when the signal comes, however
    fast or busy the machine."""
    subs = students(tmp_path, 8, slow_from=2)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "grade", *map(str, subs), "--out", str(out), "-j", "2", "--parts", PART]
    marker = f"MLP_KIT_TEST_BATCH_{os.getpid()}_{time.monotonic_ns()}"      # inherited by its judges
    env = dict(os.environ, **{marker: "1"})
    # A terminal's foreground command starts with SIGINT's default action; a process started from a
    # pytest worker may inherit SIGINT ignored, and Python then never raises KeyboardInterrupt.
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while proc.poll() is None and len(list(out.glob("*/results.json"))) < 2:
        time.sleep(0.05)
    assert proc.poll() is None, "the batch ended before two results were written"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=600)
    written = sorted(p.parent.name for p in out.glob("*/results.json"))
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-2000:]
    summary = [line for line in stderr.splitlines() if line.startswith("interrupted:")]
    assert len(summary) == 1 and f"{len(written)} submission(s) graded" in summary[0], stderr[-2000:]
    assert 2 <= len(written) < 8, written
    assert sorted(rows_of(out)) == written                                     # a row per results.json
    for name in written:
        json.loads((out / name / "results.json").read_text(encoding="utf-8"))  # whole files
    assert not list(out.glob("**/.*.tmp"))

    def judges():                            # the batch's judges and their server carry the marker
        found = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if f"{marker}=1".encode() in environ.read_bytes():
                    found.append(environ.parent.name)
            except OSError:
                pass
        return found
    deadline = time.monotonic() + 60        # a killed judge takes a moment to be reaped on a busy machine
    while judges() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert judges() == [], "a judge outlived the batch"

    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{len(written)} submission(s) already graded" in proc.stderr
    assert f"wrote {8 - len(written)} results.json" in proc.stdout
    rows = rows_of(out)
    assert sorted(rows) == [f"student{i:02d}" for i in range(8)]
    assert [rows[f"student{i:02d}"]["total"] for i in range(8)] == ["20", "0"] * 4
    # stderr is a pipe, no terminal: progress as plain lines (a bar would be \r-joined into one line)
    assert f"graded {8 - len(written)} of {8 - len(written)} submission(s) in" in proc.stderr, proc.stderr[-2000:]


def test_a_line_per_submission_that_fails_to_stage_or_times_out(tmp_path, capsys):
    bad = tmp_path / "bob.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    slow = tmp_path / "carol"
    slow.mkdir()
    (slow / f"{PART}.py").write_text("import time\ntime.sleep(60)\n")          # an import that never ends
    grade([str(bad), str(slow)], tmp_path / "out", jobs=2, parts=(PART,),
          limits=__import__("grader.sandbox.client", fromlist=["Limits"]).Limits(start_seconds=3))
    err = capsys.readouterr().err
    assert "bob: logistic_regression not staged: bob.zip is neither a folder nor a zip file" in err
    assert "carol: logistic_regression import error" in err or "carol: logistic_regression timeout" in err
    assert set(rows_of(tmp_path / "out")) == {"bob", "carol"}


def test_a_part_the_machine_could_not_grade_is_graded_again_at_the_end(tmp_path, monkeypatch):
    """The first grading of student01 says "not graded" (as an overloaded machine would make it): the batch
    grades that part again, one judge at a time, and keeps only the real verdict."""
    import grader.engine.grade as engine
    subs = students(tmp_path, 3)
    real, seen = engine.grade_part, []

    def flaky(sub, part, *args, **kwargs):
        seen.append(sub.name)
        result = real(sub, part, *args, **kwargs)
        if sub.name == "student01" and seen.count("student01") == 1:
            result = dict(result, status="not graded",
                          tests=[dict(t, score=0.0, status="not graded", output="not graded: too busy")
                                 for t in result["tests"]])
        return result
    monkeypatch.setattr(engine, "grade_part", flaky)
    results = grade([str(s) for s in subs], tmp_path / "out", jobs=2, parts=(PART,), quiet=True)
    assert seen.count("student01") == 2 and seen.count("student00") == 1
    assert results["student01"]["extra_data"]["parts"][PART]["status"] == "ok"
    assert [rows_of(tmp_path / "out")[f"student{i:02d}"]["total"] for i in range(3)] == ["20", "0", "20"]


def test_not_graded_is_never_kept_and_says_so(tmp_path):
    """A wall-clock backstop far below what the calls need (0.5 s, against a 100 s limit): every test that
    computes for a second is not graded, never failed; the command exits with status 3 and names the
    submission; the same command again grades it again instead of keeping it."""
    sub = tmp_path / "subs" / "busy"
    sub.mkdir(parents=True)
    text = (ROOT / "solutions" / f"{PART}.py").read_text(encoding="utf-8")
    text += ("\n\n_predict = predict\n\n\ndef predict(X, w, b):\n    import time\n    end = time.process_time() + 1\n"
             "    while time.process_time() < end:\n        pass\n    return _predict(X, w, b)\n")
    (sub / f"{PART}.py").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "grade", str(sub), "--out", str(out), "--parts", PART, "--limits",
           json.dumps({"test_seconds": 100, "backstop_multiple": 0, "backstop_seconds": 0.5})]
    first = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert first.returncode == 3, first.stderr[-2000:]
    assert "not graded: 1 submission(s)" in first.stderr and "busy" in first.stderr
    result = json.loads((out / "busy" / "results.json").read_text(encoding="utf-8"))
    assert result["extra_data"]["parts"][PART]["status"] == "not graded"
    stalled = [t for t in result["tests"] if t["status"] == "not graded"]
    assert stalled and all(t["score"] == 0 and "this is not your fault" in t["output"] for t in stalled)
    assert not [t for t in result["tests"] if t["status"] == "failed"], result["tests"]
    assert rows_of(out)["busy"]["status"] == f"{PART}: not graded"
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert again.returncode == 3 and "already graded" not in again.stderr, again.stderr[-2000:]


def test_a_batch_keeps_its_calibration_and_force_measures_it_again(tmp_path, monkeypatch):
    """The limits of a re-run are those of the first run (its calibration.json), on the same machine
    with the same kit; --force measures them again."""
    from grader.engine.grade import CALIBRATION_CACHE_ENV, CALIBRATION_NAME
    monkeypatch.delenv(CALIBRATION_CACHE_ENV, raising=False)
    subs = students(tmp_path, 2)
    out = tmp_path / "grades"
    log = out / "logs" / f"calibration-{PART}.log"
    first = grade([str(subs[0])], out, parts=(PART,), quiet=True)["student00"]
    kept = json.loads((out / CALIBRATION_NAME).read_text(encoding="utf-8"))
    assert set(kept["parts"]) == {PART} and kept["key"]["host"] == first["extra_data"]["time"]["host"]
    assert log.exists(), "the first run measured nothing"
    log.unlink()
    later = grade([str(subs[1])], out, parts=(PART,), quiet=True)["student01"]
    assert not log.exists(), "a later batch into the same folder measured the calibration again"
    assert later["extra_data"]["time"]["reference_seconds"] == first["extra_data"]["time"]["reference_seconds"]
    limits = [t["extra_data"]["time"]["limit"] for t in first["tests"]]
    assert [t["extra_data"]["time"]["limit"] for t in later["tests"]] == limits
    grade([str(subs[1])], out, parts=(PART,), quiet=True, force=True)
    assert log.exists(), "--force kept the old calibration"
