"""The plain data model of a dump: what capture writes and every viewer reads.

Everything here is the *safe layer*: built from JSON, it never unpickles
anything.  Full objects live in the object layer (``tbdump.objects``) and are
reached through ``Value.ref``; the ``Dump`` facade in ``tbdump.dumpfile`` joins
the two.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .termtext import printable

FORMAT_VERSION = 1

# Children groups, as debugpy groups them in VARIABLES.
GROUP_SPECIAL = "special"      # dunder attributes
GROUP_FUNCTION = "function"    # methods and functions
GROUP_CLASS = "class"          # classes


# The safe layer comes from a file that may be damaged or crafted with valid
# checksums: every field a viewer formats is checked as it is read, so a bad
# one is a DumpError at load, never a viewer's traceback.  TypeError and
# LookupError from here mean "damaged" to ``tbdump.load``.
_TEXT = (str, type(None))
_NUMBER = (int, type(None))


def _typed(value: Any, kind: Any) -> Any:
    if not isinstance(value, kind):
        raise TypeError("expected %r, found %s" % (kind, type(value).__name__))
    return value


def _ints(value: Any) -> List[int]:
    if type(value) is not list or not all(type(i) is int for i in value):
        raise TypeError("expected a list of integers")
    return value


def _texts(value: Any) -> List[str]:
    if type(value) is not list or not all(type(t) is str for t in value):
        raise TypeError("expected a list of strings")
    return value


_C_INT = 1 << 31


def _is_line(value: Any) -> bool:
    """A line or column number as Python's own are, a C int: a crafted 10**100 would have
    viewers build tables or loop that far (3.9's co_lnotab, say)."""
    return type(value) is int and -_C_INT <= value < _C_INT


def _line(value: Any) -> int:
    if not _is_line(value):
        raise ValueError("a line or column number out of range")
    return value


def brief(text: str, limit: Optional[int] = 80) -> str:
    """``text`` for a one-line repr: cut to ``limit`` characters (None: a path, whole, as its
    end matters most), line ends and control characters escaped (a REPL prints a repr as it
    is, and the text comes from the dump)."""
    text = text if limit is None or len(text) <= limit else text[:limit - 3] + "..."
    return printable(text.replace("\n", "\\n"))


def plural(count: int, what: str) -> str:
    return "%d %s%s" % (count, what, "" if count == 1 else "s")


@dataclass
class Child:
    """One entry below a value: a dict item, a list index, an attribute."""

    name: str                      # as debugpy shows it: repr(key), "0", "attr", "len()"
    value: "Value"
    access: Optional[str] = None   # expression suffix from the parent: "[0]", "['k']", ".a"
    group: Optional[str] = None    # None, or one of the GROUP_* names

    def to_json(self) -> List[Any]:
        return [self.name, self.value.to_json(), self.access, self.group]

    @classmethod
    def from_json(cls, data: List[Any]) -> "Child":
        name, value, access, group = data
        if type(name) is not str or not (access is None or type(access) is str) or not (
                group is None or type(group) is str):
            raise TypeError("a child's name, access and group are strings")
        return cls(name, Value.from_json(value), access, group)


@dataclass
class Value:
    """The bounded preview of one captured value."""

    type: str                       # class name, as debugpy's `type` (e.g. "dict")
    repr: str                       # bounded, safe repr (debugpy-style truncation)
    qualtype: str = ""              # module-qualified class name
    length: Optional[int] = None    # len(), where cheap and safe
    shape: Optional[List[int]] = None
    children: Optional[List[Child]] = None  # None: not expanded in the preview
    more: int = 0                   # children that exist beyond the preview's budget
    expandable: bool = False        # the real object has children
    missing: Optional[str] = None   # why the object itself is not captured ("not captured: ...")
    redacted: Optional[str] = None  # the redaction rule that replaced the value
    ref: Optional[int] = None       # object-layer record holding the full value
    groups: Optional[Dict[str, int]] = None  # GROUP_* -> how many such attributes the preview leaves out

    # The model's reprs are what a developer sees typing ``dump.frames`` or ``frame.variables``
    # at the prompt of tbdump.load(): one short line each, not the dataclass's every field
    # nested (a module frame's came to thousands of characters).
    def __repr__(self) -> str:
        why = self.missing or (self.redacted and "redacted: %s" % self.redacted)
        return "<Value %s: %s%s>" % (brief(self.type, 40), brief(self.repr),
                                     " [%s]" % brief(why) if why and why not in self.repr else "")

    def child(self, access: str) -> Optional["Value"]:
        """The previewed child reached by ``access`` (``.name``, ``[key]``), if the preview holds it."""
        for child in self.children or ():
            if child.access == access:
                return child.value
        return None

    @property
    def placeholder(self) -> bool:
        """True when the real value is not in the dump (budget, error or redaction)."""
        return self.missing is not None or self.redacted is not None

    def to_json(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"t": self.type, "r": self.repr}
        if self.qualtype and self.qualtype != self.type:
            d["q"] = self.qualtype
        if self.length is not None:
            d["n"] = self.length
        if self.shape is not None:
            d["s"] = self.shape
        if self.children is not None:
            d["c"] = [c.to_json() for c in self.children]
        if self.more:
            d["m"] = self.more
        if self.expandable:
            d["e"] = 1
        if self.missing is not None:
            d["x"] = self.missing
        if self.redacted is not None:
            d["red"] = self.redacted
        if self.ref is not None:
            d["ref"] = self.ref
        if self.groups:
            d["g"] = self.groups
        return d

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Value":
        t, r = d["t"], d["r"]
        if type(t) is not str or type(r) is not str:
            raise TypeError("a value's type and repr are strings")
        if len(d) == 2:  # a scalar in a container: most of a deep stack's values
            return cls(t, r, t)
        get = d.get
        ref = get("ref")
        if len(d) == 3 and type(ref) is int:  # a scalar variable: the rest of a deep stack's
            return cls(t, r, t, None, None, None, 0, False, None, None, ref)
        q, n, shape, children, more, why, rule, groups = (
            get("q", t), get("n"), get("s"), get("c"), get("m", 0), get("x"), get("red"), get("g"))
        if type(q) is not str or type(more) is not int or not (n is None or type(n) is int) or not (
                why is None or type(why) is str) or not (rule is None or type(rule) is str) or not (
                ref is None or type(ref) is int):
            raise TypeError("a value's fields have the wrong types")
        return cls(t, r, q, n, None if shape is None else _ints(shape),
                   None if children is None else [Child.from_json(c) for c in _typed(children, list)],
                   more, bool(get("e")), why, rule, ref, None if groups is None else _groups(groups))


def _groups(d: Any) -> Dict[str, int]:
    if not all(type(k) is str and type(n) is int for k, n in _typed(d, dict).items()):
        raise TypeError("group counts are numbers by name")
    return d


OMITTED_GLOBAL = Value(type="?", repr="<not captured: over the max_globals budget>",
                      missing="not captured: over the max_globals budget")


def char_index(text: str, byte_offset: int) -> int:
    """The character index of a UTF-8 byte offset in ``text``: co_positions' and ast's
    columns count bytes; a Position's, and what viewers and carets place, characters."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace"))


@dataclass
class Position:
    """Where in the line the failing expression is (3.11+); columns 0-based, in characters."""

    lineno: int
    end_lineno: int
    col: int
    end_col: int

    def to_json(self) -> List[int]:
        return [self.lineno, self.end_lineno, self.col, self.end_col]

    @classmethod
    def from_json(cls, d: Optional[List[int]]) -> Optional["Position"]:
        return None if d is None else cls(*map(_line, _typed(d, list)))


@dataclass
class Frame:
    """One frame as captured: where it was and what it held (previews)."""

    name: str
    qualname: str
    filename: str
    lineno: int
    module: str                         # f_globals["__name__"]
    position: Optional[Position] = None
    variables: Dict[str, Value] = field(default_factory=dict)   # locals, cells and frees
    globals_key: Optional[str] = None   # key into Dump.namespaces
    above_handler: bool = False         # a caller of the frame that handled the exception
    library: bool = False               # stdlib or site-packages
    module_level: bool = False          # its locals are its module's globals (stored once)
    _dump: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        # As traceback.FrameSummary's, with what the frame holds.
        return "<Frame file %s, line %d in %s, %s>" % (
            brief(self.filename, None), self.lineno, brief(self.name, 40), plural(len(self.variables), "variable"))

    def bind(self, dump: Any) -> None:
        """Attach the loaded Dump that resolves this frame's values to real objects."""
        self._dump = dump

    @property
    def locals(self) -> Dict[str, Any]:
        """The locals' real values (placeholders where a value is not available)."""
        return {name: self._dump.resolve(v) for name, v in self.variables.items()}

    @property
    def globals(self) -> Dict[str, Any]:
        """The module globals' real values, as ``locals``."""
        return {name: self._dump.resolve(v) for name, v in self._dump.globals_of(self).items()}

    def to_json(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "name": self.name, "qualname": self.qualname, "file": self.filename,
            "line": self.lineno, "module": self.module,
            "vars": {} if self.module_level else {k: v.to_json() for k, v in self.variables.items()},
        }
        if self.module_level:
            d["modvars"] = 1
        if self.position is not None:
            d["pos"] = self.position.to_json()
        if self.globals_key is not None:
            d["globals"] = self.globals_key
        if self.above_handler:
            d["above"] = 1
        if self.library:
            d["lib"] = 1
        return d

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Frame":
        return cls(
            name=_typed(d["name"], str), qualname=_typed(d["qualname"], str),
            filename=_typed(d["file"], str), lineno=_line(d["line"]),
            module=_typed(d["module"], str), position=Position.from_json(d.get("pos")),
            variables={k: Value.from_json(v) for k, v in _typed(d["vars"], dict).items()},
            globals_key=_typed(d.get("globals"), _TEXT), above_handler=bool(d.get("above")),
            library=bool(d.get("lib")), module_level=bool(d.get("modvars")),
        )


@dataclass
class SyntaxDetail:
    """Where a SyntaxError points: what Python prints above its ``SyntaxError: msg`` line.

    Its attributes as the exception held them (``offset`` 1-based, in characters).
    """

    msg: Optional[str]
    filename: Optional[str]
    lineno: Optional[int]
    offset: Optional[int] = None
    end_lineno: Optional[int] = None
    end_offset: Optional[int] = None
    text: Optional[str] = None   # the offending source line

    @classmethod
    def of(cls, exc: BaseException) -> Optional["SyntaxDetail"]:
        """Read from a SyntaxError; None when an attribute is not of the type Python prints
        (Python then prints the exception as any other)."""
        texts = [getattr(exc, name, None) for name in ("msg", "filename", "text")]
        numbers = [getattr(exc, name, None) for name in ("lineno", "offset", "end_lineno", "end_offset")]
        # Numbers the reader takes (a program may raise one at line 2**40): else the dump
        # would not open; such an exception is then shown as any other, by its str().
        if not all(isinstance(t, _TEXT) for t in texts) or not all(n is None or _is_line(n) for n in numbers):
            return None
        return cls(texts[0], texts[1], numbers[0], numbers[1], numbers[2], numbers[3], texts[2])

    def to_json(self) -> Dict[str, Any]:
        return {"msg": self.msg, "file": self.filename, "line": self.lineno, "offset": self.offset,
                "end_line": self.end_lineno, "end_offset": self.end_offset, "text": self.text}

    @classmethod
    def from_json(cls, d: Any) -> Optional["SyntaxDetail"]:
        if d is None:
            return None
        get = _typed(d, dict).get
        def number(key: str) -> Optional[int]:
            value = get(key)
            return None if value is None else _line(value)
        return cls(_typed(get("msg"), _TEXT), _typed(get("file"), _TEXT), number("line"), number("offset"),
                   number("end_line"), number("end_offset"), _typed(get("text"), _TEXT))


@dataclass
class ExceptionRecord:
    """One exception of the chain; links are indices into ``Dump.exceptions``."""

    type: str                 # as the traceback prints it: "ZeroDivisionError", "pkg.mod.Error"
    type_name: str            # the class __name__
    message: str              # str(exc), safely
    frames: List[Frame] = field(default_factory=list)   # its traceback, outermost first
    notes: List[str] = field(default_factory=list)
    cause: Optional[int] = None
    context: Optional[int] = None    # __context__, also when suppress_context keeps it out of the traceback
    suppress_context: bool = False
    members: List[int] = field(default_factory=list)    # ExceptionGroup members
    is_group: bool = False
    value: Optional[Value] = None                       # preview of the exception object
    syntax: Optional[SyntaxDetail] = None               # a SyntaxError's; None for others and in older dumps
    hint: str = ""            # what Python 3.10+ printed after the message: ". Did you mean: 'count'?"

    def __repr__(self) -> str:
        links = ["cause exceptions[%d]" % self.cause] if self.cause is not None else []
        if self.context is not None and self.context != self.cause:   # `raise X from e` in e's handler: one link
            links.append("context exceptions[%d]%s" % (self.context, " (suppressed)" if self.suppress_context else ""))
        if self.members:
            links.append(plural(len(self.members), "member"))
        if self.notes:
            links.append(plural(len(self.notes), "note"))
        line = "%s: %s" % (self.type, self.message) if self.message else self.type
        return "<ExceptionRecord %s, %s>" % (brief(line), ", ".join([plural(len(self.frames), "frame")] + links))

    def to_json(self, frame_ref: Callable[[Frame], Any]) -> Dict[str, Any]:
        d = {
            "type": self.type, "name": self.type_name, "message": self.message,
            "frames": [frame_ref(f) for f in self.frames], "notes": self.notes,
            # "context" stays null when suppressed, as format 1 said from the start: a reader that
            # prints it prints the chain as Python did; "suppressed_context" came later.
            "cause": self.cause, "context": None if self.suppress_context else self.context,
            "suppress": self.suppress_context, "members": self.members,
            "group": self.is_group,
            "value": None if self.value is None else self.value.to_json(),
        }
        if self.suppress_context and self.context is not None:
            d["suppressed_context"] = self.context
        if self.syntax is not None:
            d["syntax"] = self.syntax.to_json()
        if self.hint:
            d["hint"] = self.hint
        return d

    @classmethod
    def from_json(cls, d: Dict[str, Any], frame_of: Callable[[Any], Frame]) -> "ExceptionRecord":
        return cls(
            type=_typed(d["type"], str), type_name=_typed(d["name"], str),
            message=_typed(d["message"], str), frames=[frame_of(f) for f in _typed(d["frames"], list)],
            notes=_texts(d["notes"]), cause=_typed(d["cause"], _NUMBER),
            context=_typed(d["context"] if d["context"] is not None else d.get("suppressed_context"), _NUMBER),
            suppress_context=bool(d["suppress"]),
            members=_ints(d["members"]), is_group=bool(d["group"]),
            value=None if d["value"] is None else Value.from_json(d["value"]),
            syntax=SyntaxDetail.from_json(d.get("syntax")), hint=_typed(d.get("hint", ""), str),
        )


@dataclass
class Thread:
    """A thread's stack at the time of the crash, outermost frame first."""

    ident: int
    name: str
    daemon: bool
    crashed: bool
    frames: List[Frame] = field(default_factory=list)

    def __repr__(self) -> str:
        return "<Thread %s (id %d)%s%s, %s>" % (brief(self.name, 40), self.ident, ", daemon" if self.daemon else "",
                                              ", crashed" if self.crashed else "", plural(len(self.frames), "frame"))

    def to_json(self, frame_ref: Callable[[Frame], Any]) -> Dict[str, Any]:
        return {"id": self.ident, "name": self.name, "daemon": self.daemon,
                "crashed": self.crashed, "frames": [frame_ref(f) for f in self.frames]}

    @classmethod
    def from_json(cls, d: Dict[str, Any], frame_of: Callable[[Any], Frame]) -> "Thread":
        return cls(_typed(d["id"], int), _typed(d["name"], str), bool(d["daemon"]), bool(d["crashed"]),
                   [frame_of(f) for f in _typed(d["frames"], list)])


@dataclass
class Source:
    """A source file as it was at the crash."""

    filename: str
    text: Optional[str]            # None when it could not be read
    sha256: Optional[str] = None   # of the file's bytes on disk at capture
    reason: Optional[str] = None   # why there is no text

    def __repr__(self) -> str:
        held = plural(len(self.lines), "line") if self.text is not None else "no text: %s" % brief(
            self.reason or "not captured")
        return "<Source %s, %s>" % (brief(self.filename, None), held)

    @functools.cached_property
    def lines(self) -> List[str]:
        """The text's lines as Python numbers them (``source_lines``), split once: every
        frame in the file reads them."""
        return source_lines(self.text) if self.text is not None else []

    def to_json(self) -> Dict[str, Any]:
        return {"file": self.filename, "text": self.text, "sha256": self.sha256,
                "reason": self.reason}

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Source":
        return cls(_typed(d["file"], str), _typed(d["text"], _TEXT), _typed(d.get("sha256"), _TEXT),
                   _typed(d.get("reason"), _TEXT))


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(text: str) -> List[str]:
    """A source's lines as Python numbers them, without their ends: split at \\n, \\r\\n
    and \\r only (str.splitlines also splits at form feeds and U+2028, which Python keeps
    inside a line, and every line after one would be numbered wrong)."""
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def all_frames(exceptions: List[ExceptionRecord], threads: List[Thread]) -> List[Frame]:
    """Every frame of the chain's tracebacks and the threads' stacks (a frame may be in both)."""
    return [f for e in exceptions for f in e.frames] + [f for t in threads for f in t.frames]


@dataclass
class Metadata:
    """Where and when the dump was written, and what was cut from it."""

    time: str                      # ISO 8601, UTC
    python: str                    # sys.version
    version_info: List[int]        # [major, minor, micro]
    implementation: str
    platform: str
    hostname: str
    pid: int
    argv: List[str]
    cwd: str
    executable: str
    tbdump_version: str
    format_version: int = FORMAT_VERSION
    packages: Dict[str, str] = field(default_factory=dict)
    partial: bool = False          # a budget stopped capture early
    cut: List[str] = field(default_factory=list)   # one line per thing a budget cut
    redaction: Dict[str, Any] = field(default_factory=dict)
    signed: bool = False

    def __repr__(self) -> str:
        return "<Metadata %s %s, %s on %s (pid %d): %s%s>" % (
            self.implementation, ".".join(map(str, self.version_info)), self.time, brief(self.hostname, 40),
            self.pid, brief(" ".join(self.argv), 60), ", partial" if self.partial or self.cut else "")

    def to_json(self) -> Dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Metadata":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for name, kind in _METADATA_TYPES.items():
            if name in known:
                _typed(known[name], kind)
        # The lists, item by item:
        _ints(known.get("version_info", []))
        _texts(known.get("argv", []))
        _texts(known.get("cut", []))
        return cls(**known)


_METADATA_TYPES: Dict[str, Any] = {
    "time": str, "python": str, "implementation": str, "platform": str, "hostname": str,
    "pid": int, "cwd": str, "executable": str, "tbdump_version": str, "format_version": int,
    "packages": dict, "partial": bool, "redaction": dict, "signed": bool}


@dataclass
class SafeLayer:
    """Everything in a dump that can be read without running code from it."""

    metadata: Metadata
    exceptions: List[ExceptionRecord]       # [0] is the exception that was raised
    threads: List[Thread]                   # the crashing thread first
    sources: Dict[str, Source]
    namespaces: Dict[str, Dict[str, Value]]  # module globals, keyed by Frame.globals_key
    omitted: Dict[str, List[str]] = field(default_factory=dict)  # globals over the budget, by key

    def to_json(self) -> Dict[str, Any]:
        # A frame is in its exception's traceback and in its thread's stack:
        # stored once in "frames", referred to by index everywhere else.
        table: List[Dict[str, Any]] = []
        index: Dict[int, int] = {}

        def frame_ref(frame: Frame) -> int:
            if id(frame) not in index:
                index[id(frame)] = len(table)
                table.append(frame.to_json())
            return index[id(frame)]

        exceptions = [e.to_json(frame_ref) for e in self.exceptions]
        threads = [t.to_json(frame_ref) for t in self.threads]
        return {
            "metadata": self.metadata.to_json(),
            "frames": table,
            "exceptions": exceptions,
            "threads": threads,
            "sources": {k: s.to_json() for k, s in self.sources.items()},
            "namespaces": {k: {n: v.to_json() for n, v in ns.items()}
                           for k, ns in self.namespaces.items()},
            "omitted": self.omitted,
        }

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "SafeLayer":
        frames = [Frame.from_json(f) for f in _typed(d["frames"], list)]

        def frame_of(i: Any) -> Frame:
            return frames[_typed(i, int)]

        namespaces = {k: {n: Value.from_json(v) for n, v in ns.items()}
                      for k, ns in d["namespaces"].items()}
        omitted = d.get("omitted", {})
        for key, names in _typed(omitted, dict).items():
            _texts(names)
            # Every name stays visible, as one shared placeholder (there may be 200 000).
            namespaces.setdefault(key, {}).update(dict.fromkeys(names, OMITTED_GLOBAL))
        for frame in frames:
            if frame.module_level:
                frame.variables = namespaces.get(frame.globals_key or "", {})
        exceptions = [ExceptionRecord.from_json(e, frame_of) for e in _typed(d["exceptions"], list)]
        links = [i for e in exceptions for i in [e.cause, e.context, *e.members] if i is not None]
        if not exceptions or not all(0 <= i < len(exceptions) for i in links):
            raise LookupError("the exception chain refers to exceptions it does not hold")
        return cls(
            metadata=Metadata.from_json(_typed(d["metadata"], dict)),
            exceptions=exceptions,
            threads=[Thread.from_json(t, frame_of) for t in _typed(d["threads"], list)],
            sources={k: Source.from_json(s) for k, s in _typed(d["sources"], dict).items()},
            namespaces=namespaces, omitted=omitted,
        )
