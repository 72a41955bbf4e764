"""LMS export (python -m grader export --canvas) and the similarity report (make similarity).
No grading here: graded folders are built by hand (results.json + gradebook.csv as make grade
writes them), and the similarity tests fingerprint a few small batches."""
import ast
import builtins
import csv
import importlib.util
import io
import json
import keyword
import shutil
import subprocess
import sys
import tokenize

import pytest

from grader.instructor import similarity
from grader.instructor.export import CANVAS_COLUMNS, MATCHES_NAME, read_roster
from grader.engine.grade import ROOT, gradebook_row, write_gradebook
from grader.parts import GRADED
from catalog import ALTERNATIVES


def run(*args, timeout=600):
    """The command as the README shows it, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def cli(capsys):
    """The same command in this process (a process costs seconds on a loaded machine): returns an
    object with returncode, stdout and stderr."""
    from types import SimpleNamespace

    from grader.__main__ import main

    def call(*args):
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:                      # argparse's own errors
            code = exc.code
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)
    return call


# -- Canvas ----------------------------------------------------------------------------------
def fake_batch(folder, subs):
    """A graded folder: results.json per submission and the gradebook, as make grade writes them.
    subs: {name: total} (every part ok) or {name: (total, {part: status}, message of its tests)}."""
    results = {}
    for name, spec in subs.items():
        total, statuses, message = (spec, {}, "") if not isinstance(spec, tuple) else spec
        parts = {p: {"score": total / len(GRADED), "max_score": 25, "status": statuses.get(p, "ok"), "seconds": 1.0}
                 for p in GRADED}
        tests = [{"name": f"{p} test", "score": 0.0, "max_score": 25, "status": "failed", "output": message}
                 for p in GRADED if statuses.get(p, "ok") != "ok"]
        result = {"score": total, "max_score": 100, "tests": tests,
                  "extra_data": {"submission": name, "parts": parts}}
        (folder / name).mkdir(parents=True)
        (folder / name / "results.json").write_text(json.dumps(result))
        results[name] = result
    write_gradebook(folder, [gradebook_row(n, r) for n, r in results.items()])


def read_csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def matches(folder):
    with open(folder / MATCHES_NAME, newline="", encoding="utf-8") as f:
        return {r["submission"] or r["student"]: r for r in csv.DictReader(f)}


ALL_MISSING = {p: "missing" for p in GRADED}
# Canvas's gradebook export as its exporter writes it (instructure/canvas-lms, lib/gradebook_exporter.rb):
# the student columns, an assignment "Title (id)", the totals, the "Manual Posting" row, then
# "    Points Possible" (with its four spaces), then the students, "Student, Test" (the test student) last.
CANVAS_EXPORT = """\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,HW1 (1001),MLP assignment (1002),Current Score,Final Score
,,,,,,Manual Posting,,
    Points Possible,,,,,10.00,100.00,(read only),(read only)
