"""Benchmark (not a test): the cost of a call the judge serves (a stub of another part's function).

    python3 tests/bench/bench_served.py [--runs 7] [--calls 5000] [--baseline DIR] [--backend namespaces]

Prints, as medians over --runs repetitions (each in a fresh process with fresh workers, kits and
placements measured in alternation so that the machine's load hits them alike), with the judge and its
worker where the kernel puts them and, pinned, on one CPU (--placement):
  1. a bare round trip: student code calling the served reference sigmoid on a (4, 2) float64 array
     in a loop, per call, and the same loop with the student's own activations in the worker (a local
     call: what the round trip adds is the difference);
  2. the two-layer net's 5000-epoch XOR fit (20,000 activation calls) with its own activations in the
     worker, and with the activations served by the judge; their ratio;
  3. a served relu on a (1000, 256) float64 array (2 MB each way, as large as an MNIST network's
     parameters, which a served forward receives at every minibatch; relu itself takes 0.14 ms here), per
     call, with the judge's CPU time, and the same call in the worker.
--baseline DIR: a checkout of the kit to compare with, e.g. the one before the compact frame:
    mkdir /tmp/before && git archive b372c9d | tar -x -C /tmp/before

Measured here (a VM with 2 CPUs, namespaces backend, medians of 5 runs, the machine otherwise idle;
per served call, what a local call costs (3.5 us) included):
                          any CPU                                 one CPU
  before (JSON frames)    208 us; XOR fit 0.22 s own, 4.71 s served: 22x   138 us; 0.22 s, 3.50 s: 16x
  compact frame           112 us; XOR fit 0.21 s own, 2.59 s served: 12x    37 us; 0.22 s, 1.24 s: 5.6x
With other jobs on the machine (load ~2-5) the kernel keeps the pair on one CPU more often: any CPU,
before 251 us (14.5x), compact 55 us (3.4x). On two CPUs each wake-up of the other, idle, virtual CPU
is slow: a bare pipe ping-pong between two processes takes 3-4 us on one CPU, 80-120 us across two.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ONE = r"""
import dataclasses, inspect, json, os, sys, tempfile, time
if {one_cpu}:                       # this process and the workers it starts (they inherit the mask) on one CPU
    os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})
from pathlib import Path
sys.path.insert(0, {root!r})
import numpy as np
from grader.sandbox import client
from grader.engine.staging import stage_package, reference_functions
from grader.engine import dependencies

ROOT = Path({root!r})
LOOP = '''

def _bench_loop(x, n):
    start = time.perf_counter()
    for _ in range(n):
        sigmoid(x)
    return time.perf_counter() - start


def _bench_relu(x, n):
    from .activations import relu
    start = time.perf_counter()
    for _ in range(n):
        relu(x)
    return time.perf_counter() - start
'''
X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])
out = {{}}
with tempfile.TemporaryDirectory() as tmp:
    part = Path(tmp) / "two_layer_net.py"
    part.write_text("import time\n" + (ROOT / "solutions" / "two_layer_net.py").read_text() + LOOP)
    for mode in ("own", "served"):
        own = {{"activations": str(ROOT / "solutions" / "activations.py")}} if mode == "own" else {{}}
        root = stage_package("two_layer_net", part, Path(tmp) / mode, own=own)
        # This runs against the current kit and against an older checkout (--baseline): both APIs.
        fields = {{f.name for f in dataclasses.fields(client.Limits)}}
        limits = client.Limits(**({{"test_seconds": 600}} if "test_seconds" in fields else {{"call_seconds": 300}}))
        timeout = {{"_timeout": 300}} if "_timeout" in inspect.signature(client.StudentModule.call).parameters else {{}}
        s = client.StudentModule("two_layer_net", root, limits, remote=reference_functions("two_layer_net"),
                                 backend={backend!r}, own={{m: dependencies.CHECKS[m] for m in own}})
        try:
            s._ensure_started()
            assert s.dependency_modes() == {{"activations": "own" if mode == "own" else "reference"}}
            x = np.zeros((4, 2))
            s.call("_bench_loop", x, 200, **timeout)                         # warm up
            out[mode + "_call_us"] = s.call("_bench_loop", x, {calls}, **timeout) / {calls} * 1e6
            big = np.random.default_rng(0).normal(size=(1000, 256))        # 2 MB: an MNIST network's parameters
            cpu = time.process_time()
            out[mode + "_large_us"] = s.call("_bench_relu", big, {large}, **timeout) / {large} * 1e6
            out[mode + "_large_judge_cpu_us"] = (time.process_time() - cpu) / {large} * 1e6
            start = time.perf_counter()
            s.call("fit", X, Y, seed=0, **timeout)
            out[mode + "_fit_s"] = time.perf_counter() - start
        finally:
            s.close()
print(json.dumps(out))
"""


def run_once(root, backend, calls, one_cpu, large=300):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    script = ONE.format(root=str(root), backend=backend, calls=calls, one_cpu=one_cpu, large=large)
    text = subprocess.run([sys.executable, "-c", script],
                          env=env, cwd=str(root), capture_output=True, text=True, check=True).stdout
    return json.loads(text.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--baseline", help="a checkout of the kit to compare with")
    parser.add_argument("--backend", default=None, help="sandbox backend (default: this host's best)")
    parser.add_argument("--placement", choices=("any", "one", "both"), default="both",
                        help="run the judge and its worker where the kernel puts them (any), on one CPU, or both")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from grader.sandbox.choice import backend_for_process
    backend = args.backend or backend_for_process()
    kits = {"now": ROOT} if not args.baseline else {"before": Path(args.baseline), "now": ROOT}
    placements = {"any CPU": False, "one CPU": True}
    if args.placement != "both":
        placements = {f"{args.placement} CPU": args.placement == "one"}
    results = {(name, where): [] for name in kits for where in placements}
    for i in range(args.runs):
        for (name, where), runs in results.items():
            runs.append(run_once(kits[name], backend, args.calls, placements[where]))
            r = runs[-1]
            print(f"  run {i + 1} {name:6s} {where}: served call {r['served_call_us']:6.1f} us, own "
                  f"{r['own_call_us']:5.1f} us; XOR fit own {r['own_fit_s']:.2f} s, served {r['served_fit_s']:.2f} s; "
                  f"2 MB relu served {r['served_large_us']:.0f} us (judge CPU {r['served_large_judge_cpu_us']:.0f} us), "
                  f"own {r['own_large_us']:.0f} us", flush=True)
    print(f"\nmedians of {args.runs} runs ({backend} backend, {args.calls} calls per loop):")
    for (name, where), runs in results.items():
        med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(f"  {name}, judge and worker on {where}:")
        print(f"    one served sigmoid call on a (4, 2) float64 array: {med['served_call_us']:.1f} us "
              f"(a local call in the worker: {med['own_call_us']:.1f} us; the round trip adds "
              f"{med['served_call_us'] - med['own_call_us']:.1f} us)")
        print(f"    XOR fit (5000 epochs): own activations {med['own_fit_s']:.2f} s, served {med['served_fit_s']:.2f} s, "
              f"ratio {med['served_fit_s'] / med['own_fit_s']:.1f}x "
              f"(median of the per-run ratios {statistics.median(r['served_fit_s'] / r['own_fit_s'] for r in runs):.1f}x)")
        print(f"    one served relu call on a (1000, 256) float64 array (2 MB each way): {med['served_large_us']:.0f} us, "
              f"of which the judge's CPU {med['served_large_judge_cpu_us']:.0f} us (a local call: "
              f"{med['own_large_us']:.0f} us)")


if __name__ == "__main__":
    main()
