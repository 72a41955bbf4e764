"""Before anyone is graded: which sandbox, proven, and an environment that grades the reference right.

    sandbox = preflight.check(allow_unsandboxed=False, out_dir="grades")

1. Backend: the best isolation this host offers (grader.sandbox.backends),
   verified end to end: a worker must start, import numpy, write its scratch
   space, and fail to read canary files outside its allowlist (one in a fresh
   temporary folder, one in the current folder, one in the output folder) and
   the kit's own reference. If no backend passes, grading is refused with a
   message that names the fixes, unless the instructor passed
   --allow-unsandboxed (backend "none", reported everywhere). GRADER_SANDBOX
   asks for one backend instead (still verified; "none" still needs
   --allow-unsandboxed), and a value that names no backend is refused.
2. Environment: the reference MLP (which imports activations, computed by the
   judge over the wire) runs through one worker of that backend, and every
   value must match the reference computed here. Otherwise grading stops
   with an instructor-facing message that names the cause: zeros that blame
   students for a broken install are worse than no grades.

Both are done once per process (the host does not change between batches).
"""
import sys
import tempfile
from pathlib import Path

import numpy as np

from .. import ROOT
from ..sandbox import backends, choice, client
from ..sandbox.client import SandboxFailure, StudentAbort, StudentError
from .staging import reference_functions, stage_package


class GradingRefused(Exception):
    """Grading must not start; str() is the message for the instructor."""


class NoSandbox(GradingRefused):
    """No sandbox works on this host and grading without one was not allowed. `reasons`: why each
    backend is unavailable here (backends.Unavailable); `failed`: ["backend: problem"] for the backends
    that were available but failed their verification. str() is the message for `make grade`; a platform
    that sets the allowance elsewhere (the Gradescope zip) words its own from these."""

    def __init__(self, message, reasons, failed):
        super().__init__(message)
        self.reasons, self.failed = list(reasons), list(failed)

    def causes(self) -> str:
        """Why each backend does not work here, in one phrase."""
        return causes(self.reasons, self.failed)


def causes(reasons, failed) -> str:
    """"backend: cause; ..." for the backends unavailable here and those that failed their verification."""
    return "; ".join([f"{r.backend}: {r.cause}" for r in reasons] + list(failed)) or \
        "neither user namespaces (unshare) nor Landlock is available to this process"


_DONE = {}


def check(allow_unsandboxed: bool = False, out_dir=None, limits=None) -> dict:
    """The sandbox description for results.json, after both checks; raises GradingRefused."""
    key = bool(allow_unsandboxed)
    if key in _DONE:
        return _DONE[key]
    try:
        asked = backends.forced()
    except ValueError as exc:
        raise GradingRefused(f"refusing to grade: {exc}") from None
    if asked == "none" and not allow_unsandboxed:
        raise GradingRefused(
            "refusing to grade: GRADER_SANDBOX=none asks for no sandbox, and grading without one needs "
            "--allow-unsandboxed (make grade ALLOW_UNSANDBOXED=1): student code would run with the grader's "
            "rights. Pass it to grade a batch you trust, or unset GRADER_SANDBOX to use the best sandbox "
            "this host offers.")
    canaries = [ROOT / "solutions" / "mlp.py", ROOT / "grader" / "engine" / "judge.py"]
    out_canary = None
    if out_dir is not None:
        out_canary = Path(out_dir) / ".sandbox-canary"
        try:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            out_canary.write_text("secret")
            out_canary.chmod(0o644)
            canaries.append(out_canary)
        except OSError:
            out_canary = None
    env_problem = {}
    try:
        with tempfile.TemporaryDirectory(prefix="grade-preflight-") as tmp:
            root = stage_package("mlp", ROOT / "solutions" / "mlp.py", Path(tmp) / "pkg")
            module = ("mlp", root, reference_functions("mlp"))
            backend, notes = None, []
            for candidate in backends.candidates():
                if candidate == "none" and not allow_unsandboxed:
                    break

                def environment(student, candidate=candidate):
                    env_problem[candidate] = environment_problem(student)
                    return None
                # One worker per candidate: canaries first, then the reference through it.
                problem = choice.verify(candidate, [str(c) for c in canaries if c.exists()], module,
                                        then=environment)
                if problem is None:
                    backend = candidate
                    break
                notes.append(f"{candidate}: {problem}")
    finally:
        if out_canary is not None:
            out_canary.unlink(missing_ok=True)
    if backend is None and asked is not None:
        raise GradingRefused(
            f"refusing to grade: GRADER_SANDBOX={asked} asks for the {asked} sandbox, and it does not work on "
            f"this host ({'; '.join(notes)}). Unset GRADER_SANDBOX to use the best sandbox this host offers.")
    if backend is None:
        reasons = [r for r in map(backends.why_unavailable, backends.ORDER) if r is not None]
        fixes = [r.fix for r in reasons]
        if notes:
            fixes.append("repair the backend whose verification failed (its problem is above)")
        raise NoSandbox(
            f"refusing to grade: no sandbox works on this host ({causes(reasons, notes)}). Student code would "
            f"run with the grader's rights and could read other submissions, the reference and the outputs. "
            f"Fix: {'; or '.join(dict.fromkeys(fixes))}. To grade a batch you trust anyway, pass "
            f"--allow-unsandboxed (make grade ALLOW_UNSANDBOXED=1); every result then says sandbox \"none\".",
            reasons, notes)
    problem = env_problem.get(backend)
    if problem:
        raise GradingRefused(
            f"refusing to grade: the environment check failed ({problem}). The reference itself does not "
            f"grade correctly in a {backend} worker on this machine, so every student would be marked "
            f"wrong for the machine's fault. Check that numpy is installed for {sys.executable} "
            f"and importable (python -c 'import numpy'), then run `make grade` on the bundled examples.")
    info = backends.describe(backend)
    info["verified"] = "canary files outside the allowlist unreadable; reference graded correctly"
    if notes:
        info["not_used"] = notes
    _DONE[key] = info
    return info


def environment_problem(student: client.StudentModule) -> str | None:
    """None if the reference MLP, run in `student` (a worker of the reference mlp.py, whose activations
    the judge serves), gives the reference's own values."""
    from solutions import mlp
    rng = np.random.default_rng(20261201)
    sizes = (12, 8, 6, 4)
    X = rng.normal(size=(5, 12))
    y = np.array([0, 3, 1, 2, 3])
    expected = {}
    params = mlp.init_params(sizes, seed=3)
    logits, cache = mlp.forward(params, X)
    expected["init_params"] = params
    expected["forward"] = logits
    expected["cross_entropy"] = mlp.cross_entropy(logits, y)
    expected["backward"] = mlp.backward(params, cache, y)
    got = {}
    try:
        got["init_params"] = student.init_params(sizes, seed=3)
        got["forward"], worker_cache = student.forward(got["init_params"], X)
        got["cross_entropy"] = student.cross_entropy(got["forward"], y)
        got["backward"] = student.backward(got["init_params"], worker_cache, y)
    except SandboxFailure as exc:
        return str(exc)
    except (StudentError, StudentAbort) as exc:
        return f"the reference mlp.py, run in a worker, failed: {exc}"
    for name in ("init_params", "forward", "cross_entropy", "backward"):
        a, b = expected[name], got[name]
        if isinstance(a, dict):
            ok = isinstance(b, dict) and set(a) == set(b) and all(
                np.allclose(a[k], b[k], rtol=1e-9, atol=1e-12) for k in a)
        else:
            ok = np.allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)
        if not ok:
            return f"mlp.{name} run in a worker does not match the reference computed by the grader"
    return None
