"""The catalog of known submissions against the hidden suites.

- Every bug in catalog/bugs.py must lose points on its own part, fail
  each test named in its `caught_by`, and show its `hint` in some failure.
- Every module in catalog/alternatives/ must keep full marks.
- The catalog itself must be well formed.

Submissions are graded by the session fixtures bug_grades and
alternative_grades (tests/conftest.py), one grading per part and kind, lazily:
`-k activations` grades only that part; tests/test_otter.py reuses them.

A bug with extra={"known_gap": ...} (or an alternative with a top-level
KNOWN_GAP = "..." string) documents a weakness of the suite and is a strict
xfail: it starts failing as soon as the suite is fixed, so that the entry
can be promoted.

Runtime: about 3.5 minutes for the whole catalog (63 bugs, 10 alternatives)
with 2 jobs on 2 cores; mlp (~70 s) and two_layer_net (~50 s) dominate,
through the MNIST and XOR trainings.
"""
import ast
import dataclasses
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.parts import GRADED as PARTS  # noqa: E402
from catalog import ALTERNATIVES, alternative_folders, apply_edits, materialize  # noqa: E402
from catalog.bugs import BUGS  # noqa: E402

MIN_BUGS_PER_PART = 6
MIN_BUGS = 32
MIN_ALTERNATIVES = 8
OUTPUT_CHARS = 400


def describe(result, part, only_failed=True):
    """What the grader reported, for an assertion message."""
    info = result["extra_data"]["parts"][part]
    lines = [f"{part}: {info['score']:g} / {info['max_score']:g} (status: {info['status']})"]
    for t in result["tests"]:
        if only_failed and t["status"] == "passed":
            continue
        output = " ".join((t.get("output") or "").split())
        if len(output) > OUTPUT_CHARS:
            output = output[:OUTPUT_CHARS] + " ..."
        lines.append(f"  [{t['status']} {t['score']:g}/{t['max_score']:g}] {t['name']}"
                     + (f"\n      {output}" if output else ""))
    if len(lines) == 1:
        lines.append("  (no test failed)")
    return "\n".join(lines)


# -- bugs ----------------------------------------------------------------------
def _bug_params():
    for bug in BUGS:
        marks = ()
        gap = bug.extra.get("known_gap")
        if gap:
            marks = (pytest.mark.xfail(strict=True, raises=AssertionError,
                                       reason=f"known gap of the suite: {gap}"),)
        yield pytest.param(bug, id=f"{bug.part}-{bug.name}", marks=marks)


@pytest.mark.parametrize("bug", list(_bug_params()))
def test_bug_is_caught(bug, bug_grades):
    result = bug_grades.part(bug.part)[bug.name]
    tests = result["tests"]
    failed = [t for t in tests if t["status"] != "passed"]
    who = f"bug {bug.part}/{bug.name} ({bug.story})"
    report = describe(result, bug.part)

    assert result["score"] < result["max_score"], f"{who} scored full marks:\n{report}"

    unknown = [c for c in bug.caught_by if not any(c in t["name"] for t in tests)]
    assert not unknown, f"{who}: caught_by {unknown} matches no test name of the {bug.part} suite (a typo?)"
    missed = [c for c in bug.caught_by if not any(c in t["name"] for t in failed)]
    assert not missed, f"{who}: expected the test(s) matching {missed} to fail; the grader reported:\n{report}"

    if bug.hint:
        assert any(bug.hint in (t.get("output") or "") for t in failed), (
            f"{who}: no failing test's output contains the hint {bug.hint!r}; the grader reported:\n{report}")


REWRITE = ("`python -m grader mutants --catalog-only --no-public --write-scores \"<why>\"` rewrites "
           "catalog/scores.py, noting each moved score")


