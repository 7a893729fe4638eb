"""The object layer's read side: records unpickled in order, lazily and tolerantly, and
the functions written pickles call when they load.

Records are unpickled in order with one unpickler (so the memo the writer shared
across records works); a record that fails to load is read again tolerantly
(``tbdump.recovery``), and the next one goes on from the memo that reading made.
Classes and modules that are missing here are replaced by stand-ins.  Nothing here
opens files, sockets or processes.

Pickles name the load-side functions below by module path (``tbdump.objects.
restore_object``), so every dump ever written depends on these names staying here.
The write side is ``tbdump.records`` (how each value pickles: ``tbdump.reduction``).
"""
from __future__ import annotations

import enum
import gc
import importlib
import io
import math
import pickle
import struct
import sys
import threading
import types
import weakref
from typing import Any, BinaryIO, Callable, Dict, List, Mapping, Optional, Set, Tuple

from . import ctrlc
from .chain import link
from .dillimport import import_dill
from .objindex import DamagedEntry, ObjectIndex
from .placeholder import MissingClass, Placeholder, is_of_missing_class, is_placeholder, missing_class
from .preview import qualified_type
from .saferepr import describe_exception
from .strayline import load_quietly


def _module_stand_in(name: str) -> Any:
    """Load-side: the module a record refers to, or an empty stand-in."""
    try:
        return importlib.import_module(name)
    except BaseException:
        mod = types.ModuleType(name, "stand-in: module %r is not importable here" % name)
        return mod


def _by_name(module: str, qualname: str) -> Any:
    """Load-side: the class or function ``module.qualname``, which the program had given a code
    of ``copyreg.add_extension``'s that only its process knew.  tbdump's unpicklers find it as
    they find every global (_Tolerant.find_class: a stand-in when it is missing here)."""
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _foreign(written_by: Optional[Tuple[int, int]]) -> Optional[str]:
    """Why code pickled by value by Python ``written_by`` is not run here; None: it is this one."""
    if written_by is None or tuple(written_by) == tuple(sys.version_info[:2]):
        return None
    # Bytecode of another Python version fails, or worse crashes, when run.
    return "pickled by value by Python %d.%d, its code cannot run on Python %d.%d" % (
        tuple(written_by) + tuple(sys.version_info[:2]))


def _dill_loads(data: bytes, written_by: Optional[Tuple[int, int]] = None, is_class: bool = False,
                module: Optional[str] = None, qualname: Optional[str] = None, shared: Tuple[Any, ...] = ()) -> Any:
    """Load-side: a value dill pickled by value (code inside), when its bytecode can run here.
    ``shared``: the classes it names by persistent id ``("X", index)``, restored by the records'
    unpickler, so that they are the very classes every other reference in the dump loads as."""
    why = _foreign(written_by)
    if why is not None:
        if is_class and isinstance(module, str) and isinstance(qualname, str):
            # A class of the crashed program without its methods: its instances keep their data.
            return missing_class(module, qualname, why)
        name = "%s " % qualname if isinstance(qualname, str) else ""
        return Placeholder("type" if is_class else "function", "not restored: %s%s" % (name, why))
    try:
        return _DillUnpickler(io.BytesIO(data), shared).load()
    except BaseException as exc:  # a class dill cannot rebuild here: it alone is lost, not the record
        return Placeholder("object", "not restored: dill could not rebuild it (%s)" % describe_exception(exc))


def _empty_class(metaclass: Any, name: str, bases: Tuple[type, ...], made: Dict[str, Any],
                 written_by: Optional[Tuple[int, int]] = None, module: Optional[str] = None,
                 qualname: Optional[str] = None) -> type:
    """Load-side: the class as it is created, its attributes set by _fill_class after.  Written by
    another Python (``written_by``), the stand-in _dill_loads gives a class its methods cannot
    come with: its instances keep their data.  Dumps that held such classes inside dill's
    pickles give the first four arguments only."""
    why = _foreign(written_by)
    if why is not None and isinstance(module, str) and isinstance(qualname, str):
        return missing_class(module, qualname, why)
    owners = [c for c in {id(c): c for b in bases for c in b.__mro__}.values()
              if _MADE_EMPTY.get(id(c)) is c and "__init_subclass__" in own_namespace(c)]
    hooks = [own_namespace(c)["__init_subclass__"] for c in owners]
    try:
        for owner in owners:
            setattr(owner, "__init_subclass__", _NOTHING_TO_DO)
        cls = types.new_class(name, bases, {"metaclass": metaclass}, lambda ns: ns.update(made))
    finally:
        for owner, hook in zip(owners, hooks):
            setattr(owner, "__init_subclass__", hook)
    _MADE_EMPTY[id(cls)] = cls
    return cls


