"""How each captured value pickles: by reference, by value through dill, or as a
placeholder, with secrets replaced on the way.

``ReducePolicy`` is asked about every object the record writer's C pickler (and
the dill pickler nested in it) meets.  Functions and classes that cannot be
pickled by reference (``__main__``, lambdas, local classes) go through dill,
nested as bytes; objects that cannot be pickled at all (a lock, a socket, a
generator) become ``Placeholder`` records right where they are, so the object
holding them still loads.  Records are written by ``tbdump.records``; the
functions these reductions call on load live in ``tbdump.objects``.
"""
from __future__ import annotations

import abc
import collections
import contextlib
import copyreg
import dataclasses
import datetime
import enum
import functools
import io
import os
import pickle
import sys
import threading
import types
import weakref
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from . import unpatched
from .budget import BudgetExceeded, Clock, cut_while
from .chain import LINK_SLOTS
from .dillimport import import_dill
from .loaded import loaded
# What the pickles written here call when they load: named by module path in every
# dump, so they live in tbdump.objects, the read side, under these names.
from .objects import (_by_name, _dill_loads, _empty_class, _fill_class, _fill_enum, _identity, _module_stand_in,
                      _rebuild_enum, _weak_ref, restore_exception, restore_object, restore_state)
from .objects import own_namespace
from .model import not_captured
from .placeholder import LockPlaceholder, Placeholder
from .preview import qualified_type, type_name
from .rebuilding import PROXY_TYPES, event_loop, logger, proxy, refused, type_params
from .redaction import ENVIRON_MARKER, Redaction, is_code, repeats_name, rule_marker
from .saferepr import describe_exception, safe_repr
from .scrubbing import Secrets, environ_masked, environ_probes, is_environ_copy, may_name_values


PROTOCOL = 5  # read by every supported Python (3.8+); big buffers are written without a copy

# Types the pickler handles by itself without surprises: skip our checks.
_TRUSTED_REDUCE = frozenset(
    ("datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
     "datetime.timezone", "decimal.Decimal", "fractions.Fraction", "uuid.UUID",
     "numpy.ndarray", "numpy.dtype", "collections.OrderedDict", "collections.deque",
     "collections.Counter", "collections.defaultdict", "pathlib.PosixPath", "pathlib.WindowsPath"))
# Of those, the ones whose reduction holds an object of any class, and how to read it: a
# datetime's tzinfo (pytz's, dateutil's, the program's own, a ZoneInfo whose zone data
# another machine lacks), a defaultdict's factory (a callable object).  Where that cannot be
# restored, the C type refuses its stand-in, and pickle's REDUCE would abort the record and
# every later one sharing its memo: such a value is guarded as other classes' are, so that
# it costs only itself.
_HOLDS_ANY: Dict[type, str] = {datetime.datetime: "tzinfo", datetime.time: "tzinfo",
                               collections.defaultdict: "default_factory"}
# What comes back as something these types take wherever the dump is opened: datetime's own
# zone; a class or function, or its stand-in (a class) or placeholder, both callable.
_ALWAYS_TAKEN = frozenset((type(None), datetime.timezone, type, types.FunctionType, types.BuiltinFunctionType))


# The markers dataclasses puts in a class's fields and tells by identity (fields() keeps those
# whose _field_type is _FIELD, a default is MISSING or not): written by name, as dill writes them,
# now that the records' pickler writes the script's classes itself (_class_reduction).
_DATACLASS_MARKERS = {id(v): (v, name) for name, v in vars(dataclasses).items()
                      if name in ("MISSING", "KW_ONLY", "_HAS_DEFAULT_FACTORY", "_FIELD", "_FIELD_CLASSVAR",
                                  "_FIELD_INITVAR")}
_DATACLASS_MARKER_TYPES = frozenset(type(v) for v, _ in _DATACLASS_MARKERS.values())


# The pure-Python pickler (dill's) asks reducer_override about everything.
_PLAIN_TYPES = frozenset((str, bytes, int, float, complex, bool, type(None), tuple, list, dict,
                          set, frozenset, bytearray, type(Ellipsis), type(NotImplemented)))
# The program's codes of copyreg.add_extension, by (module, name): pickle writes such a global as
# its code, which only a process that registered it can read.  The program's own picklers keep
# them: tbdump's write those globals by name instead (_by_name), whatever another thread pickles.
_EXTENSION_CODES: Dict[Tuple[str, str], int] = getattr(copyreg, "_extension_registry")  # private: not in typeshed
# Classes the C pickler saves by itself although no module exports them by name.
_SINGLETON_TYPES = (type(None), type(Ellipsis), type(NotImplemented))


_NUMBERS = frozenset((int, float, complex, bool, type(None)))
_NUMBERS_AND_TEXT = _NUMBERS | {str, bytes}
SECRET_VALUE = "<redacted: a secret's value>"
_PARTS = (dict, list, tuple)   # what a class's namespace is walked through (_note_class_parts)
_CLASS_PARTS = 10000           # containers walked per class
_is_ascii: Callable[[Any], bool] = bytes.isascii


