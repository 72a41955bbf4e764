# --- injected: thousands of threads (a worker that stays root has no RLIMIT_NPROC) --------------------
import threading as _threading
import time as _time

_started = []


def _sleep():
    _time.sleep(3600)


def relu(x):
    for _ in range(3000):
        try:
            t = _threading.Thread(target=_sleep, daemon=True)
            t.start()
            _started.append(t)
        except RuntimeError:                  # RLIMIT_NPROC (a uid of its own) says no
            break
    raise RuntimeError(f"started {len(_started)} threads")
