"""Benchmarks (not tests): `make bench` or `python tests/bench/bench_grading.py`.

Prints, as medians over --runs repetitions:
  1. the wall time to grade one full submission (the reference), with 1 and
     2 parallel jobs, and their ratio;
  2. (--batch) the throughput on a batch of 20 submissions (copies of the
     partial example) with 1 and 2 jobs, and the speed-up;
  3. the reference MLP on the bundled MNIST sample: seconds per epoch and
     test accuracy, for fit's defaults (5 epochs, lr 0.1) and for a longer
     run (20 epochs, lr 0.05), over seeds 0-4.
BLAS runs single-threaded (as in the grader), so the numbers do not depend
on what else the machine is doing with its other core.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from grader.grade import grade  # noqa: E402
from solutions import mlp  # noqa: E402
from solutions.datasets import load_mnist  # noqa: E402


def bench_grading(runs):
    print("grading one full submission (solutions/), wall time:")
    medians = {}
    for jobs in (1, 2):
        times = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                res = grade([str(ROOT / "solutions")], out, jobs=jobs, names=["reference"], quiet=True)
                times.append(time.perf_counter() - start)
                assert res["reference"]["score"] == 100, res["reference"]["output"]
        medians[jobs] = statistics.median(times)
        print(f"  -j {jobs}: median {medians[jobs]:.1f} s over {runs} runs "
              f"({', '.join(f'{t:.1f}' for t in times)})")
    print(f"  speed-up of -j 2 over -j 1: {medians[1] / medians[2]:.2f}x   (goal: <= 20 s with -j 2)")


def bench_batch(runs, size=20):
    partial = str(ROOT / "grader" / "examples" / "partial")
    print(f"\ngrading a batch of {size} submissions (copies of the partial example), wall time:")
    medians = {}
    for jobs in (1, 2):
        times = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                grade([partial] * size, out, jobs=jobs, names=[f"s{i}" for i in range(size)], quiet=True)
                times.append(time.perf_counter() - start)
        medians[jobs] = statistics.median(times)
        print(f"  -j {jobs}: median {medians[jobs]:.1f} s over {runs} runs ({', '.join(f'{t:.1f}' for t in times)}), "
              f"{size / medians[jobs] * 60:.1f} submissions/minute")
    print(f"  speed-up of -j 2 over -j 1: {medians[1] / medians[2]:.2f}x   (goal: >= 1.7x on 2 cores)")


def bench_mlp(seeds):
    Xtr, ytr = load_mnist(split="train")
    Xte, yte = load_mnist(split="test")
    print(f"\nreference MLP (784-128-256-10) on the bundled sample ({len(ytr)} train / {len(yte)} test):")
    for epochs, lr in ((5, 0.1), (20, 0.05)):
        per_epoch, accs = [], []
        for seed in seeds:
            start = time.perf_counter()
            params, _ = mlp.fit(Xtr, ytr, epochs=epochs, lr=lr, seed=seed, verbose=False)
            per_epoch.append((time.perf_counter() - start) / epochs)
            accs.append(float(np.mean(mlp.predict(params, Xte) == yte)))
        print(f"  epochs={epochs:2d} lr={lr}: {statistics.median(per_epoch):.3f} s/epoch (median), "
              f"test accuracy median {statistics.median(accs):.1%}, min {min(accs):.1%}, max {max(accs):.1%} "
              f"over seeds {seeds[0]}-{seeds[-1]}")
    print("  (goal: >= 93% test accuracy)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--skip-grading", action="store_true")
    parser.add_argument("--batch", action="store_true", help="also time a batch of 20 (several minutes)")
    args = parser.parse_args()
    if not args.skip_grading:
        bench_grading(args.runs)
    if args.batch:
        bench_batch(args.runs)
    bench_mlp(list(range(args.seeds)))


if __name__ == "__main__":
    main()
