"""Which isolation this host offers the worker, and the pieces each backend needs.

    backend = backends.select()                 # probe once per process: "namespaces", "landlock" or "none"
    backends.describe(backend)                  # {"backend": ..., "enforces": [...], "cannot": [...]}

Probing only says what the kernel lets this process do; choice.py then
verifies the chosen backend end to end (a worker must fail to read a canary
file outside its allowlist) before anything untrusted runs.

- namespaces: `unshare` (util-linux) can make mount, PID and network
  namespaces, as root or through an unprivileged user namespace.
- landlock: the kernel offers Landlock (Linux >= 5.13, the LSM enabled, and
  no seccomp filter refusing its system calls).
- none: neither. Grading refuses to start unless the instructor allows it.

As root (the capabilities to change uid and gid), every worker also runs as
a uid and gid of its own (UidSlot), so that RLIMIT_NPROC bounds its
processes, it cannot signal anyone else's, and its whole tree can be killed
by uid. Standard library only.
"""
import errno
import fcntl
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from . import landlock

ORDER = ("namespaces", "landlock", "none")
UID_BASE = int(os.environ.get("GRADER_SANDBOX_UID_BASE", "64000"))   # 64000-64255: one per concurrent worker
UID_SLOTS = 256
CAP_SETGID, CAP_SETUID, CAP_KILL = 6, 7, 5

CAP_SYS_ADMIN = 21


