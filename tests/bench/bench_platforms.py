"""Benchmarks (not tests): `python tests/bench/bench_platforms.py [--batch N]`.

Prints:
  1. the native Gradescope autograder: the zip's size, setup.sh's time (a fresh venv; its pip
     install is quick when the pinned packages are already on the machine) and run_autograder's
     time on the reference, in a fake /autograder tree;
  2. a batch of N copies of the partial example (`make grade`): the time to the first
     results.json on disk, the whole batch, and the same command again (the resume: nothing left
     to grade).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader.parts import GRADED  # noqa: E402
from grader.platforms import gradescope  # noqa: E402


def bench_gradescope(work):
    zip_path = gradescope.build(work / "gradescope.zip", quiet=True)
    root = work / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root))
    started = time.monotonic()
    subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, check=True, capture_output=True)
    setup = time.monotonic() - started
    (root / "submission").mkdir()
    for part in GRADED:
        shutil.copyfile(ROOT / "solutions" / f"{part}.py", root / "submission" / f"{part}.py")
    started = time.monotonic()
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True, capture_output=True)
    run = time.monotonic() - started
    print(f"gradescope.zip: {zip_path.stat().st_size / 1e6:.2f} MB; setup.sh {setup:.1f} s; "
          f"run_autograder on the reference {run:.1f} s")


def bench_batch(work, n, jobs):
    subs = [str(ROOT / "grader" / "examples" / "partial")] * n
    out = work / "batch"
    cmd = [sys.executable, "-m", "grader", "grade", *subs, "--out", str(out), "-j", str(jobs)]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = None
    while proc.poll() is None:
        if first is None and any(out.glob("*/results.json")):
            first = time.monotonic() - started
        time.sleep(0.05)
    total = time.monotonic() - started
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    again = time.monotonic() - started
    print(f"batch of {n} (-j {jobs}): first results.json after {first:.1f} s, all in {total:.1f} s; "
          f"the same command again (resume, nothing to grade) {again:.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-platforms-", dir=Path.home()) as tmp:
        bench_gradescope(Path(tmp))
        bench_batch(Path(tmp), args.batch, args.jobs)


if __name__ == "__main__":
    main()
