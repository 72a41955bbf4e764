"""The course CI template (grader/templates/ci/autograde.yml): GitHub Classroom grading inside the
sandbox, as GitHub runs it, that is as a user who is not root.

The `run:` steps run here in order, as GitHub Actions runs them (bash -eo pipefail, in the
repository), as a user created for the test (the tests run as root in CI), in a student
repository made from the handout. What the `uses:` steps provide is stood in for: checkout (the
repository), setup-python (a Python 3.11 first on PATH: Debian's /usr/bin/python3.11, since the
kit's own Python may sit under /root, which other users cannot enter) and the secret (a file://
URL of dist/gradescope.zip). setup.sh then installs the pinned packages into its venv from PyPI,
as on a runner.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from grader.authoring import release
from grader.platforms import gradescope
from grader.engine.grade import ROOT

CI_TEMPLATE = ROOT / "grader" / "templates" / "ci" / "autograde.yml"
SECRET = "${{ secrets.AUTOGRADER_URL }}"


def workflow():
    return yaml.safe_load(CI_TEMPLATE.read_text(encoding="utf-8"))


def steps():
    return workflow()["jobs"]["grade"]["steps"]


def test_the_workflow_reads_only_caches_pip_keeps_no_token_and_keeps_results():
    wf = workflow()
    assert wf["permissions"] == {"contents": "read"}
    uses = {s["uses"].split("@")[0]: s for s in steps() if "uses" in s}
    assert list(uses) == ["actions/checkout", "actions/setup-python", "actions/upload-artifact"]
    assert uses["actions/checkout"]["with"]["persist-credentials"] is False
    setup = uses["actions/setup-python"]["with"]
    assert str(setup["python-version"]) == "3.11" and setup["cache"] == "pip"
    assert setup["cache-dependency-path"] == "requirements-grading.txt"
    artifact = uses["actions/upload-artifact"]
    assert artifact["if"] == "always()" and artifact["with"]["path"] == "results/results.json"
    runs = "\n".join(s["run"] for s in steps() if "run" in s)
    assert "apparmor_restrict_unprivileged_userns=0" in runs and "otter" not in runs
    assert "autograder.zip" not in {p.name for p in ROOT.glob("grader/templates/**/*")}


def run_step(step, repo, env, user=None, timeout=1800):
    """One `run:` step as GitHub Actions runs it: bash --noprofile --norc -eo pipefail, in the repository."""
    assert "${{" not in step["run"], f"the test cannot run expressions in {step.get('name')}"
    step_env = dict(env)
    for key, value in (step.get("env") or {}).items():
        assert "${{" not in str(value).replace(SECRET, ""), value
        step_env[key] = str(value).replace(SECRET, env.get("TEST_AUTOGRADER_URL", ""))
    script = Path(env["RUNNER_TEMP"]).parent / f"step-{abs(hash(step['run']))}.sh"
    script.write_text(step["run"], encoding="utf-8")
    script.chmod(0o644)
    kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=repo,
                          env=step_env, capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture
def runner_user():
    """A user who is not root (the runner's), created for the test when the tests run as root."""
    if os.geteuid() != 0:
        yield None                           # already not root: run the steps as this user
        return
    name = f"mlpci{os.getpid() % 100000}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/bash", name], check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_the_workflow_grades_a_student_repository_in_the_sandbox_as_a_user(runner_user):
    # Not under /tmp: the sandbox covers /tmp with a private tmpfs, so a venv there would vanish
    # from the workers (on GitHub, RUNNER_TEMP is /home/runner/work/_temp).
    work = Path(tempfile.mkdtemp(prefix="mlp-kit-ci-", dir="/home" if runner_user else Path.home()))
    work.chmod(0o755)
    try:
        repo = release.build_handout(work / "repo")
        shutil.copyfile(ROOT / "solutions" / "logistic_regression.py", repo / "assignment" / "logistic_regression.py")
        zip_path = gradescope.build(work / "gradescope.zip", quiet=True)
        (work / "runner-temp").mkdir()
        (work / "home").mkdir()
        bin_dir = work / "setup-python" / "bin"          # what actions/setup-python puts first on PATH
        bin_dir.mkdir(parents=True)
        python = shutil.which("python3.11", path="/usr/bin:/usr/local/bin") or sys.executable
        for name in ("python", "python3", "python3.11"):
            (bin_dir / name).symlink_to(python)
        if runner_user:
            for path in [work, *work.rglob("*")]:
                os.lchown(path, runner_user.pw_uid, runner_user.pw_gid)
        summary = work / "summary.md"
        env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": str(work / "home"), "CI": "true",
               "RUNNER_TEMP": str(work / "runner-temp"), "GITHUB_STEP_SUMMARY": str(summary),
               "TEST_AUTOGRADER_URL": zip_path.as_uri(), "LANG": "C.UTF-8"}
        outputs = {}
        for step in steps():
            if "run" not in step:
                continue
            proc = run_step(step, repo, env, runner_user)
            outputs[step["name"]] = proc
            assert proc.returncode == 0, (f"step {step['name']!r} failed:\n{proc.stdout[-3000:]}\n"
                                          f"{proc.stderr[-3000:]}")
        results = json.loads((repo / "results" / "results.json").read_text(encoding="utf-8"))
        assert results["extra_data"]["sandbox"]["backend"] not in ("none", "unknown")
        log = outputs["Results"].stdout
        assert "logistic_regression: 20 / 20" in log and "activations: 0 / 20" in log and "total: 20 / 100" in log
        assert f"sandbox: {results['extra_data']['sandbox']['backend']}" in log
        failing = [t for t in results["tests"] if t["status"] != "passed"]
        assert failing and all(t["name"] in log for t in failing)
        assert "not implemented yet" in log                      # the messages, not only the scores
        assert "::warning title=" in outputs["Results"].stderr
        assert "total: 20 / 100" in summary.read_text(encoding="utf-8")
        if runner_user:
            owner = (repo / "results" / "results.json").stat().st_uid
            assert owner == runner_user.pw_uid
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_workflow_fails_when_student_code_ran_unsandboxed(tmp_path):
    report = next(s for s in steps() if s.get("name") == "Results")
    repo = tmp_path / "repo"
    (repo / "results").mkdir(parents=True)
    (repo / "results" / "results.json").write_text(json.dumps({
        "score": 20, "tests": [], "extra_data": {"max_score": 100, "sandbox": {"backend": "none"},
                                                 "parts": {"logistic_regression": {"score": 20, "max_score": 20,
                                                                                   "status": "ok"}}}}))
    env = dict(os.environ, RUNNER_TEMP=str(tmp_path))
    proc = run_step(report, repo, env)
    assert proc.returncode == 1 and "::error::student code was graded without the sandbox" in proc.stderr


def test_the_workflow_fails_clearly_without_the_secret(tmp_path):
    fetch = next(s for s in steps() if "AUTOGRADER_URL" in (s.get("env") or {}))
    repo = tmp_path / "repo"
    repo.mkdir()
    proc = run_step(fetch, repo, dict(os.environ, TEST_AUTOGRADER_URL="", RUNNER_TEMP=str(tmp_path)), timeout=600)
    assert proc.returncode == 1 and "::error::" in proc.stdout and "AUTOGRADER_URL" in proc.stdout
    assert not (tmp_path / "gradescope.zip").exists()
