"""Generate the notebook handout, assignment/mlp_backprop.ipynb (`make assignment`).

The notebook walks a student through the four parts in the lecture's order:
the chain rule by hand; why a non-linearity is needed (the linear collapse
and XOR); the activations and their derivatives; logistic regression; the
two-layer net on XOR with its decision boundary; the MNIST MLP with its loss
and accuracy curves, misclassified digits and first-layer weights. Students
write their code in the modules, not in the notebook: it imports them from
the `assignment` package, plots what they do (each figure is also written to
figures/<name>.png) and ends each part with a check cell that runs that
part's public tests (`python -m assignment.check PART`).

The notebook is written here with nbformat, never by hand: grader/authoring/assign.py
adds it to the generated files, and the drift test catches hand edits. Cell
ids are fixed, so the same source always gives the same bytes. No solution
code goes in: the student's functions do all the work, and the release check
(grader/authoring/release.py) compares the notebook with the solutions token by token.
"""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..parts import PARTS, number, part as part_named
from .tables import parts_table

NAME = "mlp_backprop.ipynb"
CHECK_TAG = "check"
MNIST_EPOCHS = 4

INTRO = """\
# Multilayer perceptrons and backpropagation

This notebook follows the lecture: the chain rule by hand, why a network needs a
non-linearity, then the graded parts.

PARTS_TABLE

**You write your code in the modules** (fill in every `TODO`), not in this notebook.
The notebook imports your modules, shows what they do, and ends each part with a
*check cell* that runs that part's **public** tests. The public tests are a good
sign, not your grade: the grader's hidden tests run when you submit
(`make submission`, then upload `submission.zip`).

Run the cells from the top. After you edit a module, re-run the cells of its part
(`autoreload` picks up your changes). Figures are also saved in `figures/`. A cell that
needs a function you have not written yet stops with `NotImplementedError: TODO: ...`;
the cells of the other parts still run."""

SETUP = """\
# Setup: find the folder that holds the `assignment` package and import your modules.
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # small matrices: one BLAS thread is fastest

ROOT = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "assignment" / "__init__.py").is_file()), None)
if ROOT is None:
    raise RuntimeError("open this notebook from your copy of the assignment (the folder with assignment/ in it)")
sys.path.insert(0, str(ROOT))
FIGURES = Path.cwd() / "figures"
FIGURES.mkdir(exist_ok=True)

%load_ext autoreload
%autoreload 2

import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Image, display

from assignment import PART_MODULES
from assignment.check import main as run_public_tests
from assignment.datasets import load_mnist
from assignment.gradient_check import numerical_gradient, relative_error


def check(part):
    \"\"\"Run the public tests of one part (the same as `python -m assignment.check PART`).\"\"\"
    run_public_tests([part])


def show(fig, name):
    \"\"\"Save a figure as figures/<name>.png and display that file.\"\"\"
    path = FIGURES / f"{name}.png"
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    display(Image(filename=str(path)))"""

CHAIN_RULE_MD = """\
The lecture's example: $z = x^2 - x y$ and the loss $L = (z - t)^2$, at $x = 3$, $y = 1$, $t = 5$.

Forward: $z = 9 - 3 = 6$ and $L = (6 - 5)^2 = 1$.
Backward, one local derivative at a time:

$$\\frac{\\partial L}{\\partial z} = 2 (z - t) = 2, \\qquad
\\frac{\\partial z}{\\partial x} = 2x - y = 5, \\qquad
\\frac{\\partial z}{\\partial y} = -x = -3$$

$$\\frac{\\partial L}{\\partial x} = \\frac{\\partial L}{\\partial z}\\,\\frac{\\partial z}{\\partial x} = 10, \\qquad
\\frac{\\partial L}{\\partial y} = \\frac{\\partial L}{\\partial z}\\,\\frac{\\partial z}{\\partial y} = -6$$

Implement `warmup.chain_rule_example`, then compare it with central differences
$\\frac{f(v + h) - f(v - h)}{2h}$, the gradient check you will use on every backward pass."""

CHAIN_RULE = """\
L, dL_dx, dL_dy = warmup.chain_rule_example(x=3.0, y=1.0, t=5.0)
print(f"L = {L:g}   dL/dx = {dL_dx:g}   dL/dy = {dL_dy:g}      (by hand: 1, 10, -6)")

loss_at = lambda v: warmup.chain_rule_example(x=v[0], y=v[1], t=5.0)[0]
print("central differences: dL/dx, dL/dy =", numerical_gradient(loss_at, np.array([3.0, 1.0])).round(6))"""

