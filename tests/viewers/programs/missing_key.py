"""A KeyError: its str() is the repr of its key, so str(), repr() and args tell different things."""


def lookup(table, key):
    return table[key]


lookup({"a": 1}, "b")