def capabilities():
    """The effective capability mask of this process (0 if unknown)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def can_switch_uid():
    caps = capabilities()
    return bool(caps & (1 << CAP_SETUID)) and bool(caps & (1 << CAP_SETGID))


def others_can_read(paths, ancestors=True):
    """Can a uid of its own (neither owner nor group) read `paths`? (mode bits, and with `ancestors`,
    search permission on every folder above them). A Python installed under /root (mode 0700) fails."""
    import stat
    for path in paths:
        path = os.path.realpath(path)
        chain = [path]
        if ancestors:
            folder = os.path.dirname(path)
            while True:
                chain.append(folder)
                if folder == "/":
                    break
                folder = os.path.dirname(folder)
        for i, p in enumerate(chain):
            try:
                mode = os.stat(p).st_mode
            except OSError:
                return False
            need = stat.S_IXOTH if i else (stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0))
            if mode & need != need:
                return False
    return True


def runtime_paths():
    """The interpreter, its standard library and numpy: what a worker of its own uid must read."""
    import sysconfig
    paths = [sys.executable, sysconfig.get_paths()["stdlib"]]
    try:
        import numpy
        paths += list(numpy.__path__)
    except ImportError:
        pass
    return paths


def own_uid_possible(backend):
    """As root, can the worker run as a uid of its own under `backend`? Not where the Python
    installation is unreadable to other users (then it stays root, without any capability)."""
    if backend == "none" or not can_switch_uid():
        return False
    if backend not in _OWN_UID:
        _OWN_UID[backend] = others_can_read(runtime_paths(), ancestors=backend == "landlock")
    return _OWN_UID[backend]


_OWN_UID = {}


def unshare_prefix():
    """The argv prefix that puts the worker in new mount, PID and network namespaces, or None."""
    unshare = shutil.which("unshare")
    if not unshare or sys.platform != "linux":
        return None
    base = [unshare, "--mount", "--pid", "--net", "--fork", "--kill-child"]
    candidates = [base] if os.geteuid() == 0 else []
    candidates.append([unshare, "--user", "--map-root-user"] + base[1:])
    for cmd in candidates:
        try:
            proc = subprocess.run(cmd + ["true"], capture_output=True, timeout=10)
            ok = proc.returncode == 0
            _UNSHARE_ERROR[:] = [proc.stderr.decode(errors="replace").strip()[-200:] or f"status {proc.returncode}"]
        except (OSError, subprocess.SubprocessError) as exc:
            ok = False
            _UNSHARE_ERROR[:] = [str(exc)[:200]]
        if ok:
            return cmd
    return None


_UNSHARE_ERROR = []      # what the last unshare probe said when it failed


_AVAILABLE = {}


def available(backend):
    """Can this process use `backend` at all? (cached)"""
    if backend not in _AVAILABLE:
        if backend == "namespaces":
            _AVAILABLE[backend] = unshare_prefix() is not None
        elif backend == "landlock":
            _AVAILABLE[backend] = landlock.abi() >= 1
        else:
            _AVAILABLE[backend] = True
    return _AVAILABLE[backend]


_PREFIX = []


def namespace_prefix():
    if not _PREFIX:
        _PREFIX.append(unshare_prefix())
    return _PREFIX[0]


def forced():
    """The backend GRADER_SANDBOX asks for, or None when it is unset or empty (the best this host
    offers is then used). Any other value raises ValueError, whose text is one line for the
    instructor that names the valid values."""
    value = os.environ.get("GRADER_SANDBOX")
    if not value:
        return None
    if value not in ORDER:
        choices = ", ".join(ORDER[:-1]) + f" or {ORDER[-1]}"
        raise ValueError(f"GRADER_SANDBOX={value[:80]!r} is not a sandbox backend: set it to {choices}, "
                         f"or unset it to use the best sandbox this host offers")
    return value


def candidates():
    """Backends this host offers, best first (always ending with "none"); only the one GRADER_SANDBOX
    asks for, if it is set (ValueError for a value that is not a backend: see forced())."""
    asked = forced()
    if asked:
        return [asked]
    return [b for b in ORDER if available(b)]


@dataclass(frozen=True)
class Unavailable:
    """Why `backend` cannot isolate student code on this host (`cause`, as this host shows it) and
    what would make it work here (`fix`)."""

    backend: str
    cause: str
    fix: str


def _sysctl(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _kernel_older_than(major, minor):
    try:
        got = tuple(int(x) for x in platform.release().split("-")[0].split(".")[:2])
    except ValueError:
        return False
    return got < (major, minor)


def why_unavailable(backend: str) -> Unavailable | None:
    """The cause and the fix on this host when `backend` is not available (None when it is).

    Sources of the facts: user namespaces and their sysctls, the kernel's
    Documentation/admin-guide/sysctl/user.rst (max_user_namespaces) and Debian's and Ubuntu's kernels
    (kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns: Ubuntu 23.10 release
    notes); Landlock's system calls, errno values and first kernel (5.13), the kernel's
    Documentation/userspace-api/landlock.rst; Docker's default capabilities (no CAP_SYS_ADMIN) and
    seccomp profile, moby's oci/caps/defaults.go and profiles/seccomp/default.json."""
    if available(backend) or backend == "none":
        return None
    if backend == "namespaces":
        if not shutil.which("unshare") or sys.platform != "linux":
            return Unavailable(backend, "unshare (util-linux) is not installed", "install util-linux")
        said = (_UNSHARE_ERROR or ["refused"])[0]
        if os.geteuid() == 0 and not capabilities() & (1 << CAP_SYS_ADMIN):
            return Unavailable(
                backend, f"the grader runs as root, but without CAP_SYS_ADMIN (as in a container with the default "
                f"capabilities), and new namespaces are refused ({said})",
                "a container that keeps CAP_SYS_ADMIN (docker run --privileged)")
        if os.geteuid() == 0:
            return Unavailable(backend, f"new namespaces are refused even to root with CAP_SYS_ADMIN ({said}): "
                               "a seccomp filter or a security module forbids them",
                               "a seccomp profile and security policy that allow unshare")
        if _sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
            return Unavailable(backend, "AppArmor refuses unprivileged user namespaces (kernel."
                               "apparmor_restrict_unprivileged_userns=1, as on Ubuntu 24.04 and GitHub's runners)",
                               "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or run the grader "
                               "as root")
        if _sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0":
            return Unavailable(backend, "the kernel refuses unprivileged user namespaces "
                               "(kernel.unprivileged_userns_clone=0)",
                               "sudo sysctl -w kernel.unprivileged_userns_clone=1, or run the grader as root")
        if _sysctl("/proc/sys/user/max_user_namespaces") == "0":
            return Unavailable(backend, "user namespaces are disabled (user.max_user_namespaces=0)",
                               "sudo sysctl -w user.max_user_namespaces=10000, or run the grader as root")
        return Unavailable(backend, f"unprivileged user namespaces are refused ({said})",
                           "run the grader as root")
    code = landlock.abi_errno()
    release = platform.release()
    if code == errno.EOPNOTSUPP:
        return Unavailable(backend, f"Linux {release} has Landlock but it was not enabled at boot",
                           "add landlock to the kernel's lsm= boot parameter")
    if code == errno.ENOSYS and _kernel_older_than(5, 13):
        return Unavailable(backend, f"Linux {release} is older than 5.13, which introduced Landlock",
                           "a Linux kernel 5.13 or newer")
    if code == errno.ENOSYS:
        return Unavailable(backend, f"the Landlock system calls answer ENOSYS on Linux {release}: the kernel is "
                           "built without Landlock, or a seccomp filter (a container's) refuses them",
                           "a kernel built with Landlock, or a container whose seccomp profile allows the "
                           "landlock_* system calls (Docker's default does since 2022)")
    name = errno.errorcode.get(code, str(code))
    return Unavailable(backend, f"the Landlock system calls fail with {name} on Linux {release} (a seccomp "
                       "filter or a security module refuses them)",
                       "a seccomp profile that allows the landlock_* system calls")