# The classes _empty_class made, by id (a metaclass may define __eq__ and __hash__).  The
# __init_subclass__ of such a class does not run for a subclass made here: it ran when the program
# made the subclass, and what it did is in the dump (what it set on the subclass, a registry it
# filled); run again it would put the subclass in that registry twice, or fail for want of the
# class statement's keywords (`class A(Plugin, tag="a")`).  dill ran it on its own copies.
_MADE_EMPTY: "weakref.WeakValueDictionary[int, type]" = weakref.WeakValueDictionary()
_NOTHING_TO_DO = classmethod(lambda cls, **keywords: None)


def _fill_class(cls: type, state: Any) -> type:
    """Load-side: the class _empty_class made given its attributes: a dict of them, or (a dict of
    those without code, the names of the others, a dict of those from one dill pickle, or the
    placeholder saying why that could not load, which each of them is then)."""
    if issubclass(cls, MissingClass):
        return cls   # a stand-in: what it holds is what the pickle gives its instances
    if type(state) is tuple:
        attributes, names, functions = state
        state = {**attributes, **(functions if type(functions) is dict else dict.fromkeys(names, functions))}
    for name, value in state.items():
        if name in _OWN_ENTRIES:
            _set_own_entry(cls, name, value)
        else:
            setattr(cls, name, value)
    return cls


def own_namespace(cls: type) -> Mapping[str, Any]:
    """A class's namespace, whatever its metaclass says its ``__dict__`` is."""
    return _NAMESPACE.__get__(cls)


_NAMESPACE = type.__dict__["__dict__"]


# Names a class statement may define that setattr cannot set on the class, type's descriptors
# of these names coming first: ``cls.__class__ = value`` changes the class's own class, and a
# metaclass's ``__dict__`` (a view of its classes' namespace) is read-only.
_OWN_ENTRIES = frozenset(("__class__", "__dict__"))


def _set_own_entry(cls: type, name: str, value: Any) -> None:
    """The ``__class__`` or ``__dict__`` of the class statement (a lazy proxy's property,
    ``__class__ = Other``, a metaclass's ``__dict__`` property) put back in the class's namespace.
    Nor can the class be made with it: the property's code often refers to its class (by name, or
    the cell super() reads), which is not made yet, and pickle would make the class twice (its
    __init_subclass__ run twice)."""
    namespace = gc.get_referents(own_namespace(cls))[0]   # the dict behind the mapping proxy, as type_new made it
    namespace[name] = value
    # Written past setattr, which tells the interpreter the class changed: its attribute cache
    # may hold object's __class__ for it.  Any setattr of a name in the namespace does.
    setattr(cls, "__module__", namespace["__module__"])


def _rebuild_enum(name: str, qualname: str, module: str, base: Any, mixin: Any,
                  members: List[Tuple[str, Any]]) -> Any:
    """Load-side: the Enum class rebuilt from its members (its methods are not in the dump)."""
    try:
        return base(name, members, module=module, qualname=qualname, type=mixin)
    except BaseException as exc:
        return Placeholder("EnumType", "not restored: %s" % describe_exception(exc))


def _fill_enum(cls: Any, state: Tuple[Any, ...]) -> Any:
    """Load-side: the Enum class _rebuild_enum made given the methods and properties of its class
    statement (their names and a dict of them from one dill pickle, or the placeholder saying why
    that could not load, which each of them is then), its members' own attributes, by member
    name, and its other attributes (a fourth item, which dumps of the first _fill_enum lack).  A
    reader before this finds no such function: its stand-in is called instead, and the class stays
    without them."""
    if not issubclass(type(cls), enum.EnumMeta):   # the placeholder of a class that could not be rebuilt
        return cls
    names, functions, members = state[:3]
    _fill_class(cls, (state[3] if len(state) > 3 else {}, names, functions))
    for name, own in members.items():
        member = cls.__members__.get(name)
        if member is not None and type(getattr(member, "__dict__", None)) is dict:
            vars(member).update(own)   # as pickle restores an object's state
    return cls


