"""Values a program meets every day, from the standard library and the language itself: paths,
times, enums, dataclasses, records, the collections types, buffers, classes and their
descriptors, modules, typing objects, addresses, namespaces, slotted objects, a long text and
raw bytes: VS Code shows them the same, live under debugpy or replayed from a dump."""
import collections
import dataclasses
import datetime
import enum
import functools
import ipaddress
import json
import pathlib
import types
import weakref
import zoneinfo
from typing import List, NamedTuple, Optional, TypedDict


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Perm(enum.Flag):
    READ = 1
    WRITE = 2


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclasses.dataclass(slots=True)
class Slotted:
    name: str
    size: int = 0


Address = collections.namedtuple("Address", "host port")


class Span(NamedTuple):
    start: int
    stop: int


class Movie(TypedDict):
    title: str
    year: int


class Meta(type):
    pass


class Plugin(metaclass=Meta):
    kind = "plugin"

    @property
    def label(self):
        return self.kind

    @functools.cached_property
    def slug(self):
        return self.kind.lower()

    @staticmethod
    def make():
        return Plugin()

    @classmethod
    def named(cls):
        return cls()

    renamed = functools.partialmethod(setattr, "kind")


class Compact:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = 1
        self.b = "two"


class Mixed:
    __slots__ = ("fixed", "__dict__")

    def __init__(self):
        self.fixed = 1
        self.extra = "free"


class Node:
    pass


def check(rows):
    home = pathlib.Path("/srv/app/data.csv")
    pure = pathlib.PureWindowsPath("C:/Users/ada/notes.txt")
    when = datetime.datetime(2024, 3, 1, 12, 30, 5, 250, tzinfo=datetime.timezone.utc)
    local = datetime.datetime(2024, 3, 1, 12, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    day = datetime.date(2024, 2, 29)
    moment = datetime.time(23, 59, 1)
    wait = datetime.timedelta(days=2, seconds=5)
    offset = datetime.timezone(datetime.timedelta(hours=-5), "EST")
    color, level, perm = Color.RED, Level.HIGH, Perm.READ | Perm.WRITE
    point, slotted = Point(1, 2), Slotted("box", 3)
    address, span, movie = Address("db", 5432), Span(1, 9), Movie(title="Heat", year=1995)
    ordered = collections.OrderedDict(b=2, a=1)
    defaults = collections.defaultdict(list, k=[1])
    chain = collections.ChainMap({"a": 1}, {"b": 2})
    buffer = bytearray(b"ab\x00")
    view = memoryview(b"abc")
    cut = slice(1, 10, 2)
    node = Node()
    caches = [weakref.WeakValueDictionary({"n": node})]  # its own children hold a closure no dump restores
    prop, static, klass, partial_method, cached = (Plugin.__dict__[name]
                                                   for name in ("label", "make", "named", "renamed", "slug"))
    plugin_class, meta = Plugin, Meta
    module = json
    error = KeyError("missing")
    hint, maybe = List[int], Optional[str]
    ip, net = ipaddress.ip_address("10.0.0.1"), ipaddress.ip_network("10.0.0.0/24")
    ip6 = ipaddress.IPv6Address("::1")
    space = types.SimpleNamespace(a=1, b="x")
    frozen = types.MappingProxyType({"k": 1})
    compact, mixed = Compact(), Mixed()
    text = "lorem ipsum " * 9000  # past what a preview keeps
    raw = bytes(range(0, 256, 15)) * 400
    dots, unsupported = ..., NotImplemented
    return rows[0]


check([])
