"""The native Gradescope autograder: `make gradescope` (python -m grader gradescope) writes
dist/gradescope.zip, which runs the kit's own engine on the submission, no otter in between.

    dist/gradescope.zip (files at the root, as Gradescope requires)
      setup.sh          finds a Python >= 3.11 (else installs Ubuntu's python3.11), makes a venv,
                        installs the engine's pinned packages (numpy, pytest, hypothesis)
      run_autograder    grades /autograder/submission: `python -m grader gradescope run`
      requirements.txt  the engine's pins, from the kit's requirements.txt
      config.json       the instructor's choices: when hidden tests are shown, the limits, and
                        whether to grade where no sandbox works (allow_unsandboxed: false unless
                        built with --allow-unsandboxed; recorded in every results.json)
      kit/              grader/, solutions/, data/mnist5k/: the engine, the suites, the reference

Gradescope's contract (https://gradescope-autograders.readthedocs.io/en/latest/specs/): the zip
is unpacked into /autograder/source, setup.sh runs once as root when the image is built, then
for each submission the student's files are in /autograder/submission, run_autograder (copied to
/autograder/run_autograder) runs from /autograder, and /autograder/results/results.json is what
Gradescope reads. Both scripts take the root from $AUTOGRADER_ROOT (default /autograder), so the
kit's tests lay out the same tree in a temporary folder.

Python: Gradescope's default base image is Ubuntu 22.04, whose python3 is 3.10
(https://gradescope-autograders.readthedocs.io/en/latest/base_images/; no 24.04 image yet:
github.com/gradescope/autograder_samples/issues/136); the kit needs 3.11, which Ubuntu 22.04 has
as the python3.11 package (universe). setup.sh uses any Python >= 3.11 already there first.

Any upload layout is graded as `make grade` grades a folder: the four module files found by
name at any depth (a repository from Gradescope's GitHub integration, nested folders, loose
files), or inside the zip the folder holds when it holds no module file. results.json has one
entry per hidden test with its points, its message as plain text in a <pre> (output_format
"text": the messages hold aligned arrays), its visibility under the instructor's policy
(grader.engine.visibility: public tests visible, hidden ones after_published by default), the
execution time, the isolation backend in the output, and a leaderboard entry for the MNIST test
accuracy of fit (when the MLP part ran far enough to measure it).

No sandbox in the container (grader.sandbox.backends: neither namespaces nor Landlock): unless the
zip was built with --allow-unsandboxed (make gradescope ALLOW_UNSANDBOXED=1), run_autograder
writes no results.json (an autograder error) and prints, for the instructor, why each sandbox fails
in this container and the two ways out: rebuild with that option, or grade elsewhere with make grade.
"""
import json
import os
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from .. import ROOT
from ..engine import visibility
from ..parts import GRADED, number
from .kit import add as _add
from .kit import engine_requirements, kit_files

