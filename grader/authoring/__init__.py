"""Authoring: what is generated from the sources (`python -m grader assign`: the starter code,
the public tests, the notebook, the examples, the READMEs' tables) and what goes out
(`python -m grader release`). Nothing imports this package but the command line."""
