"""The traceback text of a dump, rendered from the model the way the writing Python printed it.

Python 3.9-3.12 print an uncaught exception with pythonrun.c, 3.13+ with the
traceback module (``TracebackException.format``).  The two differ in details a
reader sees: which of two group members shows a context they share, which lines
of a member get the ``| `` margin, how a SyntaxError is pointed at, and (3.13)
the carets under the code.  The writer's version, in the dump, picks the rules.
"""
from __future__ import annotations

import itertools
from typing import Iterator, List, NamedTuple, Optional, Set, Tuple

from .framelines import frame_lines
from .model import ExceptionRecord, Frame, SafeLayer, SyntaxDetail

CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"

# sys.excepthook's limits, the same in pythonrun.c/traceback.c and traceback.py.
MAX_GROUP_WIDTH = 15
MAX_GROUP_DEPTH = 10
RECURSIVE_CUTOFF = 3  # a frame repeating (a recursion) is printed this many times, the rest counted

Version = Tuple[int, int]


def writer_version(layer: SafeLayer) -> Version:
    """The (major, minor) of the Python that wrote the dump."""
    info = layer.metadata.version_info
    # Without it (a crafted dump): the rules this renderer followed before it looked.
    return (info[0], info[1]) if len(info) >= 2 else (3, 12)


def _by_traceback_module(version: Version) -> bool:
    """Whether that Python printed with traceback.py (3.13+) rather than pythonrun.c."""
    return version >= (3, 13)


# -- the printout: chains, groups, the exception lines ------------------------------

class Piece(NamedTuple):
    """One part of the printout: text, or a frame for the caller to render."""

    pad: str                 # the group nesting's margin: "" at the top, "    | " one group down
    kind: str                # "traceback", "frame", "repeat", "exception", "syntax", "note",
                             # "chain", "member", "more" or "depth"
    text: str = ""           # as printed after the pad, line ends included
    frame: Optional[Frame] = None
    every_line: bool = True  # the pad goes before each line of text; pythonrun.c writes a
                             # message (and a SyntaxError's text) as it is after one margin


def padded(piece: Piece) -> str:
    """A text piece as printed, with its pad."""
    if not piece.every_line:
        return piece.pad + piece.text
    # traceback.py indents what it emits with textwrap.indent: at every str.splitlines break.
    return "".join(piece.pad + line for line in piece.text.splitlines(True))


def frame_text(layer: SafeLayer, piece: Piece, header: bool = True) -> str:
    """A frame piece as printed (without its ``File`` line: for a caller that writes its own)."""
    assert piece.frame is not None
    lines = frame_lines(layer, piece.frame, _by_traceback_module(writer_version(layer)))[0 if header else 1:]
    return "".join(padded(piece._replace(text=line + "\n")) for line in lines)


def format_chain(layer: SafeLayer) -> str:
    """The whole printout of the uncaught exception: chain, groups, notes."""
    return "".join(frame_text(layer, piece) if piece.frame is not None else padded(piece)
                   for piece in printout(layer))


def printout(layer: SafeLayer, above_handler: bool = False) -> Iterator[Piece]:
    """What the writing Python printed for the uncaught exception, piece by piece.

    Python's printout starts at the frame that handled the exception;
    ``above_handler`` also gives the frames above it.
    """
    version = writer_version(layer)
    tree = _Tree(layer.exceptions)
    root = tree.shown_by_module() if _by_traceback_module(version) else tree.shown_by_c(0, 0)
    return _Printer(layer.exceptions, version, above_handler).chain(root)


class _Shown:
    """An exception where the printout shows it: what is printed before it (with the
    line that links the two) and, for a group, the members shown inside it."""

    __slots__ = ("index", "before", "intro", "members")

    def __init__(self, index: int) -> None:
        self.index = index
        self.before: Optional[_Shown] = None
        self.intro = ""
        self.members: Optional[List[_Shown]] = None


