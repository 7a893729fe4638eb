"""The object layer: full values pickled as records, written tolerantly, read lazily.

Writing: one C pickler (plain data at C speed) streams every captured value as
its own record into the dump; the pickler's memo is shared across records, so
an object reached from two frames is one object after loading.  Functions and
classes that cannot be pickled by reference (``__main__``, lambdas, local
classes) go through dill, nested as bytes; objects that cannot be pickled at
all (a lock, a socket, a generator) become ``Placeholder`` records right where
they are, so the object holding them still loads.  Secrets are replaced on the
way (redaction).

Reading: records are unpickled in order with one unpickler (so the shared memo
works); a record that fails to load becomes a placeholder and the next one
starts from a fresh unpickler.  Classes and modules that are missing here are
replaced by stand-ins.  Nothing here opens files, sockets or processes.
"""
from __future__ import annotations

import abc
import collections
import copyreg
import dataclasses
import enum
import importlib
import io
import itertools
import operator
import os
import pickle
import sys
import threading
import types
import weakref
from typing import Any, BinaryIO, Callable, Dict, List, Optional, Set, Tuple

from .budget import BudgetExceeded, Clock
from .placeholder import LockPlaceholder, Placeholder, missing_class
from .preview import qualified_type, type_name
from .redaction import (ENVIRON_MARKER, URL_CREDENTIALS, Redaction, Secrets, environ_probes,
                        is_code, is_environ_copy)
from .saferepr import describe_exception, safe_repr

PROTOCOL = 5  # read by every supported Python (3.8+); big buffers are written without a copy

# Types the pickler handles by itself without surprises: skip our checks.
_TRUSTED_REDUCE = frozenset(
    ("datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
     "datetime.timezone", "decimal.Decimal", "fractions.Fraction", "uuid.UUID",
     "numpy.ndarray", "numpy.dtype", "collections.OrderedDict", "collections.deque",
     "collections.Counter", "collections.defaultdict", "pathlib.PosixPath", "pathlib.WindowsPath"))


# The pure-Python pickler (dill's) asks reducer_override about everything.
_PLAIN_TYPES = frozenset((str, bytes, int, float, complex, bool, type(None), tuple, list, dict,
                          set, frozenset, bytearray, type(Ellipsis), type(NotImplemented)))
# Classes the C pickler saves by itself although no module exports them by name.
_SINGLETON_TYPES = (type(None), type(Ellipsis), type(NotImplemented))


_NUMBERS = frozenset((int, float, complex, bool, type(None)))
_NUMBERS_AND_TEXT = _NUMBERS | {str, bytes}
SECRET_VALUE = "<redacted: a secret's value>"
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
        # block must not leave the capturing thread locked out of its own sink.
        self._lock = threading.RLock()

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes  # bytes, memoryview, or a protocol-5 PickleBuffer
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


def import_dill() -> Any:
    """dill, imported on demand (most dumps never need it), safely under leaked mocks.

    Importing dill asks tempfile for its directory; with ``os.unlink`` mocked,
    tempfile's probe would leave up to ten thousand files behind.  A directory
    given in advance skips the probe.
    """
    if "dill" in sys.modules:
        return sys.modules["dill"]
    import tempfile
    preset = tempfile.tempdir
    if preset is None:
        tempfile.tempdir = os.environ.get("TMPDIR") or "/tmp"
    try:
        import dill
    finally:
        tempfile.tempdir = preset
    return dill


def release_main(main: types.ModuleType) -> None:
    """Point dill's idea of ``__main__`` back at ``main`` (the interpreter's own).

    dill binds ``sys.modules['__main__']`` when first imported.  Imported during
    the crash of a script that ``python -m tbdump`` runs, that is the script's
    module, which dill would then keep alive past the point where Python frees it
    at exit, changing the order in which ``__del__`` methods run at shutdown.
    """
    for name in ("dill._dill", "dill.session"):  # each keeps its own reference
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "_main_module"):
            module._main_module = main  # type: ignore[attr-defined]


def _module_stand_in(name: str) -> Any:
    """Load-side: the module a record refers to, or an empty stand-in."""
    try:
        return importlib.import_module(name)
    except BaseException:
        mod = types.ModuleType(name, "stand-in: module %r is not importable here" % name)
        return mod


def _dill_loads(data: bytes, written_by: Optional[Tuple[int, int]] = None, is_class: bool = False,
                module: Optional[str] = None, qualname: Optional[str] = None) -> Any:
    """Load-side: a value dill pickled by value (code inside), when its bytecode can run here."""
    if written_by is not None and tuple(written_by) != tuple(sys.version_info[:2]):
        # Bytecode of another Python version fails, or worse crashes, when run.
        why = "pickled by value by Python %d.%d, its code cannot run on Python %d.%d" % (
            tuple(written_by) + tuple(sys.version_info[:2]))
        if is_class and isinstance(module, str) and isinstance(qualname, str):
            # A class of the crashed program without its methods: its instances keep their data.
            return missing_class(module, qualname, why)
        name = "%s " % qualname if isinstance(qualname, str) else ""
        return Placeholder("type" if is_class else "function", "not restored: %s%s" % (name, why))
    try:
        return _DillUnpickler(io.BytesIO(data)).load()
    except BaseException as exc:  # a class dill cannot rebuild here: it alone is lost, not the record
        return Placeholder("object", "not restored: dill could not rebuild it (%s)" % describe_exception(exc))