def restore_object(type_name: str, func: Any, args: Any) -> Any:
    """Load-side: call the recorded constructor; a failure gives a placeholder instead."""
    if issubclass(type(func), type) and issubclass(func, MissingClass):
        func = _made_as(func, type_name)
    try:
        return func(*args)
    except BaseException as exc:
        if issubclass(type(func), type) and issubclass(func, BaseException):
            # An exception pickles as cls(*args), which fails when its __init__ takes other
            # arguments (HttpError(status, body)); its args and __dict__ are all it holds.
            try:
                return func.__new__(func, *args)
            except BaseException:
                pass
        return Placeholder(type_name, "not restored: %s" % (_lost_part(args) or describe_exception(exc)))


def _made_as(missing: type, type_name: str) -> type:
    """The stand-in for a value of type ``type_name`` that ``missing`` (not importable here) made:
    ``missing`` itself when it is that class, else one named like the value's class.  A pickle
    often calls a function of the library (pandas' ``_unpickle_timestamp``, dateutil's
    ``_tzfile._unpickle``), whose name says nothing of the value; the one class per name and
    function keeps the values of one type one class, as they were."""
    if "%s.%s" % (missing.__module__, missing.__qualname__) == type_name:
        return missing
    made = _MADE_AS.setdefault(missing, {})
    if type_name not in made:
        # In the function's module when the name says so (dateutil.tz._tzfile.tzfile): a class
        # nested in another keeps its qualified name; else the module the name has before its last dot.
        own = missing.__module__ + "."
        module, name = (missing.__module__, type_name[len(own):]) if type_name.startswith(own) else \
            type_name.rpartition(".")[::2]
        made[type_name] = missing_class(module, name, getattr(missing, "__tbdump_missing__"))
    return made[type_name]


# Each function's stand-in's classes (held as long as the function's stand-in is).
_MADE_AS: "weakref.WeakKeyDictionary[type, Dict[str, type]]" = weakref.WeakKeyDictionary()


def _lost_part(args: Any) -> Optional[str]:
    """Why a constructor refused its arguments, when one is what this machine could not
    restore (a datetime's tzinfo of a library missing here): said rather than the
    constructor's words ("bad tzinfo state arg"); None when none is."""
    for arg in args if type(args) is tuple else ():
        if is_of_missing_class(arg):
            kind = type(arg)
            return "it holds a %s.%s, not importable here (%s)" % (kind.__module__, kind.__qualname__,
                                                                  kind.__tbdump_missing__)
        if is_placeholder(arg):
            return "a part of it is missing here (%s: %s)" % (arg.type, arg.reason.replace("not restored: ", "", 1))
    return None


def restore_state(obj: Any, state: Any) -> Any:
    """Load-side BUILD: as pickle does it, but an object whose state cannot be set
    becomes a placeholder in place, so every reference to it says so."""
    if is_placeholder(obj):
        return obj
    try:
        # On the class: an instance's __getattr__ (a tempfile wrapper's) would run on an
        # object that has no state yet.
        setstate = getattr(type(obj), "__setstate__", None)
        if setstate is not None and not _is_default_setstate(setstate):
            setstate(obj, state)
            return obj
        slots = None
        if issubclass(type(state), tuple) and len(state) == 2:
            state, slots = state
        if state:
            obj.__dict__.update(state)
        for key, value in (slots or {}).items():
            setattr(obj, key, value)
    except BaseException as exc:
        _become_placeholder(obj, "not restored: %s" % describe_exception(exc))
    return obj


def restore_exception(obj: Any, state: Tuple[Any, Dict[str, Any]]) -> Any:
    """Load-side BUILD of an exception held as a value: its own state as restore_state sets
    it, then what it was chained to, which pickle does not keep, by chain.link's rule."""
    own, links = state
    if own is not None:
        restore_state(obj, own)
    if issubclass(type(obj), BaseException):
        for name, linked in links.items():
            link(obj, name, linked)
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


class _Gone:
    pass


def _weak_ref(target: Any, key: Any = None, keyed: bool = False) -> Any:
    """Load-side: a weak reference to ``target``, the object the record's memo shares with
    every other reference to it (so it stays alive as they do); dead if it was dead.
    ``keyed``: a WeakValueDictionary's entry (KeyedRef), whose dictionary finds it by ``key``."""
    target = target if target is not None else _Gone()
    if keyed:  # no callback: the restored dictionary keeps an entry whose object went
        return weakref.KeyedRef(target, None, key)  # type: ignore[arg-type]
    return weakref.ref(target)


