"""A score depends on the submission alone, not on how busy the machine is.

The reference, every correct alternative of the catalog and a sample of bugs (a wrong
sigmoid_backward next to a correct two-layer net, which the judge then serves call by call; an
endless loop; a sleep; a bug in each other part) are graded on this machine as it is, then again
beside CPU hogs on four times its cores, with more jobs than cores: every score, status and
message must be the same. Each run measures its own calibration (the reference's time per test
on the machine as it is then), as a course's batch does.

Each hog runs in a session of its own (setsid), as the work of other users does: Linux's
autogroup scheduling gives every session an equal share of the CPU, and the grader starts its
judges and workers in sessions of their own, so hogs sharing one session would barely touch it.
"""
import os
import subprocess
import sys
from contextlib import contextmanager

import pytest

from catalog import ALTERNATIVES, ROOT, alternative_folders, apply_edits, materialize
from catalog.bugs import BUGS
from grader.engine.grade import CALIBRATION_CACHE_ENV, grade

CORES = os.cpu_count() or 1
HOGS = 4 * CORES
LOADED_JOBS = CORES + 2
BUG_SAMPLE = ("forward_forgets_bias", "softmax_no_max_shift")     # one in logistic_regression, one in mlp


@contextmanager
def cpu_hogs(n):
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(n)]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def submissions(dest):
    """[(name, folder)]: what is graded twice."""
    subs = [("reference", ROOT / "solutions")]
    subs += [(name, folder) for name, (_, folder) in sorted(alternative_folders(dest / "alternatives").items())]
    assert len(subs) == 1 + len(list(ALTERNATIVES.glob("*__*.py")))
    for bug in BUGS:
        if bug.name in BUG_SAMPLE:
            subs.append((bug.name, materialize(bug, dest / "bugs")))
    # A wrong sigmoid_backward next to the reference two-layer net: served by the judge, call by call.
    cross = dest / "cross" / "sigmoid_backward_uses_x"
    cross.mkdir(parents=True)
    bug = next(b for b in BUGS if b.name == "sigmoid_backward_uses_x")
    (cross / "activations.py").write_text(apply_edits((ROOT / "solutions" / "activations.py").read_text(), bug))
    (cross / "two_layer_net.py").write_text((ROOT / "solutions" / "two_layer_net.py").read_text())
    subs.append(("cross_part", cross))
    # An endless loop and a sleep: their tests fail at their limits, the same way under any load.
    stall = dest / "stall"
    stall.mkdir()
    text = (ROOT / "solutions" / "activations.py").read_text()
    text = text.replace("import numpy as np\n", "import time\n\nimport numpy as np\n", 1)
    text += ("\n\ndef leaky_relu_backward(dout, x, alpha=0.01):\n    while True:\n        pass\n"
             "\n\ndef relu_backward(dout, x):\n    time.sleep(10000)\n")
    (stall / "activations.py").write_text(text)
    subs.append(("stall", stall))
    assert len(subs) == len(dict(subs))
    return subs


def verdicts(results):
    return {name: [(t["name"], t["score"], t["status"], t["output"]) for t in r["tests"]]
            for name, r in results.items()}


def test_the_same_verdicts_idle_and_beside_cpu_hogs(tmp_path, monkeypatch):
    monkeypatch.delenv(CALIBRATION_CACHE_ENV, raising=False)      # each run measures its own
    subs = submissions(tmp_path / "subs")
    paths, names = [str(folder) for _, folder in subs], [name for name, _ in subs]
    idle = grade(paths, tmp_path / "idle", jobs=2, names=names, quiet=True)
    with cpu_hogs(HOGS) as hogs:
        loaded = grade(paths, tmp_path / "loaded", jobs=LOADED_JOBS, names=names, quiet=True)
        assert all(h.poll() is None for h in hogs), "a hog stopped before the loaded run ended"

    print(f"\n{'submission':<36} {'idle':>7} {'loaded':>7}   ({HOGS} CPU hogs on {CORES} cores, -j {LOADED_JOBS})")
    for name in names:
        print(f"{name:<36} {idle[name]['score']:>7g} {loaded[name]['score']:>7g}")
    for run in (idle, loaded):
        statuses = {n: {p: i["status"] for p, i in r["extra_data"]["parts"].items()} for n, r in run.items()}
        assert not [n for n, s in statuses.items() if "not graded" in s.values() or "grader error" in s.values()], \
            statuses
    assert verdicts(loaded) == verdicts(idle)
    # What the sample shows: correct code keeps full marks however busy the machine is, a wrong
    # activations.py costs nothing in the two-layer net, and the stalls fail on their own limits.
    assert idle["reference"]["score"] == idle["reference"]["max_score"], idle["reference"]["output"]
    for name, _ in subs:
        if "__" in name:                  # catalog/alternatives/<part>__<variant>.py: full marks on its part
            info = idle[name]["extra_data"]["parts"][name.split("__")[0]]
            assert info["score"] == info["max_score"], (name, idle[name]["output"])
    assert idle["cross_part"]["extra_data"]["parts"]["two_layer_net"]["score"] == 25
    assert idle["cross_part"]["extra_data"]["parts"]["two_layer_net"]["dependencies"] == \
        {"activations": "own, except sigmoid_backward (reference)"}
    stalled = {t["name"]: t["output"] for t in idle["stall"]["tests"] if t["status"] == "failed"}
    assert any("went past this test's time limit" in out and "waiting" in out for out in stalled.values()), stalled
    assert any("went past this test's time limit" in out and "endless loop" in out for out in stalled.values()), \
        stalled
    assert idle["stall"]["extra_data"]["parts"]["activations"]["status"] == "timeout"


def test_results_record_each_tests_time_and_the_rule(tmp_path):
    """A TA answering a dispute reads, per test, the seconds used, the limit and the reference's seconds
    on the machine that graded it, and the rule and that machine for the whole submission."""
    results = grade([str(ROOT / "solutions")], tmp_path / "out", jobs=2, parts=("logistic_regression",),
                    names=["reference"], quiet=True)
    reference = results["reference"]
    timing = reference["extra_data"]["time"]
    assert timing["rule"].startswith("each test may take 30x") and (timing["multiple"], timing["floor_seconds"]) \
        == (30.0, 2.0)
    assert {"cpu", "cpus", "python", "numpy"} <= set(timing["host"])
    for test in reference["tests"]:
        time = test["extra_data"]["time"]
        assert time["limit"] == pytest.approx(max(2.0, 30.0 * time["reference"]), abs=1e-3)
        assert 0 <= time["cpu_seconds"] <= time["seconds"] + 1e-6 and time["seconds"] < time["limit"]
