"""The same submission gets the same score, the same tests and the same
messages every time: seeded data per test, a derandomized hypothesis profile,
single-threaded BLAS, np.random seeded before every call into student code (by the call's position in its test)."""
from grader.__main__ import EXAMPLES
from grader.engine.grade import grade

RUNS = 4          # tests/test_load.py grades the whole sample twice, idle and loaded, besides


def test_repeated_gradings_are_identical(tmp_path):
    # Copies in one batch: they are graded in parallel, in interleaved order.
    partial = str(EXAMPLES["partial"])
    results = grade([partial] * RUNS, tmp_path, jobs=2, names=[f"run{i}" for i in range(RUNS)], quiet=True)
    assert len(results) == RUNS
    first = results["run0"]
    assert 0 < first["score"] < 100
    for name, result in results.items():
        assert result["score"] == first["score"], name
        assert [(t["name"], t["score"], t["status"], t["output"]) for t in result["tests"]] == \
               [(t["name"], t["score"], t["status"], t["output"]) for t in first["tests"]], name
