"""May a part use the student's own activations.py instead of the judge's reference?

Grading two_layer_net with the reference activations computed by the judge
costs one round trip between processes per activation call (about 130 us
here); a 5000-epoch XOR fit makes 20,000 of them. The student's own module
is not secret, so when it behaves like the reference, the worker may import
it and no call leaves the process. It must, on inputs that cover what the
parts feed it (moderate values, the kinks at 0, ±50 and ±1e4, 1-D to 3-D
arrays, the alpha argument), give the reference's values (within 1e-12
relative), of the same shape and dtype, and leave its inputs unchanged.
Anything else (a bug, an exception, a hang, a module that does not import)
and the judge serves the reference: a bug in activations.py never costs
points in another part, and the fast path is only ever the same numbers.
"""
from collections.abc import Callable
from typing import Any

import numpy as np

from solutions import activations as reference

FUNCTIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def _inputs():
    rng = np.random.default_rng(20261201)
    edges = np.array([-1e4, -1000.0, -710.0, -50.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 50.0, 710.0, 1000.0, 1e4])
    return [edges, rng.normal(0.0, 3.0, size=(7, 5)), rng.normal(0.0, 1.0, size=(2, 3, 4)),
            np.zeros((3, 1)), rng.normal(0.0, 30.0, size=(64,))]


def _same(got, expected):
    return (isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype == expected.dtype
            and np.allclose(got, expected, rtol=1e-12, atol=1e-300, equal_nan=True))


def check_activations(call: Callable[..., Any]) -> str | None:
    """None if the student's activations (called through `call(name, *args, **kwargs)`) behave like the
    reference; otherwise what differed."""
    rng = np.random.default_rng(7)
    with np.errstate(all="ignore"):
        for x in _inputs():
            dout = rng.normal(size=x.shape)
            for name in FUNCTIONS:
                cases = [((x,), {}), ((dout, x), {})]
                if name == "leaky_relu":
                    cases += [((x,), {"alpha": 0.2}), ((dout, x), {"alpha": 0.2})]
                for args, kwargs in cases:
                    fn = name if len(args) == 1 else f"{name}_backward"
                    expected = getattr(reference, fn)(*[a.copy() for a in args], **kwargs)
                    copies = [a.copy() for a in args]
                    got, after, _ = call(fn, *copies, _return_args=True, **kwargs)
                    if not _same(got, expected):
                        return f"{fn} differs from the reference"
                    if not all(isinstance(a, np.ndarray) and np.array_equal(a, b, equal_nan=True)
                               for a, b in zip(after, args)):
                        return f"{fn} modifies its inputs"
    return None


CHECKS = {"activations": check_activations}