# Classes made by these are rebuilt as pickle rebuilds an object: created empty, remembered,
# then filled, so a class holding its own instances (a singleton, a registry) refers to
# itself; dill, which creates a class from its whole dict, could only name it in __main__,
# where no other process finds it.  Other metaclasses may need the whole dict when the
# class is made (pydantic, SQLAlchemy): dill keeps those.
_PLAIN_METACLASSES = frozenset((type, abc.ABCMeta))
_HEAP_TYPE = 1 << 9   # Py_TPFLAGS_HEAPTYPE: a class statement's; C types are dill's to name
# What a class makes for itself when it is created, not copied onto the empty one; and
# copyreg's cache of its slot names, which pickling its instances for the dump put there.
_MADE_BY_CLASS = frozenset(("__dict__", "__weakref__", "_abc_impl", "__slots__", "__slotnames__"))
# What the class statement must already hold when the class is made: its slots, and the
# subscripted bases typing.Generic's __init_subclass__ reads (`class Box(Generic[T])`,
# `class Box[T]`: without them, "Cannot inherit from plain Generic").
_READ_AS_MADE = ("__slots__", "__orig_bases__")


def _defined(name: str, value: Any) -> bool:
    """Whether ``value`` under ``name``, which a class makes for itself, is the class statement's
    own (a metaclass's ``__dict__`` property), not what the class made."""
    return name == "__dict__" and type(value) is not types.GetSetDescriptorType


def _made_empty(obj: Any) -> bool:
    """Whether ``obj``, a class or function not found by reference, is a class made empty then
    filled (_class_reduction)."""
    kind = type(obj)
    return (kind in _PLAIN_METACLASSES or _hides_namespace(kind)) and bool(obj.__flags__ & _HEAP_TYPE)


def _hides_namespace(kind: Any) -> bool:
    """Whether ``kind`` is a metaclass whose classes' ``__dict__`` is something else than their
    namespace: dill, which rebuilds a class from what that gives, made it without its methods."""
    return issubclass(kind, type) and any("__dict__" in own_namespace(m) for m in kind.__mro__[:-2])


def _shared_class(obj: Any) -> bool:
    """Whether ``obj`` is a class that the records' pickler writes itself wherever it is met:
    in a dill pickle (a function's globals, a metaclass's class), it is a persistent id given the
    pickle's loader from there, so every reference to it is that one class.  Only such classes:
    the records' pickler memoizes them before anything in them, so a pickle that needs one never
    needs itself while it is written (a function nested in its own globals would)."""
    if not issubclass(type(obj), type) or any(obj is t for t in _SINGLETON_TYPES) or _importable(obj):
        return False
    return _made_empty(obj) or issubclass(type(obj), enum.EnumMeta)


def _class_reduction(cls: type, policy: "ReducePolicy") -> Tuple[Any, ...]:
    """``cls`` made empty, memoized, then filled with its attributes, its functions (methods,
    properties: code inside) in one dill pickle, as the class was before it was written apart."""
    namespace = own_namespace(cls)
    made = {k: namespace[k] for k in _READ_AS_MADE if k in namespace}
    slots = made.get("__slots__")
    slot_names = {slots} if issubclass(type(slots), str) else set(slots or ())
    state = {k: v for k, v in namespace.items()
             if (k not in _MADE_BY_CLASS or _defined(k, v)) and k not in made and k not in slot_names}
    state["__qualname__"] = cls.__qualname__   # kept by the class itself, not in its __dict__
    functions = {k: v for k, v in state.items() if type(v) in _CODE_HOLDERS}
    # Each function's name in its place among the attributes (its value is the one _fill_class
    # takes from ``functions``): the class's namespace in the order of its class statement.
    attributes = {k: None if k in functions else v for k, v in state.items()}
    # The Python that wrote it and its names: opened by another, it is a stand-in, as dill's are.
    written = (tuple(unpatched.version_info[:2]), cls.__module__, cls.__qualname__)
    return (_empty_class, (type(cls), cls.__name__, cls.__bases__, made) + written,
            (attributes, tuple(functions), _written_apart(policy, functions)), None, None, _fill_class)


# What a class's namespace holds with code inside: one dill pickle for all of a class's, as when
# dill wrote the whole class (a pickle each: 1.7 times the bytes and some 1.6 times the time,
# for a script of 150 classes of 10 methods).
_CODE_HOLDERS = frozenset((types.FunctionType, staticmethod, classmethod, property))


class _Functions:
    """A class's functions, which the records' pickler writes as one dill pickle of their dict."""

    def __init__(self, policy: "ReducePolicy", functions: Dict[str, Any]) -> None:
        self._policy = policy
        self._functions = functions

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._policy.by_value(self._functions)


def _written_apart(policy: "ReducePolicy", functions: Dict[str, Any]) -> Any:
    """A class's functions as one dill pickle; none, an empty dict (dill not even imported)."""
    return _Functions(policy, functions) if functions else {}


def _enum_reduction(cls: Any, policy: "ReducePolicy") -> Tuple[Any, ...]:
    """An Enum class of the crashed program, as its members: dill cannot rebuild Enum
    classes on Python 3.11+, and the members are what a crash is about.  The methods and
    properties of its class statement are one dill pickle, set once it is rebuilt (Enum's
    functional API takes none), and so are its members' own attributes (an ``__init__`` of
    the class statement sets them, which the rebuilt class does not run)."""
    bases = cls.__mro__[1:]
    base = next((b for b in bases if issubclass(b, enum.Enum) and (_importable(b) or _makes_members_plainly(b))),
                enum.Enum)
    mixin = next((b for b in bases if not issubclass(b, enum.Enum) and b is not object and _importable(b)), None)
    if mixin is not None and issubclass(base, mixin):
        mixin = None
    members = [(name, member._value_) for name, member in cls.__members__.items()]  # aliases too
    # Not what EnumType copied there from an Enum base (its __new__, Flag's __or__, Enum's __repr__
    # beside a mix-in), the static method itself or its function: the rebuilt class has it
    # already, and a dill pickle of it is for nothing.
    enums = [own_namespace(b) for b in bases if issubclass(b, enum.Enum)]
    namespace = {k: v for k, v in own_namespace(cls).items()
                 if not any(_unwrapped(e.get(k, _unwrapped)) is _unwrapped(v) for e in enums)}
    functions = {k: v for k, v in namespace.items() if type(v) in _CODE_HOLDERS}
    # The rest of its class statement and what was set on it after (`__str__ = str.__str__`, its
    # docstring, a nonmember, `Color.default = ...`); Enum's own names (sunder) are the rebuilt one's.
    attributes = {k: v for k, v in namespace.items()
                  if k not in functions and k not in cls.__members__ and k not in _ENUMS_MADE and not _sunder(k)}
    return (_rebuild_enum, (cls.__name__, cls.__qualname__, cls.__module__, base, mixin, members),
            (tuple(functions), _written_apart(policy, functions), _members_own(cls), attributes),
            None, None, _fill_enum)


