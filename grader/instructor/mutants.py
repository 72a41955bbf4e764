"""Mutation testing of the hidden suites and the public checks: `python -m grader mutants` (`make mutants`).

Two sets of buggy submissions, each a small edit of one reference module:

- the catalog (catalog/bugs.py): realistic bugs, written by hand;
- generated mutants (catalog/generated.py): every mutation that mutmut's operators (and three
  of the kit's own) make in the code students write, one mutant per module.

Each is graded with the hidden suite of its part (the grader, one part, `-j` jobs) and run
through the public checks of its part (`python -m assignment.check PART`, as students run
them, in a copy of assignment/). The run prints each catalog bug with the tests that caught
it, every generated survivor, and a table of the scores per part: caught / total, for the
catalog and the generated mutants, hidden and public.

A catalog bug that no hidden test catches fails the run (exit 1). A generated mutant that the
hidden suite does not catch must be listed in catalog/mutants_survivors.toml, as equivalent
(or a harmless freedom of the contract) with a one-line reason, or as a known gap ("real, needs
a test: ..."), which the run prints as such; one that the hidden suite catches and the public
checks do not must be listed under [public] (what the public checks miss). A mutant not listed
fails the run, and so does a listed entry whose mutant is now caught or no longer generated
(stale: remove it).

    python -m grader mutants [-j 2] [--part mlp ...] [--bug NAME ... | --mutant ID ...]
                             [--catalog-only | --generated-only] [--no-public] [--out DIR] [--list]
                             [--write-scores [WHY]]

--write-scores rewrites catalog/scores.py with the scores the catalog bugs just got (the calibration
tests/test_catalog.py requires): a moved score gets "# was <old> (WHY)", a new bug "# new (WHY)";
the bugs not graded this time keep their line.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from catalog import materialize
from catalog.bugs import BUGS

from .. import ROOT
from ..engine.grade import grade
from ..engine.results import SubmissionResult
from ..parts import GRADED, NAMES

SURVIVORS = ROOT / "catalog" / "mutants_survivors.toml"
SCORES_FILE = ROOT / "catalog" / "scores.py"
KINDS = ("equivalent", "gap", "public")  # the sections of the survivors file
PUBLIC_TIMEOUT = 600                     # s for one mutant's public checks (the checks limit each part to 90 s)


@dataclass
class Verdict:
    bug: object               # a catalog.Bug
    score: float
    max_score: float
    failed: list              # names of the tests that failed, without the "part: " prefix

    @property
    def caught(self):
        return bool(self.failed) or self.score < self.max_score


@dataclass
class PublicVerdict:
    """The public checks of a bug's part, run on the bug."""

    bug: object
    passed: int               # public cases passed
    total: int
    failed: list              # titles of the cases that failed

    @property
    def caught(self):
        return bool(self.failed)


def catalog():
    """The kit's bug catalog (catalog/bugs.py)."""
    return BUGS


def grade_bugs(bugs, out_dir, jobs=2, progress=None, what="bug(s)"):
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
            progress(f"grading {len(mine)} {part} {what} ...")
        started = time.monotonic()
        folders = [str(materialize(b, out_dir / "submissions" / part)) for b in mine]
        results.update(grade(folders, out_dir / part, jobs=jobs, parts=(part,),
                             names=[b.name for b in mine], quiet=True))
        if progress:
            progress(f"    {part}: {len(mine)} graded in {time.monotonic() - started:.0f} s")
    return results


def verdicts(bugs, results):
    out = []
    for bug in bugs:
        result = SubmissionResult.from_json(results[bug.name])
        failed = [t.title if t.part == bug.part else t.name for t in result.tests if t.status != "passed"]
        info = result.parts[bug.part]
        out.append(Verdict(bug, info.score, info.max_score, failed))
    return out


