"""The judge's handle on a student's module: calls go to a sandboxed worker.

    student = StudentModule("mlp", package_root, limits)
    logits, cache = student.forward(params, X)        # runs in the worker

Each call has a deadline. A call that overruns, crashes the worker or raises
turns into a StudentError with a message for the student; the worker is
killed (its whole PID namespace) and a fresh one starts on the next call.
Student code never runs in this process, so nothing it does can change how
results are compared or scored.
"""
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..redact import Redactor
from . import protocol

WORKER = Path(__file__).resolve().parent / "worker.py"


# Seconds of student-code time per part: 10x or more what the reference needs
# on 2 loaded cores (activations 1 s, logistic regression 1 s, two-layer net
# 5 s, MLP 5 s of calls), so slow but correct code (Python loops) still fits.
PART_SECONDS = {"activations": 60.0, "logistic_regression": 90.0, "two_layer_net": 150.0, "mlp": 240.0}


@dataclass
class Limits:
    """Resource limits for one part of one submission (instructor-tunable)."""

    part_seconds: float = None        # all calls of one part together (None: PART_SECONDS)
    call_seconds: float = 20.0        # one call, unless a test asks for more
    start_seconds: float = 30.0       # starting the worker and importing the module
    memory_bytes: int = 4 << 30       # address space of the worker (RLIMIT_AS)
    output_bytes: int = 64 << 10      # how much of what the student prints is kept

    def for_part(self, part):
        """The seconds `part` may use in all."""
        return self.part_seconds if self.part_seconds is not None else PART_SECONDS.get(part, 120.0)


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


