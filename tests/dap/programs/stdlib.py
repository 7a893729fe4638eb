"""Values of the standard library that pickle refuses or restores as something else (a
regex match, a slice of a buffer, a weak reference, a TypeVar, a logger) among their
neighbours: VS Code shows them the same, live under debugpy or replayed from a dump."""
from array import array
from collections import Counter, deque
from decimal import Decimal
from fractions import Fraction
from functools import partial
from logging import DEBUG, getLogger
from re import compile as regex
from typing import TypeVar
from uuid import UUID
from weakref import ref

T = TypeVar("T", int, str)


class Target:
    name = "target"


def check(rows):
    pattern = regex(r"(\w+)=(\d+)")
    match = pattern.search("size=12")
    unsent = memoryview(b"GET / HTTP/1.1")[4:]
    target = Target()
    weak = ref(target)
    type_var = T
    logger = getLogger("app.check")
    logger.setLevel(DEBUG)
    price = Decimal("1.10")
    share = Fraction(3, 7)
    numbers = array("i", [1, 2])
    parse = partial(int, base=2)
    recent = deque([1, 2], maxlen=3)
    counts = Counter("abca")
    uid = UUID("12345678-1234-5678-1234-567812345678")
    span = range(1, 10, 2)
    return rows[int(match.group(2))]


check([])
