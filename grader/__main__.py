"""The kit's command line: `python -m grader <command>` (`python -m grader <command> --help`).

Every tool of the kit is a subcommand here (the Makefile's targets call them). grade and
gradebook are the engine's own; each other command lives in its module, which gives
`configure(parser)` and `command(args)`, imported only when that command runs (the Gradescope
autograder's venv has the engine's packages only).
"""
import argparse
import importlib
import os
import sys
from pathlib import Path

from .engine.grade import EXAMPLES  # noqa: F401 -- the bundled examples, also for the kit's tests
from .parts import GRADED
from .sandbox import backends
from .sandbox.client import Limits, limits_from

# (command, module that configures and runs it, what it does); None: defined in this file.
COMMANDS = (
    ("grade", None, "grade submissions (folders or zips); resumes; --help for the options"),
    ("gradebook", None, "rebuild DIR/gradebook.csv from the results.json files in DIR"),
    ("assign", "grader.authoring.assign", "generate assignment/, the partial example and the READMEs' tables"),
    ("release", "grader.authoring.release", "build dist/ (handout and instructor bundle), or check a handout"),
    ("screenshots", "grader.authoring.screenshots", "regenerate the README's screenshots in docs/ (chromium)"),
    ("report", "grader.instructor.report", "DIR/report.html: what a graded class got wrong, and who"),
    ("mutants", "grader.instructor.mutants", "catalog bugs and generated mutants vs. hidden suites and public checks"),
    ("slips", "grader.authoring.slips", "a slip costs once: the bugs graded by mutants --out DIR, held to the rule"),
    ("similarity", "grader.instructor.similarity", "OUT/similarity.html: similar pairs, clusters, reference copies"),
    ("export", "grader.instructor.export", "the totals as a Canvas gradebook import (roster: Canvas, Classroom)"),
    ("gradescope", "grader.platforms.gradescope", "build the native Gradescope autograder zip, or run it"),
    ("otter", "grader.platforms.otter.cli", "build the otter-grader autograder zip; grade with otter run"),
    ("classroom", "grader.platforms.classroom", "fetch the students' GitHub Classroom repositories to grade them here"),
)


def configure_grade(g):
    g.add_argument("submissions", nargs="*", help="folders or .zip files; none = bundled examples")
    g.add_argument("--out", default="grades", help="output folder (default: grades/)")
    g.add_argument("-j", "--jobs", type=int, default=int(os.environ["JOBS"]) if os.environ.get("JOBS") else None,
                   help="parts graded in parallel (default: $JOBS, else the CPUs this process may use: "
                        "its cgroup's quota and affinity mask)")
    g.add_argument("--parts", nargs="+", choices=GRADED, help="grade only these parts")
    g.add_argument("--limits", help='JSON overrides of the limits, e.g. {"multiple": 5} (docs/threat-model.md)')
    g.add_argument("--force", action="store_true",
                   help="grade again submissions whose results.json is up to date (same files, same kit)")
    g.add_argument("--allow-unsandboxed", action="store_true",
                   help="grade even where no sandbox works (only for submissions you trust)")


def cmd_grade(args):
    from dataclasses import replace

    from .engine import container
    from .engine.grade import BatchInterrupted, grade, not_graded
    from .engine.preflight import GradingRefused
    try:
        limits = limits_from(args.limits) if args.limits else Limits()
    except ValueError as exc:
        print(f"error: --limits: {exc}", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print(f"error: -j must be at least 1, not {args.jobs}", file=sys.stderr)
        return 2
    # Parts at once and each worker's memory, within what this process really has (a container's
    # cgroup): a worker allowed more than the container would get the whole batch killed.
    try:
        sizing = container.size(container.read(), limits.memory_bytes, jobs=args.jobs)
    except container.TooSmall as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in sizing.notes:
        print(f"note: {note}", file=sys.stderr)
    limits = replace(limits, memory_bytes=sizing.memory_bytes)
    try:
        backends.forced()            # a misspelt GRADER_SANDBOX: said before anything is read
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.submissions:
        paths, names = args.submissions, None
    else:
        print("no submissions given: grading the bundled examples "
              f"({', '.join(EXAMPLES)})\n")
        paths, names = [str(p) for p in EXAMPLES.values()], list(EXAMPLES)
    missing = [p for p in paths if not os.path.exists(p)]
    for p in missing:
        print(f"warning: {p} does not exist; it is graded as an empty submission", file=sys.stderr)
    try:
        results = grade(paths, args.out, jobs=sizing.jobs, limits=limits,
                        parts=tuple(args.parts) if args.parts else GRADED, names=names, force=args.force,
                        allow_unsandboxed=args.allow_unsandboxed, container=sizing.as_dict())
    except GradingRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BatchInterrupted as stop:
        print(stop.summary, file=sys.stderr)
        return 130
    except KeyboardInterrupt:          # while the submissions were being read: nothing graded yet
        print("interrupted before any submission was graded; nothing written", file=sys.stderr)
        return 130
    left = not_graded(results)
    if left:
        print(f"not graded: {len(left)} submission(s) have parts this machine could not grade even one at a "
              f"time ({', '.join(left[:10])}{' ...' if len(left) > 10 else ''}): the machine was too busy, or a "
              f"judge died (logs/ says which). Run the same command again to grade them; nothing else is "
              f"graded twice", file=sys.stderr)
        return 3
    return 0


def configure_gradebook(b):
    b.add_argument("dir")


def cmd_gradebook(args):
    from .engine.grade import rebuild_gradebook
    if not os.path.isdir(args.dir):
        print(f"error: {args.dir} is not a folder", file=sys.stderr)
        return 2
    rows = rebuild_gradebook(args.dir)
    print(f"wrote {Path(args.dir) / 'gradebook.csv'} ({len(rows)} submissions, from the results.json files present)")
    return 0 if rows else 1


LOCAL = {"grade": (configure_grade, cmd_grade), "gradebook": (configure_gradebook, cmd_gradebook)}


def option_like_paths(argv):
    """Arguments of `grade` that look like options but name existing files or folders (a shell's
    `grade *` over a folder holding a submission called --parts=mlp)."""
    if not argv or argv[0] != "grade":
        return []
    rest = argv[1:]
    if "--" in rest:
        rest = rest[:rest.index("--")]
    return [a for a in rest if a.startswith("-") and a != "-" and os.path.exists(a)]


def parser_for(chosen):
    """The command line's parser; only the `chosen` command's module is imported to configure it."""
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, module, what in COMMANDS:
        p = sub.add_parser(name, help=what, description=what)
        if name != chosen:
            continue
        if module is None:
            configure, command = LOCAL[name]
        else:
            imported = importlib.import_module(module)
            configure, command = imported.configure, imported.command
        configure(p)
        p.set_defaults(fn=command)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    clash = option_like_paths(argv)
    if clash:
        print(f"error: {', '.join(repr(a) for a in clash[:5])} look{'s' if len(clash) == 1 else ''} like "
              f"an option but name{'s' if len(clash) == 1 else ''} a file or folder here. Nothing was graded: "
              f"put submissions after `--` (grade --out DIR -- *) or give them as ./NAME", file=sys.stderr)
        return 2
    chosen = next((a for a in argv if not a.startswith("-")), None)
    args = parser_for(chosen).parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