# Classes made by these are rebuilt as pickle rebuilds an object: created empty, remembered,
# then filled, so a class holding its own instances (a singleton, a registry) refers to
# itself; dill, which creates a class from its whole dict, could only name it in __main__,
# where no other process finds it.  Other metaclasses may need the whole dict when the
# class is made (pydantic, SQLAlchemy): dill keeps those.
_PLAIN_METACLASSES = frozenset((type, abc.ABCMeta))
_HEAP_TYPE = 1 << 9   # Py_TPFLAGS_HEAPTYPE: a class statement's; C types are dill's to name
# What a class makes for itself when it is created, not copied onto the empty one.
_MADE_BY_CLASS = frozenset(("__dict__", "__weakref__", "_abc_impl", "__slots__"))


def _class_reduction(cls: type) -> Tuple[Any, ...]:
    slots = cls.__dict__.get("__slots__")
    made = {"__slots__": slots} if slots is not None else {}
    slot_names = {slots} if isinstance(slots, str) else set(slots or ())
    state = {k: v for k, v in cls.__dict__.items() if k not in _MADE_BY_CLASS and k not in slot_names}
    return (_empty_class, (type(cls), cls.__name__, cls.__bases__, made), state, None, None, _fill_class)


def _empty_class(metaclass: Any, name: str, bases: Tuple[type, ...], made: Dict[str, Any]) -> type:
    """Load-side: the class as it is created, its attributes set by _fill_class after."""
    return types.new_class(name, bases, {"metaclass": metaclass}, lambda ns: ns.update(made))


def _fill_class(cls: type, state: Dict[str, Any]) -> type:
    for name, value in state.items():
        setattr(cls, name, value)
    return cls


def _enum_reduction(cls: Any) -> Tuple[Any, ...]:
    """An Enum class of the crashed program, as its members: dill cannot rebuild Enum
    classes on Python 3.11+, and the members are what a crash is about."""
    bases = cls.__mro__[1:]
    base = next((b for b in bases if issubclass(b, enum.Enum) and _importable(b)), enum.Enum)
    mixin = next((b for b in bases if not issubclass(b, enum.Enum) and b is not object and _importable(b)), None)
    if mixin is not None and issubclass(base, mixin):
        mixin = None
    members = [(name, member._value_) for name, member in cls.__members__.items()]  # aliases too
    return (_rebuild_enum, (cls.__name__, cls.__qualname__, cls.__module__, base, mixin, members))


def _rebuild_enum(name: str, qualname: str, module: str, base: Any, mixin: Any,
                  members: List[Tuple[str, Any]]) -> Any:
    """Load-side: the Enum class rebuilt from its members (its methods are not in the dump)."""
    try:
        return base(name, members, module=module, qualname=qualname, type=mixin)
    except BaseException as exc:
        return Placeholder("EnumType", "not restored: %s" % describe_exception(exc))


def _redacted_function(fn: types.FunctionType, redaction: Redaction,
                       secrets: Secrets) -> types.FunctionType:
    """A copy of ``fn`` whose closure cells and default argument values named like
    secrets hold the redaction marker."""
    if getattr(fn, "__tbdump_redacted__", False):
        return fn
    code = fn.__code__
    cells = fn.__closure__ or ()
    new_cells = []
    changed = False
    for name, cell in zip(code.co_freevars, cells):
        rule = redaction.rule_for_name(name)
        if rule:
            changed = True
            try:
                secrets.learn(cell.cell_contents)
            except ValueError:
                pass  # an empty cell holds nothing to learn
            new_cells.append(types.CellType("<redacted: %s>" % rule))
        else:
            new_cells.append(cell)
    # Defaults belong to the last positional parameters; keyword-only ones are by name.
    defaults = fn.__defaults__
    if type(defaults) is tuple and defaults:
        names = code.co_varnames[:code.co_argcount][-len(defaults):]
        hidden = _hide_named(list(zip(names, defaults)), redaction, secrets)
        if hidden is not None:
            defaults, changed = tuple(v for _, v in hidden), True
    kwdefaults = fn.__kwdefaults__
    if type(kwdefaults) is dict and kwdefaults:
        hidden = _hide_named(list(kwdefaults.items()), redaction, secrets)
        if hidden is not None:
            kwdefaults, changed = dict(hidden), True
    if not changed:
        return fn
    copy = types.FunctionType(code, fn.__globals__, fn.__name__, defaults, tuple(new_cells))
    copy.__kwdefaults__ = kwdefaults
    copy.__qualname__ = fn.__qualname__
    copy.__module__ = fn.__module__
    copy.__tbdump_redacted__ = True  # type: ignore[attr-defined]
    return copy


def _hide_named(pairs: List[Tuple[Any, Any]], redaction: Redaction,
                secrets: Secrets) -> Optional[List[Tuple[Any, Any]]]:
    """``pairs`` with the values of secrets' names replaced (and learned); None when none is."""
    out, changed = [], False
    for name, value in pairs:
        rule = redaction.rule_for_name(name)
        if rule and not is_code(value):
            secrets.learn(value)
            value, changed = "<redacted: %s>" % rule, True
        out.append((name, value))
    return out if changed else None


