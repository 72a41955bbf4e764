"""Command line of the kit: `python -m grader <command>`.

    grade SUBMISSION... --out DIR [-j N]   grade folders or zips (see grader.grade)
    assign [--check]                       generate assignment/ from solutions/
"""
import argparse
import json
import os
import sys
from pathlib import Path

from .sandbox.client import Limits
from .sandbox.stage import PARTS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {
    "reference": ROOT / "solutions",
    "starter": ROOT / "assignment",
    "partial": ROOT / "grader" / "examples" / "partial",
}


def cmd_grade(args):
    from .grade import grade
    from .preflight import GradingRefused
    limits = Limits(**json.loads(args.limits)) if args.limits else Limits()
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
        grade(paths, args.out, jobs=args.jobs, limits=limits, mode=args.mode,
              parts=tuple(args.parts) if args.parts else PARTS, names=names,
              allow_unsandboxed=args.allow_unsandboxed)
    except GradingRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def option_like_paths(argv):
    """Arguments of `grade` that look like options but name existing files or folders (a shell's
    `grade *` over a folder holding a submission called --parts=mlp)."""
    if not argv or argv[0] != "grade":
        return []
    rest = argv[1:]
    if "--" in rest:
        rest = rest[:rest.index("--")]
    return [a for a in rest if a.startswith("-") and a != "-" and os.path.exists(a)]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade submissions (folders or zips)")
    g.add_argument("submissions", nargs="*", help="folders or .zip files; none = bundled examples")
    g.add_argument("--out", default="grades", help="output folder (default: grades/)")
    g.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("JOBS", "1")),
                   help="parts graded in parallel (default: $JOBS or 1)")
    g.add_argument("--mode", choices=("hidden", "public"), default="hidden")
    g.add_argument("--parts", nargs="+", choices=PARTS, help="grade only these parts")
    g.add_argument("--limits", help='JSON overrides of the limits, e.g. {"part_seconds": 60}')
    g.add_argument("--allow-unsandboxed", action="store_true",
                   help="grade even where no sandbox works (only for submissions you trust)")
    g.set_defaults(fn=cmd_grade)
    a = sub.add_parser("assign", help="generate assignment/ from solutions/")
    a.add_argument("--check", action="store_true")
    a.set_defaults(fn=lambda args: __import__("grader.assign", fromlist=["main"]).main(
        ["--check"] if args.check else []))
    argv = sys.argv[1:] if argv is None else list(argv)
    clash = option_like_paths(argv)
    if clash:
        print(f"error: {', '.join(repr(a) for a in clash[:5])} look{'s' if len(clash) == 1 else ''} like "
              f"an option but name{'s' if len(clash) == 1 else ''} a file or folder here. Nothing was graded: "
              f"put submissions after `--` (grade --out DIR -- *) or give them as ./NAME", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
