"""Run a command as it would run on another kind of host: `python tests/hostsim.py HOST -- CMD ...`.

HOST is one of
  docker  Docker's default policy: root, the default capability set (no CAP_SYS_ADMIN), and a
          seccomp filter that refuses unshare, mount, umount2, pivot_root, setns and the namespace
          flags of clone (clone3 answers ENOSYS, so that libc falls back to clone). This is what
          Gradescope's autograder containers and otter's Docker mode give a grader.
  github  the same filter, run as a user without any capability (uid 0 kept, so that the files of
          this machine stay readable, but SECBIT_NOROOT: exec gives no capability back). This is
          GitHub's ubuntu-24.04 runner user, whose unprivileged user namespaces AppArmor refuses.
  bare    the docker filter, and the landlock_* system calls refused too (ENOSYS, as on a kernel
          older than 5.13): a host with no sandbox at all.
  user    the docker filter, run as a real user without privileges (uid and gid USER_ID, 65534 unless
          HOSTSIM_UID says otherwise): a grader that cannot give its workers a uid of their own, and whose
          workers count against its own process limit. This machine's Python lives under a 0700 /root,
          so the command runs in a mount namespace of its own where each folder on the way to the Python and to
          the working folder that others cannot enter (/root here) is an empty, readable tmpfs holding only
          those two, bound at the same paths; everything else is as it is.
          The files it reads must be readable by that user and the folders it writes writable.

The filter is a hand-written classic BPF program installed with prctl(PR_SET_SECCOMP); the
syscall numbers are x86_64's (the kit's CI) and the filter lets other architectures through.
Docker's default profile (moby's profiles/seccomp/default.json) gates these calls on CAP_SYS_ADMIN;
without that capability they fail with EPERM, which is what this filter returns.
"""
import ctypes
import os
import struct
import sys
import tempfile
from pathlib import Path

CLONE_NEWNS, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 0x00020000, 4096, 8192, 16384, 1 << 18
USER_ID = int(os.environ.get("HOSTSIM_UID", "65534"))
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 38, 22, 24, 28
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
EPERM, ENOSYS = 1, 38
NR = {"unshare": 272, "mount": 165, "umount2": 166, "pivot_root": 155, "setns": 308, "clone": 56,
      "clone3": 435, "landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446}
CLONE_NAMESPACES = 0x7E020080      # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
# Docker's default capabilities (moby's oci/caps/defaults.go).
DOCKER_CAPS = (0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31)   # CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID
# SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP

BPF_LD_W_ABS, BPF_JEQ_K, BPF_JSET_K, BPF_RET_K = 0x20, 0x15, 0x45, 0x06


def _insn(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


def program(refuse_landlock=False):
    """The filter as bytes of struct sock_filter."""
    deny = {NR[n]: EPERM for n in ("unshare", "mount", "umount2", "pivot_root", "setns")}
    deny[NR["clone3"]] = ENOSYS
    if refuse_landlock:
        for n in ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"):
            deny[NR[n]] = ENOSYS
    body = []
    # [0] arch check, [1] load nr, then one jeq+ret pair per denied call, then clone's flags.
    items = sorted(deny.items())
    for nr, err in items:
        body.append(("jeq", nr, RET_ERRNO | err))
    insns = [_insn(BPF_LD_W_ABS, 0, 0, 4)]
    # if arch != x86_64: allow (jump to the final allow)
    n_after = 1 + 2 * len(items) + 4          # load nr, pairs, clone check (4), allow
    insns.append(_insn(BPF_JEQ_K, 0, n_after, AUDIT_ARCH_X86_64))
    insns.append(_insn(BPF_LD_W_ABS, 0, 0, 0))
    for _, nr, ret in body:
        insns.append(_insn(BPF_JEQ_K, 0, 1, nr))
        insns.append(_insn(BPF_RET_K, 0, 0, ret))
    insns.append(_insn(BPF_JEQ_K, 0, 3, NR["clone"]))          # not clone: allow
    insns.append(_insn(BPF_LD_W_ABS, 0, 0, 16))                 # args[0], low 32 bits
    insns.append(_insn(BPF_JSET_K, 0, 1, CLONE_NAMESPACES))
    insns.append(_insn(BPF_RET_K, 0, 0, RET_ERRNO | EPERM))
    insns.append(_insn(BPF_RET_K, 0, 0, RET_ALLOW))
    return b"".join(insns)


def _mount(libc, source, target, fstype, flags, data=None):
    if libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(), flags,
                  data and data.encode()) != 0:
        raise OSError(ctypes.get_errno(), f"mount {source} on {target}")


def _closed_folder(path):
    """The topmost folder on the way to `path` that other users cannot enter, or None."""
    for folder in reversed(Path(path).parents):
        if folder != Path("/") and not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def become_user(libc):
    """The `user` host: a mount namespace where the Python and the working folder can be reached (each folder
    on their way that others cannot enter becomes an empty tmpfs holding only them, bound at the same
    paths), then USER_ID without privileges."""
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    needed = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix, os.getcwd())}
    needed = {p for p in needed if not any(q != p and q in p.parents for q in needed)}
    closed = {}
    for path in needed:
        folder = _closed_folder(path)
        if folder is not None:
            closed.setdefault(folder, []).append(path)
    for folder, paths in closed.items():
        held = []
        for path in paths:
            hold = tempfile.mkdtemp(prefix="hostsim-hold-")
            _mount(libc, str(path), hold, None, MS_BIND | MS_REC)
            held.append((hold, path))
        _mount(libc, "tmpfs", str(folder), "tmpfs", 0, "mode=0755,size=1m")
        for hold, path in held:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(libc, hold, str(path), None, MS_MOVE)
            os.rmdir(hold)
    os.setgroups([])
    os.setgid(USER_ID)
    os.setuid(USER_ID)                      # from uid 0 to another: every capability goes
    os.environ["HOME"] = "/nonexistent"
    if not os.access(os.getcwd(), os.R_OK | os.X_OK):
        raise SystemExit(f"hostsim: user {USER_ID} cannot read the working folder {os.getcwd()}")


def install(host):
    libc = ctypes.CDLL(None, use_errno=True)
    if host == "user":
        become_user(libc)
    if host == "github":
        # SECBIT_NOROOT | SECBIT_NOROOT_LOCKED: uid 0 gains no capability at exec.
        if libc.prctl(PR_SET_SECUREBITS, 0x3, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_SECUREBITS")
        keep = ()
    else:
        keep = DOCKER_CAPS
    for cap in range(64):
        if cap not in keep and host != "user":     # (a user has none to drop, and may not)
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    code = program(refuse_landlock=host == "bare")
    buf = ctypes.create_string_buffer(code, len(code))

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = Prog(len(code) // 8, ctypes.addressof(buf))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")


def main(argv):
    if len(argv) < 3 or argv[0] not in ("docker", "github", "bare", "user") or argv[1] != "--":
        raise SystemExit(__doc__)
    install(argv[0])
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
