"""The README's "Where to change what" table stays true: each row's files exist and hold its settings.

A row names files in its Edit column (`<part>` stands for each graded part; prose such as "then
`make assignment`" is not a file) and settings in its Setting column; every setting must occur in
at least one of the row's files, so that a renamed or moved setting fails here, not in a
newcomer's search.
"""
import re
import shutil
from pathlib import Path

from grader.parts import GRADED

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- where-to-change-what -->", "<!-- /where-to-change-what -->"


def rows(readme):
    """[(what, [file], [setting])] of the table in the README text `readme`."""
    table = readme[readme.index(START) + len(START):readme.index(END)].strip().splitlines()[2:]
    out = []
    for line in table:
        what, edit, setting = (cell.strip() for cell in line.strip().strip("|").split("|"))
        files = [f for f in re.findall(r"`([^`]+)`", edit) if "/" in f or f == "Makefile"]
        out.append((what, files, re.findall(r"`([^`]+)`", setting)))
    return out


def expand(path):
    return [path.replace("<part>", part) for part in GRADED] if "<part>" in path else [path]


def problems(root):
    """What is wrong with the table of root/README.md, a line each."""
    found = []
    for what, files, settings in rows((root / "README.md").read_text(encoding="utf-8")):
        paths = [p for f in files for p in expand(f)]
        missing = [p for p in paths if not (root / p).is_file()]
        found += [f"{what}: {p} does not exist" for p in missing]
        texts = [(root / p).read_text(encoding="utf-8") for p in paths if p not in missing]
        found += [f"{what}: none of {files} holds {s!r}" for s in settings if not any(s in t for t in texts)]
    return found


def test_the_table_has_its_rows():
    found = rows((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(found) >= 15, found
    assert all(files and settings for _, files, settings in found), [r for r in found if not (r[1] and r[2])]


def test_every_file_exists_and_holds_its_settings():
    assert not problems(ROOT), "\n".join(problems(ROOT))


def test_a_wrong_row_is_found(tmp_path):
    """The check fails on a setting that is not in its file and on a file that does not exist."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = "| a worker's memory | `grader/sandbox/limits.py` | `memory_bytes` |"
    assert row in readme
    (tmp_path / "README.md").write_text(readme.replace(row, row.replace("memory_bytes", "memory_megabytes")
                                                       + "\n| gone | `grader/nowhere.py` | `X` |"), encoding="utf-8")
    for _, files, _ in rows(readme):
        for rel in (p for f in files for p in expand(f)):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / rel, tmp_path / rel)
    assert problems(tmp_path) == ["a worker's memory: none of ['grader/sandbox/limits.py'] holds 'memory_megabytes'",
                                  "gone: grader/nowhere.py does not exist", "gone: none of ['grader/nowhere.py'] holds 'X'"]
