"""The object layer's write side: every captured value pickled as its own record,
streamed into the dump within its byte and time budgets.

One C pickler (plain data at C speed) streams every captured value as its own
record into the dump; the pickler's memo is shared across records, so an object
reached from two frames is one object after loading.  A record that fails or
blocks is taken back whole, so the records around it still load.  How each
object inside a record pickles (by reference, through dill, as a placeholder,
with secrets replaced) is decided by ``tbdump.reduction``.  The read side is
``tbdump.objects``.
"""
from __future__ import annotations

import collections
import itertools
import operator
import pickle
from typing import Any, BinaryIO, Callable, Iterable, Optional, Set, Tuple

from . import native, unpatched
from .budget import BudgetExceeded, Clock, cut_while, was_interrupted
from .model import not_captured
from .objindex import ENTRY
from .redaction import Redaction
from .reduction import PROTOCOL, ReducePolicy
from .saferepr import describe_exception


# A C-level callable that returns None for anything: "no persistent id" without
# a Python call per pickled object.
_NO_PID: Callable[[Any], None] = collections.deque(maxlen=0).append


class ByteBudgetExceeded(Exception):
    """The object layer reached its byte budget."""


class RecordSink:
    """The file the pickler writes to: counts bytes, enforces the byte budget, and
    gathers small records into large writes (a 900-frame stack is thousands of records).

    Thread-safe and closable, so that a pickler abandoned while blocked in a
    thread can never write into the file afterwards.
    """

    BUFFER = 1 << 16

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self.raw = raw
        self.limit = limit
        self.start = raw.tell()
        self.size = 0          # bytes written so far, buffered or not
        self.closed = False
        self._flushed = 0      # of which already in the file
        self._buffer = bytearray()
        # Reentrant: an alarm's BudgetExceeded landing between acquire and the with
        # block must not leave the capturing thread locked out of its own sink.  An OS
        # lock, as the worker thread that may write here is one (tbdump.native).
        self._lock = native.RLock()
        # RecordWriter's clock, whose cut (stopped_by) is read at each write: the one place plain
        # data pickling in C comes back to Python, as a Ctrl-C's handler lands there.
        self.clock: Optional[Clock] = None

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes  # bytes, memoryview, or a protocol-5 PickleBuffer
        if self.clock is not None and self.clock.stopped_by is not None:
            raise BudgetExceeded(self.clock.why_cut)  # the main thread's crash: a big list is not waited out
        with self._lock:
            if self.closed:
                raise ByteBudgetExceeded("the object member is closed")
            if self.size + n > self.limit:
                raise ByteBudgetExceeded("byte budget of %d bytes" % self.limit)
            if n >= self.BUFFER:
                self._flush()
                self._emit(data)
                self._flushed += n
            else:
                self._buffer += data
                if len(self._buffer) >= self.BUFFER:
                    self._flush()
            self.size += n
        return n

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._emit(self._buffer)
            self._flushed += len(self._buffer)
            self._buffer = bytearray()

    def _emit(self, data: Any) -> None:
        self.raw.write(data)

    def rollback(self, size: int) -> None:
        """Take back everything written after ``size``."""
        with self._lock:
            self._rollback(size)

    def close_at(self, size: int) -> None:
        """End the member at ``size``: later writes fail, whichever thread makes them."""
        with self._lock:
            self.closed = True
            self._rollback(size)
            self._flush()

    def _rollback(self, size: int) -> None:
        if size >= self._flushed:
            del self._buffer[size - self._flushed:]
        else:
            self._buffer = bytearray()
            self.raw.seek(self.start + size)
            self.raw.truncate()
            self._flushed = size
            self._rewound()
        self.size = size

    def _rewound(self) -> None:
        """Bytes already in the file were taken back."""


class _CPickler(pickle.Pickler):
    def __init__(self, file: Any, policy: ReducePolicy) -> None:
        super().__init__(file, PROTOCOL)
        self.reducer_override = policy.reduce  # type: ignore[method-assign]


# Below this a record is quicker to reach in order than to open by itself.
ALONE_MIN_BYTES = 1 << 16
# Values whose record holds exactly one memo entry (the value) and refers to no
# other: numbers are never memoized, and strings and bytes are one entry.
_ALONE_ITEMS = frozenset((int, float, bool, type(None)))
# Values whose pickling calls no Python code (the C pickler saves them itself).
_PLAIN_DATA = _ALONE_ITEMS | {str, bytes}


def item_types(obj: Any) -> Tuple[Optional[Set[type]], Optional[Set[type]]]:
    """The types of the items (keys and values) of an exact list, tuple, set, frozenset or
    dict, in one C-speed pass, and those of a dict's values alone, which the redaction
    check reads too (a second pass over a 1000-entry dict's values was 1% of a capture);
    None for anything else."""
    t = type(obj)
    if t in (list, tuple, set, frozenset):
        return set(map(type, obj)) if len(obj) < _RUNS_FROM else _types(obj), None
    if t is dict:
        if len(obj) < _RUNS_FROM:
            values = set(map(type, obj.values()))
            return set(map(type, obj)) | values, values
        values = _types(obj.values())
        return _types(obj) | values, values
    return None, None


# Containers this long are read run by run (_types); at most this many runs.
_RUNS_FROM = 256
_MAX_RUNS = 64
_RUN_TYPE = operator.itemgetter(0)