# -- the public checks ---------------------------------------------------------------------------
def _public_package(bug, dest):
    """dest/handout/: the student tooling of assignment/, the reference modules and the bug's module."""
    pkg = Path(dest) / "handout"
    pkg.mkdir(parents=True)
    for path in [*(ROOT / "assignment").glob("*.py"), ROOT / "assignment" / "parts.json"]:
        shutil.copyfile(path, pkg / path.name)
    for module in NAMES:
        shutil.copyfile(ROOT / "solutions" / f"{module}.py", pkg / f"{module}.py")
    shutil.copyfile(materialize(bug, Path(dest) / "bug") / f"{bug.part}.py", pkg / f"{bug.part}.py")
    return pkg


def public_check(bug, workdir):
    """Run the public checks of the bug's part on it, as `python -m assignment.check PART --json` does.

    Returns:
        PublicVerdict. A run that produces no verdict (it crashed or hung past PUBLIC_TIMEOUT)
        counts as caught, with the reason as its one failed title.
    """
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        _public_package(bug, tmp)
        env = dict(os.environ, MLP_KIT_DATA=os.environ.get("MLP_KIT_DATA", str(ROOT / "data" / "mnist5k")),
                   OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.pop("PYTHONPATH", None)
        cmd = [sys.executable, "-m", "handout.check", bug.part, "--json", "-j", "1",
               "--cases", str(ROOT / "assignment" / "public_tests")]
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=PUBLIC_TIMEOUT)
            outcome = json.loads(proc.stdout)[0]
        except subprocess.TimeoutExpired:
            return PublicVerdict(bug, 0, 0, [f"the public checks did not finish within {PUBLIC_TIMEOUT} s"])
        except (ValueError, IndexError, KeyError):
            last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
            return PublicVerdict(bug, 0, 0, [f"the public checks stopped with status {proc.returncode}: {last}"])
    results = outcome["results"]
    return PublicVerdict(bug, sum(r["passed"] for r in results), len(results),
                         [r["title"] for r in results if not r["passed"]])


def public_checks(bugs, workdir, jobs=2, progress=None, what="bug(s)"):
    """{bug name: PublicVerdict} for every bug, `jobs` at a time, part by part."""
    out = {}
    for part in NAMES:
        mine = [b for b in bugs if b.part == part]
        if not mine:
            continue
        if progress:
            progress(f"running the public checks of {part} on {len(mine)} {what} ...")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for verdict in pool.map(lambda b: public_check(b, workdir), mine):
                out[verdict.bug.name] = verdict
        if progress:
            progress(f"    {part}: {len(mine)} checked in {time.monotonic() - started:.0f} s")
    return out


# -- the survivors file --------------------------------------------------------------------------
@dataclass(frozen=True)
class Justification:
    """An entry of catalog/mutants_survivors.toml: why a generated mutant may survive."""

    id: str                   # the mutant's id, e.g. "mlp/fit/swap_op/3f2a9c1e"
    kind: str                 # "equivalent", "gap" (both: the hidden suite misses it) or "public"
    reason: str               # one line

    @property
    def part(self):
        return self.id.split("/", 1)[0]


class SurvivorsFileError(ValueError):
    """The survivors file cannot be read; str() says where and why."""