def _weak_proxy(target: Any) -> Any:
    """Load-side: a weak proxy to ``target``, shared as _weak_ref's is; dead if it was dead."""
    return weakref.proxy(target if target is not None else _Gone())


def _match_again(pattern: Any, string: Any, pos: int, endpos: int, regs: Any) -> Any:
    """Load-side: the regex match, found again as the program found it (search, match or
    fullmatch, or a later match of finditer, sub or split); the same match or a placeholder."""
    def same(m: Any) -> bool:
        return m is not None and m.regs == regs
    try:
        regs = tuple(tuple(span) for span in regs)
        for find in (pattern.search, pattern.fullmatch):
            m = find(string, pos, endpos)
            if same(m):
                return m
        scanner = pattern.scanner(string, pos, endpos)
        for m in iter(scanner.search, None):
            if same(m):
                return m
            if m.start() > regs[0][0]:
                break
        why = "its pattern no longer finds it in its text"
    except BaseException as exc:
        why = describe_exception(exc)
    return Placeholder("Match", "not restored: %s" % why)


def _memory(data: Optional[bytes], readonly: bool, fmt: str, shape: Tuple[int, ...]) -> Any:
    """Load-side: a memoryview of a copy of the bytes it showed, in its format and shape."""
    if data is None:
        released = memoryview(b"")
        released.release()
        return released
    try:
        if len(data) != math.prod(shape) * struct.calcsize(fmt):
            return Placeholder("memoryview", "not restored: its bytes changed length in the dump "
                                             "(a secret in them was redacted)")
        view: Any = memoryview(data if readonly else bytearray(data))
        return view.cast(fmt, list(shape))
    except BaseException as exc:  # a format cast() does not take (a struct's, a half float)
        return Placeholder("memoryview", "not restored: %s" % describe_exception(exc))


def _memory_slice(whole: Any, start: int, stop: int) -> memoryview:
    """Load-side: a memoryview of part of the object the dump shares with every other reference."""
    return memoryview(whole)[start:stop]


def _asyncio_future(loop: Any, state: str, result: Any, exception: Any, cancel_message: Any) -> Any:
    """Load-side: an asyncio Future in the state it had, on the loop restored with it; the
    callbacks waiting on it are not (they would run)."""
    try:
        import asyncio
        future: Any = asyncio.Future(loop=loop)
        if state == "FINISHED" and exception is not None:
            future.set_exception(exception)
            future._log_traceback = False   # the viewer retrieves it or not: no warning here
        elif state == "FINISHED":
            future.set_result(result)
        elif state == "CANCELLED":
            future.cancel(cancel_message)
        return future
    except BaseException as exc:
        return Placeholder("Future", "not restored: %s" % describe_exception(exc))


def _idle_event_loop(make: Any, args: Tuple[Any, ...]) -> Any:
    """Load-side: an asyncio event loop as pickle makes it (its state follows), of a subclass
    that does nothing when collected.  Its own ``__del__`` closes a loop that is neither
    closed nor running: it would unregister its (placeholder) sockets from its selector,
    which raises ("Exception ignored in ... __del__" on the viewer's stderr), and reset this
    process's handlers of the signals the program's loop handled."""
    loop = make(*args)
    kind = type(loop)
    try:
        idle = _IDLE_LOOPS.get(kind)
        if idle is None:
            idle = _IDLE_LOOPS[kind] = type(kind.__name__, (kind,), {
                "__del__": _leave_open, "__module__": kind.__module__, "__qualname__": kind.__qualname__})
        loop.__class__ = idle
    except TypeError:  # a class whose instances keep their class (a C type's): as pickle made it
        pass
    return loop


def _leave_open(loop: Any) -> None:
    """A restored loop's ``__del__``: it holds nothing of this process to close."""


_IDLE_LOOPS: Dict[type, type] = {}


def _type_parameter(kind: str, name: str, constraints: Tuple[Any, ...], options: Dict[str, Any],
                    module: Optional[str]) -> Any:
    """Load-side: a TypeVar, ParamSpec or TypeVarTuple made again, as its module made it."""
    if sys.version_info < (3, 12):
        # TypeVar takes no infer_variance before 3.12; every `def f[T]` sets it, a hint to
        # type checkers that changes nothing at run time.
        options.pop("infer_variance", None)
    try:
        import typing
        param = getattr(typing, kind)(name, *constraints, **options)
    except BaseException as exc:
        return Placeholder(kind, "not restored: %s" % describe_exception(exc))
    try:
        param.__module__ = module
    except (AttributeError, TypeError):
        pass
    return param


