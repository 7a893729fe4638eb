"""The variable tree: variablesReference handles over safe-layer previews and, when loaded, live objects.

Rows are named, valued, typed and grouped as debugpy shows them (see
tbdump.preview); containers with more than PAGE indexed children are paged
with `indexedVariables` instead of debugpy's "more" buckets.  Whatever a loaded
object's own code does (``__len__``, ``__getitem__``, ``__repr__`` ...), a request
reads the page it answers and no more, under a ViewClock.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from types import FrameType
from typing import Any, Callable, Dict, Hashable, Iterable, List, Optional, Tuple, TypeVar

from tbdump import preview, unpatched
from tbdump.budget import BudgetExceeded, Budgets, Clock, Job
from tbdump.fields import collector_paused
from tbdump.heldsignals import deliver
from tbdump.model import (FUNCTION_TYPES, GROUP_CLASS, GROUP_FUNCTION, GROUP_SPECIAL, Value, not_captured,
                          reason_not_captured)
from tbdump.placeholder import Placeholder, captured_preview, is_placeholder
from tbdump.saferepr import describe_exception

from .messaging import page

PAGE = 100  # VS Code asks for indexed children 100 at a time
# A client that does not page gets a container's first PAGE items and a "more" row
# holding the rest in ranges of BUCKET (or BUCKET**2, ...) items, as debugpy lays them out.
BUCKET = 1000
LEN_NAME = preview.LEN_NAME
# The rows a preview makes up about a container's items (their access None).
SUMMARY_NAMES = frozenset((LEN_NAME, preview.ARRAY_MIN, preview.ARRAY_MAX))
GROUP_LABELS = {GROUP_SPECIAL: "special variables", GROUP_FUNCTION: "function variables",
                GROUP_CLASS: "class variables"}
GROUP_ORDER = (GROUP_SPECIAL, GROUP_FUNCTION, GROUP_CLASS)
BUILTIN_CONTAINERS = {"list", "tuple", "dict", "set", "frozenset"}
PAGED_TYPES = BUILTIN_CONTAINERS | {"numpy.ndarray"}
# The exact builtins whose dunders and methods only the loaded object shows (_type_rows), by
# qualified name: the containers, and the leaves debugpy opens on them alone (no items).
LEAVES_WITH_TYPE_ROWS = frozenset(preview.class_qualname(t) for t in preview.LEAVES_WITH_TYPE_ROWS)
TYPE_ROW_TYPES = BUILTIN_CONTAINERS | LEAVES_WITH_TYPE_ROWS
# What debugpy groups as a function besides FUNCTION_TYPES: the method descriptors a class body
# or a decorator makes (inspect.isroutine), by qualified name.
ROUTINE_DESCRIPTORS = frozenset({"staticmethod", "classmethod", "functools.partialmethod",
                                 "functools.cached_property", "functools._lru_cache_wrapper"})
# How a class's repr starts, the class an Enum or a Flag included.
CLASS_REPRS = ("<class '", "<enum '", "<flag '")
RAW_STRING_TYPES = {"str", "bytes", "bytearray"}
LONG_TEXT = 1024  # a str or bytes preview longer than this may have been cut at capture


class Unavailable(Exception):
    """The live object cannot be had; the text says why (safe mode, not captured, failed to load)."""


# Gives the live object behind a row, or raises Unavailable.
LiveGetter = Callable[[], Any]
T = TypeVar("T")


class ViewClock:
    """Bounds the program's own code that showing a loaded value runs (its ``__repr__``,
    ``__len__``, ``__iter__``, ``__getitem__``, properties) with capture's clock and budgets:
    ``value_seconds`` a step, ``max_seconds`` the steps of one request together.

    Only the steps are timed, never the unpickling around them (cut short, it would lose
    the values after it) nor code evaluated in the console (the user stops that).  A step
    also ends when the client cancels the request (``cancelled``), and the request's later
    steps are refused.
    """

    def __init__(self, budgets: Budgets, request_number: Callable[[], int],
                 cancelled: Callable[[], bool] = lambda: False) -> None:
        self.budgets = budgets
        self._request_number = request_number
        self._cancelled = cancelled
        self._clock: Optional[Clock] = None
        self._clock_for = -1  # the request whose steps the clock times
        self._armed = False

    def run(self, fn: Callable[[], T], doing: str) -> T:
        """``fn()``, or Unavailable saying what ``doing`` met: an error, or no return in time."""
        if self._clock is None or self._clock_for != self._request_number():
            # A request's time starts at its first step: after the code it evaluates, if any.
            self._clock, self._clock_for = _RequestClock(self.budgets, self._cancelled), self._request_number()
        clock = self._clock
        outer = not self._armed
        if outer:
            clock.start()
            self._armed = True
        try:
            return clock.run(fn)
        except BudgetExceeded:
            if clock.stopped_by:
                why = "interrupted (%s)" % clock.stopped_by
            elif self._cancelled():
                why = "the request was cancelled"
            elif clock.expired:
                why = "this request already ran the program's code for %g s (TBDUMP_MAX_SECONDS)" % (
                    self.budgets.max_seconds)
            else:
                why = "%s ran the program's code for over %g s (TBDUMP_VALUE_SECONDS)" % (
                    doing, self.budgets.value_seconds)
            raise Unavailable(why) from None
        except BaseException as exc:  # the program's code raises anything, SystemExit included
            raise Unavailable("%s raised %s" % (doing, describe_exception(exc))) from None
        finally:
            if outer:
                self._armed = False
                clock.stop()
                deliver(clock.arrived)  # the signals the clock held from tbdap (Ctrl-C): passed on

    def describe(self, obj: Any, hex_ints: bool = False) -> Value:
        """preview.describe of a loaded object; a placeholder saying why when its code fails."""
        if is_placeholder(obj):
            return placeholder_value(obj)
        captured = captured_preview(obj)
        if captured is not None:
            # A value of a class missing here, as the frame's own is shown (from its preview); its rows
            # are the stand-in's attributes, what its pickle gave it.
            return replace(captured, children=None, ref=None, expandable=True)
        if preview.is_scalar(obj):  # most rows, and they run no code of the program's: no clock to arm
            return preview.describe(obj, hex_ints)
        try:
            return self.run(lambda: preview.describe(obj, hex_ints), "describing it")
        except Unavailable as exc:
            value = preview.missing(obj, "not shown: %s" % exc)
            value.expandable = True  # its items or attributes may still be read
            return value


class _RequestClock(Clock):
    """Capture's clock, whose steps also end when the client cancels the request they serve
    (checked at each of the clock's ticks: the step ends within 50 ms)."""

    def __init__(self, budgets: Budgets, cancelled: Callable[[], bool]) -> None:
        super().__init__(budgets)
        self._cancelled = cancelled

    def check(self) -> None:
        if self._cancelled():
            raise BudgetExceeded("cancelled")
        super().check()

    def _on_alarm(self, signum: int, frame: Optional[FrameType]) -> None:
        if self._step_deadline is not None and self._cancelled():
            raise BudgetExceeded("cancelled")
        super()._on_alarm(signum, frame)


@dataclass
class Row:
    """One line of the VARIABLES view, before it is turned into a DAP Variable."""

    name: str
    value: Value
    evaluate_name: Optional[str] = None
    live: Optional[LiveGetter] = None      # how to reach the real object (None: no way)
    obj: Any = None                        # the real object when the row was built from it
    has_obj: bool = False
    group: Optional[str] = None
    access: Optional[str] = None           # expression suffix from the parent ("[0]", ".x")
    read_only: bool = False
    children: Optional[List["Row"]] = None  # fixed children (groups, synthetic values)
    items: Optional[Tuple["Row", int, int]] = None  # a "more" row: that container's items [start, stop)


def placeholder_value(obj: Placeholder) -> Value:
    """A value the dump could not hold, met inside a restored one (a Queue's lock, a closure
    dill cannot pickle): shown as it was, as a frame's own is from its preview, with why it
    is missing, not as the placeholder object standing in for it."""
    recorded = obj.value
    if recorded is not None:
        return replace(recorded, missing=recorded.missing or obj.reason)
    return Value(type=obj.type, repr=obj.preview, missing=obj.reason, expandable=True)


def scope_group(name: str, value: Value) -> Optional[str]:
    """The group debugpy puts a frame variable in (protected names stay inline, as there)."""
    if name.startswith("__") and name.endswith("__"):
        return GROUP_SPECIAL
    if name.startswith("_") or name.endswith("__"):
        return None
    if value.type in FUNCTION_TYPES or value.qualtype in FUNCTION_TYPES or value.qualtype in ROUTINE_DESCRIPTORS:
        return GROUP_FUNCTION
    if value.repr.startswith(CLASS_REPRS):
        return GROUP_CLASS
    return None


def join_access(parent: Optional[str], name: str, access: Optional[str]) -> Optional[str]:
    if parent is None:
        return None
    if name == LEN_NAME:
        return "len(%s)" % parent
    return parent + access if access else None


class Objects:
    """How the tree reaches live objects: whether it may, why not, and how to resolve a preview.

    Restoring an object runs the program's code (a ``__setstate__``, a ``__reduce__``
    callable) that may never return: one reconnecting to a host that is gone.  It runs
    in a helper thread, waited for while the program's code has run ``seconds`` at most;
    cut short, it would lose the values restored after it (they share its pickle memo),
    so it goes on there, and while it does only the values restored already are had.
    """

    def __init__(self, allowed: bool, reason: Optional[str], resolve: Callable[[Value], Any],
                 restored: Callable[[Value], bool] = lambda value: True,
                 read: Callable[[], int] = lambda: 0, seconds: float = 0.0) -> None:
        self.allowed = allowed
        self.reason = reason or "objects are not loaded"
        self._resolve = resolve
        self._restored = restored   # whether resolving a value runs nothing and waits for nothing
        self._read = read           # how far restoring has read the dump (Dump.restoring_read)
        self.seconds = seconds
        self._restoring: Optional[Job] = None  # a restore given up on, which may still end
        self.changes = 0  # how often the replay was changed: what was built before a change is stale

    @property
    def changed(self) -> bool:
        """Whether the replay was changed: previews may then be stale."""
        return self.changes > 0

    def mark_changed(self) -> None:
        """Count a change of the replay: each counts, not only the first, as a scope's rows
        built before it are stale."""
        self.changes += 1

    def resolve(self, value: Value) -> Any:
        if not self.allowed:
            raise Unavailable(self.reason)
        if value.missing or value.redacted:
            raise Unavailable(value.missing or "redacted (%s)" % value.redacted)
        if value.ref is None:
            raise Unavailable("the value has no object in the dump")
        obj = self._restore(value)
        if is_placeholder(obj):  # a lock's stand-in too: shown as the lock was
            raise Unavailable(obj.reason)
        return obj

    def _restore(self, value: Value) -> Any:
        if self._restored(value):
            return self._resolve(value)
        stuck = ("not restored: restoring it, or a value the dump holds before it, ran the program's code "
                 "(a __setstate__ or __reduce__) for over %g s (TBDUMP_MAX_SECONDS)" % self.seconds)
        if self._restoring is not None and not self._restoring.finished:
            raise Unavailable(stuck)
        job = Job(lambda: self._resolve(value)).start()
        if not self._waited(job):
            self._restoring = job
            raise Unavailable(stuck)
        return job.result(0)

    def _waited(self, job: Job) -> bool:
        """Whether the restoring ``job`` ended before it stood ``seconds`` without reading the dump.

        Only that time is the program's code: unpickling plain data reads on, however long
        a loaded machine takes over a million items, and is no code of the program's to cut
        short.  Plain data is read a frame (64 KiB) at a time, so many small values whose
        own code is slow stand still too; a tick that read anything counts for nothing.
        """
        stood, read = 0.0, self._read()
        while stood < self.seconds:
            began = unpatched.monotonic()
            if job.wait(min(Clock.TICK, self.seconds - stood)):
                return True
            now = self._read()
            if now == read:
                stood += unpatched.monotonic() - began
            read = now
        return job.finished


class VariableTree:
    """variablesReference handles for one session; a row keeps its handle while the session lasts."""

    def __init__(self, objects: Objects, clock: ViewClock) -> None:
        self.objects = objects
        self.clock = clock
        self._rows: Dict[int, Row] = {}
        self._handles: Dict[Hashable, int] = {}
        self._next = 1

    # -- handles --------------------------------------------------------------

    def handle(self, row: Row, parent: int = 0, slot: Optional[Hashable] = None) -> int:
        """The reference of an expandable row (0 for a leaf).

        A replay never resumes, so no stop ever frees a reference, and a session open for
        hours asks for the same scopes, watches and hovers thousands of times: a child row
        keeps the reference of its parent's and its name, and a top-level row the one of its
        ``slot`` (a frame's scope, an expression in a frame and context), its row brought up
        to date. Only a row with neither, a console output, which the console keeps showing
        as it was, gets a new one each time.
        """
        if not self._expandable(row):
            return 0
        key = (parent, row.name) if parent else slot
        if key is not None and key in self._handles:
            ref = self._handles[key]
            self._rows[ref] = row
            return ref
        ref = self._next
        self._next += 1
        self._rows[ref] = row
        if key is not None:
            self._handles[key] = ref
        return ref

    def row(self, ref: int) -> Optional[Row]:
        return self._rows.get(ref)

    def _expandable(self, row: Row) -> bool:
        if row.children is not None or row.items is not None:
            return True
        value = row.value
        return (value.expandable or bool(value.children)
                or (value.qualtype in LEAVES_WITH_TYPE_ROWS and not value.placeholder and self.objects.allowed))

    # -- rendering ------------------------------------------------------------

    def variable(self, row: Row, parent: int = 0, hex_ints: bool = False,
                 slot: Optional[Hashable] = None) -> Dict[str, Any]:
        """The DAP Variable for a row (``parent`` and ``slot`` as for its handle)."""
        value = row.value
        if hex_ints:
            value = self._hex(row)
        elif value.type in RAW_STRING_TYPES and len(value.repr) > LONG_TEXT and self.objects.allowed:
            # The preview keeps a few KiB of a long text; debugpy shows 64 KiB of it.
            found, obj, _ = self._live(row)
            if found and type(obj).__name__ == value.type:
                value = self.clock.describe(obj)
        text = value.repr
        if not text and (value.missing or value.redacted):
            text = "<%s>" % (value.missing or "redacted: %s" % value.redacted)
        out: Dict[str, Any] = {"name": row.name, "value": text,
                               "type": "" if row.children is not None and row.group else value.type,
                               "variablesReference": self.handle(row, parent, slot)}
        if row.evaluate_name:
            out["evaluateName"] = row.evaluate_name
        attributes = []
        if value.type in RAW_STRING_TYPES:
            attributes.append("rawString")
        if row.read_only:
            attributes.append("readOnly")
        hint: Dict[str, Any] = {"attributes": attributes} if attributes else {}
        if row.items is not None:
            hint["kind"] = "virtual"  # the spec's word for an index range the adapter made up
        if hint:
            out["presentationHint"] = hint
        paged = self._paged_count(row)
        if paged:
            out["indexedVariables"] = paged
            # A hint (clients ask for the named children anyway): not worth unpickling a big
            # container for while its parent is listed, which its type's rows would take.
            out["namedVariables"] = len(or_note(lambda: self.named_children(row, load=False)))
        return out

    def _hex(self, row: Row) -> Value:
        if row.has_obj:
            return self.clock.describe(row.obj, hex_ints=True)
        if row.value.type in ("int", "bool") and not row.value.placeholder:
            try:
                return Value(type=row.value.type, repr=hex(int(row.value.repr == "True" or (
                    row.value.repr != "False" and int(row.value.repr)))), qualtype=row.value.qualtype)
            except ValueError:
                pass
        return row.value

    # -- children -------------------------------------------------------------

    def children(self, row: Row, flt: Optional[str] = None, start: int = 0, count: int = 0) -> List[Row]:
        """A row's children as the client asked: all, "named" ones or "indexed" ones, each
        list paged by ``start``/``count`` as the spec says (count 0: to its end)."""
        return or_note(lambda: self._children(row, flt, start, count))

    def _children(self, row: Row, flt: Optional[str], start: int, count: int) -> List[Row]:
        if row.items is not None:
            return page(self._range_children(*row.items), start, count)
        if row.children is not None:
            return [] if flt == "indexed" else page(row.children, start, count)
        paged = self._paged_count(row)
        if not paged:
            return [] if flt == "indexed" else page(self._all_children(row), start, count)
        if flt == "named":
            return page(self.named_children(row), start, count)
        start = min(start, paged)
        if count:
            indexed = or_note(lambda: self._indexed_children(row, start, min(count, paged - start)))
        else:
            # No count: all items from start, which for a million is a million rows in one
            # response.  A client that does not page (nvim-dap, or one that ignores
            # indexedVariables) gets the next PAGE and a "more" row of ranges, as from debugpy.
            indexed = (or_note(lambda: self._indexed_children(row, start, min(PAGE, paged - start)))
                       + self._range_children(row, start + PAGE, paged, "more"))
        # Its attributes show though its items cannot be read, and the other way round.
        return indexed if flt == "indexed" else or_note(lambda: self.named_children(row)) + indexed

    def _range_children(self, container: Row, start: int, stop: int, name: Optional[str] = None) -> List[Row]:
        """Items [start, stop) of a container: as rows when they are few, else as ranges of
        them (one row named ``name`` holding them all, when given)."""
        if start >= stop:
            return []
        if name is not None:
            return [Row(name, Value(type="", repr="%d more items" % (stop - start)), items=(container, start, stop))]
        if stop - start <= BUCKET:
            return self._indexed_children(container, start, stop - start)
        size = BUCKET
        while (stop - start) > size * BUCKET:
            size *= BUCKET
        return [Row("[%d:%d]" % (first, min(first + size, stop)), Value(type="", repr=""),
                    items=(container, first, min(first + size, stop))) for first in range(start, stop, size)]

    def _paged_count(self, row: Row) -> int:
        if row.children is not None:
            return 0
        n = self._item_count(row)
        return n if n is not None and n > PAGE else 0

    def _item_count(self, row: Row) -> Optional[int]:
        """How many items (indexed children) a row's value has; None when it is no container."""
        value = row.value
        if row.has_obj and preview.is_scalar(row.obj):
            return None
        if not row.has_obj:
            if lists_items(value):
                return value.length
            if value.length is None or value.length <= PAGE or value.placeholder or not self.objects.allowed:
                return None
            # The preview does not say (a subclass below the preview's depth, or cut short): the object does.
            if not self._live(row)[0]:
                return None
        try:
            return self.clock.run(lambda: preview.child_count(row.obj), "counting its items")
        except Unavailable:
            return None  # listed as an object: listing it then says why

    def _live(self, row: Row, keep: bool = True) -> Tuple[bool, Any, str]:
        """(found, object, why not) for a row; ``keep`` False leaves the row as it was, so its
        children still come from the preview."""
        if row.has_obj and is_placeholder(row.obj):
            return False, None, row.obj.reason
        if row.has_obj:
            return True, row.obj, ""
        if row.live is None:
            return False, None, "no object stands behind this preview"
        try:
            obj = row.live()
        except Unavailable as exc:
            return False, None, str(exc)
        if keep:
            row.obj, row.has_obj = obj, True
        return True, obj, ""

    def _preview_is_enough(self, row: Row, needed: Optional[int] = None) -> bool:
        value = row.value
        if row.has_obj or value.children is None or value.groups or self.objects.changed:
            return False
        if needed is None:
            return not value.more
        previewed = sum(1 for c in value.children if _is_indexed(c.name, c.access))
        return needed <= previewed

    def _all_children(self, row: Row) -> List[Row]:
        if not self._preview_is_enough(row):
            found, obj, why = self._live(row)
            if found:
                # A container of more than PAGE items is paged: only one that changed since gets here.
                kids = self.clock.run(lambda: preview.children(obj, 0, PAGE), "listing its children")
                return group_rows(self._type_rows(row) + items_grouped([self._live_row(row, c) for c in kids]))
            return (group_rows(self._group_rows_left_out(row, why) + items_grouped(self._preview_rows(row)))
                    + self._missing_rows(row, why))
        return group_rows(self._type_rows(row) + items_grouped(self._preview_rows(row)))

    def named_children(self, row: Row, load: bool = True) -> List[Row]:
        why = ""
        if not self._preview_is_enough(row, needed=0):
            found, obj, why = self._live(row)
            if found:
                # The object decides, not the preview that made the row paged: in a crafted
                # dump a "list" of 200 items may stand for an int, which has no len().
                attributes, n = self.clock.run(lambda: (preview.children(obj, 0, 0), preview.child_count(obj)),
                                               "listing its attributes")
                kids = [self._live_row(row, c) for c in attributes if c.name != LEN_NAME]
                return group_rows(self._type_rows(row) + kids) + ([] if n is None else [self._len_row(row, n)])
        rows = [r for r in self._preview_rows(row) if not _is_indexed(r.name, r.access)]
        rows = self._group_rows_left_out(row, why) + self._type_rows(row, load) + rows
        if not any(r.name == LEN_NAME for r in rows) and row.value.length is not None:
            rows.append(self._len_row(row, row.value.length))
        else:
            rows.sort(key=lambda r: r.name == LEN_NAME)
        return group_rows(rows)

    def _type_rows(self, row: Row, load: bool = True) -> List[Row]:
        """The dunders and methods debugpy groups under a builtin container (list, tuple, dict,
        set): its type's, so no preview stores them (every container would carry the same ~50
        rows).  Read from the loaded object, bound to it as debugpy shows them; without one
        (safe mode, not restored) there is nothing true to show, and nothing is.  ``load``
        False: only from an object the row already holds."""
        if row.value.qualtype not in TYPE_ROW_TYPES or not self.objects.allowed or not (load or row.has_obj):
            return []
        # Only the bound methods are read from it: the items stay the preview's while it holds them all.
        found, obj, _ = self._live(row, keep=False)
        if not found:
            return []
        try:
            kids = self.clock.run(lambda: preview.type_attributes(obj), "listing its type's attributes")
        except Unavailable:
            return []  # the items are what the user came for: they still show
        return [self._live_row(row, c) for c in kids]

    def _indexed_children(self, row: Row, start: int, count: int) -> List[Row]:
        if count <= 0:
            return []
        if not self._preview_is_enough(row, needed=start + count):
            found, obj, why = self._live(row)
            if found:
                kids = self.clock.run(lambda: preview.item_children(obj, start, count), "listing its items")
                return [self._live_row(row, c) for c in kids]
        else:
            why = ""
        items = [r for r in self._preview_rows(row) if _is_indexed(r.name, r.access)]
        page = items[start:start + count]
        if len(page) < count and start + count > len(items):
            page += self._missing_rows(row, why or "not previewed", first=max(start, len(items)))
        return page

    def _preview_rows(self, row: Row) -> List[Row]:
        out = []
        position = 0  # among the items: the preview holds the first ones, in order
        # A part of an object that was not captured (a socket's bound method) is reached through
        # it: opening the part could only say again why the object is missing, as each of a
        # socket's dozen methods did.  Its groups say it once.
        parent_missing = row.value.missing is not None and not row.has_obj
        for child in row.value.children or []:
            indexed = _is_indexed(child.name, child.access)
            getter = self._child_getter(row, child.name, position if indexed else None)
            position += indexed
            value = child.value
            if parent_missing and value.expandable and value.ref is None and value.children is None:
                value = replace(value, expandable=False)
            out.append(Row(child.name, value, join_access(row.evaluate_name, child.name, child.access),
                           live=getter, group=child.group, access=child.access,
                           read_only=_is_summary(child.name, child.access)))
        return out

    def _child_getter(self, parent: Row, name: str, position: Optional[int]) -> LiveGetter:
        """Reads the child from the parent's object: the item at ``position``, else the attribute."""
        def get() -> Any:
            found, obj, why = self._live(parent)
            if not found:
                raise Unavailable(why)
            if position is None:
                kids = self.clock.run(lambda: preview.children(obj, 0, 0), "reading its attributes")
            else:
                kids = self.clock.run(lambda: preview.item_children(obj, position, 1), "reading its items")
            for kid in kids:
                if kid.name == name:
                    return kid.obj
            raise Unavailable("the object no longer has %s" % name)
        return get

    def _live_row(self, parent: Row, child: "preview.LiveChild") -> Row:
        return Row(child.name, self.clock.describe(child.obj),
                   join_access(parent.evaluate_name, child.name, child.access), obj=child.obj,
                   has_obj=True, group=child.group, access=child.access,
                   read_only=_is_summary(child.name, child.access))

    def _len_row(self, parent: Row, n: int) -> Row:
        return Row(LEN_NAME, preview.describe(n), join_access(parent.evaluate_name, LEN_NAME, None),
                   obj=n, has_obj=True, read_only=True)

    def _group_rows_left_out(self, row: Row, why: str) -> List[Row]:
        """In each group the preview only counted, one row that says so."""
        out = []
        for group, count in (row.value.groups or {}).items():
            if group in GROUP_LABELS:
                out.append(note_row(not_captured("%d %s (%s)" % (count, GROUP_LABELS[group],
                                                                 reason_not_captured(why))), group))
        return out

    def _missing_rows(self, row: Row, why: str, first: Optional[int] = None) -> List[Row]:
        shown = len(row.value.children or [])
        total = row.value.length
        if first is None and not row.value.more and row.value.children is not None:
            return []
        if first is not None:
            what = "items from %d on" % first
        elif row.value.children is None:
            what = "its contents"
        else:
            what = "%d more item(s) after the first %d" % (row.value.more or (total or 0) - shown, shown)
        return [note_row(not_captured("%s (%s)" % (what, reason_not_captured(why))))]


def or_note(rows: Callable[[], List[Row]]) -> List[Row]:
    """``rows()``, or one row saying why not when the loaded object's own code failed or took too long."""
    try:
        return rows()
    except Unavailable as exc:
        return [note_row("not shown: %s" % exc)]


def note_row(text: str, group: Optional[str] = None) -> Row:
    """A row that says what cannot be shown there, and why."""
    return Row("…", Value(type="", repr="<%s>" % text, missing=text), group=group, read_only=True)


def lists_items(value: Value) -> bool:
    """Whether a preview is of a container with items to page: a builtin one by its type, any
    other (subclasses, the collections types) by the items the preview holds of it."""
    if value.type in PAGED_TYPES or value.qualtype in PAGED_TYPES:
        return True
    return value.children is not None and (
        value.more > 0 or any(_is_indexed(c.name, c.access) for c in value.children))


def group_rows(rows: List[Row], named_heads: bool = False) -> List[Row]:
    """debugpy's layout: the special/function/class groups first, then the rest in order.

    ``named_heads``: the group rows carry their label as evaluateName, as debugpy's frame scopes do.
    """
    groups: Dict[str, List[Row]] = {}
    inline: List[Row] = []
    for r in rows:
        if r.group in GROUP_LABELS:
            groups.setdefault(r.group, []).append(r)
        else:
            inline.append(r)
    heads = [Row(GROUP_LABELS[g], Value(type="", repr=""), GROUP_LABELS[g] if named_heads else None,
                 group=g, children=groups[g]) for g in GROUP_ORDER if g in groups]
    return heads + inline


def items_grouped(rows: List[Row]) -> List[Row]:
    """``rows``, each item of a container in the group debugpy puts it in, as it groups a frame's
    variables: a function under *function variables*, a class under *class variables*; not one
    named by a text key (its name quoted).  Only a container listed whole: the items of one that
    is paged each stay in their page."""
    for r in rows:
        if r.group is None and _is_indexed(r.name, r.access) and not (r.name.startswith("'") and r.name.endswith("'")):
            r.group = scope_group(r.name, r.value)
    return rows


def _is_summary(name: str, access: Optional[str]) -> bool:
    """A row made up about a container's items (len(), an array's min and max): named, and
    read-only (no assignment reaches it)."""
    return access is None and name in SUMMARY_NAMES


def _is_indexed(name: str, access: Optional[str]) -> bool:
    """Items of a container (list index, dict key, set member), as opposed to attributes and
    the rows made up about the items."""
    if _is_summary(name, access) or name in GROUP_LABELS.values():
        return False
    return not (access or "").startswith(".")


def scope_rows(items: Iterable[Tuple[str, Value, Optional[LiveGetter]]]) -> List[Row]:
    """A frame's variables as debugpy lists them: groups first, then sorted names."""
    # A module of 640 000 globals is as many rows: the collector, let run, walked them all again
    # and again while they were made (over twice the time of making them).
    with collector_paused():
        rows = [Row(name, value, name, live=getter, group=scope_group(name, value))
                for name, value, getter in sorted(items, key=lambda item: preview.debugpy_order(item[0]))]
        return group_rows(rows, named_heads=True)
