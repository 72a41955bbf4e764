"""The course CI template (grader/templates/ci/autograde.yml): the workflow that goes into every
student's repository. A student controls that file and every secret it can read, so it must run
the public checks only (`make check`) and never fetch the hidden tests or the reference; grading
happens on the instructor's host (tests/test_classroom.py: `python -m grader classroom fetch`).

What can be checked offline is: the workflow's text (no download, no secret, actions pinned by
commit, least privilege, concurrency, the grader's Python called explicitly), and its `run:` steps,
run here in order as GitHub Actions runs them (bash -eo pipefail, in the repository) on a student
repository made from the handout. What the `uses:` steps provide is stood in for: checkout (the
repository) and setup-python (its output `python-path`: a virtual environment of this Python with
the kit's packages visible, so pip installs nothing and reaches no index).
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from grader.authoring import release
from grader.authoring.assign import grader_python
from grader.engine.grade import ROOT

CI_TEMPLATE = ROOT / "grader" / "templates" / "ci" / "autograde.yml"
PYTHON_PATH = "${{ steps.python.outputs.python-path }}"
# What would bring the hidden tests, the reference or a secret into the student's runner.
FORBIDDEN = ("secrets", "gradescope", "autograder", "curl", "wget", "download", "http://", "https://",
             "urllib", "requests", "git clone", "grader/", "grader.", "solutions", "suites", "otter",
             "run_autograder", "zip")


def workflow():
    return yaml.safe_load(CI_TEMPLATE.read_text(encoding="utf-8"))


def steps():
    return workflow()["jobs"]["check"]["steps"]


def code_text():
    """The workflow without its comments: what GitHub runs."""
    return "\n".join(line for line in CI_TEMPLATE.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("#"))


def test_the_workflow_holds_no_secret_and_downloads_nothing():
    text = code_text()
    for word in FORBIDDEN:
        assert word not in text.lower(), f"the workflow mentions {word!r}"
    assert "${{" not in "".join(s.get("run", "") for s in steps())   # no expression pasted into a script
    expressions = set(re.findall(r"\$\{\{[^}]*\}\}", text))
    assert expressions <= {"${{ github.workflow }}", "${{ github.ref }}", PYTHON_PATH}, expressions
    # The only actions are GitHub's own checkout and setup-python; nothing else runs code here.
    assert [s["uses"].split("@")[0] for s in steps() if "uses" in s] == ["actions/checkout", "actions/setup-python"]


def test_the_workflow_pins_actions_by_commit_reads_only_and_cancels_older_runs():
    wf = workflow()
    raw = CI_TEMPLATE.read_text(encoding="utf-8")
    for step in steps():
        if "uses" in step:
            assert re.fullmatch(r"actions/[a-z-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            # The release in a comment on the same line, and where the SHA comes from in the header.
            line = next(line for line in raw.splitlines() if step["uses"] in line)
            assert re.search(r"# v\d+\.\d+\.\d+$", line), line
            sha = step["uses"].split("@")[1]
            assert raw.count(sha) == 2, f"{sha}: its provenance is not written down"
    assert wf["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in wf["jobs"].values())      # no job asks for more
    assert wf["concurrency"] == {"group": "${{ github.workflow }}-${{ github.ref }}", "cancel-in-progress": True}
    assert wf["jobs"]["check"]["runs-on"] == "ubuntu-24.04"                 # a fixed image, not ubuntu-latest
    checkout = next(s for s in steps() if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    # yaml reads the key `on` as True
    assert set(wf[True]) == {"push", "workflow_dispatch"}


def test_the_workflow_calls_the_graders_python_explicitly():
    setup = next(s for s in steps() if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(setup["with"]["python-version"]) == grader_python() and setup["id"] == "python"
    assert setup["with"]["cache-dependency-path"] == "requirements-grading.txt"
    runs = [s for s in steps() if "run" in s]
    assert runs
    for step in runs:
        assert step["env"]["PYTHON"] == PYTHON_PATH, step["name"]
        # Every Python it runs is "$PYTHON" (make's too), never a python3 found on PATH.
        script = step["run"].split("<<'PY'")[0]
        assert not re.search(r"(^|[;|&(])\s*(python3?(\.\d+)?|pip3?)\s", script, re.MULTILINE), script
    check = next(s for s in runs if "make" in s["run"])
    assert re.search(r'make --no-print-directory check PYTHON="\$PYTHON" ARGS=--json STRICT=1', check["run"])
    # make check is the handout's own target: the public checks, nothing else.
    makefile = (ROOT / "grader" / "templates" / "handout" / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ncheck:\n", 1)[1].splitlines()[0]
    assert "$(PYTHON) -m assignment.check $(ARGS)" in recipe and "STRICT" in recipe


# -- the steps, run on a student's repository ---------------------------------------------------------
@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    return release.build_handout(tmp_path_factory.mktemp("ci") / "handout")


@pytest.fixture(scope="module")
def setup_python(tmp_path_factory):
    """What actions/setup-python gives the steps: the path of a Python of the grader's version. A
    venv of this Python that sees its packages (pip then finds every pin installed: no download)."""
    venv = tmp_path_factory.mktemp("setup-python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


def run_step(step, repo, runner_temp, python, timeout=900):
    """One `run:` step as GitHub Actions runs it: bash --noprofile --norc -eo pipefail, in the repository."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(runner_temp), "CI": "true", "LANG": "C.UTF-8",
           "RUNNER_TEMP": str(runner_temp), "GITHUB_STEP_SUMMARY": str(runner_temp / "summary.md")}
    for key, value in (step.get("env") or {}).items():
        env[key] = str(value).replace(PYTHON_PATH, str(python))
    script = runner_temp / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=timeout)