def read_survivors(path=SURVIVORS):
    """{mutant id: Justification} from the survivors file.

    Its sections, each `"<mutant id>" = "<one-line reason>"`:
        [equivalent]  the hidden suite does not catch it, and it is no bug: the same function under
                      the contract, or a freedom the contract leaves (say which);
        [gap]         the hidden suite does not catch it, and it is a real bug: the reason starts
                      with "real, needs a test:" and names the test;
        [public]      the hidden suite catches it, the public checks do not: what they miss.

    Raises:
        SurvivorsFileError: not TOML, an unknown section, a reason that is not one non-empty
            line, a gap without "real, needs a test:", or an id listed twice.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SurvivorsFileError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - set(KINDS))
    if unknown:
        raise SurvivorsFileError(f"{path}: unknown section(s) {', '.join(unknown)}; the sections are "
                                 f"{', '.join(KINDS)}")
    out = {}
    for kind in KINDS:
        for ident, reason in data.get(kind, {}).items():
            if not isinstance(reason, str) or not reason.strip() or "\n" in reason:
                raise SurvivorsFileError(f"{path}: [{kind}] {ident}: the reason must be one non-empty line")
            if kind == "gap" and not reason.startswith("real, needs a test:"):
                raise SurvivorsFileError(f"{path}: [gap] {ident}: the reason must start with "
                                         f"'real, needs a test:' and say which test")
            if ident in out:
                raise SurvivorsFileError(f"{path}: {ident} is listed twice")
            out[ident] = Justification(ident, kind, reason.strip())
    return out


@dataclass
class SurvivorCheck:
    """The generated survivors of a run, held against the survivors file."""

    equivalent: list = field(default_factory=list)    # [(id, Justification)]: survive the hidden suite, no bug
    gaps: list = field(default_factory=list)          # [(id, Justification)]: survive the hidden suite, real bugs
    public_gaps: list = field(default_factory=list)   # [(id, Justification)]: the public checks miss them
    unjustified: list = field(default_factory=list)   # [id]: survive the hidden suite, not listed (fails the run)
    unjustified_public: list = field(default_factory=list)  # [id]: only the public checks miss them, not listed
    stale: list = field(default_factory=list)         # [(Justification, why)]: caught now or no longer generated

    @property
    def ok(self):
        return not (self.unjustified or self.unjustified_public or self.stale)


def check_survivors(generated, graded, survivors, justifications, public_survivors=None):
    """Hold a run's generated survivors against the survivors file.

    Args:
        generated: the ids of every mutant generated for the parts this run covers.
        graded: the ids of the mutants this run graded (all of `generated`, or a selection).
        survivors: the ids of the graded mutants that the hidden suite did not catch.
        justifications: {id: Justification}, read_survivors().
        public_survivors: the ids of the graded mutants that the public checks did not catch,
            or None when they did not run ([public] entries are then not judged).

    Returns:
        SurvivorCheck. Entries of parts the run does not cover are not judged; an entry of a
        covered part is stale when its mutant is not generated, or was graded and is now caught
        (by the hidden suite for [equivalent] and [gap], by the public checks for [public]).
    """
    generated, graded, survivors = set(generated), set(graded), set(survivors)
    parts = {ident.split("/", 1)[0] for ident in generated}
    check = SurvivorCheck()
    for ident in sorted(survivors):
        entry = justifications.get(ident)
        if entry is None or entry.kind == "public":
            check.unjustified.append(ident)
        else:
            (check.equivalent if entry.kind == "equivalent" else check.gaps).append((ident, entry))
    if public_survivors is not None:
        for ident in sorted(set(public_survivors) - survivors):
            entry = justifications.get(ident)
            if entry is not None and entry.kind == "public":
                check.public_gaps.append((ident, entry))
            else:
                check.unjustified_public.append(ident)
    for ident, entry in sorted(justifications.items()):
        if entry.part not in parts:
            continue
        if ident not in generated:
            check.stale.append((entry, "no longer generated"))
        elif ident not in graded:
            continue
        elif entry.kind != "public" and ident not in survivors:
            check.stale.append((entry, "the hidden suite catches it now"))
        elif entry.kind == "public" and public_survivors is not None and ident not in public_survivors:
            check.stale.append((entry, "the public checks catch it now"))
    return check


def format_survivor_check(check, mutants, public=None, path=SURVIVORS):
    """The generated survivors, as text: known gaps, unlisted survivors and stale entries in full,
    the equivalent ones and the public checks' known misses as counts. `mutants`: {id: Mutant};
    `public`: {bug name: PublicVerdict} when the public checks ran."""
    try:
        where = path.relative_to(ROOT)
    except ValueError:
        where = path
    lines = []

    def describe(ident):
        m = mutants[ident]
        seen = ""
        if public is not None and m.bug.name in public:
            seen = ", caught by the public checks" if public[m.bug.name].caught else ", not by the public checks"
        return (f"                {m.function}, line {m.line} ({m.operator}{seen}): "
                f"{m.before!r} -> {m.after!r}")

    for ident, entry in check.gaps:
        lines += [f"KNOWN GAP   {ident}  {entry.reason}", describe(ident)]
    for ident in check.unjustified:
        lines += [f"SURVIVED    {ident}  no hidden test catches it, and {where} does not list it: add a test, "
                  f"or list it ([equivalent] with a one-line reason, or [gap] 'real, needs a test: ...')",
                  describe(ident)]
    for ident in check.unjustified_public:
        lines += [f"PUBLIC MISS {ident}  the hidden suite catches it, the public checks do not, and {where} "
                  f"does not list it: sharpen a public check, or list it under [public]", describe(ident)]
    for entry, why in check.stale:
        lines.append(f"STALE       {entry.id}  {why}: remove it from {where}")
    if check.equivalent:
        lines.append(f"{len(check.equivalent)} survivor(s) listed as equivalent in {where} "
                     f"(each with its reason there)")
    if check.public_gaps:
        lines.append(f"{len(check.public_gaps)} mutant(s) caught by the hidden suite only, listed under [public] "
                     f"in {where}: " + ", ".join(ident for ident, _ in check.public_gaps))
    return "\n".join(lines)


# -- the report ----------------------------------------------------------------------------------
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


def _score(items):
    """'caught/total (pct)' of verdicts, or '-' for none."""
    if not items:
        return "-"
    caught = sum(v.caught for v in items)
    return f"{caught}/{len(items)} ({caught / len(items):.0%})"


def format_scores(catalog_hidden=(), catalog_public=(), generated_hidden=(), generated_public=()):
    """The table of scores per part: caught / total, catalog and generated, hidden and public."""
    columns = (("catalog hidden", catalog_hidden), ("catalog public", catalog_public),
               ("generated hidden", generated_hidden), ("generated public", generated_public))
    columns = [(title, list(items)) for title, items in columns if items]
    lines = [f"{'part':<21}" + "".join(f"{title:<19}" for title, _ in columns)]
    for part in [*NAMES, None]:
        row = [[v for v in items if part is None or v.bug.part == part] for _, items in columns]
        if not any(row):
            continue
        lines.append(f"{part or 'all':<21}" + "".join(f"{_score(items):<19}" for items in row))
    return "\n".join(line.rstrip() for line in lines)


def rewrite_scores(text, bugs, graded, why=""):
    """catalog/scores.py's text with the SCORES dict rebuilt in the catalog's order (`bugs`): a bug in
    `graded` ({name: score}) whose score moved gets "# was <old> (why)", one not in the file "# new (why)";
    every other line (an unmoved score, a bug not graded now) keeps its comment. A bug that left the
    catalog leaves the file."""
    head, rest = text.split("SCORES = {\n", 1)
    body, tail = rest.split("\n}\n", 1)
    old = {}
    for line in body.splitlines():
        if line.strip().startswith('"'):
            name, value = line.strip().split(":", 1)
            number, _, comment = value.partition("#")
            old[name.strip('"')] = (float(number.strip().rstrip(",")), comment.strip())
    note = f" ({why})" if why else ""
    lines, part = [], None
    for bug in bugs:
        if bug.part != part:
            part = bug.part
            lines.append(f"    # {part}")
        if bug.name not in graded and bug.name not in old:
            raise ValueError(f"{bug.name} has no calibrated score: grade it (--bug {bug.name})")
        before = old.get(bug.name)
        score = graded.get(bug.name, before[0] if before else None)
        if before is None:
            comment = f"new{note}"
        elif score != before[0]:
            comment = f"was {before[0]:g}{note}"
        else:
            comment = before[1]
        lines.append(f'    "{bug.name}": {score:g},' + (f"  # {comment}" if comment else ""))
    return head + "SCORES = {\n" + "\n".join(lines) + "\n}\n" + tail


def write_scores(found, why="", path=SCORES_FILE):
    """Rewrite catalog/scores.py with the part scores of the verdicts `found`; return the lines that changed."""
    text = Path(path).read_text(encoding="utf-8")
    graded = {v.bug.name: v.score for v in found}
    new = rewrite_scores(text, catalog(), graded, why)
    Path(path).write_text(new, encoding="utf-8")
    return [line for line in new.splitlines() if line not in text.splitlines()]


def run(bugs, jobs=2, out_dir=None, stream=None, public=False):
    """Grade the catalog `bugs`, print the verdicts to `stream`; return the exit status (1 if any bug survived).

    public: also run the public checks on them and print the scores table."""
    stream = stream or sys.stdout
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
            return run(bugs, jobs, tmp, stream, public)
    found = verdicts(bugs, grade_bugs(bugs, out_dir, jobs, progress=_say(stream)))
    checked = public_checks(bugs, out_dir, jobs, progress=_say(stream)) if public else {}
    _say(stream)("")
    _say(stream)(format_verdicts(found))
    if public:
        _say(stream)("\n" + format_scores(found, [checked[b.name] for b in bugs]))
    return 0 if all(v.caught for v in found) else 1


def _say(stream):
    def say(text):
        print(text, file=stream, flush=True)
    return say


def run_generated(mutants, generated, jobs=2, out_dir=None, stream=None, public=True, survivors_path=SURVIVORS):
    """Grade generated `mutants` (hidden suite, and the public checks unless public=False), hold the
    survivors against the survivors file and print it all.

    Args:
        mutants: the Mutants to grade (catalog.generated).
        generated: the ids of every mutant generated for the parts covered (for stale entries).

    Returns:
        (status, hidden verdicts, public verdicts): status 1 if the survivors file is unreadable,
        a survivor is not listed or an entry is stale; else 0.
    """
    stream = stream or sys.stdout
    say = _say(stream)
    try:
        justifications = read_survivors(survivors_path)
    except SurvivorsFileError as exc:
        say(f"error: {exc}")
        return 1, [], []
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
            return run_generated(mutants, generated, jobs, tmp, stream, public, survivors_path)
    bugs = [m.bug for m in mutants]
    started = time.monotonic()
    found = verdicts(bugs, grade_bugs(bugs, out_dir, jobs, progress=say, what="generated mutant(s)"))
    hidden_seconds = time.monotonic() - started
    checked = public_checks(bugs, out_dir, jobs, progress=say, what="generated mutant(s)") if public else {}
    public_seconds = time.monotonic() - started - hidden_seconds
    survived = [m.id for m, v in zip(mutants, found) if not v.caught]
    missed = [m.id for m in mutants if not checked[m.bug.name].caught] if public else None
    check = check_survivors(generated, [m.id for m in mutants], survived, justifications, missed)
    say("")
    say(f"generated mutants: {len(mutants)} graded in {hidden_seconds:.0f} s (hidden)"
        + (f" and {public_seconds:.0f} s (public)" if public else "")
        + f", {len(survived)} survived the hidden suite")
    text = format_survivor_check(check, {m.id: m for m in mutants}, checked if public else None, survivors_path)
    if text:
        say(text)
    return (0 if check.ok else 1), found, [checked[b.name] for b in bugs] if public else []


def configure(parser):
    parser.add_argument("-j", "--jobs", type=int, default=2, help="submissions graded in parallel (default: 2)")
    parser.add_argument("--part", action="append", choices=GRADED, help="only the bugs of this part (repeatable)")
    parser.add_argument("--bug", action="append", metavar="NAME", help="only this catalog bug (repeatable)")
    parser.add_argument("--mutant", action="append", metavar="ID",
                        help="only this generated mutant, e.g. activations/relu/number/f4eee8eb (repeatable)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--catalog-only", action="store_true", help="only the catalog's bugs")
    which.add_argument("--generated-only", action="store_true", help="only the generated mutants")
    parser.add_argument("--no-public", action="store_true", help="the hidden suites only")
    parser.add_argument("--list", action="store_true", help="list the generated mutants' ids and stop")
    parser.add_argument("--out", help="keep the buggy modules and their grades in this folder")
    parser.add_argument("--write-scores", nargs="?", const="", metavar="WHY",
                        help="rewrite catalog/scores.py with the catalog bugs' new scores (WHY goes in the "
                             "comment of each moved score, e.g. \"issue 21\")")


def command(args):
    """`python -m grader mutants`."""
    parts = tuple(args.part or GRADED)
    want_catalog = not args.generated_only and not (args.mutant and not args.bug)
    want_generated = not args.catalog_only and not (args.bug and not args.mutant)
    bugs = [b for b in catalog() if b.part in parts] if want_catalog else []
    if args.bug:
        unknown = sorted(set(args.bug) - {b.name for b in bugs})
        if unknown:
            print(f"error: no bug named {', '.join(unknown)} in the catalog"
                  + (f" for {', '.join(args.part)}" if args.part else ""), file=sys.stderr)
            return 2
        bugs = [b for b in bugs if b.name in args.bug]
    mutants, generated = [], []
    if want_generated or args.list:
        from catalog.generated import mutants_of     # mutmut's operators, only when needed
        for part in parts:
            mutants += mutants_of(part)
        generated = [m.id for m in mutants]
        if args.list:
            for m in mutants:
                print(f"{m.id}  line {m.line}: {m.before!r} -> {m.after!r}")
            return 0
        if args.mutant:
            unknown = sorted(set(args.mutant) - set(generated))
            if unknown:
                print(f"error: no generated mutant {', '.join(unknown)}"
                      + (f" for {', '.join(args.part)}" if args.part else "")
                      + " (python -m grader mutants --list shows them)", file=sys.stderr)
                return 2
            mutants = [m for m in mutants if m.id in args.mutant]
    if not bugs and not mutants:
        print("error: no bugs selected", file=sys.stderr)
        return 2
    if args.write_scores is not None and not bugs:
        print("error: --write-scores needs catalog bugs to grade", file=sys.stderr)
        return 2
    public = not args.no_public
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="mutants-"))
    try:
        status, hidden, checked = 0, [], []
        if bugs:
            print(f"catalog (catalog/bugs.py): {len(bugs)} bug(s)", flush=True)
            hidden = verdicts(bugs, grade_bugs(bugs, out / "catalog", args.jobs, progress=_say(sys.stdout)))
            if public:
                by_name = public_checks(bugs, out / "catalog", args.jobs, progress=_say(sys.stdout))
                checked = [by_name[b.name] for b in bugs]
            print("\n" + format_verdicts(hidden) + "\n", flush=True)
            status = 0 if all(v.caught for v in hidden) else 1
            if args.write_scores is not None:
                moved = write_scores(hidden, args.write_scores)
                print(f"wrote {SCORES_FILE.relative_to(ROOT)}: {len(moved)} line(s) changed"
                      + "".join(f"\n  {line.strip()}" for line in moved) + "\n", flush=True)
        gen_hidden, gen_public = [], []
        if mutants:
            print(f"generated mutants (catalog/generated.py): {len(mutants)} of {len(generated)}", flush=True)
            (out / "generated").mkdir(parents=True, exist_ok=True)
            gen_status, gen_hidden, gen_public = run_generated(mutants, generated, args.jobs, out / "generated",
                                                               public=public)
            status = max(status, gen_status)
        print("\nmutation scores, caught/total"
              + (" (the generated survivors include the equivalent ones):" if gen_hidden else ":"))
        print(format_scores(hidden, checked, gen_hidden, gen_public))
        return status
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
