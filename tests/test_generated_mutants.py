"""The generated mutants (catalog/generated.py) and the survivors file's logic, without any grading.

tests/test_mutants.py grades a small sample of the mutants; the full sweep is `make mutants`
(README, "Mutation testing"), too long for CI.
"""
import pytest

from catalog import ROOT, apply_edits
from catalog.generated import OPERATORS, mutants_of, solution_lines
from grader.instructor import mutants as run
from grader.parts import GRADED


@pytest.fixture(scope="module")
def generated():
    return {part: mutants_of(part) for part in GRADED}


def reference(part):
    return (ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")


def test_every_mutant_is_a_distinct_module_that_differs_from_the_reference_in_code_students_write(generated):
    for part, found in generated.items():
        source = reference(part)
        allowed = solution_lines(source)
        assert len(found) >= 20, part
        texts = set()
        for m in found:
            text = apply_edits(source, m.bug)          # one edit, whose old text occurs once
            assert text != source and text not in texts, m.id
            texts.add(text)
            compile(text, f"{part}.py", "exec")
            changed = [i for i, (a, b) in enumerate(zip(source.splitlines(), text.splitlines()), 1) if a != b]
            assert changed and changed[0] == m.line and changed[0] in allowed, m.id
            assert m.id.startswith(f"{part}/{m.function}/{m.operator}/") and m.bug.part == part


def test_ids_are_unique_and_do_not_depend_on_the_position_of_the_code(generated):
    for part, found in generated.items():
        ids = [m.id for m in found]
        assert len(set(ids)) == len(ids), part
        assert len({m.bug.name for m in found}) == len(ids), part
    # an unrelated edit above every function (a comment and a blank line) moves every line, not an id
    source = reference("activations").replace("\ndef ", "\n# moved\n\ndef ")
    moved = mutants_of("activations", source)
    assert [m.id for m in moved] == [m.id for m in generated["activations"]]
    assert all(a.line > b.line for a, b in zip(moved, generated["activations"]))


def test_the_classic_operators_are_all_there(generated):
    operators = {m.operator for found in generated.values() for m in found}
    assert {"swap_op", "number", "arg_removal", "stmt_deletion", "return_none", "seed_dropped"} <= operators
    assert {name for _, name, _ in OPERATORS} >= operators
    ids = {m.id: m for found in generated.values() for m in found}
    axis = [m for m in ids.values() if m.function == "softmax" and "axis=-1" in m.before and "axis" not in m.after]
    assert axis, "no mutant drops softmax's axis"
    keepdims = [m for m in ids.values() if "keepdims=True" in m.before and "keepdims=None" in m.after]
    assert keepdims
    seed = [m for m in ids.values() if m.operator == "seed_dropped" and m.function == "fit"]
    assert any("default_rng()" in m.after for m in seed)


# -- the survivors file ------------------------------------------------------------------------
def write(tmp_path, text):
    path = tmp_path / "survivors.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_survivors_file_reads_its_three_sections(tmp_path):
    path = write(tmp_path, '[equivalent]\n"a/f/number/00000000" = "same values"\n\n'
                           '[gap]\n"a/g/swap_op/11111111" = "real, needs a test: g at x = 0"\n\n'
                           '[public]\n"a/h/number/22222222" = "no public case has x in (0, 1]"\n')
    entries = run.read_survivors(path)
    assert entries["a/f/number/00000000"] == run.Justification("a/f/number/00000000", "equivalent", "same values")
    assert entries["a/g/swap_op/11111111"].kind == "gap"
    assert entries["a/g/swap_op/11111111"].part == "a"
    assert entries["a/h/number/22222222"].kind == "public"


@pytest.mark.parametrize("text, why", [
    ('[equivalent\n', "Expected"),
    ('[equivalents]\n"a/f/x/1" = "r"\n', "unknown section(s) equivalents"),
    ('[equivalent]\n"a/f/x/1" = ""\n', "one non-empty line"),
    ('[equivalent]\n"a/f/x/1" = 3\n', "one non-empty line"),
    ('[equivalent]\n"a/f/x/1" = """two\nlines"""\n', "one non-empty line"),
    ('[gap]\n"a/f/x/1" = "needs a test"\n', "must start with 'real, needs a test:'"),
    ('[equivalent]\n"a/f/x/1" = "r"\n[gap]\n"a/f/x/1" = "real, needs a test: t"\n', "listed twice"),
])
def test_a_malformed_survivors_file_is_refused_with_the_reason(tmp_path, text, why):
    with pytest.raises(run.SurvivorsFileError, match=why.replace("(", r"\(").replace(")", r"\)")):
        run.read_survivors(write(tmp_path, text))


def test_a_missing_survivors_file_is_refused(tmp_path):
    with pytest.raises(run.SurvivorsFileError, match="No such file"):
        run.read_survivors(tmp_path / "nope.toml")


def entries(*items):
    return {ident: run.Justification(ident, kind, "reason" if kind == "equivalent" else "real, needs a test: t")
            for ident, kind in items}


def test_a_survivor_not_in_the_file_fails_and_listed_ones_pass():
    generated = ["a/f/x/1", "a/f/x/2", "a/f/x/3", "a/f/x/4"]
    file = entries(("a/f/x/1", "equivalent"), ("a/f/x/2", "gap"))
    check = run.check_survivors(generated, generated, ["a/f/x/1", "a/f/x/2", "a/f/x/3"], file)
    assert check.unjustified == ["a/f/x/3"] and not check.ok
    assert [i for i, _ in check.equivalent] == ["a/f/x/1"] and [i for i, _ in check.gaps] == ["a/f/x/2"]
    check = run.check_survivors(generated, generated, ["a/f/x/1", "a/f/x/2"], file)
    assert check.ok and not check.stale


def test_a_mutant_only_the_public_checks_miss_must_be_listed_under_public():
    generated = ["a/f/x/1", "a/f/x/2", "a/f/x/3"]
    file = entries(("a/f/x/1", "equivalent"), ("a/f/x/2", "public"))
    # a/f/x/1 survives both (equivalent); a/f/x/2 and a/f/x/3 are caught by the hidden suite only
    check = run.check_survivors(generated, generated, ["a/f/x/1"], file, ["a/f/x/1", "a/f/x/2", "a/f/x/3"])
    assert [i for i, _ in check.public_gaps] == ["a/f/x/2"]
    assert check.unjustified_public == ["a/f/x/3"] and not check.ok
    # a [public] entry does not excuse a mutant that the hidden suite misses
    check = run.check_survivors(generated, generated, ["a/f/x/1", "a/f/x/2"], file, ["a/f/x/1", "a/f/x/2"])
    assert check.unjustified == ["a/f/x/2"] and not check.ok
    # without the public checks, [public] entries are not judged
    check = run.check_survivors(generated, generated, ["a/f/x/1"], file)
    assert check.ok and not check.public_gaps


def test_an_entry_whose_mutant_is_caught_or_gone_is_stale():
    file = entries(("a/f/x/1", "equivalent"), ("a/f/x/2", "gap"), ("a/f/x/3", "public"), ("a/f/x/old", "equivalent"))
    generated = ["a/f/x/1", "a/f/x/2", "a/f/x/3"]
    check = run.check_survivors(generated, generated, ["a/f/x/1"], file, ["a/f/x/1"])
    assert [(e.id, why) for e, why in check.stale] == [
        ("a/f/x/2", "the hidden suite catches it now"), ("a/f/x/3", "the public checks catch it now"),
        ("a/f/x/old", "no longer generated")]
    assert not check.ok and not check.unjustified and not check.unjustified_public


def test_a_partial_run_judges_only_what_it_graded_and_the_parts_it_covers():
    file = entries(("a/f/x/1", "equivalent"), ("a/f/x/2", "equivalent"), ("b/g/x/1", "gap"))
    # part a generated in full, only a/f/x/1 graded; part b not covered at all
    check = run.check_survivors(["a/f/x/1", "a/f/x/2"], ["a/f/x/1"], ["a/f/x/1"], file, ["a/f/x/1"])
    assert check.ok and [i for i, _ in check.equivalent] == ["a/f/x/1"]


def test_the_report_names_gaps_new_survivors_and_stale_entries(generated, tmp_path):
    by_id = {m.id: m for m in generated["activations"]}
    first, second, third, fourth = list(by_id)[:4]
    file = entries((first, "gap"), (fourth, "public"), ("activations/gone/x/1", "equivalent"))
    check = run.check_survivors(list(by_id), list(by_id), [first, second], file, [first, second, third, fourth])
    where = tmp_path / "s.toml"
    lines = run.format_survivor_check(check, by_id, path=where).splitlines()
    assert lines[0] == f"KNOWN GAP   {first}  real, needs a test: t"
    assert lines[2].startswith(f"SURVIVED    {second}  no hidden test catches it, and {where} does not list it")
    assert repr(by_id[second].before) in lines[3] and repr(by_id[second].after) in lines[3]
    assert lines[4].startswith(f"PUBLIC MISS {third}  the hidden suite catches it, the public checks do not")
    assert lines[6] == f"STALE       activations/gone/x/1  no longer generated: remove it from {where}"
    assert lines[7] == f"1 mutant(s) caught by the hidden suite only, listed under [public] in {where}: {fourth}"


def test_the_committed_survivors_file_names_only_generated_mutants(generated):
    """The cheap half of the stale check, for CI: every entry still names a generated mutant
    (whether it still survives is what `make mutants` checks)."""
    file = run.read_survivors()
    ids = {m.id for found in generated.values() for m in found}
    assert sorted(set(file) - ids) == []
    assert all(entry.part in GRADED for entry in file.values())


def test_the_scores_table_counts_per_part():
    class B:
        def __init__(self, part, caught):
            self.bug, self.caught = type("Bug", (), {"part": part})(), caught
    hidden = [B("activations", True), B("activations", False), B("mlp", True)]
    text = run.format_scores(hidden, [], hidden[:1], [])
    assert text.splitlines() == [
        "part                 catalog hidden     generated hidden",
        "activations          1/2 (50%)          1/1 (100%)",
        "mlp                  1/1 (100%)         -",
        "all                  2/3 (67%)          1/1 (100%)",
    ]
