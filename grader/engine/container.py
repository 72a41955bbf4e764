"""The machine a batch really has, and how the batch sizes itself to it.

    found = container.read()                       # the limits this process actually runs under
    sizing = container.size(found, limits.memory_bytes, jobs=None)
    grade(..., jobs=sizing.jobs, limits=replace(limits, memory_bytes=sizing.memory_bytes))

A course platform runs the grader in a container with its own CPU and memory (Gradescope: chosen
per assignment, 1/2 vCPU and 768 MB by default,
https://gradescope-autograders.readthedocs.io/en/latest/troubleshooting/). os.cpu_count() and
/proc/meminfo show the host's, not the container's. A worker allowed more memory than the container
has gets the whole container killed by the kernel when a student's code goes past it: no
results.json, for any test. So the batch reads what it has:

- the cgroup's memory limit: cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`, the lowest along
  the process's own cgroup and its ancestors (the process's cgroup from /proc/self/cgroup, where each
  hierarchy is mounted from /proc/self/mountinfo);
- the cgroup's CPU quota: v2 `cpu.max` ("quota period", or "max"), v1 `cpu.cfs_quota_us` over
  `cpu.cfs_period_us` (-1: none), the lowest along the same path;
- the CPU affinity mask (os.sched_getaffinity: taskset, a cpuset);
- MemTotal and MemAvailable (/proc/meminfo).

and sizes itself (size()): parts at once = the whole CPUs it may use, and each worker's memory

    W = min(requested, HEADROOM x (M - ORCHESTRATOR - jobs x JUDGE) / jobs)

where M is the cgroup's memory limit (else MemTotal). A worker whose tree goes past W is killed by
the sandbox (grader.sandbox.workerproc: its watchdog and RLIMIT_AS), its test fails with a message, and
the container lives. Where even one job cannot have MIN_WORKER, the grader refuses (TooSmall), with
the memory to choose.

Only this module knows the cgroup files' formats. Tests give a folder standing for the process's own
cgroup (MLP_KIT_CGROUP_ROOT, or read(root=...)): v2 files at its top (memory.max, cpu.max), v1 files in
memory/ and cpu/ below it (memory/memory.limit_in_bytes, cpu/cpu.cfs_quota_us, cpu/cpu.cfs_period_us).

Standard library only.
"""
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

CGROUP_ROOT_ENV = "MLP_KIT_CGROUP_ROOT"

# What the batch needs besides its workers, measured while grading the reference (VmHWM in
# /proc/<pid>/status; results.json's judge_memory_mb): the orchestrator (python -m grader grade /
# gradescope run) 40 MiB and its judge server (grader/engine/forkserver.py) 56 MiB; a judge 68 MiB
# for the small parts, 231 MiB for the MLP (its MNIST sample). Rounded up. A hostile reply can take a
# judge further (protocol.MAX_REPLY, 256 MiB): the OOM order covers it (grader/engine/judge.py).
ORCHESTRATOR = 128 << 20
JUDGE = 320 << 20
# The part of what is left that the workers share: the rest is slack for what the watchdog cannot see
# between two readings (WATCH_SECONDS) and the kernel's own memory charged to the cgroup.
HEADROOM = 0.8
# The least a worker can be given: RLIMIT_AS is on its address space, which holds the interpreter,
# numpy and the shared arena (256 MiB) before the student's module allocates anything (an MLP worker:
# 414 MiB of address space, 69 MiB resident). Measured (python -m grader grade -j 1 --limits
# '{"memory_bytes": ...}' on one CPU): 512 MiB grades the reference and the catalog's loop-based
# alternatives of every part with full marks; at 384 MiB the reference's two_layer_net worker cannot
# start. 640 MiB is 1.25x the lowest that worked.
MIN_WORKER = 640 << 20
UNLIMITED_V1 = 1 << 62            # v1 writes "no limit" as a page-rounded 2^63 - 1


class TooSmall(ValueError):
    """The container cannot hold even one judge and worker; the message says what to choose."""


@dataclass(frozen=True)
class Resources:
    """What this process may use. Bytes; CPUs as counts.

    memory_limit: the cgroup's memory limit (the lowest along its path), None without one.
    cpu_quota: CPUs the cgroup's quota allows (e.g. 0.5), None without a quota.
    affinity: CPUs in this process's affinity mask.
    mem_total, mem_available: /proc/meminfo (the host's, inside most containers); None if unreadable.
    memory_source, cpu_source: the files the limits were read from, or why none."""

    memory_limit: int | None
    cpu_quota: float | None
    affinity: int
    mem_total: int | None
    mem_available: int | None
    memory_source: str = "no cgroup memory limit found"
    cpu_source: str = "no cgroup CPU quota found"

    @property
    def cpus(self) -> int:
        """Whole CPUs the batch may keep busy: the affinity mask, within the quota (at least 1)."""
        quota = math.floor(self.cpu_quota + 1e-9) if self.cpu_quota is not None else self.affinity
        return max(1, min(self.affinity, quota))

    @property
    def memory(self) -> int | None:
        """The memory the batch must fit in: the cgroup's limit, else the machine's."""
        return self.memory_limit if self.memory_limit is not None else self.mem_total

    def as_dict(self) -> dict:
        return {**asdict(self), "cpus": self.cpus, "memory": self.memory}


