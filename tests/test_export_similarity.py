"""LMS export (python -m grader export --canvas) and the similarity report (make similarity)."""
import ast
import builtins
import csv
import io
import json
import keyword
import shutil
import subprocess
import sys
import tokenize

from grader.instructor import similarity
from grader.instructor.export import CANVAS_COLUMNS, canvas_csv
from grader.engine.grade import ROOT, gradebook_row, write_gradebook
from grader.parts import GRADED
from catalog import ALTERNATIVES


# -- Canvas ----------------------------------------------------------------------------------
def fake_batch(folder, totals):
    """A graded folder: results.json per submission and the gradebook, as make grade writes them."""
    results = {}
    for name, total in totals.items():
        result = {"score": total, "max_score": 100, "tests": [],
                  "extra_data": {"submission": name, "parts": {"mlp": {"score": total, "max_score": 100,
                                                                       "status": "ok", "seconds": 1.0}}}}
        (folder / name).mkdir(parents=True)
        (folder / name / "results.json").write_text(json.dumps(result))
        results[name] = result
    write_gradebook(folder, [gradebook_row(n, r) for n, r in results.items()])


def test_canvas_export_has_canvas_columns_and_names_everyone_left_out(tmp_path):
    graded = tmp_path / "grades"
    fake_batch(graded, {"ada": 92.5, "alan": 40.0, "stranger": 77.0})
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffsubmission,student_id,name,login_id,section\n"           # saved by a spreadsheet
                      "ada,s1001,\"Lovelace, Ada\",ada,A\nalan,s1002,\"Turing, Alan\",alan,A\n"
                      "grace,s1003,\"Hopper, Grace\",grace,B\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "grader", "export", "--canvas", str(roster), str(graded),
                           "--column", "HW3 MLP"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    # A graded submission without a roster entry would not reach Canvas: listed, and the command fails.
    assert proc.returncode == 1, proc.stderr
    assert "stranger" in proc.stdout and "NOT in" in proc.stdout
    assert "grace (SIS User ID s1003)" in proc.stdout and "no graded submission" in proc.stdout
    with open(graded / "canvas.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [*CANVAS_COLUMNS, "HW3 MLP"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "100"
    body = {r[2]: r for r in rows[2:]}                                   # by SIS User ID
    assert body["s1001"] == ["Lovelace, Ada", "", "s1001", "ada", "A", "92.5"]
    assert body["s1002"][-1] == "40" and body["s1003"][-1] == ""          # no submission: cell left as it is
    assert len(rows) == 2 + 3 and not any("stranger" in ",".join(r) for r in rows)


def test_canvas_export_refuses_a_roster_without_its_columns(tmp_path):
    graded = tmp_path / "grades"
    fake_batch(graded, {"ada": 10.0})
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAda,ada@example.org\n")
    proc = subprocess.run([sys.executable, "-m", "grader", "export", "--canvas", str(roster), str(graded)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "needs the columns submission, student_id" in proc.stderr
    text, unmatched, absent = canvas_csv({"ada": ("10", "ok")}, {"ada": {"submission": "ada", "student_id": "7"}},
                                         "HW", 100)
    assert text.splitlines()[2] == ",,7,,,10" and unmatched == absent == []


# -- similarity -------------------------------------------------------------------------------
def rename_variables(source):
    """The same code with every variable and argument renamed (as a student hiding a copy would)."""
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    names -= set(dir(builtins)) | set(keyword.kwlist)
    mapping = {n: f"my_{n[::-1]}_{i}" for i, n in enumerate(sorted(names))}
    out, previous = [], None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in mapping and not (previous and previous.string == "."):
            tok = tok._replace(string=mapping[tok.string])
        out.append(tok)
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            previous = tok
    return tokenize.untokenize(out)


def test_a_renamed_copy_tops_a_batch_of_distinct_correct_solutions(tmp_path):
    """The reference and the catalog's correct alternatives (distinct solutions), plus one
    alternative copied with its variables renamed: that pair is first in its parts, far ahead.
    Measured: the copies score 100%; the next pairs 51% (activations: logaddexp and tanh_form
    share their stable sigmoid) and 24% (two_layer_net)."""
    subs = tmp_path / "subs"
    (subs / "reference").mkdir(parents=True)
    for part in GRADED:
        shutil.copyfile(ROOT / "solutions" / f"{part}.py", subs / "reference" / f"{part}.py")
    for path in sorted(ALTERNATIVES.glob("*__*.py")):
        part = path.stem.split("__", 1)[0]
        (subs / path.stem).mkdir()
        shutil.copyfile(path, subs / path.stem / f"{part}.py")
    copied = {"two_layer_net": "two_layer_net__per_example", "activations": "activations__loops"}
    (subs / "mallory").mkdir()
    for part, original in copied.items():
        source = (ALTERNATIVES / f"{original}.py").read_text(encoding="utf-8")
        renamed = rename_variables(source)
        assert renamed != source and ast.dump(ast.parse(renamed)) != ast.dump(ast.parse(source))
        (subs / "mallory" / f"{part}.py").write_text(renamed, encoding="utf-8")

    proc = subprocess.run([sys.executable, "-m", "grader", "similarity", *sorted(map(str, subs.iterdir())),
                           "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "similarity.html").read_text(encoding="utf-8")
    found = similarity.compare(similarity.collect(sorted(map(str, subs.iterdir()))))
    for part, original in copied.items():
        top, second = found[part][0], found[part][1]
        assert {top["a"], top["b"]} == {original, "mallory"}, (part, top)
        assert top["score"] > 0.9 and top["score"] - second["score"] > 0.3, (part, top["score"], second["score"])
        assert f"most similar {min(original, 'mallory')} and {max(original, 'mallory')}" in proc.stdout
    # Distinct correct solutions stay apart, and the starter (boilerplate) makes nothing alike.
    assert all(p["score"] < 0.6 for part in found for p in found[part] if "mallory" not in (p["a"], p["b"]))
    assert page.count("<mark>") > 10 and "mallory" in page
    # The same batch gives the same page.
    again = subprocess.run([sys.executable, "-m", "grader", "similarity", *sorted(map(str, subs.iterdir())),
                            "--out", str(tmp_path / "again")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert (tmp_path / "again" / "similarity.html").read_text(encoding="utf-8") == page, again.stderr


def test_starter_code_is_boilerplate(tmp_path):
    """Two untouched starters are not similar: all their code is the starter's."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copyfile(ROOT / "assignment" / "mlp.py", tmp_path / name / "mlp.py")
    found = similarity.compare(similarity.collect([str(tmp_path / "a"), str(tmp_path / "b")]), parts=("mlp",))
    assert found["mlp"][0]["score"] == 0
