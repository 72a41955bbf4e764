"""The judge's handle on a student's module: calls go to a sandboxed worker.

    student = StudentModule("mlp", package_root, limits, remote={"activations": {"relu": relu, ...}})
    logits, cache = student.forward(params, X)        # runs in the worker

Each call has a deadline. A call that overruns, crashes the worker or raises
turns into a StudentError with a message for the student; the worker is
killed (with every process it started) and a fresh one starts on the next
call. Student code never runs in this process, so nothing it does can change
how results are compared or scored.

Functions of `remote` modules (the reference of the parts a module may
import) never enter the worker: the module gets stubs, and each call comes
back here, where the real function runs, within the caller's deadline.

The worker is isolated by a backend (grader.sandbox.backends): the client
uses the one the process was told to (GRADER_SANDBOX) or the best this host
offers, and verify() proves it before anything untrusted runs.
"""
import collections
import contextlib
import functools
import mmap
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import backends, protocol

WORKER = Path(__file__).resolve().parent / "worker.py"
ARENA_BYTES = 64 << 20        # shared memory for the arguments of calls whose mutation is checked
WATCH_SECONDS = 0.05          # how often the memory watchdog sums the worker tree's resident memory
FULL_SCAN_SECONDS = 0.25      # ... and looks for new processes in its tree
NPROC_OWN_UID = 8             # processes and threads of a worker that has a uid of its own


@dataclass
class Limits:
    """Resource limits for grading one module (instructor-tunable)."""

    part_seconds: float = None        # backstop for all calls (None: suite_seconds + every test's own)
    suite_seconds: float = 120.0      # student-code time for all the tests before each test's own (set by the engine)
    call_seconds: float = 20.0        # one call, unless a test asks for more
    start_seconds: float = 30.0       # starting the worker and importing the module
    memory_bytes: int = 4 << 30       # the worker's whole process tree (resident), and each process's address space
    output_bytes: int = 64 << 10      # how much of what the student prints is kept
    test_seconds: float = None        # all calls of one test (None: call_seconds; a longer call gets its own)

    def for_test(self):
        return self.test_seconds if self.test_seconds is not None else self.call_seconds

    def for_part(self, tests=0):
        """The seconds the module's calls may use in all: a backstop sized so that each of its `tests`
        still gets its own budget after earlier tests hung."""
        if self.part_seconds is not None:
            return self.part_seconds
        return self.suite_seconds + tests * self.for_test()


class StudentError(Exception):
    """Something the student's code did on this input; str() is the message they see."""


class StudentAbort(BaseException):
    """A failure that does not depend on the input (not implemented, missing,
    import error, timeout, crash). A BaseException, so that hypothesis stops at
    once instead of shrinking an example that cannot matter."""


class NotImplementedYet(StudentAbort):
    pass


class StudentRaised(StudentError):
    def __init__(self, message, error):
        super().__init__(message)
        self.error = error


class StudentTimeout(StudentAbort):
    pass


class StudentCrashed(StudentAbort):
    pass


class ImportFailed(StudentAbort):
    pass


class MissingFunction(StudentAbort):
    pass


class BadReturn(StudentError):
    pass


def identifier(value, default="object"):
    """A student-supplied name (exception type, class, function), reduced to a Python name."""
    name = re.sub(r"[^A-Za-z0-9_.]", "", str(value))[:60]
    return name or default


def student_text(value, limit=400, clean=None):
    """A student-supplied string (exception message, printout), cut, then passed through `clean`
    (the kit's filter for hidden code)."""
    text = str(value)
    text = text if len(text) <= limit else text[:limit] + " ..."
    return clean(text) if clean is not None else text


class SandboxFailure(Exception):
    """The sandbox could not be built or verified: the grader's problem, never the student's."""


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


def _proc_table(min_pid=0):
    """{pid: (ppid, uid, resident bytes)} for the processes with pid >= min_pid."""
    table = {}
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return table
    for pid in pids:
        if pid < min_pid:
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            uid = os.stat(f"/proc/{pid}").st_uid
            table[pid] = (int(fields[1]), uid, int(fields[21]) * page)
        except (OSError, ValueError, IndexError):
            continue
    return table