@dataclass(frozen=True)
class Sizing:
    """How a batch sizes itself to Resources (size()).

    jobs: parts graded at once; memory_bytes: each worker's limit (Limits.memory_bytes);
    formula: how memory_bytes was computed, with the numbers; notes: what was lowered and why."""

    jobs: int
    memory_bytes: int
    resources: Resources
    formula: str
    notes: tuple = field(default_factory=tuple)

    def as_dict(self) -> dict:
        """For results.json (extra_data["container"]): what was read and what was chosen."""
        return {"read": self.resources.as_dict(), "jobs": self.jobs, "worker_memory_bytes": self.memory_bytes,
                "formula": self.formula, "notes": list(self.notes)}

    def summary(self) -> str:
        r = self.resources
        quota = f"{r.cpu_quota:g} CPU quota" if r.cpu_quota is not None else "no CPU quota"
        memory = f"{_mib(r.memory_limit)} MiB memory limit" if r.memory_limit is not None else \
            f"no memory limit ({_mib(r.mem_total)} MiB on the machine)"
        return (f"container: {quota}, {r.affinity} CPU(s) in the affinity mask, {memory}; "
                f"grading {self.jobs} part(s) at once, each worker allowed {_mib(self.memory_bytes)} MiB"
                + "".join(f"\n  note: {n}" for n in self.notes))


def _mib(n):
    return "?" if n is None else f"{n / 2**20:.0f}"


# -- reading --------------------------------------------------------------------------------------
def _read(path):
    try:
        return Path(path).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


def _v2_memory(folder):
    text = _read(Path(folder) / "memory.max")
    if text is None:
        return None
    return "max" if text == "max" else int(text)


def _v2_cpu(folder):
    text = _read(Path(folder) / "cpu.max")
    if text is None:
        return None
    fields = text.split()
    if fields[0] == "max":
        return "max"
    period = int(fields[1]) if len(fields) > 1 else 100000
    return int(fields[0]) / period


def _v1_memory(folder):
    text = _read(Path(folder) / "memory.limit_in_bytes")
    if text is None:
        return None
    value = int(text)
    return "max" if value >= UNLIMITED_V1 else value


