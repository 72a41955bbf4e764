"""Benchmark (not a test): `python tests/bench/bench_container.py [--memory MIB] [--quota CPUS] [--runs 3]`.

The Gradescope autograder in a simulated small container (tests/containersim.py: one CPU of this
machine, and a cgroup with the memory and CPU quota given, real where this process may create
cgroups, else a folder that tells the kit the same). Prints:

  1. what the kit read and chose (results.json's extra_data["container"]);
  2. the calibration's time (setup.sh measures it once when Gradescope builds the image);
  3. run_autograder's wall time for one full submission, median of --runs: the reference, and the
     catalog's loop-based alternatives of every part together (the slowest correct code the kit knows);
  4. the most a submission can take: every test of every part running to its time limit (an endless
     loop everywhere), from the calibration; with --endless, also measured once.

Gradescope's overall timeout must be above (4), or a student whose code never ends gets no results
at all (https://gradescope-autograders.readthedocs.io/en/latest/troubleshooting/: 10 minutes by
default, 40 at most). The CPU time is what limits are charged (grader/sandbox/meter.py); on a machine
shared with other work, the wall times here grow with its load, so run it on an idle machine. The CPU
time of the container's processes together (counted by its cgroup, where it is real) does not: on one
CPU of its own, with one part at a time, a run takes about that long.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import containersim  # noqa: E402
from grader.engine.grade import CALIBRATION_CACHE_ENV, CALIBRATION_NAME  # noqa: E402
from grader.parts import GRADED  # noqa: E402
from grader.sandbox.client import Limits  # noqa: E402

LOOPS = {"activations": "activations__loops", "logistic_regression": "logistic_regression__loops",
         "two_layer_net": "two_layer_net__per_example", "mlp": "mlp__loops_object_cache"}
ENDLESS = "\ndef {name}(*args, **kwargs):\n    while True:\n        pass\n"


def upload(kind):
    if kind == "reference":
        return {f"{p}.py": (ROOT / "solutions" / f"{p}.py").read_text(encoding="utf-8") for p in GRADED}
    if kind == "loops":
        return {f"{p}.py": (ROOT / "catalog" / "alternatives" / f"{LOOPS[p]}.py").read_text(encoding="utf-8")
                for p in GRADED}
    # endless: every public function of the reference loops forever
    import ast
    files = {}
    for p in GRADED:
        source = (ROOT / "solutions" / f"{p}.py").read_text(encoding="utf-8")
        names = [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
        files[f"{p}.py"] = source + "".join(ENDLESS.format(name=n) for n in names)
    return files


def worst_case(calibration, limits=None):
    """Seconds of student time if every test runs to its limit, and the number of tests."""
    limits = limits or Limits()
    tests = [t for part in calibration["parts"].values() for t in part.values()]
    return sum(limits.for_test(t) for t in tests), len(tests)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=int, default=1536, help="the container's memory in MiB (default 1536)")
    parser.add_argument("--quota", type=float, default=1.0, help="its CPU quota in CPUs (default 1)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--endless", action="store_true", help="also grade an endless loop everywhere, once")
    parser.add_argument("--cpu", type=int, help="the CPU to run on (default: the first this process may use)")
    args = parser.parse_args()
    env = dict(os.environ)
    env.pop(CALIBRATION_CACHE_ENV, None)             # Gradescope's: the calibration of setup.sh
    with tempfile.TemporaryDirectory(prefix="bench-container-", dir=Path.home()) as tmp:
        root = containersim.autograder_tree(Path(tmp))
        box = containersim.SmallContainer(Path(tmp), args.memory << 20, quota=args.quota, cpu=args.cpu)
        try:
            print(f"simulated container: {box.enforced}")
            started, before = time.monotonic(), box.cpu_seconds()
            proc = box.run([sys.executable, "-m", "grader", "gradescope", "calibrate", "--root", str(root)],
                           env=env, cwd=root / "source" / "kit", capture_output=True, text=True)
            cpu = "" if before is None else f", {box.cpu_seconds() - before:.1f} s CPU"
            print(f"calibration (setup.sh): {time.monotonic() - started:.1f} s wall{cpu}; {proc.stdout.strip()}")
            if proc.returncode:
                print(proc.stdout[-3000:], proc.stderr[-3000:])
                return 1
            calibration = json.loads((root / "source" / CALIBRATION_NAME).read_text(encoding="utf-8"))
            kinds = ["reference", "loops"] + (["endless"] if args.endless else [])
            for kind in kinds:
                times, cpu, results = [], [], None
                for _ in range(1 if kind == "endless" else args.runs):
                    started, before = time.monotonic(), box.cpu_seconds()
                    results, proc = box.run_autograder(root, upload(kind), env=env, timeout=3600)
                    times.append(time.monotonic() - started)
                    if before is not None:
                        cpu.append(box.cpu_seconds() - before)
                    if results is None:
                        print(f"{kind}: no results.json (exit {proc.returncode})\n{proc.stdout[-2000:]}")
                        return 1
                parts = results["extra_data"]["parts"]
                print(f"{kind}: {results['score']:g} / {results['extra_data']['max_score']:g}; run_autograder "
                      f"median {statistics.median(times):.1f} s wall of {len(times)} "
                      f"({', '.join(f'{t:.1f}' for t in times)})"
                      + (f", median {statistics.median(cpu):.1f} s CPU ({', '.join(f'{t:.1f}' for t in cpu)}: the "
                         f"container's processes together, its wall time on a CPU of its own)" if cpu else "")
                      + "; parts: "
                      + ", ".join(f"{p} {i['seconds']:g} s" for p, i in parts.items()))
            record = results["extra_data"]["container"]
            print(f"read: {json.dumps(record['read'])}\nchosen: {record['jobs']} part(s) at once; {record['formula']}")
            seconds, n = worst_case(calibration)
            print(f"worst case (every one of {n} tests runs to its limit): {seconds:.0f} s of student time, "
                  f"plus a worker start per test")
            kills, peak = box.oom_kills(), box.peak_memory()
            if kills is not None:
                print(f"the container's memory at its peak (all runs): {peak / 2**20:.0f} MiB; processes the kernel "
                      f"killed for its limit: {kills}")
        finally:
            box.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
