"""Benchmarks (not tests): `make bench` or `python tests/bench/bench_grading.py`.

Prints, as medians over --runs repetitions:
  0. (--backends) the wall time to grade one full submission (the reference) with 2 jobs on each
     sandbox backend this host offers, next to a checkout of an earlier kit (--baseline DIR, e.g.
     `git worktree add /tmp/before b372c9d`, the kit before CPU-time limits), measured the same way
     in alternation, and how much of it is the calibration (grading the reference once per batch);
     the MLP part alone on each; and the cost of one call of the reference activations from
     student code (computed by the judge over the wire) against a local call;
  1. the wall time to grade one full submission (the reference), with 1 and
     2 parallel jobs, and their ratio;
  2. (--batch) the throughput on a batch of 20 submissions (copies of the
     partial example) with 1 and 2 jobs, and the speed-up;
  3. the reference MLP on the bundled MNIST sample: seconds per epoch and
     test accuracy, for fit's defaults (5 epochs, lr 0.1) and for a longer
     run (20 epochs, lr 0.05), over seeds 0-4;
  4. (--class N) a synthetic class of N full submissions graded once with
     `-j 2` (issue 20's goal: 300 in at most 10 minutes on 2 idle cores): 80%
     correct (the reference, and each correct alternative of the catalog in
     turn), 18% with one catalog bug each, 2% whose mlp.fit never returns;
     the total, the rate, and the median seconds per submission of each kind.
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

from grader.engine.grade import grade  # noqa: E402
from solutions import mlp  # noqa: E402
from tooling.datasets import load_mnist  # noqa: E402


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


ONE = """
import sys, tempfile, time
sys.path.insert(0, {root!r})
from grader.engine.grade import grade
parts = {parts!r}
with tempfile.TemporaryDirectory() as out:
    start = time.perf_counter()
    res = grade([{root!r} + "/solutions"], out, jobs=2, names=["reference"], quiet=True, **({{"parts": parts}} if parts else {{}}))
    seconds = time.perf_counter() - start