def _guarded(obj: Any, rv: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """The same reduction, rebuilt on load by functions that turn failures into placeholders.

    Without this one class whose ``__init__`` or ``__setstate__`` changed since
    the dump would abort loading every value after it.
    """
    func, args = rv[0], rv[1]
    state = rv[2] if len(rv) > 2 else None
    items = rv[3] if len(rv) > 3 else None
    pairs = rv[4] if len(rv) > 4 else None
    setter = rv[5] if len(rv) > 5 else None
    restore = (restore_object, (qualified_type(obj), func, args))
    if state is None or setter is not None:
        return restore + (state, items, pairs, setter)
    return restore + (state, items, pairs, restore_state)


def restore_object(type_name: str, func: Any, args: Any) -> Any:
    """Load-side: call the recorded constructor; a failure gives a placeholder instead."""
    try:
        return func(*args)
    except BaseException as exc:
        if isinstance(func, type) and issubclass(func, BaseException):
            # An exception pickles as cls(*args), which fails when its __init__ takes other
            # arguments (HttpError(status, body)); its args and __dict__ are all it holds.
            try:
                return func.__new__(func, *args)
            except BaseException:
                pass
        return Placeholder(type_name, "not restored: %s" % describe_exception(exc))


def restore_state(obj: Any, state: Any) -> Any:
    """Load-side BUILD: as pickle does it, but an object whose state cannot be set
    becomes a placeholder in place, so every reference to it says so."""
    if isinstance(obj, Placeholder):
        return obj
    try:
        # On the class: an instance's __getattr__ (a tempfile wrapper's) would run on an
        # object that has no state yet.
        setstate = getattr(type(obj), "__setstate__", None)
        if setstate is not None and not _is_default_setstate(setstate):
            setstate(obj, state)
            return obj
        slots = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slots = state
        if state:
            obj.__dict__.update(state)
        for key, value in (slots or {}).items():
            setattr(obj, key, value)
    except BaseException as exc:
        _become_placeholder(obj, "not restored: %s" % describe_exception(exc))
    return obj


def _is_default_setstate(method: Any) -> bool:
    return getattr(method, "__qualname__", "") == "object.__setstate__"


def _become_placeholder(obj: Any, reason: str) -> None:
    name = qualified_type(obj)
    try:
        obj.__class__ = Placeholder
        obj.__dict__.clear()
        Placeholder.__init__(obj, name, reason)
    except BaseException:
        pass  # a layout that cannot change class: the half-restored object stays


class ReducePolicy:
    """Decides how one object is pickled; shared by the C pickler and the nested dill one."""

    def __init__(self, redaction: Redaction, clock: Optional[Clock], in_dill: bool,
                 secrets: Optional[Secrets] = None) -> None:
        self.redaction = redaction
        self.secrets = secrets if secrets is not None else Secrets(redaction)
        self.clock = clock
        self.in_dill = in_dill
        # A copy of the environment is known by these variables (none: its values are kept).
        self._probes = environ_probes() if redaction.enabled and not redaction.keep_environ else ()
        self._made: Set[Any] = {SECRET_VALUE, ENVIRON_MARKER}  # texts written in place of others: final
        self._made_ids: Dict[int, Any] = {}  # arrays likewise, and dict keys kept as they are
        self._shaped: Dict[type, bool] = {}  # types whose reduction may hold named fields
        numpy = sys.modules.get("numpy")
        self._ndarray = getattr(numpy, "ndarray", _NO_TYPE)
        # The value a record is written for, and why it became a placeholder if it did:
        # the safe layer then says so where it shows the value.
        self.top: Any = None
        self.top_reason: Optional[str] = None

    def reduce(self, obj: Any) -> Any:
        t = type(obj)
        if t in _PLAIN_TYPES:
            return NotImplemented
        hidden = self._hidden(obj, t) if self.redaction.enabled else ()
        qual = "%s.%s" % (getattr(t, "__module__", "?"), getattr(t, "__qualname__", "?"))
        if qual in _TRUSTED_REDUCE and not hidden:
            return NotImplemented
        if isinstance(obj, types.ModuleType):
            return (_module_stand_in, (obj.__name__,))
        if isinstance(obj, os_environ_type):
            return self._environ(obj)
        if t in _LOCK_TYPES:
            text = safe_repr(obj)[:200]
            return (LockPlaceholder, (type_name(obj), "not captured: a lock; restored as a stand-in "
                                      "that acquires without waiting", text, text.startswith("<locked")))
        if (isinstance(obj, io.IOBase) and not isinstance(obj, _IN_MEMORY_IO)) or isinstance(
                obj, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType,
                      types.FrameType, types.TracebackType)):
            # dill would pickle some of these, and re-open files on load; never.
            return self._placeholder(obj, "not captured: %s objects cannot be restored" % type_name(obj))
        if isinstance(obj, (types.FunctionType, type, types.CodeType)):
            if any(obj is t for t in _SINGLETON_TYPES):  # identity: a metaclass may break ==
                return NotImplemented
            return self._by_reference_or_value(obj)
        if self.in_dill and t in _dill_dispatch():
            return NotImplemented  # cells, code, and the other types dill saves by itself
        if t is weakref.ReferenceType:
            return (_weak_ref, (obj(),))
        try:
            rv = self.clock.run(lambda: _reduce_ex(obj)) if self.clock is not None else _reduce_ex(obj)
        except BudgetExceeded:
            return self._placeholder(obj, "not captured: time budget exceeded while pickling it")
        except BaseException as exc:
            if not self.in_dill and t in _DILL_ONLY_TYPES:
                return self._by_value(obj)
            return self._placeholder(obj, "not captured: %s" % describe_exception(exc))
        if rv is _IN_MAIN:
            return NotImplemented if self.in_dill else self._by_value(obj)
        if isinstance(rv, str):
            return NotImplemented
        if not isinstance(rv, tuple) or not 2 <= len(rv) <= 6 or not callable(rv[0]):
            return self._placeholder(obj, "not captured: __reduce_ex__ returned %s" % type_name(rv))
        if hidden:
            rv = self._hide_in(obj, t, rv)
        disarm = _DISARMED.get(qual)
        if disarm is not None and len(rv) > 2 and type(rv[2]) is dict:
            rv = rv[:2] + (dict(rv[2], **disarm),) + rv[3:]
        return rv if self.in_dill else _guarded(obj, rv)

    def _hidden(self, obj: Any, t: type) -> List[Tuple[str, Any]]:
        """What a dict subclass, namedtuple or slotted class holds under secrets' names (learned
        now, so their copies inside the reduction are hidden whatever its shape)."""
        shaped = self._shaped.get(t)
        if shaped is None:
            kind, _, slots, fields = self.secrets.layout(t)
            shaped = self._shaped[t] = kind == "dict" or bool(slots) or bool(fields)
        if not shaped:
            return []
        hidden = self.secrets.named(obj)
        for _, value in hidden:
            self.secrets.learn(value)
        return hidden

    def _hide_in(self, obj: Any, t: type, rv: Tuple[Any, ...]) -> Tuple[Any, ...]:
        """The reduction of ``obj`` with its secrets' values replaced, where its shape says
        which value is which: a namedtuple's arguments, a slotted dataclass's state list,
        a dict subclass's items."""
        rule_of = self.redaction.rule_for_name
        func, args, rest = rv[0], rv[1], list(rv[2:])
        _, _, _, fields = self.secrets.layout(t)
        if fields and func is _NEWOBJ and type(args) is tuple and args and args[0] is t:
            values = list(args[1:])
            if len(values) == tuple.__len__(obj):
                for index, name in fields:
                    values[index] = self._marker("<redacted: %s>" % rule_of(name))
                args = (t,) + tuple(values)
        state: Any = rest[0] if rest else None
        if type(state) in (list, tuple) and dataclasses.is_dataclass(t):
            try:
                names = [f.name for f in dataclasses.fields(t)]
            except Exception:
                names = []
            if len(names) == len(state):
                rest[0] = type(state)(self._marker("<redacted: %s>" % rule_of(n)) if rule_of(n) else v
                                      for n, v in zip(names, state))
        if len(rest) >= 3 and rest[2] is not None and issubclass(t, dict):
            rest[2] = self._hidden_items(rest[2])
        return (func, args) + tuple(rest)

    def _hidden_items(self, items: Any) -> Any:
        rule_of = self.redaction.rule_for_name
        for pair in items:
            key = pair[0]
            rule = rule_of(key) if type(key) is str else None
            yield (key, self._marker("<redacted: %s>" % rule)) if rule else pair

    def _environ(self, env: Any) -> Any:
        if self.redaction.keep_environ:
            return (dict, (dict(env),))
        self.secrets.hide_environ()
        return (dict, ({k: ENVIRON_MARKER for k in env},))

    def _by_reference_or_value(self, obj: Any) -> Any:
        if _importable(obj):
            return NotImplemented
        if isinstance(obj, enum.EnumMeta):
            return _enum_reduction(obj)
        if self.in_dill:
            if type(obj) in _PLAIN_METACLASSES and obj.__flags__ & _HEAP_TYPE:
                return _class_reduction(obj)
            if isinstance(obj, types.FunctionType) and self.redaction.enabled:
                safe = _redacted_function(obj, self.redaction, self.secrets)
                if safe is not obj:
                    return (_identity, (safe,))
            return NotImplemented
        return self._by_value(obj)

    def _by_value(self, obj: Any) -> Any:
        """Pickled by dill, nested as bytes: what the C pickler cannot save by itself."""
        try:
            buf = io.BytesIO()
            pickler = _DillPickler(buf, self.redaction, self.clock, self.secrets)
            pickler.dump(obj)
        except BudgetExceeded:
            return self._placeholder(obj, "not captured: time budget exceeded while pickling it")
        except BaseException as exc:
            return self._placeholder(obj, "not captured: dill cannot pickle it (%s)" % describe_exception(exc))
        return (_dill_loads, (buf.getvalue(), tuple(sys.version_info[:2]), isinstance(obj, type),
                              getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)))

    def _placeholder(self, obj: Any, reason: str) -> Any:
        text = safe_repr(obj)
        if self.redaction.enabled:
            try:
                self.secrets.learn_fields(obj)  # what its repr may show, by the names it holds
            except Exception:
                pass
            # Scrubbed whole, before the cut: a cut secret would no longer be found.
            text, reason = self.secrets.scrub(text), self.secrets.scrub(reason)
            rule = self.redaction.rule_for_text(text)
            if rule:
                text = "<redacted: %s>" % rule
            rule = self.redaction.rule_for_text(reason)
            if rule:
                reason = "not captured: <redacted: %s>" % rule
        if obj is self.top:
            self.top_reason = reason
        return (Placeholder, (type_name(obj), reason, text[:200]))

    def _marker(self, text: str) -> str:
        """``text``, written in place of a secret: never checked again (a value pattern
        may match the marker that names it)."""
        self._made.add(text)
        return text

    def may_hide_secrets(self, obj: Any, items: Optional[Set[type]]) -> bool:
        """Whether pickling ``obj`` needs the per-object redaction check.

        The check is a Python call for every object pickled; plain numbers and
        flat containers of them (a 1 000 000-item list) are cleared here at C
        speed instead.  ``items``: ``item_types(obj)``, which the caller needs too.
        """
        if not self.redaction.enabled:
            return False
        secrets = self.secrets
        texts_matter = bool(secrets.texts or self.redaction.patterns)
        plain = _NUMBERS if texts_matter else _NUMBERS_AND_TEXT
        t = type(obj)
        if t in plain:
            if t is str:
                return "://" in obj   # a URL's password
            return t is int and obj in secrets.ints
        try:
            if t in (list, tuple, set, frozenset):
                return items is None or not items <= plain or self._flat_hides(obj, items)
            if t is dict:
                if items is None or not items <= plain:
                    return True
                if self._probes and is_environ_copy(obj, self._probes):
                    return True
                names, url = secrets.key_facts(obj)
                if names or (url and not texts_matter):
                    return True
                if texts_matter and not self.secrets.ints:
                    return False
                return self._flat_hides(obj.values(), set(map(type, obj.values())))
            if qualified_type(obj) == "numpy.ndarray":
                return bool(obj.dtype.hasobject or (obj.dtype.kind in "US" and texts_matter))
        except Exception:
            pass
        return True

    def _flat_hides(self, values: Any, items: Set[type]) -> bool:
        """Whether a flat container's items (all in the plain types) hold a URL's password or a
        secret int; joined and searched at C speed."""
        if str in items and not (self.secrets.texts or self.redaction.patterns):
            joined = "\0".join(values if items == {str} else [x for x in values if type(x) is str])
            if "://" in joined:
                return True
        return bool(self.secrets.ints) and int in items and not self.secrets.ints.isdisjoint(values)

    def persistent_id(self, obj: Any) -> Any:
        """Redaction of what the C pickler never shows reduce hooks: plain dicts, strings,
        bytes and ints (and numpy's text arrays)."""
        t = type(obj)
        if t is str:
            return self._text_id(obj)
        if t is dict:
            return self._dict_id(obj)
        if t is int:
            return ("S", SECRET_VALUE) if self.secrets.ints and obj in self.secrets.ints else None
        if t is bytes or t is bytearray:
            return self._blob_id(obj, t)
        if t is self._ndarray:
            return self._array_id(obj)
        return None

    def _text_id(self, obj: str) -> Any:
        secrets = self.secrets
        if len(obj) >= secrets.min_length:
            if obj in secrets.texts:
                return None if self._kept(obj) else ("S", SECRET_VALUE)
            if secrets.contains(obj) and obj not in self._made and not self._kept(obj):
                return ("S", self._made_text(secrets.scrub(obj)))
        if "://" in obj and URL_CREDENTIALS.search(obj) is not None and obj not in self._made:
            return ("S", self._made_text(secrets.scrub(obj)))
        if self.redaction.patterns:
            rule = self.redaction.rule_for_text(obj)
            if rule and obj not in self._made:
                return ("S", self._marker("<redacted: %s>" % rule))
        return None

    def _made_text(self, text: str) -> str:
        rule = self.redaction.rule_for_text(text)
        return self._marker("<redacted: %s>" % rule if rule else text)

    def _kept(self, obj: str) -> bool:
        """A dict key held as it is: learned only on weak evidence (see Secrets.weak)."""
        return id(obj) in self._made_ids and self._made_ids[id(obj)] is obj

    def _dict_id(self, obj: dict) -> Any:
        if self._probes and is_environ_copy(obj, self._probes):
            self.secrets.hide_environ()
            return ("R", [(k, ENVIRON_MARKER) for k in obj])
        weak = self.secrets.weak
        if weak and not weak.isdisjoint(obj):
            for key in obj:
                if type(key) is str and key in weak:
                    self._made_ids[id(key)] = key
        rule_of = self.redaction.rule_for_name
        if len(obj) > 8 and not self.secrets.key_facts(obj)[0]:
            return None
        for key in obj:
            if type(key) is str and rule_of(key) and not is_code(obj[key]):
                pairs = []
                for k, v in obj.items():
                    rule = rule_of(k) if type(k) is str and not is_code(v) else None
                    if rule:
                        self.secrets.learn(v)
                        v = self._marker("<redacted: %s>" % rule)
                    pairs.append((k, v))
                # Pairs, not a dict: the id is pickled in turn, and a dict
                # with the same keys would come back here forever.
                return ("R", pairs)
        return None

    def _blob_id(self, obj: Any, t: type) -> Any:
        secrets = self.secrets
        hit = secrets.contains_blob(obj)
        rule = None
        if not hit and self.redaction.patterns and len(obj) >= secrets.MIN_LENGTH:
            rule = self.redaction.rule_for_text(bytes(obj).decode("latin-1"))
        if not hit and not rule:
            return None
        data = bytes(obj)
        if data in self._made:
            return None
        clean = ("<redacted: %s>" % rule).encode() if rule else secrets.scrub_blob(data)
        self._made.add(clean)
        return ("S", clean if t is bytes else bytearray(clean))

    def _array_id(self, obj: Any) -> Any:
        """A numpy array of str or bytes holding a secret: pickled as a scrubbed copy."""
        secrets = self.secrets
        try:
            kind = obj.dtype.kind
            if kind not in "US" or not secrets.texts or id(obj) in self._made_ids or obj.nbytes > 1 << 26:
                return None
            data = obj.tobytes()
            if kind == "U":
                found = any(t.encode("utf-32-le", "surrogatepass") in data for t in secrets.texts)
            else:
                found = any(b in data for b in secrets.blobs)
            if not found:
                return None
            items = obj.ravel().tolist()
            clean = [secrets.scrub(x) if kind == "U" else secrets.scrub_blob(x) for x in items]
            numpy = sys.modules["numpy"]
            copy = numpy.array(clean, dtype=kind).reshape(obj.shape)
        except Exception:
            return None
        self._made_ids[id(copy)] = copy
        return ("S", copy)


