"""Hypothesis strategies shared by every suite (one module, as in MiniTorch).

Elements stay in ranges where float64 arithmetic is exact enough for the
laws being checked; stability at extreme values is tested separately.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FLOATS = st.floats(-20.0, 20.0, allow_nan=False, allow_infinity=False, width=64)
WIDE_FLOATS = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=64)


def shapes(min_dims=1, max_dims=3, max_side=5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def arrays(shape=None, elements=FLOATS):
    """float64 arrays of any (small) shape, or of the given shape / shape strategy."""
    if shape is None:
        shape = shapes()
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def array_and_grad(draw, elements=FLOATS):
    """(x, dout): an input and an upstream gradient of the same shape."""
    shape = draw(shapes())
    return draw(arrays(shape, elements)), draw(arrays(shape, FLOATS))


@st.composite
def batch(draw, max_n=6, max_d=5, elements=FLOATS):
    """A batch X of shape (N, D) with N >= 1."""
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    return draw(arrays((n, d), elements))


@st.composite
def probabilities_and_labels(draw, max_n=8):
    """(a, y) for binary cross-entropy: a in [0.01, 0.99], y in {0, 1}."""
    n = draw(st.integers(1, max_n))
    a = draw(arrays((n,), st.floats(0.01, 0.99)))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 1))).astype(np.float64)
    return a, y


@st.composite
def logits_and_labels(draw, max_n=6, max_c=6, elements=FLOATS):
    """(logits, y) for softmax cross-entropy, y integer labels in [0, C)."""
    n = draw(st.integers(1, max_n))
    c = draw(st.integers(2, max_c))
    logits = draw(arrays((n, c), elements))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return logits, y


@st.composite
def predictions_and_targets(draw, max_n=6, max_k=4):
    """(yhat, y) of the same shape (N, K), values in [0, 1]."""
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(1, max_k))
    unit = st.floats(0.0, 1.0)
    return draw(arrays((n, k), unit)), draw(arrays((n, k), unit))


@st.composite
def layer_sizes(draw, min_layers=1, max_layers=4, max_width=6):
    """(D, H1, ..., C): any depth, small widths."""
    n = draw(st.integers(min_layers, max_layers))
    return tuple(draw(st.integers(1, max_width)) for _ in range(n + 1))
