"""GitHub Classroom grading on the instructor's host: `python -m grader classroom fetch` (and `make
classroom`) clones or updates the students' repositories and lays them out as a folder of
submissions that `make grade` grades. Offline: local bare repositories stand for GitHub (file://
URLs), with commits dated before and after a deadline, and a URL that does not exist.
"""
import csv
import glob
import os
import subprocess
import sys

import pytest

from grader import ROOT
from grader.engine.submission import read_submission
from grader.parts import GRADED
from grader.platforms import classroom

DEADLINE = "2026-12-01T23:59:00+01:00"
BEFORE, AFTER = "2026-12-01T20:00:00+00:00", "2026-12-02T09:00:00+00:00"      # 22:59 and 10:00 at +01:00
GIT_ID = ["-c", "user.name=Student", "-c", "user.email=student@example.org", "-c", "init.defaultBranch=main"]


def git(*args, cwd=None, env=None):
    proc = subprocess.run(["git", *GIT_ID, *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def commit(work, files, when):
    """Commit `files` ({path: text}) in the work tree `work`, dated `when` (author and committer)."""
    for rel, text in files.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git("add", "-A", cwd=work)
    env = dict(os.environ, GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    git("commit", "-q", "-m", f"work of {when}", cwd=work, env=env)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def student(tmp, name):
    """A bare repository (GitHub's) and a work tree that pushes to it (the student's laptop)."""
    bare = tmp / "remote" / f"mlp-{name}.git"
    git("init", "-q", "--bare", str(bare))
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=bare)
    work = tmp / "laptops" / name
    git("init", "-q", str(work))
    git("remote", "add", "origin", bare.as_uri(), cwd=work)
    return bare, work


@pytest.fixture
def class_of_two(tmp_path):
    """ada: one commit before the deadline and one after; bob: before only, with a symbolic link to
    a file of the host and a file whose name is not UTF-8."""
    ada_bare, ada = student(tmp_path, "ada")
    ada_old = commit(ada, {"assignment/mlp.py": "version = 'before'\n",
                           "assignment/activations.py": "x = 1\n"}, BEFORE)
    ada_new = commit(ada, {"assignment/mlp.py": "version = 'after'\n"}, AFTER)
    bob_bare, bob = student(tmp_path, "bob")
    (bob / "assignment").mkdir(parents=True)
    os.symlink("/etc/hostname", bob / "assignment" / "two_layer_net.py")
    with open(os.path.join(os.fsencode(bob), b"caf\xe9.txt"), "wb") as f:          # Latin-1, as some editors save
        f.write(b"x\n")
    bob_old = commit(bob, {"assignment/mlp.py": "version = 'bob'\n", "notes.md": "hi\n"}, BEFORE)
    return {"ada": (ada_bare, ada, ada_old, ada_new), "bob": (bob_bare, bob, bob_old)}


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "grader", "classroom", "fetch", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def manifest(out):
    with open(out / ".classroom" / "fetch.csv", encoding="utf-8") as f:
        return {row["name"]: row for row in csv.DictReader(f)}


def test_fetch_lays_out_the_commit_before_the_deadline_and_lists_a_broken_url(class_of_two, tmp_path):
    (ada_bare, _, ada_old, _), (bob_bare, _, bob_old) = class_of_two["ada"], class_of_two["bob"]
    urls = tmp_path / "repos.txt"
    missing = (tmp_path / "remote" / "mlp-cy.git").as_uri()
    urls.write_text(f"# the class\n{ada_bare.as_uri()}\n\n{bob_bare.as_uri()}\n{missing}\n", encoding="utf-8")
    out = tmp_path / "subs"
    proc = run(urls, "--out", out, "--deadline", DEADLINE)
    assert proc.returncode == 1, proc.stderr                  # one repository failed: said, not fatal
    assert "mlp-cy" in proc.stderr and "git clone failed" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [".classroom", "mlp-ada", "mlp-bob"]
    # The deadline picks ada's older commit; the one after it is counted, not graded.
    assert (out / "mlp-ada" / "assignment" / "mlp.py").read_text(encoding="utf-8") == "version = 'before'\n"
    assert (out / "mlp-ada" / classroom.MARKER).read_text(encoding="utf-8").strip() == ada_old
    assert "mlp-ada: 1 commit(s) after the deadline not graded" in proc.stdout
    rows = manifest(out)
    assert rows["mlp-ada"]["status"] == "ok" and rows["mlp-ada"]["commit"] == ada_old
    assert rows["mlp-ada"]["commits_after_deadline"] == "1" and rows["mlp-bob"]["commit"] == bob_old
    assert rows["mlp-cy"]["status"] == "failed" and "does not appear to be a git repository" in rows["mlp-cy"]["message"]
    # Exactly the committed regular files: no .git, no symbolic link to the host's files.
    bob_files = sorted(p.relative_to(out / "mlp-bob").as_posix() for p in (out / "mlp-bob").rglob("*"))
    assert bob_files == [classroom.MARKER, "assignment", "assignment/mlp.py", "caf\udce9.txt", "notes.md"]
    assert "make grade SUBMISSIONS=" in proc.stdout and "backdated" in proc.stdout
    # What `make grade SUBMISSIONS='subs/*'` gets: the shell's subs/* leaves out subs/.classroom/ ...
    assert sorted(os.path.basename(p) for p in glob.glob(str(out / "*"))) == ["mlp-ada", "mlp-bob"]
    # ... and what the engine reads of each folder: the graded files at any depth (cheap: no grading;
    # grade() stages a submission with this same read_submission).
    ada = read_submission(out / "mlp-ada", tmp_path / "work")
    assert ada.name == "mlp-ada" and ada.files["mlp"] and ada.files["activations"]
    assert open(ada.files["mlp"], encoding="utf-8").read() == "version = 'before'\n"
    bob = read_submission(out / "mlp-bob", tmp_path / "work")
    assert bob.files["mlp"] and bob.files["two_layer_net"] is None     # the link is not a submission file
    assert set(bob.files) == set(GRADED)


def test_fetch_updates_clones_and_never_grades_a_stale_folder(class_of_two, tmp_path):
    (ada_bare, ada, _, ada_new), (bob_bare, _, _) = class_of_two["ada"], class_of_two["bob"]
    urls = tmp_path / "repos.txt"
    urls.write_text(f"{ada_bare.as_uri()}\n{bob_bare.as_uri()}\n", encoding="utf-8")
    out = tmp_path / "subs"
    assert run(urls, "--out", out).returncode == 0                  # no deadline: the last commit
    assert (out / "mlp-ada" / classroom.MARKER).read_text(encoding="utf-8").strip() == ada_new
    # ada pushes again: the next fetch updates her clone (no second clone) and her folder.
    newest = commit(ada, {"assignment/mlp.py": "version = 'newest'\n"}, "2026-12-03T09:00:00+00:00")
    # bob's repository disappears: his folder of the earlier fetch is removed, not graded stale.
    os.rename(bob_bare, bob_bare.with_name("gone.git"))
    proc = run(urls, "--out", out)
    assert proc.returncode == 1 and "mlp-bob" in proc.stderr and "removed" in proc.stderr
    assert (out / "mlp-ada" / "assignment" / "mlp.py").read_text(encoding="utf-8") == "version = 'newest'\n"
    assert (out / "mlp-ada" / classroom.MARKER).read_text(encoding="utf-8").strip() == newest
    assert not (out / "mlp-bob").exists()
    # A deadline before every commit: nothing to grade for ada either, and her folder goes too.
    proc = run(urls, "--out", out, "--deadline", "2026-01-01T00:00:00Z")
    assert proc.returncode == 1 and not (out / "mlp-ada").exists()
    assert manifest(out)["mlp-ada"]["status"] == "no commit before the deadline"


def test_fetch_reads_github_classroom_csvs(class_of_two, tmp_path):
    (ada_bare, _, ada_old, _), (_, _, bob_old) = class_of_two["ada"], class_of_two["bob"]
    # The assignment's grades, with GitHub Classroom's columns (its REST API's fields).
    grades = tmp_path / "grades.csv"
    grades.write_text(
        "assignment_name,assignment_url,starter_code_url,github_username,roster_identifier,"
        "student_repository_name,student_repository_url,submission_timestamp,points_awarded,points_available\n"
        f"mlp,,,ada-l,ada@uni.example,mlp-ada-l,{ada_bare.as_uri()},,0,100\n"
        "mlp,,,,cy@uni.example,,,,,\n", encoding="utf-8")
    out = tmp_path / "subs"
    proc = run(grades, "--out", out, "--deadline", DEADLINE)
    assert proc.returncode == 1 and "cy@uni.example" in proc.stderr and "no repository" in proc.stderr
    assert manifest(out)["ada-l"]["commit"] == ada_old and manifest(out)["ada-l"]["identifier"] == "ada@uni.example"
    # The classroom roster names no repository: refused with what to give instead ...
    roster = tmp_path / "classroom_roster.csv"
    roster.write_text('identifier,github_username,github_id,name\nada@uni.example,ada,1,"Lovelace, Ada"\n'
                      'bob@uni.example,bob,2,Bob\ncy@uni.example,,,Cy\n', encoding="utf-8")
    proc = run(roster, "--out", tmp_path / "subs2")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "--url-template" in proc.stderr
    # ... and with the template of the organization's repository names, fetched.
    template = (tmp_path / "remote").as_uri() + "/mlp-{github_username}.git"
    proc = run(roster, "--out", tmp_path / "subs2", "--url-template", template)
    assert proc.returncode == 1 and "cy@uni.example" in proc.stderr and "no GitHub username" in proc.stderr
    assert (tmp_path / "subs2" / "bob" / classroom.MARKER).read_text(encoding="utf-8").strip() == bob_old


@pytest.mark.parametrize("args, message", [
    (["--deadline", "2026-12-01 23:59"], "has no time zone"),
    (["--deadline", "Monday"], "is not an ISO 8601 time"),
    (["--url-template", "https://x/{nobody}"], "--url-template"),
])
def test_bad_input_gets_an_error_line(tmp_path, args, message):
    roster = tmp_path / "roster.csv"
    roster.write_text("identifier,github_username,github_id,name\na,ada,1,Ada\n", encoding="utf-8")
    if "--url-template" not in args:
        args = args + ["--url-template", "https://x/{github_username}"]
    proc = run(roster, "--out", tmp_path / "subs", *args)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "subs").exists()


def test_names_stay_apart():
    repos = classroom.unique([classroom.Repo("ada", "u1"), classroom.Repo("Ada", "u2"), classroom.Repo("ada", "u3")])
    assert [r.name for r in repos] == ["ada", "Ada-2", "ada-3"]
    assert classroom.safe_name("gradebook.csv") == "submission-gradebook.csv"      # the engine's reserved names
    assert classroom.repo_name("git@github.com:org/mlp-ada.git") == "mlp-ada"


def test_make_classroom_runs_as_the_readme_shows(class_of_two, tmp_path):
    """`make classroom REPOS=... DEADLINE=... SUBS=...`, as written in the README."""
    (ada_bare, _, ada_old, _) = class_of_two["ada"]
    urls = tmp_path / "repos.txt"
    urls.write_text(ada_bare.as_uri() + "\n", encoding="utf-8")
    proc = subprocess.run(["make", "--no-print-directory", "classroom", f"REPOS={urls}", f"DEADLINE={DEADLINE}",
                           f"SUBS={tmp_path / 'subs'}", f"PYTHON={sys.executable}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "subs" / "mlp-ada" / classroom.MARKER).read_text(encoding="utf-8").strip() == ada_old
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make classroom REPOS=" in readme and "python -m grader classroom fetch" in readme
    proc = subprocess.run(["make", "--no-print-directory", "classroom"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and "make classroom needs REPOS=" in proc.stdout

