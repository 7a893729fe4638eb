"""A dict keyed by numpy scalars: numbers, a bool, texts, and a nan and a date that no watch names."""
import numpy as np


def lookup(table):
    return table["absent"]


lookup({np.int64(3): "int64", np.uint8(7): "uint8", np.bool_(True): "bool", np.float64(2.5): "float64",
        np.float32(0.1): "float32", np.complex128(1 + 2j): "complex128", np.str_("s"): "str", np.bytes_(b"b"): "bytes",
        np.float64("nan"): "nan", np.datetime64("2024-01-02"): "datetime64"})
