# --- injected: a loss returned as a Python int too large for a float --------------------------------
def bce_loss(a, y):
    return 10 ** 400
