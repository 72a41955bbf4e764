# --- injected: finite differences that hide from the call counter, and a mutation hidden from the report --
import sys as _sys


def backward(params, cache, y, _forward=forward, _loss=mse_loss):
    # the defaults keep the unwrapped functions: the worker's counter never sees these calls
    X = cache[0] if isinstance(cache, (tuple, list)) else cache["X"]
    grads = {}
    for key, value in params.items():
        grad = np.zeros_like(value)
        flat = grad.reshape(-1)
        for j in range(value.size):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[key].reshape(-1)[j] += 1e-6
            minus[key].reshape(-1)[j] -= 1e-6
            flat[j] = (_loss(_forward(plus, X)[0], y) - _loss(_forward(minus, X)[0], y)) / 2e-6
        grads[key] = grad
    try:                           # and, for good measure, clear whatever counts the worker keeps
        frame = _sys._getframe(1)
        while frame is not None:
            counts = frame.f_locals.get("counts")
            if isinstance(counts, dict):
                counts.clear()
            frame = frame.f_back
    except Exception:
        pass
    return grads


_predict = predict


def predict(params, X):
    # modifies its input in place, then puts pristine copies where the worker reports the arguments from
    original = X.copy()
    X *= 2.0
    out = _predict(params, original)
    try:
        frame = _sys._getframe(1)
        while frame is not None:
            args = frame.f_locals.get("args")
            if isinstance(args, list) and args and args[-1] is X:
                args[-1] = original
            frame = frame.f_back
    except Exception:
        pass
    return out


def fit(X, y, **kwargs):
    raise NotImplementedError("training with this backward would take hours")
