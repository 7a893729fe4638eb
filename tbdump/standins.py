"""Substitute frame, code, traceback and exception objects, built from a Dump, for debuggers.

Real frames and tracebacks cannot be pickled or created from Python, so, as
pydump did, a loaded dump is presented to debuggers (pdb, ipdb, pdbpp, pudb,
peepshow) through look-alikes carrying just enough of the real attributes:
``f_code``/``f_lineno``/``f_locals``/``f_globals``/``f_back`` on frames,
``tb_frame``/``tb_lineno``/``tb_next`` on tracebacks, ``__traceback__``/
``__cause__``/``__context__`` on exceptions.  Their sources are what the viewer
put into ``linecache`` (tbdump.localsource.install_sources).
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import inspect
import linecache
import sys
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Tuple

from .chain import EXCEPTION_GROUP, link_chain
from .model import ExceptionRecord, Frame, all_frames
from .qualnames import FUNCTIONS, ParsedSource, find_code, first_line, parsed

if TYPE_CHECKING:
    from .dumpfile import Dump

__all__ = ["StandinCode", "StandinFrame", "StandinTraceback", "StandinException",
           "standin_exceptions", "exception_frames", "traced", "crashed_main", "locate_class"]


# ---------------------------------------------------------------- code shape

@dataclass
class _Shape:
    """What a code object says about its function that the dump does not record."""

    firstlineno: int
    posonly: int = 0
    positional: int = 0       # co_argcount: positional-only included
    kwonly: int = 0
    flags: int = 0
    argnames: Tuple[str, ...] = ()


def _source(filename: str) -> ParsedSource:
    """The source linecache serves for the file, parsed (once while it stays the same)."""
    return parsed(filename, "".join(linecache.getlines(filename)))


@contextlib.contextmanager
def crashed_main(dump: "Dump") -> Iterator[None]:
    """Meanwhile ``sys.modules["__main__"]`` has the ``__file__`` of the crashed program's main module.

    inspect finds a class's source through its module's ``__file__``; a class the
    program defined in ``__main__`` would otherwise be looked for in the viewer's own.
    """
    main = next((frame.filename for frame in all_frames(dump.exceptions, dump.threads)
                 if frame.module == "__main__"), None)
    saved = sys.modules.get("__main__")
    if main is None or saved is None:
        yield
        return
    stand_in = types.ModuleType("__main__")
    stand_in.__file__ = main
    sys.modules["__main__"] = stand_in
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def locate_class(cls: object) -> None:
    """Give a class from a dump the ``__firstlineno__`` that Python 3.13+ gives a class it creates.

    From 3.13 on, inspect finds a class's source by that attribute alone.  A class
    made on load (a stand-in for one whose code cannot run here, an Enum rebuilt
    from its members) or pickled by an older Python has none: it is found here as
    inspect found it before 3.13, by its qualname in its module's source (the one
    linecache serves, so the dump's copy when the local file is not the one that ran).
    """
    # A class told by its real class: isinstance() reads __class__, a lazy proxy's property.
    if sys.version_info < (3, 13) or not issubclass(type(cls), type) or "__firstlineno__" in vars(cls):
        return
    try:
        filename = inspect.getsourcefile(cls)
    except (TypeError, OSError):    # a builtin class, or a module without a file
        return
    found = [node for node, qualname in _source(filename).definitions
             if isinstance(node, ast.ClassDef) and qualname == cls.__qualname__] if filename else []
    if found:
        try:
            setattr(cls, "__firstlineno__", first_line(found[0]))
        except (TypeError, AttributeError):     # a class that takes no attributes: no source then
            pass


def _find_shape(frame: Frame) -> _Shape:
    """Find the frame's def in its source to recover co_firstlineno and the argument names."""
    if frame.name == "<module>":
        return _Shape(firstlineno=1)
    found = find_code(_source(frame.filename), frame.name, frame.lineno, frame.qualname)
    if found is None:
        return _Shape(firstlineno=frame.lineno, flags=inspect.CO_OPTIMIZED | inspect.CO_NEWLOCALS)
    node = found[0]
    if isinstance(node, ast.ClassDef):
        return _Shape(firstlineno=first_line(node))
    if not isinstance(node, FUNCTIONS):    # a comprehension: no parameters of its own
        return _Shape(firstlineno=first_line(node), flags=inspect.CO_OPTIMIZED | inspect.CO_NEWLOCALS)
    args = node.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    kwonly = [a.arg for a in args.kwonlyargs]
    extra = [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    flags = inspect.CO_OPTIMIZED | inspect.CO_NEWLOCALS
    if args.vararg is not None:
        flags |= inspect.CO_VARARGS
    if args.kwarg is not None:
        flags |= inspect.CO_VARKEYWORDS
    return _Shape(firstlineno=first_line(node), posonly=len(args.posonlyargs),
                  positional=len(positional), kwonly=len(kwonly), flags=flags,
                  argnames=tuple(positional + kwonly + extra))


# ---------------------------------------------------------------- the stand-ins

class StandinCode:
    """A code object's attributes for one captured frame (no bytecode: nothing can run)."""

    co_code = b""
    co_consts: Tuple[Any, ...] = ()
    co_names: Tuple[str, ...] = ()
    co_cellvars: Tuple[str, ...] = ()
    co_freevars: Tuple[str, ...] = ()
    co_stacksize = 0
    co_linetable = b""
    co_exceptiontable = b""

    def __init__(self, frame: Frame) -> None:
        self._frame = frame
        self.co_filename = frame.filename
        self.co_name = frame.name

    @property
    def co_qualname(self) -> str:
        # Asked of the dump only when read: for code of 3.9/3.10 it parses the source.
        return self._frame.qualname

    # What only the source tells is looked up on first use, when the viewer
    # has put the dump's sources into linecache (localsource.install_sources).
    @functools.cached_property
    def _shape(self) -> _Shape:
        return _find_shape(self._frame)

    @property
    def co_firstlineno(self) -> int:
        return self._shape.firstlineno

    @property
    def co_argcount(self) -> int:
        return self._shape.positional

    @property
    def co_posonlyargcount(self) -> int:
        return self._shape.posonly

    @property
    def co_kwonlyargcount(self) -> int:
        return self._shape.kwonly

    @property
    def co_flags(self) -> int:
        return self._shape.flags

    @property
    def co_varnames(self) -> Tuple[str, ...]:
        args = self._shape.argnames
        return args + tuple(name for name in self._frame.variables if name not in args)

    @property
    def co_nlocals(self) -> int:
        return len(self.co_varnames)

    # inspect.iscode(), and through it inspect.getsourcelines() (pdb's
    # longlist, ipdb, pudb), accept only code objects; isinstance() consults
    # __class__, as it does for unittest.mock's spec'd mocks.
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return types.CodeType

    @property
    def co_lnotab(self) -> bytes:
        """Python < 3.10's line table: offset 0 on the frame's line (dis.findlinestarts reads it).

        Steps of at most 127 lines forward or 128 back, repeated rather than looped:
        a frame may be two billion lines past its def (the model's bound)."""
        delta = self._frame.lineno - self.co_firstlineno
        full, rest = divmod(abs(delta), 127 if delta >= 0 else 128)
        step = bytes([0, 127 if delta >= 0 else 0x80])
        last = bytes([0, (rest if delta >= 0 else -rest) & 0xFF]) if rest or not full else b""
        return step * full + last

    def co_lines(self) -> Iterator[Tuple[int, int, int]]:
        """One pseudo-instruction at offset 0 on the frame's line (pdb's lasti2lineno)."""
        yield (0, 2, self._frame.lineno)

    def co_positions(self) -> Iterator[Tuple[Optional[int], ...]]:
        """The failing expression's span, columns in UTF-8 bytes as CPython gives them."""
        pos = self._frame.position
        if pos is None:
            yield (self._frame.lineno, self._frame.lineno, None, None)
            return
        first = linecache.getline(self.co_filename, pos.lineno)
        last = linecache.getline(self.co_filename, pos.end_lineno)
        yield (pos.lineno, pos.end_lineno, len(first[:pos.col].encode()),
               len(last[:pos.end_col].encode()))

    def replace(self, **changes: Any) -> "StandinCode":
        raise TypeError("a captured frame's code cannot be changed")

    def __repr__(self) -> str:
        return (f"<code object {self.co_name} (standin), file {self.co_filename!r}, "
                f"line {self.co_firstlineno}>")


class _Namespaces:
    """Module globals resolved once per module and shared by its frames, as in a live program."""

    def __init__(self) -> None:
        self._by_key: Dict[Any, Dict[str, Any]] = {}

    def of(self, frame: Frame) -> Dict[str, Any]:
        key = frame.globals_key if frame.globals_key is not None else ("frame", id(frame))
        ns = self._by_key.get(key)
        if ns is None:
            ns = dict(frame.globals)
            ns.setdefault("__name__", frame.module)
            # eval() would add it anyway; pdb's `interact` copies the dict first.
            ns.setdefault("__builtins__", builtins)
            self._by_key[key] = ns
        return ns


class _LocalsProxy(Dict[str, Any]):
    """A function frame's locals as Python 3.13+ shows them (PEP 667's FrameLocalsProxy):
    ``keys()``, ``values()`` and ``items()`` are lists, so ``$_frame.f_locals.keys()[0]``
    works as live.  Still a dict underneath, where pdb and tbdebug keep their books."""

    def keys(self) -> List[str]:  # type: ignore[override]
        return list(super().keys())

    def values(self) -> List[Any]:  # type: ignore[override]
        return list(super().values())

    def items(self) -> List[Tuple[str, Any]]:  # type: ignore[override]
        return list(super().items())


class StandinFrame:
    """A frame as captured: where it was and (resolved on first use) what it held."""

    f_lasti = 0
    f_trace: Any = None
    f_trace_lines = True
    f_trace_opcodes = False

    def __init__(self, frame: Frame, back: Optional["StandinFrame"], namespaces: _Namespaces) -> None:
        self.record = frame
        self.f_code = StandinCode(frame)
        self.f_back = back
        self.f_builtins = builtins.__dict__
        self._namespaces = namespaces
        self._locals: Optional[Dict[str, Any]] = None

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # see StandinCode.__class__
        return types.FrameType

    @property
    def f_lineno(self) -> int:
        return self.record.lineno

    @f_lineno.setter
    def f_lineno(self, lineno: int) -> None:
        # pdb's `jump` sets it and reports a ValueError as "Jump failed: ...", as it does
        # for a live frame outside a trace function; a silent move would fake a jump.
        raise ValueError("the program is not running: a captured frame cannot jump")

    @property
    def f_globals(self) -> Dict[str, Any]:
        return self._namespaces.of(self.record)

    @property
    def f_locals(self) -> Dict[str, Any]:
        if self._locals is None:
            if self.record.name == "<module>":
                # A module frame's locals *are* its globals; pdb relies on
                # `f_locals is f_globals` to list a module frame whole.
                ns = self.f_globals
                for name, value in self.record.locals.items():
                    ns.setdefault(name, value)
                self._locals = ns
            elif sys.version_info >= (3, 13) and self.f_code.co_flags & inspect.CO_OPTIMIZED:
                self._locals = _LocalsProxy(self.record.locals)
            else:   # a class body's, or an older Python's: a plain dict, as live
                self._locals = dict(self.record.locals)
        return self._locals

    def clear(self) -> None:
        """Nothing to clear: a captured frame holds no live references."""

    def __repr__(self) -> str:
        return (f"<frame (standin), file {self.f_code.co_filename!r}, line {self.f_lineno}, "
                f"code {self.f_code.co_name}>")


class StandinTraceback:
    """One traceback entry over a stand-in frame."""

    tb_lasti = 0

    def __init__(self, frame: StandinFrame, next_: Optional["StandinTraceback"]) -> None:
        self.tb_frame = frame
        self.tb_lineno = frame.f_lineno
        self.tb_next = next_

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # see StandinCode.__class__
        return types.TracebackType

    def __repr__(self) -> str:
        return f"<traceback (standin) of {self.tb_frame!r}>"


class StandinException(Exception):
    """Base of the exception classes made up, one per captured exception type.

    ``str()`` is the captured message and ``__traceback__`` walks the captured
    frames, so debuggers that list and switch chained exceptions (pdb 3.13's
    ``exceptions``) work; ``captured`` is the real exception object from the
    object layer, or a placeholder.
    """

    _standin_tb: Optional[StandinTraceback] = None
    _record: Optional[ExceptionRecord] = None
    _dump: Optional["Dump"] = None

    @property
    def __traceback__(self) -> Optional[StandinTraceback]:  # type: ignore[override]
        return self._standin_tb

    @property
    def captured(self) -> Any:
        """The exception object as it was raised (object layer), or a placeholder."""
        if self._record is None or self._record.value is None or self._dump is None:
            return None
        return self._dump.resolve(self._record.value)

    # pdb shows the exception itself (`p $_exception`, 3.13's `exceptions`): its repr and
    # args are the captured exception's, not those of a stand-in built from str(exc)
    # (KeyError('b'), not KeyError("'b'")).  The repr is the preview, so it runs nothing.
    def __repr__(self) -> str:
        value = self._record.value if self._record is not None else None
        return value.repr if value is not None else super().__repr__()

    @property
    def args(self) -> Tuple[Any, ...]:  # type: ignore[override]
        captured = self.captured   # told by its real class, as chain.link_chain tells it
        return captured.args if issubclass(type(captured), BaseException) else super().args

    def __getattr__(self, name: str) -> Any:
        """What the exception's class adds (``errno``, ``filename``, ``exceptions``), from the
        captured exception; never dunders or private names, which debuggers probe for."""
        captured = None if name.startswith("_") else self.captured
        if not issubclass(type(captured), BaseException):
            raise AttributeError(name)
        return getattr(captured, name)


def traced(exc: BaseException, tb: Optional[StandinTraceback],
           members: Sequence[Any] = ()) -> BaseException:
    """The captured exception ``exc`` as it was raised: its ``__traceback__`` the stand-in ``tb``.

    A pickled exception comes back without its traceback, and a real exception
    takes only a real traceback, which needs real frames.  So the exception gets
    a class of its own, named as its class and derived from it, that answers
    ``__traceback__`` with ``tb``: everything else (``isinstance``, methods,
    attributes, repr) is the captured exception's.  Its class is swapped in place
    (past the class's own ``__setattr__``, which an immutable exception class
    overrides); a built-in class cannot be swapped, so the exception is rebuilt
    from what pickles it (``__reduce__``), as the object layer built it.  An
    exception neither works for is returned as it is.

    ``members``, for an exception group, are its members as traced: a group's members
    are fixed when it is built, so a group whose own are others (rebuilt copies) is
    rebuilt around these, and holds them as the live group held its members.
    """
    cls = type(exc)
    metaclass: Any = type(cls)
    try:
        sub = metaclass(cls.__name__, (cls,), {"__module__": cls.__module__,
                                               "__qualname__": cls.__qualname__,
                                               "__traceback__": tb})
    except Exception:   # a class that refuses subclasses, a metaclass or __init_subclass__ that fails
        return exc
    own = getattr(exc, "exceptions", ()) if issubclass(cls, EXCEPTION_GROUP) else ()
    if (len(members) == len(own) and all(issubclass(type(m), BaseException) for m in members)
            and any(m is not o for m, o in zip(members, own))):
        regrouped = _rebuilt(exc, sub, list(members))
        if regrouped is not None:
            return regrouped
    try:
        object.__setattr__(exc, "__class__", sub)
        return exc
    except TypeError:
        copy = _rebuilt(exc, sub)
        return exc if copy is None else copy


def _rebuilt(exc: BaseException, sub: Any, members: Optional[List[Any]] = None) -> Optional[BaseException]:
    """``exc`` built again as its subclass ``sub`` from what pickles it (``__reduce__``), a
    group around ``members`` in place of its own; None where that does not work."""
    try:
        reduced: Any = exc.__reduce__()
        rebuild, args, *state = reduced
        if rebuild is not type(exc):
            return None
        copy: BaseException = sub(*(args if members is None else args[:1] + (members,) + args[2:]))
        if state and state[0]:
            copy.__setstate__(state[0])
        return copy
    except Exception:   # a class whose __init__ takes other arguments, state it refuses
        return None


def exception_frames(dump: "Dump", index: int) -> List[Frame]:
    """The frames a debugger walks for exception #index: for the raised one (#0) the whole
    crashing stack, so the callers of a handler that caught it are reachable too."""
    return dump.frames if index == 0 else dump.exceptions[index].frames


def _traceback(frames: List[Frame], namespaces: _Namespaces) -> Optional[StandinTraceback]:
    standins: List[StandinFrame] = []
    for frame in frames:
        standins.append(StandinFrame(frame, standins[-1] if standins else None, namespaces))
    tb = None
    for standin in reversed(standins):
        tb = StandinTraceback(standin, tb)
    return tb


def _class_name(text: str) -> str:
    """``text`` as type() takes a class name and repr() prints its module: NUL and lone
    surrogates, which no real class name holds (a crafted dump), escaped: ``\\x00``, ``\\ud800``."""
    return text.replace("\0", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def standin_exceptions(dump: "Dump") -> List[StandinException]:
    """One stand-in per ``dump.exceptions`` entry, same order, linked as the originals were.

    Each ``__traceback__`` walks ``exception_frames``; an exception that was
    never raised has ``__traceback__`` None; a group's ``exceptions`` are its members' stand-ins.
    """
    namespaces = _Namespaces()
    result: List[StandinException] = []
    for index, record in enumerate(dump.exceptions):
        module, _, _ = record.type.rpartition(".")
        name = _class_name(record.type_name)
        cls = type(name, (StandinException,), {
            "__module__": _class_name(module) or "builtins", "__qualname__": name})
        exc = cls(record.message)
        exc._standin_tb = _traceback(exception_frames(dump, index), namespaces)
        exc._record = record
        exc._dump = dump
        if record.notes:
            exc.__notes__ = list(record.notes)
        result.append(exc)
    link_chain(result, dump.exceptions)
    return result