class _Tree:
    """Which exceptions the printout shows where: each cause or context once, as Python decides.

    A group shows all its members, and a dump may be crafted with members that nest
    without end: past LIMIT shown exceptions, groups show no more members.
    """

    LIMIT = 100_000

    def __init__(self, exceptions: List[ExceptionRecord]) -> None:
        self.exceptions = exceptions
        self.seen: Set[int] = set()
        self.count = 0

    def node(self, index: int) -> _Shown:
        self.seen.add(index)
        self.count += 1
        return _Shown(index)

    def shown_by_module(self) -> _Shown:
        """As traceback.TracebackException builds it (3.13+): from a LIFO queue, so that of
        two members sharing a context the later one shows it."""
        top = self.node(0)
        queue = [top]
        while queue:
            node = queue.pop()
            record = self.exceptions[node.index]
            link = self._link(record, by_c=False)
            if link is not None:
                node.before, node.intro = self.node(link[0]), link[1]
                queue.append(node.before)
            if record.is_group and self.count < self.LIMIT:   # one wide group is bounded too
                node.members = [self.node(m) for m in record.members[:self.LIMIT - self.count]]
                queue.extend(node.members)
        return top

    def _link(self, record: ExceptionRecord, by_c: bool) -> Optional[Tuple[int, str]]:
        """The exception printed before ``record``, and the line between them."""
        if record.cause is not None:
            if record.cause not in self.seen:
                return record.cause, CAUSE
            if by_c:   # shown already: pythonrun.c shows no context either
                return None
        # sys.excepthook's compact mode (3.13): the context when no cause is shown.
        if record.context is not None and not record.suppress_context and record.context not in self.seen:
            return record.context, CONTEXT
        return None

    def shown_by_c(self, index: int, depth: int) -> _Shown:
        """As pythonrun.c prints it (3.9-3.12): depth first, each exception's chain decided
        as it comes, so the first member sharing a context shows it; members past the width
        or depth limits are not visited."""
        chain = [self.node(index)]
        link = self._link(self.exceptions[index], by_c=True)
        while link is not None:
            chain[-1].before, chain[-1].intro = self.node(link[0]), link[1]
            chain.append(chain[-1].before)
            link = self._link(self.exceptions[link[0]], by_c=True)
        for node in reversed(chain):   # printed oldest first, members with their group
            record = self.exceptions[node.index]
            if record.is_group and depth <= MAX_GROUP_DEPTH and self.count < self.LIMIT:
                inner = max(depth, 1) + 1   # a group at the top goes in one level first
                node.members = [self.shown_by_c(m, inner) for m in record.members[:MAX_GROUP_WIDTH]]
        return chain[0]


