"""`python -m grader.otter build|run|gradebook`: the otter-grader side of the kit.

    build [--out dist/autograder.zip] [--limits JSON]   the autograder zip (make otter)
    run -a ZIP --out DIR [-j 2] SUBMISSION...            otter run on many, with time limits
    gradebook DIR                                        DIR/gradebook.csv from DIR/*/results.json
"""
import argparse
import json
import sys

from . import batch


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["build"]:
        return batch.main(argv)
    from .build import DEFAULT_OUT, build
    parser = argparse.ArgumentParser(prog="python -m grader.otter build", description="build the autograder zip")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--limits", help='JSON overrides of the engine\'s limits, e.g. {"part_seconds": 60}')
    parser.add_argument("--hidden-visibility", default="after_published",
                        choices=("after_published", "after_due_date", "visible", "hidden"),
                        help="when students see the hidden tests' results on Gradescope (default after_published)")
    args = parser.parse_args(argv[1:])
    build(args.out, json.loads(args.limits) if args.limits else None, hidden_visibility=args.hidden_visibility)
    return 0


if __name__ == "__main__":
    sys.exit(main())
