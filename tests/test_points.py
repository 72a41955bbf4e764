"""One source for points (issue 18): a part's points in grader/parts.py are its total, and its hidden
tests' @pytest.mark.points must add up to it. That they do today is tests/test_suites.py's
test_points_add_up_to_the_registrys; here: when they do not, grading and the autograder builds
refuse, naming both numbers and the files to edit, instead of grading with the marks while the
READMEs, the notebook and the public checks state the registry's points.
"""
import subprocess
import sys

import pytest

from grader import ROOT
from grader.parts import BY_NAME, GRADED, PointsMismatch, check_points

# Run `python -m grader ARGV` with the registry giving activations 25 points (its tests add up to 20).
EDITED = ("import dataclasses, sys\n"
          "import grader.parts as parts\n"
          "parts.BY_NAME['activations'] = dataclasses.replace(parts.BY_NAME['activations'], points=25)\n"
          "from grader.__main__ import main\n"
          "sys.exit(main(sys.argv[1:]))\n")


def test_check_points_names_both_numbers_and_the_files():
    check_points("activations", 20)                     # what the suite is worth today: no complaint
    with pytest.raises(PointsMismatch) as caught:
        check_points("activations", 21.5)
    text = str(caught.value)
    assert "21.5" in text and "20" in text and "grader/parts.py" in text
    assert "grader/suites/test_activations.py" in text
    assert (caught.value.part, caught.value.registry, caught.value.suite) == ("activations", 20, 21.5)


def test_a_batch_refuses_when_the_registry_and_the_tests_disagree(tmp_path):
    """Changing the points in grader/parts.py alone used to change nothing at grading: now the batch refuses
    before any submission is graded, with an error line, status 2 and nothing written."""
    sub = tmp_path / "ada"
    sub.mkdir()
    (sub / "activations.py").write_text((ROOT / "solutions" / "activations.py").read_text())
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", EDITED, "grade", "--out", str(out), "--parts", "activations",
                           "--", str(sub)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "refusing to grade" in error[0], proc.stderr[-2000:]
    assert "add up to 20 points, but grader/parts.py gives activations 25 points" in error[0]
    assert not list(out.glob("*/results.json"))


def test_the_gradescope_build_refuses_when_they_disagree(tmp_path):
    """`make gradescope` would otherwise ship a zip that refuses every student's grading."""
    out = tmp_path / "gradescope.zip"
    proc = subprocess.run([sys.executable, "-c", EDITED, "gradescope", "build", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and proc.stderr.startswith("error: the hidden tests of activations"), \
        proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "gives activations 25 points" in proc.stderr and not out.exists()


def test_catalog_scores_are_below_the_points_of_their_part():
    """catalog/scores.py records what each bug scores, out of its part's points in grader/parts.py: a bug
    must lose points (tests/test_catalog.py grades them; this only checks the record against the registry)."""
    from catalog.bugs import BUGS
    from catalog.scores import SCORES
    part_of = {b.name: b.part for b in BUGS}
    assert set(SCORES) == set(part_of)
    for name, score in SCORES.items():
        assert part_of[name] in GRADED and 0 <= score < BY_NAME[part_of[name]].points, (name, score)