def _unwrapped(value: Any) -> Any:
    """The function of a static or class method; any other value itself."""
    return value.__func__ if type(value) in (staticmethod, classmethod) else value


# What any class made has in its namespace, its own or the rebuilt Enum's.
_ENUMS_MADE = frozenset(("__module__", "__qualname__", "__dict__", "__weakref__", "__firstlineno__",
                         "__static_attributes__"))


def _sunder(name: str) -> bool:
    """Whether ``name`` is one Enum reserves, as ``enum._is_sunder`` tells."""
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


def _makes_members_plainly(base: Any) -> bool:
    """Whether Enum class ``base`` of the program (one holding the methods of several, without
    members: written as they are) makes its subclasses' members from their values alone, with
    no ``__new__`` nor ``__init__`` of the program's, which the values written (``_value_``)
    would not fit: the rebuilt class is its subclass then, else a subclass of the library's Enum
    nearest to it."""
    for c in base.__mro__:
        namespace = own_namespace(c)
        news = ("_new_member_", "__new_member__") if issubclass(c, enum.Enum) else ("__new__",)
        if not _importable(c) and ("__init__" in namespace or
                                   any(type(namespace.get(n)) is types.FunctionType for n in news)):
            return False
    return True


def _members_own(cls: Any) -> Dict[str, Dict[str, Any]]:
    """The attributes of each member of Enum class ``cls`` that Enum did not set, by name; members
    without any left out."""
    found = {}
    for name, member in cls.__members__.items():
        attributes = getattr(member, "__dict__", None)
        if member._name_ == name and type(attributes) is dict:   # not an alias
            own = {k: v for k, v in attributes.items() if k not in _MEMBERS_OWN}
            if own:
                found[name] = own
    return found


# What Enum sets on each member, which the rebuilt class's members have already.
_MEMBERS_OWN = frozenset(("_value_", "_name_", "__objclass__", "_sort_order_"))


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
        try:
            contents = cell.cell_contents
        except ValueError:
            contents = None  # an empty cell holds nothing to learn
        rule = redaction.rule_for(name, contents)
        if rule:
            changed = True
            secrets.learn(contents)
            new_cells.append(types.CellType(rule_marker(rule)))
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
        rule = redaction.rule_for(name, value)
        if rule and not is_code(value):
            secrets.learn_named(name, value)
            value, changed = rule_marker(rule), True
        out.append((name, value))
    return out if changed else None


