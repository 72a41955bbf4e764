"""grader/sandbox/allowlist.py's pure functions, without a worker (tests/test_sandbox.py checks the rules
a worker gets, by what it can read)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox.allowlist import _beneath, _outermost

# Path names whose prefixes trip a comparison by text: "/a-b" and "/a.b" sort between "/a" and "/a/c".
SEGMENTS = st.sampled_from(["a", "a-b", "a.b", "ab", "b", ""])
PATHS = st.builds(lambda segs, slash: "/" + "/".join(segs) + ("/" if slash else ""),
                  st.lists(SEGMENTS, max_size=4), st.booleans())


@settings(max_examples=500, derandomize=True)
@given(st.lists(PATHS, max_size=10))
def test_outermost_keeps_exactly_the_paths_beneath_no_other(paths):
    unique = sorted(set(paths))
    expected = [p for p in unique if not any(q != p and _beneath(p, q) for q in unique)]
    assert _outermost(paths) == expected


def test_outermost_on_the_prefixes_that_sort_between_a_folder_and_its_files():
    assert _outermost(["/a/c", "/a-b", "/a", "/a/", "/a.b/d"]) == ["/a", "/a-b", "/a.b/d"]
    assert _outermost(["/usr/lib", "/", "/etc"]) == ["/"]
    assert _outermost(["/a/", "/a/b"]) == ["/a/"]
