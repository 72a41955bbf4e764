"""Mutation testing of the hidden suites: `python -m grader mutants` (or `make mutants`).

Grades every buggy submission of the kit's catalog (catalog/bugs.py:
realistic bugs, each a small edit of one reference module) with the hidden
suite of its part, and prints, for each bug, its part and the tests that
caught it (failed on it). It ends with the mutation score, caught / total.
A bug that no test catches (full marks) makes the command fail (exit 1): the
suite has a gap, or the "bug" does not change behaviour.

    python -m grader mutants [-j 2] [--part mlp ...] [--bug NAME ...] [--out DIR]
"""
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from catalog import materialize
from catalog.bugs import BUGS

from ..engine.grade import grade
from ..parts import GRADED



@dataclass
class Verdict:
    bug: object               # a catalog.Bug
    score: float
    max_score: float
    failed: list              # names of the tests that failed, without the "part: " prefix

    @property
    def caught(self):
        return bool(self.failed) or self.score < self.max_score


def catalog():
    """The kit's bug catalog (catalog/bugs.py)."""
    return BUGS


def grade_bugs(bugs, out_dir, jobs=2, progress=None):
    """Grade each bug on its own part, one grade() batch per part.

    Returns {bug name: results.json dict}. The buggy modules are written to
    out_dir/submissions/<part>/<bug>/ and the grades to out_dir/<part>/.
    """
    out_dir = Path(out_dir)
    results = {}
    for part in GRADED:
        mine = [b for b in bugs if b.part == part]
        if not mine:
            continue
        if progress:
            progress(f"grading {len(mine)} {part} bug(s) ...")
        folders = [str(materialize(b, out_dir / "submissions" / part)) for b in mine]
        results.update(grade(folders, out_dir / part, jobs=jobs, parts=(part,),
                             names=[b.name for b in mine], quiet=True))
    return results


def verdicts(bugs, results):
    out = []
    for bug in bugs:
        result = results[bug.name]
        prefix = f"{bug.part}: "
        failed = [t["name"][len(prefix):] if t["name"].startswith(prefix) else t["name"]
                  for t in result["tests"] if t["status"] != "passed"]
        info = result["extra_data"]["parts"][bug.part]
        out.append(Verdict(bug, info["score"], info["max_score"], failed))
    return out


def format_verdicts(found):
    """The per-bug listing and the closing mutation score, as text."""
    lines = []
    width = max(len(f"{v.bug.part}/{v.bug.name}") for v in found)
    for v in found:
        label = f"{v.bug.part}/{v.bug.name}".ljust(width)
        if v.caught:
            lines.append(f"caught      {label}  {v.score:g}/{v.max_score:g}, {len(v.failed)} test(s) failed:")
            lines += [f"                {name}" for name in v.failed]
        else:
            gap = v.bug.extra.get("known_gap")
            lines.append(f"NOT CAUGHT  {label}  {v.score:g}/{v.max_score:g}: no test failed"
                         + (f" (known gap: {gap})" if gap else ""))
            lines.append(f"                {v.bug.story}")
    caught = sum(v.caught for v in found)
    missed = [f"{v.bug.part}/{v.bug.name}" for v in found if not v.caught]
    lines.append("")
    lines.append(f"mutation score: {caught}/{len(found)} bugs caught ({caught / len(found):.1%})")
    if missed:
        lines.append(f"not caught: {', '.join(missed)}")
    return "\n".join(lines)


def run(bugs, jobs=2, out_dir=None, stream=None):
    """Grade `bugs`, print the verdicts to `stream`; return the exit status (1 if any bug survived)."""
    stream = stream or sys.stdout

    def say(text):
        print(text, file=stream, flush=True)

    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
            return run(bugs, jobs, tmp, stream)
    found = verdicts(bugs, grade_bugs(bugs, out_dir, jobs, progress=say))
    say("")
    say(format_verdicts(found))
    return 0 if all(v.caught for v in found) else 1


def configure(parser):
    parser.add_argument("-j", "--jobs", type=int, default=2, help="submissions graded in parallel (default: 2)")
    parser.add_argument("--part", action="append", choices=GRADED, help="only the bugs of this part (repeatable)")
    parser.add_argument("--bug", action="append", metavar="NAME", help="only this bug (repeatable)")
    parser.add_argument("--out", help="keep the buggy modules and their grades in this folder")


def command(args):
    """`python -m grader mutants`."""
    bugs = list(catalog())
    if args.part:
        bugs = [b for b in bugs if b.part in args.part]
    if args.bug:
        unknown = sorted(set(args.bug) - {b.name for b in bugs})
        if unknown:
            print(f"error: no bug named {', '.join(unknown)} in the catalog"
                  + (f" for {', '.join(args.part)}" if args.part else ""), file=sys.stderr)
            return 2
        bugs = [b for b in bugs if b.name in args.bug]
    if not bugs:
        print("error: no bugs selected", file=sys.stderr)
        return 2
    return run(bugs, args.jobs, args.out)
