"""A score depends on the submission alone, not on how busy the machine is.

The reference, every correct alternative of the catalog and a sample of bugs (a wrong
sigmoid_backward next to a correct two-layer net, which the judge then serves call by call; an
endless loop and a sleep; a bug in two other parts) are graded on this machine as the test
session finds it (the catalog's own gradings, tests/conftest.py), then again beside a CPU hog on
each of its cores, with eight times more jobs than cores: every score, status and message must be the
same. The loaded run measures its own calibration (the reference's time per test on the machine
as it is then), as a course's batch does.

Each hog runs in a session of its own (setsid), as the work of other users does: Linux's
autogroup scheduling gives every session an equal share of the CPU, and the grader starts its
judges and workers in sessions of their own, so hogs sharing one session would barely touch it.
"""
import os
import subprocess
import sys
from contextlib import contextmanager

from catalog import ALTERNATIVES, ROOT, alternative_folders, apply_edits, materialize
from catalog.bugs import BUGS
from grader.engine.grade import CALIBRATION_CACHE_ENV, grade
from grader.parts import GRADED

CORES = os.cpu_count() or 1
# One per core: the machine is oversubscribed from outside the batch as well as from inside it (-j 16 on
# 2 cores). Eight hogs made this test the most expensive of make test (625 CPU-seconds of 2,100, the hogs'
# share of the CPU while the batch ran, measured with a cpuacct cgroup per pytest worker), and four still
# cost 485 CPU-seconds on 2 December 2026; a hog per core keeps every core contended from outside.
HOGS = CORES
# More jobs than cores, and four times as many as the hogs: every session gets an equal share of the CPU
# (autogroup), so the batch gets about four fifths of it and the hogs burn less of the test session's time.
LOADED_JOBS = 8 * CORES
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


def extra_submissions(dest):
    """{name: (parts, folder)}: the sample the catalog does not grade."""
    # A wrong sigmoid_backward next to the reference two-layer net: served by the judge, call by call.
    cross = dest / "cross_part"
    cross.mkdir(parents=True)
    bug = next(b for b in BUGS if b.name == "sigmoid_backward_uses_x")
    (cross / "activations.py").write_text(apply_edits((ROOT / "solutions" / "activations.py").read_text(), bug))
    (cross / "two_layer_net.py").write_text((ROOT / "solutions" / "two_layer_net.py").read_text())
    # An endless loop and a sleep: their tests fail at their limits, the same way under any load.
    stall = dest / "stall"
    stall.mkdir()
    text = (ROOT / "solutions" / "activations.py").read_text()
    text = text.replace("import numpy as np\n", "import time\n\nimport numpy as np\n", 1)
    text += ("\n\ndef leaky_relu_backward(dout, x, alpha=0.01):\n    while True:\n        pass\n"
             "\n\ndef relu_backward(dout, x):\n    time.sleep(10000)\n")
    (stall / "activations.py").write_text(text)
    return {"cross_part": (("two_layer_net",), cross), "stall": (("activations",), stall)}


def verdicts(result, parts):
    return [(t["name"], t["score"], t["status"], t["output"]) for t in result["tests"]
            if t["name"].split(": ", 1)[0] in parts]


def test_the_same_verdicts_idle_and_beside_cpu_hogs(tmp_path, monkeypatch, graded_examples, alternative_grades,
                                                     bug_grades):
    alternatives = alternative_folders(tmp_path / "alternatives")
    assert len(alternatives) == len(list(ALTERNATIVES.glob("*__*.py")))
    bugs = {b.name: b for b in BUGS if b.name in BUG_SAMPLE}
    extra = extra_submissions(tmp_path / "extra")
    # What to grade: (name, parts it is about, folder), and its grading as the session found the machine.
    sample = [("reference", GRADED, ROOT / "solutions")]
    # The MLP's alternatives first: the slowest jobs start first, and the batch ends sooner.
    sample += [(name, (part,), folder) for name, (part, folder) in
               sorted(alternatives.items(), key=lambda kv: (kv[1][0] != "mlp", kv[0]))]
    sample += [(name, (bug.part,), materialize(bug, tmp_path / "bugs")) for name, bug in sorted(bugs.items())]
    sample += [(name, parts, folder) for name, (parts, folder) in extra.items()]
    idle = {"reference": graded_examples[1]["reference"]}
    idle.update({name: alternative_grades.part(part)[name] for name, (part, _) in alternatives.items()})
    idle.update({name: bug_grades.part(bug.part)[name] for name, bug in bugs.items()})
    extra_idle = grade([str(f) for _, f in extra.values()], tmp_path / "idle", jobs=2, names=list(extra),
                       parts=tuple(p for p in GRADED if any(p in ps for ps, _ in extra.values())), quiet=True)
    idle.update(extra_idle)

    # The loaded run: its own calibration, measured beside the hogs, as a course's batch measures it.
    monkeypatch.setenv(CALIBRATION_CACHE_ENV, str(tmp_path / "loaded-calibration.json"))
    with cpu_hogs(HOGS) as hogs:        # one batch, as a course grades: its jobs overlap, so the hogs last less
        loaded = grade([str(folder) for _, _, folder in sample], tmp_path / "loaded", jobs=LOADED_JOBS,
                       names=[name for name, _, _ in sample], quiet=True)
        assert all(h.poll() is None for h in hogs), "a hog stopped before the loaded run ended"

    print(f"\n{'submission':<36} {'idle':>7} {'loaded':>7}   ({HOGS} CPU hogs on {CORES} cores, -j {LOADED_JOBS})")
    for name, parts, _ in sample:
        scores = [sum(t["score"] for t in run[name]["tests"] if t["name"].split(": ", 1)[0] in parts)
                  for run in (idle, loaded)]
        print(f"{name:<36} {scores[0]:>7g} {scores[1]:>7g}")
    for name, parts, _ in sample:
        for run in (idle, loaded):
            statuses = {p: run[name]["extra_data"]["parts"][p]["status"] for p in parts}
            assert not {"not graded", "grader error"} & set(statuses.values()), (name, statuses)
        assert verdicts(loaded[name], parts) == verdicts(idle[name], parts), name
    # What the sample shows: correct code keeps full marks however busy the machine is, a wrong
    # activations.py costs nothing in the two-layer net, and the stalls fail on their own limits.
    for name, parts, _ in sample:
        if name == "reference" or "__" in name:
            for part in parts:
                info = loaded[name]["extra_data"]["parts"][part]
                assert info["score"] == info["max_score"], (name, loaded[name]["output"])
    net = loaded["cross_part"]["extra_data"]["parts"]["two_layer_net"]
    assert net["score"] == 25 and net["dependencies"] == {"activations": "own, except sigmoid_backward (reference)"}
    stalled = [t["output"] for t in loaded["stall"]["tests"] if t["status"] == "failed"]
    assert any("went past this test's time limit" in out and "waiting" in out for out in stalled), stalled
    assert any("went past this test's time limit" in out and "endless loop" in out for out in stalled), stalled


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
        assert abs(time["limit"] - max(2.0, 30.0 * time["reference"])) < 1e-3, time
        assert 0 <= time["cpu_seconds"] <= time["seconds"] + 1e-6 and time["seconds"] < time["limit"]
