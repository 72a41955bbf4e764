"""Grading inside a small container (grader/engine/container.py): the limits read, the sizing, and the
Gradescope autograder in a simulated one-vCPU, 1.5 GiB container.

Gradescope gives each submission one container, its CPU, memory and overall timeout chosen per
assignment (by default 1/2 vCPU, 768 MB and 10 minutes:
https://gradescope-autograders.readthedocs.io/en/latest/troubleshooting/). A worker allowed more memory
than the container has gets the whole container killed: no results.json.

The simulated container: run_autograder on one CPU (sched_setaffinity, as `taskset -c`), and a cgroup
saying memory 1.5 GiB and a CPU quota of one CPU. Where this process may create cgroups (root, with a
writable v1 or v2 memory hierarchy, as on the kit's development machine), they are real: the
kernel enforces the 1.5 GiB on the whole autograder (judge, workers, orchestrator) and the quota, and
the kit finds them from /proc/self/cgroup. Elsewhere a folder stands for the cgroup
(MLP_KIT_CGROUP_ROOT): the kit sizes itself the same way, but nothing but the sandbox's own limits
(RLIMIT_AS and the watchdog on each worker) enforces the memory, and the affinity mask the CPU.
The test says which one it ran (-rs / the printed line).

Graded: the activations part only (the cheapest; the others are not submitted): the reference, the
loop-based alternative (catalog/alternatives/activations__loops.py), a memory hog and an endless loop.
"""
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import containersim
import pytest

from grader import ROOT
from grader.engine import container

GIB = 1 << 30
CONTAINER_MEMORY = 3 * GIB // 2
PART = "activations"


# -- reading the limits ---------------------------------------------------------------------------
def write(folder, files):
    for rel, text in files.items():
        path = Path(folder) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Path(folder)


@pytest.mark.parametrize("files, memory, quota", [
    ({"memory.max": f"{CONTAINER_MEMORY}\n", "cpu.max": "100000 100000\n"}, CONTAINER_MEMORY, 1.0),
    ({"memory.max": "max\n", "cpu.max": "max 100000\n"}, None, None),
    ({"memory.max": "805306368\n", "cpu.max": "50000 100000\n"}, 768 << 20, 0.5),        # Gradescope's default
    ({"memory/memory.limit_in_bytes": "1610612736\n", "cpu/cpu.cfs_quota_us": "50000\n",
      "cpu/cpu.cfs_period_us": "100000\n"}, CONTAINER_MEMORY, 0.5),                       # cgroup v1
    ({"memory/memory.limit_in_bytes": "9223372036854771712\n", "cpu/cpu.cfs_quota_us": "-1\n",
      "cpu/cpu.cfs_period_us": "100000\n"}, None, None),                                  # v1's "no limit"
    ({}, None, None),
])
def test_limits_are_read_from_a_cgroup_folder(tmp_path, files, memory, quota):
    found = container.read(root=write(tmp_path / "cg", files))
    assert (found.memory_limit, found.cpu_quota) == (memory, quota)
    assert found.affinity == len(os.sched_getaffinity(0))
    assert found.cpus == (max(1, min(found.affinity, int(quota))) if quota else found.affinity)
    assert found.mem_total and found.mem_available                      # this machine's /proc/meminfo
    if memory is not None:
        assert "memory" in found.memory_source and str(tmp_path) in found.memory_source


