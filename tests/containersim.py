"""A simulated course-platform container for the Gradescope autograder (tests/test_container.py,
tests/bench/bench_container.py).

    box = SmallContainer(base, memory=1.5 GiB, quota=1.0)    # the cgroups, or a folder standing for them
    result, proc = box.run_autograder(root, {"activations.py": source})
    box.close()

One CPU: the child is pinned to one CPU of this process's affinity mask (sched_setaffinity, as
`taskset -c`). Memory and the CPU quota: where this process may create cgroups (root, with a writable
v1 or v2 hierarchy holding the controller), a new cgroup below its own, with memory limited to
`memory` (v1: swap too) and the CPU quota set to `quota`: the kernel enforces them on the whole
autograder. Elsewhere a folder in cgroup v2's format (MLP_KIT_CGROUP_ROOT) says the same to the kit,
and nothing enforces them but the sandbox's own limits on each worker (RLIMIT_AS and its watchdog).
`enforced` says which.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

from grader.engine import container
from grader.platforms import gradescope

PERIOD = 100000


def _cgroup(kind, memory, quota):
    """A new cgroup below this process's own one in the hierarchy holding `kind` ("memory", "cpu", or
    "cpuacct": only to count the CPU time, v1), with its limit set; None where none can be made here."""
    own = container.own_cgroups(Path("/proc/self/cgroup").read_text(), Path("/proc/self/mountinfo").read_text(),
                                controllers=("memory", "cpu", "cpuacct"))
    names = {"memory": ("memory.max", "memory.limit_in_bytes"), "cpu": ("cpu.max", "cpu.cfs_quota_us"),
             "cpuacct": (None, "cpuacct.usage")}[kind]
    for key, name in (("v2", names[0]), (kind, names[1])):
        if name is None or key not in own or not (own[key] / name).exists():
            continue
        folder = own[key] / f"mlp-kit-test-{uuid.uuid4().hex[:8]}"
        try:
            folder.mkdir()
            if kind == "memory":
                (folder / name).write_text(str(memory))
                if (folder / "memory.memsw.limit_in_bytes").exists():                 # v1: no swap either
                    (folder / "memory.memsw.limit_in_bytes").write_text(str(memory))
                if (folder / "memory.swap.max").exists():
                    (folder / "memory.swap.max").write_text("0")
            elif kind == "cpuacct":
                pass
            elif key == "v2":
                (folder / name).write_text(f"{int(quota * PERIOD)} {PERIOD}")
            else:
                (folder / "cpu.cfs_period_us").write_text(str(PERIOD))
                (folder / name).write_text(str(int(quota * PERIOD)))
            return folder
        except OSError:
            _remove(folder)
    return None


def _remove(folder):
    for _ in range(100):                 # the last processes of a run may take a moment to be reaped
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)


def autograder_tree(base):
    """A fake /autograder: the zip unpacked into source/, run_autograder where Gradescope copies it, and
    a venv that is this interpreter (setup.sh's pip steps are tests/test_gradescope.py's)."""
    root = Path(base) / "autograder"
    with zipfile.ZipFile(gradescope.build(Path(base) / "gradescope.zip", quiet=True)) as zf:
        zf.extractall(root / "source")
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "venv" / "bin" / "python").symlink_to(sys.executable)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    return root


class SmallContainer:
    def __init__(self, base, memory, quota=1.0, real=True, cpu=None):
        self.memory, self.quota = memory, quota
        self.cgroups = {kind: (_cgroup(kind, memory, quota) if real else None) for kind in ("memory", "cpu")}
        # Where the CPU time is counted: v2's cpu cgroup, or a v1 cpuacct cgroup of its own.
        self.cgroups["cpuacct"] = None
        if real and self.cpu_seconds() is None:
            self.cgroups["cpuacct"] = _cgroup("cpuacct", memory, quota)
        self.cpu = min(os.sched_getaffinity(0)) if cpu is None else cpu
        self.env = {}
        self.fake = None
        if self.cgroups["memory"] is None or self.cgroups["cpu"] is None:
            files = {"memory.max": f"{memory}\n" if self.cgroups["memory"] is None else "max\n",
                     "cpu.max": f"{int(quota * PERIOD)} {PERIOD}\n" if self.cgroups["cpu"] is None else "max\n"}
            self.fake = Path(base) / "cgroup"
            self.fake.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (self.fake / name).write_text(text)
            self.env[container.CGROUP_ROOT_ENV] = str(self.fake)
        memory_how = f"real cgroup {self.cgroups['memory']}" if self.cgroups["memory"] else "fake cgroup folder"
        cpu_how = f"real quota {self.cgroups['cpu']}" if self.cgroups["cpu"] else "fake quota"
        self.enforced = f"memory {memory >> 20} MiB: {memory_how}; CPU {{{self.cpu}}}, {quota:g} CPU: {cpu_how}"

    def _enter(self):                    # in the child, before it execs: into the container
        os.sched_setaffinity(0, {self.cpu})
        for folder in self.cgroups.values():
            if folder is not None:
                (folder / "cgroup.procs").write_text(str(os.getpid()))

    def run(self, cmd, env=None, **kwargs):
        """subprocess.run(cmd) inside the container (`env`: default os.environ; its own
        MLP_KIT_CGROUP_ROOT, if any, wins over the fake folder's)."""
        full = dict(env if env is not None else os.environ)
        for key, value in self.env.items():
            full.setdefault(key, value)
        return subprocess.run(cmd, env=full, preexec_fn=self._enter, **kwargs)

    def run_autograder(self, root, files, env=None, timeout=1800):
        """What Gradescope does per submission, in the container: (results.json as a dict or None, the
        CompletedProcess)."""
        for sub in ("submission", "results"):
            shutil.rmtree(root / sub, ignore_errors=True)
        (root / "submission").mkdir()
        (root / "results").mkdir()
        for name, text in files.items():
            (root / "submission" / name).write_text(text, encoding="utf-8")
        proc = self.run([str(root / "run_autograder")], cwd=root, capture_output=True, text=True, timeout=timeout,
                        env=dict(env or os.environ, AUTOGRADER_ROOT=str(root)))
        results = root / "results" / "results.json"
        return (json.loads(results.read_text(encoding="utf-8")) if results.exists() else None), proc

    def oom_kills(self):
        """How many processes the kernel killed for the memory cgroup's limit (None: no real cgroup)."""
        folder = self.cgroups["memory"]
        if folder is None:
            return None
        for name, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
            try:
                for line in (folder / name).read_text().splitlines():
                    if line.split()[0] == key:
                        return int(line.split()[1])
            except (OSError, IndexError, ValueError):
                continue
        return None

    def cpu_seconds(self):
        """CPU time of every process that ran in the container so far (None: no real cgroup counts it)."""
        try:
            if self.cgroups.get("cpuacct") is not None:
                return int((self.cgroups["cpuacct"] / "cpuacct.usage").read_text()) / 1e9
            if self.cgroups["cpu"] is not None:
                for line in (self.cgroups["cpu"] / "cpu.stat").read_text().splitlines():
                    if line.startswith("usage_usec "):
                        return int(line.split()[1]) / 1e6
        except (OSError, ValueError):
            pass
        return None

    def peak_memory(self):
        """The most memory the cgroup's processes held at once, in bytes (None: no real cgroup)."""
        folder = self.cgroups["memory"]
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            try:
                return int((folder / name).read_text())
            except (TypeError, OSError, ValueError):
                continue
        return None

    def close(self):
        for folder in self.cgroups.values():
            if folder is not None:
                _remove(folder)
