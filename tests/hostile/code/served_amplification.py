# --- injected: arguments to the judge-served sigmoid that grow when the judge converts them -------------
# A 48 MiB int8 array would be 384 MiB as float64, with temporaries; 40 MiB float64 arrays (5M numbers),
# again and again. Both are over the judge's cap on a served call (32 MiB of numbers and its frame): the
# channel reads their bytes and drops them, so the judge never holds them.
import numpy as _np


def forward(X, w, b):
    caught = []
    for make in (lambda: _np.ones(48 << 20, dtype=_np.int8), lambda: _np.ones(5 << 20)):
        for _ in range(3):
            try:
                sigmoid(make())
            except Exception as exc:          # noqa: BLE001
                caught.append(type(exc).__name__)
    raise RuntimeError(f"served calls refused: {caught}")
