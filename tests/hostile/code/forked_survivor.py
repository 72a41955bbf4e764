# --- injected: a child that outlives the grader -------------------------------
import os as _os
import signal as _signal
import time as _time

if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        for _sig in (_signal.SIGTERM, _signal.SIGHUP, _signal.SIGINT):
            _signal.signal(_sig, _signal.SIG_IGN)
        import sys as _sys
        # A recognisable command line, so the kit's test can look for survivors.
        _os.execv(_sys.executable, [_sys.executable, "-c",
                  "import signal, time\n"
                  "for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):\n"
                  "    signal.signal(s, signal.SIG_IGN)\n"
                  "while True:\n"
                  "    time.sleep(0.2)  # HOSTILE_SURVIVOR_MARK"])
    _os._exit(0)
