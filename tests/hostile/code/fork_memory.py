# --- injected: three forked children hold 1.5 GiB each (4.5 GiB) under a 4 GiB limit ----------------
import os as _os

import numpy as _np

_r, _w = _os.pipe()
for _ in range(3):
    if _os.fork() == 0:
        try:
            _big = _np.ones(int(1.5 * 2**30) // 8)
            _os.write(_w, b"1")
            import time as _time
            _time.sleep(60)
        finally:
            _os._exit(0)
_got = b""
while len(_got) < 3:          # the import finishes once all three hold their memory
    _chunk = _os.read(_r, 3)
    if not _chunk:
        break
    _got += _chunk