COLLAPSE_MD = """\
## Why a non-linearity?

Two linear layers are one linear layer in disguise:

$$W_2 (W_1 x + b_1) + b_2 = \\underbrace{W_2 W_1}_{W'}\\, x + \\underbrace{W_2 b_1 + b_2}_{b'}$$

so stacking linear layers adds no power. Implement `warmup.linear_collapse`, which returns $(W', b')$:"""

COLLAPSE = """\
rng = np.random.default_rng(0)
W1, b1 = rng.normal(size=(5, 3)), rng.normal(size=5)
W2, b2 = rng.normal(size=(2, 5)), rng.normal(size=2)
W_prime, b_prime = warmup.linear_collapse(W1, b1, W2, b2)
x = rng.normal(size=3)
print("two layers:", W2 @ (W1 @ x + b1) + b2)
print("one layer: ", W_prime @ x + b_prime)"""

XOR_MD = """\
No linear map computes XOR: the best one (least squares) predicts 0.5 for all four inputs.
One hidden ReLU layer does, with the lecture's hand-picked weights
$W = \\begin{bmatrix}1 & 1\\\\ 1 & 1\\end{bmatrix}$, $c = (0, -1)$, $w = (1, -2)$ and
$f(x) = w^\\top \\mathrm{relu}(W x + c)$ (`warmup.xor_relu_net`)."""

XOR = """\
X_xor, y_xor = warmup.XOR_INPUTS, warmup.XOR_TARGETS
design = np.hstack([X_xor, np.ones((4, 1))])            # the linear model a·x + c
coefficients = np.linalg.lstsq(design, y_xor, rcond=None)[0]
print("inputs:            ", X_xor.tolist())
print("XOR:               ", y_xor)
print("best linear model: ", (design @ coefficients).round(3))
print("ReLU network:      ", warmup.xor_relu_net(X_xor))"""

ACTIVATIONS_MD = """\
Each `*_backward(dout, x)` returns $\\frac{\\partial L}{\\partial x} = \\text{dout} \\cdot \\sigma'(x)$,
so `*_backward(1, x)` is the derivative itself. The plots show each function and its derivative;
note where they saturate (sigmoid, tanh) and where they do not (ReLU)."""

# Both activation cells define the functions they use: each runs on its own.
ACTIVATION_FUNCTIONS = """\
functions = {
    "sigmoid": (activations.sigmoid, activations.sigmoid_backward),
    "tanh": (activations.tanh, activations.tanh_backward),
    "ReLU": (activations.relu, activations.relu_backward),
    "leaky ReLU (α = 0.1)": (lambda v: activations.leaky_relu(v, alpha=0.1),
                             lambda d, v: activations.leaky_relu_backward(d, v, alpha=0.1)),
}
"""

ACTIVATIONS_PLOT = ACTIVATION_FUNCTIONS + """\
grid = np.linspace(-4, 4, 401)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for label, (f, f_backward) in functions.items():
    left.plot(grid, f(grid), label=label)
    right.plot(grid, f_backward(np.ones_like(grid), grid), label=label)
left.set(title="σ(x)", xlabel="x")
right.set(title="σ'(x), from *_backward(1, x)", xlabel="x")
left.legend()
right.legend()
show(fig, "activations")"""

ACTIVATIONS_GRADCHECK = """\
# Gradient check: each backward pass against central differences (about 1e-10 when right).
""" + ACTIVATION_FUNCTIONS + """\
rng = np.random.default_rng(1)
inputs, upstream = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
for label, (f, f_backward) in functions.items():
    numeric = numerical_gradient(lambda v: np.sum(f(v) * upstream), inputs)
    print(f"{label:22s} relative error {relative_error(f_backward(upstream, inputs), numeric):.1e}")"""

LOGREG_MD = """\
One sigmoid neuron, $a = \\sigma(w^\\top x + b)$, trained by gradient descent on the binary cross-entropy.
By the chain rule $\\partial L / \\partial z = a - y$ for each example. Below: two clouds of points,
the training loss, and the line $w^\\top x + b = 0$ where the prediction switches from 0 to 1."""

LOGREG = """\
rng = np.random.default_rng(2)
X_blobs = np.vstack([rng.normal((-1.0, -1.0), 0.8, size=(100, 2)), rng.normal((1.5, 1.0), 0.8, size=(100, 2))])
y_blobs = np.repeat([0.0, 1.0], 100)
w, b, losses = logistic_regression.fit(X_blobs, y_blobs, lr=0.5, epochs=300)
accuracy = np.mean(logistic_regression.predict(X_blobs, w, b) == y_blobs)
print(f"training accuracy {accuracy:.1%}, final loss {losses[-1]:.4f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(losses)
left.set(title="training loss (binary cross-entropy)", xlabel="epoch")
right.scatter(*X_blobs.T, c=y_blobs, cmap="coolwarm", s=12)
xs = np.linspace(X_blobs[:, 0].min(), X_blobs[:, 0].max(), 2)
right.plot(xs, -(w[0] * xs + b) / w[1], "k--", label="w·x + b = 0")
right.set(title="decision boundary", ylim=(X_blobs[:, 1].min() - 0.5, X_blobs[:, 1].max() + 0.5))
right.legend()
show(fig, "logistic_regression")"""

