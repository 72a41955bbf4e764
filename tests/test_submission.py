"""Reading submissions (grader/engine/submission.py), issue 17: a file named in the wrong letter case
is not graded but named in the message, and a zip of too many entries is refused before it is listed.
"""
import struct
import zipfile

import pytest

from grader.engine import submission
from grader.engine.submission import MAX_ZIP_ENTRIES, read_submission, zip_entries
from grader.instructor.report import MISSING
from grader.parts import GRADED

CODE = "def f():\n    return 1\n"


def hint(part, there):
    return (f"{part}.py was not found in the submission (there is {there}: rename it {part}.py; "
            f"names are case-sensitive)")


def test_a_file_in_the_wrong_case_is_named_not_graded(tmp_path):
    sub = tmp_path / "ada"
    sub.mkdir()
    (sub / "MLP.py").write_text(CODE)
    (sub / "Activations.py").write_text(CODE)
    (sub / "hw").mkdir()
    (sub / "hw" / "Two_Layer_Net.PY").write_text(CODE)
    (sub / "logistic_regression.py").write_text(CODE)
    staged = read_submission(sub, tmp_path / "work")
    assert staged.files["mlp"] is None and staged.files["activations"] is None
    assert staged.files["two_layer_net"] is None and staged.files["logistic_regression"] is not None
    assert staged.problems == {"mlp": hint("mlp", "MLP.py"), "activations": hint("activations", "Activations.py"),
                               "two_layer_net": hint("two_layer_net", "hw/Two_Layer_Net.PY")}
    assert all(MISSING.search(m) for m in staged.problems.values())     # make report: still "missing"


def test_a_zip_names_the_misnamed_file_with_its_folder(tmp_path):
    path = tmp_path / "bob.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bob/assignment/MLP.py", CODE)
        zf.writestr("bob\\Activations.py", CODE)              # a Windows tool's separator
        zf.writestr("bob/assignment/two_layer_net.py", CODE)
    staged = read_submission(path, tmp_path / "work")
    assert staged.problems["mlp"] == hint("mlp", "bob/assignment/MLP.py")
    assert staged.problems["activations"] == hint("activations", "bob/Activations.py")
    assert staged.problems["logistic_regression"] == "logistic_regression.py was not found in the submission"
    assert staged.files["two_layer_net"] is not None and "two_layer_net" not in staged.problems


def test_the_exact_name_wins_and_hidden_folders_give_no_hint(tmp_path):
    sub = tmp_path / "cy"
    (sub / "deep").mkdir(parents=True)
    (sub / "MLP.py").write_text("x = 'wrong case'\n")
    (sub / "deep" / "mlp.py").write_text(CODE)                 # deeper, but the exact name
    (sub / ".git").mkdir()
    (sub / ".git" / "Activations.py").write_text(CODE)
    (sub / "__MACOSX").mkdir()
    (sub / "__MACOSX" / "ACTIVATIONS.py").write_text(CODE)
    staged = read_submission(sub, tmp_path / "work")
    assert open(staged.files["mlp"]).read() == CODE and "mlp" not in staged.problems
    assert staged.problems["activations"] == "activations.py was not found in the submission"


def test_the_shallowest_misnamed_file_is_named(tmp_path):
    sub = tmp_path / "dee"
    (sub / "a" / "b").mkdir(parents=True)
    (sub / "a" / "b" / "mlp.Py").write_text(CODE)
    (sub / "a" / "Mlp.py").write_text(CODE)
    assert read_submission(sub, tmp_path / "work").problems["mlp"] == hint("mlp", "a/Mlp.py")


def many_entries_zip(path, n, graded=True):
    """A zip of n entries: mlp.py and n - 1 empty files (stored), as zipfile writes it (zip64 past 65,535)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        if graded:
            zf.writestr("mlp.py", CODE)
        for i in range(n - graded):
            zf.writestr(f"venv/{i}", b"")
    return path


@pytest.fixture(scope="module")
def huge_zip(tmp_path_factory):
    """Past the cap, and past 65,535 entries: its counts are in the zip64 end record."""
    return many_entries_zip(tmp_path_factory.mktemp("huge") / "eve.zip", 66_000)


def test_a_zip_of_too_many_entries_is_refused_unlisted_and_costs_that_submission_only(
        tmp_path, huge_zip, monkeypatch):
    assert MAX_ZIP_ENTRIES == 50_000
    fay = many_entries_zip(tmp_path / "fay.zip", 3)
    listed = []
    real = zipfile.ZipFile.__init__

    def watch(self, file, *args, **kwargs):
        listed.append(str(file))
        return real(self, file, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", watch)
    staged = read_submission(huge_zip, tmp_path / "work")
    assert listed == []                                        # zipfile never read its central directory
    expected = ("eve.zip has 66000 entries; at most 50000 are read: upload a zip of the graded files only "
                "(make submission writes one)")
    assert staged.problems == {part: expected for part in GRADED}
    assert all(f is None for f in staged.files.values())
    assert all(MISSING.search(m) for m in staged.problems.values())
    # The next submission of the batch is read as ever.
    other = read_submission(fay, tmp_path / "work")
    assert other.files["mlp"] is not None and listed == [str(fay)]


def test_the_cap_counts_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr(submission, "MAX_ZIP_ENTRIES", 10)
    at = read_submission(many_entries_zip(tmp_path / "at.zip", 10), tmp_path / "work")
    assert at.files["mlp"] is not None
    over = read_submission(many_entries_zip(tmp_path / "over.zip", 11), tmp_path / "work")
    assert over.files["mlp"] is None and over.problems["mlp"].startswith("over.zip has 11 entries; at most 10")


def test_zip_entries_counts_the_headers_not_what_the_end_record_claims(tmp_path, huge_zip):
    assert zip_entries(huge_zip) == 66_000                     # zip64
    small = many_entries_zip(tmp_path / "small.zip", 300)
    assert zip_entries(small) == 300
    data = bytearray(small.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)               # "1 entry", over a directory of 300
    (tmp_path / "lies.zip").write_bytes(bytes(data))
    assert len(zipfile.ZipFile(tmp_path / "lies.zip").infolist()) == 300
    assert zip_entries(tmp_path / "lies.zip") == 300
    # A comment after the end record, and bytes before the zip (a self-extracting archive).
    with zipfile.ZipFile(tmp_path / "comment.zip", "w") as zf:
        zf.writestr("mlp.py", CODE)
        zf.comment = b"a comment after the end record" * 50
    assert zip_entries(tmp_path / "comment.zip") == 1
    (tmp_path / "sfx.zip").write_bytes(b"#!/bin/sh\nexit 0\n" * 100 + small.read_bytes())
    assert zip_entries(tmp_path / "sfx.zip") == 300
    assert read_submission(tmp_path / "sfx.zip", tmp_path / "work").files["mlp"] is not None
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    assert zip_entries(tmp_path / "junk.zip") is None
