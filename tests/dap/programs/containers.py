"""Every sized container the Variables view pages, as programs extend them: subclasses of the
builtins with attributes of their own, the collections types, an array and arrays of numpy's
subclasses (a matrix, a masked array, one of the program's own); one of a million
items; a dict that counts the keys read from it; and lists whose own __len__, __iter__ or
__getitem__ never return once replayed, or whose __getitem__ raises there."""
import collections

try:
    import numpy
    import numpy.ma
except ImportError:  # the arrays are left out; the tests skip them
    numpy = None


class Tagged(numpy.ndarray if numpy is not None else object):
    """An array class of the program's own."""


class Batch(list):
    def __init__(self, items):
        super().__init__(items)
        self.source = "queue"
        self.retries = 2


class Registry(dict):
    def __init__(self, *args):
        super().__init__(*args)
        self.owner = "ops"


class Row(tuple):
    pass


class Members(set):
    pass


class Frozen(frozenset):
    pass


class Tally(dict):
    """Counts the keys its __iter__ hands out: how much of it showing it reads."""

    def __iter__(self):
        for key in super().__iter__():
            self.read = self.__dict__.get("read", 0) + 1
            yield key


class Stalling(list):
    """Its method ``stall`` spins for ever in the replay (a state of the program's that only the
    restored object is in), as a method reading a socket or taking a lock would."""

    def __init__(self, items, stall):
        super().__init__(items)
        self.stall = stall

    def __setstate__(self, state):
        self.__dict__.update(state, replayed=True)

    def _spin(self, name):
        while name == self.__dict__.get("stall") and self.__dict__.get("replayed"):
            pass

    def __len__(self):
        self._spin("__len__")
        return super().__len__()

    def __iter__(self):
        self._spin("__iter__")
        return super().__iter__()

    def __getitem__(self, index):
        self._spin("__getitem__")
        return super().__getitem__(index)

    def __dir__(self):
        self._spin("__dir__")
        return super().__dir__()


class Refusing(list):
    """Its __getitem__ raises in the replay, as one reading from a closed shard would."""

    def __init__(self, items):
        super().__init__(items)
        self.shard = "eu-1"  # a state to restore: __setstate__ runs

    def __setstate__(self, state):
        self.__dict__.update(state, replayed=True)

    def __getitem__(self, index):
        if self.__dict__.get("replayed"):
            raise LookupError("the shard is offline")
        return super().__getitem__(index)


class Holder:
    """A big subclass one level down, where the preview holds only its length."""

    def __init__(self, batch):
        self.batch = batch


def audit(batch, registry, ordered, defaults, counts, recent, row, members, frozen, array,
          huge, holder, tally, stalls, refusing, dirless, matrix, masked, tagged):
    return len(batch) / (batch.retries - 2)


N = 250
audit(Batch(range(N)),
      Registry(("k%03d" % i, i) for i in range(N)),
      collections.OrderedDict(("k%03d" % i, i) for i in range(N)),
      collections.defaultdict(list, (("k%03d" % i, [i]) for i in range(N))),
      collections.Counter({"k%03d" % i: i for i in range(N)}),
      collections.deque(range(N), maxlen=1000),
      Row(range(N)),
      Members(range(N)),
      Frozen(range(N)),
      numpy.arange(N) if numpy is not None else None,
      Batch(range(1000000)),
      Holder(Batch(range(1000000))),
      Tally(("k%06d" % i, i) for i in range(100000)),
      [Stalling(range(N), name) for name in ("__len__", "__iter__", "__getitem__")],
      Refusing(range(N)),
      Stalling(range(N), "__dir__"),
      numpy.matrix(numpy.arange(N).reshape(N, 1)) if numpy is not None else None,
      numpy.ma.masked_array(numpy.arange(N), mask=[i % 7 == 0 for i in range(N)]) if numpy is not None else None,
      numpy.arange(N).view(Tagged) if numpy is not None else None)
