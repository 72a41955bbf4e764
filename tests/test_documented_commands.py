"""Every command the READMEs show is tested as written (issue 18: `make gradescope` shipped broken).

The documents: README.md, docs/*.md and the instructor bundle's README (grader/templates/instructor/).
From their shell blocks (the commands and the equivalents named in their comments) and their inline
code spans, every `make TARGET [VAR=value ...]` and every `python -m grader ...` is collected, and:

- each make target exists and `make -n` expands it (the kit's Makefile; the student section of
  README.md may also name the handout's, grader/templates/handout/Makefile), and each `python -m
  grader` command of the expansion is parsed by the CLI's own parser (grader.__main__.parser_for),
  with the documented variables set: a recipe that calls a subcommand or an option the CLI does not
  have fails here, without running anything;
- each documented `python -m grader` command parses as written; a synopsis (`[--part P]`,
  `<name>`, `...`) has each of its options checked against that command's parser;
- the cheap ones run for real on small inputs: `make help` (which must list every documented
  target), `make gradebook` and `make canvas` on a folder of two hand-written results.json,
  `make release-check` on a minimal handout and `make gradescope ALLOW_UNSANDBOXED=1` (a build
  collects the suites and writes the zip). Nothing here grades: the targets that grade (grade,
  otter-grade, mutants, ...) or build for long (otter, dist) are covered by `make -n` and the
  parser, and by their own test files.

A Makefile with today's bug (`gradescope --out ...`, without `build`) fails the same checks
(test_a_recipe_without_its_subcommand_is_caught).
"""
import contextlib
import csv
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from grader import ROOT
from grader.__main__ import parser_for

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "grader" / "templates" / "instructor" /
        "README.md"]
KIT_MAKEFILE = ROOT / "Makefile"
HANDOUT_MAKEFILE = ROOT / "grader" / "templates" / "handout" / "Makefile"
STUDENT_SECTION = "## For students"        # README.md's heading of the section about the handout's Makefile

MAKE = re.compile(r"(?:^|(?<=[\s(;&|]))make ([a-z][\w-]*)((?: +[A-Z_]+=(?:\"[^\"]*\"|'[^']*'|[^\s)`;&|]+))*)")
GRADER = re.compile(r"\bpython3? -m grader(?= |$)[^`#;&|()\n]*")
SYNOPSIS = re.compile(r"[\[\]<>]|\.\.\.")   # [optional], <placeholder>, ...: a synopsis, not a command


@dataclass(frozen=True)
class Documented:
    """One command found in a document: `where` (file:line), `kind` ("make" or "grader"), its `text`,
    and `handout` (True in README.md's student section, which also names the handout's targets)."""

    where: str
    kind: str
    text: str
    handout: bool = False


def _commands_in(text, where, handout):
    found = [Documented(where, "make", m.group(0).strip(), handout) for m in MAKE.finditer(text)]
    found += [Documented(where, "grader", m.group(0).strip(), handout) for m in GRADER.finditer(text)]
    return found


def documented(path: Path) -> list[Documented]:
    """The make and `python -m grader` commands of one Markdown file, in shell blocks and code spans."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found, fenced, handout = [], False, False
    prose = []                                   # (offset in flat, where, handout) of each prose line
    flat = ""
    for i, line in enumerate(lines, 1):
        where = f"{path.relative_to(ROOT)}:{i}"
        if line.startswith("```"):
            fenced = not fenced
            flat += "\n\n"                        # a code span never runs across a block
            continue
        if fenced:
            # A command, then its comment or annotation (after " # " or a run of spaces): commands named in the
            # comment ("# or: make canvas ...", "(python -m grader ...)") are commands as written too.
            code, *rest = re.split(r"\s#\s|\s{3,}", line + " ", maxsplit=1)
            for piece in [*re.split(r"&&|\|\||;", code), *rest]:
                found += _commands_in(piece.strip(), where, handout)
            continue
        if line.startswith("## "):
            handout = path == ROOT / "README.md" and line.startswith(STUDENT_SECTION)
        prose.append((len(flat), where, handout))
        flat += line + "\n"
    for m in re.finditer(r"`([^`\n]+(?:\n[^`\n]+)?)`", flat):        # inline spans, which may wrap a line
        where, in_handout = next((w, h) for offset, w, h in reversed(prose) if offset <= m.start())
        found += _commands_in(re.sub(r"\s+", " ", m.group(1)).strip(), where, in_handout)
    return found


ALL = [d for path in DOCS for d in documented(path)]


def make_args(text):
    """`make TARGET VAR=value ...` -> [TARGET, VAR=value ...], without placeholder values (VAR=...)."""
    words = shlex.split(text)[1:]
    return [w for w in words if not ("=" in w and SYNOPSIS.search(w.split("=", 1)[1]))]


# -- checking one command against the CLI's parser ----------------------------------------------------
def parse_problem(argv) -> str | None:
    """None when `python -m grader ARGV` parses; else argparse's message."""
    chosen = next((a for a in argv if not a.startswith("-")), None)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser_for(chosen).parse_args(argv)
    except SystemExit as exc:
        return (err.getvalue().strip().splitlines() or [f"exit {exc.code}"])[-1] if exc.code else None
    return None