def _tree(table, root, uid=None):
    """The pids of `root`'s descendants (and, with `uid`, every process of that uid)."""
    members = {root} if root in table else set()
    changed = True
    while changed:
        changed = False
        for pid, (ppid, puid, _) in table.items():
            if pid not in members and (ppid in members or (uid is not None and puid == uid)):
                members.add(pid)
                changed = True
    return members


def kill_tree(root, uid=None):
    """SIGKILL `root` and its descendants (stopped first, so that none forks meanwhile), and, as root
    with a worker uid, every process of that uid."""
    frozen = set()
    me = os.getpid()
    for _ in range(20):
        table = _proc_table()
        members = _tree(table, root) | (_tree(table, me) if _ADOPTING else set())
        members -= frozen | {me}
        if not members:
            break
        for pid in members:
            try:
                os.kill(pid, signal.SIGSTOP)
            except (ProcessLookupError, PermissionError):
                pass
        frozen |= members
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if uid is not None:
        backends.kill_uid(uid)


class Arena:
    """Shared memory for arguments: the judge reads what a call did to them, without asking the worker.

    A sealed memfd (it cannot shrink, so the judge's mapping can never fault), mapped by both sides."""

    def __init__(self, size=ARENA_BYTES):
        self.fd = os.memfd_create("grader-args", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(self.fd, size)
        import fcntl
        fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
        self.map = mmap.mmap(self.fd, size)
        self.size = size
        self.placed = []             # [(offset, original copy)]
        self.next = 0

    def reset(self):
        self.placed, self.next = [], 0

    def place(self, array):
        """Copy `array` into the arena; its index, or None if it does not fit."""
        nbytes = array.nbytes
        offset = (self.next + 63) // 64 * 64
        if offset + nbytes > self.size or array.dtype.hasobject:
            return None
        arr = np.ascontiguousarray(array)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        view = np.ndarray(arr.shape, dtype=arr.dtype, buffer=self.map, offset=offset)
        view[...] = arr
        self.placed.append((offset, arr.copy()))
        self.next = offset + nbytes
        return len(self.placed) - 1

    def specs(self):
        return [[offset, a.dtype.str, list(a.shape)] for offset, a in self.placed]

    def now(self, index):
        """A copy of what placed array `index` holds now."""
        offset, original = self.placed[index]
        return np.ndarray(original.shape, dtype=original.dtype, buffer=self.map, offset=offset).copy()

    def changed(self):
        return [i for i, (_, original) in enumerate(self.placed)
                if not np.array_equal(self.now(i), original, equal_nan=original.dtype.kind in "fc")]

    def close(self):
        if self.fd is None:
            return
        try:
            self.map.close()
        except (BufferError, ValueError):
            pass
        os.close(self.fd)
        self.fd = None


class Worker:
    """One worker process, its pipes, its isolation and its memory watchdog."""

    def __init__(self, part, package_root, limits, backend, remote_names, patches=None):
        self.part = part
        self.backend = backend
        self.limits = limits
        self.uid_slot = backends.UidSlot() if backends.own_uid_possible(backend) else None
        self.uid = self.uid_slot.uid if self.uid_slot else None
        self.memory_killed = False
        self._killed = False
        self.arena = Arena()
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
        # The CPU limit is a backstop for a worker whose judge is gone: the part's
        # whole budget, and then the kernel stops it.
        cpu = int(limits.for_part() + limits.start_seconds + 60)
        args = ["--root", str(package_root), "--part", part, "--fds", f"{req_r},{resp_w}",
                "--backend", backend, "--arena-fd", str(self.arena.fd),
                "--memory", str(limits.memory_bytes), "--output", str(64 << 20), "--cpu", str(cpu)]
        for module, names in sorted(remote_names.items()):
            args += ["--remote", f"{module}:{','.join(sorted(names))}"]
        for module, names in sorted((patches or {}).items()):
            args += ["--patch", f"{module}:{','.join(sorted(names))}"]
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
            scratch = tempfile.mkdtemp(prefix="sandbox-scratch-")
            self._temp.append(scratch)
            if self.uid is not None:
                os.chown(scratch, self.uid, self.uid)
            scratch_fd = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY)
            keep.append(scratch_fd)
            args += ["--scratch-fd", str(scratch_fd)]
        cmd = orphan_guard() + prefix + [sys.executable, "-s", "-B", str(WORKER)] + args
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
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watchdog, daemon=True)
        self._watch.start()

    def _watchdog(self):
        """Sum the resident memory of the worker's whole tree; past the limit, kill the tree.

        Every WATCH_SECONDS it reads the known members' memory (a file each); every FULL_SCAN_SECONDS
        it looks through /proc for new members (children, orphans adopted by this judge, processes of
        the worker's uid). Between two full scans a new process can grow unseen: RLIMIT_NPROC and
        RLIMIT_AS bound what it can reach."""
        root = self.proc.pid
        me = os.getpid()
        page = os.sysconf("SC_PAGE_SIZE")
        members, last_full = {root}, 0.0
        while not self._stop.wait(WATCH_SECONDS):
            now = time.monotonic()
            if now - last_full >= FULL_SCAN_SECONDS:
                table = _proc_table()
                members = _tree(table, root, self.uid) | (_tree(table, me) - {me} if _ADOPTING else set())
                total = sum(table[p][2] for p in members)
                last_full = now
                if not members and self.proc.poll() is not None:
                    return
            else:
                total = 0
                for pid in members:
                    try:
                        with open(f"/proc/{pid}/statm", "rb") as f:
                            total += int(f.read().split()[1]) * page
                    except (OSError, ValueError, IndexError):
                        pass
            if total > self.limits.memory_bytes:
                self.memory_killed = True
                kill_tree(root, self.uid)
                return

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
        if self.uid_slot is not None:
            self.uid_slot.release()
            self.uid_slot = None
        for path in self._temp:
            shutil.rmtree(path, ignore_errors=True)
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
        return _describe_exit(code)


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


