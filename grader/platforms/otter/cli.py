"""`python -m grader otter build|run|gradebook`: the otter-grader side of the kit.

    build [--out dist/autograder.zip] [--limits JSON]   the autograder zip (make otter)
    run -a ZIP --out DIR [-j 2] SUBMISSION...            otter run on many, with time limits (batch.py)
    gradebook DIR                                        DIR/gradebook.csv from DIR/*/results.json
"""
import json
import sys

from ...engine import visibility
from . import batch


def configure(parser):
    from .build import DEFAULT_OUT
    sub = parser.add_subparsers(dest="otter", required=True)
    b = sub.add_parser("build", help="build the autograder zip (make otter)")
    b.add_argument("--out", default=str(DEFAULT_OUT))
    b.add_argument("--limits", help='JSON overrides of the engine\'s limits, e.g. {"multiple": 5}')
    b.add_argument("--hidden-visibility", default=visibility.DEFAULT_HIDDEN, choices=visibility.VALUES,
                   help="when students see the hidden tests' results on Gradescope (default after_published)")
    batch.configure(sub)


def command(args):
    if args.otter != "build":
        return batch.command(args)
    from .build import build
    try:
        build(args.out, json.loads(args.limits) if args.limits else None, hidden_visibility=args.hidden_visibility)
    except ValueError as exc:       # a misspelt limit, points that disagree with grader/parts.py: nothing written
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
