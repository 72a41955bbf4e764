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
