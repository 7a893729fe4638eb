"""An exception raised without a message."""


def check(value):
    if value is None:
        raise ValueError()
    return value


check(None)
