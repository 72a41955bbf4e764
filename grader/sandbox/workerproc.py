"""One worker process, seen from the judge: starting it (its pipes, its isolation, its limits),
watching it and killing it with every process it started.

    worker = Worker(part, package_root, limits, backend)   # runs grader/sandbox/worker.py
    worker.channel                                         # the protocol, over its pipes
    worker.kill()                                          # its tree, its uid, its scratch folder, its arena

A Worker's watchdog thread sums the resident memory and counts the threads of the worker's whole
tree every WATCH_SECONDS, and measures its scratch folder every SCRATCH_SECONDS; past the memory
limit, THREADS_LIMIT or SCRATCH_BYTES it kills the tree. The student-module proxy
(client.StudentModule) starts a Worker, talks to it and kills it. A judge (grader.engine.judge)
calls adopt_orphans() and pin_workers() once; orphan_guard() prefixes the command of a process that
must die with the one that started it (a worker here, a judge in grader.engine.grade).

Not to be confused with worker.py, the program that runs inside the sandbox.
"""
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import backends, meter, proctree, protocol, scratch
from .arena import ArgumentArena
from .errors import SandboxFailure

WORKER = Path(__file__).resolve().parent / "worker.py"
WATCH_SECONDS = 0.05          # how often the memory watchdog sums the worker tree's resident memory
FULL_SCAN_SECONDS = 0.25      # ... and looks for new processes in its tree
NPROC_OWN_UID = 8             # processes and threads of a worker that has a uid of its own (RLIMIT_NPROC)
THREADS_LIMIT = 64            # ... of any worker's tree, counted by the watchdog (a worker that stays root)
SCRATCH_BYTES = 64 << 20      # a scratch folder's files together (the namespace backend's tmpfs has this size)
SCRATCH_SECONDS = 0.2         # ... measured this often while a call runs, and once at its end (the verdict)


def _describe_exit(code):
    if code is None:
        return "it stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"it was killed by {name}{hint}"
    return (f"it exited with status {code}: does your code call sys.exit(), os._exit() "
            f"or kill its own process?")


