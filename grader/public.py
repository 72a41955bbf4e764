"""The public tests: cases students run themselves with `python -m assignment.check`.

They mirror the hidden suites' main checks (values, gradient checks, one
training step, learning XOR, MNIST accuracy) with other seeds and other
shapes, and they are judged by the same message library (solutions/checks.py),
so passing them predicts the hidden result without revealing it. Expected
values come from the grader's oracle at build time and are shipped as numbers
in assignment/public_tests/<part>.json; no grader or solution code is shipped.

`python -m grader assign` writes them; a test fails when they drift.
"""
import hashlib
import json

import numpy as np

from solutions.gradient_check import numerical_gradient

from . import hints, oracle

PARTS = ("warmup", "activations", "logistic_regression", "two_layer_net", "mlp")


def rng_for(title):
    """Public seeds: derived from the case title under the "public" salt."""
    return np.random.default_rng(int.from_bytes(hashlib.sha256(f"public:{title}".encode()).digest()[:8], "little"))


def encode(value):
    if isinstance(value, np.ndarray):
        return {"__nd__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def case(title, kind, fn, args=(), kwargs=None, expected=None, argnames=(), **opts):
    return {"title": title, "kind": kind, "fn": fn, "args": encode(list(args)), "argnames": list(argnames),
            "kwargs": encode(kwargs or {}), "expected": encode(expected), "opts": encode(opts)}


def _numeric(loss, params, key):
    def f(value):
        trial = dict(params)
        trial[key] = value
        return loss(trial)
    return numerical_gradient(f, np.array(params[key], dtype=np.float64))


# -- per part --------------------------------------------------------------
def warmup_cases():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    r = rng_for("linear collapse")
    W1, b1, W2, b2 = r.normal(size=(3, 2)), r.normal(size=3), r.normal(size=(2, 3)), r.normal(size=2)
    return [
        case("chain_rule_example gives L = 1, dL/dx = 10, dL/dy = -6 at x=3, y=1, t=5", "tuple_close",
             "chain_rule_example", expected=(1.0, 10.0, -6.0)),
        case("xor_relu_net computes XOR on the four corners", "close", "xor_relu_net", (X,),
             expected=np.array([0.0, 1.0, 1.0, 0.0]), argnames=("X",)),
        case("linear_collapse gives one layer equal to two linear layers", "tuple_close", "linear_collapse",
             (W1, b1, W2, b2), expected=(W2 @ W1, W2 @ b1 + b2), argnames=("W1", "b1", "W2", "b2")),
    ]


def activations_cases():
    out = []
    r = rng_for("activations values")
    x = np.concatenate([np.array([-3.0, -0.5, 0.0, 0.5, 3.0]), r.normal(0, 4, size=5)]).reshape(2, 5)
    for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
        out.append(case(f"{name} matches its definition", "close", name, (x,),
                        expected=oracle.FORWARD[name](x), argnames=("x",), rtol=1e-9))
    big = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    out.append(case("sigmoid is stable at ±1e4 (no overflow)", "close", "sigmoid", (big,),
                    expected=oracle.sigmoid(big), argnames=("x",), rtol=1e-9, atol=1e-15,
                    errstate={"over": "raise", "invalid": "raise", "divide": "raise"}))
    out.append(case("tanh is stable at ±1e4 (no overflow)", "close", "tanh", (big,), expected=np.tanh(big),
                    argnames=("x",), rtol=1e-9, atol=1e-15,
                    errstate={"over": "raise", "invalid": "raise", "divide": "raise"}))
    dbig = np.array([1.0, -2.0, 3.0, 0.5, -1.0])
    out.append(case("sigmoid_backward is finite and exact at ±1e4", "close", "sigmoid_backward", (dbig, big),
                    expected=dbig * oracle.derivative("sigmoid", big), argnames=("dout", "x"), rtol=1e-9,
                    atol=1e-300))
    xa = np.array([-3.0, -0.5, 0.5, 2.0])
    out.append(case("leaky_relu uses its alpha argument", "close", "leaky_relu", (xa,), {"alpha": 0.2},
                    expected=oracle.leaky_relu(xa, 0.2), argnames=("x",), rtol=1e-12))
    xm, dm = np.array([[-1.5, 0.5], [2.0, -0.25]]), np.array([[1.0, -2.0], [0.5, 3.0]])
    calls = [[name, [xm], ["x"]] for name in ("sigmoid", "tanh", "relu", "leaky_relu")]
    calls += [[f"{name}_backward", [dm, xm], ["dout", "x"]] for name in ("sigmoid", "tanh", "relu", "leaky_relu")]
    out.append(case("no function modifies its inputs", "no_mutation", "", calls=encode(calls)))
    for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
        r = rng_for(f"{name}_backward")
        x = r.normal(0, 2, size=(2, 3))
        x = np.where(np.abs(x) < 1e-2, 0.5, x)
        dout = r.normal(size=x.shape)
        numeric = numerical_gradient(lambda v: np.sum(dout * oracle.FORWARD[name](v)), x.copy())
        # The grader's likely causes (grader.hints) on these inputs, as numbers, and a small example.
        mistakes = [[hint, values, wrong] for wrong, hint, values in hints.backward_mistakes(name, dout, x)]
        ex_x, ex_dout, ex_expected = hints.backward_example(name, public=True)
        out.append(case(f"{name}_backward matches finite differences", "gradient", f"{name}_backward",
                        (dout, x), expected=numeric, argnames=("dout", "x"), param="x", mistakes=mistakes,
                        example={"x": ex_x, "dout": ex_dout, "expected": ex_expected}))
    return out


def logistic_regression_cases():
    r = rng_for("logistic regression")
    X, w, b = r.normal(size=(5, 4)), r.normal(size=4), -0.3
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    a = oracle.logreg_forward(X, w, b)
    gw = numerical_gradient(lambda v: oracle.logreg_loss(X, y, v, b), w.copy())
    gb = numerical_gradient(lambda v: oracle.logreg_loss(X, y, w, float(v[0])), np.array([b]))
    Xs = r.uniform(0.0, 4.0, size=(600, 2))
    s = Xs.sum(axis=1) - 4.0
    keep = np.abs(s) > 0.4
    Xs, ys = Xs[keep][:150], (s[keep][:150] > 0).astype(np.float64)
    g0w = numerical_gradient(lambda v: oracle.logreg_loss(X, y, v, 0.0), np.zeros(4))
    g0b = numerical_gradient(lambda v: oracle.logreg_loss(X, y, np.zeros(4), float(v[0])), np.zeros(1))
    Xp = np.array([[-2.0], [0.2], [3.0], [0.6], [0.5]])
    w1, b1 = -0.5 * g0w, -0.5 * g0b[0]
    g1w = numerical_gradient(lambda v: oracle.logreg_loss(X, y, v, b1), w1.copy())
    g1b = numerical_gradient(lambda v: oracle.logreg_loss(X, y, w1, float(v[0])), np.array([b1]))
    edge_a, edge_y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    return [
        case("forward matches σ(X w + b)", "close", "forward", (X, w, b), expected=a, argnames=("X", "w", "b"),
             rtol=1e-9),
        case("bce_loss matches the mean binary cross-entropy", "scalar", "bce_loss", (a, y),
             expected=oracle.bce(a, y), argnames=("a", "y"), rtol=1e-9, batch=5),
        case("backward matches finite differences (w and b)", "gradient", "backward", (X, a, y),
             expected=(gw, gb[0]), argnames=("X", "a", "y"), param=("w", "b"), batch=5),
        case("bce_loss is finite when a is exactly 0 or 1", "finite_scalar", "bce_loss", (edge_a, edge_y),
             argnames=("a", "y")),
        case("bce_loss of a confidently wrong prediction costs at least −log(1e-7) ≈ 16", "scalar_at_least",
             "bce_loss", (np.array([0.0, 1.0]), np.array([1.0, 0.0])), expected=16.0, argnames=("a", "y")),
        case("fit's first epoch is one gradient step from zeros", "fit_logreg", "fit", (X, y),
             {"lr": 0.5, "epochs": 1}, expected=(w1, b1), argnames=("X", "y"), batch=5),
        case("fit's second epoch continues from the first", "fit_logreg", "fit", (X, y),
             {"lr": 0.5, "epochs": 2}, expected=(w1 - 0.5 * g1w, b1 - 0.5 * g1b[0]), argnames=("X", "y"), batch=5),
        case("fit reaches ≥ 95% accuracy on separable data that needs a bias", "accuracy_logreg", "fit",
             (Xs, ys), expected=0.95, argnames=("X", "y")),
        case("predict returns integer labels, threshold 0.5", "labels", "predict", (Xp, np.array([1.0]), -0.5),
             expected=np.array([0, 0, 1, 1, 1]), argnames=("X", "w", "b")),
    ]


def two_layer_net_cases():
    r = rng_for("two layer net")
    d, h, k, n = 2, 3, 2, 4
    params = {"W1": r.normal(size=(h, d)), "b1": r.normal(0, 0.5, size=h),
              "W2": r.normal(size=(k, h)), "b2": r.normal(0, 0.5, size=k)}
    X, y = r.normal(size=(n, d)), r.uniform(size=(n, k))
    loss = lambda p: oracle.two_layer_loss(p, X, y)  # noqa: E731
    grads = {key: _numeric(loss, params, key) for key in params}
    yhat = oracle.two_layer_forward(params, X)
    shapes = {"W1": [4, 3], "b1": [4], "W2": [2, 4], "b2": [2]}
    xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return [
        case("init_params returns W1 (H, D), b1 (H,), W2 (K, H), b2 (K,)", "mapping_shapes", "init_params",
             (3, 4, 2), {"seed": 1}, expected=shapes),
        case("forward matches σ(W2 σ(W1 x + b1) + b2)", "forward_close", "forward", (params, X), expected=yhat,
             argnames=("params", "X"), rtol=1e-9),
        case("mse_loss matches (1/N) Σ ‖y − ŷ‖²", "scalar", "mse_loss", (yhat, y),
             expected=oracle.mse(yhat, y), argnames=("yhat", "y"), rtol=1e-9, batch=n, outputs=k),
        case("backward matches finite differences (every parameter)", "backward", "backward", (params, X, y),
             expected=grads, argnames=("params", "X", "y"), batch=n, square=True),
        case("fit's first epoch is one gradient step of your backward", "fit_step", "fit", (X, y),
             {"n_hidden": 3, "lr": 0.5, "epochs": 1, "seed": 3}, argnames=("X", "y"), model="two_layer_net"),
        case("predict returns the network output ŷ", "close", "predict", (params, X), expected=yhat,
             argnames=("params", "X"), rtol=1e-9),
        case("fit starts from an initialisation that depends on the seed", "seed_matters", "fit", (X, y),
             {"n_hidden": 3, "lr": 0.0, "epochs": 1}),
        case("fit learns XOR (seed 0, default hyperparameters)", "xor", "fit", (xor, np.array([[0.0], [1.0], [1.0], [0.0]])),
             {"seed": 0}, argnames=("X", "y")),
    ]


def mlp_cases():
    r = rng_for("mlp")
    sizes = (3, 5, 4, 2)
    for _ in range(1000):
        params = {}
        for l in range(1, len(sizes)):
            params[f"W{l}"] = r.normal(0, np.sqrt(2 / sizes[l - 1]), size=(sizes[l], sizes[l - 1]))
            params[f"b{l}"] = r.normal(0, 0.5, size=sizes[l])
        X = r.normal(size=(5, 3))
        if all(np.min(np.abs(z)) > 1e-3 for z in oracle.mlp_preactivations(params, X)[:-1]):
            break
    y = r.integers(0, 2, size=5)
    logits = oracle.mlp_forward(params, X)
    grads = {key: _numeric(lambda p: oracle.mlp_loss(p, X, y), params, key) for key in params}
    big = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -999.0, -1000.0]])
    default = {f"W{l}": [o, i] for l, (i, o) in enumerate(zip((784, 128, 256), (128, 256, 10)), 1)}
    default.update({f"b{l}": [o] for l, o in enumerate((128, 256, 10), 1)})
    return [
        case("softmax rows match e^z / Σ e^z and sum to 1", "close", "softmax", (logits,),
             expected=oracle.softmax(logits), argnames=("logits",), rtol=1e-9),
        case("softmax is stable for logits of ±1e3", "close", "softmax", (big,), expected=oracle.softmax(big),
             argnames=("logits",), rtol=1e-9, atol=1e-300,
             errstate={"over": "raise", "invalid": "raise", "divide": "raise"}),
        case("cross_entropy matches −mean log softmax(z)[i, yᵢ]", "scalar", "cross_entropy", (logits, y),
             expected=oracle.cross_entropy(logits, y), argnames=("logits", "y"), rtol=1e-9, batch=5),
        case("cross_entropy is finite and exact for logits of ±1e3", "scalar", "cross_entropy",
             (big, np.array([2, 0])), expected=oracle.cross_entropy(big, np.array([2, 0])), argnames=("logits", "y"),
             rtol=1e-9, errstate={"over": "raise", "invalid": "raise", "divide": "raise"}),
        case("init_params((784, 128, 256, 10)) has the right keys and shapes", "mapping_shapes", "init_params",
             ((784, 128, 256, 10),), {"seed": 0}, expected=default),
        case("init_params works for any depth: (3, 4, 5, 4, 2)", "mapping_shapes", "init_params",
             ((3, 4, 5, 4, 2),), {"seed": 1}, expected={**{f"W{l}": [o, i] for l, (i, o) in
                                                          enumerate(zip((3, 4, 5, 4), (4, 5, 4, 2)), 1)},
                                                       **{f"b{l}": [o] for l, o in enumerate((4, 5, 4, 2), 1)}}),
        case("init_params starts every bias at zero", "zero_biases", "init_params", ((7, 6, 5, 4),), {"seed": 4},
             expected={f"b{l}": [o] for l, o in enumerate((6, 5, 4), 1)}),
        case("forward matches the ReLU network's logits", "forward_close", "forward", (params, X),
             expected=logits, argnames=("params", "X"), rtol=1e-9, atol=1e-12),
        case("backward matches finite differences (every parameter)", "backward", "backward", (params, X, y),
             expected=grads, argnames=("params", "X", "y"), batch=5),
        case("sgd_step returns p − lr·dp", "close_dict", "sgd_step", (params, grads, 0.1),
             expected={k: params[k] - 0.1 * grads[k] for k in params}, argnames=("params", "grads", "lr")),
        case("sgd_step and forward leave their inputs unchanged", "no_mutation", "",
             calls=encode([["sgd_step", [params, grads, 0.1], ["params", "grads", "lr"]],
                           ["forward", [params, X], ["params", "X"]]])),
        case("fit with one full batch takes one gradient step of your backward", "fit_step", "fit", (X, y),
             {"layer_sizes": sizes, "epochs": 1, "batch_size": 64, "lr": 0.3, "seed": 4}, argnames=("X", "y"),
             model="mlp"),
        case("fit reshuffles every epoch and records each epoch's mean loss", "epochs", "fit",
             (r.normal(size=(5, 4)), np.array([0, 1, 2, 1, 0])), {"layer_sizes": (4, 5, 3), "batch_size": 2,
                                                                "lr": 0.5}, argnames=("X", "y")),
        case("fit reaches ≥ 85% test accuracy on the bundled MNIST sample (seed 0)", "mnist", "fit",
             kwargs={"seed": 0}, expected=0.85),
    ]


BUILDERS = {"warmup": warmup_cases, "activations": activations_cases,
            "logistic_regression": logistic_regression_cases, "two_layer_net": two_layer_net_cases,
            "mlp": mlp_cases}


def build(hidden_counts):
    """part -> JSON text. hidden_counts: part -> {"tests": n, "points": p} of the hidden suite."""
    files = {}
    for part in PARTS:
        doc = {"part": part, "graded": part in hidden_counts,
               "hidden": hidden_counts.get(part, {"tests": 0, "points": 0}), "cases": BUILDERS[part]()}
        files[part] = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    return files