class _Printer:
    """traceback.TracebackException.format with its _ExceptionPrintContext, on the dump's
    model; pythonrun.c's differences where the writer used it."""

    def __init__(self, exceptions: List[ExceptionRecord], version: Version, above_handler: bool) -> None:
        self.exceptions = exceptions
        self.version = version
        self.by_c = not _by_traceback_module(version)
        self.above_handler = above_handler
        self.depth = 0
        self.need_close = False

    def pad(self, margin: str = "|") -> str:
        return " " * (2 * self.depth) + margin + " " if self.depth else ""

    def chain(self, node: _Shown) -> Iterator[Piece]:
        """An exception and, before it, what it was raised from or while handling."""
        chain: List[_Shown] = []
        walk: Optional[_Shown] = node
        while walk is not None:
            chain.append(walk)
            walk = walk.before
        need_close = self.need_close
        for shown in reversed(chain):
            if shown.before is not None:
                if self.by_c:   # pythonrun.c's print_chained keeps it; traceback.py loses it
                    self.need_close = need_close
                yield Piece(self.pad(), "chain", "\n%s\n\n" % shown.intro)
            yield from self.exception(shown)

    def exception(self, node: _Shown) -> Iterator[Piece]:
        record = self.exceptions[node.index]
        frames = [f for f in record.frames if self.above_handler or not f.above_handler]
        if not record.is_group:
            if frames:
                yield Piece(self.pad(), "traceback", "Traceback (most recent call last):\n")
                yield from self.stack(frames)
            yield from self.exception_only(record)
        elif self.depth > MAX_GROUP_DEPTH:
            yield Piece(self.pad(), "depth", "... (max_group_depth is %d)\n" % MAX_GROUP_DEPTH)
        else:
            top = self.depth == 0
            if top:
                self.depth = 1
            if frames:
                yield Piece(self.pad("+" if top else "|"), "traceback",
                            "Exception Group Traceback (most recent call last):\n")
                yield from self.stack(frames)
            yield from self.exception_only(record)
            yield from self.members(node, record)
            if top:
                self.depth = 0

    def members(self, node: _Shown, record: ExceptionRecord) -> Iterator[Piece]:
        shown = (node.members or [])[:MAX_GROUP_WIDTH]
        more = len(record.members) - len(shown)
        count = len(shown) + (more > 0)
        self.need_close = False
        for i in range(count):
            last = i == count - 1
            if last:
                self.need_close = True   # a member's own members may draw the closing line
            title = str(i + 1) if i < len(shown) else "..."
            yield Piece(" " * (2 * self.depth), "member",
                        "%s+---------------- %s ----------------\n" % ("+-" if i == 0 else "  ", title))
            self.depth += 1
            if i < len(shown):
                yield from self.chain(shown[i])
            else:
                yield Piece(self.pad(), "more", "and %d more exception%s\n" % (more, "s" if more > 1 else ""))
            if last and self.need_close:
                yield Piece(" " * (2 * self.depth), "member", "+------------------------------------\n")
                self.need_close = False
            self.depth -= 1

    def stack(self, frames: List[Frame]) -> Iterator[Piece]:
        """The frames, a run of the same frame past the third as one ``[Previous line repeated N more times]``."""
        for _, same in itertools.groupby(frames, key=lambda f: (f.filename, f.lineno, f.name)):
            run = list(same)
            for frame in run[:RECURSIVE_CUTOFF]:
                yield Piece(self.pad(), "frame", frame=frame, every_line=not self.by_c)
            more = len(run) - RECURSIVE_CUTOFF
            if more > 0:   # traceback.c writes this line without the group margin
                yield Piece("" if self.by_c else self.pad(), "repeat",
                            "  [Previous line repeated %d more time%s]\n" % (more, "s" if more > 1 else ""))

    def exception_only(self, record: ExceptionRecord) -> Iterator[Piece]:
        """The ``Type: message`` line, a SyntaxError's location above it, the notes below."""
        pad, every_line = self.pad(), not self.by_c
        shown_type = _shown_type(record, self.version)
        lines = None if record.syntax is None else _syntax_lines(record.syntax, shown_type, self.version)
        if lines is None:
            line = "%s: %s%s\n" % (shown_type, record.message, record.hint) if record.message else shown_type + "\n"
            yield Piece(pad, "exception", line, every_line=every_line)
        else:
            for kind, margin, text in lines:
                yield Piece(pad if margin else "", kind, text, every_line=every_line)
        # Python prints notes from 3.11 on; before, a dump holds those that exceptiongroup's
        # add_note() made (it prints them too) and those tbdump's pytest plugin adds (which
        # example of a doctest failed, and how): shown as 3.11 shows them.
        for note in record.notes:
            if self.by_c:   # each of its str.splitlines with the margin, then a line end
                yield Piece(pad, "note", note)
                yield Piece("", "note", "\n")
            else:
                yield Piece(pad, "note", "".join(line + "\n" for line in note.split("\n")))


def exception_line(record: ExceptionRecord) -> str:
    """``Type: message``, the exception in one line."""
    return "%s: %s" % (record.type, record.message) if record.message else record.type


def _shown_type(record: ExceptionRecord, version: Version) -> str:
    """The type as the writer printed it: before 3.11, pythonrun.c named __main__'s classes
    with their module."""
    qualified = record.value.qualtype if record.value is not None else ""
    main = version < (3, 11) and qualified == "__main__." + record.type
    return qualified if main else record.type


# -- a SyntaxError's location -------------------------------------------------------

