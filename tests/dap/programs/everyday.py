"""Values a program meets every day, from the standard library and the language itself: paths,
times, enums, dataclasses, records, the collections types, buffers, classes and their
descriptors, modules, typing objects, addresses, namespaces, slotted objects, a long text and
raw bytes; decimal contexts, ctypes, mmap, sqlite3, hashes, files and buffers, queues, thread
and context-variable objects, iterators, weak collections, struct, XML, email, csv, generators
and coroutines, tracebacks, frames and code, a chained exception with notes, an abstract class:
VS Code shows them the same, live under debugpy or replayed from a dump."""
import abc
import collections
import contextvars
import csv
import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import io
import ipaddress
import itertools
import json
import mmap
import pathlib
import queue
import random
import sqlite3
import struct
import tempfile
import threading
import types
import weakref
import zoneinfo
from ctypes import Structure, c_double, c_int
from email.message import Message
from sys import _getframe as current_frame
from xml.etree.ElementTree import Element
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


class Pair(Structure):
    _fields_ = [("x", c_int), ("y", c_double)]


class Shape(abc.ABC):
    @abc.abstractmethod
    def area(self):
        ...


class Square(Shape):
    def area(self):
        return 4


@functools.lru_cache(maxsize=8)
def doubled(n):
    return n * 2


def counter():
    yield 1


async def job():
    return 1


async def ticks():
    yield 1


request = contextvars.ContextVar("request", default="none")


def failed():
    """A caught error kept as a value, as a batch keeps its failures: chained and annotated."""
    try:
        try:
            raise ValueError("inner")
        except ValueError as exc:
            raise KeyError("outer") from exc
    except KeyError as outer:
        outer.add_note("while loading row 3")
        return outer


def stdlib_objects():
    context = decimal.getcontext()
    number, pair = c_int(42), Pair(1, 2.5)
    mapped = mmap.mmap(-1, 16)
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    cursor = db.execute("select 1 as one, 'a' as letter")
    row = cursor.fetchone()
    digest, rng = hashlib.sha256(b"abc"), random.Random(7)
    text_buffer, byte_buffer = io.StringIO("hello"), io.BytesIO(b"bytes")
    spooled = tempfile.SpooledTemporaryFile(max_size=64)
    opened = open(__file__, encoding="utf-8")
    jobs = queue.Queue()
    jobs.put("task")
    event, lock, rlock, slots = threading.Event(), threading.Lock(), threading.RLock(), threading.Semaphore(2)
    per_thread = threading.local()
    per_thread.user = "ada"
    var, var_context = request, contextvars.copy_context()
    ticker, joined, grouped = itertools.count(5), itertools.chain([1], [2]), itertools.groupby("aab")
    cached_function = doubled
    target = Node()
    weak_set, weak_keys, weak = weakref.WeakSet([target]), weakref.WeakKeyDictionary({target: 1}), weakref.ref(target)
    layout = struct.Struct("<ih")
    element = Element("item", id="7")
    element.text = "body"
    mail = Message()
    mail["Subject"] = "hi"
    reader, writer = csv.reader(io.StringIO("a,b\n")), csv.writer(io.StringIO())
    generator, coroutine, async_generator = counter(), job(), ticks()
    coroutine.close()
    failure = failed()
    trace, frame, code = failure.__traceback__, current_frame(), failed.__code__
    bound = target.__init__
    getter = property(lambda self: 1)
    square, abstract = Square(), Shape
    return check([])


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


stdlib_objects()
