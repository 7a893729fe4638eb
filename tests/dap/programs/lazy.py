"""A frame whose first value says when it is unpickled, and big plain values after it."""
import os
import pathlib
import tempfile

MARKER = pathlib.Path(tempfile.gettempdir()) / ("tbdump-lazy-%d" % os.getpid())


class Trap:
    def __reduce__(self):
        return (pathlib.Path.touch, (MARKER,))


def crunch():
    trap = Trap()
    blob = bytes(40_000_000)          # a large object layer: values load as they are opened
    numbers = list(range(100_000))
    return numbers[len(blob)]


crunch()