def _guarded(obj: Any, rv: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """The same reduction, rebuilt on load by functions that turn failures into placeholders.

    Without this one class whose ``__init__`` or ``__setstate__`` changed since
    the dump would abort loading every value after it.
    """
    func, args = rv[0], rv[1]
    state = rv[2] if len(rv) > 2 else None
    if type(state) is dict:
        # The object's own __dict__, which the program's other threads go on changing while
        # it is pickled (a Thread deletes its target as it ends): pickle would fail on it, and
        # the record with it.  Copying a dict is one step no other thread comes between.
        state = state.copy()
    items = rv[3] if len(rv) > 3 else None
    pairs = rv[4] if len(rv) > 4 else None
    setter = rv[5] if len(rv) > 5 else None
    restore = (restore_object, (qualified_type(obj), func, args))
    if state is None or setter is not None:
        return restore + (state, items, pairs, setter)
    return restore + (state, items, pairs, restore_state)


def _chained(exc: BaseException, rv: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """An exception's reduction with what it was chained to, which pickle leaves out: a caught
    error kept as a value (a batch's failures, a future's) comes back with its cause and
    context, as the crash's own chain does.  Its ``__traceback__`` cannot be restored."""
    links = {name: getattr(exc, name) for name in LINK_SLOTS}
    setter = rv[5] if len(rv) > 5 else None
    if not any(links.values()) or setter not in (None, restore_state):
        return rv
    return rv[:2] + ((rv[2] if len(rv) > 2 else None, links), rv[3] if len(rv) > 3 else None,
                     rv[4] if len(rv) > 4 else None, restore_exception)


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
        self._made_ids: Dict[int, Any] = {}  # dict keys kept as they are
        # What persistent_id answered for each mutable value it replaced (by id, with the value,
        # kept alive so that no other takes its id), and None for the copies written in their
        # place: every reference is given the one id, which pickle then memoizes (see _same_id).
        self._pids: Dict[int, Tuple[Any, Any]] = {}
        self._generic: Dict[int, Any] = {}   # generic functions whose type parameters are written
        self._shaped: Dict[type, bool] = {}  # types whose reduction may hold named fields
        self._ndarray = loaded("numpy", "ndarray", type) or _NO_TYPE
        # What a logger's reduction calls (None: the program has no logging, nor loggers).
        self._get_logger = loaded("logging", "getLogger")
        # asyncio's event loops (none: the program has no asyncio).
        self._event_loop = loaded("asyncio.base_events", "BaseEventLoop", type) or _NO_TYPE
        # Why each value that became a placeholder did, by id (with the value, kept alive so
        # that no other takes its id): a later record of it refers to that placeholder, and
        # the safe layer says why wherever it shows the value, not only where it was first met.
        self.placeholders: Dict[int, Tuple[Any, str]] = {}

    def reduce(self, obj: Any) -> Any:
        t = type(obj)
        if t in _PLAIN_TYPES:
            return NotImplemented
        if t in _DATACLASS_MARKER_TYPES and _DATACLASS_MARKERS.get(id(obj), (None,))[0] is obj:
            return _DATACLASS_MARKERS[id(obj)][1]   # the global of that name in dataclasses
        hidden = self._hidden(obj, t) if self.redaction.enabled else ()
        qual = "%s.%s" % (getattr(t, "__module__", "?"), getattr(t, "__qualname__", "?"))
        if qual in _TRUSTED_REDUCE and not hidden:
            held = _HOLDS_ANY.get(t)
            if held is not None and type(getattr(obj, held)) not in _ALWAYS_TAKEN:
                return _guarded(obj, obj.__reduce_ex__(PROTOCOL))
            return NotImplemented
        if t in PROXY_TYPES:  # before isinstance(), which a proxy answers for its referent
            return proxy(obj) or self._placeholder(obj, not_captured("the object this weak proxy "
                                                                     "refers to cannot be found"))
        # Of its real class from here on: isinstance() reads __class__, the program's (an object
        # answering None for every name made os._Environ's ABC check raise TypeError).
        if issubclass(t, types.ModuleType):
            return (_module_stand_in, (obj.__name__,))
        if issubclass(t, os_environ_type):
            return self._environ(obj)
        if t in _LOCK_TYPES:
            text = safe_repr(obj)[:200]
            return (LockPlaceholder, (type_name(obj), not_captured("a lock; restored as a stand-in "
                                                                   "that acquires without waiting"),
                                      text, text.startswith("<locked")))
        if _is_os_stream(t) or issubclass(
                t, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType, types.FrameType,
                    types.TracebackType)):
            # dill would pickle some of these, and re-open files on load; never.
            return self._placeholder(obj, not_captured("%s objects cannot be restored" % type_name(obj)))
        if issubclass(t, (types.FunctionType, type, types.CodeType)):
            if any(obj is t for t in _SINGLETON_TYPES):  # identity: a metaclass may break ==
                return NotImplemented
            return self._by_reference_or_value(obj)
        if issubclass(t, enum.Enum) and _says_other_class(obj, t):
            # Its __reduce_ex__ names its __class__, which the class's property of that name makes
            # another (int, str): the member came back as that class's value.
            return _guarded(obj, (t, (obj._value_,)))
        if self.in_dill and t in _dill_dispatch():
            return NotImplemented  # cells, code, and the other types dill saves by itself
        if t is weakref.ReferenceType:
            return (_weak_ref, (obj(),))
        if t is weakref.KeyedRef:
            return (_weak_ref, (obj(), obj.key, True))
        try:
            rv = self.clock.run(lambda: _reduce_ex(obj)) if self.clock is not None else _reduce_ex(obj)
        except BudgetExceeded as exc:
            return self._placeholder(obj, cut_while(exc, "pickling it"))
        except BaseException as exc:
            rebuilt = refused(obj, qual)
            if rebuilt is not None:
                return rebuilt
            if not self.in_dill and t in _DILL_ONLY_TYPES:
                return self.by_value(obj)
            return self._placeholder(obj, not_captured(describe_exception(exc)))
        if rv is _IN_MAIN:
            rebuilt = refused(obj, qual)
            if rebuilt is not None:
                return rebuilt
            return NotImplemented if self.in_dill else self.by_value(obj)
        if issubclass(type(rv), str):
            return _without_code(obj, rv)
        if not issubclass(type(rv), tuple) or not 2 <= len(rv) <= 6 or not callable(rv[0]):
            return self._placeholder(obj, not_captured("__reduce_ex__ returned %s" % type_name(rv)))
        if rv[0] is self._get_logger:
            rv = logger(obj)
        elif issubclass(t, self._event_loop):
            rv = event_loop(rv)
        if hidden:
            rv = self._hide_in(obj, t, rv)
        if len(rv) > 2 and type(rv[2]) is dict and "args" in rv[2] and self.redaction.enabled:
            # A LogRecord deeper than the learning pass reads (a handler's buffer): what its
            # message's fields name, learned before its state is pickled.
            self.secrets.learn_logged(rv[2].get("msg"), rv[2]["args"])
        disarm = _DISARMED.get(qual)
        if disarm is not None and len(rv) > 2 and type(rv[2]) is dict:
            rv = rv[:2] + (dict(rv[2], **disarm(rv[2])),) + rv[3:]
        if not self.in_dill or (rv[0] in _NEWOBJS and _says_other_class(obj, t)):
            # pickle refuses __newobj__ for an object whose __class__ names another class (a
            # lazy object's): dill, which saves what the script's functions and classes hold,
            # lost them whole.  restore_object makes it of its real class all the same.
            rv = _guarded(obj, rv)
        return _chained(obj, rv) if issubclass(t, BaseException) else rv

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
        for name, value in hidden:
            self.secrets.learn_named(name, value)
        return hidden

    def _hide_in(self, obj: Any, t: type, rv: Tuple[Any, ...]) -> Tuple[Any, ...]:
        """The reduction of ``obj`` with its secrets' values replaced, where its shape says
        which value is which: a namedtuple's arguments, a slotted dataclass's state list,
        a dict subclass's items."""
        func, args, rest = rv[0], rv[1], list(rv[2:])
        _, _, _, fields = self.secrets.layout(t)
        if fields and func is _NEWOBJ and type(args) is tuple and args and args[0] is t:
            values = list(args[1:])
            if len(values) == tuple.__len__(obj):
                for index, name in fields:
                    values[index] = self._in_place_of(name, values[index])
                args = (t,) + tuple(values)
        state: Any = rest[0] if rest else None
        if type(state) in (list, tuple) and dataclasses.is_dataclass(t):
            try:
                names = [f.name for f in dataclasses.fields(t)]
            except Exception:
                names = []
            if len(names) == len(state):
                rest[0] = type(state)(self._in_place_of(n, v) for n, v in zip(names, state))
        if len(rest) >= 3 and rest[2] is not None and issubclass(t, dict):
            rest[2] = self._hidden_items(rest[2])
        return (func, args) + tuple(rest)

    def _hidden_items(self, items: Any) -> Any:
        for pair in items:
            value = self._in_place_of(pair[0], pair[1])
            yield pair if value is pair[1] else (pair[0], value)

    def _in_place_of(self, name: Any, value: Any) -> Any:
        """``value``, or the marker of the rule its ``name`` hits (never checked again)."""
        rule = self.redaction.rule_for(name, value) if type(name) is str else None
        return self._masked(name, value, rule_marker(rule)) if rule else value

    def _masked(self, name: str, secret: Any, marker: str) -> Any:
        """What a secret is pickled as: the marker, in the secret's shape where code unpacks it
        (an ``auth=(user, password)``; requests' headers keep ``{"authorization":
        ("Authorization", value)}``), so the object holding it still works.  An item that is
        the secret's name again (that "Authorization") stays: names are not secrets."""
        t = type(secret)
        if (t is tuple or t is list) and 0 < len(secret) <= 16:
            return t([item if repeats_name(name, item) else self._marker(marker) for item in secret])
        return self._marker(marker)

    def _hides(self, value: Any, holder: dict) -> bool:
        """Whether ``value``, under a secret's name in ``holder``, is hidden.  In a class
        pickled by value, what is held under a field's name (a pydantic model's schema and
        FieldInfo for ``password``) describes the field: hidden, it would leave a class that
        cannot be rebuilt, and learned, the schema's words ("model-field") hidden from every
        text.  Text and numbers there still are."""
        if is_code(value):
            return False
        parts = self.secrets.class_parts
        return type(value) in _NUMBERS_AND_TEXT or parts.get(id(holder)) is not holder

    def _note_class_parts(self, cls: type) -> None:
        """Remember the dicts, lists and tuples in the namespace of ``cls``, which is pickled by
        value, and in them (see ``_hides``): read as the interpreter stores them, bounded."""
        parts = self.secrets.class_parts
        todo = [v for v in dict(vars(cls)).values() if type(v) in _PARTS]
        for _ in range(_CLASS_PARTS):
            if not todo:
                return
            part = todo.pop()
            if parts.get(id(part)) is not part:
                parts[id(part)] = part
                todo.extend(v for v in (dict.values(part) if type(part) is dict else part) if type(v) in _PARTS)

    def _environ(self, env: Any) -> Any:
        if self.redaction.keep_environ:
            return (dict, (dict(env),))
        self.secrets.hide_environ()
        return (dict, ({k: ENVIRON_MARKER for k in env},))

    def _by_reference_or_value(self, obj: Any) -> Any:
        if _importable(obj):
            return _without_code(obj, obj.__qualname__)
        if issubclass(type(obj), enum.EnumMeta):
            return _enum_reduction(obj, self)
        if issubclass(type(obj), type) and self.redaction.enabled:
            self._note_class_parts(obj)
        if _made_empty(obj):
            # By the record's own pickler, not nested in dill: so one class wherever the dump
            # refers to it (its subclasses' base, another class's attribute, a function's global).
            return _class_reduction(obj, self)
        if self.in_dill:
            if issubclass(type(obj), types.FunctionType) and id(obj) not in self._generic:
                generic = type_params(obj)
                if generic is not None:
                    # Its argument is the function itself, asked about again: dill's then (as
                    # below), and the memo makes every reference to it the one given its params.
                    self._generic[id(obj)] = obj
                    return generic
            if issubclass(type(obj), types.FunctionType) and self.redaction.enabled:
                safe = _redacted_function(obj, self.redaction, self.secrets)
                if safe is not obj:
                    return (_identity, (safe,))
            return NotImplemented
        return self.by_value(obj)

    def by_value(self, obj: Any) -> Any:
        """Pickled by dill, nested as bytes: what the C pickler cannot save by itself."""
        try:
            payload, shared = self._dill_payload(obj)
            if self.redaction.enabled and self.secrets.contains_blob(payload):
                # A secret learned while it was written (a class's attribute before the dict that
                # names it a secret): written again, now that it is known.
                payload, shared = self._dill_payload(obj)
        except BudgetExceeded as exc:
            return self._placeholder(obj, cut_while(exc, "pickling it"))
        except BaseException as exc:
            return self._placeholder(obj, not_captured("dill cannot pickle it (%s)" % describe_exception(exc)))
        if self.redaction.enabled:
            if self.secrets.contains_blob(payload):
                return self._placeholder(obj, not_captured("it holds a secret where it cannot be hidden"))
            self._made.add(payload)  # a pickle: scrubbing its bytes would leave one that cannot load
        args = (payload, tuple(unpatched.version_info[:2]), issubclass(type(obj), type),
                getattr(obj, "__module__", None), getattr(obj, "__qualname__", None))
        # The classes it refers to, written by this pickler after it (a pickle without any
        # loads as before, also where a reader of older dumps opens it).
        return (_dill_loads, args + (shared,) if shared else args)

    def _dill_payload(self, obj: Any) -> Tuple[bytes, Tuple[Any, ...]]:
        """dill's pickle of ``obj`` and the classes it refers to by persistent id (_shared_class)."""
        buf = io.BytesIO()
        pickler = _DillPickler(buf, self.redaction, self.clock, self.secrets)
        pickler.dump(obj)
        return buf.getvalue(), tuple(pickler.shared)

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
                text = rule_marker(rule)
            rule = self.redaction.rule_for_text(reason)
            if rule:
                reason = not_captured("<redacted: %s>" % rule)
        self.placeholders[id(obj)] = (obj, reason)
        return (Placeholder, (type_name(obj), reason, text[:200]))

    def missing(self, obj: Any) -> Optional[str]:
        """Why ``obj`` is a placeholder in the object layer; None: it is not."""
        made = self.placeholders.get(id(obj))
        return made[1] if made is not None and made[0] is obj else None

    def _marker(self, text: str) -> str:
        """``text``, written in place of a secret: never checked again (a value pattern
        may match the marker that names it)."""
        self._made.add(text)
        return text

    def may_hide_secrets(self, obj: Any, items: Optional[Set[type]], values: Optional[Set[type]] = None) -> bool:
        """Whether pickling ``obj`` needs the per-object redaction check.

        The check is a Python call for every object pickled; plain numbers and
        flat containers of them (a 1 000 000-item list) are cleared here at C
        speed instead.  ``items``, ``values``: ``tbdump.records.item_types(obj)``, which the
        caller needs too.
        """
        if not self.redaction.enabled:
            return False
        secrets = self.secrets
        texts_matter = bool(secrets.texts or self.redaction.patterns)
        plain = _NUMBERS if texts_matter else _NUMBERS_AND_TEXT
        t = type(obj)
        if t in plain:
            if t is str:
                return "://" in obj   # a URL's password (the learning pass read its named values)
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
                return self._flat_hides(obj.values(), set(map(type, obj.values())) if values is None else values)
            if qualified_type(obj) == "numpy.ndarray":
                return bool(obj.dtype.hasobject or (obj.dtype.kind in "US" and texts_matter))
        except Exception:
            pass
        return True

    def _flat_hides(self, values: Any, items: Set[type]) -> bool:
        """Whether a flat container's items (all in the plain types) hold what the persistent
        ids hide: a secret int, or in a string or bytes item, a URL's password or a value
        written after a secret's name (read by the pickling in every item, where the preview
        learned them only from the items it shows)."""
        if (str in items or bytes in items) and not (self.secrets.texts or self.redaction.patterns):
            for kind in (str, bytes):
                if kind in items and self._texts_hide(
                        values if items == {kind} else [x for x in values if type(x) is kind], kind):
                    return True
        return bool(self.secrets.ints) and int in items and not self.secrets.ints.isdisjoint(values)

    def _texts_hide(self, texts: Iterable[Any], kind: type) -> bool:
        """Whether strings or bytes (``kind``) may hold a URL's password or a value written after
        a secret's name: joined and searched at C speed."""
        if kind is str:
            joined = "\0".join(texts)
        else:  # bytes are read for them where they are ASCII text (_blob_id), not random data
            joined = b"\0".join(filter(_is_ascii, texts)).decode("ascii")
        return "://" in joined or may_name_values(joined, self.redaction)

    def persistent_id(self, obj: Any) -> Any:
        """Redaction of what the C pickler never shows reduce hooks: plain dicts, strings,
        bytes and ints (and numpy's text arrays)."""
        t = type(obj)
        if t is str:
            return self._text_id(obj)
        if t is dict or t is bytearray or t is self._ndarray:
            return self._same_id(obj, t)
        if t is int:
            return ("S", SECRET_VALUE) if self.secrets.ints and obj in self.secrets.ints else None
        if t is bytes:
            return self._blob_id(obj, t)
        return None

    def _same_id(self, obj: Any, t: type) -> Any:
        """The persistent id of a mutable value, the same tuple at every reference to it.

        Pickle memoizes a persistent id, not the object it stands for: a new id at each
        reference loaded as a new copy each time (a request dict held by fifteen frames came
        back as fifteen dicts), and a dict holding itself made ids forever, until Python's
        recursion limit lost the record.  The one tuple is written once and referred to after;
        a dict's is ``("R", copy)``, the copy pickled as any dict (memoized before its items),
        so a reference to the dict from inside its own items finds it.
        """
        made = self._pids.get(id(obj))
        if made is not None and made[0] is obj:
            return made[1]
        if t is dict:
            copy = self._dict_copy(obj)
            pid = None if copy is None else ("R", copy)
        else:
            pid = self._blob_id(obj, t) if t is bytearray else self._array_id(obj)
        if pid is not None:
            self._pids[id(obj)] = (obj, pid)
            self._pids[id(pid[1])] = (pid[1], None)   # written in place of a secret: final
        return pid

    def _text_id(self, obj: str) -> Any:
        secrets = self.secrets
        if len(obj) >= secrets.min_length:
            if obj in secrets.texts:
                return None if self._kept(obj) else ("S", SECRET_VALUE)
            if secrets.contains(obj) and obj not in self._made and not self._kept(obj):
                return ("S", self._made_text(secrets.scrub(obj)))
        if (":" in obj or "=" in obj) and obj not in self._made and secrets.learn_named_values(obj):
            return ("S", self._made_text(secrets.scrub(obj)))
        if self.redaction.patterns:
            rule = self.redaction.rule_for_text(obj)
            if rule and obj not in self._made:
                return ("S", self._marker(rule_marker(rule)))
        return None

    def _made_text(self, text: str) -> str:
        rule = self.redaction.rule_for_text(text)
        return self._marker(rule_marker(rule) if rule else text)

    def _kept(self, obj: str) -> bool:
        """A dict key held as it is: learned only on weak evidence (see Secrets.weak)."""
        return id(obj) in self._made_ids and self._made_ids[id(obj)] is obj

    def _dict_copy(self, obj: dict) -> Optional[dict]:
        """``obj`` with its secrets' values (and an environment copy's) replaced; None: it
        holds none."""
        environ = bool(self._probes) and is_environ_copy(obj, self._probes)
        if environ:
            self.secrets.hide_environ()
            obj = environ_masked(obj, _environ_marker)
        weak = self.secrets.weak
        if weak and not weak.isdisjoint(obj):
            for key in obj:
                if type(key) is str and key in weak:
                    self._made_ids[id(key)] = key
        rule_of = self.redaction.rule_for
        masked = obj if environ else None
        if len(obj) > 8 and not self.secrets.key_facts(obj)[0]:
            return masked
        for key in obj:
            if type(key) is str and rule_of(key, obj[key]) and self._hides(obj[key], obj):
                masked = {}
                for k, v in obj.items():
                    # The environment's value stays its marker (as its preview says), whatever its name.
                    rule = rule_of(k, v) if type(k) is str and v is not ENVIRON_MARKER and self._hides(v, obj) else None
                    if rule:
                        self.secrets.learn_named(k, v)
                        v = self._masked(k, v, rule_marker(rule))
                    masked[k] = v
                return masked
        return masked

    def _blob_id(self, obj: Any, t: type) -> Any:
        secrets = self.secrets
        if (b"=" in obj or b":" in obj) and obj.isascii():  # a request's body or headers; not random bytes
            secrets.learn_named_values(obj.decode("ascii"))
        hit = secrets.contains_blob(obj)
        rule = None
        if not hit and self.redaction.patterns and len(obj) >= secrets.MIN_LENGTH:
            rule = self.redaction.rule_for_text(bytes(obj).decode("latin-1"))
        if not hit and not rule:
            return None
        data = bytes(obj)
        if data in self._made:
            return None
        clean = rule_marker(rule).encode() if rule else secrets.scrub_blob(data)
        self._made.add(clean)
        return ("S", clean if t is bytes else bytearray(clean))

    def _array_id(self, obj: Any) -> Any:
        """A numpy array of str or bytes holding a secret: pickled as a scrubbed copy."""
        secrets = self.secrets
        try:
            kind = obj.dtype.kind
            if kind not in "US" or not secrets.texts or obj.nbytes > 1 << 26:
                return None
            data = obj.tobytes()
            if kind == "U":
                found = any(t.encode("utf-32-le", "surrogatepass") in data for t in secrets.texts)
            else:
                found = secrets.contains_blob(data)
            if not found:
                return None
            items = obj.ravel().tolist()
            clean = [secrets.scrub(x) if kind == "U" else secrets.scrub_blob(x) for x in items]
            numpy = sys.modules["numpy"]
            copy = numpy.array(clean, dtype=kind).reshape(obj.shape)
        except Exception:
            return None
        return ("S", copy)


def _environ_marker(value: Any) -> str:
    return ENVIRON_MARKER


_NEWOBJ = getattr(copyreg, "__newobj__")   # what object.__reduce_ex__ gives a tuple subclass
_NEWOBJS = (_NEWOBJ, getattr(copyreg, "__newobj_ex__"))   # the makers pickle checks the class of


def _says_other_class(obj: Any, t: type) -> bool:
    """Whether ``obj.__class__`` is not its class, as pickle reads it before a __newobj__."""
    try:
        return obj.__class__ is not t
    except Exception:
        return True


class _NoType:
    """Stands for numpy.ndarray where numpy was never imported: no object has this type."""


_NO_TYPE = _NoType


# A global of ``__main__`` by name (an lru_cache wrapper): no other process can find it there.
_IN_MAIN = object()


# How a dump holds the objects of some types, looked up before copyreg's table: a dispatch
# table of dumps alone, which the program's own pickling (a spawned child's Process object)
# never consults.  tbdump's hooks are placeholders there, and a caller keeps what it owns out
# of the dumps it writes for a while (reduced_in_dumps: pytest's objects of the whole run).
DUMP_REDUCERS: Dict[type, Callable[[Any], Any]] = {}


@contextlib.contextmanager
def reduced_in_dumps(reducers: Dict[type, Callable[[Any], Any]]) -> Iterator[None]:
    """``reducers`` in DUMP_REDUCERS for the dumps written meanwhile; then what was there before."""
    saved = {t: DUMP_REDUCERS.get(t) for t in reducers}
    DUMP_REDUCERS.update(reducers)
    try:
        yield
    finally:
        for t, reducer in saved.items():
            if reducer is None:
                del DUMP_REDUCERS[t]
            else:
                DUMP_REDUCERS[t] = reducer


def _reduce_ex(obj: Any) -> Any:
    """``obj``'s reduction as a dump pickles it: a reducer of DUMP_REDUCERS, else one
    registered with copyreg (re.Pattern's), before ``__reduce_ex__``; _IN_MAIN for a name in
    ``__main__``."""
    registered = DUMP_REDUCERS.get(type(obj)) or copyreg.dispatch_table.get(type(obj))
    rv: Any   # the program's: told by its real class, as the value is
    if registered is not None:
        rv = registered(obj)
    else:
        reduce_ex = obj.__reduce_ex__
        if not callable(reduce_ex):   # else pickle's words: "'NoneType' object is not callable"
            raise pickle.PicklingError("its __reduce_ex__ is %s, not a method" % safe_repr(reduce_ex)[:100])
        rv = reduce_ex(PROTOCOL)
    if issubclass(type(rv), str):
        module = getattr(obj, "__module__", None)
        if type(module) is str and module == "__main__":
            return _IN_MAIN
        if type(module) is str and _global(module, rv) is not obj:
            # pickle would refuse it, and the whole record with it
            raise pickle.PicklingError("its __reduce__ names %s.%s, which is another object" % (module, rv))
    return rv


_LOCK_TYPES = frozenset((type(threading.Lock()), type(threading.RLock())))
# Buffers in memory pickle their content; every other stream is an OS resource.
_IN_MEMORY_IO = (io.StringIO, io.BytesIO)


def _is_os_stream(t: type) -> bool:
    """Whether instances of ``t`` are streams of an OS resource (a file, a pipe, a socket's)."""
    return issubclass(t, io.IOBase) and not issubclass(t, _IN_MEMORY_IO)


def _closed_zip(state: Dict[str, Any]) -> Dict[str, Any]:
    """A ZipFile of a file on disk, whose file is no longer there to read or write: closed,
    with its listing, rather than open on a placeholder (its collection would write to it)."""
    fp = state.get("fp")
    return {"fp": None} if _is_os_stream(type(fp)) else {}


# Objects that act on this machine's files when they are collected, restored with that
# undone: a dump's NamedTemporaryFile would delete the file of its name here.  Each gives
# the changes to the state pickle writes.
_DISARMED: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
    "tempfile._TemporaryFileCloser": lambda state: {"delete": False, "close_called": True,
                                                    "cleanup_called": True},
    "zipfile.ZipFile": _closed_zip,
    # Collected while it runs, it would have this machine's child of that pid waited for.
    "subprocess.Popen": lambda state: {"_child_created": False},
}
# Types pickle refuses and dill saves faithfully (as the program held them).
_DILL_ONLY_TYPES = frozenset((types.MappingProxyType, staticmethod, classmethod, property,
                              type({}.keys()), type({}.values()), type({}.items())))