SyntaxLine = Tuple[str, bool, str]   # kind, whether the group margin goes before it, text


def _syntax_lines(detail: SyntaxDetail, shown_type: str, version: Version) -> Optional[List[SyntaxLine]]:
    """What Python prints for a SyntaxError after its traceback; None: as for any exception."""
    if _by_traceback_module(version):
        return [(kind, True, text) for kind, text in _syntax_lines_313(detail, shown_type)]
    if detail.lineno is None:
        return None   # pythonrun.c could not read it, and printed str(exc)
    out: List[SyntaxLine] = [("syntax", True, '  File "%s", line %d\n' % (
        "<string>" if detail.filename is None else detail.filename, detail.lineno))]
    if detail.text is not None:
        out += [("syntax", False, text) for text in _c_error_text(detail, version)]
    return out + [("exception", True, shown_type + (": " + detail.msg if detail.msg else "") + "\n")]


def _c_error_text(detail: SyntaxDetail, version: Version) -> List[str]:
    """pythonrun.c's print_error_text: the line and a caret line, worked out in UTF-8 bytes."""
    assert detail.text is not None and detail.lineno is not None
    data = detail.text.encode("utf-8", "replace")
    offset = -1 if detail.offset is None else detail.offset
    carets = 1
    if version >= (3, 10):   # 3.9 prints one caret
        end_offset = -1 if detail.end_offset is None else detail.end_offset
        if (detail.lineno if detail.end_lineno is None else detail.end_lineno) > detail.lineno:
            end_offset = len(data)
        end_offset = min(end_offset, len(data) + 1)
        carets = end_offset - offset if end_offset > 0 and end_offset > offset else 1
    text = data.split(b"\0")[0]   # printed as a C string
    offset -= 1
    while text[:1] in (b" ", b"\t", b"\f"):
        text, offset = text[1:], offset - 1
    length = len(text) - text.endswith(b"\n")
    offset = min(offset, length)
    newline = text.find(b"\n")
    while 0 <= newline < offset:   # the line the offset is on
        text, length, offset = text[newline + 1:], length - newline - 1, offset - newline - 1
        newline = text.find(b"\n")
    out = ["    " + text.decode("utf-8", "replace") + ("" if text[length:length + 1] == b"\n" else "\n")]
    if offset >= 0:
        out.append("    " + " " * offset + "^" * carets + "\n")
    return out


def _syntax_lines_313(detail: SyntaxDetail, shown_type: str) -> List[Tuple[str, str]]:
    """traceback.py 3.13's _format_syntax_error."""
    out = []
    suffix = ""
    if detail.lineno is not None:
        out.append(("syntax", '  File "%s", line %s\n' % (detail.filename or "<string>", detail.lineno)))
    elif detail.filename is not None:
        suffix = " (%s)" % detail.filename
    text = detail.text
    if text is not None:
        rtext = text.rstrip("\n")
        ltext = rtext.lstrip(" \n\f")
        spaces = len(rtext) - len(ltext)
        out.append(("syntax", "    %s\n" % ltext))
        if detail.offset is not None:
            offset = detail.offset
            # (None or 0: the offset's)
            end_offset = (detail.end_offset or offset) if detail.lineno == detail.end_lineno else len(rtext) + 1
            if text and offset > len(text):
                offset = len(rtext) + 1
            if text and end_offset > len(text):
                end_offset = len(rtext) + 1
            if offset >= end_offset or end_offset < 0:
                end_offset = offset + 1
            colno, end_colno = offset - 1 - spaces, end_offset - 1 - spaces
            if colno >= 0:
                # Tabs and other white space stay, so the caret lines up under them.
                room = "".join(c if c.isspace() else " " for c in ltext[:colno])
                # At most the line's width: only a crafted dump has an offset past it and no text.
                carets = min(end_colno - colno, max(1, len(ltext) + 1 - colno))
                out.append(("syntax", "    %s%s\n" % (room, "^" * carets)))
    out.append(("exception", "%s: %s%s\n" % (shown_type, detail.msg or "<no detail available>", suffix)))
    return out
