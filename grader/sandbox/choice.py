"""Which sandbox backend a process uses, and the proof that it isolates before anything untrusted runs.

    backend = backend_for_process()      # GRADER_SANDBOX if set, else the best this host offers, verified once
    backend, notes = choose()            # the first candidate that passes verify(); why the others did not
    problem = verify("landlock")         # None, or what went wrong

verify() starts a real worker through client.StudentModule and has it try to read canary files outside
its allowlist and write beside them. StudentModule calls backend_for_process() when it was given no
backend; the engine's preflight (grader.engine.preflight) verifies each candidate with the reference.
"""
import os
import tempfile
from pathlib import Path

from . import backends
from .client import StudentModule
from .errors import SandboxFailure, StudentAbort, StudentError
from .limits import Limits

_VERIFIED = {}
# verify() writes a canary file in the current folder (where an instructor's submissions and the kit
# often are) and removes it when it returns. A process killed in between (SIGKILL, a test's timeout)
# leaves it behind: the next verify() in that folder removes those whose process is gone.
CWD_CANARY = ".sandbox-canary-"
CANARY_TEXT = "secret"


def remove_stale_canaries(folder):
    """Remove `folder`'s canary files (CWD_CANARY + pid, holding CANARY_TEXT) whose process has ended."""
    for path in Path(folder).glob(f"{CWD_CANARY}*"):
        pid = path.name[len(CWD_CANARY):]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        try:
            if path.is_file() and not path.is_symlink() and path.read_text() == CANARY_TEXT:
                path.unlink()
        except (OSError, UnicodeDecodeError):
            pass


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
        here = Path.cwd() / f"{CWD_CANARY}{os.getpid()}"
        remove_stale_canaries(here.parent)
        try:
            here.write_text(CANARY_TEXT)
            here.chmod(0o644)
            cwd_canary = [str(here)]
        except OSError:
            cwd_canary = []
        part, root, remote = module
        student = None
        try:
            student = StudentModule(part, root, Limits(start_seconds=30), remote=remote, backend=backend)
            student._ensure_started()
            got = student.probe_sandbox(read=[str(canary), *cwd_canary, *map(str, canaries)], write=[tmp, "/tmp"],
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
            if student is not None:
                student.close()
            for path in cwd_canary:
                Path(path).unlink(missing_ok=True)
    return problem
