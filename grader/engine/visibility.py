"""Who sees which test result, and when: the one visibility policy of every platform.

The engine marks each test record with the visibility its suite declares:
"visible" for a test marked `@pytest.mark.public` (or any test a suite makes
immediately visible), "after_published" for the rest, the hidden tests. The
instructor chooses when students see the hidden tests' results; the
public ones are always visible. The native Gradescope autograder
(grader.platforms.gradescope) and the otter autograder (grader.platforms.otter) both apply it
through `test_visibility`, and `summary_visible` says whether a total or a
per-part score may be shown in a place students always see.

Gradescope's visibility values (https://gradescope-autograders.readthedocs.io/en/latest/specs/,
"Controlling Test Case Visibility"): hidden (never shown to students),
after_due_date, after_published (once the instructor publishes the grades),
visible. While any test is not visible, Gradescope does not show students their
total either.
"""
VALUES = ("hidden", "after_due_date", "after_published", "visible")
DEFAULT_HIDDEN = "after_published"


def check(hidden_visibility: str) -> str:
    if hidden_visibility not in VALUES:
        raise ValueError(f"unknown visibility {hidden_visibility!r}; one of {', '.join(VALUES)}")
    return hidden_visibility


def test_visibility(record: dict, hidden_visibility: str = DEFAULT_HIDDEN) -> str:
    """The visibility of one engine test record under the instructor's choice for hidden tests."""
    if record.get("visibility") == "visible":
        return "visible"
    return check(hidden_visibility)


def summary_visible(hidden_visibility: str = DEFAULT_HIDDEN) -> bool:
    """May per-part scores and totals appear where students always see them?"""
    return check(hidden_visibility) == "visible"


# When students see the hidden tests' results, as words that follow "... are" in their summary.
WHEN_SHOWN = {"hidden": "not shown to students (your instructor sees them)",
              "after_due_date": "shown after the due date",
              "after_published": "shown once your instructor publishes the grades",
              "visible": "shown now"}


def when_shown(hidden_visibility: str = DEFAULT_HIDDEN) -> str:
    """When the hidden tests' results are shown under `hidden_visibility`, for a sentence students read:
    "their results and your score are " + when_shown(...)."""
    return WHEN_SHOWN[check(hidden_visibility)]