_NEWOBJ = getattr(copyreg, "__newobj__")   # what object.__reduce_ex__ gives a tuple subclass


class _NoType:
    """Stands for numpy.ndarray where numpy was never imported: no object has this type."""


_NO_TYPE = _NoType


# A global of ``__main__`` by name (an lru_cache wrapper): no other process can find it there.
_IN_MAIN = object()


def _reduce_ex(obj: Any) -> Any:
    """``obj``'s reduction as pickle finds it: a reducer registered with copyreg (re.Pattern's)
    before ``__reduce_ex__``; _IN_MAIN for a name in ``__main__``."""
    registered = copyreg.dispatch_table.get(type(obj))
    rv = registered(obj) if registered is not None else obj.__reduce_ex__(PROTOCOL)
    if isinstance(rv, str):
        module = getattr(obj, "__module__", None)
        if type(module) is str and module == "__main__":
            return _IN_MAIN
        if type(module) is str:
            found: Any = sys.modules.get(module)
            for part in rv.split("."):
                found = getattr(found, part, None)
            if found is not obj:  # pickle would refuse it, and the whole record with it
                raise pickle.PicklingError("its __reduce__ names %s.%s, which is another object" % (module, rv))
    return rv


_LOCK_TYPES = frozenset((type(threading.Lock()), type(threading.RLock())))
# Objects that act on this machine's files when they are collected, restored with that
# undone: a dump's NamedTemporaryFile would delete the file of its name here.
_DISARMED: Dict[str, Dict[str, Any]] = {
    "tempfile._TemporaryFileCloser": {"delete": False, "close_called": True, "cleanup_called": True},
}
# Buffers in memory pickle their content; every other stream is an OS resource.
_IN_MEMORY_IO = (io.StringIO, io.BytesIO)
# Types pickle refuses and dill saves faithfully (as the program held them).
_DILL_ONLY_TYPES = frozenset((types.MappingProxyType, staticmethod, classmethod, property,
                              type({}.keys()), type({}.values()), type({}.items())))


