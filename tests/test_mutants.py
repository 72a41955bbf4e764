"""`make mutants` (grader/instructor/mutants.py) on a few bugs, not the whole catalog:
tests/test_catalog.py already grades all of it.

One run grades a real catalog bug and a harmless edit that no test can
catch (the failure path); one runs the command line on two catalog bugs;
one on a fixed sample of four generated mutants of one part (two that the
survivors file lists as equivalent, two that the suites catch), hidden suite
and public checks. The generator and the survivors file's logic are tested
without grading in tests/test_generated_mutants.py; the full sweep is
`make mutants` (README: "Instructor notes").
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
    proc = subprocess.run([sys.executable, "-m", "grader", "mutants", "--part", "logistic_regression", "--no-public",
                           "--bug", "forward_forgets_bias", "--bug", "gradient_sign_flipped"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "grading 2 logistic_regression bug(s)" in proc.stdout
    assert "generated" not in proc.stdout             # --bug: the catalog only
    assert "\nmutation scores, caught/total:\n" in proc.stdout
    assert re.search(r"^caught +logistic_regression/forward_forgets_bias ", proc.stdout, re.M)
    assert "mutation score: 2/2 bugs caught (100.0%)" in proc.stdout
    assert proc.stdout.rstrip().endswith("part                 catalog hidden\n"
                                         "logistic_regression  2/2 (100%)\n"
                                         "all                  2/2 (100%)")


# A fixed sample of generated mutants of activations: two survivors that catalog/mutants_survivors.toml
# lists as equivalent, and two mutants that both the hidden suite and the public checks catch.
SAMPLE_EQUIVALENT = ("activations/sigmoid/swap_op/d8f8cc81",        # x > 0 for x >= 0: both branches give 0.5
                     "activations/relu_backward/swap_op/581e3686")   # relu'(0) = 1, which the docstring allows
SAMPLE_CAUGHT = ("activations/relu/number/f4eee8eb",                 # np.maximum(x, 1.0)
                 "activations/sigmoid/swap_op/839c26b8")             # ... * (1.0 + e)


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory):
    return tmp_path_factory.mktemp("sample") / "mutants"


@pytest.fixture(scope="module")
def sample_run(sample_out):
    args = [arg for ident in SAMPLE_EQUIVALENT + SAMPLE_CAUGHT for arg in ("--mutant", ident)]
    return subprocess.run([sys.executable, "-m", "grader", "mutants", "--part", "activations", "-j", "2", *args,
                           "--out", str(sample_out)], cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_a_sample_of_generated_mutants_is_graded_hidden_and_public(sample_run):
    out = sample_run.stdout
    assert sample_run.returncode == 0, out + sample_run.stderr
    assert "catalog (" not in out                     # --mutant: the generated mutants only
    assert "generated mutants (catalog/generated.py): 4 of " in out
    assert "grading 4 activations generated mutant(s) ..." in out
    assert "running the public checks of activations on 4 generated mutant(s) ..." in out
    assert re.search(r"^generated mutants: 4 graded in \d+ s \(hidden\) and \d+ s \(public\), "
                     r"2 survived the hidden suite$", out, re.M)
    assert "2 survivor(s) listed as equivalent in catalog/mutants_survivors.toml" in out
    assert "SURVIVED" not in out and "STALE" not in out
    assert out.rstrip().endswith("part                 generated hidden   generated public\n"
                                 "activations          2/4 (50%)          2/4 (50%)\n"
                                 "all                  2/4 (50%)          2/4 (50%)")


def test_the_sample_is_held_to_the_slip_rule(sample_run, sample_out):
    """`python -m grader slips` (what `make mutants` runs after the sweep) on the sample's grades: the two
    caught mutants of sigmoid and relu lose their points in those functions' tests only."""
    assert sample_run.returncode == 0, sample_run.stdout + sample_run.stderr
    proc = subprocess.run([sys.executable, "-m", "grader", "slips", str(sample_out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("a slip costs once: 4 graded bug(s), 0 losing more than 2 point(s) "), proc.stdout


def test_a_bug_charged_beyond_its_function_fails_the_slip_rule(sample_run, sample_out, tmp_path):
    """The same grades, one of them rewritten so that sigmoid's mutant also loses relu's points: the
    command names it and exits 1."""
    import json
    import shutil
    folder = tmp_path / "mutants"
    shutil.copytree(sample_out / "generated" / "activations", folder / "generated" / "activations")
    path = next(folder.glob("generated/activations/gen_activations__sigmoid__swap_op__839c26b8/results.json"))
    result = json.loads(path.read_text())
    relu = [t for t in result["tests"] if t["name"].startswith("activations: relu")]
    assert sum(t["max_score"] for t in relu) > 2, relu
    for t in relu:
        t["score"] = 0.0
    path.write_text(json.dumps(result))
    proc = subprocess.run([sys.executable, "-m", "grader", "slips", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "OVER  activations/gen_activations__sigmoid__swap_op__839c26b8: " in proc.stdout, proc.stdout
    empty = subprocess.run([sys.executable, "-m", "grader", "slips", str(tmp_path / "none")], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert empty.returncode == 2 and "no graded bugs" in empty.stderr


def test_the_command_rejects_unknown_mutants():
    proc = subprocess.run([sys.executable, "-m", "grader", "mutants", "--part", "activations",
                           "--mutant", "activations/relu/number/00000000"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert "no generated mutant activations/relu/number/00000000 for activations" in proc.stderr
    assert "--list" in proc.stderr


def test_the_command_rejects_unknown_bugs():
    proc = subprocess.run([sys.executable, "-m", "grader", "mutants", "--bug", "no_such_bug"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "no bug named no_such_bug" in proc.stderr


def test_the_harmless_edit_applies_and_changes_the_text(tmp_path):
    from catalog import materialize
    text = (materialize(HARMLESS, tmp_path) / "activations.py").read_text(encoding="utf-8")
    assert "th = np.tanh(x)" in text and text != (ROOT / "solutions" / "activations.py").read_text(encoding="utf-8")
