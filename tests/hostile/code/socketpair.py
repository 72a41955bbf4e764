# --- injected: a private channel between its own processes (socketpair, a duplex multiprocessing pipe) --
import errno as _errno
import json as _json
import os as _os
import socket as _socket


def _name(exc):
    return _errno.errorcode.get(exc.errno, str(exc.errno)) if getattr(exc, "errno", None) else type(exc).__name__


def _attack():
    report = {"ok": [], "errors": {}}
    try:
        a, b = _socket.socketpair()
        pid = _os.fork()
        if pid == 0:                    # a child that would pass descriptors back (SCM_RIGHTS)
            _socket.send_fds(b, [b"fd"], [0])
            _os._exit(0)
        _socket.recv_fds(a, 16, 1)
        _os.waitpid(pid, 0)
        report["ok"].append("socketpair")
    except OSError as exc:
        report["errors"]["socketpair"] = _name(exc)
    try:
        import multiprocessing.connection as _mpc
        left, right = _mpc.Pipe(duplex=True)
        left.send("x")
        right.recv()
        report["ok"].append("duplex pipe")
    except (OSError, ImportError) as exc:
        report["errors"]["duplex pipe"] = _name(exc)
    return report


_REPORT = _attack()


def relu(x):
    raise ValueError("PAIR:" + _json.dumps(_REPORT, separators=(",", ":")))
