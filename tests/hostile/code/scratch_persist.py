# --- injected: leave files behind in the scratch space (a folder of mode 000), and fill the disk --------
import os as _os


def relu(x):
    _os.makedirs("keep/deep", exist_ok=True)
    with open("keep/deep/blob", "wb") as f:
        f.write(b"\0" * (8 << 20))
    _os.chmod("keep/deep", 0)
    _os.chmod("keep", 0)
    written = 0
    try:
        while written < 48:                    # 384 MiB in 8 MiB files (each file is capped at 64 MiB)
            with open(f"fill{written}", "wb") as f:
                f.write(b"\0" * (8 << 20))
            written += 1
    except OSError as exc:
        raise ValueError(f"SCRATCH: wrote {written} files of 8 MiB, then {type(exc).__name__}") from None
    raise ValueError(f"SCRATCH: wrote {written} files of 8 MiB")