XOR_NET_MD = """\
$\\hat y = \\sigma(W_2\\, \\sigma(W_1 x + b_1) + b_2)$ with mean squared error. The hand-built ReLU net
of Part 0 computed XOR with chosen weights; this one *learns* them by backpropagation.
The right plot colours the plane by the network's output: its decision boundary is not a line."""

XOR_NET = """\
X_xor, y_xor = warmup.XOR_INPUTS, warmup.XOR_TARGETS
targets = y_xor.reshape(-1, 1)
xor_params, losses = two_layer_net.fit(X_xor, targets, n_hidden=4, lr=2.0, epochs=5000, seed=0)
print("outputs on (0,0), (0,1), (1,0), (1,1):", two_layer_net.predict(xor_params, X_xor).ravel().round(3))

g = np.linspace(-0.5, 1.5, 201)
G1, G2 = np.meshgrid(g, g)
surface = two_layer_net.predict(xor_params, np.column_stack([G1.ravel(), G2.ravel()])).reshape(G1.shape)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.semilogy(losses)
left.set(title="training loss (MSE)", xlabel="epoch")
filled = right.contourf(G1, G2, surface, levels=20, cmap="coolwarm", vmin=0, vmax=1)
right.contour(G1, G2, surface, levels=[0.5], colors="k")
right.scatter(*X_xor.T, c=y_xor, cmap="coolwarm", edgecolors="k", s=80)
right.set(title="output ŷ and the boundary ŷ = 0.5", xlabel="x₁", ylabel="x₂")
fig.colorbar(filled, ax=right)
show(fig, "xor_decision_boundary")"""

MLP_MD = f"""\
Layers (784, 128, 256, 10): ReLU hidden layers, softmax cross-entropy on the 10 logits,
minibatch SGD. The data are the kit's sample of MNIST: 4,000 training and 1,000 test digits.

`fit` returns the mean loss of each epoch. It takes no callback, so for the accuracy curve
each point is its own run, `fit(..., epochs=k)` with the same seed: when your `fit` draws
everything from one seeded generator, that run is exactly the first k epochs of the long one.
{MNIST_EPOCHS} epochs keep this quick; train longer on your own (e.g. 20 epochs)."""

MLP_TRAIN = f"""\
X_train, y_train = load_mnist(split="train")
X_test, y_test = load_mnist(split="test")
print("train", X_train.shape, "test", X_test.shape)

EPOCHS = {MNIST_EPOCHS}
mlp_params = None              # the trained network, once mlp.fit works (the next two cells show it)
trained, history = mlp.fit(X_train, y_train, epochs=EPOCHS, seed=0)
train_accuracy, test_accuracy = [], []
for k in range(1, EPOCHS + 1):
    params_k = trained if k == EPOCHS else mlp.fit(X_train, y_train, epochs=k, seed=0)[0]
    train_accuracy.append(np.mean(mlp.predict(params_k, X_train) == y_train))
    test_accuracy.append(np.mean(mlp.predict(params_k, X_test) == y_test))
print(f"after {{EPOCHS}} epochs: train accuracy {{train_accuracy[-1]:.1%}}, test accuracy {{test_accuracy[-1]:.1%}}")

epochs = np.arange(1, EPOCHS + 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(epochs, history, "o-")
left.set(title="mean training loss per epoch", xlabel="epoch")
right.plot(epochs, train_accuracy, "o-", label="train")
right.plot(epochs, test_accuracy, "o-", label="test")
right.set(title="accuracy", xlabel="epoch", ylim=(0, 1))
for ax in (left, right):
    ax.set_xticks(epochs)
right.legend()
show(fig, "mnist_curves")
mlp_params = trained"""

MLP_MISTAKES = """\
# A few test digits the network gets wrong.
if mlp_params is None:
    print("Nothing to show yet: the training cell above needs a working mlp.fit (see Part 4's check cell).")
else:
    predicted = mlp.predict(mlp_params, X_test)
    wrong = np.flatnonzero(predicted != y_test)[:10]
    fig, axes = plt.subplots(1, 10, figsize=(12, 1.8))
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong):
        ax.imshow(X_test[i].reshape(28, 28), cmap="gray_r")
        ax.set_title(f"{y_test[i]} → {predicted[i]}", fontsize=10)
    fig.suptitle("misclassified test digits (true → predicted)")
    show(fig, "mnist_misclassified")"""

