"""The kernel sweep: what the kit generates and checks does not depend on the CPU.

OpenBLAS picks a kernel per CPU and numpy its SIMD loops, and both change the
last bits of float64 results. Each configuration below stands in for another
machine: an OpenBLAS kernel (OPENBLAS_CORETYPE), a thread count
(OPENBLAS_NUM_THREADS) and the numpy SIMD level such a CPU has
(NPY_DISABLE_CPU_FEATURES). Under each, tests/kernel_probe.py reports:

- the drift check (`make check-assignment`), which must be clean: the
  committed public tests count as up to date on every machine;
- the public checks' verdict on every case, for the reference, the 80 catalog
  bugs and the 10 correct alternatives, which must be the same everywhere: a
  public test that passes on one machine passes on every other, and the reverse;
- the same for the reference and the alternatives with every tolerance of the
  public checks divided by 100, which must all pass: no correct submission
  comes within 100x of a limit, on any machine.

Cost: a 1-thread probe takes about 63 CPU-seconds (the public MNIST case,
which trains 27 networks, 33 of them; the other cases 24; the margin 5). Each
kernel runs one under 1 thread. Under 2 threads a probe first trains the
reference on MNIST: where that is bit-identical to 1 thread's, it checks the
drift and the margin only (12-15 CPU-seconds, where the verdicts without the
MNIST case and the margin took 37), and the 1-thread verdicts stand for it.
The file took 337 CPU-seconds, 207 s, on 2 otherwise idle cores. OpenBLAS
splits the larger products across threads by rows and columns only, which
changes no element's arithmetic, and runs smaller ones on one thread;
SkylakeX's training differs, and there the whole probe runs again.
Configurations that OpenBLAS runs with the same kernel and numpy at the same
level (this numpy's OpenBLAS runs Zen with its Haswell kernels) are the same
arithmetic and share one probe. A kernel the CPU cannot run is skipped
with the reason.
"""
import json
import os
import platform
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from catalog.bugs import BUGS
from grader.engine.grade import ROOT

