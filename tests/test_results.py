"""grader/engine/results.py: the results of a grading as types.

Every results.json the kit writes is built through SubmissionResult (grade.results_json) and read back by
from_json: the round trip gives the same file, text for text; a key the schema does not know (another
tool's, a newer kit's) passes through where it was; what is not a results.json is refused with the key
that is wrong. (That every results.json of a real batch round-trips is checked in tests/test_grading.py.)
"""
import json

import pytest

from grader.engine.grade import results_json
from grader.engine.results import PartResult, ResultsError, SubmissionResult, TestResult


class Sub:
    name = "alice"


def _tests(part, outcomes):
    return [{"name": f"{part}: test {i}", "score": points if ok else 0.0, "max_score": points,
             "status": "passed" if ok else "failed", "output": "" if ok else "wrong", "visibility": "visible",
             **({} if ok else {"extra_data": {"hints": ["batch_mean"], "time": {"seconds": 0.1}}})}
            for i, (points, ok) in enumerate(outcomes)]


def _parts():
    missing = [dict(t, id=f"test_{i}", covered_by=[]) for i, t in enumerate(_tests("mlp", [(2.0, False)]))]
    return [{"part": "activations", "tests": _tests("activations", [(1.5, True), (2.0, False)]), "status": "ok",
             "seconds": 1.25, "sandboxed": True, "judge_memory_mb": 70.1, "dependencies": None, "sandbox": "landlock"},
            {"part": "mlp", "tests": missing, "status": "missing", "seconds": 0.0}]


def test_what_the_engine_writes_reads_back_the_same_text():
    written = results_json(Sub(), _parts(), fingerprint="abc", timing={"seconds": 3.5})
    typed = SubmissionResult.from_json(json.loads(json.dumps(written)))
    assert json.dumps(typed.to_gradescope()) == json.dumps(written)
    assert typed.score == 1.5 and typed.max_score == 5.5 and typed.submission == "alice"
    assert typed.parts["activations"] == PartResult(1.5, 3.5, "ok", 1.25, True, 70.1)
    assert typed.status_of("mlp") == "missing" and typed.status_of("two_layer_net") is None
    assert typed.sandbox == {"backend": "landlock"} and typed.fingerprint == "abc"
    failed = [t for t in typed.tests if not t.passed]
    assert [(t.part, t.title, t.lost, t.hints) for t in failed] == [
        ("activations", "test 1", 2.0, ["batch_mean"]), ("mlp", "test 0", 2.0, ["batch_mean"])]
    assert typed.tests_of("mlp")[0].other == {"id": "test_0", "covered_by": []}      # kept, in its place


def test_keys_the_schema_does_not_know_pass_through_in_place():
    raw = {"score": 3, "execution_time": 12, "max_score": 3, "output": "", "tests": [
        {"number": "1.1", "name": "activations: relu", "score": 3, "max_score": 3, "tags": ["activations"]}],
        "extra_data": {"engine": "mlp-kit", "parts": {"activations": {"score": 3, "max_score": 3, "status": "ok",
                                                                        "note": "x"}}, "max_score": 3},
        "leaderboard": []}
    typed = SubmissionResult.from_json(raw)
    assert json.dumps(typed.to_gradescope()) == json.dumps(raw)
    test = typed.tests[0]
    assert test.status is None and test.passed and test.other == {"number": "1.1", "tags": ["activations"]}
    assert test.hints is None                                  # no record: only the text can tell
    assert typed.other == {"execution_time": 12, "leaderboard": []} and typed.parts["activations"].other == {"note": "x"}


@pytest.mark.parametrize("broken, says", [
    ([], "should hold a dict"),
    ({"score": 1, "max_score": 1, "tests": []}, "no extra_data.parts"),
    ({"score": 1, "max_score": 1, "tests": {}, "extra_data": {"parts": {}}}, "'tests' should be a list"),
    ({"score": "1", "max_score": 1, "tests": [], "extra_data": {"parts": {}}}, "'score' should be a number"),
    ({"score": 1, "max_score": 1, "tests": [{"score": 1}], "extra_data": {"parts": {}}}, "a dict with a name"),
    ({"score": 1, "max_score": 1, "tests": [{"name": "a: b", "score": True, "max_score": 1}],
      "extra_data": {"parts": {}}}, "test 'a: b': 'score' should be a number"),
    ({"score": 1, "max_score": 1, "tests": [], "extra_data": {"parts": {"mlp": {"score": 1}}}},
     "extra_data.parts.mlp: 'max_score' should be a number"),
])
def test_what_is_not_a_results_file_is_refused_with_the_key_that_is_wrong(broken, says):
    with pytest.raises(ResultsError, match=says.replace("(", r"\(")):
        SubmissionResult.from_json(broken)


def test_a_test_result_built_in_code_writes_gradescopes_keys_only():
    test = TestResult("mlp: fit learns", 0.0, 3.0, "failed", "too slow", "after_published")
    assert test.to_gradescope() == {"name": "mlp: fit learns", "score": 0.0, "max_score": 3.0, "status": "failed",
                                    "output": "too slow", "visibility": "after_published"}
    assert not test.passed and test.lost == 3.0 and test.part == "mlp" and test.title == "fit learns"


def test_a_results_file_not_of_the_schema_is_not_kept_by_resume(tmp_path):
    """read_results_file (what resume and the Canvas export read) takes only a results.json of the schema:
    one whose score was edited into a string is graded again, not kept."""
    from grader.engine.grade import read_results_file
    path = tmp_path / "results.json"
    written = results_json(Sub(), _parts())
    path.write_text(json.dumps(written), encoding="utf-8")
    assert read_results_file(path) == written
    path.write_text(json.dumps(dict(written, score="100")), encoding="utf-8")
    assert read_results_file(path) is None
