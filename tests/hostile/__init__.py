"""The kit's hostile catalog: submissions written to cheat, break or overload
the grader, the way a determined student would write them.

Each Attack is a piece of code injected into one module of a base submission.
tests/test_hostile.py grades every attack twice, on top of the untouched
starter (it must score 0) and on top of the reference (it must score no more
than the reference), and checks what the issue asks of each: grading
finishes, nothing is written outside the sandbox, no process survives, and
the feedback never repeats hidden or reference code.
"""
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Attack:
    name: str
    part: str
    story: str
    code: str                 # appended to the module (so it can override functions), or
    at_import: bool = False   # ... prepended, so it runs before anything is defined


def load(name):
    return (HERE / "code" / f"{name}.py").read_text(encoding="utf-8")


ATTACKS = (
    Attack("fake_results", "activations",
           "prints a perfect results.json and writes it everywhere it can think of",
           load("fake_results"), at_import=True),
    Attack("exit_at_import", "activations", "calls sys.exit(0) while being imported, hoping for a clean exit",
           "import sys\nsys.exit(0)\n", at_import=True),
    Attack("os_exit_at_import", "logistic_regression", "calls os._exit(0) while being imported",
           "import os\nos._exit(0)\n", at_import=True),
    Attack("patch_numpy", "activations",
           "replaces numpy's comparison functions so that every comparison passes",
           load("patch_numpy"), at_import=True),
    Attack("patch_pytest", "activations",
           "rewrites pytest's report objects and hooks so every test reports as passed",
           load("patch_pytest"), at_import=True),
    Attack("ignore_signals_and_loop", "activations",
           "ignores SIGTERM, SIGALRM, SIGINT and SIGHUP, then loops forever inside sigmoid",
           load("ignore_signals_and_loop")),
    Attack("forked_survivor", "activations",
           "forks a child that leaves the process group, ignores signals and keeps running",
           load("forked_survivor"), at_import=True),
    Attack("huge_allocation", "activations", "allocates 12 GB inside relu",
           "import numpy as _np\n\ndef relu(x):\n    big = _np.ones(int(1.5e9))\n    return big[:x.size].reshape(x.shape)\n"),
    Attack("kill_parent", "activations",
           "kills its parent, every process it can see and every python process by pid",
           load("kill_parent"), at_import=True),
    Attack("leak_sources", "mlp",
           "reads the hidden suites and the reference, and pushes their text into the feedback",
           load("leak_sources")),
    Attack("run_the_reference", "logistic_regression",
           "finds the kit's solutions/ (next to the worker, under /tmp, through /proc/*/cwd, in otter's "
           "folders) and executes the reference in place of its own code",
           load("run_the_reference")),
    Attack("finite_difference_backward", "two_layer_net",
           "implements backward as finite differences of its own forward and loss",
           load("finite_difference_backward")),
)


def build(attack, base, dest):
    """Write base/<part>.py with the attack injected into dest/<part>.py; return dest."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    source = (ROOT / base / f"{attack.part}.py").read_text(encoding="utf-8")
    text = attack.code + "\n" + source if attack.at_import else source + "\n\n" + attack.code
    (dest / f"{attack.part}.py").write_text(text, encoding="utf-8")
    return dest
