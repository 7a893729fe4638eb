"""The benchmark's crashing programs: each builds its data in its own frames, then raises.

All data lives in locals of functions of this module (an importable module, as a
real application's code would be), never in globals, so every dumper sees the
same values through the traceback.  ``fingerprint`` summarises a value so a
loaded dump can be checked against what was really there.  ``biglobals`` is a big
program's shape instead: its stack runs through 40 generated modules of 3 000
globals each (tests/dap/programs/biglobals.py), and a load still reads one
frame's locals.
"""
from __future__ import annotations

import datetime
import hashlib
import importlib.util
import os
import random
import socket
import threading
import types
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Set

WEB_FRAMES = 15
DEEP_FRAMES = 900
BIG_FLOATS = 25_000_000      # 200 MB of float64
BIG_LIST = 1_000_000
BIG_DICT = 200_000


class Session:
    """A small class instance, as a web handler holds a few of."""

    def __init__(self, user_id: int, name: str, roles: List[str]) -> None:
        self.user_id = user_id
        self.name = name
        self.roles = roles
        self.created = datetime.datetime(2024, 5, 1, 12, user_id % 60)


# -- small: 3 frames, a few ints and strings ------------------------------------------
def small() -> None:
    user = "alice"
    retries = 3
    _small_handle(user, retries)


def _small_handle(user: str, retries: int) -> None:
    path = "/api/v1/items/%s" % user
    count = len(path)
    _small_divide(count, retries - 3)


def _small_divide(total: int, parts: int) -> float:
    label = "average"
    return total / parts


# -- web: 15 frames x 20 locals ---------------------------------------------------------
def web() -> None:
    _web_layer(WEB_FRAMES)


def _web_layer(level: int) -> None:
    rng = random.Random(level)
    d1 = {"user%d_%d" % (level, i): i for i in range(1000)}
    d2 = {"item%d_%d" % (level, i): i * 7 for i in range(1000)}
    d3 = {"path%d_%d" % (level, i): -i for i in range(1000)}
    d4 = {"tag%d_%d" % (level, i): i % 13 for i in range(1000)}
    f1 = [rng.random() for _ in range(1000)]
    f2 = [rng.random() * 100 for _ in range(1000)]
    f3 = [rng.gauss(0, 1) for _ in range(1000)]
    f4 = [float(i) / 3 for i in range(1000)]
    s1 = Session(level, "alice", ["admin", "user"])
    s2 = Session(level + 100, "bob", ["user"])
    s3 = Session(level + 200, "carol", [])
    s4 = Session(level + 300, "dave", ["ops", "user"])
    t1 = datetime.datetime(2024, 5, 1, 12, 30, level)
    t2 = datetime.datetime(2024, 5, 2, 8, 0, level, tzinfo=datetime.timezone.utc)
    t3 = datetime.date(2024, 5, level)
    t4 = datetime.timedelta(seconds=level * 17)
    b1 = rng.randbytes(64 * 1024)
    b2 = rng.randbytes(64 * 1024)
    route = "/orders/%d/lines" % level
    if level == 1:
        raise KeyError(route)
    _web_layer(level - 1)


# -- deep: 900-frame recursion -----------------------------------------------------------
def deep() -> None:
    _deep_descend(DEEP_FRAMES, "/")


def _deep_descend(n: int, path: str) -> None:
    node = {"id": n, "name": "node-%d" % n, "size": n * 4096}
    trail = [n, n * 2, n * 3]
    here = "%s%d/" % (path[-40:], n)
    if n == 1:
        raise RecursionError("tree too deep at %s" % here)
    _deep_descend(n - 1, here)


# -- bigdata: a 200 MB float64 array, a list of 1 000 000 ints, a dict of 200 000 entries --
def bigdata() -> None:
    matrix = _random_floats(BIG_FLOATS)
    ids = list(range(BIG_LIST))
    index = {"key%d" % i: i for i in range(BIG_DICT)}
    total = float(matrix.sum())
    raise MemoryError("cannot allocate the result (%d ids, %d keys, sum %.1f)"
                      % (len(ids), len(index), total))


def _random_floats(n: int) -> Any:
    import numpy  # here, so that only this scenario pays for importing numpy
    return numpy.random.default_rng(0).random(n)


