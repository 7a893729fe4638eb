"""An exception raised from another (explicit cause)."""


def parse(text):
    return int(text)


def load(text):
    try:
        return parse(text)
    except ValueError as exc:
        raise RuntimeError("cannot load %r" % text) from exc


load("x12")