MLP_WEIGHTS = """\
# First-layer weights: each row of W1 is a 28x28 template that one hidden unit responds to.
# After a few epochs they are still mostly their random start, so the bottom row shows what
# training changed: W1 now minus W1 at initialisation (the same seed).
if mlp_params is None:
    print("Nothing to show yet: the training cell above needs a working mlp.fit (see Part 4's check cell).")
else:
    W_first = mlp_params["W1"]
    change = W_first - mlp.init_params(seed=0)["W1"]
    units = np.argsort(-np.linalg.norm(change, axis=1))[:8]          # the units that changed most
    fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
    for column, unit in enumerate(units):
        for row, image in enumerate((W_first[unit], change[unit])):
            limit = np.abs(image).max()
            axes[row, column].imshow(image.reshape(28, 28), cmap="seismic", vmin=-limit, vmax=limit)
            axes[row, column].axis("off")
        axes[0, column].set_title(f"unit {unit}", fontsize=9)
    fig.suptitle("first-layer weights (top) and what training changed in them (bottom); red +, blue −")
    show(fig, "mnist_first_layer_weights")"""

SUBMIT_MD = """\
## Submit

From a terminal in the folder that holds `assignment/`:

```sh
make check        # every part's public tests (python -m assignment.check)
make submission   # writes submission.zip (python -m assignment.submit)
```

Upload `submission.zip`. Only the graded modules (the table at the top) are graded, by the
hidden tests: passing the public ones here is a good sign, not a guarantee."""


def heading(part, what):
    """A part's heading: its number, what it is about, its module and points (grader/parts.py)."""
    p = part_named(part)
    return f"## Part {number(part)} — {what} (`{p.module}`, {f'{p.points:g} points' if p.graded else 'ungraded'})"


# Each part's lesson: what its heading says, and its cells before the check cells (the heading goes
# on top of the first). A part without a lesson gets its heading and its check cells.
LESSONS = {}
LESSONS["warmup"] = ("the chain rule, by hand", [("markdown", CHAIN_RULE_MD), ("code", CHAIN_RULE),
                                                 ("markdown", COLLAPSE_MD), ("code", COLLAPSE),
                                                 ("markdown", XOR_MD), ("code", XOR)])
LESSONS["activations"] = ("activation functions", [("markdown", ACTIVATIONS_MD), ("code", ACTIVATIONS_PLOT),
                                                   ("code", ACTIVATIONS_GRADCHECK)])
LESSONS["logistic_regression"] = ("logistic regression", [("markdown", LOGREG_MD), ("code", LOGREG)])
LESSONS["two_layer_net"] = ("a two-layer network learns XOR", [("markdown", XOR_NET_MD), ("code", XOR_NET)])
LESSONS["mlp"] = ("an MLP for MNIST", [("markdown", MLP_MD), ("code", MLP_TRAIN), ("code", MLP_MISTAKES),
                                       ("code", MLP_WEIGHTS)])


def _check_md(part):
    return (f"**Check Part {number(part)}.** This runs the public tests of `{part}` only. "
            "They use other inputs than the grader's hidden tests, which run when you submit.")


def part_cells(part):
    """A part's section: its heading on top of its lesson, then the cell that runs its public tests."""
    what, lesson = LESSONS.get(part.name, (part.title, []))
    top = heading(part.name, what)
    cells = [(kind, source, ()) for kind, source in lesson]
    if cells and cells[0][0] == "markdown":
        cells[0] = ("markdown", f"{top}\n\n{cells[0][1]}", ())
    else:
        cells.insert(0, ("markdown", top, ()))
    return cells + [("markdown", _check_md(part.name), ()), ("code", f'check("{part.name}")', (CHECK_TAG,))]


def cells():
    """The notebook's cells, in order, as (kind, source, tags)."""
    intro = INTRO.replace("PARTS_TABLE", parts_table())
    setup = SETUP.replace("PART_MODULES", ", ".join(sorted(p.name for p in PARTS)))
    return [("markdown", intro, ()), ("code", setup, ()),
            *[cell for part in PARTS for cell in part_cells(part)],
            ("markdown", SUBMIT_MD, ())]


def build():
    """The notebook as an nbformat node (validated)."""
    nb = new_notebook()
    for i, (kind, source, tags) in enumerate(cells()):
        make = new_code_cell if kind == "code" else new_markdown_cell
        cell = make(source, id=f"cell-{i:02d}")
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def text():
    """The notebook file's contents."""
    return nbformat.writes(build())
