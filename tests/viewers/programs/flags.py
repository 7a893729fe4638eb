"""Values Python takes for false and for true, for `if x:` in a replay."""


def check(count, name, items, options, nothing, flag, ratio, blob, account, total, label, rows):
    raise RuntimeError("not ready")


check(0, "", [], {}, None, False, 0.0, b"", object(), 3, "x", [1])