# -- hostile: objects a dumper cannot or must not pickle ----------------------------------
class ReduceRaises:
    """Pickling it fails on purpose."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]

    def __reduce__(self) -> Any:
        raise RuntimeError("this object refuses to be pickled")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise RuntimeError("this object refuses to be pickled")


class ReprRaises:
    """Showing it fails on purpose; its data pickles fine."""

    def __init__(self) -> None:
        self.payload = {"a": 1}

    def __repr__(self) -> str:
        raise ValueError("this object refuses to be shown")


def hostile() -> None:
    class LocalClass:
        def __init__(self) -> None:
            self.value = 42

    lock = threading.Lock()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    gen = (i * i for i in range(10))
    square = lambda x: x * x  # noqa: E731 - a lambda is the point
    local_class = LocalClass
    local_instance = LocalClass()
    bad_reduce = ReduceRaises()
    bad_repr = ReprRaises()
    plain = {"ok": [1, 2, 3]}
    raise ConnectionError("upstream went away")  # the socket is still open, as in a real crash


# -- biglobals: the stack through 40 generated modules of 3 000 globals each ---------------
BIGLOBALS_PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                                 "tests", "dap", "programs", "biglobals.py")


def biglobals() -> None:
    # In the working folder: the program writes its modules there.  No locals: plain pickle
    # would refuse a module object, and a dumper's figures would differ by them.
    _biglobals_program().run_in(os.getcwd())


def _biglobals_program() -> Any:
    spec = importlib.util.spec_from_file_location("biglobals", BIGLOBALS_PROGRAM)
    assert spec is not None and spec.loader is not None
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    return program


SCENARIOS: Dict[str, Callable[[], None]] = {
    "small": small, "web": web, "deep": deep, "bigdata": bigdata, "hostile": hostile,
    "biglobals": biglobals,
}

# Bytes a scenario's dumps write, about: measure.py readies that much page cache first.
WRITES: Dict[str, int] = {"bigdata": BIG_FLOATS * 8 + (64 << 20)}

# Locals a complete dump may only hold as placeholders: they cannot be restored.
EXPECTED_PLACEHOLDERS: Dict[str, FrozenSet[str]] = {
    "hostile": frozenset({"lock", "sock", "gen", "bad_reduce"}),
}


class Unfingerprintable(Exception):
    """A value with no meaningful summary (a lock, a socket): checked by name instead."""


def fingerprint(obj: Any) -> str:
    """A digest of the value's full content; equal for a value and its faithful copy."""
    h = hashlib.sha256()
    _feed(h, obj, set())
    return h.hexdigest()[:24]


_SCALARS = (int, float, complex, bool, str, type(None), datetime.date, datetime.time,
            datetime.timedelta, datetime.timezone)


def _feed(h: Any, obj: Any, active: Set[int]) -> None:
    t = type(obj)
    h.update(("<%s.%s>" % (t.__module__, t.__qualname__)).encode())
    if isinstance(obj, _SCALARS):
        h.update(repr(obj).encode())
    elif isinstance(obj, (bytes, bytearray)):
        h.update(obj)
    elif isinstance(obj, (types.FunctionType, type)):
        h.update(obj.__qualname__.encode())
    elif t.__module__ == "numpy" and t.__name__ == "ndarray":
        h.update(repr((obj.shape, str(obj.dtype))).encode())
        h.update(memoryview(obj).cast("B"))
    elif id(obj) in active:
        h.update(b"<cycle>")
    elif isinstance(obj, (list, tuple, dict)) or hasattr(obj, "__dict__"):
        active.add(id(obj))
        if isinstance(obj, (list, tuple)):
            h.update(b"%d" % len(obj))
            for item in obj:
                _feed(h, item, active)
        else:
            items = obj if isinstance(obj, dict) else vars(obj)
            h.update(b"%d" % len(items))
            for key, value in items.items():
                _feed(h, key, active)
                _feed(h, value, active)
        active.discard(id(obj))
    else:
        raise Unfingerprintable(t.__qualname__)


def fingerprint_or_none(obj: Any) -> Optional[str]:
    try:
        return fingerprint(obj)
    except Unfingerprintable:
        return None
