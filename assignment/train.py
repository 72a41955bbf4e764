# Generated from tooling/train.py by `python -m grader assign`: edit tooling/train.py, not this copy.
"""Train your MLP on the bundled MNIST sample and plot how it went.

    python -m assignment.train [--epochs 10] [--lr 0.1] [--out train-output]     (or: make train)

Trains your mlp.fit on the training split of load_mnist() (the kit's
4,000-digit sample, unless --data or MLP_KIT_DATA names another folder),
tests it on the test split, and writes three PNGs into --out:

    loss.png        fit's history: the mean training loss of every epoch
    accuracy.png    training and test accuracy after 1, 2, ..., E epochs
    confusion.png   the test set's confusion matrix after E epochs

fit(X, y, layer_sizes, epochs, batch_size, lr, seed) takes no callback, so
nobody can look at the network in the middle of a run. Each accuracy point
is therefore its own run, fit(..., epochs=k) with the same seed. When fit
draws everything from one seeded generator, that run is exactly the first k
epochs of the long one (train checks this by comparing the loss histories
and says so). It costs about E²/2 epochs in all: --points caps the number of
points, --points 1 keeps only the final one.
"""
import argparse
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__":
    # The network's matrix products are small: one BLAS thread runs them
    # faster than several competing ones (6x faster on a 2-core machine).
    # This only works before numpy is imported.
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

PACKAGE = __package__ or "assignment"
LAYER_SIZES = (784, 128, 256, 10)


class TrainError(Exception):
    """Training cannot go on; str() tells the student why and what to do."""


@dataclass
class Outcome:
    epochs: int
    history: list            # fit's mean loss of every epoch of the long run
    points: list             # k: the epochs trained for each accuracy point
    train_accuracy: list     # one per point
    test_accuracy: list      # one per point
    confusion: np.ndarray    # (classes, classes): rows true label, columns predicted
    prefix_runs: bool        # every k-epoch run's history starts the long run's


def accuracy_points(epochs, points):
    """At most `points` epoch counts, evenly spread over 1..epochs, always ending at epochs."""
    if points <= 1 or epochs == 1:
        return [epochs]
    return sorted({int(round(k)) for k in np.linspace(1, epochs, min(points, epochs))})


def call(module, name, *args, **kwargs):
    """module.name(*args, **kwargs), with a clear message when it is not written yet."""
    function = getattr(module, name, None)
    if not callable(function):
        raise TrainError(f"mlp.py has no function {name}()")
    try:
        return function(*args, **kwargs)
    except NotImplementedError as exc:
        todo = str(exc)
        missing = todo[len("TODO: "):] if todo.startswith("TODO: ") else f"mlp.{name}"
        module_name = missing.split(".")[0]
        raise TrainError(f"{missing} is not implemented yet (it raises NotImplementedError). Fill in the "
                         f"TODOs of {module_name}.py, and run `make check` (python -m {PACKAGE}.check "
                         f"{module_name}) to see what works so far; then train again.") from None


def accepts(function, keyword):
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == keyword or p.kind is p.VAR_KEYWORD for p in parameters)


def fit(module, X, y, epochs, batch_size, lr, seed, progress):
    """Run the student's fit; returns (params, history as a list of floats)."""
    extra = {"verbose": progress} if accepts(getattr(module, "fit", None), "verbose") else {}
    out = call(module, "fit", X, y, layer_sizes=LAYER_SIZES, epochs=epochs, batch_size=batch_size,
               lr=lr, seed=seed, **extra)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TrainError(f"fit(...) should return (params, history); it returned {type(out).__name__}")
    params, history = out
    try:
        history = [float(v) for v in history]
    except (TypeError, ValueError):
        raise TrainError(f"fit(...)'s history should be a list of floats, one per epoch; "
                         f"got {history!r:.200}") from None
    if len(history) != epochs:
        raise TrainError(f"fit(..., epochs={epochs}) returned a history of {len(history)} losses; "
                         f"it should hold one mean loss per epoch")
    return params, history


def predict(module, params, X):
    pred = np.asarray(call(module, "predict", params, X))
    if pred.shape != (len(X),):
        raise TrainError(f"predict(params, X) with {len(X)} rows returned shape {pred.shape}; expected ({len(X)},)")
    return pred.astype(np.int64)