DEFAULT_OUT = ROOT / "dist" / "gradescope.zip"
LEADERBOARD = ("MNIST test accuracy", "mnist_test_accuracy")      # (title, the property the suite records)
OUTPUT_FORMAT = "text"        # plain text in a <pre>: no HTML or Markdown from a student's message is rendered
JOBS = 2                      # the most parts at once; fewer where the container has fewer CPUs (sized_limits)

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (written by
# `make gradescope`; see grader/platforms/gradescope.py). $AUTOGRADER_ROOT stands for /autograder in tests.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"

python_311() {        # the first interpreter on PATH that is Python >= 3.11
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

PYTHON="$(python_311 || true)"
if [ -z "$PYTHON" ]; then
    # Ubuntu 22.04 (Gradescope's default image) ships 3.10; python3.11 is in its universe archive.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv util-linux
    PYTHON="$(python_311)" || { echo "setup.sh: no Python >= 3.11 could be installed" >&2; exit 1; }
fi
echo "setup.sh: using $PYTHON ($("$PYTHON" --version 2>&1))"

# The Python steps: a venv of the engine's pinned packages.
"$PYTHON" -m venv --system-site-packages "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/python" -c 'import numpy, pytest, hypothesis
print("setup.sh: numpy", numpy.__version__, "pytest", pytest.__version__, "hypothesis", hypothesis.__version__)'
# The sandbox runs each worker as a uid of its own (RLIMIT_NPROC, killed by uid) only where other users
# can read the Python runtime (grader/sandbox/backends.py): the venv readable, the folders above it
# searchable (not listable). What a worker may open is the sandbox's allowlist either way.
chmod a+x "$ROOT"
chmod -R a+rX "$ROOT/venv"
# The time limits are relative to the reference on the grading machine (the calibration). Measured
# here once, they serve every submission graded on a machine like this one; run_autograder measures
# again where the machine differs (another CPU model or count), or where this step could not run.
(cd "$SOURCE/kit" && "$ROOT/venv/bin/python" -m grader gradescope calibrate --root "$ROOT") ||
    echo "setup.sh: the calibration will be measured for each submission instead"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder (written by `make gradescope`;
# see grader/platforms/gradescope.py). It grades $ROOT/submission with the kit's engine and writes
# $ROOT/results/results.json. $AUTOGRADER_ROOT stands for /autograder in tests.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source/kit" || exit 1
exec "$ROOT/venv/bin/python" -m grader gradescope run --root "$ROOT"
"""


# -- the zip ---------------------------------------------------------------------------------
def build(out=DEFAULT_OUT, hidden_visibility=visibility.DEFAULT_HIDDEN, limits=None, jobs=JOBS, quiet=False,
          allow_unsandboxed=False):
    """Write the autograder zip; returns its path. `allow_unsandboxed`: grade even where no sandbox works
    in Gradescope's container (the instructor's choice, written into config.json and every results.json).
    Raises ValueError (a misspelt limit or visibility, PointsMismatch) before anything is written."""
    from ..engine.grade import check_suite_points
    from ..sandbox.client import limits_from
    visibility.check(hidden_visibility)
    limits_from(limits or {})                 # a misspelt limit fails here, not in every student's grading
    check_suite_points()                      # so does a part whose tests do not add up to its points
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    config = {"hidden_visibility": hidden_visibility, "limits": limits or {}, "jobs": jobs,
              "allow_unsandboxed": bool(allow_unsandboxed)}
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        _add(zf, "setup.sh", SETUP_SH, executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add(zf, "requirements.txt", "\n".join(engine_requirements()) + "\n")
        _add(zf, "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
        for rel, path in kit_files():
            _add(zf, f"kit/{rel}", path.read_bytes())
    os.replace(tmp, out)
    if not quiet:
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): upload it as the autograder of a Gradescope "
              f"programming assignment; hidden tests shown {hidden_visibility}")
        if allow_unsandboxed:
            print("warning: built with --allow-unsandboxed: where no sandbox works in Gradescope's container, "
                  "student code runs with the grader's rights (it can read the hidden tests and the reference); "
                  "every results.json says so (extra_data.sandbox)", file=sys.stderr)
    return out


# -- grading, inside Gradescope ----------------------------------------------------------------
def gradescope_results(engine, hidden_visibility, seconds, allow_unsandboxed=False):
    """Gradescope's results.json from the engine's (grader.engine.grade.results_json) for one submission.
    `allow_unsandboxed`: the zip's choice (config.json), recorded in extra_data.sandbox."""
    from ..engine.grade import sandbox_backend
    from ..engine.results import SubmissionResult
    result = SubmissionResult.from_json(engine)
    tests, numbers = [], {}
    leaderboard_value = None
    for t in result.tests:
        numbers[t.part] = numbers.get(t.part, 0) + 1
        entry = {"name": t.name, "name_format": "text",
                 "number": f"{number(t.part) if t.part in GRADED else 0}.{numbers[t.part]}",
                 "score": t.score, "max_score": t.max_score,
                 "status": "passed" if t.status == "passed" else "failed",
                 "output": t.output or "", "output_format": OUTPUT_FORMAT,
                 "tags": [t.part], "visibility": visibility.test_visibility(t.to_gradescope(), hidden_visibility)}
        if t.extra:
            entry["extra_data"] = t.extra
            if LEADERBOARD[1] in t.extra:
                leaderboard_value = t.extra[LEADERBOARD[1]]
        tests.append(entry)
    backend = sandbox_backend(engine)
    public = [t for t in result.tests if t.visibility == "visible"]
    lines = [f"Isolation of your code while it was graded: {backend}"
             + (" (no sandbox works on this host; your instructor chose to grade without one)."
                if backend == "none" else "."),
             f"Public tests: {sum(t.status == 'passed' for t in public)} of {len(public)} passed "
             f"(their results are below)."]
    hidden = len(result.tests) - len(public)
    if visibility.summary_visible(hidden_visibility):
        lines += [f"{p}: {info.score:g} / {info.max_score:g}" + ("" if info.status == "ok" else f" ({info.status})")
                  for p, info in result.parts.items()]
    else:
        lines.append(f"Hidden tests: {hidden}, graded now; their results and your score are "
                     f"{visibility.when_shown(hidden_visibility)}.")
    problems = [f"{p}: {info.status}" for p, info in result.parts.items() if info.status != "ok"]
    if problems:
        lines.append("Parts that did not run normally: " + "; ".join(problems)
                     + " (the tests of the part say why).")
    results = {
        "score": result.score,
        "execution_time": int(round(seconds)),
        "output": "\n".join(lines),
        "output_format": OUTPUT_FORMAT,
        "test_output_format": OUTPUT_FORMAT,
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"engine": "mlp-kit", "sandbox": {"backend": backend,
                                                        "allow_unsandboxed": bool(allow_unsandboxed)},
                       "parts": {p: info.to_gradescope() for p, info in result.parts.items()},
                       "max_score": result.max_score, "fingerprint": result.fingerprint},
    }
    if result.container:          # the container's limits read, and the sizing chosen
        results["extra_data"]["container"] = result.container
    if leaderboard_value is not None:
        results["leaderboard"] = [{"name": LEADERBOARD[0], "value": leaderboard_value, "order": "desc"}]
    return results


def run(root):
    """Grade root/submission into root/results/results.json. Exit status 0 when graded; 1 when the
    engine could not grade (no results.json: Gradescope then shows an autograder error to the
    student, and the reason is in the autograder output the instructor sees)."""
    from ..engine import container
    from ..engine.grade import CALIBRATION_NAME, BatchInterrupted, grade
    from ..engine.preflight import NoSandbox
    from ..engine.results import SubmissionResult
    root = Path(root)
    config = json.loads((root / "source" / "config.json").read_text(encoding="utf-8"))
    hidden_visibility = visibility.check(config.get("hidden_visibility", visibility.DEFAULT_HIDDEN))
    allow_unsandboxed = config.get("allow_unsandboxed", False) is True
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    submission = root / "submission"
    started = time.monotonic()
    try:
        limits, sizing = sized_limits(config)
    except container.TooSmall as exc:
        print(f"the grading engine cannot grade in this container; no results were written: {exc}")
        return 1
    except (ValueError, TypeError) as exc:          # the zip's config.json: its limits
        print(f"the grading engine could not grade this submission; no results were written: {exc}")
        return 1
    print(sizing.summary())
    with tempfile.TemporaryDirectory(prefix="mlp-kit-gradescope-") as tmp:
        try:
            engine = grade([str(submission)], Path(tmp) / "out", jobs=sizing.jobs, limits=limits,
                           names=["submission"], quiet=True, calibration_file=root / "source" / CALIBRATION_NAME,
                           container=sizing.as_dict(), allow_unsandboxed=allow_unsandboxed)["submission"]
        except NoSandbox as exc:
            print(no_sandbox_message(exc))
            return 1
        except (Exception, SystemExit, BatchInterrupted) as exc:
            print("the grading engine could not grade this submission; no results were written:")
            traceback.print_exception(exc, file=sys.stdout)
            logs = Path(tmp) / "out" / "logs"
            for log in sorted(logs.glob("*.log")) if logs.is_dir() else []:
                print(f"--- {log.name}\n{log.read_text(encoding='utf-8', errors='replace')[-2000:]}")
            return 1
    results = gradescope_results(engine, hidden_visibility, time.monotonic() - started, allow_unsandboxed)
    (results_dir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    # For the instructor (stdout is hidden from students): the summary and the isolation backend.
    print(f"graded {submission}: {engine['score']:g} / {engine['max_score']:g}; "
          f"isolation {results['extra_data']['sandbox']['backend']}")
    for part, info in SubmissionResult.from_json(engine).parts.items():
        print(f"  {part}: {info.score:g} / {info.max_score:g} ({info.status}, {info.seconds:g} s)")
    if results["extra_data"]["sandbox"]["backend"] == "none":
        print("warning: graded WITHOUT a sandbox, as this autograder was built to allow "
              "(make gradescope ALLOW_UNSANDBOXED=1): the student's code could read the hidden tests and the "
              "reference; results.json says so (extra_data.sandbox)")
    return 0


def sized_limits(config):
    """(Limits, grader.engine.container.Sizing): the instructor's limits, with parts at once and each
    worker's memory sized to the container this runs in. Gradescope gives each submission one
    container, its CPU and memory chosen per assignment (by default 1/2 vCPU and 768 MB, and 10 minutes
    in all: https://gradescope-autograders.readthedocs.io/en/latest/troubleshooting/); a worker allowed
    more memory than the container has would get the container killed, and no results.json written.
    config["jobs"] is the most parts at once. Raises container.TooSmall where one part cannot fit."""
    from dataclasses import replace

    from ..engine import container
    from ..sandbox.client import limits_from
    limits = limits_from(config.get("limits", {}))
    found = container.read()
    sizing = container.size(found, limits.memory_bytes, jobs=min(int(config.get("jobs", JOBS)), found.cpus))
    return replace(limits, memory_bytes=sizing.memory_bytes), sizing


def no_sandbox_message(refused) -> str:
    """What the instructor reads in the autograder output when no sandbox works in Gradescope's container and
    the zip was built without --allow-unsandboxed (refused: grader.engine.preflight.NoSandbox)."""
    return (
        "the autograder cannot grade here: no sandbox works in this container, and this autograder was built "
        "to require one (no results.json was written: Gradescope shows an autograder error).\n"
        f"Why, in this container: {refused.causes()}.\n"
        "These are settings of the container and of the kernel it runs on, which no autograder script can "
        "change. The ways out:\n"
        "  - rebuild the autograder with `make gradescope ALLOW_UNSANDBOXED=1` (python -m grader gradescope build "
        "--allow-unsandboxed) and upload it again: student code then runs with the grader's rights, so a "
        "student's code can read the hidden tests and the reference solutions; every results.json records "
        "the choice (extra_data.sandbox: backend \"none\", allow_unsandboxed true);\n"
        "  - or grade on a machine of yours where a sandbox works: download the submissions from Gradescope and "
        "run `make grade SUBMISSIONS=...` there (where it cannot, its error names that machine's fix).")


def configure(parser):
    sub = parser.add_subparsers(dest="gradescope", required=True)
    b = sub.add_parser("build", help="write the autograder zip (make gradescope)")
    b.add_argument("--out", default=str(DEFAULT_OUT))
    b.add_argument("--hidden-visibility", default=visibility.DEFAULT_HIDDEN, choices=visibility.VALUES,
                   help="when students see the hidden tests' results (default: after_published)")
    b.add_argument("--limits", help='JSON overrides of the limits, e.g. {"multiple": 5}')
    b.add_argument("--allow-unsandboxed", action="store_true",
                   help="grade even where no sandbox works in Gradescope's container: student code then runs "
                        "with the grader's rights (recorded in every results.json). Without it, such a "
                        "container gives an autograder error that says why")
    r = sub.add_parser("run", help="grade ROOT/submission into ROOT/results/results.json (run_autograder)")
    r.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    c = sub.add_parser("calibrate", help="measure this machine's calibration into ROOT/source (setup.sh)")
    c.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))


