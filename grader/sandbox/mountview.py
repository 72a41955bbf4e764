"""The namespace backend's file system: a new root holding only the allowlist.

Runs inside the worker, in its own mount namespace (made by `unshare`), after
the interpreter has loaded what it needs and before any untrusted code runs:

    view.enter(rules, mountpoint="/tmp/…/view", extra=[package_folder], scratch_bytes=64 << 20)

It mounts an empty tmpfs on `mountpoint`, bind-mounts every allowed path into
it at the same path, read-only, adds a small writable tmpfs /tmp, makes the
new root read-only and pivots into it; the old root is detached, so nothing
outside the list has a name any more. The rules are data (grader.sandbox.allowlist);
this file knows nothing of what is being graded.

Standard library only: the worker imports this by path.
"""
import ctypes
import os
import platform

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
MNT_DETACH = 2
# statvfs f_flag bits (ST_*) that a bind remount must keep (they are locked in a user namespace)
KEEP = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
        (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217, "armv7l": 218,
              "i686": 217}


class ViewError(OSError):
    pass


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _check(rc, what):
    if rc != 0:
        err = ctypes.get_errno()
        raise ViewError(err, f"{what}: {os.strerror(err)}")


def _enc(path):
    return None if path is None else os.fsencode(path)


def enter(rules, mountpoint, extra=(), scratch_bytes=64 << 20):
    """Pivot into a root holding rules.read and `extra` (read-only), rules.devices and a tmpfs /tmp.
    Returns the number of bind mounts. Raises ViewError on any failure: the caller must not go on."""
    libc = _libc()

    def mount(source, target, fstype, flags, data=None):
        _check(libc.mount(_enc(source), _enc(target), _enc(fstype), ctypes.c_ulong(flags), _enc(data)),
               f"mount {target}")

    mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = os.path.realpath(mountpoint)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    os.mkdir(root + "/tmp", 0o1777)
    mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(scratch_bytes)},mode=1777")
    binds = []
    for path in sorted(set(rules.read) | set(extra)) + list(rules.devices):
        if _beneath(path, root) or _beneath(root, path):
            raise ViewError(0, f"allowlist entry {path} overlaps the mount point {root}")
        target = root + path
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not os.path.exists(target):
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
        mount(path, target, None, MS_BIND)
        binds.append((path, target))
    for path, target in binds:
        flags = MS_REMOUNT | MS_BIND | (0 if path in rules.devices and path == "/dev/null" else MS_RDONLY)
        kept = os.statvfs(target).f_flag
        for st, ms in KEEP:
            if kept & st:
                flags |= ms
        if path in rules.devices:
            flags |= MS_NOSUID | MS_NOEXEC
        mount(None, target, None, flags)
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    number = PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise ViewError(0, f"pivot_root: unknown system call number on {platform.machine()}")
    os.chdir(root)
    _check(libc.syscall(ctypes.c_long(number), b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")
    return len(binds)


def _beneath(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")