_VERIFIED = {}


def backend_for_process():
    """The backend this process uses: GRADER_SANDBOX if set (the orchestrator verified it), else the
    best this host offers, verified here once."""
    forced = os.environ.get("GRADER_SANDBOX")
    if forced:
        return forced
    if "auto" not in _VERIFIED:
        _VERIFIED["auto"] = choose()[0]
    return _VERIFIED["auto"]


def choose(canaries=(), allow_none=True, module=None):
    """(backend, notes): the first candidate that passes verify(); notes say why others did not.
    `module`: (part, package root, remote) of a module to verify with, else a trivial one."""
    notes = []
    for backend in backends.candidates():
        if backend == "none":
            if allow_none:
                return "none", notes
            break
        problem = verify(backend, canaries, module)
        if problem is None:
            return backend, notes
        notes.append(f"{backend}: {problem}")
    return None, notes


def verify(backend, canaries=(), module=None, then=None):
    """None if a worker under `backend` starts, imports numpy, can write its scratch space, cannot
    read a canary file outside its allowlist (nor `canaries`) and cannot write beside it; otherwise
    what went wrong. `module`: (part, package root, remote) to start the worker with (the caller's
    own check can then use the same worker: `then(student_module)` -> None or a problem)."""
    with tempfile.TemporaryDirectory(prefix="sandbox-verify-") as tmp:
        if module is None:
            pkg = Path(tmp) / "pkg" / "assignment"
            pkg.mkdir(parents=True)
            (pkg / "__init__.py").write_text("")
            (pkg / "canary_check.py").write_text("import numpy\n")
            for path in (Path(tmp), Path(tmp) / "pkg", pkg, pkg / "__init__.py", pkg / "canary_check.py"):
                path.chmod(0o755 if path.is_dir() else 0o644)
            module = ("canary_check", Path(tmp) / "pkg", {})
        canary = Path(tmp) / "canary.txt"
        canary.write_text("secret")
        canary.chmod(0o644)
        here = Path.cwd() / f".sandbox-canary-{os.getpid()}"
        try:
            here.write_text("secret")
            here.chmod(0o644)
            cwd_canary = [str(here)]
        except OSError:
            cwd_canary = []
        part, root, remote = module
        student = StudentModule(part, root, Limits(start_seconds=30), remote=remote, backend=backend)
        try:
            student._ensure_started()
            got = student.probe(read=[str(canary), *cwd_canary, *map(str, canaries)], write=[tmp, "/tmp"],
                                scratch=True)
            problem = None
            if backend != "none":
                if got["readable"]:
                    problem = f"a worker could read {got['readable'][0]}, outside its allowlist"
                elif tmp in got["writable"]:
                    problem = f"a worker could write in {tmp}"
                elif not got.get("scratch"):
                    problem = "a worker could not write in its scratch space"
            if problem is None and then is not None:
                problem = then(student)
        except SandboxFailure as exc:
            return str(exc)
        except (StudentError, StudentAbort) as exc:
            return f"a worker did not start: {exc}"
        finally:
            student.close()
            for path in cwd_canary:
                Path(path).unlink(missing_ok=True)
    return problem


