"""The worker: the only process that runs student code.

Started by grader.sandbox.client with the submission staged as a package
``assignment`` under --root. It imports ``assignment.<part>`` and then serves
calls ("run mlp.backward on these arguments") over two pipes, using the
pickle-free format of protocol.py. It never decides a score: the judge
compares what comes back.

With --sandbox (inside fresh mount, PID and network namespaces made by
`unshare`), it first makes every mount read-only, gives the student a private
tmpfs /tmp, and drops all capabilities, so student code can neither write the
kit's files nor signal processes outside its namespace. Then it sets resource
limits and imports the student's module.

Standard library, numpy and protocol.py only: nothing else of the kit is
importable from here.
"""
import argparse
import ctypes
import gc
import inspect
import os
import random
import resource
import sys
import time
import traceback
import warnings

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 24, 38, 47
MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
               "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}


# The kit's root (this file is <root>/grader/sandbox/worker.py) and what student code must not read.
KIT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KIT_SECRETS = ("solutions", "grader", "tests", ".git", "dist")


def _unescape(path):
    return path.encode().decode("unicode_escape") if "\\" in path else path


def lock_down(libc):
    """Read-only mounts, private tmpfs scratch, no capabilities. Returns notes."""
    notes = []

    def mount(source, target, fstype, flags, data):
        rc = libc.mount(source, target.encode(), fstype, flags, data)
        return rc == 0 or ctypes.get_errno()

    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    with open("/proc/self/mountinfo") as f:
        entries = [line.split() for line in f]
    for fields in sorted(entries, key=lambda x: _unescape(x[4]).count("/")):
        target, options = _unescape(fields[4]), fields[5].split(",")
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in options:
            flags |= MOUNT_FLAGS.get(opt, 0)
        err = mount(None, target, None, flags, None)
        if err is not True:
            notes.append(f"remount {target} read-only: errno {err}")
    # Readable is not harmless: a module that execs solutions/mlp.py would score what the reference
    # scores. Hide the kit's own folders (the reference, the hidden suites, the tests and their
    # catalog, git's history of all of them, built zips) behind empty read-only tmpfs, before /tmp
    # is covered, so that a kit cloned under /tmp is hidden too.
    for folder in KIT_SECRETS:
        path = os.path.join(KIT_ROOT, folder)
        if os.path.isdir(path):
            err = mount(b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=0555")
            if err is not True:
                notes.append(f"hide {path}: errno {err}")
    for scratch in ("/tmp", "/dev/shm", "/var/tmp"):
        if os.path.isdir(scratch):
            err = mount(b"tmpfs", scratch, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=256m,mode=1777")
            if err is not True:
                notes.append(f"tmpfs on {scratch}: errno {err}")
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, 4, 0, 0, 0)
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    if libc.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()) != 0:
        notes.append(f"capset: errno {ctypes.get_errno()}")
    with open("/proc/self/status") as f:
        cap_eff = [line.split()[1] for line in f if line.startswith("CapEff:")]
    if cap_eff and int(cap_eff[0], 16) != 0:
        notes.append(f"capabilities still held: {cap_eff[0]}")
    return notes


def set_limits(memory_bytes, output_bytes, cpu_seconds):
    for which, soft, hard in ((resource.RLIMIT_AS, memory_bytes, memory_bytes), (resource.RLIMIT_CORE, 0, 0),
                              (resource.RLIMIT_FSIZE, output_bytes, output_bytes),
                              # SIGXCPU at the soft limit, SIGKILL (not ignorable) 5 s later
                              (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds and cpu_seconds + 5)):
        if soft is None:
            continue
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass


def safe_str(obj, limit=500):
    try:
        text = str(obj)
    except BaseException:  # a student's exception whose __str__ itself fails
        text = "<unprintable>"
    return text if len(text) <= limit else text[:limit] + " ..."


def describe_exception(exc, student_path):
    """Type, message and the student's own frames (exactly their file, nothing else)."""
    frames = []
    for fs in traceback.extract_tb(exc.__traceback__):
        if fs.filename == student_path:
            frames.append([os.path.basename(fs.filename), fs.lineno, fs.name, (fs.line or "")[:200]])
    return {
        "type": type(exc).__name__,
        "message": safe_str(exc),
        "frames": frames[-5:],
        "not_implemented": isinstance(exc, NotImplementedError),
    }