@pytest.mark.parametrize("bug", list(_bug_params()))
def test_bug_scores_its_calibrated_score(bug, bug_grades):
    """Each bug costs what catalog/scores.py records: a suite change that moves a score comes with
    a new calibration there (a mistake should cost its points once, and not move by accident)."""
    from catalog.scores import SCORES
    result = bug_grades.part(bug.part)[bug.name]
    score = result["extra_data"]["parts"][bug.part]["score"]
    assert bug.name in SCORES, f"{bug.name}: no calibrated score in catalog/scores.py (it scores {score:g}); {REWRITE}"
    assert score == SCORES[bug.name], (f"bug {bug.part}/{bug.name} scores {score:g}, calibrated "
                                       f"{SCORES[bug.name]:g} (if the change is meant, {REWRITE}):\n"
                                       f"{describe(result, bug.part)}")


# -- likely causes ---------------------------------------------------------------
def _causes_named(result):
    """{hint id: the first failed test that names it}: the ids the judge recorded (extra_data "hints"),
    which must be the ones its message names (tooling/feedback.py diagnoses, what make report reads
    where no record is kept)."""
    from tooling.feedback import diagnoses
    named = {}
    for t in result["tests"]:
        if t["status"] != "passed":
            recorded = (t.get("extra_data") or {}).get("hints")
            assert recorded == diagnoses(t.get("output") or ""), (t["name"], recorded, t.get("output"))
            for cause in recorded:
                named.setdefault(cause, t["name"])
    return named


@pytest.mark.parametrize("bug", list(_bug_params()))
def test_likely_causes_are_right_or_silent(bug, bug_grades):
    """Issue 19, "hints are right or silent": the likely causes the grader names on a bug are exactly the
    ones the bug declares (`causes`). A hint that fires on a bug with another cause is a defect of the
    hint (make it silent there), not of the catalog; a declared cause that is not named is a hint that
    stopped working. Every hint is so tested against the bugs it is meant for and against all others."""
    named = _causes_named(bug_grades.part(bug.part)[bug.name])
    who = f"bug {bug.part}/{bug.name} ({bug.story})"
    wrong = {cause: test for cause, test in named.items() if cause not in bug.causes}
    assert not wrong, f"{who}: the grader names likely causes this bug does not have: {wrong}"
    missing = [cause for cause in bug.causes if cause not in named]
    assert not missing, f"{who}: no failed test names the likely cause(s) {missing}; named: {sorted(named)}"


# Hints that no catalog bug triggers, and why (each a promise to add a bug when one is realistic).
UNEXERCISED_HINTS = {
    "all_zeros": "no catalog bug returns an all-zero gradient; a fit that takes no step names no_step instead",
    "backward_first": "named when fit does not learn and does not follow a wrong backward; every catalog bug with "
                      "a wrong backward has a fit that follows it (and the XOR hint is silent on a wrong forward)",
    "sgd_step_first": "as backward_first, for sgd_step: the catalog's sgd_step bugs have a fit that follows them",
    "softmax_first": "as backward_first, for softmax: the catalog's softmax bug has a fit that follows it",
    "factor_two": "a factor 2 counted twice: no catalog bug has it",
    "half": "half the gradient without a square in the loss: no catalog bug has it",
    "finite_differences": "a backward by finite differences has right values; no catalog bug is one",
    "init_symmetric": "the catalog's init_all_ones fails the other-seed check first, before the symmetry check",
    "relu_times_x": "a mistake of the activations' backward table (grader/suites/mistakes.py) no bug has yet",
    "sigmoid_only": "a mistake of the activations' backward table (grader/suites/mistakes.py) no bug has yet",
    "tanh_not_squared": "a mistake of the activations' backward table (grader/suites/mistakes.py) no bug has yet",
    "no_return": "the untouched starter and the partial example name it (tests/test_public_checks.py), not the "
                 "catalog of finished submissions",
    "not_implemented": "the untouched starter names it (tests/test_public_checks.py), not the catalog",
    "shuffle_X_and_y": "its text is part of fit_step_first's, which is what the catalog's fit_shuffles_X_not_y names",
    "transposed": "named for square matrices only; the catalog's dW2_transposed is (H, K) for (K, H): its shape fails",
}


