"""Landlock (Linux >= 5.13) through ctypes: an unprivileged process restricts itself.

    abi = landlock.abi()                       # 0: not available (old kernel, LSM off, seccomp refuses it)
    landlock.restrict([("/usr/lib", landlock.READ_DIR_ACCESS), ...], scratch=[...])

After restrict() the process (and everything it starts) can open only what the
rules allow, cannot bind or connect TCP sockets (ABI >= 4), and cannot signal
or reach the abstract unix sockets of processes outside its domain (ABI >= 6).
Rules are inode-based: each path is opened once (O_PATH) when the rule is added.

Constants and structures are those of <linux/landlock.h> (kernel UAPI; the
kernel's Documentation/userspace-api/landlock.rst describes the ABI versions).
Standard library only: the worker imports this by path inside the sandbox.
"""
import ctypes
import os
import platform

# System call numbers: landlock_create_ruleset, landlock_add_rule, landlock_restrict_self. They are
# the same on every architecture that has them (asm-generic numbering, added in 5.13).
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2
PR_SET_NO_NEW_PRIVS = 38

# File-system access rights (ABI version that introduced them).
FS = {
    "execute": (1 << 0, 1), "write_file": (1 << 1, 1), "read_file": (1 << 2, 1), "read_dir": (1 << 3, 1),
    "remove_dir": (1 << 4, 1), "remove_file": (1 << 5, 1), "make_char": (1 << 6, 1), "make_dir": (1 << 7, 1),
    "make_reg": (1 << 8, 1), "make_sock": (1 << 9, 1), "make_fifo": (1 << 10, 1), "make_block": (1 << 11, 1),
    "make_sym": (1 << 12, 1), "refer": (1 << 13, 2), "truncate": (1 << 14, 3), "ioctl_dev": (1 << 15, 5),
}
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1                      # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1          # ABI 6
FILE_RIGHTS = ("execute", "write_file", "read_file", "truncate", "ioctl_dev")   # the ones a file rule may hold

READ = ("read_file", "read_dir", "execute")
LIST = ("read_dir",)
READ_WRITE_FILE = ("read_file", "write_file", "truncate")
SCRATCH = ("read_file", "read_dir", "write_file", "remove_dir", "remove_file", "make_dir", "make_reg",
           "make_sym", "truncate", "refer")


class LandlockError(OSError):
    pass


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_LIBC = None


def _libc():
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
        _LIBC.syscall.restype = ctypes.c_long
    return _LIBC


def abi():
    """The Landlock ABI version this kernel offers to this process, or 0."""
    if platform.system() != "Linux":
        return 0
    try:
        version = _libc().syscall(ctypes.c_long(SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                                  ctypes.c_uint32(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return int(version) if version > 0 else 0


def abi_errno():
    """Why abi() is 0: the errno of the version query (ENOSYS: no such system call, a kernel older than
    5.13 or built without Landlock, or a seccomp filter answering for it; EOPNOTSUPP: built in but
    not enabled at boot), or 0 when Landlock is available (or this is not Linux)."""
    if platform.system() != "Linux":
        return 0
    try:
        libc = _libc()
        ctypes.set_errno(0)
        version = libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                               ctypes.c_uint32(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return ctypes.get_errno() if version <= 0 else 0


def mask(names, version):
    """The bit mask of the named rights that ABI `version` knows."""
    return sum(FS[n][0] for n in names if FS[n][1] <= version)


def restrict(rules, version=None, deny_tcp=True, scope=True):
    """Restrict this process to `rules`: [(path, rights names)]. A path that does not exist is skipped.
    Returns a dict of what is enforced. Raises LandlockError if the kernel refuses."""
    libc = _libc()
    version = version or abi()
    if version < 1:
        raise LandlockError("Landlock is not available")
    handled_fs = mask(FS, version)
    attr = _RulesetAttr(handled_fs, 0, 0)
    size = 8
    enforced = {"abi": version, "filesystem": True, "tcp": False, "signals": False, "abstract_unix": False}
    if version >= 4 and deny_tcp:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP        # and no rule allows any port
        size = 16
        enforced["tcp"] = True
    if version >= 6 and scope:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
        enforced["signals"] = enforced["abstract_unix"] = True
    fd = libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size),
                      ctypes.c_uint32(0))
    if fd < 0:
        raise LandlockError(ctypes.get_errno(), f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    try:
        for path, names in rules:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                is_dir = _is_dir(pfd)
                allowed = mask(names if is_dir else [n for n in names if n in FILE_RIGHTS], version)
                if not allowed:
                    continue
                rule = _PathBeneathAttr(allowed, pfd)
                rc = libc.syscall(ctypes.c_long(SYS_ADD_RULE), ctypes.c_int(fd), ctypes.c_int(RULE_PATH_BENEATH),
                                  ctypes.byref(rule), ctypes.c_uint32(0))
                if rc != 0:
                    err = ctypes.get_errno()
                    raise LandlockError(err, f"landlock_add_rule {path}: {os.strerror(err)}")
            finally:
                os.close(pfd)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise LandlockError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(ctypes.c_long(SYS_RESTRICT_SELF), ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            err = ctypes.get_errno()
            raise LandlockError(err, f"landlock_restrict_self: {os.strerror(err)}")
    finally:
        os.close(fd)
    return enforced


def _is_dir(fd):
    import stat
    return stat.S_ISDIR(os.fstat(fd).st_mode)
