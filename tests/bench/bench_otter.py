"""Benchmarks (not tests) of the otter side: `python tests/bench/bench_otter.py [--runs 3] [--parity]`.

Prints, as medians over --runs repetitions (wall time):
  1. building the autograder zip (`make otter`: collecting the four suites, otter generate);
  2. grading the reference with `make grade` (grader.engine.grade.grade, -j 2) and with
     `otter run` (grader.platforms.otter.batch, one run, the engine at -j 2): otter's own cost
     is the difference (its start-up, the kernel, the results);
  3. running the notebook handout top to bottom against the reference (headless);
  4. (--parity) the parity test run alone, once: the catalog graded with
     `make grade` part by part (in the full run, tests/test_catalog.py has
     done that already), then the 25 combined submissions through `otter run`.
Other processes on the machine inflate every number: run it on a quiet one.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader.engine.grade import grade  # noqa: E402
from grader.platforms.otter import batch, build  # noqa: E402


def timed(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def report(label, result):
    median, times = result
    print(f"  {label:<34} median {median:6.1f} s   ({', '.join(f'{t:.1f}' for t in times)})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parity", action="store_true", help="also time the parity test's workload")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        autograder = tmp / "autograder.zip"
        print(f"wall times on {os.cpu_count()} cores, {args.runs} run(s) each:")
        report("make otter (build the zip)", timed(args.runs, lambda: build.build(autograder, quiet=True)))

        def make_grade():
            out = tmp / "g"
            shutil.rmtree(out, ignore_errors=True)
            assert grade([str(ROOT / "solutions")], out, jobs=2, quiet=True)["solutions"]["score"] == 100

        def otter_run():
            out = tmp / "o"
            shutil.rmtree(out, ignore_errors=True)
            got = batch.run([str(ROOT / "solutions")], autograder, out, jobs=1, engine_jobs=2, quiet=True)
            assert got["solutions"]["total"] == 100, got

        report("make grade, the reference (-j 2)", timed(args.runs, make_grade))
        report("otter run, the reference", timed(args.runs, otter_run))
        nb_test = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_notebook.py",
                   "-k", "runs_clean"]
        report("notebook, executed (its pytest)", timed(args.runs, lambda: subprocess.run(
            nb_test, cwd=ROOT, check=True, capture_output=True)))
        if args.parity:
            parity = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/test_otter.py",
                      "-k", "scores_of_make_grade"]
            report("parity test alone (catalog both ways)", timed(1, lambda: subprocess.run(parity, cwd=ROOT, check=True)))


if __name__ == "__main__":
    main()
