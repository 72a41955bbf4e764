# --- injected: write a reply frame of ~1.6 million empty dicts (15 MB) straight to the judge's pipe --
import os as _os
import sys as _sys


def _reply_fd():
    argv = _sys.argv
    fds = argv[argv.index("--fds") + 1]
    return int(fds.split(",")[1])


def sigmoid(x):
    n = 1_600_000
    header = b'{"kind":"ok","value":{"L":[' + b'{"D":[]},' * (n - 1) + b'{"D":[]}]},"_arrays":[]}'
    frame = b"MLPK" + len(header).to_bytes(8, "big") + header
    fd = _reply_fd()
    view = memoryview(frame)
    while view:
        view = view[_os.write(fd, view):]
    while True:
        pass


def tanh(x):
    # a frame whose array shape overflows int64 when multiplied
    header = b'{"kind":"ok","value":{"A":0},"_arrays":[["<f8",[4294967296,4294967296,4294967296]]]}'
    _os.write(_reply_fd(), b"MLPK" + len(header).to_bytes(8, "big") + header)
    while True:
        pass
