"""Builtin containers extended: a dict subclass with a field of its own, a named tuple, a deque."""
import collections
from typing import NamedTuple


class Tagged(dict):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tag = "stock"


class Pair(NamedTuple):
    left: int
    right: int


def check(stock, pair, recent):
    return stock["bolt"] / pair.right


check(Tagged(bolt=4, nut=7), Pair(1, 0), collections.deque([3, 1, 2], maxlen=5))
