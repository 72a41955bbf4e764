# --- injected: forged frames for the judge-served sigmoid, naming its arrays many times or elsewhere -------
# A served call's frame may name an array more than once, and its large arrays travel in the last 64 MiB of
# the arena the worker maps ("_shared": [offset, dtype, shape] of each). forward writes its own frames
# straight to the judge's pipe: one 32 MiB array named 20 times, in the frame and then in the shared area
# (to the reference, 20 arrays: 660 MB of the judge's memory). predict names memory outside the area (the
# call's own arguments). The judge counts every array against its cap on a served call, and refuses an
# array outside the area as a malformed frame (the call fails; a fresh worker takes the next).
import json as _json
import mmap as _mmap
import os as _os
import sys as _sys

import numpy as _np


def _read(fd, n):
    out = b""
    while len(out) < n:
        chunk = _os.read(fd, n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


def _forge(args, shared=None, arrays=()):
    r, w = (int(fd) for fd in _sys.argv[_sys.argv.index("--fds") + 1].split(","))
    body = {"kind": "callback", "module": "activations", "fn": "sigmoid", "args": {"L": args}, "kwargs": {"D": []},
            "errstate": {}, "_arrays": [[a.dtype.str, list(a.shape)] for a in arrays]}
    if shared is not None:
        body["_shared"] = shared
    header = _json.dumps(body).encode()
    data = memoryview(b"".join([b"MLPK", len(header).to_bytes(8, "big"), header] + [a.tobytes() for a in arrays]))
    while data:
        data = data[_os.write(w, data):]
    magic, size = _read(r, 4), int.from_bytes(_read(r, 8), "big")
    reply = _read(r, size) if size < (1 << 20) else b""
    if magic != b"MLPF" or reply[:1] != b"\x03":
        return "computed", ""
    lt, lm = reply[1], int.from_bytes(reply[2:4], "little")
    return reply[4:4 + lt].decode(), reply[4 + lt:4 + lt + lm].decode()      # the error's type and message


def _area():
    fd = int(_sys.argv[_sys.argv.index("--arena-fd") + 1])
    end = _os.fstat(fd).st_size
    return fd, end - (64 << 20), end


def forward(X, w, b):
    fd, start, _ = _area()
    big = _np.ones((4 << 20) - (1 << 16))
    got = [_forge([{"L": [{"A": 0}] * 20}], arrays=[big])[0]]
    _mmap.mmap(fd, 0)[start:start + big.nbytes] = big.tobytes()
    got.append(_forge([{"L": [{"M": 0}] * 20}], shared=[[start, "<f8", list(big.shape)]])[0])
    raise RuntimeError(f"served forgeries: {got}")


def predict(X, w, b):
    _forge([{"M": 0}], shared=[[0, "<f8", [8]]])
    return (X @ w + b >= 0).astype(int)