def _v1_cpu(folder):
    quota, period = _read(Path(folder) / "cpu.cfs_quota_us"), _read(Path(folder) / "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    return "max" if int(quota) < 0 else int(quota) / int(period)


def own_cgroups(cgroup_text: str, mountinfo_text: str, controllers=("memory", "cpu")) -> dict:
    """The folders of this process's own cgroups: {"v2": Path, "memory": Path, "cpu": Path}, each
    present when found, and with it the mount point it is under ({"v2_mount": Path, ...}).

    Args:
        cgroup_text: /proc/self/cgroup ("hierarchy:controllers:path" lines; v2 is "0::path").
        mountinfo_text: /proc/self/mountinfo (its fields 4 and 5 are the mount's root in the
            hierarchy and its mount point; after " - ", the file system type and its options,
            which name a v1 hierarchy's controllers).
        controllers: the v1 controllers to find."""
    paths = {}
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers_of, path = parts
        if hierarchy == "0" and controllers_of == "":
            paths["v2"] = path
        for c in controllers_of.split(","):
            if c in controllers:
                paths[c] = path
    found = {}
    for line in mountinfo_text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, mount, fstype, options = fields[3], _unescape(fields[4]), tail[0], tail[2].split(",")
        keys = ["v2"] if fstype == "cgroup2" else [c for c in controllers if c in options] \
            if fstype == "cgroup" else []
        for key in keys:
            if key in paths and key not in found:
                rel = os.path.relpath(paths[key], root)
                # A path outside the mount's root (a container without its own cgroup namespace shows
                # the host's path): the mount point is the container's own cgroup.
                folder = Path(mount) if rel.startswith("..") else Path(mount) / rel
                found[key], found[f"{key}_mount"] = folder, Path(mount)
    return found


def _unescape(text):
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def _lowest(folder, top, reader):
    """(the lowest limit along folder and its ancestors up to `top`, the file it came from), or
    (None, None) where no level has the file, ("max", file) where the files say no limit."""
    best, source, seen = None, None, False
    folder, top = Path(folder), Path(top)
    while True:
        try:
            value = reader(folder)
        except (ValueError, IndexError):
            value = None
        if value is not None:
            seen = True
            if value != "max" and (best is None or value < best):
                best, source = value, folder
            elif source is None:
                source = folder
        if folder == top or folder.parent == folder or top not in folder.parents:
            break
        folder = folder.parent
    return (best if best is not None else ("max" if seen else None)), source


def _meminfo(proc):
    found = {}
    text = _read(Path(proc) / "meminfo") or ""
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("MemTotal", "MemAvailable") and rest.split():
            found[key] = int(rest.split()[0]) * 1024
    return found.get("MemTotal"), found.get("MemAvailable")


def read(root=None, proc="/proc") -> Resources:
    """The limits this process runs under (Resources).

    Args:
        root: a folder standing for this process's own cgroup (tests; default $MLP_KIT_CGROUP_ROOT,
            else the real one, found from proc/self/cgroup and proc/self/mountinfo). v2 files at
            its top, v1 files in memory/ and cpu/ below it. Its ancestors are not read.
        proc: the proc file system (meminfo is read from it)."""
    root = root if root is not None else os.environ.get(CGROUP_ROOT_ENV) or None
    if root is not None:
        root = Path(root)
        candidates = {"memory": [(root, root, _v2_memory, "v2"), (root / "memory", root / "memory", _v1_memory, "v1")],
                      "cpu": [(root, root, _v2_cpu, "v2"), (root / "cpu", root / "cpu", _v1_cpu, "v1")]}
    else:
        own = own_cgroups(_read(Path(proc) / "self" / "cgroup") or "", _read(Path(proc) / "self" / "mountinfo") or "")
        candidates = {"memory": [], "cpu": []}
        if "v2" in own:
            candidates["memory"].append((own["v2"], own["v2_mount"], _v2_memory, "v2"))
            candidates["cpu"].append((own["v2"], own["v2_mount"], _v2_cpu, "v2"))
        for key, reader in (("memory", _v1_memory), ("cpu", _v1_cpu)):
            if key in own:
                candidates[key].append((own[key], own[f"{key}_mount"], reader, "v1"))
    limits, sources = {}, {}
    for key in ("memory", "cpu"):
        for folder, top, reader, version in candidates[key]:
            value, source = _lowest(folder, top, reader)
            if value is None:
                continue                   # this hierarchy has no such file (v2 without the controller)
            limits[key] = None if value == "max" else value
            name = {("memory", "v2"): "memory.max", ("memory", "v1"): "memory.limit_in_bytes",
                    ("cpu", "v2"): "cpu.max", ("cpu", "v1"): "cpu.cfs_quota_us"}[key, version]
            sources[key] = f"cgroup {version} {Path(source) / name}" + ("" if limits[key] else " (no limit)")
            break
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = os.cpu_count() or 1
    total, available = _meminfo(proc)
    return Resources(memory_limit=limits.get("memory"), cpu_quota=limits.get("cpu"), affinity=affinity,
                     mem_total=total, mem_available=available,
                     memory_source=sources.get("memory", "no cgroup memory limit found"),
                     cpu_source=sources.get("cpu", "no cgroup CPU quota found"))


# -- sizing ---------------------------------------------------------------------------------------
def worker_memory(budget: int, jobs: int) -> int:
    """Each worker's share of `budget` bytes with `jobs` judges at once (the module's formula)."""
    return int(HEADROOM * (budget - ORCHESTRATOR - jobs * JUDGE) / jobs)


def size(resources: Resources, requested_memory: int, jobs: int | None = None) -> Sizing:
    """Parts at once and each worker's memory for a batch on `resources`.

    Args:
        resources: what read() found.
        requested_memory: the worker limit asked for (Limits.memory_bytes); never raised.
        jobs: parts at once asked for (-j); None: as many as resources.cpus.
    Returns: Sizing. Fewer jobs than asked where memory cannot hold them (said in notes).
    Raises: TooSmall where one job cannot have MIN_WORKER (the message gives the memory to choose)."""
    notes = []
    asked = jobs
    jobs = max(1, resources.cpus if jobs is None else int(jobs))
    budget = resources.memory
    if budget is None:
        notes.append("the machine's memory could not be read: the workers keep the limit asked for")
        return Sizing(jobs, requested_memory, resources, "memory unknown: W = requested", tuple(notes))
    while jobs > 1 and worker_memory(budget, jobs) < MIN_WORKER:
        jobs -= 1
    if asked is not None and jobs < int(asked):
        notes.append(f"{asked} parts at once asked for; {jobs} fit in {_mib(budget)} MiB")
    share = worker_memory(budget, jobs)
    if share < MIN_WORKER:
        need = math.ceil((MIN_WORKER / HEADROOM + ORCHESTRATOR + JUDGE) / 2**20)
        raise TooSmall(f"the container has {_mib(budget)} MiB of memory ({resources.memory_source}); grading "
                       f"needs at least {need} MiB for one judge and its worker (each worker at least "
                       f"{_mib(MIN_WORKER)} MiB). Choose more memory for the autograder (Gradescope: the "
                       f"assignment's Autograder Settings)")
    memory = min(int(requested_memory), share)
    if memory < requested_memory:
        notes.append(f"each worker allowed {_mib(memory)} MiB instead of {_mib(requested_memory)} MiB, "
                     f"to stay inside {_mib(budget)} MiB")
    formula = (f"W = min({_mib(requested_memory)} MiB asked, {HEADROOM:g} x (M {_mib(budget)} MiB - orchestrator "
               f"{_mib(ORCHESTRATOR)} MiB - {jobs} x judge {_mib(JUDGE)} MiB) / {jobs}) = {_mib(memory)} MiB")
    return Sizing(jobs, memory, resources, formula, tuple(notes))
