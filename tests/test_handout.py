"""The handout README's steps, as a student runs them on a fresh machine (issue 12).

The handout is built as `make dist` builds it (grader.release.build_handout),
zipped as `make dist` zips it and unzipped into a work folder of the student's
(issue 19: the zip holds the files at its top), and every command of its
README's ```sh blocks runs, in order, in one bash session there: a new virtual
environment, `make install`, `make check` (here and from inside assignment/),
`make submission`, `make train`. Two stand-ins keep it cheap and offline: the
venv is made with --system-site-packages, so that `make install` finds the
pinned packages installed (CI installs them with `make install` first), and
`make notebook`, which starts a server, runs as `make notebook ARGS=--version`
(the real target, its root check included, with JupyterLab printing its version
instead of serving). What the README's text promises beyond its blocks runs
too: from inside assignment/, `make help`, `make train ARGS=...`.
Measured on 2 cores: about 12 s for the whole file (the five make check runs
are most of the rest; the venv and pip's resolution take about 5-7 s).

The README's list of commands is pinned: a new step must be added here too.
"""
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.authoring import release
from grader.engine.grade import ROOT
from grader.parts import GRADED
from tooling import submit

README_COMMANDS = [
    "python3 -m venv .venv",
    ". .venv/bin/activate",
    "make install",
    "make notebook",
    "make check",
    'make check ARGS="mlp -v"',
    "make submission",
    "make train",
]
STAND_INS = {
    "python3 -m venv .venv": f"{sys.executable} -m venv --system-site-packages .venv",
    "make notebook": "make notebook ARGS=--version",
}
# Beyond the README's blocks, what its text promises: the check works from inside assignment/ too, make help
# lists the targets, and ARGS reaches what make train and make notebook run (issue 19).
INSIDE = ["cd assignment && make check", "cd assignment && python3 check.py warmup", "make help",
          'make train ARGS="--help"', "cd assignment && make notebook ARGS=--version"]
MARK = "=== step"


def readme_commands(text):
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """{command: (exit status, output)} of every step, run in one bash session in a fresh handout: the
    handout's zip, unzipped into the student's work folder."""
    built = release.build_handout(tmp_path_factory.mktemp("built") / "handout")
    archive = release.zip_handout(built, tmp_path_factory.mktemp("zip") / "handout.zip")
    handout = tmp_path_factory.mktemp("work") / "mlp-assignment"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(handout)
    commands = readme_commands((handout / "README.md").read_text(encoding="utf-8"))
    script = ["set -u"]
    for i, command in enumerate(commands + INSIDE):
        run = STAND_INS.get(command, command)
        script += [f'echo "{MARK} {i}"', f"( {run} ) 2>&1; echo \"{MARK} {i} status $?\""]
        if command.startswith(". "):
            script[-1] = f"{run} 2>&1; echo \"{MARK} {i} status $?\""        # activation must last
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-c", "\n".join(script)], cwd=handout,
                          capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin:" + str(Path(sys.executable).parent),
                               "HOME": str(handout), "LANG": "C.UTF-8", "MPLBACKEND": "Agg"})
    out = {}
    for i, command in enumerate(commands + INSIDE):
        m = re.search(rf"^{MARK} {i}\n(.*?)^{MARK} {i} status (\d+)$", proc.stdout, re.S | re.M)
        assert m, f"step {command!r} did not run:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
        out[command] = (int(m.group(2)), m.group(1))
    return commands, out, handout


def test_the_readme_documents_these_steps(steps):
    commands, _, _ = steps
    assert commands == README_COMMANDS


def test_every_step_succeeds_in_a_fresh_virtual_environment(steps):
    _, out, handout = steps
    # python3 check.py reports failing public tests by its status (for scripts); make check does not.
    expected = {c: 1 if c.endswith("check.py warmup") else 0 for c in out}
    failed = {c: (status, o[-1500:]) for c, (status, o) in out.items() if status != expected[c]}
    assert not failed, failed
    assert (handout / ".venv" / "bin" / "python").is_file()
    assert "Requirement already satisfied: jupyterlab==" in out["make install"][1], out["make install"][1]


def test_make_notebook_passes_args_and_runs_as_root(steps):
    """JupyterLab refuses root ("Running as root is not recommended"), who a container's user usually is:
    make notebook then adds --allow-root and says so; ARGS reach JupyterLab (here --version, which prints
    its version and exits), from either folder."""
    _, out, _ = steps
    root = os.geteuid() == 0
    for command in ("make notebook", "cd assignment && make notebook ARGS=--version"):
        lines = out[command][1].strip().splitlines()
        assert re.fullmatch(r"4\.\d+\.\d+", lines[-1]), (command, lines)
        note = [line for line in lines if "--allow-root" in line]
        assert bool(note) == root, (command, lines)
        if root:
            assert note[0] == "make notebook: you are root (as in a container), so JupyterLab runs with --allow-root."
            assert "ARGS='--no-browser --ip=0.0.0.0'" in lines[1], lines


