"""The hidden suites themselves: points, titles, coverage of the contract."""
import re

import pytest

from grader.grade import collected_tests
from grader.sandbox.client import Limits
from grader.sandbox.stage import PARTS

POINTS = {"activations": 20, "logistic_regression": 20, "two_layer_net": 25, "mlp": 35}


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    work = tmp_path_factory.mktemp("collect")
    return {part: collected_tests(part, Limits(), work) for part in PARTS}


def test_points_add_up_to_100(suites):
    for part, tests in suites.items():
        assert sum(t["max_score"] for t in tests) == POINTS[part], part
        assert all(t["max_score"] > 0 for t in tests)


def test_titles_name_their_part_and_are_unique(suites):
    names = [t["name"] for tests in suites.values() for t in tests]
    assert len(names) == len(set(names))
    for part, tests in suites.items():
        assert all(t["name"].startswith(f"{part}: ") for t in tests)
        assert all("{" not in t["name"] for t in tests), "unformatted title placeholder"


def test_every_part_has_public_tests(suites):
    for part, tests in suites.items():
        public = [t for t in tests if t["visibility"] == "visible"]
        assert 3 <= len(public) < len(tests), part


@pytest.mark.parametrize("part, function", [
    ("activations", f) for f in ("sigmoid_backward", "tanh_backward", "relu_backward", "leaky_relu_backward")
] + [("logistic_regression", "backward"), ("logistic_regression", "fit"), ("two_layer_net", "backward"),
     ("two_layer_net", "fit"), ("mlp", "backward"), ("mlp", "fit")])
def test_every_backward_and_fit_has_a_gradient_check(suites, part, function):
    """A finite-difference check per backward, and a gradient-step check per fit."""
    pattern = re.compile(rf"\b{function}\b.*(finite differences|gradient.*step|step.*gradient)")
    assert any(pattern.search(t["name"]) for t in suites[part]), (part, function)


def test_per_tensor_gradient_checks(suites):
    names = {t["name"] for t in suites["two_layer_net"] + suites["mlp"]}
    for key in ("W1", "b1", "W2", "b2"):
        assert f"two_layer_net: backward matches finite differences ({key})" in names
    for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
        assert f"mlp: backward matches finite differences ({key})" in names
    assert any("784-128-256-10" in n and "directional" in n for n in names)
