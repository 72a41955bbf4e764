"""Starter code for the MLP and backpropagation assignment.

Fill in every ``TODO`` in activations.py, logistic_regression.py,
two_layer_net.py and mlp.py (warmup.py is an ungraded warm-up). Check your
backward passes with gradient_check.py; load the data with datasets.py.
"""