def _type_alias_again(name: str, value: Any, params: Tuple[Any, ...]) -> Any:
    """Load-side: a `type` statement's alias (Python 3.12 on), its value the one it had."""
    try:
        import typing
        return typing.TypeAliasType(name, value, type_params=params)  # type: ignore[attr-defined]
    except BaseException as exc:
        why = "type aliases are Python 3.12's" if sys.version_info < (3, 12) else describe_exception(exc)
        return Placeholder("TypeAliasType", "not restored: %s" % why)


def _type_params_again(function: Any, params: Tuple[Any, ...]) -> Any:
    """Load-side: a generic function (``def first[T]``, Python 3.12 on) given back its type
    parameters, which dill does not write; a function that takes none stays as dill made it."""
    try:
        function.__type_params__ = params
    except BaseException:
        pass
    return function


def _identity(x: Any) -> Any:
    return x


class _Tolerant:
    """What both unpicklers add: stand-ins for missing classes, redacted values back."""

    stood_in = False   # whether a stand-in was made for a class or function missing here

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_by_name":
            return self.find_class
        try:
            return super().find_class(module, name)  # type: ignore[misc]
        except BaseException as exc:
            self.stood_in = True
            return missing_class(module, name, describe_exception(exc))

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "R":
            # The dict itself, memoized as it was written; dumps before it wrote its items.
            return pid[1] if type(pid[1]) is dict else dict(pid[1])
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "S":
            return pid[1]
        raise pickle.UnpicklingError("unknown persistent id in object record")


class _Unpickler(_Tolerant, pickle.Unpickler):
    """Tolerant, side-effect-free unpickler for object records."""


def _dill_unpickler_class() -> Any:
    dill = import_dill()

    class DillUnpickler(_Tolerant, dill.Unpickler):  # type: ignore[name-defined]
        """The same, for the nested dill pickles of functions and classes."""

        def __init__(self, file: Any, shared: Tuple[Any, ...]) -> None:
            super().__init__(file)
            self._shared = shared

        def persistent_load(self, pid: Any) -> Any:
            if type(pid) is tuple and len(pid) == 2 and pid[0] == "X":
                if type(pid[1]) is int and 0 <= pid[1] < len(self._shared):
                    return self._shared[pid[1]]
                raise pickle.UnpicklingError("the pickle names a class it was not given")
            return super().persistent_load(pid)

    return DillUnpickler


def _DillUnpickler(file: Any, shared: Tuple[Any, ...]) -> Any:
    return _dill_unpickler_class()(file, shared)


# What the unpickler reads instead of a record already read by itself: the
# object handed over as persistent id 0 and memoized, as the record would have.
_HAND_OVER = b"\x80\x05K\x00Q\x94."   # PROTO 5, BININT1 0, BINPERSID, MEMOIZE, STOP


class _RecordStream:
    """The object member as the shared unpickler reads it.

    It has no ``peek``, so the C unpickler reads no further than each record
    (the position after one is exact), and it can put a hand-over pickle in
    front of what comes next.  It tells ``counted`` the bytes it hands out.
    """

    def __init__(self, raw: Any, counted: Callable[[int], None]) -> None:
        self.raw = raw
        self.pending = b""
        self._counted = counted

    def _counting(self, data: bytes) -> bytes:
        self._counted(len(data))
        return data

    def seek(self, position: int) -> None:
        self.pending = b""
        self.raw.seek(position)

    def read(self, size: int = -1) -> bytes:
        if not self.pending:
            return self._counting(self.raw.read(size))
        head = self.pending if size < 0 else self.pending[:size]
        self.pending = self.pending[len(head):]
        rest = size - len(head) if size >= 0 else -1
        return head + (self._counting(self.raw.read(rest)) if rest else b"")

    def readinto(self, buffer: Any) -> int:
        if not self.pending:
            read = self.raw.readinto(buffer)
            self._counted(read or 0)
            return read
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        if not self.pending:
            return self._counting(self.raw.readline(size))
        cut = self.pending.find(b"\n") + 1 or len(self.pending)
        return self.read(cut if size < 0 else min(cut, size))

    def close(self) -> None:
        self.raw.close()