KERNELS = ("Prescott", "Sandybridge", "Haswell", "SkylakeX", "Zen")
THREADS = (1, 2)
# The CPU flags (/proc/cpuinfo) each kernel needs, the names OpenBLAS reports for it
# (a DYNAMIC_ARCH build runs Prescott with its Katmai kernels and Zen with Haswell's),
# and the numpy SIMD level of such a CPU (numpy 2.x: X86_V2 = SSE4.2, X86_V3 = AVX2,
# None = everything this CPU has, AVX-512 included).
NEEDS = {"Prescott": {"pni"}, "Sandybridge": {"avx"}, "Haswell": {"avx2", "fma"},
         "SkylakeX": {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"}, "Zen": {"avx2", "fma"}}
REPORTED = {"Prescott": {"Prescott", "Katmai"}, "Sandybridge": {"Sandybridge"}, "Haswell": {"Haswell"},
            "SkylakeX": {"SkylakeX", "Cooperlake", "SapphireRapids"}, "Zen": {"Zen", "Haswell"}}
NUMPY_LEVEL = {"Prescott": "X86_V2", "Sandybridge": "X86_V2", "Haswell": "X86_V3", "SkylakeX": None, "Zen": "X86_V3"}
CONFIGS = [(kernel, threads) for kernel in KERNELS for threads in THREADS]
IDS = [f"{k}-{t}thread" for k, t in CONFIGS]
PROBE_SECONDS = 3600


def cpu_flags():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def unsupported(kernel):
    if platform.machine() not in ("x86_64", "AMD64"):
        return f"OpenBLAS's {kernel} kernel is x86-64 only; this is {platform.machine()}"
    missing = NEEDS[kernel] - cpu_flags()
    return f"this CPU lacks {', '.join(sorted(missing))} for {kernel}" if missing else None


def environment(kernel, threads):
    from numpy._core._multiarray_umath import __cpu_dispatch__
    level = NUMPY_LEVEL[kernel]
    targets = list(__cpu_dispatch__)
    above = [] if level is None else targets[targets.index(level) + 1:] if level in targets else targets
    # OPENBLAS_THREAD_TIMEOUT: an idle BLAS thread spins 2^4 cycles, not 2^28, before it sleeps. The
    # arithmetic is the same; a two-thread probe then needs 31 CPU-seconds, not 40 (and far fewer beside
    # other work, where the spinning thread waits for a partner that is not running).
    return dict(os.environ, OPENBLAS_CORETYPE=kernel, OPENBLAS_NUM_THREADS=str(threads),
                OPENBLAS_THREAD_TIMEOUT="4", NPY_DISABLE_CPU_FEATURES=" ".join(above), PYTHONPATH=str(ROOT),
                PYTHONWARNINGS="ignore")


def identity(config):
    """(OpenBLAS kernel, numpy level, threads) that a configuration actually runs with."""
    code = "from tests.kernel_probe import openblas_core, numpy_level; print(openblas_core(), numpy_level())"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment(*config), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    core, level = proc.stdout.split()
    return core, level, config[1]


def probe(config, out, same_unless=None):
    kernel, threads = config
    cmd = [sys.executable, "-m", "tests.kernel_probe", str(out)] + (["--same-unless", same_unless]
                                                                   if same_unless else [])
    proc = subprocess.run(cmd, cwd=ROOT, env=environment(kernel, threads), capture_output=True, text=True,
                          timeout=PROBE_SECONDS)
    assert proc.returncode == 0, f"the probe failed under {kernel}, {threads} thread(s):\n{proc.stderr[-3000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """config -> probe report; configurations with the same identity share one report."""
    runnable = [c for c in CONFIGS if not unsupported(c[0])]
    tmp = tmp_path_factory.mktemp("kernels")
    with ThreadPoolExecutor(max_workers=2) as pool:
        identities = dict(zip(runnable, pool.map(identity, runnable)))
        first = {}
        for config, ident in identities.items():
            first.setdefault(ident, config)
        single = [c for c in first.values() if c[1] == 1]
        probed = dict(zip(single, pool.map(lambda c: probe(c, tmp / f"{c[0]}-1.json"), single)))
        # More threads: the verdicts only where the reference's MNIST training differs from 1 thread's.
        twin = {c: next((s for s in single if s[0] == c[0]), None) for c in first.values() if c[1] > 1}
        probed.update(zip(twin, pool.map(lambda c: probe(c, tmp / f"{c[0]}-{c[1]}.json",
                                                         twin[c] and probed[twin[c]]["mnist_digest"]), twin)))
    return {config: dict(probed[first[ident]], identity=ident) for config, ident in identities.items()}


def report_for(reports, kernel, threads):
    why = unsupported(kernel)
    if why:
        pytest.skip(why)
    return reports[(kernel, threads)]


@pytest.mark.parametrize("kernel, threads", CONFIGS, ids=IDS)
def test_the_machine_is_the_one_asked_for(reports, kernel, threads):
    """The probe ran the kernel, numpy level and threads it was given (else it would prove nothing)."""
    report = report_for(reports, kernel, threads)
    core, level, _ = report["identity"]
    assert core in REPORTED[kernel] and report["core"] == core, f"asked for {kernel}, OpenBLAS ran {core}"
    assert NUMPY_LEVEL[kernel] is None or level == NUMPY_LEVEL[kernel] == report["numpy_level"], level
    assert report["threads"] == str(threads)


@pytest.mark.parametrize("kernel, threads", CONFIGS, ids=IDS)
def test_the_committed_assignment_is_up_to_date(reports, kernel, threads):
    report = report_for(reports, kernel, threads)
    assert report["drift"] == [], "\n".join(report["drift"])


def verdicts_of(reports, kernel, threads):
    """The public checks' verdicts under (kernel, threads): the probe's own, or, where it found the reference's
    MNIST training bit-identical to 1 thread's (the products threads split are computed as under 1 thread,
    smaller ones are not split), the 1-thread probe's."""
    report = report_for(reports, kernel, threads)
    if report["verdicts"] is not None:
        return report["verdicts"]
    one = report_for(reports, kernel, 1)
    assert threads > 1 and report["mnist_digest"] == one["mnist_digest"], (kernel, threads)
    return one["verdicts"]


@pytest.mark.parametrize("kernel, threads", CONFIGS, ids=IDS)
def test_public_checks_give_the_same_verdicts(reports, kernel, threads):
    report = dict(report_for(reports, kernel, threads), verdicts=verdicts_of(reports, kernel, threads))
    baseline_config = next(c for c in reports if c[1] == 1)
    baseline = reports[baseline_config]["verdicts"]
    assert set(report["verdicts"]) == set(baseline)
    differ = {}
    for name, cases in report["verdicts"].items():
        for title, passed in cases.items():
            if passed != baseline[name][title]:
                differ.setdefault(name, []).append(f"{title}: {'passes' if passed else 'fails'} here")
    assert not differ, f"verdicts under {kernel}/{threads} differ from those under {baseline_config}: {differ}"
    # ... and they are the right ones: correct code passes; all the catalog's bugs are flagged
    # (tests/test_public_checks.py).
    wrong = [name for name, cases in report["verdicts"].items()
             if not name.startswith("bug:") and not all(cases.values())]
    assert not wrong, f"correct code fails a public check under {kernel}/{threads}: {wrong}"
    flagged = [name for name, cases in report["verdicts"].items()
               if name.startswith("bug:") and not all(cases.values())]
    assert len(flagged) == len(BUGS), len(flagged)


@pytest.mark.parametrize("kernel", KERNELS)
def test_the_mnist_case_ran_wherever_threads_change_the_arithmetic(reports, kernel):
    one, two = report_for(reports, kernel, 1), report_for(reports, kernel, 2)
    assert one["mnist_checked"]
    assert two["mnist_checked"] or two["mnist_digest"] == one["mnist_digest"]


@pytest.mark.parametrize("kernel, threads", CONFIGS, ids=IDS)
def test_correct_code_passes_with_a_hundredth_of_every_tolerance(reports, kernel, threads):
    report = report_for(reports, kernel, threads)
    tight = {name: [t for t, ok in cases.items() if not ok] for name, cases in report["margin"].items()
             if not all(cases.values())}
    assert len(report["margin"]) == 14 and not tight, tight
