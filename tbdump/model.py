"""The plain data model of a dump: what capture writes and every viewer reads.

Everything here is the *safe layer*: built from JSON, it never unpickles
anything.  Full objects live in the object layer (``tbdump.objects``) and are
reached through ``Value.ref``; the ``Dump`` facade in ``tbdump.dumpfile`` joins
the two.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import shlex
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

from .fields import (BOOL, COUNT, COUNT_OR_NULL, COUNTS, FLAG, INDEX_OR_NULL, INT, INT_OR_NULL, INTS, LINE,
                     LINE_OR_NULL, OBJECT, TEXT, TEXT_OR_NULL, TEXTS, BadField, Kind, is_count, is_line, items,
                     member, mismatch, named, of_kind, record, wrong)
from .fields import field as read
from .termtext import printable

# 2: each module's globals and each source's text in a member of their own, read when first
# asked for, and the object index packed; format 1 held globals and texts in the safe layer
# and the index as JSON, which this reader still reads.
FORMAT_VERSION = 2

# Children groups, as debugpy groups them in VARIABLES.
GROUP_SPECIAL = "special"      # dunder attributes
GROUP_FUNCTION = "function"    # methods and functions
GROUP_CLASS = "class"          # classes
# The Value.type of a function or method (Python's, a C type's, Cython's), which the viewers
# show as code, not data.
FUNCTION_TYPES = frozenset({"function", "builtin_function_or_method", "method", "method-wrapper",
                            "wrapper_descriptor", "method_descriptor", "classmethod_descriptor",
                            "cython_function_or_method"})


# The safe layer comes from a file that may be damaged or crafted with valid
# checksums: every field is read through tbdump.fields, which checks it as it is
# read and names a bad one (BadField), so a bad file is a DumpError at load,
# never a viewer's traceback.
GROUPS = (None, GROUP_SPECIAL, GROUP_FUNCTION, GROUP_CLASS)
GROUP = Kind(lambda v: v in GROUPS, "null, %r, %r or %r" % GROUPS[1:])
_CHILD = Kind(lambda v: type(v) is list and len(v) == 4, "[name, value, access, group]")


def json_default(obj: Any) -> Any:
    """The JSON of a Value or Child met by the encoder (json.dumps's ``default``).

    ``to_json`` leaves previews as the objects they are: each becomes JSON only as the encoder
    reaches it, and is freed once written.  A 900-frame safe layer made whole as a tree first,
    then encoded and freed whole, took 60% longer.
    """
    if type(obj) is Value or type(obj) is Child:
        return obj.to_json()
    raise TypeError("%s is not JSON serializable" % type(obj).__name__)


def brief(text: str, limit: Optional[int] = 80) -> str:
    """``text`` for a one-line repr: cut to ``limit`` characters (None: a path, whole, as its
    end matters most), line ends and control characters escaped (a REPL prints a repr as it
    is, and the text comes from the dump)."""
    return printable((text if limit is None else cut(text, limit)).replace("\n", "\\n"))


def cut(text: str, limit: int) -> str:
    """``text``'s first ``limit`` characters, "..." the last three where there are more."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def plural(count: int, what: str) -> str:
    return "%d %s%s" % (count, what, "" if count == 1 else "s")


# A capture makes a Value and a Child for every value it previews, tens of thousands: with
# slots (Python 3.10 on) each is made and freed without an attribute dict of its own.
_PER_VALUE: Dict[str, Any] = {"slots": True} if sys.version_info >= (3, 10) else {}


@dataclass(**_PER_VALUE)
class Child:
    """One entry below a value: a dict item, a list index, an attribute."""

    name: str                      # as debugpy shows it: repr(key), "0", "attr", "len()"
    value: "Value"
    access: Optional[str] = None   # expression suffix from the parent: "[0]", "['k']", ".a"
    group: Optional[str] = None    # None, or one of the GROUP_* names

    def to_json(self) -> List[Any]:
        return [self.name, self.value, self.access, self.group]   # the Value: see json_default

    @classmethod
    def from_json(cls, data: Any) -> "Child":
        if type(data) is not list or len(data) != 4:
            raise mismatch(_CHILD, data)
        name, value, access, group = data
        if type(name) is not str:
            raise mismatch(TEXT, name).within("[0]")
        if not (access is None or type(access) is str):
            raise mismatch(TEXT_OR_NULL, access).within("[2]")
        if group not in GROUPS:   # viewers lay groups out by these names
            raise mismatch(GROUP, group).within("[3]")
        try:
            return cls(name, Value.from_json(value), access, group)
        except BadField as exc:
            raise exc.within("[1]")


@dataclass(**_PER_VALUE)
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
    missing: Optional[str] = None   # why the object itself is not captured (not_captured(...))
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
        """Its JSON, the children left as Child objects for json_default."""
        d: Dict[str, Any] = {"t": self.type, "r": self.repr}
        if self.qualtype and self.qualtype != self.type:
            d["q"] = self.qualtype
        if self.length is not None:
            d["n"] = self.length
        if self.shape is not None:
            d["s"] = self.shape
        if self.children is not None:
            d["c"] = self.children
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
    def from_json(cls, d: Any) -> "Value":
        # The hot path of a load (a deep stack has tens of thousands of values): the checks
        # are inline, and the common shapes return early.
        try:
            t, r = d["t"], d["r"]
        except (KeyError, TypeError):   # not an object, or one without them
            raise (wrong(d, "t" if "t" not in d else "r", TEXT) if type(d) is dict else
                   mismatch(OBJECT, d)) from None
        if type(t) is not str:
            raise wrong(d, "t", TEXT)
        if type(r) is not str:
            raise wrong(d, "r", TEXT)
        if len(d) == 2:  # a scalar in a container: most of a deep stack's values
            return cls(t, r, t)
        get = d.get
        ref = get("ref")
        if len(d) == 3 and type(ref) is int:  # a scalar variable: the rest of a deep stack's
            return cls(t, r, t, None, None, None, 0, False, None, None, ref)
        q, n, shape, children, more, why, rule, groups, expandable = (
            get("q", t), get("n"), get("s"), get("c"), get("m", 0), get("x"), get("red"), get("g"), get("e"))
        if type(q) is not str:
            raise wrong(d, "q", TEXT)
        if n is not None and not is_count(n):
            raise wrong(d, "n", COUNT_OR_NULL)
        if not is_count(more):
            raise wrong(d, "m", COUNT)
        if why is not None and type(why) is not str:
            raise wrong(d, "x", TEXT_OR_NULL)
        if rule is not None and type(rule) is not str:
            raise wrong(d, "red", TEXT_OR_NULL)
        if ref is not None and type(ref) is not int:   # a record not in the index: a placeholder
            raise wrong(d, "ref", INT_OR_NULL)
        if expandable is not None and not FLAG.test(expandable):
            raise wrong(d, "e", FLAG)
        if children is not None:
            try:
                children = items(children, Child.from_json)
            except BadField as exc:
                raise exc.within(".c")
        return cls(t, r, q, n, None if shape is None else read(d, "s", COUNTS), children, more,
                   bool(expandable), why, rule, ref, None if groups is None else member(d, "g", _counts))


def _counts(data: Any) -> Dict[str, int]:
    """A value's ``g``: how many attributes of each group its preview leaves out."""
    return named(data, of_kind(COUNT))


# The words before every reason a dump gives for what it does not hold (a value, a source),
# which every viewer shows and the docs quote.
NOT_CAPTURED = "not captured: "


def not_captured(reason: str) -> str:
    """``not captured: REASON``: a placeholder's or a source's why."""
    return NOT_CAPTURED + reason


def reason_not_captured(why: str) -> str:
    """The REASON of ``not captured: REASON`` (any other text as it is), for a line that says
    "not captured" before it already."""
    return why[len(NOT_CAPTURED):] if why.startswith(NOT_CAPTURED) else why


OMITTED_GLOBAL = Value(type="?", repr="<%s>" % not_captured("over the max_globals budget"),
                       missing=not_captured("over the max_globals budget"))


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
    def from_json(cls, d: Any) -> "Position":
        if type(d) is not list or len(d) != 4 or not all(map(is_line, d)):
            raise BadField("expected [line, end_line, col, end_col], numbers from -2**31 to 2**31-1")
        return cls(*d)


@dataclass
class Frame:
    """One frame as captured: where it was and what it held (previews)."""

    name: str                           # co_name
    recorded_qualname: str              # co_qualname; co_name from 3.9/3.10, which have none (see qualname)
    filename: str
    lineno: int
    module: str                         # f_globals["__name__"]
    position: Optional[Position] = None
    variables: Mapping[str, Value] = field(default_factory=dict)   # locals, cells and frees
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
    def qualname(self) -> str:
        """The code's qualified name, as ``co_qualname`` gives it (``Class.method``,
        ``f.<locals>.helper``); for a dump of Python 3.9/3.10, whose code has none, the
        loaded Dump finds it in the source it holds."""
        return self.recorded_qualname if self._dump is None else str(self._dump.qualname_of(self))

    @property
    def locals(self) -> Dict[str, Any]:
        """The locals' real values (placeholders where a value is not available)."""
        return self._dump.resolved(self.variables)

    @property
    def globals(self) -> Dict[str, Any]:
        """The module globals' real values, as ``locals``."""
        return self._dump.resolved(self._dump.globals_of(self))

    def to_json(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "name": self.name, "qualname": self.recorded_qualname, "file": self.filename,
            "line": self.lineno, "module": self.module,
            "vars": {} if self.module_level else dict(self.variables),   # Values: see json_default
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
    def from_json(cls, d: Any) -> "Frame":
        d = record(d)
        return cls(
            name=read(d, "name", TEXT), recorded_qualname=read(d, "qualname", TEXT),
            filename=read(d, "file", TEXT), lineno=read(d, "line", LINE),
            module=read(d, "module", TEXT), position=member(d, "pos", Position.from_json, None),
            variables=member(d, "vars", values_by_name), globals_key=read(d, "globals", TEXT_OR_NULL, None),
            above_handler=bool(read(d, "above", FLAG, 0)), library=bool(read(d, "lib", FLAG, 0)),
            module_level=bool(read(d, "modvars", FLAG, 0)),
        )


def values_by_name(data: Any) -> Dict[str, Value]:
    """A frame's variables or a module's globals: name -> value."""
    return named(data, Value.from_json)


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
        if not all(map(TEXT_OR_NULL.test, texts)) or not all(map(LINE_OR_NULL.test, numbers)):
            return None
        return cls(texts[0], texts[1], numbers[0], numbers[1], numbers[2], numbers[3], texts[2])

    def to_json(self) -> Dict[str, Any]:
        return {"msg": self.msg, "file": self.filename, "line": self.lineno, "offset": self.offset,
                "end_line": self.end_lineno, "end_offset": self.end_offset, "text": self.text}

    @classmethod
    def from_json(cls, d: Any) -> "SyntaxDetail":
        d = record(d)
        texts = [read(d, key, TEXT_OR_NULL, None) for key in ("msg", "file", "text")]
        numbers = [read(d, key, LINE_OR_NULL, None) for key in ("line", "offset", "end_line", "end_offset")]
        return cls(texts[0], texts[1], numbers[0], numbers[1], numbers[2], numbers[3], texts[2])


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
        d: Dict[str, Any] = {
            "type": self.type, "name": self.type_name, "message": self.message,
            "frames": [frame_ref(f) for f in self.frames], "notes": self.notes,
            # "context" stays null when suppressed, as format 1 said from the start: a reader that
            # prints it prints the chain as Python did; "suppressed_context" came later.
            "cause": self.cause, "context": None if self.suppress_context else self.context,
            "suppress": self.suppress_context, "members": self.members,
            "group": self.is_group,
            "value": self.value,   # a Value: see json_default
        }
        if self.suppress_context and self.context is not None:
            d["suppressed_context"] = self.context
        if self.syntax is not None:
            d["syntax"] = self.syntax.to_json()
        if self.hint:
            d["hint"] = self.hint
        return d

    @classmethod
    def from_json(cls, d: Any, frame_of: Callable[[Any], Frame]) -> "ExceptionRecord":
        d = record(d)
        context = read(d, "context", INDEX_OR_NULL)
        return cls(
            type=read(d, "type", TEXT), type_name=read(d, "name", TEXT),
            message=read(d, "message", TEXT), frames=member(d, "frames", lambda f: items(f, frame_of)),
            notes=read(d, "notes", TEXTS), cause=read(d, "cause", INDEX_OR_NULL),
            context=context if context is not None else read(d, "suppressed_context", INDEX_OR_NULL, None),
            suppress_context=bool(read(d, "suppress", FLAG)),
            members=read(d, "members", COUNTS), is_group=bool(read(d, "group", FLAG)),
            value=member(d, "value", lambda v: None if v is None else Value.from_json(v)),
            syntax=member(d, "syntax", SyntaxDetail.from_json, None), hint=read(d, "hint", TEXT, ""),
        )

    def links(self) -> List[Tuple[str, Optional[int]]]:
        """Where it points into the chain, by field: cause, context, each member."""
        return [(".cause", self.cause), (".context", self.context)] + [
            (".members[%d]" % n, i) for n, i in enumerate(self.members)]


@dataclass
class Thread:
    """A thread's stack at the time of the crash, outermost frame first."""

    ident: int
    name: str
    daemon: bool
    crashed: bool
    frames: List[Frame] = field(default_factory=list)
    # The crashing thread's place in the order the threads started: how many of the others
    # listed after it started before it (None: not recorded, in dumps written before it was).
    place: Optional[int] = None

    def __repr__(self) -> str:
        return "<Thread %s (id %d)%s%s, %s>" % (brief(self.name, 40), self.ident, ", daemon" if self.daemon else "",
                                              ", crashed" if self.crashed else "", plural(len(self.frames), "frame"))

    def to_json(self, frame_ref: Callable[[Frame], Any]) -> Dict[str, Any]:
        d: Dict[str, Any] = {"id": self.ident, "name": self.name, "daemon": self.daemon,
                             "crashed": self.crashed, "frames": [frame_ref(f) for f in self.frames]}
        if self.place is not None:
            d["place"] = self.place
        return d

    @classmethod
    def from_json(cls, d: Any, frame_of: Callable[[Any], Frame]) -> "Thread":
        d = record(d)
        return cls(read(d, "id", INT), read(d, "name", TEXT), bool(read(d, "daemon", FLAG)),
                   bool(read(d, "crashed", FLAG)), member(d, "frames", lambda f: items(f, frame_of)),
                   read(d, "place", COUNT_OR_NULL, None))


@dataclass
class Source:
    """A source file as it was at the crash."""

    filename: str
    text: Optional[str]            # None when it could not be read
    sha256: Optional[str] = None   # of the file's bytes on disk at capture
    reason: Optional[str] = None   # why there is no text
    note: Optional[str] = None     # with a text: why its lines may not be the code that ran

    def __post_init__(self) -> None:
        if self.text is None:
            self.note = None  # about lines there are not (a capture that could not decode them, a crafted file)

    def __repr__(self) -> str:
        held = plural(len(self.lines), "line") if self.text is not None else "no text: %s" % brief(
            self.reason or "not captured")
        return "<Source %s, %s%s>" % (brief(self.filename, None), held, "; " + brief(self.note) if self.note else "")

    @functools.cached_property
    def lines(self) -> List[str]:
        """The text's lines as Python numbers them (``source_lines``), split once: every
        frame in the file reads them."""
        return source_lines(self.text) if self.text is not None else []

    def to_json(self, stored_in: Optional[str] = None) -> Dict[str, Any]:
        """The source's JSON; with ``stored_in``, the member that holds its text instead."""
        out = {"file": self.filename, "text": None if stored_in else self.text, "sha256": self.sha256,
               "reason": self.reason, "note": self.note}
        return dict(out, member=stored_in) if stored_in else out

    @classmethod
    def from_json(cls, d: Any, stored: Callable[[str], "TextLoader"]) -> "Source":
        """The source from its JSON; ``stored(member)`` reads a text kept in a member of its own."""
        d = record(d)
        filename, in_member = read(d, "file", TEXT), read(d, "member", TEXT_OR_NULL, None)
        sha256, reason, note = (read(d, key, TEXT_OR_NULL, None) for key in ("sha256", "reason", "note"))
        if in_member is not None:
            return StoredSource(filename, sha256, reason, note, stored(in_member))
        return cls(filename, read(d, "text", TEXT_OR_NULL), sha256, reason, note)


# Reads a source's text from its member: (text, None), or (None, why it is not readable).
TextLoader = Callable[[], Tuple[Optional[str], Optional[str]]]


class StoredSource(Source):
    """A source whose text is in a dump member of its own (format 2), read when first asked
    for: a frame's locals need no file's text, and a big program's stack runs through dozens
    of files of thousands of lines.  One that cannot be read has no text, and says why."""

    def __init__(self, filename: str, sha256: Optional[str], reason: Optional[str], note: Optional[str],
                 load: TextLoader) -> None:
        # Not the dataclass's __init__: its __post_init__ would read the text at once.
        self.filename, self.sha256, self.reason, self.note = filename, sha256, reason, note
        self._load: Optional[TextLoader] = load
        self._text: Optional[str] = None
        self._lock = threading.Lock()   # a viewer's threads may ask at once: read once

    @property
    def text(self) -> Optional[str]:  # type: ignore[override]  # read-only: the dump's text
        if self._load is not None:
            with self._lock:
                if self._load is not None:
                    self._text, why = self._load()
                    if why is not None:
                        self.reason, self.note = why, None
                    self._load = None
        return self._text


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(text: str) -> List[str]:
    """A source's lines as Python numbers them, without their ends: split at \\n, \\r\\n
    and \\r only (str.splitlines also splits at form feeds and U+2028, which Python keeps
    inside a line, and every line after one would be numbered wrong)."""
    # Without a \r (most sources) that is str.split at \n, in C: several times quicker than the
    # regular expression over a 3 000-line module.
    lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def all_frames(exceptions: List[ExceptionRecord], threads: List[Thread]) -> List[Frame]:
    """Every frame of the chain's tracebacks and the threads' stacks (a frame may be in both)."""
    return [f for e in exceptions for f in e.frames] + [f for t in threads for f in t.frames]


# The cuts of a partial dump a viewer lists on opening; `python -m tbdump.report` lists them all.
CUTS_SHOWN = 100


def _shell_word(arg: str) -> str:
    """``arg`` as a shell reads it, on one line: one holding a line break or another character
    a terminal does not print (a dump's argv: any text) in bash's ``$'...'``, spelt with the
    escapes ``repr`` and bash share (``\\n``, ``\\x1b``), where shlex.quote would keep it raw
    and a viewer's one line of the command would become two."""
    if arg.isprintable():
        return shlex.quote(arg)
    return "$'%s'" % "".join("\\" + c if c in "\\'" else c if c.isprintable() else repr(c)[1:-1] for c in arg)


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
    # A dump of a logged exception (DumpHandler): the record's logger, level and message.
    log: Dict[str, str] = field(default_factory=dict)

    @property
    def command(self) -> str:
        """The program's command line as a shell reads it.  Python at its prompt, or reading the
        program from stdin, has the argv ``['']``: the command was the interpreter alone."""
        if any(self.argv):
            return " ".join(map(_shell_word, self.argv))
        return _shell_word(self.executable.replace("\\", "/").rpartition("/")[2] or "python")

    def __repr__(self) -> str:
        return "<Metadata %s %s, %s on %s (pid %d): %s%s>" % (
            self.implementation, ".".join(map(str, self.version_info)), self.time, brief(self.hostname, 40),
            self.pid, brief(self.command, 60), ", partial" if self.partial or self.cut else "")

    def cut_notes(self, shown: Optional[int] = None) -> List[str]:
        """What every viewer says of a dump whose capture was cut short: one line per cut,
        each naming what is missing and why (a budget, a signal, a capture that failed), the
        first ``shown`` of them and then how many more (a dump may list 100 000)."""
        cuts = self.cut or (["capture stopped before it ended"] if self.partial else [])
        notes = ["partial dump: %s" % cut for cut in cuts[:shown]]
        if shown is not None and len(cuts) > shown:
            notes.append("partial dump: %d more cuts, which `python -m tbdump.report` lists" % (len(cuts) - shown))
        return notes

    def to_json(self) -> Dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, d: Any) -> "Metadata":
        d = record(d)
        # Keys this reader does not know are a newer writer's: left for it to read.  A field
        # with a default may be left out (older dumps); the others must be there.
        return cls(**{name: member(d, name, reader) for name, reader in _METADATA.items()
                      if name in d or name in _METADATA_REQUIRED})


_METADATA: Dict[str, Callable[[Any], Any]] = {
    "time": of_kind(TEXT), "python": of_kind(TEXT), "version_info": of_kind(INTS), "implementation": of_kind(TEXT),
    "platform": of_kind(TEXT), "hostname": of_kind(TEXT), "pid": of_kind(INT), "argv": of_kind(TEXTS),
    "cwd": of_kind(TEXT), "executable": of_kind(TEXT), "tbdump_version": of_kind(TEXT),
    "format_version": of_kind(INT), "packages": lambda v: named(v, of_kind(TEXT)), "partial": of_kind(BOOL),
    "cut": of_kind(TEXTS), "redaction": of_kind(OBJECT), "signed": of_kind(BOOL),
    "log": lambda v: named(v, of_kind(TEXT))}
_METADATA_REQUIRED = {f.name for f in dataclasses.fields(Metadata)
                      if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}


class EncodedMember:
    """What a member of the dump will hold, already encoded and compressed (``payload``):
    capture spools each module's globals so (tbdump.spool)."""

    payload: bytes


@dataclass
class SafeLayer:
    """Everything in a dump that can be read without running code from it."""

    metadata: Metadata
    exceptions: List[ExceptionRecord]       # [0] is the exception that was raised
    threads: List[Thread]                   # the crashing thread first
    sources: Dict[str, Source]
    namespaces: Mapping[str, Mapping[str, Value]]  # module globals, keyed by Frame.globals_key
    omitted: Dict[str, List[str]] = field(default_factory=dict)  # globals over the budget, by key

    def members(self) -> Iterator[Tuple[str, Any]]:
        """The JSON of each member of the dump's safe layer, with its name, its previews left
        as Values for json_default: each module's globals in a ``globals.N`` (already encoded
        where capture spooled them: EncodedMember) and each source's text in a ``source.N`` of
        its own, then ``safe``, which names them.  Made one at a time as they are asked for: a
        big program's previews are never held twice, as trees too."""
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
        stored = {key: "globals.%d" % n for n, key in enumerate(self.namespaces)}
        texts = {name: "source.%d" % n for n, name in enumerate(k for k, s in self.sources.items() if s.text)}
        safe = {
            "metadata": self.metadata.to_json(),
            "frames": table,
            "exceptions": exceptions,
            "threads": threads,
            "sources": {k: s.to_json(texts.get(k)) for k, s in self.sources.items()},
            "namespaces": {},   # format 1's place for them, read from older dumps
            "globals": stored,
            "omitted": self.omitted,
        }
        for key, name in stored.items():
            ns = self.namespaces[key]
            yield name, ns if isinstance(ns, EncodedMember) else dict(ns)
        for key, name in texts.items():
            yield name, self.sources[key].text
        yield "safe", safe

    @classmethod
    def from_json(cls, d: Any, stored: Callable[[str, List[str]], Mapping[str, Value]],
                  stored_text: Callable[[str], TextLoader]) -> "SafeLayer":
        """The layer from its JSON, every field checked: BadField names the first bad one.
        ``stored(member, omitted)`` gives the globals a member of the dump holds, with the
        names over the budget, and ``stored_text(member)`` a source's text: each read when
        first asked for, and checked then."""
        d = record(d)
        frames = member(d, "frames", lambda f: items(f, Frame.from_json))

        def frame_of(i: Any) -> Frame:
            if type(i) is not int or not 0 <= i < len(frames):
                raise _no_such("frames", len(frames))
            return frames[i]

        inline = member(d, "namespaces", lambda ns: named(ns, values_by_name))
        omitted = member(d, "omitted", lambda o: named(o, of_kind(TEXTS)), {})
        namespaces: Dict[str, Mapping[str, Value]] = {
            key: stored(name, omitted.get(key, [])) for key, name in member(d, "globals", _member_names, {}).items()}
        for key, names in omitted.items():
            if key not in namespaces:
                # Every name stays visible, as one shared placeholder (there may be 200 000).
                inline.setdefault(key, {}).update(dict.fromkeys(names, OMITTED_GLOBAL))
        for key, values in inline.items():
            namespaces.setdefault(key, values)
        for frame in frames:
            if frame.module_level:
                frame.variables = namespaces.get(frame.globals_key or "", {})
        exceptions = member(d, "exceptions", lambda e: items(e, lambda x: ExceptionRecord.from_json(x, frame_of)))
        if not exceptions:
            raise BadField("expected at least the exception that was raised").within(".exceptions")
        for n, exception in enumerate(exceptions):
            for step, i in exception.links():
                if i is not None and i >= len(exceptions):
                    raise _no_such("exceptions", len(exceptions)).within(step).within("[%d]" % n).within(".exceptions")
        return cls(
            metadata=member(d, "metadata", Metadata.from_json), exceptions=exceptions,
            threads=member(d, "threads", lambda t: items(t, lambda x: Thread.from_json(x, frame_of))),
            sources=member(d, "sources", lambda s: named(s, lambda x: Source.from_json(x, stored_text))),
            namespaces=namespaces, omitted=omitted,
        )


def _member_names(data: Any) -> Dict[str, str]:
    """The safe layer's ``globals``: namespace key -> the member holding its globals."""
    return named(data, of_kind(TEXT))


def _no_such(table: str, count: int) -> BadField:
    """The error for an index that points at nothing in the layer's ``table`` of ``count``."""
    if not count:
        return BadField("expected no index: the dump has no %s" % table)
    return BadField("expected an index into %s (0 to %d)" % (table, count - 1))
