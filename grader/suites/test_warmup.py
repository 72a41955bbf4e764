"""Part 0, the warm-up (ungraded): public checks only, no hidden tests.

The lecture's chain-rule example, the linear collapse and the hand-built XOR
ReLU net (solutions/warmup.py): students check them with `make check`.
"""
import numpy as np

from grader.suites.public import rng_for
from tooling import probes

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def public_chain_rule(warmup):
    """chain_rule_example gives L = 1, dL/dx = 10, dL/dy = -6 at x=3, y=1, t=5"""
    probes.tuple_close(warmup, fn="chain_rule_example", expected=(1.0, 10.0, -6.0))


def public_xor_relu_net(warmup):
    """xor_relu_net computes XOR on the four corners"""
    probes.call_close(warmup, fn="xor_relu_net", args=(XOR_X,), expected=np.array([0.0, 1.0, 1.0, 0.0]),
                      argnames=("X",))


def public_linear_collapse(warmup):
    """linear_collapse gives one layer equal to two linear layers"""
    r = rng_for("linear collapse")
    W1, b1, W2, b2 = r.normal(size=(3, 2)), r.normal(size=3), r.normal(size=(2, 3)), r.normal(size=2)
    probes.tuple_close(warmup, fn="linear_collapse", args=(W1, b1, W2, b2), expected=(W2 @ W1, W2 @ b1 + b2),
                       argnames=("W1", "b1", "W2", "b2"))
