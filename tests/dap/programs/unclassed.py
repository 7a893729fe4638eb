"""A crash holding values whose class cannot be read when it is dumped: a weak proxy whose referent
is already gone, and a reference to an object on a server that is gone (as rpyc's netrefs are,
which ask the server for their __class__).  dir() reads __class__ too, so nothing lists them;
a list of rows of the server's still lists its items."""
import weakref


class Session:
    pass


class Remote:
    __slots__ = ("oid",)

    def __init__(self, oid):
        self.oid = oid

    @property
    def __class__(self):
        raise ConnectionError("server gone")


class Rows(list):
    @property
    def __class__(self):
        raise ConnectionError("server gone")


def work():
    session = Session()
    gone = weakref.proxy(session)
    del session
    remote = Remote(7)
    rows = Rows(["ann", "bob"])
    raise ValueError("crashed")


work()
