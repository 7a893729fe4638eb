"""Nested calls holding ints, strings, lists, dicts and an object."""


class Config:
    def __init__(self):
        self.name = "prod"
        self.retries = 3
        self.hosts = ["a.example", "b.example"]


def leaf(total, label, parts, table, config):
    ratio = total / len(parts)
    return table[label] + ratio  # KeyError


def middle(count):
    label = "missing-%d" % count
    parts = [1, 2, 3]
    table = {"known": 1.5, "other": [1, 2], 7: "seven"}
    return leaf(count * 2, label, parts, table, Config())


def outer():
    values = (1, "two", 3.0, None, True)
    return middle(21)


outer()
