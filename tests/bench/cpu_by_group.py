"""A pytest plugin for tests/bench/bench_tests.py: the CPU time each test used, its processes included.

    MLP_KIT_CPU_LOG=cpu.jsonl python -m pytest -p tests.bench.cpu_by_group ...

Appends one JSON line per test to $MLP_KIT_CPU_LOG (each xdist worker its own lines): the test's id, its
xdist group (make test's: "catalog" or its file), the CPU-seconds it used and its wall time. The CPU time
of a test is what this process and its descendants used while it ran (setup, call and teardown). A cgroup
the process could not remove when it ended gets a line of its own ({"cgroup_left": folder}), for
bench_tests.py to remove once pytest has exited.

Where this process may make a cgroup v1 cpuacct group below its own (root, on a host with the v1
hierarchy), each pytest process moves itself into one, and a test's time is that group's usage: every
descendant stays in it, whoever reaps it (a batch's judge server outlives its orchestrator). Elsewhere
("rusage" in the log): this process's own time, the children it reaped (whose times include what they
reaped), and its running children's (from /proc/PID/stat). That misses the descendants that end up
reaped by another process (an orphan adopted by init), so it undercounts the batches' judges.
(Not cgroup v2: a process in a group of its own there would keep tests/containersim.py from limiting
memory below it.)
"""
import json
import os
import resource
import time
from pathlib import Path

import pytest

from grader.engine import container

LOG = "MLP_KIT_CPU_LOG"
TICKS = os.sysconf("SC_CLK_TCK")


def _live_children():
    """CPU-seconds of this process's running children: their own and their reaped descendants'."""
    me, total = os.getpid(), 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:                   # fields[1]: ppid; then utime, stime, cutime, cstime
            total += sum(int(v) for v in fields[11:15]) / TICKS
    return total


_GROUP = []          # [the cgroup folder this process moved into], once it has


def _enter_own_group():
    """Move this process into a new cpuacct cgroup below its own (v1); its folder, or None."""
    own = container.own_cgroups(Path("/proc/self/cgroup").read_text(encoding="utf-8"),
                                Path("/proc/self/mountinfo").read_text(encoding="utf-8"), controllers=("cpuacct",))
    parent = own.get("cpuacct")
    if parent is None or not (parent / "cpuacct.usage").is_file():
        return None
    folder = parent / f"mlp-kit-cpu-{os.getpid()}"
    try:
        folder.mkdir()
        (folder / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        try:
            folder.rmdir()
        except OSError:
            pass
        return None
    return folder


def pytest_unconfigure(config):
    folder = _GROUP.pop() if _GROUP else None
    if folder is None:
        return
    try:
        (folder.parent / "cgroup.procs").write_text(str(os.getpid()))
        folder.rmdir()
    except OSError:
        # A descendant still lives in it: a judge server ends only when this process has (its stdin closes).
        # bench_tests.py removes the group once pytest has exited.
        path = os.environ.get(LOG)
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"cgroup_left": str(folder)}) + "\n")


def method():
    return "cgroup" if _GROUP and _GROUP[0] is not None else "rusage"


def cpu_seconds():
    if _GROUP and _GROUP[0] is not None:
        return int((_GROUP[0] / "cpuacct.usage").read_text()) / 1e9
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime + _live_children()


def group_of(item):
    marker = item.get_closest_marker("xdist_group")
    return marker.args[0] if marker and marker.args else item.nodeid.split("::")[0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    path = os.environ.get(LOG)
    if path and not _GROUP:            # at the first test: the process that runs tests, not xdist's controller
        _GROUP.append(_enter_own_group())
    cpu, wall = cpu_seconds(), time.monotonic()
    yield
    if path:
        line = json.dumps({"test": item.nodeid.split("@", 1)[0], "group": group_of(item),
                           "cpu": round(cpu_seconds() - cpu, 3), "counted": method(), "wall": round(time.monotonic() - wall, 3)})
        with open(path, "a", encoding="utf-8") as f:       # one write per line: workers append side by side
            f.write(line + "\n")
