"""`make test-fast` (the Makefile's TEST_FAST) stays fast: its files exist and none of them grades.

Grading is what costs time in the kit's tests (a judge and a sandboxed worker per part, or a
`make check` run). A file that starts doing that belongs to `make test` only.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADES = re.compile(r"\bgrade\(|\"grade\"|'grade'|assignment\.check|run_autograder|otter\"?, \"run|"
                    r"judge\.main|\bcalibrate\(")


def fast_files():
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("TEST_FAST ="))
    return line.split("=", 1)[1].split()


def test_the_fast_files_exist_and_are_test_files():
    files = fast_files()
    assert files and len(files) == len(set(files))
    for name in files:
        assert (ROOT / name).is_file() and re.fullmatch(r"tests/test_\w+\.py", name), name


def test_no_fast_file_grades():
    for name in fast_files():
        text = (ROOT / name).read_text(encoding="utf-8")
        if name == "tests/test_fast_selection.py":
            continue
        found = GRADES.findall(text)
        assert not found, f"{name} grades ({found}): move it out of TEST_FAST (Makefile)"


def test_the_pattern_finds_a_grading():
    assert GRADES.search("results = grade([str(folder)], out, jobs=2)")
    assert GRADES.search('subprocess.run([sys.executable, "-m", "assignment.check", "--run", part])')
    assert not GRADES.search("from grader.engine.grade import ROOT")