def _dill_dispatch() -> Dict[type, Any]:
    dill = import_dill()
    return dill.Pickler.dispatch


os_environ_type = type(os.environ)


def _without_code(obj: Any, name: str) -> Any:
    """How to pickle ``obj``, which the pickler saves as the global ``name`` of its module:
    by that name where the program gave it an extension code, else as the pickler would."""
    if not _EXTENSION_CODES:
        return NotImplemented
    module = getattr(obj, "__module__", None)
    return (_by_name, (module, name)) if issubclass(type(module), str) and (module, name) in _EXTENSION_CODES \
        else NotImplemented


def _importable(obj: Any) -> bool:
    """Whether ``obj`` can be pickled by reference and found again by another process."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if issubclass(type(obj), types.CodeType) or not module or not qualname or module == "__main__":
        return False
    if "<locals>" in qualname or "<lambda>" in qualname:
        return False
    return _global(module, qualname) is obj


def _global(module: str, qualname: str) -> Any:
    """What ``module.qualname`` names in this process (None: nothing), as pickle looks it up."""
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found


@functools.lru_cache(maxsize=None)   # made once: a class a pickle, some 18 us each, in every dump of functions
def _dill_pickler_class() -> Any:
    dill = import_dill()

    class DillPickler(dill.Pickler):  # type: ignore[name-defined]
        def __init__(self, file: Any, redaction: Redaction, clock: Optional[Clock],
                     secrets: Secrets) -> None:
            super().__init__(file, PROTOCOL, recurse=True)
            self._policy = ReducePolicy(redaction, clock, in_dill=True, secrets=secrets)
            self.shared: List[Any] = []          # the classes written by the records' pickler
            self._shared_ids: Dict[int, Tuple[str, int]] = {}   # by id: the persistent id of each

        def reducer_override(self, obj: Any) -> Any:
            return self._policy.reduce(obj)

        def persistent_id(self, obj: Any) -> Any:
            if issubclass(type(obj), type):
                pid = self._shared_ids.get(id(obj))
                if pid is None and _shared_class(obj):
                    pid = self._shared_ids[id(obj)] = ("X", len(self.shared))
                    self.shared.append(obj)
                if pid is not None:
                    return pid
            return self._policy.persistent_id(obj) if self._policy.redaction.enabled else None

    return DillPickler


def _DillPickler(file: Any, redaction: Redaction, clock: Optional[Clock], secrets: Secrets) -> Any:
    return _dill_pickler_class()(file, redaction, clock, secrets)