def describe(backend, uid=None):
    """What `backend` enforces on this host and what it cannot (for results.json and the docs)."""
    abi = landlock.abi()
    syscalls = ("system calls (seccomp): no new process (fork, vfork, clone without CLONE_THREAD; threads "
                "allowed), no socket() or socketpair() of any family, no ptrace or process_vm_*, no io_uring, "
                "bpf, perf_event_open, userfaultfd or keyrings, no unshare, setns, "
                "mount, chroot or namespace flags on clone, no modules, kexec, swap or reboot (EPERM)")
    if backend == "namespaces":
        enforces = ["file system: allowlist view (pivot_root), read-only", "writes: private 64 MiB tmpfs /tmp",
                    "network: none (own network namespace)", "processes: own PID namespace",
                    "capabilities: none", syscalls]
        cannot = ["CPU competition within the time limits"]
    elif backend == "landlock":
        enforces = [f"file system: allowlist (Landlock ABI {abi})",
                    "writes: private scratch folder only, 64 MiB in all (summed when each call returns and "
                    "every 0.2 s while it runs; each file is capped at RLIMIT_FSIZE)",
                    "network: none (no socket of any family: TCP, UDP, raw, unix by path)"]
        enforces.append("signals, abstract unix sockets: own domain only" if abi >= 6 else
                        "signals: same-uid processes reachable (Landlock ABI < 6)")
        enforces.append(syscalls)
        cannot = ["stat() of paths outside the allowlist: existence, size, owner and times of what a worker "
                  "can name (docs/threat-model.md)", "CPU competition within the time limits",
                  "a burst of writes past 64 MiB between two readings, removed before its call returns"]
    else:
        enforces = ["resource limits", "network: none (no socket of any family)", syscalls]
        cannot = ["reading any file the grader can read", "writing files", "signalling processes"]
    info = {"backend": backend, "enforces": enforces, "cannot": cannot}
    if backend == "landlock":
        info["landlock_abi"] = abi
    if own_uid_possible(backend):
        info["uid"] = "one per worker"
        enforces.append("threads: a uid of its own per worker, RLIMIT_NPROC, killed by uid")
    elif backend != "none" and can_switch_uid():
        info["uid"] = "root without capabilities (the Python installation is not readable by other users)"
    return info


class UidSlot:
    """A uid/gid of its own for one worker, held (flock) for the worker's lifetime, across processes."""

    def __init__(self):
        self.uid = self.gid = None
        self._fd = None
        # One fixed place for every process of the machine (not $TMPDIR, which may differ between them).
        folder = "/tmp/mlp-kit-sandbox-uids" if os.path.isdir("/tmp") else os.path.join(
            tempfile.gettempdir(), "mlp-kit-sandbox-uids")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        start = os.getpid() % UID_SLOTS
        for i in range(UID_SLOTS):
            slot = (start + i) % UID_SLOTS
            fd = os.open(os.path.join(folder, f"{slot}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._fd = fd
            self.uid = self.gid = UID_BASE + slot
            kill_uid(self.uid)          # whatever an earlier holder left behind
            return
        raise RuntimeError("no free sandbox uid (256 workers at once?)")

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def uid_processes(uid):
    """The pids whose real uid is `uid` (from /proc/*/status: /proc/PID itself belongs to root once a
    process has changed its uid)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/status", "rb") as f:
                    for line in f:
                        if line.startswith(b"Uid:"):
                            if int(line.split()[1]) == uid:
                                found.append(int(name))
                            break
            except (OSError, ValueError, IndexError):
                continue
    return found


def kill_uid(uid):
    """SIGKILL every process of `uid` (as root): a child takes that uid and calls kill(-1) until
    nothing is left, which reaches each process whatever its session, group or parent."""
    if not uid_processes(uid):
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(1000):
                try:
                    os.kill(-1, 9)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
