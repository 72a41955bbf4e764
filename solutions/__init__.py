"""Reference solutions: the single source of the assignment.

Code between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` is replaced by a TODO
stub when ``make assignment`` generates ``assignment/``. Edit these files, never
the generated ones.
"""
