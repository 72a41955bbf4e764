# --- injected: unkillable (it hopes) endless loop ---------------------------
import signal as _signal

for _sig in (_signal.SIGTERM, _signal.SIGALRM, _signal.SIGINT, _signal.SIGHUP, _signal.SIGUSR1):
    _signal.signal(_sig, _signal.SIG_IGN)


def sigmoid(x):
    while True:
        try:
            pass
        except BaseException:
            continue
