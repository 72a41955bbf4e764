"""May a part use the student's own activations.py instead of the judge's reference?

Grading two_layer_net with the reference activations computed by the judge
costs one round trip between processes per activation call (about 130 us
here); a 5000-epoch XOR fit makes 20,000 of them. The student's own module
is not secret, so each of its functions that behaves like the reference runs
inside the worker, and no call to it leaves the process. A function must, on
inputs that cover what the parts feed it (moderate values, the kinks at 0,
±50 and ±1e4, 1-D to 3-D arrays, the alpha argument), give the reference's
values (within 1e-12 relative), of the same shape and dtype, and leave its
inputs unchanged. The judge serves every other function (a bug, an
exception), and the whole module when it cannot be checked (it does not
import, hangs or crashes): a bug in activations.py never costs points in
another part, a single wrong function does not slow down the others, and
the fast path is only ever the same numbers.
"""
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.sandbox.client import StudentError
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


def check_activations(call: Callable[..., Any]) -> tuple[set[str], str]:
    """(the functions that do not behave like the reference, a note on the first) for the student's
    activations, called through `call(name, *args, **kwargs)`. A call that raises marks its function;
    a hang or a crash (StudentAbort) propagates: the caller then serves the whole module."""
    rng = np.random.default_rng(7)
    bad, notes = set(), []
    with np.errstate(all="ignore"):
        for x in _inputs():
            dout = rng.normal(size=x.shape)
            for name in FUNCTIONS:
                cases = [((x,), {}), ((dout, x), {})]
                if name == "leaky_relu":
                    cases += [((x,), {"alpha": 0.2}), ((dout, x), {"alpha": 0.2})]
                for args, kwargs in cases:
                    fn = name if len(args) == 1 else f"{name}_backward"
                    if fn in bad:
                        continue
                    expected = getattr(reference, fn)(*[a.copy() for a in args], **kwargs)
                    copies = [a.copy() for a in args]
                    try:
                        got, after, _ = call(fn, *copies, _return_args=True, **kwargs)
                    except StudentError as exc:
                        bad.add(fn)
                        notes.append(f"{fn} raised: {str(exc)[:150]}")
                        continue
                    if not _same(got, expected):
                        bad.add(fn)
                        notes.append(f"{fn} differs from the reference")
                    elif not all(isinstance(a, np.ndarray) and np.array_equal(a, b, equal_nan=True)
                                 for a, b in zip(after, args)):
                        bad.add(fn)
                        notes.append(f"{fn} modifies its inputs")
    return bad, "; ".join(notes[:3])


CHECKS = {"activations": check_activations}
