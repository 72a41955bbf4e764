"""A correct part scores full marks whatever the other parts do.

Every bug of the catalog in activations.py, next to the reference of the three parts that import
activations, on the namespace backend (this machine), and a sample of them on the simulated Docker host
(Landlock): logistic regression, the two-layer net and the MLP keep full marks, and results.json names
what the judge served instead of the student's function. Half of the submissions import activations the way a
student who runs their file as a script writes it (`from activations import ...`), the others as
the reference does (`from .activations import ...`): both reach what the judge serves.

Each bug is graded on the parts that import the function it changes (a wrong sigmoid on logistic
regression and the two-layer net, a wrong relu_backward on the MLP), and a bug in a function no part
imports (tanh, leaky ReLU) on logistic regression, the cheapest: a part that never calls a function runs
the same code whether it is served or not.

What decides which functions are served (the check of the student's own module) and how they are
served (the callback protocol) is the judge's, the same on both hosts; what a host changes is how the
worker finds and imports the modules. The Docker host's sample covers that: each import style, and a
served function of each kind the parts call (sigmoid_backward and relu_backward, used by two parts'
backward; relu, used by the MLP's forward). Every bug on every downstream part and both hosts cost 485
CPU-seconds, the largest file of make test after the hostile catalog's, for the same code paths.
"""
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from catalog import ROOT, apply_edits
from catalog.bugs import BUGS
from grader.parts import BY_NAME

HOSTSIM = Path(__file__).resolve().parent / "hostsim.py"
HOSTS = {"native": "namespaces", "docker": "landlock"}
DOWNSTREAM = [p for p, part in BY_NAME.items() if "activations" in part.imports]
ACTIVATIONS_BUGS = [b for b in BUGS if b.part == "activations"]
CHEAPEST = "logistic_regression"


def functions_of(source):
    """{name: its AST} of a module's top-level functions."""
    return {n.name: ast.dump(n) for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


def imported(part):
    """The functions of activations that the reference of `part` imports."""
    text = (ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")
    return {name.strip() for line in re.findall(r"^from \.activations import (.+)$", text, re.MULTILINE)
            for name in line.split(",")}


def changed(bug):
    """The functions of activations.py that `bug` changes."""
    reference = (ROOT / "solutions" / "activations.py").read_text(encoding="utf-8")
    before, after = functions_of(reference), functions_of(apply_edits(reference, bug))
    return {name for name in before if after.get(name) != before[name]}


def parts_for(bug):
    """The downstream parts a bug is graded on: those that import a function it changes, else the cheapest."""
    return tuple(p for p in DOWNSTREAM if imported(p) & changed(bug)) or (CHEAPEST,)


# The Docker host's sample (see above): relative and absolute imports, sigmoid_backward, relu and relu_backward.
DOCKER_SAMPLE = ("sigmoid_backward_uses_x", "sigmoid_backward_forgets_dout", "relu_inplace",
                 "relu_backward_mask_reversed")


def submissions(dest):
    reference = (ROOT / "solutions" / "activations.py").read_text(encoding="utf-8")
    subs = {}
    for i, bug in enumerate(ACTIVATIONS_BUGS):
        folder = dest / bug.name
        folder.mkdir(parents=True)
        (folder / "activations.py").write_text(apply_edits(reference, bug), encoding="utf-8")
        for part in DOWNSTREAM:
            text = (ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")
            if i % 2:
                absolute = text.replace("from .activations import", "from activations import")
                assert absolute != text, part
                text = absolute
            (folder / f"{part}.py").write_text(text, encoding="utf-8")
        subs[bug.name] = folder
    return subs


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = submissions(tmp_path_factory.mktemp("cross-part"))
    found = {}
    by_name = {b.name: b for b in ACTIVATIONS_BUGS}
    for host in HOSTS:
        groups = {}                  # the parts to grade -> the submissions graded on them
        for name, folder in subs.items():
            if host == "native" or name in DOCKER_SAMPLE:
                groups.setdefault(parts_for(by_name[name]), {})[name] = folder
        found[host] = {}
        for parts, graded_here in groups.items():
            out = tmp_path_factory.mktemp(f"cross-part-{host}")
            cmd = [sys.executable, "-m", "grader", "grade", "--out", str(out), "-j", "2", "--parts", *parts,
                   "--", *map(str, graded_here.values())]
            if host != "native":
                cmd = [sys.executable, str(HOSTSIM), host, "--"] + cmd
            env = {k: v for k, v in os.environ.items() if k != "GRADER_SANDBOX"}
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600, env=env)
            assert proc.returncode == 0, proc.stderr[-3000:]
            found[host].update({name: json.loads((out / name / "results.json").read_text(encoding="utf-8"))
                                for name in graded_here})
    return found


def test_each_bug_changes_one_function_and_every_downstream_part_is_graded():
    """The grading plan: each catalog bug changes one function of activations.py (else parts_for would
    miss what it breaks), and every part that imports activations is graded on some bug."""
    assert all(len(changed(bug)) == 1 for bug in ACTIVATIONS_BUGS), {b.name: changed(b) for b in ACTIVATIONS_BUGS}
    assert {p for bug in ACTIVATIONS_BUGS for p in parts_for(bug)} == set(DOWNSTREAM)
    assert imported("mlp") == {"relu", "relu_backward"}      # what the plan was measured with


def test_the_docker_sample_is_of_the_catalog_and_covers_both_import_styles():
    index = {b.name: i for i, b in enumerate(ACTIVATIONS_BUGS)}
    assert set(DOCKER_SAMPLE) <= set(index), set(DOCKER_SAMPLE) - set(index)
    assert {index[name] % 2 for name in DOCKER_SAMPLE} == {0, 1}        # see submissions(): odd ones are absolute


@pytest.mark.parametrize("host, bug", [pytest.param(host, bug, id=f"{bug.name}-{host}") for bug in ACTIVATIONS_BUGS
                                       for host in HOSTS if host == "native" or bug.name in DOCKER_SAMPLE])
def test_a_bug_in_activations_costs_no_other_part(graded, host, bug):
    result = graded[host][bug.name]
    assert result["extra_data"]["sandbox"]["backend"] == HOSTS[host]
    assert set(result["extra_data"]["parts"]) == set(parts_for(bug)), result["extra_data"]["parts"]
    for part in parts_for(bug):
        info = result["extra_data"]["parts"][part]
        lost = {t["name"]: t["output"] for t in result["tests"] if t["name"].startswith(f"{part}:")
                and t["status"] != "passed"}
        assert info["score"] == info["max_score"] and info["status"] == "ok", (part, info, lost)
        # What was used is recorded: the student's own functions that give the reference's numbers (a
        # sigmoid that only overflows on the way to the same 0.0 is one), the judge's for the others.
        mode = info["dependencies"]["activations"]
        assert mode in ("own", "reference") or mode.startswith("own, except "), (part, info)