def test_the_process_own_cgroup_is_found_and_the_lowest_limit_along_its_path_wins(tmp_path):
    """/proc/self/cgroup and /proc/self/mountinfo as a container shows them: v2 mounted at a folder whose
    hierarchy root is /kubepods; v1 memory and cpu,cpuacct hierarchies. The parent's limit is lower than
    the process's own: the parent's binds."""
    mounts = tmp_path / "fs"
    write(mounts / "unified" / "pod" / "box", {"memory.max": "max\n", "cpu.max": "200000 100000\n"})
    write(mounts / "unified" / "pod", {"memory.max": f"{CONTAINER_MEMORY}\n", "cpu.max": "150000 100000\n"})
    write(mounts / "unified", {"memory.max": f"{4 * GIB}\n"})       # the mount point: read, higher
    proc = write(tmp_path / "proc", {
        "self/cgroup": "0::/kubepods/pod/box\n",
        "self/mountinfo": (f"30 23 0:26 /kubepods {mounts / 'unified'} rw,nosuid - cgroup2 cgroup2 rw\n"
                           f"31 23 0:27 / /proc rw - proc proc rw\n"),
        "meminfo": "MemTotal:       16000000 kB\nMemAvailable:   12000000 kB\n"})
    found = container.read(proc=proc)
    assert found.memory_limit == CONTAINER_MEMORY and found.cpu_quota == 1.5 and found.cpus == 1
    assert found.memory_source == f"cgroup v2 {mounts / 'unified' / 'pod' / 'memory.max'}"
    assert (found.mem_total, found.mem_available) == (16000000 * 1024, 12000000 * 1024)

    v1 = tmp_path / "v1"
    write(v1 / "memory" / "docker" / "abc", {"memory.limit_in_bytes": f"{2 * GIB}\n"})
    write(v1 / "memory" / "docker", {"memory.limit_in_bytes": "9223372036854771712\n"})
    write(v1 / "cpu,cpuacct" / "docker" / "abc", {"cpu.cfs_quota_us": "-1\n", "cpu.cfs_period_us": "100000\n"})
    write(v1 / "cpu,cpuacct" / "docker", {"cpu.cfs_quota_us": "100000\n", "cpu.cfs_period_us": "100000\n"})
    proc = write(tmp_path / "proc1", {
        "self/cgroup": "5:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n",
        "self/mountinfo": (f"40 31 0:30 / {v1 / 'memory'} rw - cgroup cgroup rw,memory\n"
                           f"41 31 0:31 / {v1 / 'cpu,cpuacct'} rw - cgroup cgroup rw,cpu,cpuacct\n"),
        "meminfo": "MemTotal:       16000000 kB\n"})
    found = container.read(proc=proc)
    assert (found.memory_limit, found.cpu_quota) == (2 * GIB, 1.0)
    assert found.cpu_source.startswith("cgroup v1 ") and found.cpu_source.endswith("docker/cpu.cfs_quota_us")


# -- sizing ---------------------------------------------------------------------------------------
def resources(memory=None, quota=None, affinity=2, total=16 * GIB):
    return container.Resources(memory_limit=memory, cpu_quota=quota, affinity=affinity, mem_total=total,
                               mem_available=total)


def test_sizing_follows_the_cpus_and_keeps_every_worker_inside_the_memory():
    """Parts at once from the quota and the affinity; the workers' memory with the judges' and the
    orchestrator's inside the container's: the formula of grader/engine/container.py."""
    small = container.size(resources(CONTAINER_MEMORY, quota=1.0), 4 * GIB)
    assert small.jobs == 1
    assert small.memory_bytes == container.worker_memory(CONTAINER_MEMORY, 1) < 4 * GIB
    assert small.memory_bytes + container.ORCHESTRATOR + container.JUDGE < CONTAINER_MEMORY
    assert any("instead of 4096 MiB" in n for n in small.notes)
    assert container.size(resources(CONTAINER_MEMORY, quota=0.5), 4 * GIB).jobs == 1      # 1/2 vCPU: one job
    assert container.size(resources(quota=None, affinity=1), 4 * GIB).jobs == 1           # taskset -c 0
    big = container.size(resources(quota=2.0, affinity=8), 4 * GIB)
    assert (big.jobs, big.memory_bytes, big.notes) == (2, 4 * GIB, ())                      # 16 GiB: 4 GiB each
    # Two CPUs asked for but memory for one: fewer jobs, said.
    tight = container.size(resources(2 * GIB, quota=2.0), 4 * GIB, jobs=2)
    assert tight.jobs == 1 and any("2 parts at once asked for; 1 fit" in n for n in tight.notes)
    assert tight.as_dict()["read"]["memory_limit"] == 2 * GIB and "W = min(" in tight.formula


def test_a_container_too_small_for_one_part_is_refused_with_the_memory_to_choose():
    with pytest.raises(container.TooSmall, match=r"768 MiB of memory.*at least \d+ MiB.*Autograder Settings"):
        container.size(resources(768 << 20, quota=0.5), 4 * GIB)


def test_make_grade_in_a_too_small_container_says_so_and_grades_nothing(tmp_path):
    cgroup = write(tmp_path / "cg", {"memory.max": f"{512 << 20}\n"})
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--out", str(tmp_path / "out"), "--",
                           str(ROOT / "solutions")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **{container.CGROUP_ROOT_ENV: str(cgroup)}))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: the container has 512 MiB of memory") and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


# -- the Gradescope autograder in a one-vCPU, 1.5 GiB container ------------------------------------------
HOG = """
import numpy as np


def relu(x):
    kept = []                      # every array it ever made: it grows until something stops it
    while True:
        kept.append(np.ones(16 << 20, dtype=np.uint8))
"""