class _Gone:
    pass


def _weak_ref(target: Any) -> Any:
    """Load-side: a weak reference to ``target``, the object the record's memo shares with
    every other reference to it (so it stays alive as they do); dead if it was dead."""
    return weakref.ref(target if target is not None else _Gone())


def _dill_dispatch() -> Dict[type, Any]:
    dill = import_dill()
    return dill.Pickler.dispatch


def _identity(x: Any) -> Any:
    return x


os_environ_type = type(__import__("os").environ)


def _importable(obj: Any) -> bool:
    """Whether ``obj`` can be pickled by reference and found again by another process."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(obj, types.CodeType) or not module or not qualname or module == "__main__":
        return False
    if "<locals>" in qualname or "<lambda>" in qualname:
        return False
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is obj


class _CPickler(pickle.Pickler):
    def __init__(self, file: Any, policy: ReducePolicy) -> None:
        super().__init__(file, PROTOCOL)
        self.reducer_override = policy.reduce  # type: ignore[method-assign]


def _dill_pickler_class() -> Any:
    dill = import_dill()

    class DillPickler(dill.Pickler):  # type: ignore[name-defined]
        def __init__(self, file: Any, redaction: Redaction, clock: Optional[Clock],
                     secrets: Secrets) -> None:
            super().__init__(file, PROTOCOL, recurse=True)
            self._policy = ReducePolicy(redaction, clock, in_dill=True, secrets=secrets)

        def reducer_override(self, obj: Any) -> Any:
            return self._policy.reduce(obj)

        def persistent_id(self, obj: Any) -> Any:
            return self._policy.persistent_id(obj) if self._policy.redaction.enabled else None

    return DillPickler


def _DillPickler(file: Any, redaction: Redaction, clock: Optional[Clock], secrets: Secrets) -> Any:
    return _dill_pickler_class()(file, redaction, clock, secrets)


# Below this a record is quicker to reach in order than to open by itself.
ALONE_MIN_BYTES = 1 << 16
# Values whose record holds exactly one memo entry (the value) and refers to no
# other: numbers are never memoized, and strings and bytes are one entry.
_ALONE_ITEMS = frozenset((int, float, bool, type(None)))
# Values whose pickling calls no Python code (the C pickler saves them itself).
_PLAIN_DATA = _ALONE_ITEMS | {str, bytes}


def item_types(obj: Any) -> Optional[Set[type]]:
    """The types of the items (keys and values) of an exact list, tuple, set, frozenset or
    dict, in one C-speed pass; None for anything else."""
    t = type(obj)
    if t in (list, tuple, set, frozenset):
        return set(map(type, obj))
    if t is dict:
        return set(map(type, obj)) | set(map(type, obj.values()))
    return None


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
        self.policy = ReducePolicy(redaction, clock, in_dill=False)
        self.clock = clock
        self.pickler = _CPickler(sink, self.policy)
        self._pid = self.policy.persistent_id
        # (offset, length, fresh, alone): fresh records start with an empty memo;
        # alone ones can also be unpickled by themselves (see _loads_alone).
        self.index: List[Tuple[int, int, int, int]] = []
        self._fresh = 1

    def add(self, obj: Any) -> Tuple[Optional[int], Optional[str]]:
        """Pickle one value as a record: (record number, None), (record number, reason) when
        the value itself became a placeholder in it, or (None, reason) when nothing was written."""
        if self.clock.expired:
            return None, "not captured: time budget exhausted"
        if self.sink.closed:
            return None, "not captured: pickling an earlier value blocked, so no later value is pickled"
        start = self.sink.size
        self.policy.top, self.policy.top_reason = obj, None
        try:
            items = item_types(obj)
            hides = self.policy.may_hide_secrets(obj, items)
            self.pickler.persistent_id = self._pid if hides else _NO_PID  # type: ignore[method-assign]
            if not hides and (type(obj) in _PLAIN_DATA or (items is not None and items <= _PLAIN_DATA)):
                self.pickler.dump(obj)  # no Python code runs while plain data pickles: no clock
            else:
                # Without the alarm (outside the main thread), a record that blocks is given
                # up on, leaving the other half of the time to the values after it.
                self.clock.run_isolated(lambda: self.pickler.dump(obj),
                                        seconds=max(self.clock.value_seconds, self.clock.remaining() / 2),
                                        on_abandon=lambda: self.sink.close_at(start))
        except BaseException as exc:
            if self.sink.closed:
                return None, "not captured: pickling it blocked past its time budget"
            self.sink.rollback(start)
            # Memo entries made during the failed record point at bytes that are gone.
            self.pickler.clear_memo()
            self._fresh = 1
            if isinstance(exc, BudgetExceeded):
                return None, "not captured: time budget exceeded while pickling it"
            if isinstance(exc, ByteBudgetExceeded):
                return None, "not captured: %s" % exc
            if isinstance(exc, RecursionError):
                return None, "not captured: nested too deeply to pickle"
            return None, "not captured: %s" % describe_exception(exc)
        length = self.sink.size - start
        # Not with redaction at work: its persistent ids are memo entries of their own.
        alone = int(length >= ALONE_MIN_BYTES and not hides and _loads_alone(obj, items))
        self.index.append((start, length, self._fresh, alone))
        self._fresh = 0
        self.policy.top = None
        return len(self.index) - 1, self.policy.top_reason


class _Tolerant:
    """What both unpicklers add: stand-ins for missing classes, redacted values back."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)  # type: ignore[misc]
        except BaseException as exc:
            return missing_class(module, name, describe_exception(exc))

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "R":
            return dict(pid[1])
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "S":
            return pid[1]
        raise pickle.UnpicklingError("unknown persistent id in object record")


