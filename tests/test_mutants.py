"""`make mutants` (grader/instructor/mutants.py) on a few bugs, not the whole catalog:
tests/test_catalog.py already grades all of it.

One run grades a real catalog bug and a harmless edit that no test can
catch (the failure path); one runs the command line on two catalog bugs.
"""
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.instructor import mutants
from catalog import Bug
from catalog.bugs import BUGS

ROOT = Path(__file__).resolve().parent.parent
BY_NAME = {b.name: b for b in BUGS}
HARMLESS = Bug("activations", "harmless_renamed_local",
               "tanh_backward names its local variable differently: not a bug at all.",
               (("    t = np.tanh(x)\n    return dout * (1.0 - t * t)",
                 "    th = np.tanh(x)\n    return dout * (1.0 - th * th)"),),
               caught_by=("tanh_backward",))


@pytest.fixture(scope="module")
def survivor_run(tmp_path_factory):
    bugs = [BY_NAME["relu_inplace"], HARMLESS]          # one grading round with 2 jobs
    out = io.StringIO()
    status = mutants.run(bugs, jobs=2, out_dir=tmp_path_factory.mktemp("mutants"), stream=out)
    return status, out.getvalue()


def test_a_bug_no_test_catches_fails_the_run(survivor_run):
    status, text = survivor_run
    assert status == 1
    assert re.search(r"^NOT CAUGHT  activations/harmless_renamed_local +20/20: no test failed$", text, re.M), text
    assert text.rstrip().endswith("mutation score: 1/2 bugs caught (50.0%)\n"
                                  "not caught: activations/harmless_renamed_local")


def test_a_caught_bug_lists_its_part_and_failing_tests(survivor_run):
    _, text = survivor_run
    block = re.search(r"^caught +activations/relu_inplace +19/20, 1 test\(s\) failed:\n((?: {16}.+\n)+)", text, re.M)
    assert block, text
    assert block[1].strip() == "no function modifies its inputs"


def test_the_command_passes_when_every_selected_bug_is_caught():
    proc = subprocess.run([sys.executable, "-m", "grader", "mutants", "--part", "logistic_regression",
                           "--bug", "forward_forgets_bias", "--bug", "gradient_sign_flipped"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "grading 2 logistic_regression bug(s)" in proc.stdout
    assert re.search(r"^caught +logistic_regression/forward_forgets_bias ", proc.stdout, re.M)
    assert proc.stdout.rstrip().endswith("mutation score: 2/2 bugs caught (100.0%)")


def test_the_command_rejects_unknown_bugs():
    proc = subprocess.run([sys.executable, "-m", "grader", "mutants", "--bug", "no_such_bug"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "no bug named no_such_bug" in proc.stderr


def test_the_harmless_edit_applies_and_changes_the_text(tmp_path):
    from catalog import materialize
    text = (materialize(HARMLESS, tmp_path) / "activations.py").read_text(encoding="utf-8")
    assert "th = np.tanh(x)" in text and text != (ROOT / "solutions" / "activations.py").read_text(encoding="utf-8")