"Lovelace, Ada",101,s1001,ada@uni.example,Section A,9.00,,90.00,90.00
"Turing, Alan",102,s1002,aturing,Section A,8.00,,80.00,80.00
"Hopper, Grace",103,s1003,ghopper,Section B,7.00,,70.00,70.00
"Babbage, Charles",104,s1004,cbabbage,Section B,,,0.00,0.00
"Noether, Emmy",105,s1005,enoether,Section B,,,0.00,0.00
"Curie, Marie",106,s1006,mcurie,Section A,,,0.00,0.00
"Lamarr, Hedy",107,s1007,hlamarr,Section A,,,0.00,0.00
"Student, Test",108,,,Section A,,,0.00,0.00
"""


@pytest.fixture
def canvas_batch(tmp_path):
    graded = tmp_path / "grades"
    fake_batch(graded, {
        "ada": 92.5,                                           # the part of Ada's login before "@"
        "s1002": (40.0, {"mlp": "timeout"}, "mlp timed out"),   # SIS User ID; a part timed out: a normal grade
        "grace_hopper": 77.0,                                  # her name, as a folder name
        "cbabbage": (0.0, ALL_MISSING, "cbabbage.zip could not be read (BadZipFile: File is not a zip file)"),
        "enoether": (55.0, {"mlp": "not graded"}, "not graded: the machine was overloaded"),
        "Marie Curie": (0.0, ALL_MISSING, "mlp.py was not found in the submission"),
        "stranger": 77.0,                                      # nobody of the roster
    })
    roster = tmp_path / "export.csv"
    roster.write_text(CANVAS_EXPORT, encoding="utf-8")
    return graded, roster


def test_canvas_gradebook_export_is_a_roster_and_the_not_graded_are_left_out(canvas_batch):
    graded, roster = canvas_batch
    proc = run("export", "--canvas", roster, graded)      # the default --column, "MLP assignment"
    assert proc.returncode == 1, proc.stderr          # stranger's grade and Emmy's grading do not reach Canvas
    rows = read_csv_rows(graded / "canvas.csv")
    assert rows[0] == [*CANVAS_COLUMNS, "MLP assignment (1002)"]      # the export's column, with its id
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "100"
    body = {r[1]: r for r in rows[2:]}                               # by Canvas ID
    assert body["101"] == ["Lovelace, Ada", "101", "s1001", "ada@uni.example", "Section A", "92.5"]
    assert body["102"][-1] == "40" and body["103"][-1] == "77"
    # Not graded normally: left out (empty: the import keeps Canvas's cell), never a 0.
    assert body["104"][-1] == body["105"][-1] == body["106"][-1] == ""
    assert body["107"][-1] == body["108"][-1] == ""                  # no submission
    assert len(rows) == 2 + 8 and not any("stranger" in ",".join(r) for r in rows)
    m = matches(graded)
    assert m["ada"]["matched_by"] == "SIS Login ID" and m["ada"]["written"] == "92.5"
    assert m["s1002"]["matched_by"] == "SIS User ID" and m["s1002"]["parts"] == "mlp: timeout"
    assert m["grace_hopper"]["matched_by"] == "name" and m["grace_hopper"]["student"] == "Hopper, Grace"
    assert m["Marie Curie"]["matched_by"] == "name"
    assert m["cbabbage"]["grading"].startswith("unreadable upload: cbabbage.zip could not be read")
    assert m["cbabbage"]["written"] == "empty (left out)"
    assert m["enoether"]["grading"].startswith("not graded") and m["enoether"]["parts"] == "mlp: not graded"
    assert m["Marie Curie"]["grading"].startswith("nothing submitted") and "mlp.py was not found" in m["Marie Curie"]["grading"]
    assert m["stranger"]["matched_by"] == "NO MATCH in the roster" and m["stranger"]["written"] == "not written"
    assert m["Lamarr, Hedy"]["grading"] == "no submission"
    out = proc.stdout
    assert "LEFT OUT" in out and "cbabbage: unreadable upload" in out and "enoether: not graded" in out
    assert "Marie Curie: nothing submitted" in out and "s1002: mlp: timeout" in out
    assert "match no student" in out and "  stranger" in out
    assert "Lamarr, Hedy (SIS User ID s1007, login hlamarr" in out
    assert "3 by SIS Login ID" in out and "2 by name" in out and "1 by SIS User ID" in out and "Canvas's gradebook export" in out


def test_zeros_are_written_only_when_asked(canvas_batch, cli):
    graded, roster = canvas_batch
    out = graded / "zeros.csv"
    proc = cli("export", "--canvas", roster, graded, "--out", out, "--zeros")
    assert proc.returncode == 1, proc.stderr          # stranger still matches nobody
    body = {r[1]: r[-1] for r in read_csv_rows(out)[2:]}
    assert body == {"101": "92.5", "102": "40", "103": "77", "104": "0", "105": "0", "106": "0", "107": "0",
                    "108": "0"}
    assert (graded / MATCHES_NAME).is_file() and "written as 0 (--zeros)" in proc.stdout


def test_canvas_export_variants_are_read(tmp_path):
    """Semicolons (a Canvas user setting), LastName/FirstName columns, no SIS User ID column, a name
    written as ="..." so that a spreadsheet does not run it."""
    path = tmp_path / "export.csv"
    path.write_text("LastName;FirstName;ID;SIS Login ID;Section;HW (3)\n    Points Possible;;;;;10\n"
                    'Lovelace;Ada;101;ada;A;1\n="=Eve";Mallory;102;eve;A;\n', encoding="utf-8")
    roster = read_roster(path)
    assert roster.kind == "canvas"
    assert [(s.name, s.canvas_id, s.login_id, s.sis_user_id) for s in roster.students] == [
        ("Lovelace, Ada", "101", "ada", ""), ("=Eve, Mallory", "102", "eve", "")]


def test_github_classroom_roster(tmp_path, cli):
    graded = tmp_path / "grades"
    fake_batch(graded, {"hw3-mlp-octocat": 90.0, "hubot": 80.0, "s2003": 70.0, "sam_lee": 60.0})
    roster = tmp_path / "classroom_roster.csv"
    # GitHub Classroom's roster download: identifier, github_username, github_id, name.
    roster.write_text("identifier,github_username,github_id,name\n"
                      "s2001,octocat,583231,Mona Octocat\nhubot@uni.example,hubot,480938,Hubot Robot\n"
                      "s2003,,,Grace Hopper\ns2004,samlee1,1001,Sam Lee\ns2005,samlee2,1002,Sam Lee\n"
                      "s2006,nobody,1003,No Body\n", encoding="utf-8")
    proc = cli("export", "--canvas", roster, graded)
    assert proc.returncode == 1, proc.stderr          # sam_lee is ambiguous: two students named Sam Lee
    m = matches(graded)
    assert m["hw3-mlp-octocat"]["matched_by"].startswith("GitHub username (repository name")
    assert m["hubot"]["matched_by"] == "GitHub username"
    assert m["s2003"]["matched_by"] == "Classroom identifier"
    assert m["sam_lee"]["matched_by"].startswith("AMBIGUOUS: name matches Sam Lee") and \
        m["sam_lee"]["written"] == "not written"
    body = {r[0]: r for r in read_csv_rows(graded / "canvas.csv")[2:]}
    # The identifier is the SIS User ID, or the login when it holds an "@"; the name is the Student.
    assert body["Mona Octocat"][1:] == ["", "s2001", "", "", "90"]
    assert body["Hubot Robot"][1:] == ["", "", "hubot@uni.example", "", "80"]
    assert body["Grace Hopper"][-1] == "70" and body["No Body"][-1] == ""
    assert "match several students" in proc.stdout and "a GitHub Classroom roster" in proc.stdout


def test_kit_roster_and_its_messages(tmp_path, cli):
    graded = tmp_path / "grades"
    fake_batch(graded, {"ada": 92.5, "alan": 40.0, "stranger": 77.0})
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffsubmission,student_id,name,login_id,section\n"           # saved by a spreadsheet
                      "ada,s1001,\"Lovelace, Ada\",ada,A\nalan,s1002,\"Turing, Alan\",alan,A\n"
                      "grace,s1003,\"Hopper, Grace\",grace,B\n", encoding="utf-8")
    proc = cli("export", "--canvas", roster, graded, "--column", "HW3 MLP")
    assert proc.returncode == 1, proc.stderr
    assert "stranger" in proc.stdout and "NOT in" in proc.stdout
    assert "Hopper, Grace (SIS User ID s1003, login grace)" in proc.stdout and "no graded submission" in proc.stdout
    rows = read_csv_rows(graded / "canvas.csv")
    body = {r[2]: r for r in rows[2:]}                                   # by SIS User ID
    assert body["s1001"] == ["Lovelace, Ada", "", "s1001", "ada", "A", "92.5"]
    assert body["s1002"][-1] == "40" and body["s1003"][-1] == ""
    assert matches(graded)["ada"]["matched_by"] == "the roster's submission column"


def test_bad_input_gets_an_error_line(tmp_path, cli):
    graded = tmp_path / "grades"
    fake_batch(graded, {"ada": 10.0})
    cases = {
        "name,email\nAda,ada@example.org\n": "is not a roster this command knows",
        "submission,name\nada,Ada\n": "needs the columns submission, student_id",
        "": "is empty",
        "Student,ID,SIS Login ID,Section\n    Points Possible,,,\n": "has no students",
        "identifier,name\ns1,Ada\n": "is not a roster this command knows",
    }
    for i, (text, message) in enumerate(cases.items()):
        roster = tmp_path / f"roster{i}.csv"
        roster.write_text(text, encoding="utf-8")
        proc = cli("export", "--canvas", roster, graded)
        assert proc.returncode == 2 and f"error: {roster}" in proc.stderr and message in proc.stderr, (text, proc)
        assert "Traceback" not in proc.stderr
    good = tmp_path / "good.csv"
    good.write_text("submission,student_id\nada,s1\n", encoding="utf-8")
    binary = tmp_path / "roster.xlsx"
    binary.write_bytes(b"PK\x03\x04\x00\xff\xfe\x00")
    for args, message in (((binary, graded), "is not a UTF-8 CSV file"),
                          ((tmp_path / "nope.csv", graded), "cannot read the roster"),
                          ((tmp_path / "roster0.csv", tmp_path / "empty"), "gradebook.csv does not exist"),
                          ((good, graded, "--out", graded / "ada"), "cannot write")):             # a folder
        proc = cli("export", "--canvas", *args)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc


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


def _bench():
    spec = importlib.util.spec_from_file_location("bench_similarity", ROOT / "tests" / "bench" / "bench_similarity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def catalog_batch(tmp_path_factory):
    """The reference and the catalog's correct alternatives (distinct solutions) as submissions, plus
    mallory: two alternatives copied with their variables renamed, and a `</pre><script>` in one."""
    subs = tmp_path_factory.mktemp("similarity") / "subs"
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
        if part == "activations":
            renamed += '\nNOTE = "</pre><script>alert(1)</script>"\n'
        (subs / "mallory" / f"{part}.py").write_text(renamed, encoding="utf-8")
    return subs, copied


def test_a_renamed_copy_is_the_only_pair_and_the_reference_is_flagged_as_such(catalog_batch, tmp_path):
    """Measured (grader/instructor/similarity.py, THRESHOLD): the renamed copies score 1.00; the
    most similar distinct solutions 0.13; the reference submitted as is matches the reference."""
    subs, copied = catalog_batch
    paths = sorted(map(str, subs.iterdir()))
    proc = run("similarity", *paths, "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "similarity.html").read_text(encoding="utf-8")
    found = similarity.compare(similarity.collect(paths))
    for part, res in found.items():
        if part in copied:
            assert [(p.a, p.b) for p in res.pairs] == [tuple(sorted((copied[part], "mallory")))], (part, res.pairs)
            assert res.pairs[0].score > 0.9 and res.clusters == [sorted((copied[part], "mallory"))]
            assert f"most similar {min(copied[part], 'mallory')} and {max(copied[part], 'mallory')}" in proc.stdout
        else:
            assert res.pairs == [] and res.clusters == [], (part, res.pairs)
        # The reference is flagged as the instructor's solution, and never paired with anyone.
        flagged = [n for n, fp in res.prints.items() if fp.reference_share >= similarity.REFERENCE_THRESHOLD]
        assert flagged == ["reference"], (part, flagged)
    assert "Matches the instructor&#39;s solution" in page or "Matches the instructor's solution" in page
    assert page.count("<mark>") > 10 and page.count('<mark class="ref">') >= 4
    # The student's code is escaped, never markup.
    assert "<script>" not in page and "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with open(tmp_path / "out" / "similarity.csv", newline="", encoding="utf-8") as f:
        assert sorted((r["part"], r["a"], r["b"]) for r in csv.DictReader(f)) == sorted(
            (part, *sorted((orig, "mallory"))) for part, orig in copied.items())
    with open(tmp_path / "out" / "similarity-submissions.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {(r["submission"], r["part"]) for r in rows if r["matches_reference"] == "yes"} == {
        ("reference", part) for part in GRADED}
    assert {r["submission"] for r in rows if r["cluster"]} == {"mallory", *copied.values()}
    again, _ = similarity.report(paths, tmp_path / "again")
    assert again.read_text(encoding="utf-8") == page         # the same batch gives the same page


def test_clusters_threshold_and_reference_copies_in_a_synthetic_class(tmp_path):
    """A class of 14 generated as the benchmark does: the reference renamed and reordered, each
    student's own helpers, clusters that share theirs, students who copy the reference whole.
    Measured over seeds 0-7: pairs within a planted cluster score 0.68 or more, all other pairs 0.05
    or less (THRESHOLD 0.5); the reference copies share 0.89 or more with the reference (ast.unparse
    rewrites a few expressions), the other students 0.59 or less (REFERENCE_THRESHOLD 0.8)."""
    paths, planted, copies = _bench().synthetic_class(tmp_path / "subs", 14, seed=3, clusters=(3, 2, 2),
                                                      reference_copies=2)
    sources = similarity.collect(paths)
    found = similarity.compare(sources)
    for part, res in found.items():
        assert sorted(res.clusters) == sorted(planted), (part, res.clusters)
        assert all(p.score >= similarity.THRESHOLD and p.shared >= similarity.MIN_SHARED for p in res.pairs)
        assert res.candidates < res.compared                  # the index skips pairs that share nothing
        flagged = sorted(n for n, fp in res.prints.items() if fp.reference_share >= similarity.REFERENCE_THRESHOLD)
        assert flagged == sorted(copies), (part, flagged)
        # The reference's code is never counted between students: the copies pair with nobody.
        assert not any(set(copies) & {p.a, p.b} for p in res.pairs)
    # A higher threshold keeps exactly the pairs at or above it (one part: each part is compared alone).
    scores = sorted(p.score for p in found["mlp"].pairs)
    cut = scores[len(scores) // 2]
    high = similarity.compare_part(sources, "mlp", threshold=cut)
    assert sorted(p.score for p in high.pairs) == [s for s in scores if s >= cut] and min(scores) < cut


def test_names_are_escaped_and_the_starter_is_boilerplate(tmp_path):
    """Two untouched starters share nothing of their own (the starter is removed first); names
    reach the page escaped."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copyfile(ROOT / "assignment" / "mlp.py", tmp_path / name / "mlp.py")
    names = ["<b>x</b>", "y&z"]
    path, found = similarity.report([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "out", names=names,
                                    parts=("mlp",))
    assert found["mlp"].pairs == [] and found["mlp"].candidates == 0
    assert all(fp.starter_share == 1.0 and not fp.where for fp in found["mlp"].prints.values())
    page = path.read_text(encoding="utf-8")
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "y&amp;z" in page
    assert "Only the starter" in page


def test_similarity_refuses_bad_input(tmp_path, cli):
    proc = cli("similarity", tmp_path / "nope", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "error: no such submission" in proc.stderr
    (tmp_path / "file").write_text("not a folder")
    proc = cli("similarity", ROOT / "solutions", "--out", tmp_path / "file" / "out")
    assert proc.returncode == 2 and "error: cannot write the report" in proc.stderr
    proc = cli("similarity", ROOT / "solutions", "--threshold", "1.5", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "error:" in proc.stderr and "not between 0" in proc.stderr