def test_the_zip_unpacks_into_the_work_folder(steps):
    """No handout/ folder inside the zip: what students unzip is their work folder."""
    _, _, handout = steps
    assert (handout / "README.md").is_file() and (handout / "Makefile").is_file()
    assert (handout / "assignment" / "mlp.py").is_file() and not (handout / "handout").exists()


def make_variables(*makefiles):
    """The variables a Makefile reads ($(NAME) or NAME ?=), upper-case names only (not make's functions)."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in makefiles)
    return set(re.findall(r"\$\(([A-Z_]+)\)", text)) | set(re.findall(r"^([A-Z_]+) \?=", text, re.M)) - {"MAKE"}


def mentions(text, name):
    return re.search(rf"(?<![A-Z_]){name}(?![A-Z_])", text) is not None


def test_every_make_variable_of_the_handout_is_documented(steps):
    """Each variable the handout's Makefile reads is in its README and in make help (issue 19: make train's
    ARGS was in neither)."""
    _, out, handout = steps
    names = make_variables(handout / "Makefile")
    assert names == {"PYTHON", "ARGS", "STRICT"}, names
    readme = (handout / "README.md").read_text(encoding="utf-8")
    help_text = out["make help"][1]
    undocumented = {n: [where for where, text in (("README.md", readme), ("make help", help_text))
                        if not mentions(text, n)] for n in names}
    assert not {n: w for n, w in undocumented.items() if w}, undocumented
    assert "requirements-grading.txt" in readme and (handout / "requirements-grading.txt").is_file()


def test_every_make_variable_of_the_kit_is_documented():
    """The same for the kit's own Makefile (all its targets are in that one file), its README and make help."""
    names = make_variables(ROOT / "Makefile")
    assert {"PYTHON", "ARGS", "STRICT", "JOBS", "OUT", "SUBMISSIONS", "LIMITS"} <= names, names
    assert "TRAIN_ARGS" not in names                  # one name, as in the handout: make train ARGS=...
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    help_text = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                               timeout=60).stdout
    undocumented = {n: [where for where, text in (("README.md", readme), ("make help", help_text))
                        if not mentions(text, n)] for n in names}
    assert not {n: w for n, w in undocumented.items() if w}, undocumented


def test_make_train_passes_args(steps):
    _, out, _ = steps
    text = out['make train ARGS="--help"'][1]
    assert "usage: python -m assignment.train" in text and "--epochs" in text, text


def test_make_check_ends_with_its_summary_from_either_folder(steps):
    _, out, handout = steps
    grader = json.loads((handout / "assignment" / "parts.json").read_text(encoding="utf-8"))["python"]
    for command in ("make check", 'make check ARGS="mlp -v"', "cd assignment && make check"):
        text = out[command][1]
        last = text.rstrip().splitlines()[-1]
        assert re.match(r"0 of \d+ public tests passed\. The grader's \d+ tests \(\d+ points\) run when you submit",
                        last), (command, last)
        assert f"run when you submit, on Python {grader}." in last, (command, last)
        newer = sys.version_info[:2] > tuple(map(int, grader.split(".")))
        assert ("Warning: this is Python" in text) == newer, (command, text[-800:])
        assert "make: ***" not in text and "No rule to make target" not in text, (command, text[-500:])
    def cases(part):                     # the handout's public checks of a part, one per case
        path = handout / "assignment" / "public_tests" / f"{part}.json"
        return len(json.loads(path.read_text(encoding="utf-8"))["cases"])

    assert f"0 of {cases('mlp')} public tests passed" in out['make check ARGS="mlp -v"'][1]
    assert out["cd assignment && python3 check.py warmup"][1].rstrip().endswith(
        f"0 of {cases('warmup')} public tests passed. (The warm-up is not graded.) Use -v to see every failure.")


def test_make_submission_counts_the_todo_functions_before_upload(steps):
    _, out, handout = steps
    text = out["make submission"][1]
    todo = sum(len(submit.STUB.findall((ROOT / "assignment" / f"{p}.py").read_text(encoding="utf-8")))
               for p in GRADED)
    assert todo == 27
    assert f"Not finished: {todo} function(s) still TODO" in text, text
    assert text.index(f"{todo} function(s) still TODO") < text.index("Upload"), text
    assert (handout / "submission.zip").is_file()


def test_make_train_says_what_to_finish_first(steps):
    _, out, _ = steps
    text = out["make train"][1]
    assert "is not implemented yet" in text and "make: ***" not in text, text