class Server:
    def __init__(self, channel, module, student_path, np):
        self.channel = channel
        self.module = module
        self.student_path = student_path
        self.np = np
        self.handles = {}
        self.next_handle = 1

    def store(self, obj):
        hid = self.next_handle
        self.next_handle += 1
        self.handles[hid] = obj
        return hid

    def resolve(self, hid):
        if hid not in self.handles:
            raise KeyError(f"unknown handle {hid}")
        return self.handles[hid]

    def serve(self, protocol):
        while True:
            try:
                request = self.channel.recv(resolve_handle=self.resolve)
            except protocol.ProtocolError:
                return
            except KeyError:
                self.channel.send({"kind": "error", "error": {
                    "type": "LookupError", "frames": [], "not_implemented": False,
                    "message": "an object your code returned earlier (a cache?) was lost "
                               "when your process was restarted"}})
                continue
            op = request.get("op")
            if op == "reset":
                self.handles.clear()
                gc.collect()
                self.channel.send({"kind": "ok", "value": None})
            elif op == "call":
                self.channel.send(self.call(request), store_handle=self.store)
            elif op == "exit":
                return
            else:
                self.channel.send({"kind": "error", "error": {"type": "ProtocolError",
                                   "message": "unknown op", "frames": [], "not_implemented": False}})

    def call(self, request):
        np = self.np
        name = request["fn"]
        fn = getattr(self.module, name, None)
        if fn is None or not callable(fn):
            return {"kind": "missing", "name": name}
        args = list(request.get("args") or ())
        kwargs = dict(request.get("kwargs") or {})
        opts = request.get("opts") or {}
        np.random.seed(0)
        random.seed(0)
        caught = []
        counts, originals = {}, {}
        if opts.get("count_calls"):
            originals = self.count_calls(counts)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    np.errstate(**(opts.get("errstate") or {})):
                warnings.simplefilter("always")
                value = fn(*args, **kwargs)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: they are the student's
            return {"kind": "error", "error": describe_exception(exc, self.student_path),
                    "seconds": time.perf_counter() - start}
        finally:
            for name, original in originals.items():
                setattr(self.module, name, original)
        seconds = time.perf_counter() - start
        reply = {"kind": "ok", "value": value, "seconds": seconds,
                 "warnings": sorted({safe_str(w.message, 200) for w in caught or []})[:5]}
        if opts.get("return_args"):
            reply["value"] = (value, args, kwargs)
        if opts.get("count_calls"):
            reply["calls"] = counts
        return reply

    def count_calls(self, counts):
        """Wrap the module's own functions so that calls to them are counted
        (a heuristic for finite differences dressed up as backward)."""
        originals = {}
        for name, obj in list(vars(self.module).items()):
            if inspect.isfunction(obj) and getattr(obj, "__module__", None) == self.module.__name__:
                def counted(*a, _f=obj, _n=name, **k):
                    counts[_n] = counts.get(_n, 0) + 1
                    return _f(*a, **k)
                originals[name] = obj
                setattr(self.module, name, counted)
        return originals


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--part", required=True)
    parser.add_argument("--fds", required=True)
    parser.add_argument("--sandbox", action="store_true")
    parser.add_argument("--memory", type=int, default=None)
    parser.add_argument("--output", type=int, default=None)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    read_fd, write_fd = (int(x) for x in args.fds.split(","))

    notes = []
    root_fd = os.open(args.root, os.O_RDONLY | os.O_DIRECTORY)
    # Import before the lock-down: it covers /tmp with a private tmpfs, and the
    # kit itself (or a clone of it, as in CI) may live under /tmp.
    import numpy as np
    import protocol
    if args.sandbox:
        libc = ctypes.CDLL(None, use_errno=True)
        notes = lock_down(libc)
        os.chdir("/tmp")
    set_limits(args.memory, args.output, args.cpu)

    sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
    sys.modules.pop("protocol", None)
    channel = protocol.Channel(read_fd, write_fd)
    root = f"/proc/self/fd/{root_fd}"
    sys.path.insert(0, root)
    sys.path.insert(1, os.path.join(root, "assignment"))
    sys.dont_write_bytecode = True
    student_path = os.path.join(root, "assignment", f"{args.part}.py")

    np.random.seed(0)
    random.seed(0)
    try:
        import importlib
        module = importlib.import_module(f"assignment.{args.part}")
    except BaseException as exc:  # SyntaxError, SystemExit, anything at import time
        error = describe_exception(exc, student_path)
        if isinstance(exc, SyntaxError):
            error["message"] = safe_str(exc.msg)
            error["frames"] = ([[f"{args.part}.py", exc.lineno or 0, "<module>", (exc.text or "").rstrip()[:200]]]
                               if exc.filename == student_path else [])
        channel.send({"kind": "import_error", "error": error, "notes": notes})
        return
    functions = {}
    for name, obj in vars(module).items():
        if inspect.isfunction(obj) and not name.startswith("_"):
            try:
                functions[name] = str(inspect.signature(obj))[:300]
            except (TypeError, ValueError):
                functions[name] = "(...)"
    channel.send({"kind": "ready", "functions": functions, "notes": notes, "pid": os.getpid()})
    Server(channel, module, student_path, np).serve(protocol)


if __name__ == "__main__":
    main()