assert res["reference"]["score"] == res["reference"]["max_score"], res["reference"]["output"]
print(seconds, (res["reference"]["extra_data"].get("time") or {{}}).get("seconds", 0.0))
"""


def _one(root, backend=None, parts=None, calibration=None):
    """Seconds to grade the reference in a fresh process (the batch's preflight and calibration included);
    the calibration's own seconds go to the list `calibration`."""
    import subprocess
    env = dict(os.environ)
    env.pop("GRADER_SANDBOX", None)
    env.pop("MLP_KIT_CALIBRATION_FILE", None)
    if backend:
        env["GRADER_SANDBOX"] = backend
    out = subprocess.run([sys.executable, "-c", ONE.format(root=str(root), parts=parts)], env=env, cwd=str(root),
                         capture_output=True, text=True, check=True).stdout
    seconds, calibrating = (float(x) for x in out.strip().splitlines()[-1].split())
    if calibration is not None:
        calibration.append(calibrating)
    return seconds


def bench_backends(runs, baseline):
    from grader.sandbox import backends
    available = [b for b in ("namespaces", "landlock") if backends.available(b)]
    print(f"grading one full submission (solutions/) with -j 2, each in a fresh process, {runs} runs, medians:")
    for parts, label in ((None, "all four parts"), (("mlp",), "the MLP part alone")):
        times = {name: [] for name in (["before"] if baseline else []) + available}
        calibration = {name: [] for name in available}
        for _ in range(runs):                       # alternate, so that the machine's load hits all alike
            if baseline:
                times["before"].append(_one(Path(baseline), parts=parts))
            for backend in available:
                times[backend].append(_one(ROOT, backend, parts=parts, calibration=calibration[backend]))
        medians = {name: statistics.median(t) for name, t in times.items()}
        print(f"  {label}:")
        for name, t in times.items():
            ratio = f", {medians[name] / medians['before']:.2f}x before" if baseline and name != "before" else ""
            print(f"    {name:10s} median {medians[name]:.2f} s ({', '.join(f'{x:.2f}' for x in t)}){ratio}")
            if calibration.get(name):
                c = statistics.median(calibration[name])
                print(f"    {'':10s} of which the calibration (grading the reference once per batch): median "
                      f"{c:.2f} s; without it {medians[name] - c:.2f} s"
                      + (f", {(medians[name] - c) / medians['before']:.2f}x before" if baseline else ""))
    if baseline:
        print("  (goal: at most 1.3x before)")


def bench_remote_call(calls=2000):
    """One call of the reference relu from student code: in the worker's process (before) or computed by
    the judge over the wire (now), on a minibatch-sized array (64 x 256)."""
    import tempfile as _tf
    from grader.engine.staging import reference_functions
    from grader.sandbox.client import Limits, StudentModule
    from grader.engine.staging import stage_package
    from solutions import activations
    source = ("from .activations import relu\nimport numpy as np, time\n"
              "def loop(x, n):\n    t = time.perf_counter()\n    for _ in range(n):\n        relu(x)\n"
              "    return time.perf_counter() - t\n")
    x = np.random.default_rng(0).normal(size=(64, 256))
    with _tf.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mlp.py"
        path.write_text(source)
        m = StudentModule("mlp", stage_package("mlp", path, Path(tmp) / "pkg"), Limits(test_seconds=300),
                          remote=reference_functions("mlp"))
        try:
            remote = statistics.median(m.loop(x, calls) / calls for _ in range(3))
        finally:
            m.close()
    start = time.perf_counter()
    for _ in range(calls):
        activations.relu(x)
    local = (time.perf_counter() - start) / calls
    fit_calls = 4 * 5 * (4000 // 64 + 1)      # relu and relu_backward on 2 hidden layers, 5 epochs, 4000 rows
    print(f"\none call of the reference relu on a (64, 256) array: {remote * 1e6:.0f} us through the judge, "
          f"{local * 1e6:.0f} us in-process; one MLP fit with fit's defaults makes about {fit_calls} such "
          f"calls: +{fit_calls * (remote - local):.2f} s")


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


def synthetic_class(n, dest):
    """{name: (kind, folder)}: n full submissions (every graded part), as bench_class describes them."""
    import shutil
    from catalog import alternative_folders, apply_edits
    from catalog.bugs import BUGS
    from grader.parts import GRADED
    dest = Path(dest)
    alternatives = list(alternative_folders(dest / "_alternatives").values())
    reference = {part: (ROOT / "solutions" / f"{part}.py").read_text() for part in GRADED}
    hanging = reference["mlp"].replace("def fit(", "def fit(*args, **kwargs):\n    while True:\n        pass\n\n\n"
                                       "def _fit_unused(", 1)
    out = {}
    for i in range(n):
        files = dict(reference)
        if i % 50 == 49:
            kind, files["mlp"] = "hanging", hanging
        elif i % 50 >= 40:
            bug = BUGS[i % len(BUGS)]
            kind, files[bug.part] = "buggy", apply_edits(reference[bug.part], bug)
        else:
            kind = "correct"
            if i % 4:
                part, folder = alternatives[i % len(alternatives)]
                files[part] = (Path(folder) / f"{part}.py").read_text()
        folder = dest / f"s{i:03d}"
        folder.mkdir(parents=True)
        for part, text in files.items():
            (folder / f"{part}.py").write_text(text)
        out[folder.name] = (kind, folder)
    shutil.rmtree(dest / "_alternatives")
    return out


def bench_class(n, jobs=2):
    from collections import defaultdict
    with tempfile.TemporaryDirectory() as tmp:
        made = synthetic_class(n, Path(tmp) / "subs")
        kinds = defaultdict(int)
        for kind, _ in made.values():
            kinds[kind] += 1
        print(f"\ngrading a synthetic class of {n} ({', '.join(f'{v} {k}' for k, v in kinds.items())}) "
              f"with -j {jobs}:")
        start = time.perf_counter()
        res = grade([str(f) for _, f in made.values()], str(Path(tmp) / "out"), jobs=jobs, names=list(made),
                    quiet=True)
        total = time.perf_counter() - start
        seconds, own = defaultdict(list), defaultdict(list)
        for name, (kind, _) in made.items():
            parts = res[name]["extra_data"]["parts"]
            seconds[kind].append(sum(p.get("seconds") or 0.0 for p in parts.values()))
            own[kind].append(student_cpu_seconds(res[name]))
            if kind == "correct":
                assert res[name]["score"] == 100, (name, res[name]["score"])
        print(f"  {total:.0f} s in all ({total / 60:.1f} min), {n / total * 60:.1f} submissions/minute "
              f"(goal: {n} in at most 600 s)")
        for kind, values in seconds.items():
            print(f"  {kind:8s} median {statistics.median(values):.1f} s of parts' grading per submission "
                  f"(max {max(values):.1f}); the student code's own CPU time: median {statistics.median(own[kind]):.2f} s")
        floor = sum(sum(v) for v in own.values())
        print(f"  the student code alone used {floor:.0f} CPU-seconds: {floor / jobs:.0f} s on {jobs} cores even if "
              f"grading cost nothing (the floor no grader can go under), {floor / total / jobs:.0%} of the "
              f"batch's {jobs} cores' time")


def student_cpu_seconds(result):
    """The CPU time the student's own calls used in a results.json (each test's time.cpu_seconds, as the
    sandbox's meter charged it)."""
    return sum(((t.get("extra_data") or {}).get("time") or {}).get("cpu_seconds") or 0.0
               for t in result.get("tests", ()))


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
    parser.add_argument("--backends", action="store_true", help="time each sandbox backend (and --baseline)")
    parser.add_argument("--baseline", help="a checkout of the kit to compare with (before the allowlist sandbox)")
    parser.add_argument("--skip-mlp", action="store_true")
    parser.add_argument("--class", dest="class_size", type=int, metavar="N",
                        help="grade a synthetic class of N submissions with -j 2 (300: about ten minutes)")
    args = parser.parse_args()
    if args.backends:
        bench_backends(args.runs, args.baseline)
        bench_remote_call()
        return
    if not args.skip_grading:
        bench_grading(args.runs)
    if args.batch:
        bench_batch(args.runs)
    if args.class_size:
        bench_class(args.class_size)
    if not args.skip_mlp:
        bench_mlp(list(range(args.seeds)))


if __name__ == "__main__":
    main()
