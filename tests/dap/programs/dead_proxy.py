"""A crash holding a weak proxy to an object KEPT holds, and a dict capture refuses (its value
answers None for every attribute): its record ends the memo the proxy's referent lived in, so
once the module's KEPT is restored (a copy, from a fresh memo) the restored proxy is dead."""
import weakref


class Kept:
    pass


class Refuses:
    def __getattribute__(self, name):
        return None


KEPT = [Kept()]


def work():
    proxy = weakref.proxy(KEPT[0])
    refused = {1: Refuses()}
    raise ValueError("crashed")


work()