def test_every_likely_cause_is_meant_for_some_bug():
    """Each hint of tooling/feedback.py HINTS is declared by some catalog bug (so the test above checks it
    against the bugs it is meant for and all the others), or listed in UNEXERCISED_HINTS with a reason."""
    from tooling.feedback import HINTS
    declared = {cause for bug in BUGS for cause in bug.causes}
    unknown = sorted(declared - set(HINTS))
    assert not unknown, f"causes that are not hint ids of tooling/feedback.py HINTS: {unknown}"
    untested = sorted(set(HINTS) - declared - set(UNEXERCISED_HINTS))
    assert not untested, f"hints no catalog bug declares (add a bug, or a reason to UNEXERCISED_HINTS): {untested}"
    stale = sorted(declared & set(UNEXERCISED_HINTS))
    assert not stale, f"UNEXERCISED_HINTS lists hints that catalog bugs declare: {stale}"


# -- a slip costs once ------------------------------------------------------------
# The rule (grader/authoring/slips.py, SLIP_CAP there): a bug costs at most the points of the tests aimed
# at the function it breaks (the tests its clauses name in grader/authoring/clauses.py, the module's own
# clauses included) plus SLIP_CAP, as the README and the handout state. No catalog bug is excepted: the
# ten that cost more before the stand-ins (grader/suites/conftest.py _stand_ins) are within the cap.
@pytest.mark.parametrize("bug", list(_bug_params()))
def test_a_slip_costs_once(bug, bug_grades):
    """Issue 19: a bug loses at most the points of the tests aimed at the function it breaks, plus SLIP_CAP
    (downstream tests accept harmless representations of what they consume, and what the student's own
    functions give)."""
    from grader.authoring.slips import SLIP_CAP, beyond_aimed, edited_functions
    result = bug_grades.part(bug.part)[bug.name]
    functions = edited_functions(bug.part, bug.edits)
    beyond = beyond_aimed(bug.part, functions, result)
    assert sum(beyond.values()) <= SLIP_CAP, (
        f"bug {bug.part}/{bug.name} ({bug.story}) loses {sum(beyond.values()):g} points in tests not aimed at "
        f"{sorted(functions, key=str)} (cap {SLIP_CAP:g}): {beyond}")


