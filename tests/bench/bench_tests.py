"""Benchmark (not a test): where `make test`'s CPU time goes, group by group.

    python tests/bench/bench_tests.py [--log cpu.jsonl] [--top 15] [-- PYTEST ARGS]
    python tests/bench/bench_tests.py --summarize cpu.jsonl

Runs make test's pytest command (read from the Makefile, so the two agree) with the plugin
tests/bench/cpu_by_group.py, which records each test's CPU-seconds, its processes included. Prints the
run's wall time, the machine's busy CPU-seconds over the run (/proc/stat: what the cores did, whoever
did it), the CPU-seconds the tests account for, then each xdist group (the catalog, or a file) by CPU
time with its share and its tests' wall time, and the most expensive tests. make test is bound by
its CPU (both cores busy for all but its first seconds), so its wall time on 2 cores is about the
total CPU time over 2: a group's CPU time is what it adds to the run. PYTEST ARGS after `--` are added; files among them replace
the whole collection (e.g. `-- tests/test_hostile.py`); --summarize prints an earlier log.
"""
import argparse
import collections
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "tests.bench.cpu_by_group"


def make_test_arguments():
    """The pytest arguments of the Makefile's `test` target."""
    recipe = re.search(r"^test:\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    line = next(line for line in recipe.group(1).splitlines() if "-m pytest" in line)
    return shlex.split(line.split("-m pytest", 1)[1])


def busy_seconds():
    """The CPU-seconds all cores have been busy since boot (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def read_log(log):
    return [json.loads(line) for line in Path(log).read_text(encoding="utf-8").splitlines() if line.strip()]


def remove_groups(log):
    """Remove the cgroups the plugin could not remove itself (a descendant still in them when pytest ended)."""
    for row in read_log(log):
        folder = Path(row.get("cgroup_left", ""))
        if not folder.name.startswith("mlp-kit-cpu-"):
            continue
        for _ in range(100):             # up to 10 s for the last processes to end
            try:
                folder.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
        else:
            print(f"could not remove {folder}: a process still runs in it", file=sys.stderr)


def summarize(log, top, wall=None, busy=None):
    rows = [row for row in read_log(log) if "test" in row]
    groups = collections.defaultdict(lambda: {"cpu": 0.0, "wall": 0.0, "tests": 0})
    for row in rows:
        group = groups[row["group"]]
        group["cpu"] += row["cpu"]
        group["wall"] += row["wall"]
        group["tests"] += 1
    total = sum(g["cpu"] for g in groups.values())
    if wall is not None:
        print(f"wall time {wall:.0f} s; the machine's busy CPU time {busy:.0f} s "
              f"({busy / wall:.2f} cores busy on average)")
    counted = sorted({row.get("counted", "rusage") for row in rows})
    print(f"{len(rows)} tests used {total:.0f} CPU-seconds, their processes included "
          f"(on 2 cores: {total / 2:.0f} s of wall time; counted by {' and '.join(counted)}"
          f"{': misses orphans, see tests/bench/cpu_by_group.py' if 'rusage' in counted else ''})")
    print(f"{'CPU-s':>8} {'share':>6} {'wall-s':>8} {'tests':>6}  group")
    for name, group in sorted(groups.items(), key=lambda kv: -kv[1]["cpu"]):
        print(f"{group['cpu']:8.1f} {100 * group['cpu'] / max(total, 1e-9):5.1f}% {group['wall']:8.1f} "
              f"{group['tests']:6d}  {name}")
    print(f"the {top} tests that used the most CPU time (a module's fixtures count for its first test):")
    for row in sorted(rows, key=lambda r: -r["cpu"])[:top]:
        print(f"{row['cpu']:8.1f} {row['wall']:8.1f}  {row['test']}")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else None
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", help="the per-test log to write (default: a temporary file)")
    parser.add_argument("--summarize", metavar="LOG", help="print the summary of an earlier log, run nothing")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    if args.summarize:
        summarize(args.summarize, args.top)
        return 0
    log = Path(args.log or tempfile.mkstemp(prefix="make-test-cpu-", suffix=".jsonl")[1])
    log.write_text("", encoding="utf-8")
    pytest_args = make_test_arguments()
    pytest_args += extra or []            # the Makefile's line selects no file: its options, then these
    env = dict(os.environ, MLP_KIT_CPU_LOG=str(log))         # the plugin: importable from ROOT, pytest's folder
    cmd = [sys.executable, "-m", "pytest", "-p", PLUGIN, *pytest_args]
    print("running:", shlex.join(cmd), flush=True)
    busy, start = busy_seconds(), time.monotonic()
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    wall, busy = time.monotonic() - start, busy_seconds() - busy
    remove_groups(log)
    print(f"\npytest exited with {code}; the per-test log: {log}")
    summarize(log, args.top, wall, busy)
    return code


if __name__ == "__main__":
    sys.exit(main())
