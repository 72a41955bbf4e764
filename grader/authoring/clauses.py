"""What the stubs' docstrings promise, clause by clause, and the hidden tests that check each clause.

Every word of the docstring of each graded module and of each of its functions
(solutions/<part>.py, which the starter code copies) belongs to exactly one
clause below, quoted as it stands (whitespace aside). A clause is either a
requirement, with the hidden tests that check it (test functions of
grader/suites/test_<part>.py), or a note that says why it asks for nothing
(a formula the tests of that function check as a whole, an explanation, an
argument's description). tests/test_clauses.py checks that the quotes cover
every docstring word for word, that each requirement names existing tests,
and that no requirement is left without one: a docstring edit then needs a
decision here.

The warm-up (warmup.py) is ungraded and has no hidden suite.
"""


class Note(str):
    """A clause that asks for nothing a test could check, and why."""


def note(why):
    return Note(why)


ARG = note("describes an argument; the tests of the function call it that way")
FORMULA = note("the lecture's notation, which the function's own tests check as a whole")
EXPLAINS = note("explains the requirement next to it; nothing to check on its own")

CLAUSES = {
    "activations": {
        None: [
            ("Part 1: activation functions and backprop through them.", note("a title")),
            ("A neuron computes f = σ(W x + b). The non-linearity σ is what lets a stack of layers represent "
             "more than a single linear map. This module implements four choices of σ and, for each, the "
             "backward pass of the chain rule:", EXPLAINS),
            ("forward: out = σ(x) (elementwise) backward: dL/dx = dL/dout * σ'(x) (elementwise)", FORMULA),
            ("Every ``*_backward(dout, x)`` receives the upstream gradient ``dout = dL/dout`` and the *forward "
             "input* ``x``, and returns ``dL/dx`` with the shape of ``x``.",
             ("test_sigmoid_backward_gradient", "test_tanh_backward_gradient", "test_relu_backward_gradient",
              "test_leaky_relu_backward_gradient", "test_shape_and_dtype_preserved")),
            ("All functions work on arrays of any shape,", ("test_shape_and_dtype_preserved",)),
            ("do not modify their inputs,", ("test_no_input_mutation",)),
            ("and return float64 when given float64.", ("test_shape_and_dtype_preserved",)),
        ],
        "sigmoid": [
            ("Logistic sigmoid σ(x) = 1 / (1 + e^(-x)),", ("test_sigmoid_values", "test_sigmoid_symmetry")),
            ("computed without overflow.", ("test_sigmoid_stable_at_extremes",)),
            ("A direct ``1 / (1 + np.exp(-x))`` overflows for x < -709 and numpy warns.", EXPLAINS),
            ("It must stay silent (no overflow warning) for |x| up to 1e4.", ("test_sigmoid_stable_at_extremes",)),
            ("Args: x: np.ndarray of any shape.", ("test_shape_and_dtype_preserved",)),
            ("Returns: np.ndarray with the shape of x,", ("test_shape_and_dtype_preserved",)),
            ("values in [0, 1].", ("test_sigmoid_range",)),
        ],
        "sigmoid_backward": [
            ("Backward pass of the sigmoid: dL/dx = dout * σ(x) (1 − σ(x)).",
             ("test_sigmoid_backward_gradient", "test_sigmoid_derivative_bound")),
            ("Args: dout: np.ndarray, upstream gradient dL/dσ, same shape as x.", ARG),
            ("x: np.ndarray, the input that was given to sigmoid(x).", ARG),
            ("Returns: np.ndarray dL/dx with the shape of x.", ("test_shape_and_dtype_preserved",)),
        ],
        "tanh": [
            ("Hyperbolic tangent, tanh(x) = (e^x − e^(-x)) / (e^x + e^(-x)).", ("test_tanh_values",)),
            ("Like sigmoid, it must stay silent (no overflow warning) for |x| up to 1e4.", ("test_tanh_range",)),
            ("Args: x: np.ndarray of any shape.", ("test_shape_and_dtype_preserved",)),
            ("Returns: np.ndarray with the shape of x,", ("test_shape_and_dtype_preserved",)),
            ("values in [-1, 1].", ("test_tanh_range",)),
        ],
        "tanh_backward": [
            ("Backward pass of tanh: dL/dx = dout * (1 − tanh²(x)).", ("test_tanh_backward_gradient",)),
            ("Args: dout: np.ndarray, upstream gradient, same shape as x.", ARG),
            ("x: np.ndarray, the input that was given to tanh(x).", ARG),
            ("Returns: np.ndarray dL/dx with the shape of x.", ("test_shape_and_dtype_preserved",)),
        ],
        "relu": [
            ("Rectified linear unit, relu(x) = max(0, x).", ("test_relu_values",)),
            ("Args: x: np.ndarray of any shape.", ("test_shape_and_dtype_preserved",)),
            ("Returns: np.ndarray with the shape of x.", ("test_shape_and_dtype_preserved",)),
        ],
        "relu_backward": [
            ("Backward pass of ReLU: dL/dx = dout where x > 0, and 0 where x < 0.",
             ("test_relu_backward_gradient",)),
            ("At exactly x = 0 the derivative is undefined; either subgradient (0 or 1) is accepted.",
             ("test_relu_backward_at_zero",)),
            ("Args: dout: np.ndarray, upstream gradient, same shape as x.", ARG),
            ("x: np.ndarray, the input that was given to relu(x).", ARG),
            ("Returns: np.ndarray dL/dx with the shape of x.", ("test_shape_and_dtype_preserved",)),
        ],
        "leaky_relu": [
            ("Leaky ReLU, max(αx, x) for 0 < α < 1: x where x > 0, αx elsewhere.", ("test_leaky_relu_values",)),
            ("Args: x: np.ndarray of any shape.", ("test_shape_and_dtype_preserved",)),
            ("alpha: float, the slope for negative inputs.", ("test_leaky_relu_alpha",)),
            ("Returns: np.ndarray with the shape of x.", ("test_shape_and_dtype_preserved",)),
        ],
        "leaky_relu_backward": [
            ("Backward pass of leaky ReLU: dL/dx = dout where x > 0, α·dout where x < 0.",
             ("test_leaky_relu_backward_gradient",)),
            ("At exactly x = 0 either subgradient (α or 1) is accepted.", ("test_leaky_relu_backward_at_zero",)),
            ("Args: dout: np.ndarray, upstream gradient, same shape as x.", ARG),
            ("x: np.ndarray, the input that was given to leaky_relu(x).", ARG),
            ("alpha: float, the slope for negative inputs.", ("test_leaky_relu_backward_gradient",)),
            ("Returns: np.ndarray dL/dx with the shape of x.", ("test_shape_and_dtype_preserved",)),
        ],
    },
    "logistic_regression": {
        None: [
            ("Part 2: logistic regression trained by backpropagation.", note("a title")),
            ("One neuron with a sigmoid, trained on binary cross-entropy (the lecture's notation, for one "
             "example x with label y in {0, 1}): z = wᵀx + b a = σ(z) L = −(y log a + (1 − y) log(1 − a)) "
             "Over a batch X of shape (N, D) the loss is the mean of L over the N rows. By the chain rule, "
             "dL/dz = a − y for each example, so for the mean loss dL/dw = Xᵀ (a − y) / N dL/db = Σᵢ (aᵢ − yᵢ) / N",
             FORMULA),
        ],
        "forward": [
            ("Forward pass: a = σ(X w + b), one probability per row of X.", ("test_forward_values",)),
            ("Args: X: np.ndarray of shape (N, D), one example per row. w: np.ndarray of shape (D,), the "
             "weights. b: float, the bias.", ("test_forward_any_shape",)),
            ("Returns: a: np.ndarray of shape (N,), with a[i] = σ(wᵀ X[i] + b).",
             ("test_forward_values", "test_forward_any_shape")),
        ],
        "bce_loss": [
            ("Mean binary cross-entropy, −mean(y log a + (1 − y) log(1 − a)).",
             ("test_bce_values", "test_bce_nonnegative")),
            ("It must be finite even when some a is exactly 0 or 1:", ("test_bce_finite_at_0_and_1",)),
            ("clip a into [eps, 1 − eps] first, with a small eps (at most 1e-7; 1e-12 works well), so that a "
             "confident wrong prediction still costs a large loss, −log(eps).",
             ("test_bce_confidently_wrong", "test_bce_finite_at_0_and_1")),
            ("Args: a: np.ndarray of shape (N,), predicted probabilities. y: np.ndarray of shape (N,), labels "
             "in {0, 1}.", ARG),
            ("Returns: float, the loss averaged over the N examples.",
             ("test_bce_values", "test_bce_batch_duplication")),
        ],
        "backward": [
            ("Gradient of the mean BCE with respect to w and b.", ("test_backward_dw", "test_backward_db")),
            ("Args: X: np.ndarray of shape (N, D), the inputs given to forward. a: np.ndarray of shape (N,), "
             "the output of forward(X, w, b). y: np.ndarray of shape (N,), labels in {0, 1}.", ARG),
            ("Returns: (dw, db): dw is an np.ndarray of shape (D,) and db a float,", ("test_backward_shapes",)),
            ("the gradients dL/dw and dL/db of the *mean* loss over the batch.",
             ("test_backward_dw", "test_backward_db")),
        ],
        "fit": [
            ("Train by full-batch gradient descent, starting from w = 0, b = 0.", ("test_fit_first_step",)),
            ("Each epoch: forward, record the loss, backward, then w ← w − lr·dL/dw and b ← b − lr·dL/db.",
             ("test_fit_first_step", "test_fit_second_step", "test_fit_separable_data_needs_bias",
              "test_fit_records_loss_before_step")),
            ("Integer X and y (0/1 features, integer labels) must train exactly as their float copies do.",
             ("test_fit_accepts_integer_inputs",)),
            ("Args: X: np.ndarray of shape (N, D). y: np.ndarray of shape (N,), labels in {0, 1}. lr: float, "
             "the learning rate.", ARG),
            ("epochs: int, the number of gradient steps.", ("test_fit_second_step",)),
            ("Returns: (w, b, losses): w of shape (D,), b a float, and losses a list of `epochs` floats, the "
             "training loss at each epoch.", ("test_fit_first_step", "test_fit_loss_decreases")),
        ],
        "predict": [
            ("Class labels: 1 where σ(X w + b) >= 0.5, else 0.", ("test_predict_threshold",)),
            ("Args: X: np.ndarray of shape (N, D). w: np.ndarray of shape (D,). b: float.", ARG),
            ("Returns: np.ndarray of shape (N,) and integer dtype, with values in {0, 1}.",
             ("test_predict_threshold",)),
        ],
    },
    "two_layer_net": {
        None: [
            ("Part 3: a two-layer sigmoid network trained on mean squared error.", note("a title")),
            ("The lecture's network, with sigmoid σ on both layers: h = σ(W1 x + b1) W1: (H, D) b1: (H,) "
             "ŷ = σ(W2 h + b2) W2: (K, H) b2: (K,) and, for a batch of N rows, the mean squared error summed "
             "over the K outputs and averaged over the batch: L = (1/N) Σᵢ ‖yᵢ − ŷᵢ‖² In row-major batch form "
             "a layer is ``X @ W.T + b``. Backpropagation applies the chain rule layer by layer, from dL/dŷ "
             "back to dL/dW1.", FORMULA),
        ],
        "init_params": [
            ("Random initial parameters, deterministic for a given seed.", ("test_init_seeded_and_random",)),
            ("Weights must be random (not all equal), or every hidden unit learns the same thing,",
             ("test_init_seeded_and_random",)),
            ("and not tiny: with a net this small, weights of order 1 (for example N(0, 1) or U(−1, 1)) let "
             "fit learn XOR with its defaults, while 0.01·N(0, 1) leaves every output stuck near 0.5.",
             ("test_fit_learns_xor",)),
            ("Biases may start at zero.", note("a permission: any bias is accepted")),
            ("Args: n_in: int, D, the number of inputs. n_hidden: int, H, the number of hidden units. n_out: "
             "int, K, the number of outputs.", ("test_init_shapes",)),
            ("seed: int, seeds the random generator.", ("test_init_seeded_and_random",)),
            ("Returns: dict with keys 'W1' (H, D), 'b1' (H,), 'W2' (K, H), 'b2' (K,).", ("test_init_shapes",)),
        ],
        "forward": [
            ("Forward pass ŷ = σ(W2 σ(W1 x + b1) + b2) for every row of X.", ("test_forward_values",)),
            ("Args: params: dict with 'W1', 'b1', 'W2', 'b2' (shapes as in init_params). X: np.ndarray of "
             "shape (N, D).", ARG),
            ("Returns: (yhat, cache): yhat of shape (N, K),", ("test_forward_any_shape",)),
            # Every backward test runs on the cache the student's own forward returns.
            ("and cache, anything backward needs (for example the inputs and pre-activations of each layer).",
             ("test_backward_gradient", "test_backward_shapes", "test_backward_is_backpropagation")),
        ],
        "mse_loss": [
            ("Mean squared error L = (1/N) Σᵢ ‖yᵢ − ŷᵢ‖².", ("test_mse_values",)),
            ("Squared errors are summed over the K outputs and averaged over the N rows.",
             ("test_mse_values", "test_mse_laws")),
            ("Args: yhat: np.ndarray of shape (N, K), predictions. y: np.ndarray of shape (N, K), targets.", ARG),
            ("Returns: float, the loss.", ("test_mse_laws",)),
        ],
        "backward": [
            ("Gradients of mse_loss with respect to every parameter.", ("test_backward_gradient",)),
            ("Chain rule, from the output back: dL/dŷ = 2 (ŷ − y) / N dL/dz2 = dL/dŷ · σ'(z2) dL/dW2 = "
             "(dL/dz2)ᵀ h dL/db2 = Σ_rows dL/dz2 dL/dh = dL/dz2 W2 dL/dz1 = dL/dh · σ'(z1) dL/dW1 = (dL/dz1)ᵀ "
             "X dL/db1 = Σ_rows dL/dz1", ("test_backward_gradient", "test_backward_is_backpropagation")),
            ("It must not modify params, y or anything in cache: called twice on the same cache, it returns the "
             "same gradients.", ("test_no_input_mutation",)),
            ("Args: params: dict with 'W1', 'b1', 'W2', 'b2'. cache: what forward(params, X) returned as its "
             "cache. y: np.ndarray of shape (N, K), targets.", ARG),
            ("Returns: dict with keys 'W1', 'b1', 'W2', 'b2',", ("test_backward_gradient",)),
            ("each gradient shaped like the parameter it belongs to.", ("test_backward_shapes",)),
        ],
        "fit": [
            ("Train by full-batch gradient descent from init_params(D, n_hidden, K, seed).",
             ("test_fit_gradient_step",)),
            ("Each epoch: forward, record the loss, backward, then p ← p − lr·dL/dp for every parameter p.",
             ("test_fit_gradient_step", "test_fit_loss_decreases", "test_fit_records_loss_before_step")),
            ("Args: X: np.ndarray of shape (N, D). y: np.ndarray of shape (N, K), targets in [0, 1]. "
             "n_hidden: int, H. lr: float, the learning rate.", ARG),
            ("epochs: int, the number of gradient steps.", ("test_fit_loss_decreases",)),
            ("seed: int, passed to init_params.", ("test_fit_gradient_step",)),
            ("Returns: (params, losses): the trained params dict, and a list of `epochs` floats, the training "
             "loss at each epoch.", ("test_fit_gradient_step", "test_fit_loss_decreases", "test_fit_learns_xor")),
        ],
        "predict": [
            ("The network's output ŷ for every row of X.", ("test_predict",)),
            ("Args: params: dict with 'W1', 'b1', 'W2', 'b2'. X: np.ndarray of shape (N, D).", ARG),
            ("Returns: np.ndarray of shape (N, K), values in (0, 1).", ("test_predict",)),
        ],
    },
    "mlp": {
        None: [
            ("Part 4: a multilayer perceptron for MNIST, trained by minibatch SGD.", note("a title")),
            ("The lecture's classifier has layer sizes (784, 128, 256, 10): 784 pixels in, hidden layers of "
             "128 and 256 units with ReLU, and 10 class scores (logits) out, with no activation on the output "
             "layer. For L layers, l = 1 … L: h⁰ = x zˡ = Wˡ hˡ⁻¹ + bˡ Wˡ: (sizes[l], sizes[l-1]) bˡ: "
             "(sizes[l],) hˡ = relu(zˡ) for l < L; the logits are z^L The loss is softmax cross-entropy, "
             "averaged over the batch: p = softmax(z^L), L = −(1/N) Σᵢ log p[i, yᵢ] and its gradient with "
             "respect to the logits is (p − onehot(y)) / N.", FORMULA),
        ],
        "softmax": [
            ("Row-wise softmax,", ("test_softmax_values", "test_softmax_shift_invariance")),
            ("stable for logits as large as ±1e3.", ("test_softmax_stable",)),
            ("Subtract each row's maximum before exponentiating: softmax is unchanged by adding a constant to "
             "a row, and exp then never overflows.", EXPLAINS),
            ("Args: logits: np.ndarray of shape (N, C).", ARG),
            ("Returns: np.ndarray of shape (N, C); every row is positive and sums to 1.",
             ("test_softmax_values", "test_softmax_shift_invariance")),
        ],
        "cross_entropy": [
            ("Mean softmax cross-entropy, −(1/N) Σᵢ log softmax(logits)[i, yᵢ].",
             ("test_cross_entropy_values", "test_cross_entropy_laws")),
            ("Use the log-sum-exp form, log p[i, c] = z[i, c] − max_i − log Σ_c' e^(z[i, c'] − max_i),",
             EXPLAINS),
            ("so that it is finite for large logits.", ("test_cross_entropy_stable",)),
            ("Args: logits: np.ndarray of shape (N, C). y: np.ndarray of shape (N,), integer labels in [0, C).",
             ARG),
            ("Returns: float, the loss averaged over the N examples.", ("test_cross_entropy_laws",)),
        ],
        "init_params": [
            ("Random initial parameters for a network of any depth.",
             ("test_init_any_depth", "test_init_seeded_and_random")),
            ("The biases start at zero, bˡ = 0.", ("test_init_biases_zero",)),
            ("The weights are random:", ("test_init_seeded_and_random",)),
            # Advice as to the scale: any scale is accepted as long as fit learns with it, which the MNIST
            # accuracy test checks (as two_layer_net's "not tiny" clause is checked by fit learning XOR).
            ("He initialisation, Wˡ ~ N(0, 2 / sizes[l-1]), suits ReLU layers.", ("test_fit_mnist_accuracy",)),
            ("Args: layer_sizes: sequence of ints (D, H1, ..., C); L = len(layer_sizes) − 1.",
             ("test_init_any_depth",)),
            ("seed: int, seeds the random generator.", ("test_init_seeded_and_random",)),
            ("Returns: dict with keys 'W1', 'b1', ..., 'WL', 'bL'; 'Wl' has shape (layer_sizes[l], "
             "layer_sizes[l-1]) and 'bl' has shape (layer_sizes[l],).",
             ("test_init_mnist_shapes", "test_init_any_depth")),
        ],
        "forward": [
            ("Forward pass: ReLU on every hidden layer, raw logits out.",
             ("test_forward_values", "test_forward_any_depth")),
            ("Args: params: dict with 'W1', 'b1', ..., 'WL', 'bL'. X: np.ndarray of shape (N, D).", ARG),
            ("Returns: (logits, cache): logits of shape (N, C),", ("test_forward_any_depth",)),
            # Every backward test runs backward on the cache the student's own forward returned.
            ("and cache, anything backward needs (for example each layer's input hˡ⁻¹ and pre-activation zˡ).",
             ("test_backward_gradient", "test_backward_any_depth", "test_backward_mnist_directional",
              "test_backward_is_backpropagation")),
        ],
        "backward": [
            ("Gradients of cross_entropy(logits, y) with respect to every parameter.",
             ("test_backward_gradient", "test_backward_any_depth", "test_backward_mnist_directional")),
            ("Start from dL/dz^L = (softmax(z^L) − onehot(y)) / N, then for l = L … 1: dL/dWˡ = (dL/dzˡ)ᵀ hˡ⁻¹ "
             "dL/dbˡ = Σ_rows dL/dzˡ dL/dhˡ⁻¹ = dL/dzˡ Wˡ dL/dzˡ⁻¹ = relu'(zˡ⁻¹) · dL/dhˡ⁻¹",
             ("test_backward_gradient", "test_backward_is_backpropagation")),
            ("It must not modify params, y or anything in cache: called twice on the same cache, it returns the "
             "same gradients.", ("test_no_input_mutation",)),
            ("Args: params: dict with 'W1', 'b1', ..., 'WL', 'bL'. cache: what forward(params, X) returned as "
             "its cache. y: np.ndarray of shape (N,), integer labels.", ARG),
            ("Returns: dict with the keys of params, each gradient shaped like its parameter.",
             ("test_backward_gradient", "test_backward_mnist_directional")),
        ],
        "sgd_step": [
            ("One step of gradient descent, p ← p − lr·dL/dp, for every parameter.", ("test_sgd_step",)),
            ("Returns new arrays; the dicts passed in are left unchanged.", ("test_sgd_step",)),
            ("Args: params: dict of parameters. grads: dict of gradients with the same keys and shapes. lr: "
             "float, the learning rate.", ARG),
            ("Returns: dict with the same keys: the updated parameters.", ("test_sgd_step",)),
        ],
        "fit": [
            ("Train by minibatch SGD, reshuffling the examples every epoch.",
             ("test_fit_shuffled_minibatch_epoch",)),
            ("Start from init_params(layer_sizes, seed).", ("test_fit_shuffled_minibatch_epoch",)),
            ("Each epoch: shuffle the rows, then for each minibatch of up to batch_size rows: forward, loss, "
             "backward, sgd_step.", ("test_fit_shuffled_minibatch_epoch", "test_fit_full_batch_step")),
            ("Args: X: np.ndarray of shape (N, D), with D == layer_sizes[0]. y: np.ndarray of shape (N,), "
             "integer labels. layer_sizes: sequence of ints, as in init_params.", ARG),
            ("epochs: int, passes over the data.", ("test_fit_shuffled_minibatch_epoch",)),
            ("batch_size: int, rows per minibatch", ("test_fit_shuffled_minibatch_epoch",)),
            ("(the last one may be smaller).", ("test_fit_shuffled_minibatch_epoch",)),
            ("lr: float, the learning rate.", ("test_fit_full_batch_step",)),
            ("seed: int, seeds both the initialisation and the shuffling:", ("test_fit_shuffled_minibatch_epoch",)),
            ("the same seed gives the same result, every time.", ("test_fit_same_seed_same_result",)),
            ("verbose: progress output (not graded). True prints one line per epoch, e.g. `epoch 3/20: loss "
             "0.2718 (4.1 s)` (the epoch's mean loss, seconds since the start); False prints nothing; None "
             "prints an epoch's line only when a second or more has passed since the last line (or the "
             "start), so short runs stay quiet.",
             note("the docstring says it is not graded: it only shapes what make train prints")),
            ("Returns: (params, history): the trained params,", ("test_fit_mnist_accuracy",)),
            ("and a list of `epochs` floats, the mean minibatch loss of each epoch.",
             ("test_fit_shuffled_minibatch_epoch", "test_fit_full_batch_step")),
        ],
        "predict": [
            ("Predicted class of every row: the index of the largest logit.", ("test_predict",)),
            ("Args: params: dict with 'W1', 'b1', ..., 'WL', 'bL'. X: np.ndarray of shape (N, D).", ARG),
            ("Returns: np.ndarray of shape (N,), integer labels.", ("test_predict",)),
        ],
    },
}