def command(args):
    """`python -m grader gradescope build|run|calibrate`."""
    if args.gradescope == "build":
        try:
            build(args.out, args.hidden_visibility, json.loads(args.limits) if args.limits else None,
                  allow_unsandboxed=args.allow_unsandboxed)
        except (ValueError, RuntimeError) as exc:      # a misspelt limit, points that disagree: nothing written
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.gradescope == "calibrate":
        return calibrate(args.root)
    return run(args.root)


def calibrate(root):
    """setup.sh: measure the calibration once, into root/source, for run_autograder to reuse on a machine
    like this one (grader.engine.grade.calibrate_host). Exit status 1, with the reason, when it cannot."""
    from ..engine.grade import CALIBRATION_NAME, calibrate_host
    from ..engine.preflight import NoSandbox
    root = Path(root)
    config = json.loads((root / "source" / "config.json").read_text(encoding="utf-8"))
    try:
        limits, sizing = sized_limits(config)
        found = calibrate_host(root / "source" / CALIBRATION_NAME, limits, jobs=sizing.jobs,
                               allow_unsandboxed=config.get("allow_unsandboxed", False) is True)
    except NoSandbox as exc:      # each submission then refuses with the same message
        print(f"setup.sh: could not measure the calibration here: {no_sandbox_message(exc)}")
        return 1
    except Exception as exc:      # noqa: BLE001 -- reported; each submission then measures it itself
        print(f"setup.sh: could not measure the calibration here: {exc}")
        return 1
    print(f"setup.sh: calibration measured in {found.summary.get('seconds', 0):g} s on {found.summary.get('host')}")
    return 0