class _Unpickler(_Tolerant, pickle.Unpickler):
    """Tolerant, side-effect-free unpickler for object records."""


def _dill_unpickler_class() -> Any:
    dill = import_dill()

    class DillUnpickler(_Tolerant, dill.Unpickler):  # type: ignore[name-defined]
        """The same, for the nested dill pickles of functions and classes."""

    return DillUnpickler


def _DillUnpickler(file: Any) -> Any:
    return _dill_unpickler_class()(file)


# What the unpickler reads instead of a record already read by itself: the
# object handed over as persistent id 0 and memoized, as the record would have.
_HAND_OVER = b"\x80\x05K\x00Q\x94."   # PROTO 5, BININT1 0, BINPERSID, MEMOIZE, STOP


class _RecordStream:
    """The object member as the shared unpickler reads it.

    It has no ``peek``, so the C unpickler reads no further than each record
    (the position after one is exact), and it can put a hand-over pickle in
    front of what comes next.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.pending = b""

    def seek(self, position: int) -> None:
        self.pending = b""
        self.raw.seek(position)

    def read(self, size: int = -1) -> bytes:
        if not self.pending:
            return self.raw.read(size)
        head = self.pending if size < 0 else self.pending[:size]
        self.pending = self.pending[len(head):]
        rest = size - len(head) if size >= 0 else -1
        return head + (self.raw.read(rest) if rest else b"")

    def readinto(self, buffer: Any) -> int:
        if not self.pending:
            return self.raw.readinto(buffer)
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        if not self.pending:
            return self.raw.readline(size)
        cut = self.pending.find(b"\n") + 1 or len(self.pending)
        return self.read(cut if size < 0 else min(cut, size))

    def close(self) -> None:
        self.raw.close()


class _SequenceUnpickler(_Unpickler):
    """The shared unpickler, which also takes the objects its reader hands over."""

    def __init__(self, stream: _RecordStream, reader: "RecordReader") -> None:
        super().__init__(stream)
        self._reader = reader

    def persistent_load(self, pid: Any) -> Any:
        if pid == 0 and self._reader.handing is not None:
            return self._reader.handing
        return super().persistent_load(pid)


def index_is_valid(index: Any, size: int) -> bool:
    """Whether ``objects.idx`` can be followed: a list of ``[offset, length, fresh, alone]``
    (three items in dumps older than ``alone``) of non-negative ints inside the member
    of ``size`` bytes.  A crafted one must be a damaged object layer, not a crash."""
    # Checked with C-level loops (map, min, max): a deep stack's index has thousands of entries.
    if type(index) is not list or not index:
        return type(index) is list
    if set(map(type, index)) != {list} or not set(map(len, index)) <= {3, 4}:
        return False
    numbers = list(itertools.chain.from_iterable(index))
    if set(map(type, numbers)) != {int} or min(numbers) < 0:
        return False
    return max(map(operator.add, map(operator.itemgetter(0), index), map(operator.itemgetter(1), index))) <= size


class RecordReader:
    """Loads the records of an object member in order, as far as they are asked for.

    Records share one unpickler (and so its memo); a record that fails becomes
    a placeholder, and so do the ones after it until one starts a fresh memo.
    A large record that needs nothing before it (a list of a million numbers)
    is read by itself when it is asked for first, so a viewer holds what it
    shows, not everything recorded before it.
    """

    def __init__(self, stream: BinaryIO, base: int, index: List[List[int]],
                 reopen: Optional[Callable[[], BinaryIO]] = None) -> None:
        self.stream = _RecordStream(stream)
        self.base = base
        self.index = index
        self.values: List[Any] = []
        self.errors: Dict[int, str] = {}
        self.handing: Any = None           # during a hand-over: the object handed
        self._alone: Dict[int, Any] = {}   # records read by themselves, ahead of the order
        self._reopen = reopen
        self._unpickler: Optional[_SequenceUnpickler] = None
        self._failed: Optional[str] = None
        self._lock = threading.Lock()

    def get(self, record: int) -> Tuple[Any, Optional[str]]:
        """The record's object, or None and why it could not be restored.

        Thread-safe, so a viewer can load ahead in the background while it answers.
        """
        if not 0 <= record < len(self.index):  # a crafted ref: -1 would index from the end
            return None, "not restored: the dump has no object record %d" % record
        with self._lock:
            if len(self.values) <= record and record not in self._alone:
                self._load_alone(record)
            if record in self._alone:
                return self._alone[record], None
        while len(self.values) <= record:
            with self._lock:
                if len(self.values) <= record:
                    self._load_next()
        return self.values[record], self.errors.get(record)

    def _load_alone(self, record: int) -> None:
        entry = self.index[record]
        if len(entry) < 4 or not entry[3] or self._reopen is None:
            return
        try:
            with self._reopen() as stream:
                stream.seek(self.base + entry[0])
                self._alone[record] = _Unpickler(stream).load()
        except Exception:
            pass  # unreadable by itself (the file was replaced, say): read in order

    def _load_next(self) -> None:
        number = len(self.values)
        offset, length, fresh = self.index[number][:3]
        if fresh or self._unpickler is None:
            # Records after a failure share memo entries it never made; only a
            # record that starts a fresh memo can be trusted again.
            self.stream.seek(self.base + offset)
            self._unpickler = _SequenceUnpickler(self.stream, self)
            self._failed = None
        if self._failed is not None:
            self.errors[number] = self._failed
            self.values.append(None)
            return
        if number in self._alone:  # read by itself before: hand the same object over
            self.handing = self._alone.pop(number)
            self.stream.seek(self.base + offset + length)
            self.stream.pending = _HAND_OVER
        try:
            self.values.append(self._unpickler.load())
        except Exception as exc:
            reason = "not restored: %s" % describe_exception(exc)
            self.errors[number] = reason
            self.values.append(None)
            self._failed = "not restored: it shares objects with a value that failed to load (%s)" % reason
        finally:
            self.handing = None
