"""A crash holding a weak proxy to an object KEPT holds, and a dict capture refuses (a list in it
nested too deeply to pickle): its record ends the memo the proxy's referent lived in, so once
the module's KEPT is restored (a copy, from a fresh memo) the restored proxy is dead."""
import weakref


class Kept:
    pass


def nested(depth):
    deep = []
    for _ in range(depth):
        deep = [deep]
    return deep


KEPT = [Kept()]


def work():
    proxy = weakref.proxy(KEPT[0])
    refused = {1: nested(100000)}
    raise ValueError("crashed")


work()
