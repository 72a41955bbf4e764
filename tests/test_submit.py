"""`make submission` (tooling/submit.py, run as the handout's assignment/submit.py) warns about what would cost points silently:
imports the grader cannot satisfy (a helper module of the student's own is not submitted)."""
import shutil

from grader.engine.grade import ROOT
from assignment import manifest, submit   # the handout's copy: it reads the generated parts.json


def test_reference_modules_import_nothing_foreign():
    modules, notes = submit.survey(ROOT / "solutions")
    assert sorted(modules) == sorted(manifest.graded()) and notes == []


def test_a_helper_module_of_ones_own_is_named(tmp_path):
    for part in manifest.graded():
        shutil.copyfile(ROOT / "solutions" / f"{part}.py", tmp_path / f"{part}.py")
    (tmp_path / "utils.py").write_text("def pos(x):\n    return x > 0\n")
    source = (tmp_path / "activations.py").read_text(encoding="utf-8")
    (tmp_path / "activations.py").write_text("from .utils import pos\nimport scipy.special\n" + source,
                                             encoding="utf-8")
    (tmp_path / "mlp.py").write_text("from assignment import utils\n" + (ROOT / "solutions" / "mlp.py").read_text(
        encoding="utf-8"), encoding="utf-8")
    _, notes = submit.survey(tmp_path)
    assert len(notes) == 2, notes
    assert notes[0].startswith("activations.py imports .utils, scipy.special, which the grader does not have")
    assert notes[1].startswith("mlp.py imports assignment.utils, which the grader does not have")
