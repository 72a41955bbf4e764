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
offers, and choice.verify() proves it before anything untrusted runs.

Beside it: workerproc.py (the worker process: starting it, its watchdog,
killing its tree), arena.py (the shared memory that carries every call's
arguments), choice.py (choosing a backend and verifying it), limits.py
(Limits, what an instructor may change), errors.py (what a call can end in,
as types), proctree.py (finding and killing a process tree), scratch.py (a
worker's scratch folder). The names of limits.py and errors.py are
re-exported here for the code that imports them from this module.
"""
import collections
import functools
import os
import re
import time
from pathlib import Path

import numpy as np

from . import meter, protocol
from .arena import _Placer
from .errors import (BadReturn, HostOverloaded, ImportFailed, MissingFunction, NotImplementedYet,  # noqa: F401
                     OverBudget, SandboxFailure, StudentAbort, StudentCrashed, StudentError, StudentRaised,
                     StudentTimeout)
from .limits import KIT_CALL_SECONDS, UNCALIBRATED_SECONDS, Limits, limits_from  # noqa: F401
from .workerproc import Worker


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


class StudentModule:
    """Proxy for assignment/<part>.py. Attribute access gives callables.

    remote: {module: {name: callable}}, the functions the student's module may import from other
    modules; they run here, never in the worker. clean: applied to every student-made string that
    goes into a message (the kit passes its filter for hidden code). calibration: {test id: seconds
    the reference's calls take in that test on this host}, from which each test's limit follows
    (Limits.for_test)."""

    def __init__(self, part, package_root, limits=None, remote=None, clean=None, backend=None, own=None,
                 calibration=None):
        self.part = part
        self.package_root = Path(package_root)
        self.limits = limits or Limits()
        self.remote = remote or {}
        # own: {module: check(call) -> (functions that differ, note)}: modules of `remote` staged from
        # the student's own file. Each function that check() finds behaving like the reference runs as
        # it is (fast: no call leaves the worker); the judge serves the others. A module that cannot be
        # checked (it does not import, hangs, crashes) is served by the judge as a whole.
        self.own = {m: check for m, check in (own or {}).items() if m in self.remote}
        self.own_source = {m: self._package_file(m).read_bytes() for m in self.own
                           if self._package_file(m).is_file()}
        # What the judge serves, module by module: the one record that both stages the files the
        # worker imports (_stage_dependencies) and says what was used (dependency_modes).
        self.served = {m: (set() if m in self.own_source else set(fns)) for m, fns in self.remote.items()}
        self.own_verified = set()
        self.own_notes = {}
        self.stand_ins = {}              # {name: function}: the part's own functions the judge computes instead
        self._own_part = None            # the part's file as submitted, once stand_in rewrote it
        self.clean = clean
        self.backend = backend
        self.calibration = dict(calibration or {})
        self.worker = None
        self.functions = None            # name -> signature, once imported
        self.sandbox = {}                # what the worker reported about its isolation
        self.fatal = None                # an import problem: every call fails with it
        self.test_ending_failure = None  # a timeout in this test: later calls fail fast
        self.timeouts = 0
        self.crashes = 0
        self.overloaded = 0              # tests stopped by the wall-clock backstop (not graded)
        self.remote_calls = collections.Counter()    # stub calls served during the current call
        self.mutations = []              # (call, argument index) of every call that changed an argument
        self.test_id = None
        self.test_limit = self.limits.for_test()
        self.test_reference = None
        self.test_charged = 0.0          # the student's seconds in the current test's calls (meter.charged)
        self.test_cpu = 0.0
        self.test_wall = 0.0             # wall-clock seconds inside those calls
        self.last_seconds = 0.0          # what the last call was charged
        self.charged = 0.0               # ... all calls of the part
        self.cpu_seconds = 3600          # the worker's own RLIMIT_CPU backstop (set by the judge)
        self._serving = 0.0              # the judge's seconds serving calls, in the current request

    # -- what is served -------------------------------------------------
    def _package_file(self, module):
        return self.package_root / "assignment" / f"{module}.py"

    def dependency_modes(self):
        """{module: "own", "reference" or "own, except f, g (reference)"}: how the modules the part
        imports were provided (read off self.served, which also wrote the files the worker imported)."""
        def mode(m):
            served = self.served[m]
            if m not in self.own_source or served >= set(self.remote[m]):
                return "reference"
            return f"own, except {', '.join(sorted(served))} (reference)" if served else "own"
        return {m: mode(m) for m in self.remote}

    def _stage_dependencies(self):
        """Write assignment/<module>.py for every module the part may import, as self.served says: the
        student's own file as it is; their file with the served functions rebound at its end to stubs
        the judge computes; or, with everything served, a file of stubs only. However the student's
        code reaches the module (`from .activations import ...`, `import activations`, importlib, a
        path), it gets what the judge decided to serve."""
        for module, functions in self.remote.items():
            served = sorted(self.served[module])
            own = self.own_source.get(module)
            if own is not None and len(served) < len(functions):
                text = own
                if served:
                    text += ("\n\n# Added by the grader: these functions of yours did not behave like the reference,"
                             "\n# so while it grades another part the grader computes them outside your process.\n"
                             "from _sandbox_remote import function as _grader_served  # noqa: E402\n").encode()
                    text += "".join(f"{fn} = _grader_served({module!r}, {fn!r})\n" for fn in served).encode()
            else:
                text = (f'"""{module}: computed by the grader, outside your process."""\n'
                        f"from _sandbox_remote import function as _grader_served\n\n").encode()
                text += "".join(f"{fn} = _grader_served({module!r}, {fn!r})\n" for fn in sorted(functions)).encode()
            path = self._package_file(module)
            if not path.exists() or path.read_bytes() != text:
                tmp = path.with_name(f".{module}.staging")
                tmp.write_bytes(text)
                tmp.chmod(0o644)
                os.replace(tmp, path)

    def stand_in(self, functions):
        """From the next call on, the part's own functions named in `functions` ({name: function}) are
        computed here, by those functions, instead of by the student's code: their names are rebound at
        the end of the student's file to stubs the judge serves, as for another part's functions. So a
        function that calls them (fit calling backward) runs on them, and its own code is what is
        graded. {} gives the student's own functions back. The worker restarts when this changes, so no
        call runs half on one and half on the other. Returns whether the stand-ins are in effect: not
        where the part's file did not import (or was not submitted), since every call fails as it is."""
        functions = dict(functions)
        if self.fatal is not None:
            return False                  # the file did not import: appending to it changes nothing
        if functions.keys() == self.stand_ins.keys():
            self.stand_ins = functions
            return bool(functions)
        path = self._package_file(self.part)
        if self._own_part is None:
            if not path.is_file():
                return False              # nothing submitted: every call fails as it is
            self._own_part = path.read_bytes()
        text = self._own_part
        if functions:
            text += ("\n\n# Added by the grader: these functions of yours failed their own tests, so while it "
                     "grades the\n# functions that call them, the grader computes them outside your process.\n"
                     "from _sandbox_remote import function as _grader_served  # noqa: E402\n").encode()
            text += "".join(f"{fn} = _grader_served({self.part!r}, {fn!r})\n" for fn in sorted(functions)).encode()
        tmp = path.with_name(f".{self.part}.staging")
        tmp.write_bytes(text)
        tmp.chmod(0o644)
        os.replace(tmp, path)
        self.stand_ins = functions
        self._restart()
        return bool(functions)

    def _serve_all(self, module, note):
        self.served[module] = set(self.remote[module])
        self.own_notes[module] = str(note)[:300]

    def _restart(self):
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    @property
    def sandboxed(self):
        return None if self.backend is None else self.backend != "none"

    # -- test lifecycle --------------------------------------------------
    def begin_test(self, test_id=None):
        """A new test starts: its own time limit (from the calibration), a clean slate of handles."""
        self.test_ending_failure = None
        self.test_id = test_id
        self.test_reference = self.calibration.get(test_id)
        self.test_limit = self.limits.for_test(self.test_reference)
        self.test_charged = self.test_cpu = self.test_wall = 0.0
        if self.worker is not None and self.worker.proc.poll() is None:
            try:
                self._request({"op": "reset"}, "reset", charge=False)
            except (StudentError, StudentAbort):
                pass
            if self.worker is not None:
                self.worker.arena.reset()

    def test_time(self):
        """What the current test's calls used, its limit and the calibration it came from (results.json)."""
        return {"seconds": round(self.test_charged, 4), "cpu_seconds": round(self.test_cpu, 4),
                "limit": round(self.test_limit, 4),
                "reference": None if self.test_reference is None else round(self.test_reference, 4)}

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
        if self.overloaded:
            return "not graded"
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

    def signature(self, name):
        """The student's function `name`'s signature as text, e.g. "(x, alpha=0.01)"; "" if there is none."""
        self._ensure_started()
        return (self.functions or {}).get(name, "")

    def probe_sandbox(self, read=(), write=(), walk=False, skip=(), scratch=False):
        """Ask the worker what it can reach (its own code, not the student's): see worker.probe_sandbox."""
        self._ensure_started()
        reply = self._request({"op": "probe_sandbox", "value": {"read": list(read), "write": list(write),
                                                                "walk": walk, "skip": list(skip)}},
                              f"{self.part}: sandbox probe", charge=False, limit=max(KIT_CALL_SECONDS, 120))
        value = reply.get("value") or {}
        if scratch:
            scratch_ok = self._request({"op": "probe_sandbox", "value": {"write": ["."]}}, "probe", charge=False)
            value["scratch"] = bool((scratch_ok.get("value") or {}).get("writable"))
        return value

    def call(self, name, *args, _errstate=None, _return_args=False, _module=None, _budget=None, **kwargs):
        """Run <part>.<name>(*args, **kwargs) in the worker and return its value.

        Every call looks the same to the student's code, whatever the test checks with it: its
        arrays arrive in shared memory, numpy's error state is numpy's default, warnings are
        recorded, and the arguments come back as the call left them.

        _errstate: {"over": "raise", ...}: a floating-point error of those kinds during the call (a
            numpy warning the worker recorded) fails the call as if numpy had raised it.
        _return_args: return (value, args, kwargs) as they are after the call. Arrays are read back
            from the shared memory here, so an in-place change is seen whatever the worker reports;
            other changes (a dict entry replaced) come from the worker's report.
        _budget: seconds of the student's time this call may use (within what is left of the test's own
            limit); past them it is stopped and OverBudget raised, and the test goes on. A check that
            compares a call's time with another's (backprop, not finite differences) needs no more.
        Every call's in-place changes to its arrays are also recorded in self.mutations.
        """
        label = f"{self.part}.{name}"
        if self.test_ending_failure:
            raise self.test_ending_failure
        self._ensure_started()
        message = {"op": "call", "fn": name, "args": list(args), "kwargs": kwargs}
        if _module is not None:                       # a function of another module of the package
            message.update(op="call_in", module=_module)
            label = f"{_module}.{name}"
        arena = self.worker.arena
        start = len(arena.placed)
        reply = self._request(message, label, arena_start=start, charge=_module is None, budget=_budget)
        kind = reply.get("kind")
        if kind == "ok":
            changed = arena.changed(start)
            if changed and _module is None:
                self.mutations.append((name, self._changed_inputs(name, args, kwargs, [i - start for i in changed],
                                                                  len(arena.placed) - start)))
            if _errstate:
                self._raise_fp_error(name, reply.get("warnings"), _errstate)
            if _return_args:
                return self._args_after(reply, args, kwargs, arena, start, changed)
            return reply.get("value")
        if kind == "missing":
            raise MissingFunction(f"{self.part}.py has no function {name}(): "
                                  f"define it with the name and arguments the assignment gives")
        if kind == "error":
            raise self._student_exception(name, reply.get("error") or {})
        raise BadReturn(f"{label}: the process running your code sent a malformed reply")

    def _changed_inputs(self, name, args, kwargs, changed, placed):
        """How a message names the arguments at `changed` (indices into the call's shared arrays, in the order
        the wire format placed them): "x" for the first parameter of f(x), "params['W1']" for an entry."""
        paths = []

        def walk(value, path):
            if isinstance(value, np.ndarray) and value.dtype.kind in protocol.ALLOWED_KINDS:
                paths.append(path)
            elif isinstance(value, (tuple, list)):
                for i, item in enumerate(value):
                    walk(item, path + (i,))
            elif isinstance(value, dict):
                for key, item in value.items():
                    walk(item, path + (key,))
        for i, value in enumerate(args):
            walk(value, (i,))
        for key, value in kwargs.items():
            walk(value, (key,))
        if len(paths) != placed:                  # an array travelled by pipe: the order is not known
            return ["an input"]
        signature = (self.functions or {}).get(name, "")
        params = [identifier(p.split("=")[0].strip().lstrip("*"), "?") for p in signature.strip("()").split(",")]
        out = []
        for index in changed:
            first, *rest = paths[index]
            head = params[first] if isinstance(first, int) and first < len(params) and params[first] else \
                identifier(first, "an input") if not isinstance(first, int) else f"argument {first + 1}"
            out.append(head + "".join(f"[{identifier(k)!r}]" if isinstance(k, str) else f"[{k}]" for k in rest))
        return out

    _FP_KINDS = {"over": "overflow", "invalid": "invalid value", "divide": "divide by zero", "under": "underflow"}

    def _raise_fp_error(self, name, warnings, errstate):
        """The call recorded a numpy floating-point warning of a kind `errstate` raises: fail as numpy
        would have (FloatingPointError, where in the student's file)."""
        kinds = [self._FP_KINDS[k] for k, v in errstate.items() if v == "raise" and k in self._FP_KINDS]
        for item in warnings if isinstance(warnings, list) else []:
            if not (isinstance(item, list) and len(item) == 3):
                continue
            text, filename, line = item
            text = str(text)[:200]
            if not any(text.startswith(kind) for kind in kinds):
                continue
            where = self._where({"frames": [[filename, line, self._function_at(filename, line)]]})
            raise StudentRaised(f"{self.part}.{name} raised FloatingPointError: {self._text(text, 200)}{where}",
                                {"type": "FloatingPointError", "message": text})

    def _function_at(self, filename, line):
        """The name of the function of the student's staged file that holds `line` (read here)."""
        import ast
        try:
            tree = ast.parse(self._package_file(self.part).read_text(encoding="utf-8", errors="replace"))
            line = int(line)
        except (OSError, SyntaxError, ValueError, TypeError):
            return "?"
        best = "<module>"
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    node.lineno <= line <= (node.end_lineno or node.lineno):
                best = node.name
        return best

    def _args_after(self, reply, args, kwargs, arena, start, changed):
        """(value, args, kwargs) after a call: as the worker reports them, unless the shared memory
        shows an in-place change; then the judge's own arguments holding what the memory holds."""
        value, reported_args, reported_kwargs = reply.get("value"), reply.get("args"), reply.get("kwargs")
        if not isinstance(reported_args, list) or not isinstance(reported_kwargs, dict):
            raise BadReturn(f"{self.part}: the process running your code sent a malformed reply")
        count = len(arena.placed) - start
        if not changed:
            def resolve(v):            # the arrays as the shared memory holds them, never as reported
                if isinstance(v, protocol.SharedRef):
                    if not 0 <= v.index < count:
                        raise BadReturn(f"{self.part}: the process running your code sent a malformed reply")
                    return arena.now(start + v.index)
                if isinstance(v, tuple):
                    return tuple(resolve(x) for x in v)
                if isinstance(v, list):
                    return [resolve(x) for x in v]
                if isinstance(v, dict):
                    return {k: resolve(x) for k, x in v.items()}
                return v
            return value, resolve(reported_args), resolve(reported_kwargs)
        counter = iter(range(start, len(arena.placed)))

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
        path = self._package_file(self.part)
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

    # -- starting the worker ---------------------------------------------------
    def _ensure_started(self):
        try:
            self._start()
        except (ImportFailed, StudentTimeout) as exc:
            unserved = [m for m in self.remote if len(self.served[m]) < len(self.remote[m])]
            if not unserved:
                raise
            # The student's own dependency may be what failed to import: never let it cost this part.
            for module in unserved:
                self._serve_all(module, f"not used: {str(exc)[:200]}")
                self.own_verified.add(module)
            self.fatal = None
            self.test_ending_failure = None
            self._restart()
            self._start()

    def _start(self):
        if self.fatal:
            raise self.fatal
        if self.worker is not None and self.worker.proc.poll() is None:
            return
        if self.worker is not None:
            self.worker.kill()
            self.worker = None
        if self.backend is None:
            from .choice import backend_for_process     # here: choice.py verifies with a StudentModule
            self.backend = backend_for_process()
        self._stage_dependencies()
        try:
            self.worker = Worker(self.part, self.package_root, self.limits, self.backend, self.cpu_seconds)
        except (OSError, RuntimeError) as exc:
            what = _exhausted(exc)
            if what:                # the machine, not the sandbox nor the student: this test is graded again
                self.overloaded += 1
                self.test_ending_failure = HostOverloaded(
                    f"not graded: the grading machine ran out of {what} while starting the process that runs your "
                    f"code; this is not your fault, and the test is graded again")
                raise self.test_ending_failure from None
            self.fatal = SandboxFailure(f"the grader could not start a sandboxed worker ({self.backend}): {exc}")
            raise self.fatal from None
        except SandboxFailure as exc:
            self.fatal = SandboxFailure(f"the grader could not start a sandboxed worker ({self.backend}): {exc}")
            raise self.fatal from None
        importing = False
        try:
            # The kit's own start (the interpreter, numpy, the lock-down) is not the student's: only a
            # machine too busy to finish it within KIT_CALL_SECONDS stops it, and then nothing is graded.
            reply = self._exchange(self.worker, None, KIT_CALL_SECONDS, self.limits.backstop(KIT_CALL_SECONDS))[0]
            if reply.get("kind") == "importing":       # the student's import, on the student's clock
                importing = True
                reply = self._exchange(self.worker, None, self.limits.start_seconds,
                                       self.limits.backstop(self.limits.start_seconds))[0]
        except _Expired as expired:
            self.worker.kill()
            # Either way the test is not graded (and graded again): counted, so that status() says so.
            if not importing:
                self.overloaded += 1
                self.test_ending_failure = HostOverloaded(
                    f"not graded: the grading machine was too busy to start the process that runs your code within "
                    f"{KIT_CALL_SECONDS:g} s; this is not your fault, and the test is graded again")
                raise self.test_ending_failure from None
            if expired.overloaded:
                expired.limit = self.limits.start_seconds
                self.overloaded += 1
                self.test_ending_failure = HostOverloaded(self._overload_message(f"importing {self.part}.py", expired))
                raise self.test_ending_failure from None
            self.fatal = ImportFailed(
                f"importing {self.part}.py did not finish within {self.limits.start_seconds:g} s: is there a "
                f"loop or a long computation at module level (outside any function)?")
            raise self.fatal from None
        except protocol.ProtocolError:
            how = self.worker.exit_description()
            output = self._text(self.recent_output(300).strip(), 300)
            self.worker.kill()
            detail = f" Last output: {output!r}" if output else ""
            self.fatal = ImportFailed(f"{self.part}.py could not be imported: {how}.{detail}")
            raise self.fatal from None
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
        self.worker.refresh_members()           # the meter reads the whole tree from the first call on
        self.worker.find_wrappers()
        self._verify_own()

    def _verify_own(self):
        """Check each of the student's own dependency modules in use, once per part: a function that
        does not behave like the reference is served by the judge from then on (the worker starts
        again with the module staged so). A module the check cannot use (it hangs, crashes or its
        replies are refused) is served whole; the check never runs twice."""
        pending = [m for m in sorted(self.own) if m not in self.own_verified and not self.served[m]]
        changed = False
        for module in pending:
            self.own_verified.add(module)
            try:
                bad, note = self.own[module](functools.partial(self.call, _module=module))
            except (StudentAbort, StudentError) as exc:
                bad, note = set(self.remote[module]), str(exc)
            except HostOverloaded:
                self._serve_all(module, "not checked: the grading machine was too busy")
                raise
            finally:
                self.test_ending_failure = None
            if bad:
                self.served[module] = set(bad) & set(self.remote[module]) or set(self.remote[module])
                self.own_notes[module] = str(note)[:300]
                changed = True
        if changed:
            self._restart()
            self._start()

    # -- one request, on the student's clock -----------------------------------------
    def _overload_message(self, label, expired):
        return (f"not graded: the grading machine was too busy to finish {label} within the wall-clock "
                f"backstop ({expired.wall:.0f} s), although your code had used only {expired.charged:.1f} s of "
                f"its {expired.limit:.1f} s; this is not your fault, and the test is graded again")

    def _limit_message(self, label, charged, cpu, limit):
        if self.limits.test_seconds is not None:
            rule = f"each test may use {self.limits.test_seconds:g} s"
        else:
            rule = (f"each test may take {self.limits.multiple:g}x the time the reference needs for it, and at "
                    f"least {self.limits.floor_seconds:g} s")
        waiting = cpu < 0.5 * charged
        what = (" It spent most of that time waiting (time.sleep? a blocking read?), not computing."
                if waiting else " An endless loop, or much slower than needed?")
        return f"{label} went past this test's time limit and was stopped ({rule}).{what}"

    def _request(self, message, label, arena_start=None, charge=True, limit=None, budget=None):
        """Send `message` to the worker, serve the callbacks it causes, return the reply. The student's
        time (meter.charged) counts against the current test's limit (charge) or, for the kit's own
        requests, against `limit` alone; a charged call with a `budget` is also stopped past it
        (OverBudget, the test goes on)."""
        worker = self.worker
        if charge:
            limit = self.test_limit
            left = limit - self.test_charged
            wall_left = self.limits.backstop(limit) - self.test_wall
        else:
            limit = KIT_CALL_SECONDS if limit is None else limit
            left, wall_left = limit, self.limits.backstop(limit)
        capped = charge and budget is not None and budget < left
        try:
            reply, spent, cpu, wall = self._exchange(worker, message, budget if capped else left, wall_left,
                                                     arena_start)
        except _Expired as expired:
            worker.kill()
            self.worker = None
            expired.limit = limit
            if charge:
                self.test_charged += expired.charged
                self.test_cpu += expired.cpu
                self.test_wall += expired.wall
            if capped and not expired.overloaded:
                self.last_seconds = expired.charged
                self.charged += expired.charged
                raise OverBudget(f"{label} used its {budget:.2f} s and was stopped") from None
            if expired.overloaded:
                self.overloaded += 1
                self.test_ending_failure = HostOverloaded(self._overload_message(label, expired))
            else:
                self.timeouts += 1
                used, used_cpu = (self.test_charged, self.test_cpu) if charge else (expired.charged, expired.cpu)
                self.test_ending_failure = StudentTimeout(self._limit_message(label, used, used_cpu, limit))
            raise self.test_ending_failure from None
        except protocol.ProtocolError as exc:
            if worker.proc.poll() is None and "closed" not in str(exc) and not (
                    worker.memory_killed or worker.threads_killed or worker.scratch_killed):
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
        if worker.scratch_over():
            worker.kill()
            how = worker.exit_description()
            self.worker = None
            self.crashes += 1
            raise StudentCrashed(f"the process running your code stopped after {label}: {how}")
        self.last_seconds = spent
        if charge:
            self.charged += spent
            self.test_charged += spent
            self.test_cpu += cpu
            self.test_wall += wall
            if spent > left:       # it returned, but after its time: the same verdict as being stopped
                self.timeouts += 1
                self.test_ending_failure = StudentTimeout(
                    self._limit_message(label, self.test_charged, self.test_cpu, limit))
                raise self.test_ending_failure
        return reply

    def _exchange(self, worker, message, left, wall_left, arena_start=None):
        """Send `message` (None: wait for the worker's first message) and return (reply, charged, cpu,
        wall), serving callbacks meanwhile. Raises _Expired when the call uses more than `left` seconds
        of the student's time, or `wall_left` seconds of wall time (overloaded unless it had used
        its time)."""
        before = meter.Snapshot.take(worker.metered(), worker.meter)
        deadline = before.wall + max(0.0, wall_left)
        self.remote_calls = collections.Counter()
        self._serving = 0.0
        try:
            if message is not None:
                if arena_start is not None:
                    worker.channel.send(message, deadline=deadline, place_array=_Placer(worker.arena, arena_start),
                                        shared=lambda: worker.arena.specs(arena_start))
                else:
                    worker.channel.send(message, deadline=deadline)
            return self._exchange_loop(worker, before, deadline, left)
        except TimeoutError:         # the backstop came while a message was half sent or half read
            snap = meter.Snapshot.take(worker.metered(), worker.meter)
            spent, cpu = meter.charged(before, snap, self._serving)
            raise _Expired(spent, cpu, snap.wall - before.wall, overloaded=spent <= left) from None

    def _exchange_loop(self, worker, before, deadline, left):
        self._serving = serving = 0.0
        check_at = before.wall + min(max(left, 0.0), CHECK_SECONDS)
        while True:
            now = time.monotonic()
            if now >= check_at or now >= deadline:
                worker.refresh_members()
                snap = meter.Snapshot.take(worker.metered(), worker.meter)
                spent, cpu = meter.charged(before, snap, serving)
                if spent > left or snap.wall >= deadline:
                    raise _Expired(spent, cpu, snap.wall - before.wall, overloaded=spent <= left)
                check_at = snap.wall + max(MIN_CHECK_SECONDS, min(left - spent, CHECK_SECONDS))
                continue
            if not worker.channel.readable(min(check_at, deadline) - now):
                continue
            message_in = worker.channel.recv(deadline=deadline,
                                             resolve_shared=worker.arena.served_reader(MAX_SERVED_BYTES),
                                             callback_bytes=MAX_SERVED_BYTES)
            if message_in.get("kind") == "callback":
                served = time.monotonic()
                reply = self._serve_remote(message_in)
                serving += time.monotonic() - served
                self._serving = serving
                # compact when it fits; large arrays in shared memory
                worker.channel.send_reply(reply, deadline=deadline, place_array=worker.arena.served_placer())
                continue
            after = meter.Snapshot.take(worker.metered(), worker.meter)
            spent, cpu = meter.charged(before, after, serving)
            return message_in, spent, cpu, after.wall - before.wall

    def _serve_remote(self, message):
        module, name = str(message.get("module")), str(message.get("fn"))
        function = self.stand_ins.get(name) if module == self.part else self.remote.get(module, {}).get(name)
        if function is None:
            return {"op": "callback_reply", "kind": "error",
                    "error": {"type": "AttributeError", "message": f"{module} has no function {name[:60]}"}}
        self.remote_calls[f"{module}.{name}"] += 1
        if "oversize" in message:              # read and dropped by the channel: never in the judge's memory
            return {"op": "callback_reply", "kind": "error", "error": {"type": "ValueError", "message": (
                f"the grader computes {module}.{name} for at most {MAX_SERVED_BYTES >> 20} MiB of arguments per "
                f"call; this call passed {int(message['oversize']) >> 20} MiB (the assignment's arrays are far "
                f"smaller)")}}
        numbers = _served_numbers([*(message.get("args") or []), *(message.get("kwargs") or {}).values()])
        if numbers > MAX_SERVED_NUMBERS:       # the judge's own memory: what a served call may make it hold
            return {"op": "callback_reply", "kind": "error", "error": {"type": "ValueError", "message": (
                f"the grader computes {module}.{name} for at most {MAX_SERVED_NUMBERS:,} numbers per call; this "
                f"call passed {numbers:,} (the assignment's arrays are far smaller)")}}
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


def _served_numbers(values):
    """The numbers in a served call's arguments, an array's as often as the call names it (a frame may name one
    array many times, in a list the reference turns into one array): what the reference may be asked to hold."""
    total, stack = 0, list(values)
    while stack:
        v = stack.pop()
        if isinstance(v, np.ndarray):
            total += int(v.size)
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        else:
            total += 1
    return total


# A served call's arrays, all together: 4,194,304 numbers, 32 MB as float64. The assignment's largest is
# a hidden layer over the whole MNIST sample (4,000 x 256 = 1M); even the sample's whole input matrix
# (4,000 x 784) fits. The reference activations make a few temporaries of that size, so a served call
# costs the judge at most about 0.2 GB, whatever its dtype (an int8 argument is converted to float64).
MAX_SERVED_NUMBERS = 4 << 20
# ... and their bytes, read before anything else: a larger callback is read and dropped by the channel, so
# that no argument, however it would grow, is ever held by the judge (4M float64 numbers and their frame).
MAX_SERVED_BYTES = MAX_SERVED_NUMBERS * 8 + (1 << 20)


def _exhausted(exc):
    """What the machine ran out of, for an error that says so (fork's EAGAIN, ENOMEM, no descriptors
    or disk left, no thread left to start), else None."""
    import errno
    names = {errno.EAGAIN: "processes", errno.ENOMEM: "memory", errno.EMFILE: "file descriptors",
             errno.ENFILE: "file descriptors", errno.ENOSPC: "disk space"}
    if isinstance(exc, OSError) and exc.errno in names:
        return names[exc.errno]
    if isinstance(exc, RuntimeError) and "thread" in str(exc):
        return "threads"
    return None


CHECK_SECONDS = 0.5           # how often a running call's time is read (it is also read when the call ends)
MIN_CHECK_SECONDS = 0.01


class _Expired(Exception):
    """A call used its time (or reached the wall-clock backstop first: overloaded)."""

    def __init__(self, charged, cpu, wall, overloaded):
        super().__init__()
        self.charged, self.cpu, self.wall, self.overloaded = charged, cpu, wall, overloaded
        self.limit = None
