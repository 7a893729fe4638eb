"""Reading the safe layer's JSON: every field checked once, as it is read, and a bad one named.

The safe layer comes from a file that may be damaged, or crafted with valid
checksums.  The readers here check each field against docs/FORMAT.md and raise
``BadField`` saying what is wrong; every record and list it sits in adds its step
on the way out, so ``tbdump.load`` names the field in its one line
(``frames[3].vars['x'].t: expected a string, found an integer``).  The model
(``tbdump.model``) reads every field through them, so viewers can trust its
types and never check them again.
"""
from __future__ import annotations

import contextlib
import gc
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, TypeVar

from .termtext import printable

T = TypeVar("T")

MISSING: Any = object()   # a field's default when it must be present


class BadField(ValueError):
    """A field of the safe layer that is not what the format says; ``str()`` names it."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.steps: List[str] = []   # from the field out to the layer's top

    def within(self, step: str) -> "BadField":
        """The same error, one record further out (``.frames``, ``[3]``, ``['x']``)."""
        self.steps.append(step)
        return self

    @property
    def field(self) -> str:
        path = "".join(reversed(self.steps)).lstrip(".")
        # A value nested hundreds deep has a path of thousands of characters: its ends tell.
        return path if len(path) <= 160 else path[:60] + "..." + path[-90:]

    def __str__(self) -> str:
        return "%s: %s" % (self.field, self.problem) if self.steps else self.problem


class Kind(NamedTuple):
    """What a scalar field must be: a test, and its name for the message."""

    test: Callable[[Any], bool]
    name: str
    ranged: bool = False   # an integer in a range: a bad integer is "out of range"


_C_INT = 1 << 31
_SIZE = 1 << 63    # len() is a C ssize_t: no count is larger


def is_line(value: Any) -> bool:
    """A line or column number as Python's own are, a C int: a crafted 10**100 would have
    viewers build tables or loop that far (3.9's co_lnotab, say)."""
    return type(value) is int and -_C_INT <= value < _C_INT


def is_count(value: Any) -> bool:
    """A len(), an index or a number of items: 0 to a C ssize_t's largest."""
    return type(value) is int and 0 <= value < _SIZE


TEXT = Kind(lambda v: type(v) is str, "a string")
TEXT_OR_NULL = Kind(lambda v: v is None or type(v) is str, "a string or null")
INT = Kind(lambda v: type(v) is int, "an integer")
INT_OR_NULL = Kind(lambda v: v is None or type(v) is int, "an integer or null")
INDEX_OR_NULL = Kind(lambda v: v is None or is_count(v), "an index or null", True)
LINE = Kind(is_line, "a line or column number (-2**31 to 2**31-1)", True)
LINE_OR_NULL = Kind(lambda v: v is None or is_line(v), "a line or column number (-2**31 to 2**31-1) or null", True)
COUNT = Kind(is_count, "a count (0 to 2**63-1)", True)
COUNT_OR_NULL = Kind(lambda v: v is None or is_count(v), "a count (0 to 2**63-1) or null", True)
BOOL = Kind(lambda v: type(v) is bool, "true or false")
# Flags are written as 1 (frames, values) or as true/false (exceptions, threads).
FLAG = Kind(lambda v: type(v) in (bool, int) and v in (0, 1), "true, false, 0 or 1", True)
OBJECT = Kind(lambda v: type(v) is dict, "an object")
LIST = Kind(lambda v: type(v) is list, "a list")
INTS = Kind(lambda v: type(v) is list and all(type(i) is int for i in v), "a list of integers")
COUNTS = Kind(lambda v: type(v) is list and all(map(is_count, v)), "a list of counts")
TEXTS = Kind(lambda v: type(v) is list and all(type(t) is str for t in v), "a list of strings")


def found(value: Any) -> str:
    """What a JSON value is, for a message (never the value itself: it may be huge, or hostile)."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def wrong(d: Dict[str, Any], key: str, kind: Kind) -> BadField:
    """The error for field ``key`` of record ``d``, which is not of ``kind``."""
    value = d.get(key, MISSING)
    if value is MISSING:
        return BadField("missing").within("." + key)
    return mismatch(kind, value).within("." + key)


def mismatch(kind: Kind, value: Any) -> BadField:
    """The error for ``value``, which is not of ``kind``."""
    what = found(value)
    if kind.ranged and type(value) is int:
        what = "one out of range"   # the type is right, not its size
    return BadField("expected %s, found %s" % (kind.name, what))


def record(d: Any) -> Dict[str, Any]:
    """``d``, checked to be a JSON object (every record of the layer is one)."""
    if type(d) is not dict:
        raise mismatch(OBJECT, d)
    return d


def field(d: Dict[str, Any], key: str, kind: Kind, default: Any = MISSING) -> Any:
    """Scalar field ``key`` of record ``d``, of ``kind``; ``default`` when absent (if it may be)."""
    if key not in d:
        if default is MISSING:
            raise wrong(d, key, kind)
        return default
    value = d[key]
    if not kind.test(value):
        raise wrong(d, key, kind)
    return value


def of_kind(kind: Kind) -> Callable[[Any], Any]:
    """A reader of a value that must be of ``kind`` (an item of a list, a value by name)."""
    def read(value: Any) -> Any:
        if not kind.test(value):
            raise mismatch(kind, value)
        return value
    return read


def member(d: Dict[str, Any], key: str, read: Callable[[Any], T], default: Any = MISSING) -> T:
    """Field ``key`` of record ``d`` read by ``read`` (a record, or a list of them);
    ``default`` when it is absent or null, if it may be."""
    value = d.get(key)
    if value is None and default is not MISSING:
        return default
    if key not in d:
        raise BadField("missing").within("." + key)
    try:
        return read(value)
    except BadField as exc:
        raise exc.within("." + key)


def items(values: Any, read: Callable[[Any], T]) -> List[T]:
    """A JSON list, each item read by ``read``; a bad one is named by its index."""
    if type(values) is not list:
        raise mismatch(LIST, values)
    out: List[T] = []
    try:
        for value in values:
            out.append(read(value))
    except BadField as exc:
        raise exc.within("[%d]" % len(out))
    return out


def named(values: Any, read: Callable[[Any], T]) -> Dict[str, T]:
    """A JSON object, each value read by ``read``; a bad one is named by its key."""
    out: Dict[str, T] = {}
    name = ""
    try:
        for name, value in record(values).items():
            out[name] = read(value)
    except BadField as exc:
        raise exc.within("[%s]" % key_text(name))
    return out


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a layer is parsed and built: every list and
    dict json makes, and every Value, counts towards its thresholds, and it went over all of
    them again and again (an object index of 120 000 entries parsed in 3 times the time)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def key_text(name: str) -> str:
    """A key of the dump's in a message: quoted, cut, and escaped (it is the file's text)."""
    return printable(repr(name if len(name) <= 40 else name[:37] + "..."))
