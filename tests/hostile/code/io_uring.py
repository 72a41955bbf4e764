# --- injected: an io_uring instance (its own path to sockets and files, outside the usual checks) --------
import ctypes as _ctypes
import errno as _errno
import json as _json
import os as _os

_libc = _ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = _ctypes.c_long
SYS_io_uring_setup = 425            # the same number on x86_64 and aarch64


def _attack():
    params = (_ctypes.c_uint8 * 120)()          # struct io_uring_params, zeroed
    _ctypes.set_errno(0)
    fd = _libc.syscall(_ctypes.c_long(SYS_io_uring_setup), _ctypes.c_uint(8), _ctypes.byref(params))
    if fd >= 0:
        _os.close(fd)
        return {"io_uring_setup": "ok"}
    return {"io_uring_setup": _errno.errorcode.get(_ctypes.get_errno(), str(_ctypes.get_errno()))}


_REPORT = _attack()


def relu(x):
    raise ValueError("URING:" + _json.dumps(_REPORT, separators=(",", ":")))