LOOP = """
def relu(x):
    while True:
        pass
"""


@contextmanager
def hog_limits(root, apply=True):
    """While it lasts (if `apply`), the autograder's config.json gives each test at least 2 minutes of CPU
    time: a memory hog is then stopped by memory, whatever the machine's load."""
    config_file = root / "source" / "config.json"
    config = config_file.read_text(encoding="utf-8")
    if apply:
        config_file.write_text(json.dumps(dict(json.loads(config), limits={"floor_seconds": 120.0})),
                               encoding="utf-8")
    try:
        yield
    finally:
        config_file.write_text(config, encoding="utf-8")


def with_relu(body):
    """The reference activations, with relu replaced by `body`'s."""
    return (ROOT / "solutions" / "activations.py").read_text(encoding="utf-8") + "\n" + body


@pytest.fixture(scope="module")
def small_container(tmp_path_factory):
    """A fake /autograder (tests/containersim.py) and the simulated container it runs in."""
    base = tmp_path_factory.mktemp("container")
    root = containersim.autograder_tree(base)
    box = containersim.SmallContainer(base, CONTAINER_MEMORY, quota=1.0)
    print(f"\nsimulated container: {box.enforced}")
    yield root, box
    cpu, peak = box.cpu_seconds(), box.peak_memory()     # what this file costs, whatever the machine's load
    print(f"\nCPU time in the container: {'?' if cpu is None else f'{cpu:.1f} s'}; its memory at its peak: "
          f"{'?' if peak is None else f'{peak / 2**20:.0f} MiB'}")
    box.close()


@pytest.fixture(scope="module")
def graded(small_container):
    """The four uploads, each graded by run_autograder in the container: {name: (results, process)}."""
    root, box = small_container
    uploads = {
        "reference": (ROOT / "solutions" / "activations.py").read_text(encoding="utf-8"),
        "loops": (ROOT / "catalog" / "alternatives" / "activations__loops.py").read_text(encoding="utf-8"),
        "hog": with_relu(HOG),
        "endless": with_relu(LOOP),
    }
    found = {}
    for name, source in uploads.items():
        # The hog gets 2 minutes of CPU time a test, so that its memory limit stops it, which is what its test
        # is about: with the course's rule (at least 2 s) it reached 0.85 GiB in 1.4-1.6 CPU-seconds and 1.6-2.0
        # s of its time (16 MiB a step, under the container's one-CPU quota), and went past the 2 s first in
        # one of two runs on an idle machine (3 December 2026). The endless loop keeps the course's rule.
        with hog_limits(root, name == "hog"):
            results, proc = box.run_autograder(root, {"activations.py": source}, timeout=900)
        assert results is not None, f"{name}: no results.json (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
        found[name] = results, proc
    found["oom_kills"] = box.oom_kills()
    return found


def activations_tests(results):
    return {t["name"]: t for t in results["tests"] if t["tags"] == [PART]}


def test_the_container_limits_are_read_and_recorded(graded, small_container):
    _, box = small_container
    for name in ("reference", "loops", "hog", "endless"):
        results, proc = graded[name]
        record = results["extra_data"]["container"]
        assert record["read"]["memory_limit"] == CONTAINER_MEMORY, name
        assert record["read"]["cpu_quota"] == 1.0 and record["read"]["affinity"] == 1 and record["jobs"] == 1
        assert str(box.cgroups["memory"] or box.fake) in record["read"]["memory_source"]
        assert str(box.cgroups["cpu"] or box.fake) in record["read"]["cpu_source"]
        # Each worker well inside the container, beside the orchestrator and the judge.
        assert record["worker_memory_bytes"] == container.worker_memory(CONTAINER_MEMORY, 1)
        assert record["worker_memory_bytes"] + container.ORCHESTRATOR + container.JUDGE < CONTAINER_MEMORY
        assert "grading 1 part(s) at once" in proc.stdout                      # the instructor's log


def test_correct_code_keeps_full_marks_in_the_small_container(graded):
    for name in ("reference", "loops"):
        results, _ = graded[name]
        tests = activations_tests(results)
        assert tests and all(t["status"] == "passed" for t in tests.values()), \
            (name, [(n, t["output"][:300]) for n, t in tests.items() if t["status"] != "passed"])
        assert results["extra_data"]["parts"][PART]["status"] == "ok"


