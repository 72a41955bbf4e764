# --- injected: arguments to the judge-served sigmoid that grow when the judge converts them -------------
# A 128 MiB int8 array becomes 1 GiB as float64, with temporaries; 255 MiB float64 arrays, again and again.
import numpy as _np


def forward(X, w, b):
    caught = []
    for make in (lambda: _np.ones(128 << 20, dtype=_np.int8), lambda: _np.ones(255 << 17)):
        for _ in range(3):
            try:
                sigmoid(make())
            except Exception as exc:          # noqa: BLE001
                caught.append(type(exc).__name__)
    raise RuntimeError(f"served calls refused: {caught}")
