"""An exception class that refuses attributes (error values made immutable), raised from a KeyError."""


class Refused(Exception):
    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")


def lookup(table, key):
    try:
        return table[key]
    except KeyError as exc:
        raise Refused(f"no entry {key!r}") from exc


lookup({"a": 1}, "b")
