"""Instructor tooling over graded classes: the report, the catalog's mutation run, the
similarity report and the LMS export. Built on the engine."""