def train(module, train_set, test_set, epochs=10, batch_size=64, lr=0.1, seed=0, points=10, log=print):
    """Train, measure the accuracy after each point's number of epochs, return an Outcome."""
    (Xtr, ytr), (Xte, yte) = train_set, test_set
    log(f"training {'-'.join(map(str, LAYER_SIZES))} on {len(ytr)} digits: {epochs} epochs, "
        f"batch size {batch_size}, lr {lr}, seed {seed}")
    params, history = fit(module, Xtr, ytr, epochs, batch_size, lr, seed, progress=True)
    log(f"loss per epoch: {', '.join(f'{v:.4f}' for v in history)}")

    ks = accuracy_points(epochs, points)
    if len(ks) > 1:
        log(f"accuracy after {', '.join(map(str, ks))} epochs (one fit per point, same seed):")
    train_acc, test_acc, prefix_runs = [], [], True
    for k in ks:
        if k == epochs:
            p = params
        else:
            p, h = fit(module, Xtr, ytr, k, batch_size, lr, seed, progress=False)
            prefix_runs = prefix_runs and np.allclose(h, history[:k], rtol=1e-9, atol=0.0)
        train_acc.append(float(np.mean(predict(module, p, Xtr) == ytr)))
        test_acc.append(float(np.mean(predict(module, p, Xte) == yte)))
        log(f"  {k:3d} epoch(s): train {train_acc[-1]:6.1%}   test {test_acc[-1]:6.1%}")
    if len(ks) > 1 and prefix_runs:
        log("(each shorter run repeated the long run's first losses: the points are its checkpoints)")
    elif len(ks) > 1:
        log("note: fit(..., epochs=k) did not repeat the first k losses of the longer run with the same "
            "seed, so each point is a separate training run (is everything drawn from the seeded generator?)")

    pred = predict(module, params, Xte)
    classes = int(max(ytr.max(), yte.max())) + 1
    valid = (pred >= 0) & (pred < classes)
    if not valid.all():
        log(f"note: {np.sum(~valid)} test predictions are not labels 0..{classes - 1}; "
            "the confusion matrix leaves them out")
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (yte[valid], pred[valid]), 1)
    return Outcome(epochs, history, ks, train_acc, test_acc, confusion, prefix_runs)


def pyplot():
    try:
        import matplotlib
    except ImportError:
        raise TrainError("train draws its plots with matplotlib, which is not installed: "
                         "pip install matplotlib (or `make install` in the kit)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot(outcome, out_dir):
    """Write loss.png, accuracy.png and confusion.png into out_dir; return their paths."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out_dir / name, dpi=100)
        plt.close(fig)
        return out_dir / name

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(1, outcome.epochs + 1), outcome.history, "o-")
    ax.set(xlabel="epoch", ylabel="mean training loss", title="training loss (fit's history)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    paths = [save(fig, "loss.png")]

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(outcome.points, 100 * np.array(outcome.train_accuracy), "o-", label="training set")
    ax.plot(outcome.points, 100 * np.array(outcome.test_accuracy), "s-", label="test set")
    how = "checkpoints of one run" if outcome.prefix_runs else "one fit per point"
    ax.set(xlabel="epochs trained", ylabel="accuracy (%)", title=f"accuracy ({how})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    paths.append(save(fig, "accuracy.png"))

    cm = outcome.confusion
    fig, ax = plt.subplots(figsize=(6, 5.4))
    image = ax.imshow(cm, cmap="Blues")
    for (i, j), count in np.ndenumerate(cm):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                    color="white" if count > cm.max() / 2 else "black")
    correct = np.trace(cm) / max(cm.sum(), 1)
    ax.set(xlabel="predicted label", ylabel="true label", xticks=range(len(cm)), yticks=range(len(cm)),
           title=f"test set: {correct:.1%} correct after {outcome.epochs} epochs")
    fig.colorbar(image, ax=ax, shrink=0.8)
    paths.append(save(fig, "confusion.png"))
    return paths


def load(folder):
    from .datasets import load_mnist
    try:
        return load_mnist(folder, split="train"), load_mnist(folder, split="test")
    except (FileNotFoundError, ValueError) as exc:
        raise TrainError(f"could not load the data: {exc}") from None


def student_mlp():
    try:
        from . import mlp
    except Exception as exc:
        traceback.print_exc()
        raise TrainError(f"mlp.py could not be imported: {type(exc).__name__}: {exc}") from None
    return mlp


def main(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {PACKAGE}.train", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the long run (default: 10)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--points", type=int, default=10,
                        help="at most this many accuracy points, each its own run (default: 10)")
    parser.add_argument("--out", default="train-output", help="folder for the PNGs (default: train-output/)")
    parser.add_argument("--data", help="folder with the MNIST IDX files (default: the bundled sample)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.points < 1:
        parser.error("--epochs, --batch-size and --points must be at least 1")
    try:
        pyplot()                       # fail before training if matplotlib is missing
        train_set, test_set = load(args.data)
        outcome = train(student_mlp(), train_set, test_set, args.epochs, args.batch_size, args.lr, args.seed,
                        args.points)
        paths = plot(outcome, args.out)
    except TrainError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 2
    print(f"\nafter {outcome.epochs} epochs: training accuracy {outcome.train_accuracy[-1]:.1%}, "
          f"test accuracy {outcome.test_accuracy[-1]:.1%}")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