def student_repo(handout, tmp_path, solved=()):
    repo = tmp_path / "repo"
    shutil.copytree(handout, repo)
    for part in solved:
        shutil.copyfile(ROOT / "solutions" / f"{part}.py", repo / "assignment" / f"{part}.py")
    (tmp_path / "runner-temp").mkdir()
    return repo, tmp_path / "runner-temp"


def test_the_steps_run_the_public_checks_and_report_them(handout, setup_python, tmp_path):
    """Two parts solved, the rest the starter: the job fails, says which parts, and why."""
    repo, temp = student_repo(handout, tmp_path, solved=("activations", "logistic_regression"))
    before = {p.relative_to(repo) for p in repo.rglob("*")}
    outputs = {}
    for step in (s for s in steps() if "run" in s):
        outputs[step["name"]] = run_step(step, repo, temp, setup_python)
    install, check = outputs["Install the pinned packages"], outputs["Public checks (make check)"]
    assert install.returncode == 0, install.stderr[-2000:]
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in install.stdout   # the Python it was given
    assert check.returncode != 0                          # public tests fail: the job fails
    log, summary = check.stdout, (temp / "summary.md").read_text(encoding="utf-8")
    outcomes = json.loads((temp / "check.json").read_text(encoding="utf-8"))       # make check's own output
    counts = {o["part"]: (sum(r["passed"] for r in o["results"]), len(o["results"])) for o in outcomes}
    assert counts["activations"][0] == counts["activations"][1] > 0
    assert counts["logistic_regression"][0] == counts["logistic_regression"][1] > 0
    assert counts["mlp"][0] == 0 and counts["two_layer_net"][0] == 0
    for part, (ok, total) in counts.items():
        assert f"| {part}{'' if part != 'warmup' else ' (ungraded)'} | {ok}/{total} |" in summary
    assert "not implemented yet" in log and "public tests passed" in log
    assert "graded by your instructor, not here" in summary
    # One annotation per failing part, on its file; none for a part that passes.
    annotations = [line for line in log.splitlines() if line.startswith("::")]
    assert {a.split(" file=")[1].split(",")[0] for a in annotations} == {
        "assignment/warmup.py", "assignment/two_layer_net.py", "assignment/mlp.py"}
    assert all(a.startswith("::error ") for a in annotations if "warmup" not in a)
    assert all("\n" not in a and "," not in a.split("title=")[1].split("::")[0] for a in annotations)
    # Nothing of the grader appeared in the repository.
    after = {p.relative_to(repo) for p in repo.rglob("*") if "__pycache__" not in p.parts}
    assert after - before == set()


def test_the_job_passes_when_every_public_test_passes(handout, setup_python, tmp_path):
    """The reference everywhere (the warm-up too): the check step succeeds and annotates nothing."""
    repo, temp = student_repo(handout, tmp_path, solved=("warmup", "activations", "logistic_regression",
                                                          "two_layer_net", "mlp"))
    check = next(s for s in steps() if "make" in s.get("run", ""))
    proc = run_step(check, repo, temp, setup_python)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "::error" not in proc.stdout and "::warning" not in proc.stdout
    assert re.search(r"^All \d+ public tests passed", proc.stdout, re.MULTILINE), proc.stdout[-1000:]


def test_the_report_escapes_annotations_and_says_when_make_check_broke(handout, setup_python, tmp_path):
    """The report step on make check outputs written by hand (no check runs): GitHub's escaping of
    an annotation's title and message, and a make check that printed no report at all."""
    repo, temp = student_repo(handout, tmp_path)
    check = next(s for s in steps() if "make" in s.get("run", ""))
    outcome = [{"part": "mlp", "graded": True, "hidden": {"tests": 1, "points": 1},
                "results": [{"title": "a, b: c 100%", "passed": False, "message": "line 1\nline 2: 5%"}]}]
    (repo / "outcome.json").write_text(json.dumps(outcome), encoding="utf-8")
    makefile = repo / "Makefile"
    makefile.write_text("check:\n\t@cat outcome.json; exit 1\n", encoding="utf-8")
    proc = run_step(check, repo, temp, setup_python)
    assert proc.returncode != 0
    assert ("::error file=assignment/mlp.py,title=mlp%3A a%2C b%3A c 100%25::line 1%0Aline 2: 5%25"
            in proc.stdout.splitlines())
    makefile.write_text("check:\n\t@echo 'Traceback: not JSON'; exit 2\n", encoding="utf-8")
    proc = run_step(check, repo, temp, setup_python)
    assert proc.returncode != 0 and "::error title=make check::make check stopped" in proc.stdout


def test_the_handout_has_what_the_workflow_installs(handout):
    grading = (handout / "requirements-grading.txt").read_text(encoding="utf-8")
    assert "numpy==" in grading                                # all the public checks import
    assert not any(os.path.exists(handout / name) for name in ("gradescope.zip", "autograder.zip"))
