"""Starter code for the MLP and backpropagation assignment.

Fill in every ``TODO`` in the graded modules (parts.json lists the parts; the
warm-up is not graded). Check your backward passes with gradient_check.py; load
the data with datasets.py; run the public tests with check.py.
"""
