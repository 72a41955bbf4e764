"""mlp.fit's progress output and `python -m assignment.train` (tooling/train.py).

The command-line runs use a subprocess (as students run it: one BLAS thread,
matplotlib's Agg backend); the rest calls tooling.train on small data.
"""
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from solutions import mlp
from tooling import train

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^epoch (\d+)/(\d+): loss (\d+\.\d{4}) \((\d+\.\d) s\)$")
SMALL = (6, 5, 3)


def tiny_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, SMALL[0])), rng.integers(0, SMALL[-1], size=n)


class FakeClock:
    """Stands in for the time module in solutions.mlp: each perf_counter() call advances `step` seconds."""

    def __init__(self, step):
        self.step, self.now = step, 0.0

    def perf_counter(self):
        self.now += self.step
        return self.now


def lines_of(text):
    return [line for line in text.splitlines() if line.strip()]


# -- fit's progress ----------------------------------------------------------------
def test_fit_verbose_prints_one_line_per_epoch(capsys):
    X, y = tiny_data()
    _, history = mlp.fit(X, y, layer_sizes=SMALL, epochs=3, batch_size=8, verbose=True)
    lines = lines_of(capsys.readouterr().out)
    assert len(lines) == 3, lines
    for epoch, line in enumerate(lines, 1):
        m = LINE.match(line)
        assert m, line
        assert (int(m[1]), int(m[2])) == (epoch, 3)
        assert float(m[3]) == pytest.approx(history[epoch - 1], abs=5e-5)


def test_fit_verbose_false_is_silent_even_on_slow_epochs(capsys, monkeypatch):
    monkeypatch.setattr(mlp, "time", FakeClock(step=5.0))
    X, y = tiny_data()
    mlp.fit(X, y, layer_sizes=SMALL, epochs=3, batch_size=8, verbose=False)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("step, printed", [(0.01, []), (0.6, [2, 4]), (1.5, [1, 2, 3, 4])])
def test_fit_default_prints_only_once_a_second_has_passed(step, printed, capsys, monkeypatch):
    """verbose=None: an epoch's line when >= 1 s has passed since the last line (or the start)."""
    monkeypatch.setattr(mlp, "time", FakeClock(step))
    X, y = tiny_data()
    mlp.fit(X, y, layer_sizes=SMALL, epochs=4, batch_size=8)
    epochs = [int(LINE.match(line)[1]) for line in lines_of(capsys.readouterr().out)]
    assert epochs == printed


def test_printing_does_not_change_what_fit_returns(capsys):
    X, y = tiny_data()
    quiet = mlp.fit(X, y, layer_sizes=SMALL, epochs=2, batch_size=8, seed=3, verbose=False)
    loud = mlp.fit(X, y, layer_sizes=SMALL, epochs=2, batch_size=8, seed=3, verbose=True)
    assert quiet[1] == loud[1]
    assert all(np.array_equal(quiet[0][k], loud[0][k]) for k in quiet[0])


# -- train on a contract-conforming fit without `verbose` -------------------------------
def contract_module(deterministic=True):
    """A student mlp whose fit has exactly the contract's parameters (no verbose)."""
    calls = []
    counter = iter(range(1000))

    def fit(X, y, layer_sizes=(784, 128, 256, 10), epochs=5, batch_size=64, lr=0.1, seed=0):
        calls.append(dict(epochs=epochs, seed=seed))
        return mlp.fit(X, y, SMALL, epochs, batch_size, lr, seed if deterministic else next(counter),
                       verbose=False)

    return types.SimpleNamespace(fit=fit, predict=mlp.predict, calls=calls)


@pytest.fixture
def small_sets(monkeypatch):
    monkeypatch.setattr(train, "LAYER_SIZES", SMALL)
    return tiny_data(60, seed=1), tiny_data(30, seed=2)


def test_train_works_with_a_fit_that_has_no_verbose(small_sets):
    module = contract_module()
    log = []
    outcome = train.train(module, *small_sets, epochs=4, batch_size=8, lr=0.2, points=3, log=log.append)
    assert outcome.points == [1, 2, 4] and len(outcome.train_accuracy) == len(outcome.test_accuracy) == 3
    assert [c["epochs"] for c in module.calls] == [4, 1, 2]          # the long run, then one run per point
    assert outcome.prefix_runs and "checkpoints" in log[-1]
    (Xte, yte) = small_sets[1]
    assert outcome.confusion.sum() == len(yte)
    assert np.trace(outcome.confusion) / len(yte) == pytest.approx(outcome.test_accuracy[-1])


def test_train_says_when_the_points_are_separate_runs(small_sets):
    log = []
    outcome = train.train(contract_module(deterministic=False), *small_sets, epochs=3, batch_size=8,
                          points=3, log=log.append)
    assert not outcome.prefix_runs
    assert any("separate training run" in line for line in log)


def test_train_explains_a_fit_that_returns_the_wrong_thing(small_sets):
    module = types.SimpleNamespace(fit=lambda X, y, **kw: ({}, [1.0]), predict=mlp.predict)
    with pytest.raises(train.TrainError, match=r"epochs=3.*history of 1 losses"):
        train.train(module, *small_sets, epochs=3, log=lambda _: None)


def test_accuracy_points():
    assert train.accuracy_points(10, 10) == list(range(1, 11))
    assert train.accuracy_points(20, 5) == [1, 6, 10, 15, 20]
    assert train.accuracy_points(7, 1) == [7]


# -- the command line -------------------------------------------------------------
def run_module(module, *args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


def reference_handout(tmp_path):
    """A copy of the handout's assignment/ whose modules are the reference (train.py imports
    its mlp from its own package), next to the kit's data/."""
    pkg = tmp_path / "kit" / "assignment"
    shutil.copytree(ROOT / "assignment", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for module in ("activations", "mlp"):
        shutil.copyfile(ROOT / "solutions" / f"{module}.py", pkg / f"{module}.py")
    (tmp_path / "kit" / "data").symlink_to(ROOT / "data")
    return pkg.parent


def test_train_command_writes_the_three_plots(tmp_path):
    proc = run_module("assignment.train", "--epochs", "2", "--points", "2", "--out", str(tmp_path),
                      cwd=reference_handout(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert len(re.findall(r"^epoch \d/2: loss", proc.stdout, re.M)) == 2, proc.stdout   # verbose=True was passed
    test_acc = float(re.search(r"test accuracy (\d+\.\d)%", proc.stdout)[1])
    # The reference after 2 epochs on the bundled sample: 88.9% (seed 0).
    assert test_acc >= 85.0, proc.stdout
    for name in ("loss.png", "accuracy.png", "confusion.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.width >= 500 and image.height >= 350
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
            assert len(colours) > 50, f"{name} looks blank"


def test_train_on_the_starter_says_what_to_do(tmp_path):
    proc = run_module("assignment.train", "--epochs", "1", "--out", str(tmp_path / "plots"))
    assert proc.returncode == 2
    assert "mlp.fit is not implemented yet" in proc.stderr and "make check" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "plots").exists()

