"""Command line of the kit: `python -m grader <command>`.

    grade SUBMISSION... --out DIR [-j N] [--force]   grade folders or zips (see grader.grade); resumes
    gradebook DIR                                    rebuild DIR/gradebook.csv from DIR/*/results.json
    export --canvas ROSTER.csv [DIR] [--out FILE]    the totals as a Canvas gradebook import (grader.export)
    similarity SUBMISSION... [--out DIR]            DIR/similarity.html, part by part (grader.similarity)
    gradescope [--out dist/gradescope.zip]           the native Gradescope autograder (grader.gradescope)
    assign [--check]                                 generate assignment/ from solutions/
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
    from .grade import BatchInterrupted
    try:
        grade(paths, args.out, jobs=args.jobs, limits=limits, mode=args.mode,
              parts=tuple(args.parts) if args.parts else PARTS, names=names, force=args.force,
              allow_unsandboxed=args.allow_unsandboxed)
    except GradingRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BatchInterrupted as stop:
        print(stop.summary, file=sys.stderr)
        return 130
    except KeyboardInterrupt:          # while the submissions were being read: nothing graded yet
        print("interrupted before any submission was graded; nothing written", file=sys.stderr)
        return 130
    return 0


def cmd_gradebook(args):
    from .grade import rebuild_gradebook
    if not os.path.isdir(args.dir):
        print(f"error: {args.dir} is not a folder", file=sys.stderr)
        return 2
    rows = rebuild_gradebook(args.dir)
    print(f"wrote {Path(args.dir) / 'gradebook.csv'} ({len(rows)} submissions, from the results.json files present)")
    return 0 if rows else 1


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
    g.add_argument("--force", action="store_true",
                   help="grade again submissions whose results.json is up to date (same files, same kit)")
    g.add_argument("--allow-unsandboxed", action="store_true",
                   help="grade even where no sandbox works (only for submissions you trust)")
    g.set_defaults(fn=cmd_grade)
    b = sub.add_parser("gradebook", help="rebuild DIR/gradebook.csv from the results.json files in DIR")
    b.add_argument("dir")
    b.set_defaults(fn=cmd_gradebook)
    e = sub.add_parser("export", help="export the totals for an LMS gradebook")
    e.add_argument("dir", nargs="?", default="grades", help="a graded folder (default: grades/)")
    e.add_argument("--canvas", required=True, metavar="ROSTER.csv",
                   help="CSV with the columns submission and student_id (Canvas SIS User ID), optionally name")
    e.add_argument("--column", default="MLP assignment", help="the assignment's column title in Canvas")
    e.add_argument("--out", help="where to write (default: DIR/canvas.csv)")
    e.set_defaults(fn=lambda args: __import__("grader.export", fromlist=["main"]).cmd_export(args))
    s = sub.add_parser("similarity", help="OUT/similarity.html: the most similar pairs of submissions, part by part")
    s.add_argument("submissions", nargs="+", help="folders or .zip files, one per student (as for grade)")
    s.add_argument("--out", default="grades", help="folder of similarity.html (default: grades/)")
    s.add_argument("--top", type=int, default=10, help="pairs shown per part (default 10)")
    s.set_defaults(fn=lambda args: __import__("grader.similarity", fromlist=["main"]).cmd_similarity(args))
    gs = sub.add_parser("gradescope", help="build the native Gradescope autograder zip")
    gs.add_argument("--out", default=str(ROOT / "dist" / "gradescope.zip"))
    gs.add_argument("--hidden-visibility", default="after_published",
                    choices=("after_published", "after_due_date", "visible", "hidden"),
                    help="when students see the hidden tests' results (default: after_published)")
    gs.add_argument("--limits", help='JSON overrides of the limits, e.g. {"part_seconds": 60}')
    gs.set_defaults(fn=lambda args: __import__("grader.gradescope", fromlist=["main"]).cmd_build(args))
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
