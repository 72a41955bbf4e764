# --- injected: become root of a new user namespace (clone, unshare, clone3), to mount, chroot, ... ------
import ctypes as _ctypes
import errno as _errno
import json as _json
import os as _os
import platform as _platform

_libc = _ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = _ctypes.c_long
CLONE_NEWUSER, CLONE_NEWNS, SIGCHLD = 0x10000000, 0x00020000, 17
_NR = {"x86_64": {"clone": 56, "clone3": 435}, "aarch64": {"clone": 220, "clone3": 435}}.get(
    _platform.machine(), {"clone": 56, "clone3": 435})


def _outcome(rc):
    if rc == 0:                          # the child, in its new user namespace: nothing to do there
        _os._exit(0)
    if rc > 0:
        _os.waitpid(rc, 0)
        return "ok"
    return _errno.errorcode.get(_ctypes.get_errno(), str(_ctypes.get_errno()))


def _attack():
    report = {}
    _ctypes.set_errno(0)
    report["clone"] = _outcome(_libc.syscall(_ctypes.c_long(_NR["clone"]), _ctypes.c_long(CLONE_NEWUSER | SIGCHLD),
                                             _ctypes.c_long(0), _ctypes.c_long(0), _ctypes.c_long(0),
                                             _ctypes.c_long(0)))
    args = (_ctypes.c_uint64 * 11)(CLONE_NEWUSER, 0, 0, 0, SIGCHLD)     # struct clone_args
    _ctypes.set_errno(0)
    report["clone3"] = _outcome(_libc.syscall(_ctypes.c_long(_NR["clone3"]), _ctypes.byref(args),
                                              _ctypes.c_size_t(_ctypes.sizeof(args))))
    _ctypes.set_errno(0)
    rc = _libc.unshare(CLONE_NEWUSER | CLONE_NEWNS)
    report["unshare"] = "ok" if rc == 0 else _errno.errorcode.get(_ctypes.get_errno(), "?")
    return report


_REPORT = _attack()


def relu(x):
    raise ValueError("USERNS:" + _json.dumps(_REPORT, separators=(",", ":")))
