"""One machine of the kernel sweep: `python -m tests.kernel_probe OUT.json [--same-unless DIGEST]`.

tests/test_blas_kernels.py runs this module under several OpenBLAS kernels
(OPENBLAS_CORETYPE), thread counts (OPENBLAS_NUM_THREADS) and numpy SIMD levels
(NPY_DISABLE_CPU_FEATURES), each a stand-in for another CPU, and compares
what it writes to OUT.json:

- core, numpy_level, threads: the OpenBLAS kernel, numpy dispatch level and
  BLAS threads in effect;
- drift: `make check-assignment`'s problems here (should be none);
- verdicts: {entry: {case title: passed}} for every public case, on the
  reference, every catalog bug and every correct alternative, with the
  committed public tests (--same-unless DIGEST: None, when the reference's MNIST
  training here has that digest, the one of the same kernel under 1 thread:
  the products that threads split are then computed as under 1 thread, and
  smaller ones are not split at all, so every verdict is the 1-thread probe's);
- margin: the same for the reference and the alternatives with every
  tolerance of the public checks divided by MARGIN (the MNIST case, which has
  no tolerance, left out): correct code must pass even so;
- mnist_digest: a SHA-256 of the reference's parameters and predictions after
  the public MNIST case's training (fit(X_train, y_train, seed=0)), to tell
  whether a thread count changes the arithmetic at all; mnist_checked: whether
  the verdicts (the MNIST case among them) were computed here.
"""
import argparse
import ctypes
import glob
import hashlib
import inspect
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from grader.authoring import assign
from catalog import ROOT, public

MARGIN = 100
# The tolerance arguments of the public checks (tooling/feedback.py).
TOLERANCES = {"gradient": ("limit",), "close": ("rtol", "atol"), "scalar_close": ("rtol", "atol")}
CASES = ROOT / "assignment" / "public_tests"


def openblas_core():
    """The OpenBLAS kernel numpy's BLAS runs with ("Haswell", ...), or None if it is not OpenBLAS."""
    for path in glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")):
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                       "openblas_get_corename"):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def numpy_level():
    """The highest SIMD target numpy dispatches to on this machine (X86_V2, X86_V3, ...)."""
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__
    active = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    return (active or __cpu_baseline__ or ["baseline"])[-1]


def scaled(fn, names, factor):
    """`fn` with its tolerance arguments `names` divided by `factor` (given or defaulted)."""
    signature = inspect.signature(fn)

    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for name in names:
            bound.arguments[name] = bound.arguments[name] / factor
        return fn(*bound.args, **bound.kwargs)
    return wrapper


def cases_without(kind, dest):
    """A copy of the committed public cases without those of `kind`; returns its folder."""
    dest = Path(dest)
    dest.mkdir(parents=True)
    for path in CASES.glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["cases"] = [c for c in doc["cases"] if c["kind"] != kind]
        (dest / path.name).write_text(json.dumps(doc), encoding="utf-8")
    return dest


def margin_verdicts(workdir, cases_dir):
    """Verdicts of the reference and the alternatives with every tolerance divided by MARGIN."""
    def tighten(runner):
        for name, arguments in TOLERANCES.items():
            setattr(runner.feedback, name, scaled(getattr(runner.feedback, name), arguments, MARGIN))

    selected = {name for name, _, _ in public.entries() if not name.startswith("bug:")}
    return public.verdicts(workdir, cases_dir, selected=selected, prepare=tighten)


def mnist_digest():
    sys.path.insert(0, str(ROOT))
    from solutions import mlp
    from tooling import datasets
    os.environ.setdefault("MLP_KIT_DATA", str(ROOT / "data" / "mnist5k"))
    X, y = datasets.load_mnist(split="train")
    Xte, _ = datasets.load_mnist(split="test")
    params, _ = mlp.fit(X, y, seed=0, verbose=False)
    digest = hashlib.sha256()
    for key in sorted(params):
        digest.update(np.ascontiguousarray(params[key]).tobytes())
    digest.update(np.ascontiguousarray(mlp.predict(params, Xte)).tobytes())
    return digest.hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.kernel_probe")
    parser.add_argument("out")
    parser.add_argument("--same-unless", metavar="DIGEST",
                        help="no verdicts (the 1-thread probe's stand) if the reference's training has this digest")
    args = parser.parse_args(argv)
    digest = mnist_digest()
    same = digest == args.same_unless
    with tempfile.TemporaryDirectory() as tmp:
        no_mnist = cases_without("mnist", os.path.join(tmp, "cases"))
        report = {
            "core": openblas_core(),
            "numpy_level": numpy_level(),
            "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
            "drift": assign.drift(),
            "verdicts": None if same else public.verdicts(os.path.join(tmp, "plain")),
            "margin": margin_verdicts(os.path.join(tmp, "margin"), no_mnist),
            "mnist_digest": digest,
            "mnist_checked": not same,
        }
    with open(args.out, "w", encoding="utf-8") as f:      # stdout carries fit's progress lines
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