def test_every_test_title_maps_to_its_function():
    """The slip rule reads test functions off titles: each title must match exactly one test."""
    from grader.authoring.slips import suite_function_of
    for part in PARTS:
        tree = ast.parse((ROOT / "grader" / "suites" / f"test_{part}.py").read_text(encoding="utf-8"))
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
        titles = {n.name: (ast.get_docstring(n) or "").strip().splitlines()[0] for n in tree.body
                  if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
        lookup = suite_function_of(part)
        for name in names:
            title = titles[name].replace("{key}", "W1").replace("{layers}", "1")
            assert lookup(f"{part}: {title}") == name, (part, name, title)


# -- alternatives ----------------------------------------------------------------
def _known_gap_of(path):
    """The top-level KNOWN_GAP = "..." string of an alternative, if any (no import)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "KNOWN_GAP" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


ALTERNATIVE_PATHS = sorted(ALTERNATIVES.glob("*__*.py"))


def _alternative_params():
    for path in ALTERNATIVE_PATHS:
        gap = _known_gap_of(path)
        marks = (pytest.mark.xfail(strict=True, raises=AssertionError,
                                   reason=f"known false failure: {gap}"),) if gap else ()
        yield pytest.param(path.stem, id=path.stem, marks=marks)


@pytest.mark.parametrize("name", list(_alternative_params()))
def test_alternative_keeps_full_marks(name, alternative_grades):
    part = name.split("__", 1)[0]
    result = alternative_grades.part(part)[name]
    failed = [t for t in result["tests"] if t["status"] != "passed"]
    assert result["score"] == result["max_score"] and not failed, (
        f"the correct alternative {name} lost points:\n{describe(result, part)}")


FLOAT32_FIT = {  # fit, training in float32: the reference with these lines changed
    "mlp": (("    params = init_params(layer_sizes, seed)\n",
             "    params = {k: v.astype(np.float32) for k, v in init_params(layer_sizes, seed).items()}\n"
             "    X = np.asarray(X, dtype=np.float32)\n"),),
    # The updates promote the float32 start to float64 (the activations compute in float64), so fit(lr=0)
    # returns init_params's values rounded to float32, held as float64 (grader/suites/params.py).
    "two_layer_net": (("    params = init_params(X.shape[1], n_hidden, y.shape[1], seed)\n",
                       "    params = {k: v.astype(np.float32)\n"
                       "              for k, v in init_params(X.shape[1], n_hidden, y.shape[1], seed).items()}\n"
                       "    X = np.asarray(X, dtype=np.float32)\n"
                       "    y = np.asarray(y, dtype=np.float32)\n"),),
}


@pytest.mark.parametrize("part", sorted(FLOAT32_FIT))
def test_a_float32_training_loop_is_minibatch_sgd(tmp_path, monkeypatch, part):
    """Issue 19: a fit that trains in float32 was told "the result is not minibatch SGD over any order of
    the rows" (the MLP, 1.5 points) or "returned other parameters than init_params" (the two-layer net,
    1.5 points). The contracts name no dtype, and a float32 loop is SGD to float32's precision
    (grader/suites/test_mlp.py: sgd_close). Full marks, hidden and public; not a catalog alternative,
    because it is not within a hundredth of the public checks' tolerances (the kernel sweep asks that of
    the alternatives)."""
    from catalog import public
    from grader.engine.grade import grade
    source = (ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")
    for old, new in FLOAT32_FIT[part]:
        assert source.count(old) == 1
        source = source.replace(old, new)
    folder = tmp_path / "float32_fit"
    folder.mkdir()
    (folder / f"{part}.py").write_text(source, encoding="utf-8")
    result = grade([str(folder)], tmp_path / "graded", jobs=2, parts=(part,), names=["float32_fit"],
                   quiet=True)["float32_fit"]
    failed = [t for t in result["tests"] if t["status"] != "passed"]
    assert result["score"] == result["max_score"] and not failed, describe(result, part)
    monkeypatch.setattr(public, "entries", lambda: [("float32_fit", part, source)])
    cases = public.outcomes(tmp_path / "public")["float32_fit"]
    assert cases and all(passed for passed, _ in cases.values()), {t: m for t, (ok, m) in cases.items() if not ok}


def test_a_slip_in_fits_progress_line_costs_nothing_on_any_machine(tmp_path):
    """fit's progress line is not graded, and under verbose=None it runs only once an epoch has taken a
    second of wall time: a slip in it crashed fit on a busy machine and not on an idle one (two generated
    mutants, history[-2] and history[+1], survived one run of `make mutants` and not another). The grader
    calls fit with verbose=False (grader/suites/test_mlp.py: QuietFit). Here the slip runs whenever
    verbose is None, as on the slowest machine: full marks."""
    from grader.engine.grade import grade
    source = (ROOT / "solutions" / "mlp.py").read_text(encoding="utf-8")
    old = "        if verbose or (verbose is None and now - last_line >= 1.0):\n"
    line = '            print(f"epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f} ({now - started:.1f} s)", flush=True)\n'
    assert source.count(old) == 1 and source.count(line) == 1
    source = source.replace(old, "        if verbose or verbose is None:\n").replace(line, line.replace("[-1]", "[-2]"))
    folder = tmp_path / "slow_machine_progress"
    folder.mkdir()
    (folder / "mlp.py").write_text(source, encoding="utf-8")
    result = grade([str(folder)], tmp_path / "graded", jobs=2, parts=("mlp",), names=["progress"],
                   quiet=True)["progress"]
    assert result["score"] == result["max_score"], describe(result, "mlp")


# -- hygiene -------------------------------------------------------------------
def test_every_calibrated_score_is_a_bug():
    from catalog.scores import SCORES
    assert list(SCORES) == [b.name for b in BUGS], f"catalog/scores.py lists other bugs or another order; {REWRITE}"


def test_the_scores_file_is_rewritten_by_a_command(tmp_path):
    """Issue 20: catalog/scores.py is rewritten by `mutants --write-scores`, not by hand. Nothing graded
    leaves it as it is; a moved score says what it was; a new bug says so; a bug that left the catalog
    leaves the file; a bug with no score that was not graded is refused."""
    from grader.instructor.mutants import Verdict, rewrite_scores, write_scores
    text = (ROOT / "catalog" / "scores.py").read_text(encoding="utf-8")
    first, second = BUGS[0], BUGS[1]
    assert rewrite_scores(text, BUGS, {}) == text
    moved = rewrite_scores(text, BUGS, {first.name: 1.25, second.name: float(_score_of(second.name))}, "issue 99")
    assert f'    "{first.name}": 1.25,  # was {_score_of(first.name):g} (issue 99)\n' in moved
    assert [line for line in moved.splitlines() if line not in text.splitlines()] == [
        f'    "{first.name}": 1.25,  # was {_score_of(first.name):g} (issue 99)']
    renamed = [dataclasses.replace(b, name="a_new_bug") if b is first else b for b in BUGS]
    added = rewrite_scores(text, renamed, {"a_new_bug": 3.0}, "issue 99")
    assert '    "a_new_bug": 3,  # new (issue 99)\n' in added and f'"{first.name}"' not in added
    with pytest.raises(ValueError, match="a_new_bug has no calibrated score"):
        rewrite_scores(text, renamed, {})
    path = tmp_path / "scores.py"
    path.write_text(text, encoding="utf-8")
    assert write_scores([Verdict(first, 2.5, 20.0, ["x"])], "why", path=path) == [
        f'    "{first.name}": 2.5,  # was {_score_of(first.name):g} (why)']


def _score_of(name):
    from catalog.scores import SCORES
    return SCORES[name]


def test_bug_names_are_unique():
    dupes = [name for name, n in Counter(b.name for b in BUGS).items() if n > 1]
    assert not dupes, f"duplicate bug names: {dupes}"


def test_bug_counts():
    assert all(b.part in PARTS for b in BUGS), [b.name for b in BUGS if b.part not in PARTS]
    per_part = Counter(b.part for b in BUGS)
    short = {p: per_part[p] for p in PARTS if per_part[p] < MIN_BUGS_PER_PART}
    assert not short, f"fewer than {MIN_BUGS_PER_PART} bugs for {short}"
    assert len(BUGS) >= MIN_BUGS, f"{len(BUGS)} bugs; the catalog needs at least {MIN_BUGS}"


def test_bug_entries_are_complete():
    for bug in BUGS:
        assert bug.caught_by, f"{bug.name}: caught_by names no test"
        assert bug.story.strip() and "\n" not in bug.story, f"{bug.name}: story should be one sentence"
        assert bug.edits and all(isinstance(e, tuple) and len(e) == 2 for e in bug.edits), \
            f"{bug.name}: edits should be ((old, new), ...)"
        assert set(bug.extra) <= {"known_gap"}, f"{bug.name}: unknown extra keys {set(bug.extra)}"
        assert isinstance(bug.causes, tuple), f"{bug.name}: causes should be a tuple of hint ids"


@pytest.mark.parametrize("bug", BUGS, ids=[f"{b.part}-{b.name}" for b in BUGS])
def test_bug_edits_apply_and_change_the_module(bug, tmp_path):
    reference = (ROOT / "solutions" / f"{bug.part}.py").read_text(encoding="utf-8")
    folder = materialize(bug, tmp_path)      # raises unless every edit matches exactly once
    text = (folder / f"{bug.part}.py").read_text(encoding="utf-8")
    assert text == apply_edits(reference, bug)
    assert text != reference, f"{bug.name}: the edits leave solutions/{bug.part}.py unchanged"
    compile(text, f"{bug.name}/{bug.part}.py", "exec")   # a bug, not a syntax error


def test_alternatives_are_well_formed(tmp_path):
    assert len(ALTERNATIVE_PATHS) >= MIN_ALTERNATIVES, \
        f"{len(ALTERNATIVE_PATHS)} alternatives; the catalog needs at least {MIN_ALTERNATIVES}"
    folders = alternative_folders(tmp_path)
    assert sorted(folders) == [p.stem for p in ALTERNATIVE_PATHS]
    for name, (part, folder) in folders.items():
        assert part in PARTS, f"{name}: {part!r} is not a part"
        source = (folder / f"{part}.py").read_text(encoding="utf-8")
        compile(source, name, "exec")
        reference = (ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")
        assert source != reference, f"{name} is a copy of the reference"