class _HandOver(_Tolerant):
    """What the unpicklers of a record in order add: the objects their reader hands over."""

    def __init__(self, stream: Any, reader: "RecordReader") -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self._reader = reader

    def persistent_load(self, pid: Any) -> Any:
        if pid == 0 and self._reader.handing is not None:
            return self._reader.handing
        return super().persistent_load(pid)


class _SequenceUnpickler(_HandOver, pickle.Unpickler):
    """The shared unpickler."""


_INTERRUPTED = ("not restored: restoring it was interrupted, and it cannot be read on from where it "
               "stopped; open the dump again to restore it")


class RecordReader:
    """Loads the records of an object member in order, as far as they are asked for.

    Records share one unpickler (and so its memo); a record that fails is read
    again by itself, its failing parts placeholders; one that cannot be (damaged)
    becomes a placeholder, and so do the ones after it until one starts a fresh memo.
    A large record that needs nothing before it (a list of a million numbers)
    is read by itself when it is asked for first, so a viewer holds what it
    shows, not everything recorded before it.

    ``read_bytes`` grows as restoring reads the member: it stands still only
    while a value's own code runs (a ``__setstate__``, a ``__reduce__``
    callable), as no plain data is unpickled then.
    """

    def __init__(self, stream: BinaryIO, base: int, index: ObjectIndex,
                 reopen: Optional[Callable[[], BinaryIO]] = None) -> None:
        self.read_bytes = 0
        self.stream = _RecordStream(stream, self._count)
        self.base = base
        self.index = index
        self.values: List[Any] = []
        self.errors: Dict[int, str] = {}
        self.handing: Any = None           # during a hand-over: the object handed
        self._alone: Dict[int, Any] = {}   # records read by themselves, ahead of the order
        self._reopen = reopen
        self._unpickler: Optional[_SequenceUnpickler] = None
        self._failed: Optional[str] = None
        self._reading: Optional[int] = None   # the record being read, until it is in values
        self.stood_in = False   # whether a record read made a stand-in for a class missing here
        # tbdump.recovery's count: the memo keys the records before the first number made
        self.memo_keys: Tuple[int, Set[int]] = (0, set())
        self._lock = threading.Lock()

    def get(self, record: int) -> Tuple[Any, Optional[str]]:
        """The record's object, or None and why it could not be restored.

        Thread-safe, so a viewer can load ahead in the background while it answers.
        """
        if not 0 <= record < len(self.index):  # a crafted ref: -1 would index from the end
            return None, "not restored: the dump has no object record %d" % record
        if record < len(self.values):
            # Restored already (values only grow, each error set before its value): read without
            # the lock, so asking for it never waits on the restoring of a later record.
            return self.values[record], self.errors.get(record)
        since = ctrlc.mark()
        if since is None:   # asked for by itself, not within a viewer's request that notes Ctrl-C
            with ctrlc.noting():
                return self._restore(record, ctrlc.mark())
        return self._restore(record, since)

    def _restore(self, record: int, since: Optional[int]) -> Tuple[Any, Optional[str]]:
        """``get``'s reading; ``since``: tbdump.ctrlc's mark as it began."""
        with self._lock:
            if len(self.values) <= record and record not in self._alone:
                self._load_alone(record)
            if record in self._alone:
                return self._alone[record], None
        while len(self.values) <= record:
            with self._lock:
                if len(self.values) <= record:
                    self._load_next(since)
        return self.values[record], self.errors.get(record)

    def _count(self, read: int) -> None:
        self.read_bytes += read  # by the thread restoring, which holds the lock

    def restored(self, record: int) -> bool:
        """Whether ``get(record)`` answers at once: restored already, or no record at all."""
        return not 0 <= record < len(self.index) or record < len(self.values)

    def _load_alone(self, record: int) -> None:
        try:
            offset, _, _, alone = self.index.entry(record)
        except DamagedEntry:
            return  # the in-order reading says so
        if not alone or self._reopen is None:
            return
        try:
            with self._reopen() as stream:
                stream.seek(self.base + offset)
                unpickler = _Unpickler(_RecordStream(stream, self._count))
                self._alone[record] = load_quietly(unpickler)
                self.stood_in = self.stood_in or unpickler.stood_in
        except Exception:
            pass  # unreadable by itself (the file was replaced, say): read in order

    def _load_next(self, since: Optional[int]) -> None:
        """Reads the next record; ``since``: tbdump.ctrlc's mark before it, which tells a Ctrl-C
        that came while it was read."""
        number = len(self.values)
        try:
            offset, length, fresh, _ = self.index.entry(number)
        except DamagedEntry as exc:
            self._fail(number, "not restored: %s" % exc)
            return
        # A record whose last reading was cut short is read again from its start: one that starts
        # a fresh memo as at first, any other by an unpickler _restarted for it.
        if self._reading == number and not fresh and not self._restarted(number, offset, since):
            self._reading = None
            self._fail(number, _INTERRUPTED)
            return
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
        self._reading = number   # until the record is in values, whatever cuts this short
        if number in self._alone:  # read by itself before: hand the same object over
            self.handing = self._alone[number]
            self.stream.seek(self.base + offset + length)
            self.stream.pending = _HAND_OVER
        try:
            value = load_quietly(self._unpickler)
            if ctrlc.came(since):
                # Its KeyboardInterrupt landed in a value's own code (a slow __setstate__), which
                # the load-side function running it (restore_state) took for that value's failure.
                raise ctrlc.raised()
            self.values.append(value)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            # The program's code that unpickling runs (a dict key's __hash__) raises anything; only
            # a KeyboardInterrupt of a real SIGINT (Ctrl-C, tbdap cancelling) stops the restoring.
            if ctrlc.came(since):
                raise
            self._read_on(number, offset + length, "not restored: %s" % describe_exception(exc), since)
        finally:
            self.handing = None
            self.stood_in = self.stood_in or self._unpickler.stood_in
        self._reading = None
        self._alone.pop(number, None)

    def _restarted(self, number: int, offset: int, since: Optional[int]) -> bool:
        """Whether the unpickler is set to read record ``number`` again from its start.

        A KeyboardInterrupt (Ctrl-C, tbdap cancelling an evaluate) cut its last reading short:
        the unpickler stands somewhere inside it (or past it, a value's own code cut short), its
        memo holds part of it.  A new one reads it, given the memo entries of the records before
        it (tbdump.recovery counts them): what it shares with them is their very objects, as it
        was, and what the cut reading made is dropped.  False where those entries cannot be told
        (damaged bytes); a Ctrl-C meanwhile leaves the cut unpickler, to be asked again.
        """
        from .recovery import memo_before  # only after an interruption
        cut = self._unpickler
        assert cut is not None
        try:
            unpickler = self._holding(memo_before(self, number, cut.memo.copy()), offset)
        except (Exception, SystemExit, KeyboardInterrupt):
            if ctrlc.came(since):
                raise
            return False
        self._unpickler = unpickler
        return True

    def _holding(self, memo: Dict[int, Any], offset: int) -> "_SequenceUnpickler":
        """A new unpickler set to read the record at ``offset``, its memo ``memo``."""
        from .recovery import memo_hand_over  # only for a record read again
        self.stream.seek(self.base + offset)
        unpickler = _SequenceUnpickler(self.stream, self)
        self.stream.pending, self.handing = memo_hand_over(memo)
        try:
            unpickler.load()   # the hand-over, which loads as None
        finally:
            self.handing = None
        return unpickler

    def _read_on(self, number: int, end: int, reason: str, since: Optional[int]) -> None:
        """A record that failed to load, read again (tbdump.recovery) so that what it holds
        loads and so do the records after it, which refer to its memo entries; when even
        that cannot read it, it is lost, and so are they up to the next fresh record.
        ``since``: as for _load_next, whose rule this follows."""
        from .recovery import reread  # the tolerant reading: only for a record that failed
        failed = self._unpickler
        assert failed is not None
        self.stood_in = self.stood_in or failed.stood_in
        try:
            value, memo, stood_in = reread(self, number, failed.memo.copy())
            if ctrlc.came(since):   # a Ctrl-C the reading took for a value's own, as it takes any error
                raise ctrlc.raised()
            unpickler = self._holding(memo, end)
        except (Exception, SystemExit, KeyboardInterrupt):
            if ctrlc.came(since):
                raise   # the failed unpickler stays, its memo whole: _restarted reads the record again
            self._fail(number, reason)
            return
        self._unpickler = unpickler
        self.stood_in = self.stood_in or stood_in
        self.values.append(value)

    def _fail(self, number: int, reason: str) -> None:
        self.errors[number] = reason
        self.values.append(None)
        self._failed = "not restored: it shares objects with a value that failed to load (%s)" % reason