class StudentModule:
    """Proxy for assignment/<part>.py. Attribute access gives callables.

    remote: {module: {name: callable}}, the functions the student's module may import from other
    modules; they run here, never in the worker. clean: applied to every student-made string that
    goes into a message (the kit passes its filter for hidden code)."""

    def __init__(self, part, package_root, limits=None, remote=None, clean=None, backend=None, own=None):
        self.part = part
        self.package_root = Path(package_root)
        self.limits = limits or Limits()
        self.remote = remote or {}
        # own: {module: check(call) -> (functions that differ, note)}: modules of `remote` staged from
        # the student's own file. Each function that check() finds behaving like the reference runs as
        # it is (fast: no call leaves the worker); the judge serves the others, and all of them inside
        # remote_dependencies(). A module that cannot be checked (it does not import, hangs, crashes)
        # is served by the judge as a whole.
        self.own = dict(own or {})
        self.own_ok = set(self.own) & set(self.remote)
        self.own_bad = {}                # module -> functions of the student's own module served remotely
        self.own_verified = set()
        self.own_notes = {}
        self._force_remote = False
        self.clean = clean
        self.backend = backend
        self.tests = 0                   # how many tests share the part's budget (set by the judge)
        self.used = 0.0                  # seconds of the part's budget spent
        self.test_used = 0.0             # ... of the current test's
        self.worker = None
        self.functions = None            # name -> signature, once imported
        self.sandbox = {}                # what the worker reported about its isolation
        self.fatal = None                # an import problem: every call fails with it
        self.poison = None               # a timeout in this test: later calls fail fast
        self.timeouts = 0
        self.crashes = 0
        self.remote_calls = collections.Counter()    # stub calls served during the current call

    def dependency_modes(self):
        """{module: "own", "reference" or "own, except f, g (reference)"}: how the modules the part
        imports were provided."""
        def mode(m):
            if m not in self.own_ok:
                return "reference"
            bad = sorted(self.own_bad.get(m, ()))
            return f"own, except {', '.join(bad)} (reference)" if bad else "own"
        return {m: mode(m) for m in self.remote}

    def _stubbed(self):
        return set(self.remote) if self._force_remote else set(self.remote) - self.own_ok

    def _patches(self):
        """{module: functions}: the student's own modules in use with some functions served remotely."""
        if self._force_remote:
            return {}
        return {m: sorted(fns) for m, fns in self.own_bad.items() if m in self.own_ok and fns}

    @contextlib.contextmanager
    def remote_dependencies(self):
        """Within the block, every module the part imports is served by the judge, so that the judge
        sees and counts every call into them. If the worker runs the student's own modules, the block
        gets a worker of its own, and the first one carries on afterwards."""
        if not (set(self.remote) & self.own_ok) or self._force_remote:
            yield self
            return
        kept, self.worker = self.worker, None
        self._force_remote = True
        try:
            yield self
        finally:
            self._force_remote = False
            self._restart()
            self.worker = kept if kept is not None and kept.proc.poll() is None else None
            if kept is not None and self.worker is None:
                kept.kill()

    def _restart(self):
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    @property
    def sandboxed(self):
        return None if self.backend is None else self.backend != "none"

    # -- test lifecycle --------------------------------------------------
    def begin_test(self):
        self.poison = None
        self.test_used = 0.0
        if self.worker is not None and self.worker.proc.poll() is None:
            try:
                self._request({"op": "reset"}, self.limits.call_seconds, "reset")
            except (StudentError, StudentAbort):
                pass

    def close(self):
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def recent_output(self, limit=2000):
        if self.worker is None:
            return ""
        text = b"".join(self.worker.output).decode("utf-8", "replace")
        return text[-limit:]

    def status(self):
        """One word for the gradebook: how this part's run went."""
        if self.fatal is not None:
            return "sandbox error" if isinstance(self.fatal, SandboxFailure) else "import error"
        if self.timeouts:
            return "timeout"
        if self.crashes:
            return "crashed"
        return "ok"

    # -- calls -----------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            return self.call(name, *args, **kwargs)

        call.__name__ = name
        return call

    def has(self, name):
        self._ensure_started()
        return name in self.functions

    def probe(self, read=(), write=(), walk=False, skip=(), scratch=False):
        """Ask the worker what it can reach (its own code, not the student's): see worker.probe."""
        self._ensure_started()
        reply = self._request({"op": "probe", "value": {"read": list(read), "write": list(write),
                                                        "walk": walk, "skip": list(skip)}},
                              max(self.limits.call_seconds, 120), f"{self.part}: sandbox probe")
        value = reply.get("value") or {}
        if scratch:
            scratch_ok = self._request({"op": "probe", "value": {"write": ["."]}}, 30, "probe")
            value["scratch"] = bool((scratch_ok.get("value") or {}).get("writable"))
        return value

    def call(self, name, *args, _timeout=None, _errstate=None, _return_args=False, _count_calls=False,
             _module=None, **kwargs):
        """Run <part>.<name>(*args, **kwargs) in the worker and return its value.

        _errstate: numpy error handling during the call (e.g. {"over": "raise"}).
        _return_args: return (value, args, kwargs) as they are after the call. Arrays are passed in
            shared memory and read back from it here, so an in-place change is seen whatever the
            worker reports; other changes (a dict entry replaced) come from the worker's report.
        _count_calls: return (value, {function: calls}): the module's own functions (counted in the
            worker: student code can reach those counters) and, under "<module>.<name>", the stub
            calls served here during the call (student code cannot hide those).
        """
        label = f"{self.part}.{name}"
        if self.poison:
            raise StudentTimeout(self.poison)
        self._ensure_started()
        timeout = self.limits.call_seconds if _timeout is None else _timeout
        opts = {}
        if _errstate:
            opts["errstate"] = _errstate
        if _return_args:
            opts["return_args"] = True
        if _count_calls:
            opts["count_calls"] = True
        message = {"op": "call", "fn": name, "args": list(args), "kwargs": kwargs, "opts": opts}
        if _module is not None:                       # a function of another module of the package
            message.update(op="call_in", module=_module)
            label = f"{_module}.{name}"
        arena = self.worker.arena if _return_args else None
        reply = self._request(message, timeout, label, arena=arena)
        kind = reply.get("kind")
        if kind == "ok" and _count_calls:
            calls = reply.get("calls")
            calls = {identifier(k): int(v) for k, v in calls.items() if isinstance(v, int)} \
                if isinstance(calls, dict) else {}
            for key, n in self.remote_calls.items():
                calls[key] = calls.get(key, 0) + n
            return reply.get("value"), calls
        if kind == "ok" and _return_args:
            return self._args_after(reply.get("value"), args, kwargs, arena)
        if kind == "ok":
            return reply.get("value")
        if kind == "missing":
            raise MissingFunction(f"{self.part}.py has no function {name}(): "
                                  f"define it with the name and arguments the assignment gives")
        if kind == "error":
            raise self._student_exception(name, reply.get("error") or {})
        raise BadReturn(f"{label}: the process running your code sent a malformed reply")

    def _args_after(self, reported, args, kwargs, arena):
        """(value, args, kwargs) after a call: as the worker reports them, unless the shared memory
        shows an in-place change; then the judge's own arguments holding what the memory holds."""
        if not (isinstance(reported, (tuple, list)) and len(reported) == 3):
            raise BadReturn(f"{self.part}: the process running your code sent a malformed reply")
        value = reported[0]
        if not arena.changed():
            return value, reported[1], reported[2]
        counter = iter(range(len(arena.placed)))

        def rebuild(v):
            if isinstance(v, np.ndarray) and v.dtype.kind in protocol.ALLOWED_KINDS:
                return arena.now(next(counter))
            if isinstance(v, tuple):
                return tuple(rebuild(x) for x in v)
            if isinstance(v, list):
                return [rebuild(x) for x in v]
            if isinstance(v, dict):
                return {k: rebuild(x) for k, x in v.items()}
            return v
        return value, rebuild(list(args)), rebuild(dict(kwargs))

    def _where(self, error):
        """' (mlp.py, line 42, in backward: <their line>)' for the innermost frame in
        the student's file. The worker only says which line; the text is read here,
        from the staged copy of their own file, so it cannot be anything else."""
        frames = error.get("frames") or []
        if not frames or not isinstance(frames[-1], list) or len(frames[-1]) < 3:
            return ""
        _, line, func = frames[-1][:3]
        try:
            line = int(line)
        except (TypeError, ValueError):
            return ""
        path = self.package_root / "assignment" / f"{self.part}.py"
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            text = lines[line - 1].strip()[:160] if 0 < line <= len(lines) else ""
        except OSError:
            text = ""
        return f" ({self.part}.py, line {line}, in {identifier(func, '?')}: {text})"

    def _text(self, value, limit=400):
        return student_text(value, limit, self.clean)

    def _student_exception(self, name, error):
        label = f"{self.part}.{name}"
        etype = identifier(error.get("type", "Exception"), "Exception")
        message = self._text(error.get("message", ""))
        where = self._where(error)
        if error.get("not_implemented") and etype == "NotImplementedError":
            frames = error.get("frames") or []
            inner = identifier(frames[-1][2], name) if frames and isinstance(frames[-1], list) \
                and len(frames[-1]) >= 3 else name
            if inner not in (name, "<module>"):
                return NotImplementedYet(f"{label} stopped at {self.part}.{inner}, which is not implemented "
                                         f"yet (it raises NotImplementedError)")
            return NotImplementedYet(f"{label} is not implemented yet (it raises NotImplementedError)")
        if etype == "SystemExit":
            return StudentRaised(f"{label} called sys.exit(){where}; return a value instead", error)
        if etype == "MemoryError":
            limit = self.limits.memory_bytes / 2**30
            return StudentRaised(f"{label} ran out of memory (the limit is {limit:g} GiB){where}", error)
        if etype == "TypeError" and self.functions and name in self.functions and "argument" in message:
            return StudentRaised(
                f"{label} raised TypeError: {message}{where}. Your signature is "
                f"{name}{self._text(self.functions[name], 200)}; check it against the assignment's", error)
        return StudentRaised(f"{label} raised {etype}: {message}{where}", error)

    def _budget_left(self):
        return self.limits.for_part(self.tests) - self.used

    def _ensure_started(self):
        try:
            self._start()
        except (ImportFailed, StudentTimeout) as exc:
            if not (set(self.remote) - self._stubbed()):
                raise
            # The student's own dependency may be what failed to import: never let it cost this part.
            for module in set(self.remote) - self._stubbed():
                self.own_ok.discard(module)
                self.own_notes[module] = f"not used: {str(exc)[:200]}"
            self.fatal = None
            self.poison = None
            self._restart()
            self._start()

    def _start(self):
        if self.fatal:
            raise self.fatal
        if self.worker is not None and self.worker.proc.poll() is None:
            return
        if self.worker is not None:
            self.worker.kill()
        left = self._budget_left()
        if left <= 0:
            raise StudentTimeout(self._budget_message())
        if self.backend is None:
            self.backend = backend_for_process()
        start = time.monotonic()
        stubbed = self._stubbed()
        names = {module: list(functions) for module, functions in self.remote.items() if module in stubbed}
        try:
            self.worker = Worker(self.part, self.package_root, self.limits, self.backend, names, self._patches())
        except (OSError, RuntimeError, SandboxFailure) as exc:
            self.fatal = SandboxFailure(f"the grader could not start a sandboxed worker ({self.backend}): {exc}")
            raise self.fatal from None
        wait = min(self.limits.start_seconds, left)
        try:
            reply = self._receive(self.worker, start + wait)
        except TimeoutError:
            self.worker.kill()
            if wait < self.limits.start_seconds:
                # The part's budget ran out while the worker started (on a loaded machine, after a test
                # that used most of it): the budget's message, not a blamed module-level loop.
                raise StudentTimeout(self._budget_message()) from None
            self.fatal = ImportFailed(
                f"importing {self.part}.py did not finish within {wait:.0f} s: is there a loop "
                f"or a long computation at module level (outside any function)?")
            raise self.fatal from None
        except protocol.ProtocolError:
            how = self.worker.exit_description()
            output = self._text(self.recent_output(300).strip(), 300)
            self.worker.kill()
            detail = f" Last output: {output!r}" if output else ""
            self.fatal = ImportFailed(f"{self.part}.py could not be imported: {how}.{detail}")
            raise self.fatal from None
        finally:
            self.used += time.monotonic() - start
        if reply.get("kind") == "sandbox_error":
            self.worker.kill()
            self.fatal = SandboxFailure(f"the {self.backend} sandbox could not be set up on this host: "
                                        f"{str(reply.get('message'))[:300]}")
            raise self.fatal
        self.sandbox = reply.get("sandbox") if isinstance(reply.get("sandbox"), dict) else {}
        if reply.get("kind") == "import_error":
            error = reply.get("error") or {}
            etype = identifier(error.get("type", "Exception"), "Exception")
            message = self._text(error.get("message", ""))
            where = self._where(error).replace(" (", " at ", 1).rstrip(")")
            if etype == "SystemExit":
                what = "called sys.exit() while being imported"
            elif etype in ("SyntaxError", "IndentationError", "TabError"):
                what = f"has a {etype}: {message}"
            elif etype in ("ModuleNotFoundError", "ImportError"):
                what = (f"raised {etype} while being imported: {message} "
                        f"(only numpy and the standard library are available)")
            else:
                what = f"raised {etype} while being imported: {message}"
            self.worker.kill()
            self.fatal = ImportFailed(f"{self.part}.py {what}{where}")
            raise self.fatal
        if reply.get("kind") != "ready":
            self.worker.kill()
            self.fatal = ImportFailed(f"{self.part}.py: the process running your code did not start properly")
            raise self.fatal
        self.functions = reply.get("functions") or {}
        self._verify_own()

    def _verify_own(self):
        """Check, once, each of the student's own dependency modules in use; one that does not behave
        like the reference is replaced by the judge's (a fresh worker)."""
        pending = (set(self.remote) - self._stubbed()) - self.own_verified
        for module in sorted(pending):
            try:
                bad, note = self.own[module](functools.partial(self.call, _module=module))
            except StudentAbort as exc:          # a hang or a crash: the judge serves the whole module
                bad, note = set(self.remote[module]), str(exc)
            self.poison = None
            self.own_verified.add(module)
            if not bad:
                continue
            self.own_notes[module] = str(note)[:300]
            if set(bad) >= set(self.remote[module]):
                self.own_ok.discard(module)
            else:
                self.own_bad[module] = set(bad)
            self._restart()
            self._ensure_started()
            return

    def _budget_message(self):
        return (f"the time limit for all of {self.part} ({self.limits.for_part(self.tests):.0f} s) "
                f"is used up, so this test did not run")

    def _receive(self, worker, deadline):
        """The worker's reply, serving the stub calls it makes meanwhile."""
        self.remote_calls = collections.Counter()
        channel = worker.channel
        while True:
            message = channel.recv(deadline=deadline)
            if message.get("kind") != "callback":
                return message
            channel.send_reply(self._serve_remote(message), deadline=deadline)   # compact when it fits

    def _serve_remote(self, message):
        module, name = str(message.get("module")), str(message.get("fn"))
        function = self.remote.get(module, {}).get(name)
        if function is None:
            return {"op": "callback_reply", "kind": "error",
                    "error": {"type": "AttributeError", "message": f"{module} has no function {name[:60]}"}}
        self.remote_calls[f"{module}.{name}"] += 1
        errstate = protocol.callback_errstate(message.get("errstate"))    # None: the judge's state already
        try:
            if errstate is None:
                value = function(*(message.get("args") or []), **(message.get("kwargs") or {}))
            else:
                with np.errstate(**errstate):
                    value = function(*(message.get("args") or []), **(message.get("kwargs") or {}))
            return {"op": "callback_reply", "kind": "ok", "value": value}
        except Exception as exc:  # noqa: BLE001 -- the student passed something the function refuses
            return {"op": "callback_reply", "kind": "error",
                    "error": {"type": type(exc).__name__, "message": str(exc)[:300]}}

    def _request(self, message, timeout, label, arena=None):
        left = self._budget_left()
        if left <= 0:
            raise StudentTimeout(self._budget_message())
        test_left = max(self.limits.for_test(), timeout) - self.test_used
        wait = min(timeout, left, test_left)
        start = time.monotonic()
        deadline = start + wait
        worker = self.worker
        try:
            if arena is not None:
                arena.reset()
                protocol.pack(message, place_array=arena.place)      # copies the arrays into the arena
                if arena.placed:
                    message = dict(message, _shared=arena.specs())
                    worker.channel.send(message, deadline=deadline, place_array=_Replay())
                else:
                    worker.channel.send(message, deadline=deadline)
            else:
                worker.channel.send(message, deadline=deadline)
            return self._receive(worker, deadline)
        except TimeoutError:
            worker.kill()
            self.worker = None
            self.timeouts += 1
            if wait < timeout and wait == left:
                self.poison = self._budget_message()
            elif wait < timeout:
                self.poison = (f"this test's calls together did not finish within "
                               f"{max(self.limits.for_test(), timeout):.0f} s and were stopped "
                               f"(an endless loop, or much slower than needed?)")
            else:
                self.poison = (f"{label} did not finish within {wait:.0f} s and was stopped "
                               f"(an endless loop, or much slower than needed?)")
            raise StudentTimeout(self.poison) from None
        except protocol.ProtocolError as exc:
            if worker.proc.poll() is None and "closed" not in str(exc) and not worker.memory_killed:
                worker.kill()
                self.worker = None
                detail = "an integer beyond 64 bits" if "integer" in str(exc) else \
                    "too large, or not made of numbers, arrays, lists and dicts"
                raise BadReturn(f"{label} returned something that cannot be checked ({detail})") from None
            how = worker.exit_description()
            worker.kill()
            self.worker = None
            self.crashes += 1
            raise StudentCrashed(f"the process running your code stopped during {label}: {how}") from None
        finally:
            spent = time.monotonic() - start
            self.used += spent
            self.test_used += spent


class _Replay:
    """place_array for the second packing of a message: the arrays are already in the arena, in order."""

    def __init__(self):
        self.n = 0

    def __call__(self, array):
        index = self.n
        self.n += 1
        return index
