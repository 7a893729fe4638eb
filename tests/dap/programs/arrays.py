"""A numerical job that fails holding numpy arrays of each kind, and numpy scalars."""
import numpy as np


class Readings(np.ndarray):
    """An array class of the program's own, whose min() fails."""

    def min(self, *args, **kwargs):
        raise ValueError("sensor offline")


def analyse(samples):
    grid = np.arange(12, dtype=np.int32).reshape(3, 4)
    point = np.array(2.5)
    empty = np.zeros(0)
    huge = np.arange(2_000_000, dtype=np.float32)
    gaps = np.array([1.0, np.nan, -3.0])
    records = np.array([(1, 2.0), (3, 4.0)], dtype=[("id", "i4"), ("score", "f8")])
    objects = np.array([None, "text", 3], dtype=object)
    masked = np.ma.masked_array([1, 2, 3], mask=[False, True, False])
    words = np.array(["alpha", "beta"])
    mean = np.float64(1.5)
    count = np.int32(7)
    ok = np.bool_(True)
    readings = np.arange(3.0).view(Readings)
    return samples / count + undefined_name


analyse(np.linspace(0.0, 1.0, 150))
