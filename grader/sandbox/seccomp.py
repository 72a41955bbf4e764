"""A seccomp filter the worker puts on itself, on every backend, just before student code runs.

    arch = seccomp.native_arch()          # "x86_64" or "aarch64"; SeccompError on anything else
    code = seccomp.program(arch)          # the filter: bytes of struct sock_filter (classic BPF)
    seccomp.install(code, arch)           # no_new_privs, then seccomp(); returns what it enforces

What it refuses, with EPERM (a PermissionError in Python, which the student's
feedback shows like any other exception):

- socket() and socketpair(), for every address family: the worker talks to its
  judge over inherited pipes and a shared-memory memfd, never a socket. This
  closes what Landlock leaves open: UDP and raw sockets, and connecting to a
  unix socket file by path (a root-only 0600 socket, as root; the user's own
  sockets, as that user). On the namespace backend it is a second wall (the
  network namespace has no network, but a unix socket path would be reached
  through a bind mount).
- reaching another process: ptrace, process_vm_readv/writev, pidfd_getfd,
  process_madvise;
- large kernel attack surface no student code needs: bpf, perf_event_open,
  userfaultfd, io_uring_setup/enter/register, keyctl, add_key, request_key;
- leaving or rebuilding the sandbox: unshare, setns, mount, umount2,
  pivot_root, chroot, the new mount API (open_tree, move_mount, fsopen,
  fsconfig, fsmount, fspick, mount_setattr), namespace flags on clone
  (CLONE_NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWCGROUP);
  open_by_handle_at and name_to_handle_at (a file by handle, bypassing paths),
  fanotify_init;
- the machine itself: kexec_load, kexec_file_load, init_module, finit_module,
  delete_module, swapon, swapoff, reboot;
- starting a process: fork and vfork (x86_64; aarch64 has neither), and
  clone without CLONE_THREAD (what fork(), posix_spawn and subprocess come
  down to). Threads are allowed. A process budget cannot be the same on
  every host: RLIMIT_NPROC counts every process of the uid, which a worker
  shares with the judges and the other workers wherever it cannot have a
  uid of its own (Landlock as a non-root user: GitHub's runner), so a fork
  there succeeded or failed by how busy the batch was (CI, 83e804f). No
  graded function needs a process, and isolate (CMS) and DMOJ refuse them by
  default too; every host now answers os.fork() and subprocess the same,
  with PermissionError;
- personality(), except the query personality(0xffffffff) that libc and
  Python may make (a persona could turn address randomisation off for the
  processes it starts).

clone3 answers ENOSYS, so that glibc falls back to clone (threads too), whose flags a
classic filter can read (clone3's are behind a pointer). Any system call of
another ABI (i386 through int 0x80, which is where socketcall lives, x32 on
x86_64, AArch32 on aarch64) is refused whatever its number: the numbers below
are only those of the native ABI. Everything else is allowed: the kernel's
seccomp cache then answers most system calls without running the filter.

Errno, not a kill: EPERM is what Docker's default profile and systemd's
SystemCallFilter return, so that the kit behaves the same inside and outside
Docker, and the student gets "[Errno 1] Operation not permitted" in the
feedback of the test that called it instead of a worker dead of SIGSYS.
(EACCES is what Landlock and file modes return: EPERM says the operation,
not the path, is refused.)

Why a hand-assembled classic BPF program and not libseccomp (Debian's
python3-seccomp): the worker must import with the standard library and numpy
only, inside a venv or a pyenv where python3-seccomp is not importable (this
kit's CI; Gradescope's images), before any site-packages is cut off by the
allowlist. The program is ~60 instructions, a linear list of comparisons,
built by program() below from one table per architecture (x86_64, aarch64:
the numbers differ), and tested by running it in a small BPF interpreter for
both architectures (tests/test_sandbox.py). On any other architecture the
worker refuses to start ("sandbox_error") instead of running unfiltered.

Installed with seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC):
every thread of the worker gets it. It needs no privilege, only
no_new_privs, which install() sets (the backends already have). Filters stack
(a host's own filter, Docker's or tests/hostsim.py's, still applies; the
strictest answer wins), and every thread of the worker has it.

Standard library only: the worker imports this by path before its lock-down.
"""
import ctypes
import errno
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
PERSONALITY_QUERY = 0xFFFFFFFF
X32_SYSCALL_BIT = 0x40000000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. (CLONE_NEWTIME, 0x80, is
# clone's exit-signal byte; only unshare and clone3 take it, and both are refused whole.)
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

DENIED = (
    "socket", "socketpair",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "swapon", "swapoff", "reboot",
    "fork", "vfork",                                # x86_64 only: aarch64 forks by clone
)
CLONE_THREAD = 0x00010000
SPECIAL = ("clone", "clone3", "personality")      # refused by their arguments, or with ENOSYS

# System call numbers of the native ABI: x86_64's arch/x86/entry/syscalls/syscall_64.tbl, aarch64's
# asm-generic/unistd.h (the numbers from 424 on are the same everywhere). `seccomp` is how install()
# loads the filter.
ARCHES = {
    "x86_64": {
        "audit_arch": 0xC000003E, "x32": True,          # AUDIT_ARCH_X86_64
        "nr": {
            "socket": 41, "socketpair": 53, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
            "pidfd_getfd": 438, "process_madvise": 440, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 250,
            "add_key": 248, "request_key": 249, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
            "pivot_root": 155, "chroot": 161, "open_tree": 428, "move_mount": 429, "fsopen": 430,
            "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "open_by_handle_at": 304,
            "name_to_handle_at": 303, "fanotify_init": 300, "kexec_load": 246, "kexec_file_load": 320,
            "init_module": 175, "finit_module": 313, "delete_module": 176, "swapon": 167, "swapoff": 168,
            "reboot": 169, "fork": 57, "vfork": 58, "clone": 56, "clone3": 435, "personality": 135, "seccomp": 317,
        },
    },
    "aarch64": {
        "audit_arch": 0xC00000B7, "x32": False,         # AUDIT_ARCH_AARCH64
        "nr": {
            "socket": 198, "socketpair": 199, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
            "pidfd_getfd": 438, "process_madvise": 440, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 219,
            "add_key": 217, "request_key": 218, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39,
            "pivot_root": 41, "chroot": 51, "open_tree": 428, "move_mount": 429, "fsopen": 430,
            "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "open_by_handle_at": 265,
            "name_to_handle_at": 264, "fanotify_init": 262, "kexec_load": 104, "kexec_file_load": 294,
            "init_module": 105, "finit_module": 273, "delete_module": 106, "swapon": 224, "swapoff": 225,
            "reboot": 142, "clone": 220, "clone3": 435, "personality": 92, "seccomp": 277,
        },
    },
}
MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

# Classic BPF opcodes (<linux/bpf_common.h>) and the offsets of struct seccomp_data.
LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
OFF_NR, OFF_ARCH, OFF_ARGS = 0, 4, 16


class SeccompError(OSError):
    pass


def native_arch():
    """The architecture whose table applies to this process, or SeccompError: a 64-bit little-endian
    interpreter on x86_64 or aarch64 (a 32-bit Python on a 64-bit kernel has another ABI)."""
    machine = os.uname().machine.lower()
    arch = MACHINES.get(machine)
    if arch is None or struct.calcsize("P") != 8 or sys.byteorder != "little":
        raise SeccompError(f"seccomp: no system call table for this architecture ({machine or 'unknown'}, "
                           f"{8 * struct.calcsize('P')}-bit, {sys.byteorder}-endian); the worker's filter "
                           f"knows x86_64 and aarch64 and refuses to run student code unfiltered")
    return arch


def _arg_low(i):
    """Offset of the low 32 bits of args[i] (little-endian)."""
    return OFF_ARGS + 8 * i


def denied(arch):
    """The names of DENIED that `arch` has (aarch64 has no fork or vfork)."""
    return [name for name in DENIED if name in ARCHES[arch]["nr"]]


def program(arch=None):
    """The filter for `arch` (default: this process's) as bytes of struct sock_filter."""
    arch = arch or native_arch()
    table = ARCHES[arch]
    nr = table["nr"]
    # (opcode, k, jump-if-true label, jump-if-false label); None: the next instruction.
    code = [(LD_W_ABS, OFF_ARCH, None, None),
            (JEQ_K, table["audit_arch"], None, "deny"),          # another ABI: refused, whatever the number
            (LD_W_ABS, OFF_NR, None, None)]
    if table["x32"]:
        code.append((JGE_K, X32_SYSCALL_BIT, "deny", None))
    code += [(JEQ_K, nr["clone3"], "enosys", None),
             (JEQ_K, nr["clone"], "clone", None),
             (JEQ_K, nr["personality"], "personality", None)]
    code += [(JEQ_K, nr[name], "deny", None) for name in denied(arch)]
    code += [(RET_K, RET_ALLOW, None, None),
             "clone", (LD_W_ABS, _arg_low(0), None, None), (JSET_K, CLONE_NAMESPACES, "deny", None),
             (JSET_K, CLONE_THREAD, "allow", "deny"),
             "personality", (LD_W_ABS, _arg_low(0), None, None), (JEQ_K, PERSONALITY_QUERY, "allow", "deny"),
             "allow", (RET_K, RET_ALLOW, None, None),
             "deny", (RET_K, RET_ERRNO | errno.EPERM, None, None),
             "enosys", (RET_K, RET_ERRNO | errno.ENOSYS, None, None)]
    return assemble(code)


def assemble(code):
    """Resolve the labels (strings in `code`) into relative jumps and pack the instructions."""
    labels, insns = {}, []
    for item in code:
        if isinstance(item, str):
            labels[item] = len(insns)
        else:
            insns.append(item)
    out = []
    for i, (op, k, jt, jf) in enumerate(insns):
        offsets = []
        for label in (jt, jf):
            offset = 0 if label is None else labels[label] - (i + 1)
            if not 0 <= offset <= 255:
                raise ValueError(f"jump to {label} out of range at instruction {i}")
            offsets.append(offset)
        out.append(struct.pack("=HBBI", op, offsets[0], offsets[1], k))
    return b"".join(out)


def summary(arch=None):
    """What the filter enforces, for the worker's report (and the docs)."""
    return {"arch": arch, "errno": "EPERM", "refused": denied(arch or native_arch()),
            "clone": "threads only (CLONE_THREAD, no namespace flags)", "clone3": "ENOSYS (libc falls back to clone)",
            "personality": "query only", "other_abis": "every system call refused"}


def install(code=None, arch=None):
    """Set no_new_privs and load the filter on every thread of this process; check that socket() is
    refused. Returns summary(). Raises SeccompError if anything fails."""
    arch = arch or native_arch()
    code = code if code is not None else program(arch)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buf = ctypes.create_string_buffer(code, len(code))
    prog = Prog(len(code) // 8, ctypes.addressof(buf))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SeccompError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    rc = libc.syscall(ctypes.c_long(ARCHES[arch]["nr"]["seccomp"]), ctypes.c_uint(SECCOMP_SET_MODE_FILTER),
                      ctypes.c_uint(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog))
    if rc != 0:
        err = ctypes.get_errno() if rc < 0 else 0
        what = os.strerror(err) if rc < 0 else f"thread {rc} could not be synchronised"
        raise SeccompError(err, f"seccomp(SECCOMP_SET_MODE_FILTER): {what}")
    fd = libc.socket(1, 1, 0)                       # AF_UNIX, SOCK_STREAM: must be refused now
    if fd >= 0 or ctypes.get_errno() != errno.EPERM:
        if fd >= 0:
            libc.close(fd)
        raise SeccompError("seccomp: the filter is loaded but socket() is not refused")
    return summary(arch)
