"""The MLP kit's grader. Its layers, and the rules their imports follow, are in README.md
("Layout"); tests/test_layering.py enforces them. This module imports nothing."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent     # the kit's root folder