def synopsis_problem(argv) -> str | None:
    """For a synopsis: the subcommands must exist and every option it names must be one of that command's."""
    parser = parser_for(next((a for a in argv if not a.startswith("-")), None))
    for word in (w.strip("[]") for w in argv):
        if word == "--":
            break
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if subs and not word.startswith("-") and not SYNOPSIS.search(word):
            if word not in subs[0].choices:
                return f"no command {word!r} (one of {', '.join(subs[0].choices)})"
            parser = subs[0].choices[word]
        elif word.startswith("-") and word.split("=")[0] not in parser._option_string_actions:
            return f"no option {word!r} for {parser.prog}"
    return None


def grader_argv(text):
    return shlex.split(text)[3:]                  # after "python -m grader"


def expansion_problems(makefile, args, cwd=ROOT) -> list[str]:
    """What is wrong with `make -n ARGS` of `makefile`: make's own error, or a `-m grader` command of its
    recipe that the CLI does not parse, or a script it runs that does not exist."""
    proc = subprocess.run(["make", "-n", "-s", "--no-print-directory", "-f", str(makefile), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")})
    if proc.returncode != 0:
        return [f"make -n {' '.join(args)}: {proc.stderr.strip()[-300:]}"]
    problems = []
    for line in proc.stdout.replace("\\\n", " ").splitlines():
        for command in re.split(r"&&|\|\||;", line):
            try:
                words = shlex.split(command)
            except ValueError:
                continue
            if "-m" in words and words.index("-m") + 1 < len(words) and words[words.index("-m") + 1] == "grader":
                argv = words[words.index("-m") + 2:]
                why = parse_problem(argv)
                if why:
                    problems.append(f"make {' '.join(args)} runs `python -m grader {' '.join(argv)}`: {why}")
            scripts = [w for w in words[1:2] if w.endswith(".py")]
            problems += [f"make {' '.join(args)} runs {s}, which does not exist" for s in scripts
                         if not (cwd / s).is_file()]
    return problems


def targets(makefile) -> set[str]:
    """The targets `makefile` defines (with the files it includes), from make's database."""
    proc = subprocess.run(["make", "-pRrq", "-f", str(makefile), ":"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    return {m.group(1) for m in re.finditer(r"^([a-z][\w-]*):(?!=)", proc.stdout, re.M)}


# -- the tests --------------------------------------------------------------------------------------------
def test_the_documents_show_the_commands_this_test_checks():
    """The extraction itself: each document is read, and the commands of the issue are among those found."""
    texts = {d.text for d in ALL}
    for must in ("make gradescope", "make gradescope HIDDEN_VISIBILITY=after_due_date", "make gradebook OUT=DIR",
                 "make canvas ROSTER=export.csv OUT=grades", "make release-check", "make otter",
                 "python -m grader export --canvas export.csv grades", "make grade ALLOW_UNSANDBOXED=1"):
        assert must in texts, must
    assert {d.where.split(":")[0] for d in ALL} == {str(p.relative_to(ROOT)) for p in DOCS}
    assert any(d.handout and d.text == "make notebook" for d in ALL)          # the student section


def test_every_documented_make_target_exists_and_its_recipe_parses():
    kit, handout = targets(KIT_MAKEFILE), targets(HANDOUT_MAKEFILE)
    assert {"grade", "gradescope", "canvas", "release-check"} <= kit and {"check", "notebook"} <= handout
    problems, checked = [], set()
    for d in (d for d in ALL if d.kind == "make"):
        args = make_args(d.text)
        makefiles = [m for m, has in ((KIT_MAKEFILE, args[0] in kit),
                                      (HANDOUT_MAKEFILE, d.handout and args[0] in handout)) if has]
        if not makefiles:
            problems.append(f"{d.where}: `{d.text}`: no such target in "
                            f"{'the kit nor the handout' if d.handout else 'the kit'}'s Makefile")
        for makefile in makefiles:
            if (makefile, tuple(args)) not in checked:
                checked.add((makefile, tuple(args)))
                problems += [f"{d.where}: {p}" for p in expansion_problems(makefile, args)]
    assert not problems, "\n".join(problems)
    assert len(checked) >= 25, checked            # the documents show that many distinct make commands


def test_every_documented_grader_command_parses_as_written():
    problems = []
    for d in (d for d in ALL if d.kind == "grader"):
        argv = grader_argv(d.text)
        why = synopsis_problem(argv) if SYNOPSIS.search(d.text) else parse_problem(argv)
        if why:
            problems.append(f"{d.where}: `{d.text}`: {why}")
    assert not problems, "\n".join(problems)


def test_a_recipe_without_its_subcommand_is_caught(tmp_path):
    """The checks above on today's bug: `gradescope --out` (the CLI needs `gradescope build`), a misspelt
    option, and a target no Makefile has, each in a Makefile of its own."""
    broken = tmp_path / "Makefile"
    broken.write_text(f"PYTHON ?= {sys.executable}\n"
                      "gradescope:\n\t$(PYTHON) -m grader gradescope --out dist/gradescope.zip "
                      "--hidden-visibility after_published\n"
                      "canvas:\n\t$(PYTHON) -m grader export --canvass roster.csv grades\n"
                      "fixed:\n\t$(PYTHON) -m grader gradescope build --out dist/gradescope.zip\n")
    assert "invalid choice: 'dist/gradescope.zip'" in "".join(expansion_problems(broken, ["gradescope"]))
    assert "the following arguments are required: --canvas" in "".join(expansion_problems(broken, ["canvas"]))
    assert "No rule to make target" in "".join(expansion_problems(broken, ["no-such-target"]))
    assert expansion_problems(broken, ["fixed"]) == []
    assert "gradescope" in (parse_problem(["gradescope"]) or "")            # a command without its subcommand
    assert synopsis_problem(["mutants", "[--part", "P]", "[--bug", "NAME]"]) is None
    assert "--parts" in (synopsis_problem(["mutants", "[--parts", "P]"]) or "")


def run_make(*args, cwd=ROOT, env=None):
    return subprocess.run(["make", "--no-print-directory", *args, f"PYTHON={sys.executable}"], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
                               "PYTHONPATH": str(ROOT), **(env or {})})


def test_make_help_lists_every_documented_target():
    proc = run_make("help")
    assert proc.returncode == 0, proc.stderr
    kit = targets(KIT_MAKEFILE)
    for target in sorted({make_args(d.text)[0] for d in ALL if d.kind == "make"} & kit):
        assert re.search(rf"^make {re.escape(target)}\b", proc.stdout, re.M), f"make help does not list {target}"
    assert "ALLOW_UNSANDBOXED=1" in proc.stdout


def results(name, score, status="ok"):
    """A results.json as make grade writes it, reduced to what the gradebook and the export read."""
    parts = {"activations": {"score": score, "max_score": 20, "status": status, "seconds": 1.0}}
    return {"score": score, "max_score": 20, "output": "", "visibility": "visible", "tests": [],
            "extra_data": {"submission": name, "parts": parts, "sandbox": {"backend": "landlock"}}}


def test_gradebook_and_canvas_run_as_documented(tmp_path):
    """`make gradebook OUT=DIR`, then `make canvas ROSTER=roster.csv OUT=DIR` with the README's roster
    columns, on two hand-written results.json; `make canvas` without ROSTER says what it needs."""
    out = tmp_path / "grades"
    for name, score in (("ada_lovelace", 20), ("alan_turing", 12.5)):
        (out / name).mkdir(parents=True)
        (out / name / "results.json").write_text(json.dumps(results(name, score)))
    proc = run_make("gradebook", f"OUT={out}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = list(csv.DictReader((out / "gradebook.csv").open(encoding="utf-8")))
    assert {r["submission"]: r["total"] for r in rows} == {"ada_lovelace": "20", "alan_turing": "12.5"}

    roster = tmp_path / "roster.csv"
    roster.write_text("submission,student_id,name,login_id,section\n"
                      'ada_lovelace,s1001,"Lovelace, Ada",ada,A\nalan_turing,s1002,"Turing, Alan",alan,A\n')
    proc = run_make("canvas", f"ROSTER={roster}", f"OUT={out}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (out / "canvas.csv").read_text(encoding="utf-8")
    assert "s1001" in text and "s1002" in text and "12.5" in text

    proc = run_make("canvas", f"OUT={out}")
    assert proc.returncode == 2 and "make canvas needs ROSTER=" in proc.stdout + proc.stderr


def test_release_check_runs_as_documented(tmp_path):
    """`make release-check` checks dist/handout of the folder it runs in: a handout of the generated
    assignment/ passes it (that the check fails on solution code is tests/test_release.py's)."""
    handout = tmp_path / "dist" / "handout"
    shutil.copytree(ROOT / "assignment", handout / "assignment",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (handout / "README.md").write_text("# The assignment\n")
    proc = run_make("-f", str(KIT_MAKEFILE), "release-check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "release check passed" in proc.stdout


def test_make_gradescope_builds_the_zip_as_documented(tmp_path):
    """The target that shipped broken, run for real (a build grades nothing: it collects the suites and
    writes the zip), with the documented ALLOW_UNSANDBOXED=1: the choice is in the zip's config.json."""
    import zipfile
    out = tmp_path / "gradescope.zip"
    proc = run_make("gradescope", f"GRADESCOPE={out}", "ALLOW_UNSANDBOXED=1")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with zipfile.ZipFile(out) as zf:
        config = json.loads(zf.read("config.json"))
        assert {"setup.sh", "run_autograder"} <= set(zf.namelist())
    assert config["allow_unsandboxed"] is True and config["hidden_visibility"] == "after_published"
    assert "built with --allow-unsandboxed" in proc.stderr