def test_a_memory_hog_loses_the_tests_that_call_it_and_the_container_lives(graded):
    results, _ = graded["hog"]
    tests = activations_tests(results)
    limit = f"{container.worker_memory(CONTAINER_MEMORY, 1) / GIB:g} GiB"
    failed = {n: t["output"] for n, t in tests.items() if t["status"] != "passed"}
    assert failed and all(n.startswith(f"{PART}: relu") or "every function" in n or "no function" in n
                          for n in failed), sorted(failed)
    # Each call stops at the worker's memory limit; a test that calls relu on many examples can run out
    # of time first (each call allocates up to the limit), which is the student's too.
    assert all("of memory" in out or "time limit" in out for out in failed.values()), failed
    assert any(f"ran out of memory (the limit is {limit})" in out or f"more than {limit} of memory" in out
               for out in failed.values()), (limit, failed)                          # the sized limit, named
    assert any(t["status"] == "passed" and "sigmoid" in n for n, t in tests.items())   # the rest graded
    # The sandbox stopped it, not the kernel's OOM killer (where the cgroup is real and says).
    assert graded["oom_kills"] in (None, 0), graded["oom_kills"]


def test_an_endless_loop_loses_the_tests_that_call_it(graded):
    results, _ = graded["endless"]
    tests = activations_tests(results)
    failed = {n: t["output"] for n, t in tests.items() if t["status"] != "passed"}
    assert failed and all(n.startswith(f"{PART}: relu") or "every function" in n or "no function" in n
                          for n in failed), sorted(failed)
    assert any("time limit" in out for out in failed.values()), failed
    assert any(t["status"] == "passed" and "sigmoid" in n for n, t in tests.items())


def test_when_the_container_runs_out_all_the_same_the_kernel_takes_the_worker(small_container, tmp_path):
    """Where the cgroup is real: the kit told the container has 8 GiB (a folder saying so) while the
    kernel holds it to 1.5 GiB, so the hog's worker may grow past the container. The kernel's OOM killer
    then takes the worker (oom_score_adj 1000; the judges 500; the orchestrator 0): the hog's tests fail
    as crashes, the others are graded, and results.json is written."""
    root, box = small_container
    if box.cgroups["memory"] is None:
        pytest.skip("no memory cgroup can be made here: the kernel's OOM killer cannot be shown")
    before = box.oom_kills()
    liar = write(tmp_path / "cg", {"memory.max": f"{8 * GIB}\n", "cpu.max": "100000 100000\n"})
    # The hog's tests may use 2 minutes of CPU time, so that the container's memory stops it, not its time limit.
    # With the course's rule (at least 2 s) a loaded machine let the time limit come first, twice in full make
    # test runs: near the cgroup's limit each allocation first makes the kernel reclaim what it can, on the
    # hog's own clock ("went past this test's time limit", and no OOM kill).
    with hog_limits(root):
        results, proc = box.run_autograder(root, {"activations.py": with_relu(HOG)}, timeout=900,
                                           env=dict(os.environ, **{container.CGROUP_ROOT_ENV: str(liar)}))
    assert results is not None, f"no results.json (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
    assert results["extra_data"]["container"]["worker_memory_bytes"] == 4 * GIB     # more than the container
    tests = activations_tests(results)
    failed = {n: t["output"] for n, t in tests.items() if t["status"] != "passed"}
    # The kernel stepped in (where it does not, the message says what stopped the hog instead).
    assert box.oom_kills() > before, {n: out[:300] for n, out in failed.items()}
    assert failed and all(n.startswith(f"{PART}: relu") or "every function" in n or "no function" in n
                          for n in failed), sorted(failed)
    assert any("out of memory?" in out or "killed" in out for out in failed.values()), failed
    assert any(t["status"] == "passed" and "sigmoid" in n for n, t in tests.items())


def test_gradescope_in_its_default_768_mb_refuses_and_names_the_setting(small_container, tmp_path):
    """Gradescope's default container (1/2 vCPU, 768 MB) cannot hold a judge and a worker: no results.json
    (an autograder error, not a score), and the autograder output the instructor sees says what to choose."""
    root, box = small_container
    default = write(tmp_path / "cg", {"memory.max": f"{768 << 20}\n", "cpu.max": "50000 100000\n"})
    results, proc = box.run_autograder(root, {"activations.py": "def relu(x):\n    return x\n"}, timeout=300,
                                       env=dict(os.environ, **{container.CGROUP_ROOT_ENV: str(default)}))
    assert results is None and proc.returncode == 1, proc.stdout[-2000:]
    assert "the container has 768 MiB of memory" in proc.stdout and "Autograder Settings" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