def _types(items: Iterable[Any]) -> Set[type]:
    """The types of a long container's ``items`` (read again if need be), read run by run:
    groupby calls type() on each item and compares it with the one before, in C, so a list
    of a million ints, one run, costs some 60% of set(map(type, ...)), which hashes every
    item's type into the set.  Items whose type changes more often are read that way."""
    runs = list(itertools.islice(map(_RUN_TYPE, itertools.groupby(items, type)), _MAX_RUNS))
    return set(runs) if len(runs) < _MAX_RUNS else set(map(type, items))


def _loads_alone(obj: Any, items: Optional[Set[type]]) -> bool:
    """Whether the record just written for ``obj`` needs nothing from the records before it.

    A value met before (inside an earlier record) is written as a memo
    reference instead, which the record's size (ALONE_MIN_BYTES) rules out.
    """
    t = type(obj)
    if t in (str, bytes, bytearray):
        return True
    return t in (list, tuple, set, frozenset) and items is not None and len(obj) > 0 and items <= _ALONE_ITEMS


class RecordWriter:
    """Streams records into the object member; returns record numbers or why a value failed."""

    def __init__(self, sink: RecordSink, redaction: Redaction, clock: Clock) -> None:
        self.sink = sink
        sink.clock = clock
        self.policy = ReducePolicy(redaction, clock, in_dill=False)
        self.clock = clock
        self.pickler = _CPickler(sink, self.policy)
        self._pid = self.policy.persistent_id
        self._pid_set: Optional[Callable[[Any], Any]] = None  # what the pickler calls per object
        # The object index, packed as records are made (objindex.ENTRY: offset, length,
        # fresh, alone): a tuple of four ints a record, held to the end, was 17 MB of a
        # 120 000-global capture.  Fresh records start with an empty memo; alone ones can
        # also be unpickled by themselves (see _loads_alone).
        self.index = bytearray()
        self.records = 0
        self._fresh = 1

    def _persistent_ids(self, on: bool) -> None:
        """Redaction's persistent ids for the next records, or none (``add`` calls it when
        that changes).

        A C pickler calls its persistent_id for every object it saves, even one that
        returns None in C (_NO_PID): a million ints took half as long again to pickle.  So
        the pickler has none until a record needs them and, where Python lets it go (3.13
        on), none again after.
        """
        if on:
            self.pickler.persistent_id = self._pid  # type: ignore[method-assign]
            self._pid_set = self._pid
        else:
            try:
                del self.pickler.persistent_id
                self._pid_set = None
            except (AttributeError, TypeError):  # "attribute deletion is not supported"
                self.pickler.persistent_id = _NO_PID  # type: ignore[method-assign]
                self._pid_set = _NO_PID

    def add(self, obj: Any) -> Tuple[Optional[int], Optional[str]]:
        """Pickle one value as a record: (record number, None), (record number, reason) when
        the value itself became a placeholder in it, or (None, reason) when nothing was written."""
        if self.clock.expired:
            return None, not_captured(self.clock.why_cut)
        if self.sink.closed:
            return None, not_captured("pickling an earlier value blocked, so no later value is pickled")
        start = self.sink.size
        t = type(obj)
        try:
            self.clock.pickling = True  # Ctrl-C may end the record anywhere here: it is rolled back
            try:
                items, values = (None, None) if t in _PLAIN_DATA else item_types(obj)
                hides = self.policy.may_hide_secrets(obj, items, values)
                if hides != (self._pid_set is self._pid):
                    self._persistent_ids(hides)
                plain = not hides and (t in _PLAIN_DATA or (items is not None and items <= _PLAIN_DATA))
                if plain:
                    self.pickler.dump(obj)  # no Python code runs while plain data pickles: no clock
                else:
                    # Without the alarm (outside the main thread), a record that blocks is given
                    # up on, leaving the other half of the time to the values after it.
                    self.clock.run_isolated(lambda: unpatched.with_own_import(self.pickler.dump, obj),
                                            seconds=max(self.clock.value_seconds, self.clock.remaining() / 2),
                                            on_abandon=lambda: self.sink.close_at(start))
            finally:
                self.clock.pickling = False
        except BaseException as exc:
            if self.sink.closed:  # given up on where it blocked: by its time, or the main thread's crash
                if isinstance(exc, BudgetExceeded) and was_interrupted(exc):
                    return None, cut_while(exc, "pickling it")
                return None, not_captured("pickling it blocked past its time budget")
            self.sink.rollback(start)
            # Memo entries made during the failed record point at bytes that are gone.
            self.pickler.clear_memo()
            self._fresh = 1
            if isinstance(exc, BudgetExceeded):
                return None, cut_while(exc, "pickling it")
            if isinstance(exc, ByteBudgetExceeded):
                return None, not_captured(str(exc))
            if isinstance(exc, RecursionError):
                return None, not_captured("nested too deeply to pickle")
            return None, not_captured(describe_exception(exc))
        length = self.sink.size - start
        # Not with redaction at work: its persistent ids are memo entries of their own.
        alone = int(length >= ALONE_MIN_BYTES and not hides and _loads_alone(obj, items))
        self.index += ENTRY.pack(start, length, self._fresh, alone)
        self._fresh = 0
        self.records += 1
        # The C pickler saves plain data without asking the reduction hooks that make placeholders.
        return self.records - 1, None if plain else self.policy.missing(obj)
