"""One command line: `python -m grader <command>`, each command with its --help (grader/__main__.py)."""
import subprocess
import sys

import pytest

from grader import ROOT
from grader.__main__ import COMMANDS


def run(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_help_lists_every_command():
    proc = run("--help")
    assert proc.returncode == 0, proc.stderr
    for name, *_ in COMMANDS:
        assert name in proc.stdout, name
    assert {name for name, *_ in COMMANDS} >= {"grade", "assign", "report", "mutants", "release", "otter",
                                               "gradescope"}


@pytest.mark.parametrize("command", [name for name, *_ in COMMANDS])
def test_every_command_has_help(command):
    proc = run(command, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m grader " + command), \
        proc.stdout + proc.stderr


def test_an_unknown_command_is_refused():
    proc = run("no-such-command")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def grade_with_sandbox(value, tmp_path, *extra):
    """`python -m grader grade` of one small submission with GRADER_SANDBOX=value."""
    import os
    sub = tmp_path / "ada"
    sub.mkdir()
    (sub / "activations.py").write_text((ROOT / "solutions" / "activations.py").read_text())
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--out", str(out), "--parts", "activations",
                           *extra, "--", str(sub)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "GRADER_SANDBOX": value})
    return proc, out


@pytest.mark.parametrize("value", ["landlok", "Landlock", "namespaces,landlock", "off\nnone"])
def test_a_misspelt_grader_sandbox_is_one_error_line_naming_the_values(value, tmp_path):
    proc, out = grade_with_sandbox(value, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: GRADER_SANDBOX={value!r} is not a sandbox backend: set it to namespaces, landlock or none, "
        f"or unset it to use the best sandbox this host offers"]
    assert not list(out.glob("*/results.json"))


def test_grader_sandbox_none_says_it_was_asked_for_and_needs_allow_unsandboxed(tmp_path):
    proc, out = grade_with_sandbox("none", tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: refusing to grade: GRADER_SANDBOX=none asks for no sandbox, and grading without one needs "
        "--allow-unsandboxed (make grade ALLOW_UNSANDBOXED=1)"), proc.stderr
    assert "no sandbox works on this host" not in proc.stderr
    assert not list(out.glob("*/results.json"))


def test_grader_sandbox_none_with_allow_unsandboxed_grades(tmp_path):
    import json
    proc, out = grade_with_sandbox("none", tmp_path, "--allow-unsandboxed")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "ada" / "results.json").read_text())
    assert result["score"] == 20 and result["extra_data"]["sandbox"]["backend"] == "none"
