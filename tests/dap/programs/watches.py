"""Values a safe-mode hover reads by keys written otherwise than the dump wrote them: a frozenset
whose repr lists its members in the order they were added (-1 and -2 hash alike), a dict's
negative keys, the items of a list, a tuple and a deque counted from their end."""
import collections


def settle(ledger, recent, totals, pair):
    return ledger[frozenset({-3})]


settle({frozenset([-2, -1]): "pair", -1: "minus one", 2: "two"}, collections.deque(["a", "b", "c"]),
       [10, 20, 30], ("left", "right"))
