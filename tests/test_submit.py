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
    assert len(notes) == 3, notes
    assert notes[0] == ("activations.py imports .utils, a module of your own, which is not submitted (only the "
                        "graded files are): move that code into activations.py, or that part scores 0")
    assert notes[2].startswith("mlp.py imports assignment.utils, a module of your own, which is not submitted")


def test_a_third_party_import_is_told_what_to_use_instead(tmp_path):
    """Issue 19: a package the grader does not have gets numpy as the advice, with how (scipy.special's
    functions are a line or two of numpy), not "move that code into" the file; a helper of one's own
    imported by its plain name (import utils, utils.py beside it) is still told to move in."""
    for part in manifest.graded():
        shutil.copyfile(ROOT / "solutions" / f"{part}.py", tmp_path / f"{part}.py")
    (tmp_path / "utils.py").write_text("def pos(x):\n    return x > 0\n")
    source = (tmp_path / "activations.py").read_text(encoding="utf-8")
    (tmp_path / "activations.py").write_text("import scipy.special\nfrom sklearn.utils import shuffle\n"
                                             "import utils\n" + source, encoding="utf-8")
    source = (tmp_path / "mlp.py").read_text(encoding="utf-8")
    (tmp_path / "mlp.py").write_text("import torch\nimport somepackage\n" + source, encoding="utf-8")
    _, notes = submit.survey(tmp_path)
    assert len(notes) == 3, notes
    own, packages, mlp = notes
    assert own.startswith("activations.py imports utils, a module of your own") and "move that code" in own, own
    assert packages.startswith("activations.py imports scipy.special, sklearn.utils, which the grader does not "
                               "have (it has numpy and the standard library only): use numpy (scipy.special's "
                               "expit, softmax and logsumexp are a line or two each"), packages
    assert "np.eye(K)[y]" in packages and "move that code" not in packages, packages
    assert mlp == ("mlp.py imports somepackage, torch, which the grader does not have (it has numpy and the "
                   "standard library only): use numpy and the standard library for somepackage and numpy arrays "
                   "and backward passes of your own (the assignment is backpropagation by hand) for torch instead, "
                   "or that part scores 0")
