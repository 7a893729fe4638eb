"""A dict keyed by values of every kind a watch expression can name, and some it cannot."""
import datetime
from decimal import Decimal


class Key:
    pass


def lookup(table):
    return table["absent"]


lookup({"plain": 1, 7: "int", 2.5: "float", None: "none", b"raw": "bytes", 1 + 2j: "complex",
        (1, "a"): "tuple", frozenset({3}): "frozenset", ((1, 2), frozenset({(3, 4)})): "nested",
        (2, "x" * 600): "long text in a tuple", float("inf"): "inf", float("nan"): "nan", Key(): "object",
        Decimal("NaN"): "decimal nan", datetime.date(2024, 1, 2): "date"})
