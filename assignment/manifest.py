# Generated from tooling/manifest.py by `python -m grader assign`: edit tooling/manifest.py, not this copy.
"""The handout's parts: parts.json, which `python -m grader assign` writes next to this file from
the kit's one list of parts (grader/parts.py), with the Python the grader runs. The student tooling
reads it here: it cannot import the grader, which the handout does not have."""
import json
from pathlib import Path

FILE = Path(__file__).resolve().parent / "parts.json"


def _read():
    try:
        return json.loads(FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{FILE} is missing: the tooling runs from the handout's assignment/ folder, "
                                f"where `python -m grader assign` writes it") from None


def parts():
    """[{"name", "graded", "imports"}, ...] in the lecture's order."""
    return _read()["parts"]


def grader_python():
    """The Python version the grader runs, e.g. (3, 11); None if parts.json does not say."""
    try:
        return tuple(int(n) for n in _read()["python"].split("."))
    except (KeyError, AttributeError, ValueError):
        return None


def names():
    """Every part, graded or not."""
    return [p["name"] for p in parts()]


def graded():
    """The parts whose module is graded (and submitted)."""
    return [p["name"] for p in parts() if p["graded"]]


def imports(part):
    """The parts `part`'s module may import."""
    return next((p["imports"] for p in parts() if p["name"] == part), [])
