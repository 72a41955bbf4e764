"""Rebuild submissions in the layout `make submission` writes, from only the files graded.

    python -m grader.platforms.otter.canonical --out DIR SUBMISSION...

Each folder or zip becomes DIR/<name>.zip holding submission.py (the fixed
note) and assignment/<part>.py for each of the four modules the engine finds
in it (grader.engine.submission: found by name at any depth, the
shallowest wins). Whatever else a student put in, such as a top-level .py that
otter would execute unsandboxed and without a time limit, is left out: the
grade does not depend on it, and `otter run` then runs nothing of the
student's outside the engine's sandbox. Prints {name: {"zip", "problems"}} as
JSON. Names are those `make grade` gives (the folder or zip name, made safe,
with -2, -3, ... for repeats), so gradebooks line up.
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

from tooling.submit import write_zip

from ...engine.submission import read_submission


def canonicalize(paths, out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made, taken = {}, set()
    with tempfile.TemporaryDirectory(prefix="canonical-") as tmp:
        for i, path in enumerate(paths):
            sub = read_submission(path, Path(tmp) / str(i))
            base, k = sub.name, 2
            while sub.name in taken:
                sub.name = f"{base}-{k}"
                k += 1
            taken.add(sub.name)
            modules = {part: Path(f).read_bytes() for part, f in sub.files.items() if f}
            dest = out_dir / f"{sub.name}.zip"
            write_zip(modules, dest)
            made[sub.name] = {"source": str(path), "zip": str(dest),
                              "problems": {p: why for p, why in sub.problems.items()}}
    return made


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader.platforms.otter.canonical",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("submissions", nargs="+")
    args = parser.parse_args(argv)
    print(json.dumps(canonicalize(args.submissions, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