def _isolation_command():
    """The argv prefix that puts the worker in its own namespaces, or [] if unavailable."""
    unshare = shutil.which("unshare")
    if not unshare or sys.platform != "linux" or os.environ.get("GRADER_ISOLATION") == "process":
        return []
    base = [unshare, "--mount", "--pid", "--net", "--fork", "--kill-child", "--mount-proc"]
    candidates = [base] if os.geteuid() == 0 else []
    candidates.append([unshare, "--user", "--map-root-user"] + base[1:])
    for cmd in candidates:
        try:
            ok = subprocess.run(cmd + ["true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return cmd
    return []


_ISOLATION = None


def orphan_guard():
    """argv prefix that kills the process (SIGKILL) when the one that started it dies.

    For a worker the next process is `unshare --kill-child`, whose death takes the
    whole PID namespace with it: a judge that is killed leaves nothing running.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL"] if setpriv and sys.platform == "linux" else []


def isolation_command():
    global _ISOLATION
    if _ISOLATION is None:
        _ISOLATION = _isolation_command()
    return _ISOLATION


def identifier(value, default="object"):
    """A student-supplied name (exception type, class, function), reduced to a Python name."""
    name = re.sub(r"[^A-Za-z0-9_.]", "", str(value))[:60]
    return name or default


def student_text(value, limit=400):
    """A student-supplied string (exception message, printout), cut and cleaned of
    anything that repeats hidden grader or reference code."""
    text = str(value)
    text = text if len(text) <= limit else text[:limit] + " ..."
    return Redactor.default().clean(text)


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


class Worker:
    """One worker process and its pipes."""

    def __init__(self, part, package_root, limits):
        self.part = part
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        prefix = isolation_command()
        self.sandboxed = bool(prefix)
        # The CPU limit is a backstop for a worker whose judge is gone: the part's
        # whole budget, and then the kernel stops it.
        cpu = int(limits.for_part(part) + limits.start_seconds + 60)
        cmd = orphan_guard() + prefix + [
            sys.executable, "-s", "-B", str(WORKER), "--root", str(package_root), "--part", part,
            "--fds", f"{req_r},{resp_w}", "--memory", str(limits.memory_bytes), "--output", str(64 << 20),
            "--cpu", str(cpu)]
        if self.sandboxed:
            cmd.append("--sandbox")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        self.proc = subprocess.Popen(
            cmd, pass_fds=(req_r, resp_w), stdin=subprocess.DEVNULL, stdout=out_w,
            stderr=out_w, env=env, cwd=str(package_root), start_new_session=True)
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        self.channel = protocol.Channel(resp_r, req_w, max_payload=protocol.MAX_REPLY)
        self._fds = (resp_r, req_w, out_r)
        self.output = collections.deque()
        self.output_size = 0
        self.output_total = 0
        self.output_limit = limits.output_bytes
        self._drain = threading.Thread(target=self._read_output, args=(out_r,), daemon=True)
        self._drain.start()

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
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
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

    def exit_description(self):
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        return _describe_exit(code)


class StudentModule:
    """Proxy for assignment/<part>.py. Attribute access gives callables."""

    def __init__(self, part, package_root, limits=None):
        self.part = part
        self.package_root = Path(package_root)
        self.limits = limits or Limits()
        self.used = 0.0                  # seconds of the part's budget spent
        self.worker = None
        self.functions = None            # name -> signature, once imported
        self.sandbox_notes = []
        self.sandboxed = None
        self.fatal = None                # an import problem: every call fails with it
        self.poison = None               # a timeout in this test: later calls fail fast
        self.generation = 0
        self.calls = 0
        self.timeouts = 0
        self.crashes = 0

    # -- test lifecycle --------------------------------------------------
    def begin_test(self):
        self.poison = None
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
            return "import error"
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

    def call(self, name, *args, _timeout=None, _errstate=None, _return_args=False, _count_calls=False,
             **kwargs):
        """Run <part>.<name>(*args, **kwargs) in the worker and return its value.

        _errstate: numpy error handling during the call (e.g. {"over": "raise"}).
        _return_args: return (value, args, kwargs) as they are after the call.
        _count_calls: return (value, {function: calls}) for the module's own functions.
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
        self.calls += 1
        reply = self._request({"op": "call", "fn": name, "args": list(args), "kwargs": kwargs,
                               "opts": opts}, timeout, label)
        kind = reply.get("kind")
        if kind == "ok" and _count_calls:
            calls = reply.get("calls")
            calls = {identifier(k): int(v) for k, v in calls.items() if isinstance(v, int)} \
                if isinstance(calls, dict) else {}
            return reply.get("value"), calls
        if kind == "ok":
            return reply.get("value")
        if kind == "missing":
            sig = ""
            raise MissingFunction(f"{self.part}.py has no function {name}(){sig}: "
                                  f"define it with the name and arguments the assignment gives")
        if kind == "error":
            raise self._student_exception(name, reply.get("error") or {})
        raise BadReturn(f"{label}: the process running your code sent a malformed reply")

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

    def _student_exception(self, name, error):
        label = f"{self.part}.{name}"
        etype = identifier(error.get("type", "Exception"), "Exception")
        message = student_text(error.get("message", ""))
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
                f"{name}{student_text(self.functions[name], 200)}; check it against the assignment's", error)
        return StudentRaised(f"{label} raised {etype}: {message}{where}", error)

    def _budget_left(self):
        return self.limits.for_part(self.part) - self.used

    def _ensure_started(self):
        if self.fatal:
            raise self.fatal
        if self.worker is not None and self.worker.proc.poll() is None:
            return
        if self.worker is not None:
            self.worker.kill()
        left = self._budget_left()
        if left <= 0:
            raise StudentTimeout(self._budget_message())
        start = time.monotonic()
        self.worker = Worker(self.part, self.package_root, self.limits)
        self.generation += 1
        self.sandboxed = self.worker.sandboxed
        wait = min(self.limits.start_seconds, left)
        try:
            reply = self.worker.channel.recv(deadline=start + wait)
        except TimeoutError:
            self.worker.kill()
            self.fatal = ImportFailed(
                f"importing {self.part}.py did not finish within {wait:.0f} s: is there a loop "
                f"or a long computation at module level (outside any function)?")
            raise self.fatal from None
        except protocol.ProtocolError:
            how = self.worker.exit_description()
            output = student_text(self.recent_output(300).strip(), 300)
            self.worker.kill()
            detail = f" Last output: {output!r}" if output else ""
            self.fatal = ImportFailed(f"{self.part}.py could not be imported: {how}.{detail}")
            raise self.fatal from None
        finally:
            self.used += time.monotonic() - start
        self.sandbox_notes = reply.get("notes") or []
        if reply.get("kind") == "import_error":
            error = reply.get("error") or {}
            etype = identifier(error.get("type", "Exception"), "Exception")
            message = student_text(error.get("message", ""))
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

    def _budget_message(self):
        return (f"the time limit for all of {self.part} ({self.limits.for_part(self.part):.0f} s) "
                f"is used up, so this test did not run")

    def _request(self, message, timeout, label):
        left = self._budget_left()
        if left <= 0:
            raise StudentTimeout(self._budget_message())
        wait = min(timeout, left)
        start = time.monotonic()
        deadline = start + wait
        worker = self.worker
        try:
            worker.channel.send(message, deadline=deadline)
            return worker.channel.recv(deadline=deadline)
        except TimeoutError:
            worker.kill()
            self.worker = None
            self.timeouts += 1
            if wait < timeout:
                self.poison = self._budget_message()
            else:
                self.poison = (f"{label} did not finish within {wait:.0f} s and was stopped "
                               f"(an endless loop, or much slower than needed?)")
            raise StudentTimeout(self.poison) from None
        except protocol.ProtocolError as exc:
            if worker.proc.poll() is None and "closed" not in str(exc):
                worker.kill()
                self.worker = None
                raise BadReturn(f"{label} returned something that cannot be checked "
                                f"(too large, or not made of numbers, arrays, lists and dicts)") from None
            how = worker.exit_description()
            worker.kill()
            self.worker = None
            self.crashes += 1
            raise StudentCrashed(f"the process running your code stopped during {label}: {how}") from None
        finally:
            self.used += time.monotonic() - start
