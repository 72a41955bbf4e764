"""Judges without their start-up: a process that has imported what a judge needs forks one per part.

    server = JudgeServer(env)                 # python -m grader.engine.forkserver, started once
    judge = server.spawn(argv, env, log)      # a judge (grader.engine.judge.main(argv)), forked
    judge.wait(timeout=0.5); judge.kill()     # as a subprocess.Popen would

Starting a judge costs about 0.45 s of CPU before it grades anything: the interpreter, pytest,
hypothesis and numpy. A batch starts one judge per (submission, part), so the orchestrator keeps
one server that has imported all of that and forks it instead. A forked judge is the same program
as a started one: its own session (so that it and its workers can be killed together), its log as
stdout and stderr, the environment and folder it was given, and it dies if the server dies (which
dies when the orchestrator goes: its stdin closes). Of the suites, the server imports only their helper
modules (preload_suite_helpers), never a test module or conftest.py, and it runs no test itself, so
every judge starts from the same state.

The server's protocol: one JSON line per judge on stdin ({"id", "argv", "env", "log", "cwd"}); on
stdout, "started <id> <pid>", "failed <id> <why>" and "exited <pid> <exit code>".
"""
import gc
import json
import os
import select
import signal
import subprocess
import sys
import threading

PR_SET_PDEATHSIG = 1


def suite_helpers():
    """The hidden suites' helper modules (oracle, strategies, ...), by name: every grader/suites/*.py but the
    test modules and conftest.py, which pytest imports in each judge from their files."""
    from .judge import SUITES
    return [f"grader.suites.{path.stem}" for path in sorted(SUITES.glob("*.py"))
            if not path.name.startswith(("test_", "conftest"))]


def preload_suite_helpers():
    """Import the suites' helpers once, for every judge: importing them cost each judge about 35 ms of CPU
    (measured after what the server imports besides, 5 runs). They hold functions, constants and
    hypothesis strategies; what a test changes in them (the hints a judge has shown, tooling/feedback.py) starts
    empty in every fork, as it did when each judge imported them. By name, as the judge runs the suites by
    path: the engine's layer imports nothing of the suites (tests/test_layering.py)."""
    import importlib
    for name in suite_helpers():
        importlib.import_module(name)


def serve() -> int:
    import ctypes

    import hypothesis.extra.pytestplugin  # noqa: F401 -- imported once here, for every judge
    import numpy  # noqa: F401
    import pytest  # noqa: F401

    from . import judge
    from .redact import LAST_RESORT, Redactor
    # The filters every judge builds from the solutions' and suites' text (about 0.6 CPU-seconds a judge),
    # built once here: the kit's files do not change while a batch grades.
    Redactor.default()
    Redactor.default(LAST_RESORT)
    preload_suite_helpers()
    # What is imported and built so far never changes: out of the collector's sight, so that no forked judge's
    # collections walk it (or write to its pages, which the fork shares).
    gc.freeze()
    libc = ctypes.CDLL(None, use_errno=True)
    children, buf = set(), b""

    def report(line):
        os.write(1, (line + "\n").encode())

    while True:
        ready, _, _ = select.select([0], [], [], 0.05 if children else 1.0)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            children.discard(pid)
            report(f"exited {pid} {os.waitstatus_to_exitcode(status)}")
        if not ready:
            continue
        data = os.read(0, 1 << 16)
        if not data:                     # the orchestrator is gone: so are its judges
            for pid in children:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            return 0
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            request = None
            try:
                request = json.loads(line)
                pid = os.fork()
            except (ValueError, OSError) as exc:
                report(f"failed {request.get('id') if isinstance(request, dict) else '?'} {exc}")
                continue
            if pid == 0:
                code = 1
                try:
                    os.setsid()
                    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                    if os.getppid() == 1:        # the server died before the line above
                        os._exit(1)
                    null = os.open(os.devnull, os.O_RDONLY)
                    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                    os.dup2(null, 0)
                    os.dup2(log, 1)
                    os.dup2(log, 2)
                    os.close(null)
                    os.close(log)
                    os.environ.clear()
                    os.environ.update(request["env"])
                    os.chdir(request["cwd"])
                    code = judge.main(request["argv"])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
                except BaseException:  # noqa: BLE001 -- the judge's own crash, to its log
                    import traceback
                    traceback.print_exc()
                finally:
                    try:
                        sys.stdout.flush()
                        sys.stderr.flush()
                    finally:
                        os._exit(code)
            children.add(pid)
            report(f"started {request['id']} {pid}")


class ForkedJudge:
    """A judge the server forked, with the part of subprocess.Popen's interface run_judge uses."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None
        self._done = threading.Event()

    def _exited(self, code):
        self.returncode = code
        self._done.set()

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired("judge", timeout)
        return self.returncode

    def kill(self):
        if not self._done.is_set():
            for kill in (os.killpg, os.kill):          # its session: the judge and whatever it started
                try:
                    kill(self.pid, signal.SIGKILL)
                except OSError:
                    pass


class JudgeServer:
    """The orchestrator's handle on a server; spawn() from any thread."""

    def __init__(self, env, cwd):
        self.proc = subprocess.Popen([sys.executable, "-m", "grader.engine.forkserver"], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.lock = threading.Lock()
        self.next_id = 0
        self.pending = {}                # id -> [event, ForkedJudge or error]
        self.judges = {}                 # pid -> ForkedJudge
        self.exited = {}                 # pid -> exit code, for an exit read before its "started"
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            words = raw.decode(errors="replace").split(" ", 2)
            with self.lock:
                if words[0] == "started" and len(words) == 3 and words[1] in self.pending:
                    pid = int(words[2])
                    judge = self.judges[pid] = ForkedJudge(pid)
                    if pid in self.exited:
                        judge._exited(self.exited.pop(pid))
                    event, slot = self.pending.pop(words[1])
                    slot.append(judge)
                    event.set()
                elif words[0] == "failed" and len(words) == 3 and words[1] in self.pending:
                    event, slot = self.pending.pop(words[1])
                    slot.append(OSError(words[2].strip()))
                    event.set()
                elif words[0] == "exited" and len(words) == 3:
                    pid, code = int(words[1]), int(words[2])
                    judge = self.judges.pop(pid, None)
                    if judge is None:
                        self.exited[pid] = code
                    else:
                        judge._exited(code)
        with self.lock:                  # the server is gone: nothing more will start or be reported
            for event, slot in self.pending.values():
                slot.append(OSError("the judge server stopped"))
                event.set()
            self.pending.clear()
            for judge in self.judges.values():
                judge._exited(-signal.SIGKILL)
            self.judges.clear()

    def alive(self):
        return self.proc.poll() is None

    def spawn(self, argv, env, log, cwd):
        """A judge running grader.engine.judge.main(argv); raises OSError if it could not start."""
        event, slot = threading.Event(), []
        with self.lock:
            if not self.alive():
                raise OSError("the judge server stopped")
            request_id = str(self.next_id)
            self.next_id += 1
            self.pending[request_id] = (event, slot)
            line = json.dumps({"id": request_id, "argv": list(argv), "env": dict(env), "log": str(log),
                               "cwd": str(cwd)}) + "\n"
            try:
                self.proc.stdin.write(line.encode())
                self.proc.stdin.flush()
            except OSError:
                self.pending.pop(request_id, None)
                raise
        if not event.wait(600):
            raise OSError("the judge server did not answer")
        if isinstance(slot[0], Exception):
            raise slot[0]
        return slot[0]

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


if __name__ == "__main__":
    sys.exit(serve())