def orphan_guard():
    """argv prefix that kills the process (SIGKILL) when the one that started it dies.

    For a namespace worker the next process is `unshare --kill-child`, whose death takes the
    whole PID namespace with it; elsewhere the worker's tree is killed by uid or by the watchdog.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL"] if setpriv and sys.platform == "linux" else []


_ADOPTING = []


def adopt_orphans():
    """Make this process (a judge, which starts nothing but workers) the reaper of orphans of its
    tree, so that a worker's double-forked child is still found, counted and killed where no PID
    namespace holds it (Landlock, none)."""
    if not _ADOPTING:
        import ctypes
        PR_SET_CHILD_SUBREAPER = 36
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0:
            _ADOPTING.append(True)


def kill_tree(root, uid=None):
    """SIGKILL `root` and its descendants (stopped first, so that none forks meanwhile), the orphans this
    judge adopted, and, as root with a worker uid, every process of that uid."""
    proctree.kill_tree(root, below=(os.getpid(),) if _ADOPTING else ())
    if uid is not None:
        backends.kill_uid(uid)


class Worker:
    """One worker process, its pipes, its isolation and its memory watchdog."""

    def __init__(self, part, package_root, limits, backend, cpu_seconds=3600):
        self.part = part
        self.backend = backend
        self.limits = limits
        self.uid_slot = backends.UidSlot() if backends.own_uid_possible(backend) else None
        self.uid = self.uid_slot.uid if self.uid_slot else None
        self.memory_killed = False
        self.threads_killed = False
        self.scratch_killed = False
        self.scratch_unmeasured = 0    # readings in a row that could not measure the scratch folder
        self.scratch = None                      # a scratch folder of its own, watched for its size
        self._killed = False
        self.arena = ArgumentArena()
        self._temp = []
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        for fd in (req_w, resp_w):      # 1 MiB pipes: a minibatch-sized array crosses in one write
            try:
                import fcntl
                fcntl.fcntl(fd, 1031, 1 << 20)      # F_SETPIPE_SZ
            except OSError:
                pass
        keep = [req_r, resp_w, self.arena.fd]
        # The CPU limit is a backstop for a worker whose judge is gone (the judge ends every call that
        # goes past its test's limit long before): `cpu_seconds`, and then the kernel stops it.
        args = ["--root", str(package_root), "--part", part, "--fds", f"{req_r},{resp_w}",
                "--backend", backend, "--arena-fd", str(self.arena.fd),
                "--memory", str(limits.memory_bytes), "--output", str(64 << 20), "--cpu", str(int(cpu_seconds))]
        if self.uid is not None:
            args += ["--uid", str(self.uid), "--gid", str(self.uid), "--nproc", str(NPROC_OWN_UID)]
        else:
            args += ["--nproc", str(_threads_of(os.getuid()) + 64)]
        prefix = []
        if backend == "namespaces":
            prefix = backends.namespace_prefix()
            if prefix is None:
                raise SandboxFailure("the namespace sandbox (unshare) is not available on this host")
            view = tempfile.mkdtemp(prefix="sandbox-view-")
            self._temp.append(view)
            args += ["--view", view]
        else:
            folder = tempfile.mkdtemp(prefix="sandbox-scratch-")
            self._temp.append(folder)
            self.scratch = folder
            if self.uid is not None:
                os.chown(folder, self.uid, self.uid)
            scratch_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            keep.append(scratch_fd)
            args += ["--scratch-fd", str(scratch_fd)]
        cmd = orphan_guard() + prefix + [sys.executable, "-s", "-B", str(WORKER)] + args
        _stay_on_this_core()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        try:
            self.proc = subprocess.Popen(
                cmd, pass_fds=tuple(keep), stdin=subprocess.DEVNULL, stdout=out_w,
                stderr=out_w, env=env, cwd="/", start_new_session=True)
        finally:
            for fd in [req_r, resp_w, out_w] + keep[3:]:
                os.close(fd)
        self.channel = protocol.Channel(resp_r, req_w, max_payload=protocol.MAX_REPLY,
                                        max_header=protocol.MAX_REPLY_HEADER)
        self._fds = (resp_r, req_w, out_r)
        self.output = collections.deque()
        self.output_size = 0
        self.output_total = 0
        self.output_limit = limits.output_bytes
        self._drain = threading.Thread(target=self._read_output, args=(out_r,), daemon=True)
        self._drain.start()
        self.members = frozenset({self.proc.pid})     # the worker's processes, as last seen in /proc
        self.meter = meter.Reader()                    # their times, for the student's clock
        self.wrappers = frozenset()                    # the programs that start the worker (setpriv, unshare)
        self._children_lists = bool(_ADOPTING)
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watchdog, daemon=True)
        self._watch.start()

    def _watchdog(self):
        """Sum the resident memory and count the threads of the worker's whole tree; past either limit,
        kill the tree.

        Every WATCH_SECONDS it finds the tree's members (the kernel's children lists; where those are
        missing, a scan of /proc every FULL_SCAN_SECONDS, which also finds the processes of the
        worker's uid) and reads each one's /proc/<pid>/stat. The thread count is what bounds a worker
        that stays root, which RLIMIT_NPROC does not; between two readings a new process can grow
        unseen: RLIMIT_NPROC (a uid of its own) and RLIMIT_AS bound what it can reach."""
        page = os.sysconf("SC_PAGE_SIZE")
        last_full = last_scratch = 0.0
        while not self._stop.wait(WATCH_SECONDS):
            now = time.monotonic()
            if self._children_lists or now - last_full >= FULL_SCAN_SECONDS:
                self.refresh_members()
                last_full = now
                if not self.members and self.proc.poll() is not None:
                    return
            total = threads = 0
            for pid in self.members:
                try:
                    with open(f"/proc/{pid}/stat", "rb") as f:
                        fields = f.read().rsplit(b")", 1)[1].split()
                    threads += int(fields[17])
                    total += int(fields[21]) * page
                except (OSError, ValueError, IndexError):
                    pass
            if total > self.limits.memory_bytes:
                self.memory_killed = True
                kill_tree(self.proc.pid, self.uid)
                return
            if threads > THREADS_LIMIT:
                self.threads_killed = True
                kill_tree(self.proc.pid, self.uid)
                return
            if self.scratch is not None and now - last_scratch >= SCRATCH_SECONDS:
                last_scratch = now
                used = scratch.tree_bytes(self.scratch)
                # Unmeasurable three readings in a row (a folder of mode 000, which a grader that is not
                # root may not read, or too many entries): as over the limit, else a folder hides its files.
                self.scratch_unmeasured = self.scratch_unmeasured + 1 if used is None else 0
                if (used is not None and used > SCRATCH_BYTES) or self.scratch_unmeasured >= 3:
                    self.scratch_killed = True
                    kill_tree(self.proc.pid, self.uid)
                    return

    def scratch_over(self):
        """After a call: whether the scratch folder now holds more than SCRATCH_BYTES, or cannot be
        measured three times in a row (then the worker is killed, as the watchdog would). The watchdog's
        readings, every SCRATCH_SECONDS, bound what a call writes while it runs but can be outrun by a
        burst of writes; this reading, taken whenever a call returns, makes what a call leaves behind a
        verdict that does not depend on the machine's speed."""
        if self.scratch is None:
            return False
        for _ in range(3):
            used = scratch.tree_bytes(self.scratch)
            if used is not None:
                self.scratch_unmeasured = 0
                break
            self.scratch_unmeasured += 1
        if (used is not None and used > SCRATCH_BYTES) or self.scratch_unmeasured >= 3:
            self.scratch_killed = True
            return True
        return False

    def refresh_members(self):
        """Find the worker's tree (its descendants, and the orphans this judge adopted) and remember it in
        self.members, which the meter and the watchdog read. By the kernel's children lists where the
        judge adopts orphans (cheap: the judge's other threads must not hold the interpreter long while
        a call is timed), else by a scan of /proc, which also finds the processes of the worker's uid."""
        me = os.getpid()
        if self._children_lists:
            mine = proctree.descendants(me)
            tree = proctree.descendants(self.proc.pid)
            if mine is not None and tree is not None:
                self.members = frozenset(tree | (mine - {me}))
                return
            self._children_lists = False
        table = proctree.table()
        self.members = frozenset(proctree.tree(table, self.proc.pid, self.uid)
                                 | (proctree.tree(table, me) - {me} if _ADOPTING else set()))

    def find_wrappers(self):
        """Once the worker runs: the processes between this judge and the worker's Python (setpriv and
        unshare, which only wait), so that the meter reads only the worker and what it started."""
        python = os.path.realpath(sys.executable)
        chain, pid = [], self.proc.pid
        for _ in range(8):
            try:
                if os.path.realpath(f"/proc/{pid}/exe") == python:
                    self.wrappers = frozenset(chain)
                    return
                with open(f"/proc/{pid}/task/{pid}/children", "rb") as f:
                    kids = f.read().split()
            except OSError:
                return
            if len(kids) != 1:
                return
            chain.append(pid)
            pid = int(kids[0])

    def metered(self):
        return self.members - self.wrappers

    def _read_output(self, fd):
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.append(chunk)
            self.output_size += len(chunk)
            self.output_total += len(chunk)
            while self.output_size > self.output_limit and len(self.output) > 1:
                self.output_size -= len(self.output.popleft())

    def kill(self):
        if self._killed:
            return
        self._killed = True
        self._stop.set()
        kill_tree(self.proc.pid, self.uid)
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in self._fds[:2]:
            try:
                os.close(fd)
            except OSError:
                pass
        self._drain.join(timeout=2)
        try:
            os.close(self._fds[2])
        except OSError:
            pass
        self.meter.close()
        if self.uid_slot is not None:
            self.uid_slot.release()
            self.uid_slot = None
        for path in self._temp:
            for left in scratch.remove_tree(path):         # whatever modes the student set inside it
                sys.stderr.write(f"could not remove the worker's scratch space: {left}\n")
        self._temp = []
        self.arena.close()

    def exit_description(self):
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if self.memory_killed:
            return (f"it was killed because its processes together used more than "
                    f"{self.limits.memory_bytes / 2**30:g} GiB of memory")
        if self.threads_killed:
            return f"it was killed because it ran more than {THREADS_LIMIT} processes and threads at once"
        if self.scratch_killed and self.scratch_unmeasured >= 3:
            return (f"it was killed because its files could not be measured (a folder the grader may not read, "
                    f"or too many entries): they may not take more than {SCRATCH_BYTES >> 20} MiB")
        if self.scratch_killed:
            return f"it was killed because its files together took more than {SCRATCH_BYTES >> 20} MiB"
        if code == 1 and self.backend == "namespaces":
            # util-linux 2.38's unshare, whose child was killed by SIGKILL (the kernel's OOM killer in a
            # container that ran out of memory), cannot re-raise it and exits 1 with this line.
            self._drain.join(timeout=1)
            if b"unshare: sigprocmask unblock failed" in b"".join(self.output)[-4096:]:
                code = -signal.SIGKILL
        return _describe_exit(code)


_PIN = []


def pin_workers():
    """From now on, this process keeps its thread and each worker it starts on one core (a judge: nothing
    else runs in it; never the orchestrator, whose judges must spread over the cores)."""
    _PIN.append(True)


def _stay_on_this_core():
    """Keep this thread, and the worker it is about to start (which inherits it), on the core it runs on now.

    A judge and its worker take turns (the judge waits while the worker computes, and the other way
    round), so a pair on one core loses nothing, and each of its thousands of round trips skips waking
    another core: on this kind of VM a served call then takes a third of the time
    (tests/bench/bench_served.py). The kernel chose the core, where there was room."""
    if not _PIN:
        return
    try:
        import ctypes
        core = ctypes.CDLL(None).sched_getcpu()
        if core >= 0 and len(os.sched_getaffinity(0)) > 1:
            os.sched_setaffinity(0, {core})
    except (OSError, AttributeError, ValueError):
        pass


def _threads_of(uid):
    """Processes and threads of `uid` now (what RLIMIT_NPROC counts)."""
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                pass
    return count
