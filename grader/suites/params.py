"""Parameter dicts in the suites of the parts that have init_params and fit (two_layer_net, mlp)."""
import numpy as np

from tooling import feedback


def same_params(a, b):
    """Are a and b the same parameters: the same keys, shapes and values?"""
    return isinstance(a, dict) and set(a) == set(b) and all(
        np.shape(feedback.harmless(a[k], np.shape(b[k]))) == np.shape(b[k])
        and np.array_equal(feedback.harmless(a[k], np.shape(b[k])), b[k]) for k in b)


def starts_from_init_params(student, p0, args, seed, call, init_call):
    """fit(..., lr=0) must return init_params(..., seed) (the docstring says where fit starts). Checked
    only when init_params itself is deterministic: an unseeded one loses its points in its own test."""
    try:
        first, again = student.init_params(*args, seed=seed), student.init_params(*args, seed=seed)
        deterministic = isinstance(first, dict) and isinstance(again, dict) and set(first) == set(p0) and all(
            np.array_equal(first[k], again[k]) for k in first)
    except Exception:  # noqa: BLE001 -- init_params's own tests say what is wrong with it
        return
    if deterministic and not (same_params(first, p0) or same_params(rounded_to_float32(first), p0)):
        try:
            unseeded = same_params(student.init_params(*args), p0)
        except Exception:  # noqa: BLE001
            unseeded = False
        why = feedback.hint("seed_not_passed") if unseeded else "and not draw its own weights"
        raise feedback.Failure(f"{call} returned other parameters than {init_call}: fit should start from "
                             f"init_params with the same seed ({why})")


def rounded_to_float32(params):
    """`params` with every entry rounded to float32: a fit that trains in float32 starts from init_params's
    values so rounded, whatever dtype its updates then promote them to (the contract names no dtype;
    test_mlp.sgd_close). Compared by value, so p0 may hold them as float32 or as float64."""
    return {k: np.asarray(v).astype(np.float32) for k, v in params.items()}


def varies_with_seed(student, args, a, b):
    """Does the student's init_params(*args, seed) differ between seeds a and b?"""
    try:
        first, second = student.init_params(*args, seed=a), student.init_params(*args, seed=b)
        return isinstance(first, dict) and isinstance(second, dict) and not same_params(first, second)
    except Exception:  # noqa: BLE001
        return False
